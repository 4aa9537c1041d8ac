//! CallResource: route `method path` to a use case, JSON in and out, SPEC §3 error bodies.

use serde_json::{json, Value};

use super::error::http_error;
use super::instances::RequestContext;
use super::metrics::UNKNOWN;
use super::PluginState;
use crate::app::limits::{check_list, check_uid, MAX_LIST_ITEMS, MAX_OFFSET};
use crate::app::loops::target_status_filter;
use crate::app::queries::TeamSelector;
use crate::app::{annotation_json, annotation_to_event, AppError, AppResult, MAX_EVENT_PAGE};
use crate::model::EventFilter;
use crate::model::{parse_time_str, EventKind, Invalid, Source};

/// Largest body of an ordinary request.
pub const MAX_BODY: usize = 1 << 20;
/// Largest body of `POST /import`; larger imports go through the command-line tool.
pub const MAX_IMPORT_BODY: usize = 64 << 20;

/// A resource request as Grafana sends it.
#[derive(Debug, Clone)]
pub struct ResourceRequest {
    /// HTTP method.
    pub method: String,
    /// Path without leading slash or query.
    pub path: String,
    /// Path with the query string.
    pub url: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// The most bytes one message of a resource answer carries: larger answers are sent as a
/// stream of parts (issue 11: Grafana's gRPC client refuses messages over 4 MiB).
pub const MAX_PART: usize = 1 << 20;

/// A resource response.
#[derive(Debug)]
pub struct ResourceResponse {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Body,
}

/// A response body: whole, or produced part by part (each at most [`MAX_PART`] bytes).
pub enum Body {
    /// All of it (sent in parts of at most [`MAX_PART`] bytes).
    Full(Vec<u8>),
    /// Parts as they are produced; an error ends the answer early.
    Parts(tokio::sync::mpsc::Receiver<AppResult<Vec<u8>>>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(b) => write!(f, "Full({} bytes)", b.len()),
            Body::Parts(_) => f.write_str("Parts"),
        }
    }
}

impl ResourceResponse {
    /// A JSON answer.
    pub fn json(status: u16, v: &Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: Body::Full(serde_json::to_vec(v).unwrap_or_default()),
        }
    }
}

struct Params(Vec<(String, String)>);

impl Params {
    fn parse(url: &str) -> Self {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The value of a single-valued key: empty values count as absent (`limit=&limit=1` is
    /// 1); two different non-empty values are a 400 rather than a silent pick.
    fn one(&self, key: &str) -> Result<Option<&str>, Invalid> {
        let mut found: Option<&str> = None;
        for (_, v) in self.0.iter().filter(|(k, v)| k == key && !v.is_empty()) {
            match found {
                Some(first) if first != v.as_str() => {
                    return Err(Invalid::new(
                        key,
                        format!("is given twice with different values ({first:?} and {v:?})"),
                    ))
                }
                _ => found = Some(v.as_str()),
            }
        }
        Ok(found)
    }

    /// All values of a key, repeated or comma-joined: at most [`MAX_LIST_ITEMS`].
    fn list(&self, key: &str) -> Result<Vec<String>, Invalid> {
        let mut out = Vec::new();
        for (_, v) in self.0.iter().filter(|(k, _)| k == key) {
            for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                out.push(item.to_string());
                check_list(key, out.len(), MAX_LIST_ITEMS)?;
            }
        }
        Ok(out)
    }

    fn time(&self, key: &str) -> Result<Option<i64>, Invalid> {
        self.one(key)?.map(|v| parse_time_str(key, v)).transpose()
    }

    fn count(&self, key: &str, default: u64, max: u64) -> Result<u64, Invalid> {
        match self.one(key)? {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(Invalid::new(
                    key,
                    format!("must be a whole number from 0 to {max}, got {v:?}"),
                )),
            },
        }
    }

    fn flag(&self, key: &str) -> Result<bool, Invalid> {
        match self.one(key)? {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(v) => Err(Invalid::new(
                key,
                format!("must be true or false, got {v:?}"),
            )),
        }
    }
}

