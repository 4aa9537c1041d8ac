//! Prometheus metrics served by CollectMetrics: requests, errors and latency by endpoint and
//! query type, the size of the open stores, the passive views written and dropped, and the
//! process itself (resident and virtual memory, CPU seconds, open files; Linux).
//!
//! Cardinality is bounded (issue 11): the `name` label is a route template or query type of
//! a fixed list, or `unknown` — never a path or method a request made up.

use std::time::Duration;

use crate::app::cache::CacheStats;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The prefix of our own metrics (the process metrics keep their standard `process_` names).
const NAMESPACE: &str = "maturity";

/// The label of a request whose route or query type is not one we answer.
pub const UNKNOWN: &str = "unknown";

/// The plugin's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    store_bytes: IntGauge,
    views_written: IntCounter,
    views_dropped: IntCounter,
    evaluations: IntCounterVec,
    team_inputs: IntCounterVec,
    kept_evidence: IntCounterVec,
    kept_bytes: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Requests by kind and endpoint or query type",
            )
            .namespace(NAMESPACE),
            &["kind", "name"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "errors_total",
                "Failed requests by kind and endpoint or query type",
            )
            .namespace(NAMESPACE),
            &["kind", "name"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Request latency by kind and endpoint or query type",
            )
            .namespace(NAMESPACE)
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["kind", "name"],
        )?;
        let store_bytes = IntGauge::with_opts(
            Opts::new("store_size_bytes", "Size of the open stores on disk").namespace(NAMESPACE),
        )?;
        let views_written = IntCounter::with_opts(
            Opts::new(
                "passive_views_written_total",
                "Passive views written since start",
            )
            .namespace(NAMESPACE),
        )?;
        let views_dropped = IntCounter::with_opts(
            Opts::new(
                "passive_views_dropped_total",
                "Passive views dropped since start (queue full, or a dashboard uid too long)",
            )
            .namespace(NAMESPACE),
        )?;
        let evaluations = IntCounterVec::new(
            Opts::new(
                "evaluation_cache_total",
                "Team evaluations asked for since start: served from the cache (hit) or computed (miss)",
            )
            .namespace(NAMESPACE),
            &["result"],
        )?;
        let team_inputs = IntCounterVec::new(
            Opts::new(
                "team_inputs_cache_total",
                "Per-team inputs asked for since start (review times of reviewLapse, decisions of followUps): kept (hit) or read (miss)",
            )
            .namespace(NAMESPACE),
            &["query", "result"],
        )?;
        let kept_evidence = IntCounterVec::new(
            Opts::new(
                "kept_evidence_total",
                "Teams computed again since start (their evidence changed, or a value ran out): from evidence kept in memory and taken forward by this process's writes (hit) or read from the store (miss)",
            )
            .namespace(NAMESPACE),
            &["result"],
        )?;
        let kept_bytes = IntGauge::with_opts(
            Opts::new(
                "kept_evidence_bytes",
                "What the evidence kept in memory takes, about (bounded by the plugin; past the bound, teams are read from the store again)",
            )
            .namespace(NAMESPACE),
        )?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(store_bytes.clone()))?;
        registry.register(Box::new(views_written.clone()))?;
        registry.register(Box::new(views_dropped.clone()))?;
        registry.register(Box::new(evaluations.clone()))?;
        registry.register(Box::new(team_inputs.clone()))?;
        registry.register(Box::new(kept_evidence.clone()))?;
        registry.register(Box::new(kept_bytes.clone()))?;
        Ok(Self {
            registry,
            requests,
            errors,
            latency,
            store_bytes,
            views_written,
            views_dropped,
            evaluations,
            team_inputs,
            kept_evidence,
            kept_bytes,
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

    /// Renders the Prometheus text format, with the store size set and the view counters
    /// brought up to the totals given (counters only ever grow).
    pub fn render(
        &self,
        store_bytes: u64,
        views_written: u64,
        views_dropped: u64,
        evaluations: CacheStats,
    ) -> Vec<u8> {
        self.store_bytes
            .set(i64::try_from(store_bytes).unwrap_or(i64::MAX));
        for (counter, total) in [
            (&self.views_written, views_written),
            (&self.views_dropped, views_dropped),
            (
                &self.evaluations.with_label_values(&["hit"]),
                evaluations.hits,
            ),
            (
                &self.evaluations.with_label_values(&["miss"]),
                evaluations.misses,
            ),
        ] {
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        for (query, kept) in [
            ("reviewLapse", crate::app::cache::REVIEW_TIMES.stats()),
            ("followUps", crate::app::cache::DECISIONS.stats()),
        ] {
            for (result, total) in [("hit", kept.hits), ("miss", kept.misses)] {
                let counter = self.team_inputs.with_label_values(&[query, result]);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let kept = crate::app::cache::KEPT_EVIDENCE.stats();
        for (result, total) in [("hit", kept.hits), ("miss", kept.misses)] {
            let counter = self.kept_evidence.with_label_values(&[result]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        self.kept_bytes
            .set(crate::app::kept::KEPT_BYTES.load(std::sync::atomic::Ordering::Relaxed));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "could not encode metrics");
        }
        out
    }
}
