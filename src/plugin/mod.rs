//! The thin edge Grafana talks to: our own gRPC server in front of the SDK's data service,
//! resources and diagnostics, decoding requests leniently and mapping errors to statuses.

pub mod controller;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod frames;
pub mod instances;
pub mod metrics;
pub mod query;
pub mod resource;
pub mod server;
pub mod settings;
pub mod views;

use instances::Instances;
use metrics::Metrics;

/// What every request handler shares.
#[derive(Debug)]
pub struct PluginState {
    /// Datasource instances and store handles.
    pub instances: Instances,
    /// Prometheus metrics.
    pub metrics: Metrics,
}
