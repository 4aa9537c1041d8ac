//! QueryData: each query is decoded, answered and framed by its type's home in
//! [`super::queries`] (dispatched through the registry); records the passive view the
//! request carries (SPEC §4.4) without slowing it. One bad query fails alone.

use std::sync::Arc;
use std::time::Instant;

use grafana_plugin_sdk::backend::{self, DataQueryError, DataQueryStatus};
use grafana_plugin_sdk::data::Frame;
use serde_json::{Map, Value};

use super::error::query_status;
use super::instances::{DatasourceRef, Instance, RequestContext};
use super::queries::{self, QueryContext};
use super::PluginState;
use crate::app::limits::check_uid;
use crate::app::{AppError, Caller};
use crate::model::EpochMs;
use crate::model::PendingView;

/// The SDK's data service: the SDK turns our frames into Arrow for Grafana.
#[derive(Clone, grafana_plugin_sdk::prelude::GrafanaPlugin)]
#[grafana_plugin(plugin_type = "datasource")]
pub struct DataHandler {
    /// Shared plugin state.
    pub state: Arc<PluginState>,
}

impl std::fmt::Debug for DataHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataHandler").finish_non_exhaustive()
    }
}

/// A failed query, reported on its own refId.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    ref_id: String,
    status: i32,
    message: String,
}

impl QueryError {
    fn new(ref_id: &str, e: &AppError) -> Self {
        let message = match e {
            AppError::Invalid(i) => format!("{}: {}", i.field, i.message),
            other => other.to_string(),
        };
        Self {
            ref_id: ref_id.to_string(),
            status: query_status(e),
            message,
        }
    }
}

impl DataQueryError for QueryError {
    fn ref_id(self) -> String {
        self.ref_id
    }

    fn status(&self) -> DataQueryStatus {
        match self.status {
            400 => DataQueryStatus::BadRequest,
            403 => DataQueryStatus::Forbidden,
            404 => DataQueryStatus::NotFound,
            _ => DataQueryStatus::Internal,
        }
    }
}

type SdkRequest = backend::QueryDataRequest<Value, DataHandler>;

fn context_of(req: &SdkRequest) -> RequestContext {
    let ctx = &req.plugin_context;
    RequestContext {
        org: ctx.org_id,
        user: ctx
            .user
            .as_ref()
            .map(|u| (u.login.clone(), format!("{:?}", u.role))),
        datasource: ctx.instance_settings.as_ref().map(|ds| DatasourceRef {
            uid: ds.uid.clone(),
            json_data: ds.json_data.clone(),
            secure: match &ds.decrypted_secure_json_data {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            },
            updated_ms: ds.updated.timestamp_millis(),
        }),
    }
}