fn json_body(body: &[u8]) -> Result<Value, Invalid> {
    if body.is_empty() {
        return Err(Invalid::new("body", "a JSON body is required"));
    }
    serde_json::from_slice(body).map_err(|e| Invalid::new("body", format!("not valid JSON: {e}")))
}

fn event_filter(p: &Params, default_limit: usize) -> Result<EventFilter, Invalid> {
    let mut kinds: Vec<EventKind> = p
        .list("kind")?
        .iter()
        .map(|k| {
            EventKind::parse(k).ok_or_else(|| Invalid::new("kind", format!("unknown kind {k:?}")))
        })
        .collect::<Result<_, _>>()?;
    kinds.sort_unstable();
    kinds.dedup();
    let dashboard_uid = match p.one("dashboardUid")? {
        Some(d) => Some(d),
        None => p.one("dashboardUID")?,
    };
    if let Some(d) = dashboard_uid {
        check_uid("dashboardUid", d)?;
    }
    let mut tags = p.list("tags")?;
    tags.extend(p.list("tag")?);
    check_list("tags", tags.len(), MAX_LIST_ITEMS)?;
    let limit = p.count("limit", default_limit as u64, MAX_EVENT_PAGE as u64)?;
    let offset = p.count("offset", 0, MAX_OFFSET)?;
    Ok(EventFilter {
        kinds,
        teams: p.list("team")?,
        dashboard_uid: dashboard_uid.map(String::from),
        from: p.time("from")?,
        to: p.time("to")?,
        tags,
        limit: usize::try_from(limit).unwrap_or(MAX_EVENT_PAGE),
        offset,
        // The API answers whole events, `data` included.
        without_data: false,
    })
}

/// Every route the API answers, as `METHOD /template` (`{id}` stands for one segment): the
/// only values the metrics' `name` label takes besides [`UNKNOWN`].
pub const ROUTES: &[&str] = &[
    "GET /teams",
    "POST /teams",
    "GET /teams/{id}",
    "PUT /teams/{id}",
    "DELETE /teams/{id}",
    "GET /events",
    "POST /events",
    "GET /events/{id}",
    "PATCH /events/{id}",
    "DELETE /events/{id}",
    "GET /annotations",
    "POST /annotations",
    "GET /targets",
    "POST /targets",
    "GET /targets/{id}",
    "PATCH /targets/{id}",
    "DELETE /targets/{id}",
    "POST /targets/{id}/actuals",
    "POST /targets/{id}/verification",
    "POST /targets/{id}/refresh",
    "POST /sync",
    "GET /maturity",
    "GET /export",
    "POST /import",
];

/// The route a request matches, for metrics: one of [`ROUTES`], else [`UNKNOWN`] — a path or
/// method a client made up never becomes a label value (issue 11).
pub fn route_label(method: &str, segments: &[&str]) -> &'static str {
    ROUTES
        .iter()
        .find(|route| {
            let Some((m, template)) = route.split_once(' ') else {
                return false;
            };
            let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            m == method
                && parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(segments)
                    .all(|(t, s)| *t == "{id}" || t == s)
        })
        .copied()
        .unwrap_or(UNKNOWN)
}

