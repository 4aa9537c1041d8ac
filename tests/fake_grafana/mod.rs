//! A fake Grafana for tests: a local HTTP server the test starts, answering the few endpoints
//! the plugin calls as Grafana does — `/api/annotations` (time window, tags with `matchAny`,
//! `type=annotation`, newest first, `limit`), `/api/dashboards/uid/{uid}/versions` (the older
//! list or the newer `{versions, continueToken}`), `/api/ds/query` (bodies written by the Go
//! SDK, `tests/fixtures/grafana/dsquery/`), `/api/access-control/user/permissions` — with a
//! bearer token, and failures, delays and a request log the test controls.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Which answer `/versions` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionsShape {
    /// Grafana before 12: a JSON list, paged with `start`.
    List,
    /// Grafana 12: `{versions, continueToken}`.
    Object,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: String,
    pub body: Value,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Seen {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type DsHandler = Arc<dyn Fn(&Value) -> (u16, String) + Send + Sync>;

struct Failure {
    path_prefix: String,
    status: u16,
    times: usize,
}

/// What the fake holds and how it behaves.
pub struct State {
    pub token: String,
    pub annotations: Vec<Value>,
    pub versions: HashMap<String, Vec<Value>>,
    pub versions_shape: VersionsShape,
    /// Dashboards that do not exist (404); any other has the versions saved so far.
    pub missing_dashboards: Vec<String>,
    pub permissions: Value,
    failures: Vec<Failure>,
    delays: Vec<(String, Duration)>,
    ds_query: DsHandler,
    pub requests: Vec<Seen>,
    next_id: i64,
}

/// A running fake Grafana.
pub struct FakeGrafana {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FakeGrafana {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The folder of the Go SDK's `/api/ds/query` bodies.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grafana/dsquery")
}

/// A fixture body and the status Grafana answers it with (400 when a query failed).
pub fn fixture(name: &str) -> (u16, String) {
    let path = fixtures_dir().join(format!("{name}.json"));
    let body = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&body).expect("fixture json");
    let failed = v["results"]
        .as_object()
        .is_some_and(|r| r.values().any(|x| x.get("error").is_some()));
    (if failed { 400 } else { 200 }, body)
}

/// The default `/api/ds/query`: the model's `expr` names a fixture (`fixture:timeseries`).
fn fixture_by_expr(body: &Value) -> (u16, String) {
    let expr = body["queries"][0]["expr"].as_str().unwrap_or_default();
    match expr.strip_prefix("fixture:") {
        Some(name) => fixture(name),
        None => (
            400,
            json!({"results": {"A": {"error": format!("unknown expr {expr:?}"), "status": 400}}})
                .to_string(),
        ),
    }
}

/// Every permission the product needs.
pub fn all_permissions() -> Value {
    json!({
        "annotations:read": ["annotations:*"],
        "dashboards:read": ["dashboards:*", "folders:*"],
        "dashboards:write": ["dashboards:*", "folders:*"],
        "datasources:query": ["datasources:*"],
        "datasources:read": ["datasources:*"]
    })
}

impl FakeGrafana {
    /// Starts the fake on a free port of 127.0.0.1, expecting `token`.
    pub async fn start(token: &str) -> FakeGrafana {
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            annotations: Vec::new(),
            versions: HashMap::new(),
            versions_shape: VersionsShape::Object,
            missing_dashboards: Vec::new(),
            permissions: all_permissions(),
            failures: Vec::new(),
            delays: Vec::new(),
            ds_query: Arc::new(fixture_by_expr),
            requests: Vec::new(),
            next_id: 1000,
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { answer(state, method, uri, headers, body).await }
            },
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeGrafana {
            url,
            state,
            stop: Some(stop),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }

    /// Adds an annotation as Grafana's `POST /api/annotations` would store it; answers its id.
    pub fn annotate(
        &self,
        dashboard_uid: Option<&str>,
        time: i64,
        text: &str,
        tags: &[&str],
        login: &str,
    ) -> i64 {
        self.with(|s| {
            s.next_id += 1;
            let id = s.next_id;
            s.annotations.push(json!({
                "id": id, "alertId": 0, "alertName": "",
                "dashboardId": if dashboard_uid.is_some() { 7 } else { 0 },
                "dashboardUID": dashboard_uid, "panelId": if dashboard_uid.is_some() { 2 } else { 0 },
                "userId": 3, "newState": "", "prevState": "",
                "created": time, "updated": time, "time": time, "timeEnd": time,
                "text": text, "tags": tags, "login": login, "email": format!("{login}@example.com"),
                "avatarUrl": "/avatar/0", "data": {}
            }));
            id
        })
    }

    /// Changes an annotation's text and tags, as an edit in Grafana does.
    pub fn edit(&self, id: i64, text: &str, tags: &[&str]) {
        self.with(|s| {
            let a = s
                .annotations
                .iter_mut()
                .find(|a| a["id"] == id)
                .expect("annotation");
            a["text"] = json!(text);
            a["tags"] = json!(tags);
            a["updated"] = json!(a["updated"].as_i64().unwrap_or(0) + 1000);
        })
    }

    /// Deletes an annotation.
    pub fn delete(&self, id: i64) {
        self.with(|s| s.annotations.retain(|a| a["id"] != id))
    }

    /// Adds a saved version to a dashboard (version numbers count up from 1).
    pub fn save_dashboard(&self, uid: &str, created: i64, message: &str, by: &str) -> i64 {
        self.with(|s| {
            let list = s.versions.entry(uid.to_string()).or_default();
            let version = list.len() as i64 + 1;
            list.push(json!({
                "id": 100 + version, "dashboardId": 7, "uid": uid, "dashboardUid": uid,
                "parentVersion": version - 1, "restoredFrom": 0, "version": version,
                "created": maturity::model::format_time(created), "createdBy": by,
                "message": message, "data": null
            }));
            version
        })
    }

    /// Makes a dashboard unknown to Grafana (404).
    pub fn remove_dashboard(&self, uid: &str) {
        self.with(|s| s.missing_dashboards.push(uid.to_string()))
    }

    pub fn set_versions_shape(&self, shape: VersionsShape) {
        self.with(|s| s.versions_shape = shape)
    }

    pub fn set_permissions(&self, p: Value) {
        self.with(|s| s.permissions = p)
    }

    pub fn set_token(&self, token: &str) {
        self.with(|s| s.token = token.to_string())
    }

    /// The next `times` requests to a path starting with `path_prefix` answer `status`.
    pub fn fail(&self, path_prefix: &str, status: u16, times: usize) {
        self.with(|s| {
            s.failures.push(Failure {
                path_prefix: path_prefix.to_string(),
                status,
                times,
            })
        })
    }

    /// Requests to a path starting with `path_prefix` wait `delay` before answering.
    pub fn slow(&self, path_prefix: &str, delay: Duration) {
        self.with(|s| s.delays.push((path_prefix.to_string(), delay)))
    }

    pub fn clear_faults(&self) {
        self.with(|s| {
            s.failures.clear();
            s.delays.clear();
        })
    }

    /// Answers `/api/ds/query` with `f(body)`.
    pub fn on_query(&self, f: impl Fn(&Value) -> (u16, String) + Send + Sync + 'static) {
        self.with(|s| s.ds_query = Arc::new(f))
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.with(|s| s.requests.clone())
    }

    pub fn requests_to(&self, prefix: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }

    pub fn forget_requests(&self) {
        self.with(|s| s.requests.clear())
    }
}

fn json_response(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

fn message(status: u16, text: &str) -> Response {
    json_response(status, json!({"message": text}).to_string())
}

async fn answer(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (delay, failure, token) = {
        let mut s = state.lock().expect("state");
        s.requests.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            authorization: authorization.clone(),
            body: body_json.clone(),
            at: std::time::Instant::now(),
        });
        let delay = s
            .delays
            .iter()
            .find(|(p, _)| path.starts_with(p.as_str()))
            .map(|(_, d)| *d);
        let failure = s
            .failures
            .iter_mut()
            .find(|f| f.times > 0 && path.starts_with(f.path_prefix.as_str()))
            .map(|f| {
                f.times -= 1;
                f.status
            });
        (delay, failure, s.token.clone())
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if authorization != format!("Bearer {token}") {
        return message(401, "Invalid API key");
    }
    if let Some(status) = failure {
        return match status {
            403 => message(
                403,
                "You'll need additional permissions to perform this action.",
            ),
            s => message(s, "Internal Server Error"),
        };
    }
    let param = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let s = state.lock().expect("state");
    match (method.as_str(), path.as_str()) {
        ("GET", "/api/access-control/user/permissions") => {
            json_response(200, s.permissions.to_string())
        }
        ("GET", "/api/annotations") => {
            let from = param("from")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(i64::MIN);
            let to = param("to")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(i64::MAX);
            let limit = param("limit")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(100);
            let tags: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "tags")
                .map(|(_, v)| v.clone())
                .collect();
            let match_any = param("matchAny").as_deref() == Some("true");
            let mut hits: Vec<Value> = s
                .annotations
                .iter()
                .filter(|a| {
                    let t = a["time"].as_i64().unwrap_or(0);
                    let e = a["timeEnd"].as_i64().unwrap_or(t);
                    t <= to && e >= from
                })
                .filter(|a| {
                    if tags.is_empty() {
                        return true;
                    }
                    let have: Vec<&str> = a["tags"]
                        .as_array()
                        .map(|t| t.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if match_any {
                        tags.iter().any(|t| have.contains(&t.as_str()))
                    } else {
                        tags.iter().all(|t| have.contains(&t.as_str()))
                    }
                })
                .cloned()
                .collect();
            // Grafana: ORDER BY a.epoch * 1000 + a.epoch_end DESC.
            hits.sort_by_key(|a| {
                std::cmp::Reverse(
                    a["time"].as_i64().unwrap_or(0) as i128 * 1000
                        + a["timeEnd"].as_i64().unwrap_or(0) as i128,
                )
            });
            hits.truncate(limit);
            json_response(200, Value::Array(hits).to_string())
        }
        ("POST", "/api/ds/query") => {
            let handler = s.ds_query.clone();
            drop(s);
            let (status, body) = handler(&body_json);
            json_response(status, body)
        }
        ("GET", p) if p.starts_with("/api/dashboards/uid/") && p.ends_with("/versions") => {
            let uid = p
                .trim_start_matches("/api/dashboards/uid/")
                .trim_end_matches("/versions");
            if s.missing_dashboards.iter().any(|m| m == uid) {
                return message(404, "Dashboard not found");
            }
            let list = s.versions.get(uid).cloned().unwrap_or_default();
            let mut newest_first: Vec<Value> = list.iter().rev().cloned().collect();
            let limit = param("limit")
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|l| *l > 0)
                .unwrap_or(usize::MAX);
            let start = match s.versions_shape {
                VersionsShape::List => param("start").and_then(|v| v.parse().ok()).unwrap_or(0),
                VersionsShape::Object => param("continueToken")
                    .and_then(|v| v.strip_prefix("offset-").and_then(|n| n.parse().ok()))
                    .unwrap_or(0),
            };
            newest_first = newest_first.into_iter().skip(start).collect();
            let more = newest_first.len() > limit;
            newest_first.truncate(limit);
            match s.versions_shape {
                VersionsShape::List => json_response(200, Value::Array(newest_first).to_string()),
                VersionsShape::Object => json_response(
                    200,
                    json!({
                        "continueToken": if more { format!("offset-{}", start + limit) } else { String::new() },
                        "versions": newest_first,
                    })
                    .to_string(),
                ),
            }
        }
        _ => message(404, "Not found"),
    }
}