/// Header lookup that ignores case (Grafana has sent both spellings over the years).
fn header<'a>(
    headers: &'a std::collections::HashMap<String, String>,
    name: &str,
) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What a request says of the passive view it is evidence of (SPEC §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewSeen {
    /// Not evidence of a view (no dashboard, no login, or an alert).
    None,
    /// A view to record.
    View(PendingView),
    /// A dashboard uid longer than any dashboard's
    /// ([`MAX_UID_CHARS`](crate::app::limits::MAX_UID_CHARS)): not recorded, but
    /// counted as dropped (issue 11: a 5 MiB header was stored).
    TooLong,
}

/// The view this request is evidence of, if any (SPEC §4.4).
pub fn passive_view(
    org: i64,
    login: Option<&str>,
    headers: &std::collections::HashMap<String, String>,
    session_minutes: i64,
    now: EpochMs,
) -> ViewSeen {
    let from_alert = header(headers, "FromAlert").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let Some(dashboard) = header(headers, "http_X-Dashboard-Uid")
        .map(str::trim)
        .filter(|d| !d.is_empty())
    else {
        return ViewSeen::None;
    };
    let Some(login) = login.filter(|l| !l.is_empty()) else {
        return ViewSeen::None;
    };
    if from_alert {
        return ViewSeen::None;
    }
    if check_uid("http_X-Dashboard-Uid", dashboard).is_err() {
        return ViewSeen::TooLong;
    }
    let panel_id = header(headers, "http_X-Panel-Id").and_then(|p| p.trim().parse::<i64>().ok());
    ViewSeen::View(PendingView {
        org,
        user: login.to_string(),
        dashboard_uid: dashboard.to_string(),
        panel_id,
        time: now,
        session_bucket: now.div_euclid(session_minutes.max(1) * 60_000),
    })
}

#[backend::async_trait]
impl backend::DataService for DataHandler {
    type Query = Value;
    type QueryError = QueryError;
    type Stream = backend::BoxDataResponseStream<QueryError>;

    async fn query_data(&self, request: SdkRequest) -> Self::Stream {
        let ctx = context_of(&request);
        let instance = self.state.instances.get(&ctx).await;
        if let Ok(instance) = &instance {
            let login = ctx.user.as_ref().map(|(l, _)| l.as_str());
            match passive_view(
                ctx.org,
                login,
                &request.headers,
                instance.settings.view_session_minutes,
                instance.app.now(),
            ) {
                ViewSeen::View(view) => instance.views.record(view),
                ViewSeen::TooLong => instance.views.count_dropped(),
                ViewSeen::None => {}
            }
        }
        let caller = ctx.caller();
        let mut responses = Vec::with_capacity(request.queries.len());
        for q in &request.queries {
            let started = Instant::now();
            let qt = if q.query_type.is_empty() {
                q.query
                    .get("queryType")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            } else {
                q.query_type.clone()
            };
            let result = match &instance {
                Ok(instance) => answer(instance, &caller, q).await,
                Err(e) => Err(clone_error(e)),
            };
            let label = queries::find(&qt).map_or("unknown", |d| d.query_type);
            self.state
                .metrics
                .observe("query", label, started.elapsed(), result.is_err());
            responses.push(match result {
                Ok(frames) => match frames
                    .iter()
                    .map(Frame::check)
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(checked) => Ok(backend::DataResponse::new(q.ref_id.clone(), checked)),
                    Err(e) => Err(QueryError::new(
                        &q.ref_id,
                        &AppError::Internal(format!("bad frame: {e}")),
                    )),
                },
                Err(e) => {
                    if super::error::is_downstream(&e) {
                        tracing::warn!(ref_id = %q.ref_id, error = %e, "query failed");
                    }
                    Err(QueryError::new(&q.ref_id, &e))
                }
            });
        }
        Box::pin(futures::stream::iter(responses))
    }
}

fn clone_error(e: &AppError) -> AppError {
    match e {
        AppError::Invalid(i) => AppError::Invalid(i.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::NotFound(m) => AppError::NotFound(m.clone()),
        AppError::Conflict(m) => AppError::Conflict(m.clone()),
        AppError::TooLarge(m) => AppError::TooLarge(m.clone()),
        AppError::Internal(m) => AppError::Internal(m.clone()),
    }
}

async fn answer(
    instance: &Instance,
    caller: &Caller,
    q: &backend::DataQuery<Value>,
) -> Result<Vec<Frame>, AppError> {
    let decoded = queries::decode(&q.query_type, &q.query)?;
    let app = &instance.app;
    let to = q.time_range.to.timestamp_millis();
    let cx = QueryContext {
        app,
        caller,
        from: q.time_range.from.timestamp_millis(),
        to,
        // The evaluation instant is the range's end, capped at now.
        at: to.min(app.now()),
        interval: q.interval,
    };
    decoded.run(&cx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_view_needs_a_dashboard_and_a_login_and_no_alert() {
        let h = headers(&[("http_X-Dashboard-Uid", "d1"), ("http_X-Panel-Id", "4")]);
        let ViewSeen::View(v) = passive_view(1, Some("alice"), &h, 30, 90 * 60_000) else {
            panic!("a view");
        };
        assert_eq!(
            (v.dashboard_uid.as_str(), v.panel_id, v.session_bucket),
            ("d1", Some(4), 3)
        );
        assert_eq!(passive_view(1, Some(""), &h, 30, 0), ViewSeen::None);
        assert_eq!(passive_view(1, None, &h, 30, 0), ViewSeen::None);
        assert_eq!(
            passive_view(1, Some("alice"), &headers(&[]), 30, 0),
            ViewSeen::None
        );
        let alert = headers(&[("http_X-Dashboard-Uid", "d1"), ("FromAlert", "true")]);
        assert_eq!(
            passive_view(1, Some("alice"), &alert, 30, 0),
            ViewSeen::None
        );
        let long = "d".repeat(crate::app::limits::MAX_UID_CHARS + 1);
        let long = headers(&[("http_X-Dashboard-Uid", long.as_str())]);
        assert_eq!(
            passive_view(1, Some("alice"), &long, 30, 0),
            ViewSeen::TooLong
        );
    }
}