/// The segments of a request's path (`path`, else `url` without its query).
pub fn segments_of(req_path: &str, url: &str) -> Vec<String> {
    let path = if req_path.is_empty() {
        url.split('?').next().unwrap_or("")
    } else {
        req_path
    };
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Handles one resource request.
pub async fn handle(
    state: &PluginState,
    ctx: &RequestContext,
    req: &ResourceRequest,
) -> (&'static str, ResourceResponse) {
    let owned = segments_of(&req.path, &req.url);
    let segments: Vec<&str> = owned.iter().map(String::as_str).collect();
    let method = req.method.to_ascii_uppercase();
    let label = route_label(&method, &segments);
    let response = match route(state, ctx, req, &method, &segments).await {
        Ok(r) => r,
        Err(e) => {
            let (status, body) = http_error(&e);
            if status >= 500 {
                tracing::warn!(route = %label, error = %e, "resource request failed");
            }
            ResourceResponse::json(status, &body)
        }
    };
    (label, response)
}

async fn route(
    state: &PluginState,
    ctx: &RequestContext,
    req: &ResourceRequest,
    method: &str,
    segments: &[&str],
) -> AppResult<ResourceResponse> {
    let limit = if segments == ["import"] {
        MAX_IMPORT_BODY
    } else {
        MAX_BODY
    };
    if req.body.len() > limit {
        return Err(AppError::TooLarge(format!(
            "the body is {} bytes; at most {limit} are taken here{}",
            req.body.len(),
            if limit == MAX_IMPORT_BODY {
                " (larger imports go through the `maturity import` command)"
            } else {
                ""
            }
        )));
    }
    let instance = state.instances.get(ctx).await?;
    let app = &instance.app;
    let caller = ctx.caller();
    let p = Params::parse(&req.url);
    let ok = |v: Value| Ok(ResourceResponse::json(200, &v));
    let created = |v: Value| Ok(ResourceResponse::json(201, &v));
    match (method, segments) {
        ("GET", ["teams"]) => ok(to_json(&app.list_teams(&caller).await?)),
        ("POST", ["teams"]) => created(to_json(
            &app.create_team(&caller, &json_body(&req.body)?).await?,
        )),
        ("GET", ["teams", id]) => ok(to_json(&app.get_team(&caller, id).await?)),
        ("PUT", ["teams", id]) => ok(to_json(
            &app.replace_team(&caller, id, &json_body(&req.body)?)
                .await?,
        )),
        ("DELETE", ["teams", id]) => {
            app.delete_team(&caller, id, p.flag("cascade")?).await?;
            ok(json!({"deleted": id}))
        }
        ("GET", ["events"]) => ok(to_json(
            &app.list_events(&caller, event_filter(&p, 100)?).await?,
        )),
        ("POST", ["events"]) => {
            let body = json_body(&req.body)?;
            let events = app.record_events(&caller, &body, Source::Api).await?;
            if body.is_array() {
                created(to_json(&events))
            } else {
                created(to_json(&events[0]))
            }
        }
        ("GET", ["events", id]) => ok(to_json(&app.get_event(&caller, id).await?)),
        ("PATCH", ["events", id]) => ok(to_json(
            &app.patch_event(&caller, id, &json_body(&req.body)?).await?,
        )),
        ("DELETE", ["events", id]) => {
            app.delete_event(&caller, id).await?;
            ok(json!({"deleted": id}))
        }
        ("GET", ["annotations"]) => {
            let events = app.list_events(&caller, event_filter(&p, 100)?).await?;
            ok(Value::Array(events.iter().map(annotation_json).collect()))
        }
        ("POST", ["annotations"]) => {
            let body = json_body(&req.body)?;
            let event_body = annotation_to_event(&body)?;
            let events = app
                .record_events(&caller, &event_body, Source::AnnotationApi)
                .await?;
            let e = &events[0];
            created(json!({"id": e.id, "message": "Annotation added", "event": annotation_json(e)}))
        }
        ("GET", ["targets"]) => {
            let teams = selector(p.list("team")?);
            let status = target_status_filter(p.one("status")?)?;
            ok(to_json(
                &app.target_reports(&caller, &teams, status, app.now())
                    .await?,
            ))
        }
        ("POST", ["targets"]) => {
            let t = app.create_target(&caller, &json_body(&req.body)?).await?;
            created(to_json(
                &app.target_report(&caller, &t.id, app.now()).await?,
            ))
        }
        ("GET", ["targets", id]) => ok(to_json(&app.target_report(&caller, id, app.now()).await?)),
        ("PATCH", ["targets", id]) => {
            app.patch_target(&caller, id, &json_body(&req.body)?)
                .await?;
            ok(to_json(&app.target_report(&caller, id, app.now()).await?))
        }
        ("DELETE", ["targets", id]) => {
            app.delete_target(&caller, id).await?;
            ok(json!({"deleted": id}))
        }
        ("POST", ["targets", id, "actuals"]) => {
            let body = json_body(&req.body)?;
            known_target(app.add_actuals(&caller, id, &body).await)?;
            ok(to_json(&app.target_report(&caller, id, app.now()).await?))
        }
        ("POST", ["targets", id, "verification"]) => {
            let body = json_body(&req.body)?;
            known_target(app.verify_target(&caller, id, &body).await)?;
            ok(to_json(&app.target_report(&caller, id, app.now()).await?))
        }
        ("POST", ["targets", id, "refresh"]) => {
            let runner = grafana_sync(&instance)?;
            known_target(app.refresh_target(&caller, runner.sync(), id).await)?;
            ok(to_json(&app.target_report(&caller, id, app.now()).await?))
        }
        ("POST", ["sync"]) => {
            app.check_sync_allowed(&caller, "running the Grafana sync")?;
            let runner = grafana_sync(&instance)?;
            ok(to_json(&runner.run_now().await))
        }
        ("GET", ["maturity"]) => {
            let at = p.time("at")?.unwrap_or_else(|| app.now());
            let evals = match p.list("team")? {
                teams if teams.is_empty() => app.maturity(&caller, &TeamSelector::All, at).await?,
                teams if teams.len() == 1 => vec![app.maturity_of(&caller, &teams[0], at).await?],
                teams => {
                    app.maturity(&caller, &TeamSelector::Only(teams), at)
                        .await?
                }
            };
            ok(to_json(&evals))
        }
        ("GET", ["export"]) => Ok(ResourceResponse {
            status: 200,
            content_type: "application/x-ndjson",
            body: Body::Parts(app.export_chunks(&caller, MAX_PART)?),
        }),
        ("POST", ["import"]) => {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| Invalid::new("body", "an import must be UTF-8 NDJSON"))?;
            ok(to_json(&app.import(&caller, text).await?))
        }
        (m, s) => Err(AppError::NotFound(format!(
            "no endpoint {m} /{}",
            s.join("/")
        ))),
    }
}

