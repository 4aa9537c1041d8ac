//! Issue 14's key proof, through the built binary: two plugin processes (two Grafana
//! replicas) on ONE PostgreSQL database, written to concurrently through their resource APIs
//! (events of several kinds, batches, decisions and their outcomes, teams, targets with
//! actuals) and through passive views (QueryData carrying Grafana's dashboard and user
//! headers, both replicas seeing the same viewers), several clients per process. Halfway
//! through, one process is killed with SIGKILL and, once its clients have seen it fail,
//! restarted on the same database; the writes go on.
//!
//! At the end: every acknowledged write is in the export, no event id appears twice, passive
//! views are at most one per (user, dashboard, session bucket) though both replicas saw them,
//! every view a surviving process answered is stored, writes sent to the dead process failed
//! (and a batch among them is whole or absent), nothing failed while a process was up, and
//! both processes answer the same levels (`maturity` query, `GET /maturity`) and the same
//! export.
//!
//! Runs for `MATURITY_CLUSTER_SECS` seconds (default 60); needs `scripts/with-postgres`
//! (skipped with a line without it, unless `MATURITY_REQUIRE_POSTGRES=1`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use common::*;
use grafana_plugin_sdk::pluginv2::data_client::DataClient;
use grafana_plugin_sdk::pluginv2::resource_client::ResourceClient;
use grafana_plugin_sdk::pluginv2::{CallResourceRequest, PluginContext, QueryDataRequest};
use serde_json::{json, Value};
use tonic::transport::Channel;

/// The shared teams (each with a dashboard and a target that both replicas add actuals to).
const TEAMS: usize = 4;
/// Viewers both replicas see looking at the shared dashboards.
const VIEWERS: usize = 5;
/// `viewSessionMinutes`: short, so the session bucket turns over during the run.
const SESSION_MINUTES: i64 = 1;

/// One replica as its clients see it: the clients of its current process and a generation
/// that is odd while the process is dead (a write sent then must fail).
struct Replica {
    name: &'static str,
    clients: RwLock<(ResourceClient<Channel>, DataClient<Channel>)>,
    generation: AtomicU64,
}

impl Replica {
    fn new(name: &'static str, p: &Plugin) -> Arc<Replica> {
        Arc::new(Replica {
            name,
            clients: RwLock::new((p.resource.clone(), p.data.clone())),
            generation: AtomicU64::new(0),
        })
    }

