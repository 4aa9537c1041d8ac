//! Prometheus metrics served by CollectMetrics: requests, errors and latency by endpoint and
//! query type, and the size of the open stores.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The plugin's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    store_bytes: IntGauge,
    views_written: IntGauge,
    views_dropped: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("maturity".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Requests by kind and endpoint or query type",
            ),
            &["kind", "name"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "errors_total",
                "Failed requests by kind and endpoint or query type",
            ),
            &["kind", "name"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Request latency by kind and endpoint or query type",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["kind", "name"],
        )?;
        let store_bytes = IntGauge::new("store_size_bytes", "Size of the open stores on disk")?;
        let views_written =
            IntGauge::new("passive_views_written", "Passive views written since start")?;
        let views_dropped = IntGauge::new(
            "passive_views_dropped",
            "Passive views dropped because the queue was full",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(store_bytes.clone()))?;
        registry.register(Box::new(views_written.clone()))?;
        registry.register(Box::new(views_dropped.clone()))?;
        Ok(Self {
            registry,
            requests,
            errors,
            latency,
            store_bytes,
            views_written,
            views_dropped,
        })
    }

    /// Counts one request.
    pub fn observe(&self, kind: &str, name: &str, took: Duration, failed: bool) {
        self.requests.with_label_values(&[kind, name]).inc();
        if failed {
            self.errors.with_label_values(&[kind, name]).inc();
        }
        self.latency
            .with_label_values(&[kind, name])
            .observe(took.as_secs_f64());
    }

    /// Renders the Prometheus text format, with the gauges set to the given values.
    pub fn render(&self, store_bytes: u64, views_written: u64, views_dropped: u64) -> Vec<u8> {
        self.store_bytes
            .set(i64::try_from(store_bytes).unwrap_or(i64::MAX));
        self.views_written
            .set(i64::try_from(views_written).unwrap_or(i64::MAX));
        self.views_dropped
            .set(i64::try_from(views_dropped).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "could not encode metrics");
        }
        out
    }
}
