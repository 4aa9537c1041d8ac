//! CheckHealth (the store, the rule that chose its path, schema version, counts — or exactly
//! what is wrong; with a service account token, whether Grafana takes it and which needed
//! permission it lacks, the last sync and the targets whose live query failed) and
//! CollectMetrics.

use serde_json::json;

use super::instances::RequestContext;
use super::settings::Storage;
use super::PluginState;
use crate::app::AppError;

/// How long CheckHealth's integrity check of the store may take (a large file is checked
/// in part; Grafana's "Save & test" should answer in seconds).
pub const INTEGRITY_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

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
        .with_store(move |s| {
            let integrity = s.check_health(INTEGRITY_BUDGET)?;
            Ok((s.describe(), s.schema_version(), s.counts(org)?, integrity))
        })
        .await;
    let (describe, version, counts, integrity) = match result {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let rule = match &instance.settings.storage {
        Storage::Sqlite { rule, .. } => rule.describe(),
        Storage::Postgres { .. } => "jsonData.storage = postgres",
    };
    let grafana = grafana_health(&instance, org).await;
    Health {
        ok: grafana.ok,
        message: format!(
            "Store: {describe} (chosen by {rule}); schema version {version}; {integrity}; this organisation holds {} teams, {} events and {} targets. {}",
            counts.teams, counts.events, counts.targets, grafana.message
        ),
        details: json!({
            "store": describe,
            "pathRule": rule,
            "schemaVersion": version,
            "integrity": integrity,
            "teams": counts.teams,
            "events": counts.events,
            "targets": counts.targets,
            "grafana": grafana.details,
        }),
    }
}

/// The Grafana part of CheckHealth (issue 12): the token and its permissions, the last
/// sync, the targets whose live query failed.
async fn grafana_health(instance: &super::instances::Instance, org: i64) -> Health {
    let Some(runner) = &instance.sync else {
        return Health {
            ok: true,
            message: "Evidence from Grafana: off (no service account token).".into(),
            details: json!({"enabled": false}),
        };
    };
    // One attempt: "Save & test" should answer within one timeout.
    let client = runner.sync().client.with_retries(0);
    let url = client.url().to_string();
    let (ok, mut message, missing) = match client.permissions().await {
        Ok(perms) => {
            let missing = crate::grafana::permissions::missing(&perms);
            if missing.is_empty() {
                (
                    true,
                    format!("Grafana at {url} takes the token, which has every permission needed."),
                    Vec::new(),
                )
            } else {
                let named: Vec<String> = missing
                    .iter()
                    .map(|(action, why)| format!("{action} (to {why})"))
                    .collect();
                (
                    false,
                    format!(
                        "Grafana at {url} takes the token, but its service account lacks {}.",
                        named.join(", ")
                    ),
                    missing.iter().map(|(a, _)| *a).collect(),
                )
            }
        }
        Err(e) => (
            false,
            format!("Grafana at {url}: {e} (fault: {}).", e.fault().as_str()),
            Vec::new(),
        ),
    };
    let last = instance.app.last_sync(runner.sync()).await.ok().flatten();
    if let Some(summary) = last
        .as_ref()
        .and_then(|l| l.get("summary"))
        .and_then(|s| s.as_str())
    {
        let at = last
            .as_ref()
            .and_then(|l| l.get("at"))
            .and_then(serde_json::Value::as_i64)
            .map(crate::model::format_time)
            .unwrap_or_default();
        message.push_str(&format!(" Last sync {at}: {summary}."));
    }
    let errors = instance.app.target_errors(org).await.unwrap_or_default();
    let mut failing: Vec<(String, String)> = errors
        .iter()
        .map(|(id, e)| {
            (
                id.clone(),
                e.get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    failing.sort();
    if !failing.is_empty() {
        let shown: Vec<String> = failing
            .iter()
            .take(3)
            .map(|(id, m)| format!("{id}: {m}"))
            .collect();
        message.push_str(&format!(
            " {} target(s) failed their last live query: {}{}.",
            failing.len(),
            shown.join("; "),
            if failing.len() > 3 { "; …" } else { "" }
        ));
    }
    Health {
        ok,
        message,
        details: json!({
            "enabled": true,
            "url": url,
            "tokenOk": ok || !missing.is_empty(),
            "missingPermissions": missing,
            "lastSync": last,
            "targetErrors": errors,
        }),
    }
}

/// Prometheus text for CollectMetrics.
pub fn collect_metrics(state: &PluginState) -> Vec<u8> {
    let stores = state.instances.open_stores();
    let bytes = stores.iter().map(|(s, _)| s.size_bytes()).sum();
    let written = stores.iter().map(|(_, v)| v.written()).sum();
    let dropped = stores.iter().map(|(_, v)| v.dropped()).sum();
    state
        .metrics
        .render(bytes, written, dropped, crate::app::cache::process_stats())
}