    fn clients(&self) -> (ResourceClient<Channel>, DataClient<Channel>) {
        self.clients.read().expect("clients").clone()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// What one write was, for the checks at the end.
#[derive(Debug, Clone)]
enum Write {
    /// Events by id (one, or a batch that is all or none).
    Events(Vec<String>),
    /// An event posted without an id: the server named it in the acknowledgement.
    UnnamedEvent,
    Team(String),
    /// A target created with inline actuals (times).
    Target(String, Vec<i64>),
    /// Actuals (times) added to a target.
    Actuals(String, Vec<i64>),
}

/// What the clients were told.
#[derive(Default)]
struct Tally {
    /// Acknowledged (2xx) writes; an unnamed event is recorded under the id it was given.
    acked: Vec<Write>,
    /// Writes that failed while their process was dead or being killed.
    failed_while_dead: Vec<Write>,
    /// Retries (after the restart) of event writes that failed while their process was
    /// dead, answered 409: stored before the kill, never acknowledged.
    stored_before_the_kill: Vec<Write>,
    /// Retries acknowledged.
    retried_acked: usize,
    /// Failures while the process was up: each is a defect.
    unexpected: Vec<String>,
    /// Passive-view queries answered: (user, dashboard, time sent, time answered, replica
    /// incarnation).
    views: Vec<(String, String, i64, i64, String)>,
    /// Queries that failed while their process was dead.
    views_failed_while_dead: usize,
    /// Reads (GET /maturity, GET /events) answered.
    reads: usize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// One resource call on the replica's current process: the status, or the transport error.
async fn call(
    replica: &Replica,
    ctx: &PluginContext,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(i32, Value), String> {
    let (mut client, _) = replica.clients();
    let req = CallResourceRequest {
        plugin_context: Some(ctx.clone()),
        path: path.split('?').next().unwrap_or(path).into(),
        method: method.into(),
        url: path.into(),
        headers: Default::default(),
        body: body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default()
            .into(),
    };
    let mut stream = client
        .call_resource(req)
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    let mut code = 0;
    let mut out = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(msg)) => {
                if code == 0 {
                    code = msg.code;
                }
                out.extend_from_slice(&msg.body);
            }
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    let v = serde_json::from_slice(&out).unwrap_or(Value::String(
        String::from_utf8_lossy(&out).chars().take(300).collect(),
    ));
    Ok((code, v))
}

/// How a write ended.
enum Outcome {
    /// 2xx.
    Acked,
    /// A retry answered 409: the first attempt was stored though never acknowledged.
    AlreadyStored,
    /// It failed while its process was dead or being killed.
    FailedWhileDead,
    /// It failed while its process was up (filed as unexpected).
    Failed,
}

/// Sends one write and files it: acknowledged, failed while the process was dead (or dying),
/// or an unexpected failure. A `retry` of a write that failed while its process was dead
/// may also find it stored already (409).
async fn write(
    replica: &Replica,
    ctx: &PluginContext,
    tally: &Mutex<Tally>,
    (method, path, body): (&str, String, &Value),
    what: Write,
    retry: bool,
) -> Outcome {
    let before = replica.generation();
    let result = call(replica, ctx, method, &path, Some(body)).await;
    let after = replica.generation();
    let mut t = tally.lock().expect("tally");
    match result {
        Ok((code, answer)) if (200..300).contains(&code) => {
            let what = match what {
                Write::UnnamedEvent => Write::Events(vec![answer["id"]
                    .as_str()
                    .expect("the acknowledgement names the event")
                    .to_string()]),
                w => w,
            };
            t.acked.push(what);
            t.retried_acked += usize::from(retry);
            Outcome::Acked
        }
        Ok((409, _)) if retry => {
            t.stored_before_the_kill.push(what);
            Outcome::AlreadyStored
        }
        _ if before % 2 == 1 || before != after => {
            if !retry {
                t.failed_while_dead.push(what);
            }
            Outcome::FailedWhileDead
        }
        Ok((code, answer)) => {
            t.unexpected.push(format!(
                "{}: {method} {path} → {code} {answer}",
                replica.name
            ));
            Outcome::Failed
        }
        Err(e) => {
            t.unexpected
                .push(format!("{}: {method} {path} → transport {e}", replica.name));
            Outcome::Failed
        }
    }
}

/// Events of every kind, single and in batches, decisions and later their outcomes, some
/// without an id; a read of the ladder now and then. An event write that failed while the
/// process was dead is sent again once it is back, as a person would press save again.
async fn event_client(
    name: String,
    replica: Arc<Replica>,
    ctx: PluginContext,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) {
    let mut decisions: Vec<String> = Vec::new();
    let mut retries: Vec<(Value, Vec<String>)> = Vec::new();
    let mut n: usize = 0;
    while !stop.load(Ordering::Relaxed) {
        if replica.generation().is_multiple_of(2) {
            if let Some((body, ids)) = retries.pop() {
                let what = Write::Events(ids.clone());
                let req = ("POST", "events".to_string(), &body);
                if let Outcome::FailedWhileDead =
                    write(&replica, &ctx, &tally, req, what, true).await
                {
                    retries.push((body, ids));
                }
                continue;
            }
        }
        n += 1;
        // Kinds turn over with n, teams with n / 8: every team gets every kind.
        let team = format!("team-{}", (n / 8) % TEAMS);
        let dashboard = format!("dash-{}", (n / 8) % TEAMS);
        let time = now_ms();
        let id = format!("{name}-e{n}");
        let (body, ids) = match n % 8 {
            0 => (
                json!({"id": id, "kind": "question", "team": team, "time": time,
                       "data": {"query": {"expr": "rate(errors[5m])"}}}),
                vec![id],
            ),
            1 => (
                json!({"id": id, "kind": "review", "team": team, "time": time,
                       "data": {"dashboards": [dashboard], "attendees": ["editor"]}}),
                vec![id],
            ),
            2 => (
                json!({"id": id, "kind": "decision", "team": team, "time": time,
                       "text": "act on it",
                       "data": {"owner": "editor", "expectedEffect": "fewer errors"}}),
                vec![id],
            ),
            3 if !decisions.is_empty() => {
                let decision = &decisions[n % decisions.len()];
                (
                    json!({"id": id, "kind": "outcome", "team": team, "time": time,
                           "data": {"decisionId": decision, "result": "confirmed"}}),
                    vec![id],
                )
            }
            4 => (
                json!({"id": id, "kind": "metric_change", "team": team, "time": time,
                       "data": {"change": "added", "reason": "a gap"}}),
                vec![id],
            ),
            5 => {
                // A batch: all or none.
                let ids: Vec<String> = (0..5).map(|k| format!("{name}-b{n}-{k}")).collect();
                let body = Value::Array(
                    ids.iter()
                        .enumerate()
                        .map(|(k, id)| {
                            json!({"id": id, "kind": if k == 0 { "decision" } else { "note" },
                                   "team": team, "time": time})
                        })
                        .collect(),
                );
                (body, ids)
            }
            6 => {
                // No id: the server names it (not retried: a retry would be a new event).
                let body = json!({"kind": "note", "team": team, "time": time, "text": name});
                let req = ("POST", "events".to_string(), &body);
                write(&replica, &ctx, &tally, req, Write::UnnamedEvent, false).await;
                continue;
            }
            7 => {
                let path = format!("maturity?team={team}");
                let ok = call(&replica, &ctx, "GET", &path, None).await;
                if matches!(ok, Ok((200, _))) {
                    tally.lock().expect("tally").reads += 1;
                }
                (
                    json!({"id": id, "kind": "note", "team": team, "time": time}),
                    vec![id],
                )
            }
            _ => (
                json!({"id": id, "kind": "question", "team": team, "time": time}),
                vec![id],
            ),
        };
        let req = ("POST", "events".to_string(), &body);
        let what = Write::Events(ids.clone());
        match write(&replica, &ctx, &tally, req, what, false).await {
            Outcome::Acked => {
                let first = &body[0];
                let decision = if body.is_array() { first } else { &body };
                if decision["kind"] == "decision" {
                    decisions.push(ids[0].clone());
                }
            }
            Outcome::FailedWhileDead => retries.push((body, ids)),
            Outcome::AlreadyStored | Outcome::Failed => {}
        }
    }
}

/// Teams, targets created with actuals, and actuals added to the shared targets (both
/// replicas add to the same ones).
async fn project_client(
    name: String,
    replica: Arc<Replica>,
    ctx: PluginContext,
    admin: PluginContext,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) {
    let mut n: i64 = 0;
    // Times no other client uses: actuals at an existing time would replace each other.
    let offset: i64 = name.bytes().map(i64::from).sum::<i64>() * 1_000_000_000;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        match n % 3 {
            0 => {
                let team = format!("t-{name}-{n}");
                let body = json!({"id": team, "dashboards": [format!("d-{name}-{n}")],
                                  "members": ["editor"]});
                let req = ("POST", "teams".to_string(), &body);
                write(&replica, &admin, &tally, req, Write::Team(team), false).await;
            }
            1 => {
                let target = format!("tg-{name}-{n}");
                let times = vec![offset + n * 10, offset + n * 10 + 1];
                let body = json!({"id": target, "team": format!("team-{}", n as usize % TEAMS),
                                  "name": format!("project {n}"), "direction": "decrease",
                                  "baseline": 100, "target": 50, "deadline": now_ms() + 86_400_000,
                                  "actuals": times.iter().map(|t| json!({"time": t, "value": 90}))
                                      .collect::<Vec<_>>()});
                let req = ("POST", "targets".to_string(), &body);
                write(
                    &replica,
                    &ctx,
                    &tally,
                    req,
                    Write::Target(target, times),
                    false,
                )
                .await;
            }
            _ => {
                let target = format!("target-{}", n as usize % TEAMS);
                let times = vec![offset + n * 10, offset + n * 10 + 5];
                let body = json!(times
                    .iter()
                    .map(|t| json!({"time": t, "value": (n % 97) as f64}))
                    .collect::<Vec<_>>());
                let req = ("POST", format!("targets/{target}/actuals"), &body);
                write(
                    &replica,
                    &ctx,
                    &tally,
                    req,
                    Write::Actuals(target, times),
                    false,
                )
                .await;
            }
        }
    }
}

/// Passive views: QueryData as Grafana sends it for a dashboard panel, from the viewers
/// both replicas share, so both see the same (user, dashboard) over and over.
async fn view_client(
    name: String,
    replica: Arc<Replica>,
    ctx: PluginContext,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) {
    let mut n: usize = name.len();
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let user = format!("viewer-{}", n % VIEWERS);
        let dashboard = format!("dash-{}", (n / VIEWERS) % TEAMS);
        let mut ctx = ctx.clone();
        if let Some(u) = ctx.user.as_mut() {
            u.login = user.clone();
            u.name = user.clone();
        }
        // Every few, the ladder of the dashboard's team; else the cheap list of teams.
        let (query_type, body) = if n.is_multiple_of(10) {
            (
                "maturity",
                json!({"team": format!("team-{}", (n / VIEWERS) % TEAMS)}),
            )
        } else {
            ("teams", json!({}))
        };
        let now = now_ms();
        let req = QueryDataRequest {
            plugin_context: Some(ctx),
            headers: [
                ("http_X-Dashboard-Uid".to_string(), dashboard.clone()),
                ("http_X-Panel-Id".to_string(), (n % 7).to_string()),
            ]
            .into_iter()
            .collect(),
            queries: vec![query("A", query_type, body, now - 86_400_000, now)],
        };
        let before = replica.generation();
        let (_, mut data) = replica.clients();
        let sent = now_ms();
        let result = data.query_data(req).await;
        let answered = now_ms();
        let after = replica.generation();
        let mut t = tally.lock().expect("tally");
        match result {
            Ok(r)
                if r.get_ref()
                    .responses
                    .get("A")
                    .is_some_and(|a| a.error.is_empty()) =>
            {
                t.views.push((
                    user,
                    dashboard,
                    sent,
                    answered,
                    format!("{}{before}", replica.name),
                ));
            }
            _ if before % 2 == 1 || before != after => t.views_failed_while_dead += 1,
            Ok(r) => t.unexpected.push(format!(
                "{}: {query_type} query for {user} on {dashboard}: {:?}",
                replica.name,
                r.get_ref().responses.get("A").map(|a| a.error.clone())
            )),
            Err(e) => t.unexpected.push(format!(
                "{}: {query_type} query for {user} on {dashboard}: transport {e}",
                replica.name
            )),
        }
    }
}

/// The NDJSON export of org 1, parsed.
async fn export(p: &mut Plugin) -> (String, Vec<Value>) {
    let (status, bytes, _) = p.call_raw(p.admin(1), "GET", "export", Vec::new()).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(
        status,
        200,
        "GET /export answered {}",
        &text[..text.len().min(300)]
    );
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("an export line is JSON"))
        .collect();
    (text, lines)
}

