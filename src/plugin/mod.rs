//! The thin edge Grafana talks to: our own gRPC server in front of the SDK's data service,
//! resources and diagnostics, decoding requests leniently and mapping errors to statuses.
//!
//! - [`server`]: the gRPC server in front of the SDK's services; [`controller`]: go-plugin's
//!   Shutdown.
//! - [`data`]: QueryData, dispatching each query through the registry of [`queries`].
//! - [`queries`]: one file per query type (fields, decode, use case call, frame), the
//!   registry and the JSON Schema of every query; [`frames`]: frame helpers they share.
//! - [`resource`]: the resource API; [`diagnostics`]: CheckHealth and metrics.
//! - [`instances`]: one instance per datasource; [`settings`]: jsonData and the store path.
//! - [`metrics`]; [`error`]: errors → statuses.
//! - [`scheduler`]: the Grafana sync's schedule, one per datasource instance with a token.

pub mod controller;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod frames;
pub mod instances;
pub mod metrics;
pub mod queries;
pub mod resource;
pub mod scheduler;
pub mod server;
pub mod settings;

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