/// The datasource's Grafana sync, or a 400 saying how to turn it on (issue 12).
fn grafana_sync(
    instance: &super::instances::Instance,
) -> AppResult<&std::sync::Arc<super::scheduler::SyncRunner>> {
    instance.sync.as_ref().ok_or_else(|| {
        Invalid::new(
            "serviceAccountToken",
            "no service account token is set: add one (with annotations and dashboards read, dashboards write for versions, and datasources query) in the data source's settings to take evidence from Grafana",
        )
        .into()
    })
}

fn selector(teams: Vec<String>) -> TeamSelector {
    if teams.is_empty() {
        TeamSelector::All
    } else {
        TeamSelector::Only(teams)
    }
}

/// Actuals or a verification for a target that does not exist is a bad request naming the
/// field (issue 5), not a missing page.
fn known_target<T>(r: AppResult<T>) -> AppResult<T> {
    match r {
        Err(AppError::NotFound(m)) => {
            Err(Invalid::new("id", format!("{m}: no such target in this organisation")).into())
        }
        other => other,
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_take_repeated_and_comma_joined_values() {
        let p = Params::parse("events?kind=review,question&kind=note&team=p&limit=5");
        assert_eq!(
            p.list("kind"),
            Ok(vec!["review".into(), "question".into(), "note".into()])
        );
        assert_eq!(p.one("team"), Ok(Some("p")));
        assert_eq!(p.count("limit", 100, 5000), Ok(5));
        assert!(p.count("team", 1, 2).is_err());
    }

    #[test]
    fn route_labels_hide_ids_and_never_take_a_made_up_path_or_method() {
        assert_eq!(route_label("GET", &["events", "abc"]), "GET /events/{id}");
        assert_eq!(route_label("GET", &["nope", "abc"]), UNKNOWN);
        assert_eq!(route_label("BREW", &["teams"]), UNKNOWN);
        assert_eq!(route_label("GET", &["teams", "a", "b"]), UNKNOWN);
        assert_eq!(
            route_label("POST", &["targets", "t1", "refreshes"]),
            UNKNOWN
        );
        assert_eq!(
            route_label("POST", &["targets", "t1", "actuals"]),
            "POST /targets/{id}/actuals"
        );
        assert_eq!(route_label("GET", &["teams"]), "GET /teams");
    }
}