/// The decoded `maturity` query of org 1 at `at`: each field's name and values.
async fn maturity_frame(p: &mut Plugin, at: i64) -> Vec<(String, Column)> {
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query("M", "maturity", json!({}), at - 86_400_000, at)],
        )
        .await;
    let frame = frames_of(&resp, "M").expect("maturity query").remove(0);
    frame
        .fields
        .into_iter()
        .map(|f| (f.name, f.column))
        .collect()
}

/// Starts a plugin process on the PostgreSQL database `url` with the cluster's settings.
async fn replica_process(db: &std::path::Path, url: &str) -> Plugin {
    let mut p = Plugin::start(db, &[]).await;
    p.use_postgres(url);
    p.set_json_data(json!({"viewSessionMinutes": SESSION_MINUTES}));
    p.uid = "maturity-cluster".into();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_plugin_processes_on_one_postgresql_database_lose_nothing_through_a_kill_9() {
    let Some(url) = fresh_postgres("cluster").await else {
        return;
    };
    let secs: u64 = std::env::var("MATURITY_CLUSTER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    // No SQLite file is used; the path only satisfies the test host.
    let (_dir, db) = temp_store();
    let mut a = replica_process(&db, &url).await;
    let mut b = replica_process(&db, &url).await;
    let health = a.health(a.admin(1)).await;
    assert_eq!(
        health.status, 1,
        "replica a is healthy on PostgreSQL: {}",
        health.message
    );

    for i in 0..TEAMS {
        a.ok(
            a.admin(1),
            "POST",
            "teams",
            Some(
                json!({"id": format!("team-{i}"), "dashboards": [format!("dash-{i}")],
                        "cadenceDays": 1}),
            ),
            201,
        )
        .await;
        b.ok(
            b.editor(1),
            "POST",
            "targets",
            Some(
                json!({"id": format!("target-{i}"), "team": format!("team-{i}"),
                        "name": "latency", "direction": "decrease", "baseline": 300,
                        "target": 200, "deadline": now_ms() + 30 * 86_400_000i64}),
            ),
            201,
        )
        .await;
    }

    let ra = Replica::new("a", &a);
    let rb = Replica::new("b", &b);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for (replica, p) in [(&ra, &a), (&rb, &b)] {
        for k in 0..2 {
            tasks.push(tokio::spawn(event_client(
                format!("{}{k}", replica.name),
                replica.clone(),
                p.editor(1),
                stop.clone(),
                tally.clone(),
            )));
        }
        tasks.push(tokio::spawn(project_client(
            format!("{}p", replica.name),
            replica.clone(),
            p.editor(1),
            p.admin(1),
            stop.clone(),
            tally.clone(),
        )));
        for k in 0..2 {
            tasks.push(tokio::spawn(view_client(
                format!("{}v{k}", replica.name),
                replica.clone(),
                p.viewer(1),
                stop.clone(),
                tally.clone(),
            )));
        }
    }

    let started = Instant::now();
    let run = Duration::from_secs(secs);
    let until = |t: Duration| async move {
        while started.elapsed() < t {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    until(run / 2).await;

    // SIGKILL replica a (generation goes odd first: what is sent from now on must fail).
    let failed_before_kill = tally.lock().expect("tally").failed_while_dead.len();
    ra.generation.fetch_add(1, Ordering::SeqCst);
    a.kill();
    let killed_at = started.elapsed();
    // Its clients keep sending; restart once each kind of them has seen a failure.
    let seen_dead = || {
        let t = tally.lock().expect("tally");
        let writes = t.failed_while_dead.len() - failed_before_kill;
        writes >= 30 && t.views_failed_while_dead >= 30
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen_dead() {
        assert!(
            Instant::now() < deadline,
            "the clients of the killed process never saw it fail"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut a2 = replica_process(&db, &url).await;
    a2.json_data = a.json_data.clone();
    a2.secure = a.secure.clone();
    a2.updated_ms = a.updated_ms;
    *ra.clients.write().expect("clients") = (a2.resource.clone(), a2.data.clone());
    ra.generation.fetch_add(1, Ordering::SeqCst);
    let restarted_at = started.elapsed();
    drop(a);
    let mut a = a2;

    until(run).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("client task");
    }
    let tally = std::mem::take(&mut *tally.lock().expect("tally"));
    assert!(
        tally.unexpected.is_empty(),
        "{} calls failed while their process was up, first: {:#?}",
        tally.unexpected.len(),
        tally.unexpected.iter().take(8).collect::<Vec<_>>()
    );

    // Views are written within 500 ms of their query: wait until every view that a process
    // still running answered is stored (those the killed process had pending may be lost).
    let bucket = |t: i64| t.div_euclid(SESSION_MINUTES * 60_000);
    let required: Vec<&(String, String, i64, i64, String)> =
        tally.views.iter().filter(|v| v.4 != "a0").collect();
    let stored_views = |lines: &[Value]| -> BTreeMap<(String, String, i64), usize> {
        let mut m = BTreeMap::new();
        for l in lines {
            let e = &l["value"];
            if l["type"] == "event" && e["kind"] == "view" && e["source"] == "passive" {
                let key = (
                    e["user"].as_str().unwrap_or_default().to_string(),
                    e["dashboardUid"].as_str().unwrap_or_default().to_string(),
                    bucket(e["time"].as_i64().expect("view time")),
                );
                *m.entry(key).or_insert(0) += 1;
            }
        }
        m
    };
    let missing_views = |views: &BTreeMap<(String, String, i64), usize>| {
        required
            .iter()
            .filter(|(user, dash, sent, answered, _)| {
                !(bucket(*sent)..=bucket(*answered))
                    .any(|b| views.contains_key(&(user.clone(), dash.clone(), b)))
            })
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let (text_a, lines) = loop {
        let (text, lines) = export(&mut a).await;
        let missing = missing_views(&stored_views(&lines));
        if missing == 0 {
            break (text, lines);
        }
        assert!(
            Instant::now() < deadline,
            "{missing} views answered by a running process were never stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // No event twice; every acknowledged write present.
    let mut event_ids: HashMap<String, usize> = HashMap::new();
    let mut teams = BTreeSet::new();
    let mut actuals: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut targets = BTreeSet::new();
    for l in &lines {
        let v = &l["value"];
        match l["type"].as_str() {
            Some("event") => {
                *event_ids
                    .entry(v["id"].as_str().expect("event id").to_string())
                    .or_insert(0) += 1
            }
            Some("team") => {
                teams.insert(v["id"].as_str().expect("team id").to_string());
            }
            Some("target") => {
                let id = v["id"].as_str().expect("target id").to_string();
                for actual in v["actuals"].as_array().into_iter().flatten() {
                    actuals.insert((id.clone(), actual["time"].as_i64().expect("time")));
                }
                targets.insert(id);
            }
            _ => {}
        }
    }
    let twice: Vec<_> = event_ids.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "events exported more than once: {twice:?}"
    );
    let mut lost = Vec::new();
    let (mut acked_events, mut acked_other) = (0, 0);
    for w in &tally.acked {
        match w {
            Write::Events(ids) => {
                acked_events += ids.len();
                lost.extend(
                    ids.iter()
                        .filter(|id| !event_ids.contains_key(*id))
                        .map(|id| format!("event {id}")),
                );
            }
            Write::UnnamedEvent => unreachable!("named when acknowledged"),
            Write::Team(id) => {
                acked_other += 1;
                if !teams.contains(id) {
                    lost.push(format!("team {id}"));
                }
            }
            Write::Target(id, times) | Write::Actuals(id, times) => {
                acked_other += 1;
                if matches!(w, Write::Target(..)) && !targets.contains(id) {
                    lost.push(format!("target {id}"));
                }
                for t in times {
                    if !actuals.contains(&(id.clone(), *t)) {
                        lost.push(format!("actual {id}@{t}"));
                    }
                }
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost, first: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );

    // Writes sent to the dead process failed; whatever of them is stored is whole (most
    // were sent again after the restart), and a retry that was told 409 found it stored.
    for w in &tally.failed_while_dead {
        if let Write::Events(ids) = w {
            let present = ids.iter().filter(|id| event_ids.contains_key(*id)).count();
            assert!(
                present == 0 || present == ids.len(),
                "half a batch stored: {present} of {ids:?}"
            );
        }
    }
    for w in &tally.stored_before_the_kill {
        if let Write::Events(ids) = w {
            let missing: Vec<_> = ids
                .iter()
                .filter(|id| !event_ids.contains_key(*id))
                .collect();
            assert!(
                missing.is_empty(),
                "a retry was told 409 but {missing:?} is not stored"
            );
        }
    }

    // Passive views: one per (user, dashboard, session bucket), though both replicas (and
    // the restarted one, with an empty memory) saw each many times.
    let views = stored_views(&lines);
    let repeated: Vec<_> = views.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "passive views recorded more than once per session: {repeated:?}"
    );
    let seen: BTreeSet<(String, String)> = tally
        .views
        .iter()
        .map(|v| (v.0.clone(), v.1.clone()))
        .collect();
    for (user, dash, _) in views.keys() {
        assert!(
            seen.contains(&(user.clone(), dash.clone())),
            "a view of {user} on {dash} nobody queried"
        );
    }

    // Both processes answer the same: the export, GET /maturity and the maturity query.
    let (text_b, _) = export(&mut b).await;
    assert!(text_a == text_b, "the two replicas export differently");
    let at = now_ms();
    let ladder_a = a
        .ok(a.viewer(1), "GET", &format!("maturity?at={at}"), None, 200)
        .await;
    let ladder_b = b
        .ok(b.viewer(1), "GET", &format!("maturity?at={at}"), None, 200)
        .await;
    assert_eq!(ladder_a, ladder_b, "GET /maturity differs between replicas");
    let frame_a = maturity_frame(&mut a, at).await;
    let frame_b = maturity_frame(&mut b, at).await;
    assert_eq!(
        frame_a, frame_b,
        "the maturity query differs between replicas"
    );
    let levels: Vec<(String, i64)> = ladder_a
        .as_array()
        .expect("evaluations")
        .iter()
        .map(|e| {
            (
                e["team"].as_str().unwrap_or_default().to_string(),
                e["level"].as_i64().unwrap_or(-1),
            )
        })
        .filter(|(t, _)| t.starts_with("team-"))
        .collect();

    let failed_writes = tally.failed_while_dead.len();
    assert!(
        failed_writes > 0,
        "writes were sent while a process was dead"
    );
    assert!(
        acked_events > 1000,
        "the run wrote enough to mean something: {acked_events} events"
    );
    let passive_queries = tally.views.len();
    println!(
        "cluster run: {secs} s, 2 processes on one PostgreSQL database, replica a killed -9 at \
         {:.1} s and restarted at {:.1} s",
        killed_at.as_secs_f64(),
        restarted_at.as_secs_f64()
    );
    println!(
        "acknowledged writes: {} requests ({acked_events} events; {acked_other} teams, targets, \
         actuals), reads {}; failed while a process was dead: {failed_writes} writes and {} queries \
         (event writes sent again after the restart: {} acknowledged, {} answered 409 as \
         stored before the kill); unexpected failures: 0",
        tally.acked.len(),
        tally.reads,
        tally.views_failed_while_dead,
        tally.retried_acked,
        tally.stored_before_the_kill.len()
    );
    println!(
        "passive views: {passive_queries} queries answered, {} stored (one per user, dashboard \
         and {SESSION_MINUTES}-minute session), {} events exported, levels {levels:?}",
        views.len(),
        event_ids.len()
    );
}
