//! CheckHealth (the store, the rule that chose its path, schema version, counts — or exactly
//! what is wrong) and CollectMetrics.

use serde_json::json;

use super::instances::RequestContext;
use super::settings::Storage;
use super::PluginState;
use crate::app::AppError;

/// The result of a health check.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    /// Whether the datasource works.
    pub ok: bool,
    /// What a person reads in Grafana.
    pub message: String,
    /// The same, for machines.
    pub details: serde_json::Value,
}

/// Checks the request's datasource: settings, store, counts.
pub async fn check_health(state: &PluginState, ctx: &RequestContext) -> Health {
    let failed = |e: AppError| Health {
        ok: false,
        message: match &e {
            AppError::Invalid(i) => format!("{}: {}", i.field, i.message),
            other => other.to_string(),
        },
        details: json!({"error": e.to_string()}),
    };
    let instance = match state.instances.get(ctx).await {
        Ok(i) => i,
        Err(e) => return failed(e),
    };
    let org = ctx.org;
    let result = instance
        .app
        .with_store(move |s| Ok((s.describe(), s.schema_version(), s.counts(org)?)))
        .await;
    let (describe, version, counts) = match result {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let rule = match &instance.settings.storage {
        Storage::Sqlite { rule, .. } => rule.describe(),
        Storage::Postgres { .. } => "jsonData.storage = postgres",
    };
    Health {
        ok: true,
        message: format!(
            "Store: {describe} (chosen by {rule}); schema version {version}; this organisation holds {} teams, {} events and {} targets",
            counts.teams, counts.events, counts.targets
        ),
        details: json!({
            "store": describe,
            "pathRule": rule,
            "schemaVersion": version,
            "teams": counts.teams,
            "events": counts.events,
            "targets": counts.targets,
        }),
    }
}

/// Prometheus text for CollectMetrics.
pub fn collect_metrics(state: &PluginState) -> Vec<u8> {
    let stores = state.instances.open_stores();
    let bytes = stores.iter().map(|(s, _)| s.size_bytes()).sum();
    let written = stores.iter().map(|(_, v)| v.written()).sum();
    let dropped = stores.iter().map(|(_, v)| v.dropped()).sum();
    state.metrics.render(bytes, written, dropped)
}
