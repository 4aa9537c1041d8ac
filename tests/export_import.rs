//! Issue 11, defect 3, through the running binary: whatever the API accepted, `GET /export`
//! writes and `POST /import` takes back, into an empty org, field by field.
//!
//! A property test drives random sequences of API calls — creates, replaces, edits and
//! deletes of teams, events (API, annotations, passive views) and targets (actuals,
//! verifications), by Viewers, Editors and Admins, in any order, with odd times, texts and
//! free JSON — through one plugin process (each case in orgs of its own), then exports,
//! imports into a fresh org and compares both orgs' exports and reads. Whatever the API
//! refused is simply not there. `MATURITY_ROUNDTRIP_CASES` sets the number of cases (48).

mod common;

use std::cell::RefCell;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

const TEAMS: [&str; 3] = ["alpha", "beta", "gamma"];
const TARGETS: [&str; 3] = ["t0", "t1", "t2"];
const DASHBOARDS: [&str; 3] = ["slo-a", "slo-b", "ops"];

/// Who makes a call.
#[derive(Debug, Clone, Copy)]
enum Who {
    Viewer,
    Editor,
    Admin,
    OtherViewer,
}

/// One API call; `usize` fields pick among what exists when it runs.
#[derive(Debug, Clone)]
enum Op {
    CreateTeam(Value),
    ReplaceTeam(usize, Value),
    DeleteTeam(usize, bool),
    Record(Who, Vec<Value>, bool),
    Annotate(Who, Value),
    PatchEvent(Who, usize, Value),
    DeleteEvent(Who, usize),
    View(String, String),
    CreateTarget(Value),
    PatchTarget(usize, Value),
    DeleteTarget(usize),
    AddActuals(usize, Value),
    Verify(Who, usize, Value),
}

fn time() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (-5i64..5).prop_map(|d| json!(1_780_000_000_000i64 + d * 86_400_000)),
        6 => (0i64..1_000_000).prop_map(|ms| json!(1_780_000_000_000i64 + ms)),
        1 => Just(json!(0)),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(json!(i64::MAX)),
        1 => Just(json!(i64::MIN)),
        1 => Just(json!("2026-06-01T00:00:00.123456Z")),
        1 => Just(json!("1969-12-31T23:59:59.9995+01:00")),
        1 => Just(json!("1780000000000")),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{0,12}",
        any::<String>(),
        Just("line one\nline two\r\n\t\u{0}\u{2028}\u{1F600}".to_string()),
        Just("\"'\\;DROP TABLE events;--".to_string()),
    ]
}

/// Free JSON, sometimes nested deeper than the API takes.
fn free_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        Just(json!(-0.0)),
        Just(json!(0.1)),
        text().prop_map(Value::from),
    ];
    let tree = leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_$. ]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        9 => tree,
        1 => (1usize..45).prop_map(|depth| (0..depth).fold(json!("deep"), |v, _| json!({"q": v}))),
    ]
}

fn tags() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            Just("review".to_string()),
            Just("decision".to_string()),
            Just("metric-change".to_string()),
            Just("team:alpha".to_string()),
            Just("a,b".to_string()),
            "[a-z]{1,5}",
            any::<String>(),
        ],
        0..4,
    )
}

fn kind() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "view",
        "review",
        "question",
        "decision",
        "outcome",
        "metric_change",
        "note",
    ])
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 2 => s.prop_map(Some)]
}

/// An event body; `decision` picks a decision id when it runs (an outcome's `decisionId`).
fn event_body() -> impl Strategy<Value = Value> {
    (
        kind(),
        opt((0usize..40).prop_map(|i| format!("e{i}"))),
        opt(time()),
        opt(0i64..3_600_000),
        opt(prop::sample::select(TEAMS.to_vec())),
        opt(prop::sample::select(DASHBOARDS.to_vec())),
        opt(any::<i32>()),
        text(),
        tags(),
        (free_json(), opt(time()), 0usize..8, any::<bool>()),
    )
        .prop_map(
            |(kind, id, time, span, team, dash, panel, text, tags, (free, follow, pick, flag))| {
                let mut o = Map::new();
                o.insert("kind".into(), json!(kind));
                if let Some(id) = id {
                    o.insert("id".into(), json!(id));
                }
                if let Some(t) = &time {
                    o.insert("time".into(), t.clone());
                    if let (Some(span), Some(ms)) = (span, t.as_i64()) {
                        if let Some(end) = ms.checked_add(span) {
                            o.insert("timeEnd".into(), json!(end));
                        }
                    }
                }
                if let Some(team) = team {
                    o.insert("team".into(), json!(team));
                }
                if let Some(d) = dash {
                    o.insert(if flag { "dashboardUid" } else { "dashboardUID" }.into(), json!(d));
                }
                if let Some(p) = panel {
                    o.insert("panelId".into(), if flag { json!(p) } else { json!(p.to_string()) });
                }
                o.insert("text".into(), json!(text));
                o.insert("tags".into(), json!(tags));
                o.insert("user".into(), json!("mallory"));
                let data = match kind {
                    "review" => json!({"attendees": ["alice", "bob"], "dashboards": ["slo-a"], "extra": free}),
                    "question" => json!({"query": free}),
                    "decision" => match follow {
                        Some(f) => json!({"followUpAt": f, "owner": "alice", "expectedEffect": "faster"}),
                        None => json!({"owner": "bob"}),
                    },
                    "outcome" => json!({"decisionId": format!("@pick{pick}"),
                        "result": (["confirmed", "not_confirmed", "inconclusive"][pick % 3])}),
                    "metric_change" => json!({"change": (["added", "changed", "removed"][pick % 3]), "reason": "gap"}),
                    _ => json!({"note": free}),
                };
                o.insert("data".into(), data);
                Value::Object(o)
            },
        )
}

fn team_body() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(TEAMS.to_vec()),
        opt(text()),
        prop::collection::vec(prop::sample::select(DASHBOARDS.to_vec()), 0..3),
        prop::collection::vec("[a-z]{1,6}", 0..3),
        opt(prop_oneof![
            (1i64..40).prop_map(Value::from),
            Just(json!("14"))
        ]),
        opt(time()),
    )
        .prop_map(|(id, name, dashboards, members, cadence, created)| {
            let mut o = json!({"id": id, "dashboards": dashboards, "members": members});
            if let Some(n) = name {
                o["name"] = json!(n);
            }
            if let Some(c) = cadence {
                o["cadenceDays"] = c;
            }
            if let Some(c) = created {
                o["createdAt"] = c;
            }
            o
        })
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1.5)),
        Just(json!(-3)),
        Just(json!(1e10)),
        (-1000.0f64..1000.0).prop_map(Value::from),
    ]
}

fn actuals() -> impl Strategy<Value = Value> {
    prop::collection::vec((time(), number()), 0..4).prop_map(|a| {
        Value::Array(
            a.into_iter()
                .map(|(t, v)| json!({"time": t, "value": v}))
                .collect(),
        )
    })
}

fn verification() -> impl Strategy<Value = Value> {
    (
        opt(prop::sample::select(vec!["met", "missed"])),
        opt(number()),
        text(),
        opt(time()),
    )
        .prop_map(|(verdict, actual, learnings, at)| {
            let mut o = json!({"learnings": learnings, "verifiedBy": "mallory"});
            if let Some(v) = verdict {
                o["verdict"] = json!(v);
            }
            if let Some(a) = actual {
                o["actual"] = a;
            }
            if let Some(t) = at {
                o["verifiedAt"] = t;
            }
            o
        })
}

fn target_fields() -> impl Strategy<Value = Map<String, Value>> {
    (
        opt(text()),
        opt(opt(text())),
        opt(prop::sample::select(vec!["increase", "decrease"])),
        opt(opt(number())),
        opt(opt(number())),
        opt(time()),
        opt(opt(time())),
        opt(opt(free_json())),
        opt(prop::sample::select(TEAMS.to_vec())),
    )
        .prop_map(
            |(name, unit, direction, baseline, target, start, deadline, query, team)| {
                let mut o = Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        o.insert(k.to_string(), v);
                    }
                };
                put("name", name.map(Value::from));
                put(
                    "unit",
                    unit.map(|u| u.map(Value::from).unwrap_or(Value::Null)),
                );
                put("direction", direction.map(Value::from));
                put("baseline", baseline.map(|b| b.unwrap_or(Value::Null)));
                put("target", target.map(|b| b.unwrap_or(Value::Null)));
                put("startAt", start);
                put("deadline", deadline.map(|d| d.unwrap_or(Value::Null)));
                put("query", query.map(|q| q.unwrap_or(Value::Null)));
                put("team", team.map(Value::from));
                o
            },
        )
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        2 => Just(Who::Viewer),
        3 => Just(Who::Editor),
        2 => Just(Who::Admin),
        1 => Just(Who::OtherViewer),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => team_body().prop_map(Op::CreateTeam),
        1 => (0usize..3, team_body()).prop_map(|(i, b)| Op::ReplaceTeam(i, b)),
        1 => (0usize..3, any::<bool>()).prop_map(|(i, c)| Op::DeleteTeam(i, c)),
        8 => (who(), prop::collection::vec(event_body(), 1..3), any::<bool>())
            .prop_map(|(w, b, batch)| Op::Record(w, b, batch)),
        1 => (who(), event_body()).prop_map(|(w, b)| Op::Annotate(w, b)),
        2 => (who(), 0usize..16, event_body()).prop_map(|(w, i, b)| Op::PatchEvent(w, i, b)),
        2 => (who(), 0usize..16).prop_map(|(w, i)| Op::DeleteEvent(w, i)),
        1 => (prop::sample::select(vec!["alice", "bob"]), prop::sample::select(DASHBOARDS.to_vec()))
            .prop_map(|(u, d)| Op::View(u.into(), d.into())),
        2 => (prop::sample::select(TARGETS.to_vec()), prop::sample::select(TEAMS.to_vec()),
              target_fields(), actuals(), opt(verification()), opt(time()))
            .prop_map(|(id, team, mut f, a, v, created)| {
                f.insert("id".into(), json!(id));
                f.insert("team".into(), json!(team));
                f.entry("name").or_insert(json!("a target"));
                f.entry("direction").or_insert(json!("decrease"));
                f.insert("actuals".into(), a);
                if let Some(v) = v {
                    f.insert("verification".into(), v);
                }
                if let Some(c) = created {
                    f.insert("createdAt".into(), c);
                }
                Op::CreateTarget(Value::Object(f))
            }),
        2 => (0usize..3, target_fields()).prop_map(|(i, f)| Op::PatchTarget(i, Value::Object(f))),
        1 => (0usize..3).prop_map(Op::DeleteTarget),
        2 => (0usize..3, actuals()).prop_map(|(i, a)| Op::AddActuals(i, a)),
        1 => (who(), 0usize..3, verification()).prop_map(|(w, i, v)| Op::Verify(w, i, v)),
    ]
}

/// What a case has seen exist, to aim edits at.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    decisions: Vec<String>,
}

fn ctx_of(p: &Plugin, org: i64, who: Who) -> grafana_plugin_sdk::pluginv2::PluginContext {
    match who {
        Who::Viewer => p.ctx(org, Some(("vi", "Viewer"))),
        Who::OtherViewer => p.ctx(org, Some(("vo", "Viewer"))),
        Who::Editor => p.ctx(org, Some(("ed", "Editor"))),
        Who::Admin => p.ctx(org, Some(("ad", "Admin"))),
    }
}

/// Replaces an outcome's `@pickN` by a decision seen (or a made-up id).
fn resolve(body: &mut Value, seen: &Seen) {
    if let Some(d) = body.pointer_mut("/data/decisionId") {
        if let Some(n) = d.as_str().and_then(|s| s.strip_prefix("@pick")) {
            let n: usize = n.parse().unwrap_or(0);
            *d = match seen.decisions.get(n % seen.decisions.len().max(1)) {
                Some(id) => json!(id),
                None => json!(format!("e{n}")),
            };
        }
    }
}

fn remember(answer: &Value, seen: &mut Seen) {
    let items = match answer {
        Value::Array(a) => a.clone(),
        one => vec![one.get("event").cloned().unwrap_or(one.clone())],
    };
    for e in items {
        if let Some(id) = e["id"].as_str() {
            seen.events.push(id.to_string());
            if e["kind"] == "decision" {
                seen.decisions.push(id.to_string());
            }
        }
    }
}

async fn apply(p: &mut Plugin, org: i64, op: &Op, seen: &mut Seen) {
    let pick = |v: &[String], i: usize| v.get(i % v.len().max(1)).cloned();
    match op {
        Op::CreateTeam(b) => {
            p.call(p.admin(org), "POST", "teams", Some(b.clone())).await;
        }
        Op::ReplaceTeam(i, b) => {
            let id = TEAMS[i % 3];
            p.call(
                p.editor(org),
                "PUT",
                &format!("teams/{id}"),
                Some(b.clone()),
            )
            .await;
        }
        Op::DeleteTeam(i, cascade) => {
            let id = TEAMS[i % 3];
            p.call(
                p.admin(org),
                "DELETE",
                &format!("teams/{id}?cascade={cascade}"),
                None,
            )
            .await;
        }
        Op::Record(who, bodies, batch) => {
            let mut bodies = bodies.clone();
            for b in &mut bodies {
                resolve(b, seen);
            }
            let body = if *batch {
                json!(bodies)
            } else {
                bodies[0].clone()
            };
            let (status, answer) = p
                .call(ctx_of(p, org, *who), "POST", "events", Some(body))
                .await;
            if status == 201 {
                remember(&answer, seen);
            }
        }
        Op::Annotate(who, b) => {
            let (status, answer) = p
                .call(ctx_of(p, org, *who), "POST", "annotations", Some(b.clone()))
                .await;
            if status == 201 {
                if let Some(id) = answer["id"].as_str() {
                    seen.events.push(id.to_string());
                }
            }
        }
        Op::PatchEvent(who, i, b) => {
            if let Some(id) = pick(&seen.events, *i) {
                let mut b = b.clone();
                resolve(&mut b, seen);
                if let Some(o) = b.as_object_mut() {
                    o.remove("id");
                    // Most patches change a few fields, not the kind.
                    if i % 4 != 0 {
                        o.remove("kind");
                        o.retain(|k, _| (k.len() + i) % 3 != 0 || k == "time");
                    }
                }
                p.call(
                    ctx_of(p, org, *who),
                    "PATCH",
                    &format!("events/{id}"),
                    Some(b),
                )
                .await;
            }
        }
        Op::DeleteEvent(who, i) => {
            if let Some(id) = pick(&seen.events, *i) {
                p.call(
                    ctx_of(p, org, *who),
                    "DELETE",
                    &format!("events/{id}"),
                    None,
                )
                .await;
            }
        }
        Op::View(user, dashboard) => {
            let now = ms("2026-06-01T00:00:00Z");
            p.query(
                p.ctx(org, Some((user, "Viewer"))),
                &[
                    ("http_X-Dashboard-Uid", dashboard),
                    ("http_X-Panel-Id", "3"),
                ],
                vec![query("A", "teams", json!({}), now - 1, now)],
            )
            .await;
        }
        Op::CreateTarget(b) => {
            p.call(p.editor(org), "POST", "targets", Some(b.clone()))
                .await;
        }
        Op::PatchTarget(i, b) => {
            let id = TARGETS[i % 3];
            p.call(
                p.editor(org),
                "PATCH",
                &format!("targets/{id}"),
                Some(b.clone()),
            )
            .await;
        }
        Op::DeleteTarget(i) => {
            let id = TARGETS[i % 3];
            p.call(p.admin(org), "DELETE", &format!("targets/{id}"), None)
                .await;
        }
        Op::AddActuals(i, b) => {
            let id = TARGETS[i % 3];
            p.call(
                p.editor(org),
                "POST",
                &format!("targets/{id}/actuals"),
                Some(b.clone()),
            )
            .await;
        }
        Op::Verify(who, i, b) => {
            let id = TARGETS[i % 3];
            p.call(
                ctx_of(p, org, *who),
                "POST",
                &format!("targets/{id}/verification"),
                Some(b.clone()),
            )
            .await;
        }
    }
}

async fn export(p: &mut Plugin, org: i64) -> Result<Vec<Value>, TestCaseError> {
    let (status, body, _) = p.call_raw(p.admin(org), "GET", "export", Vec::new()).await;
    prop_assert_eq!(status, 200);
    let text = String::from_utf8(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
    text.lines()
        .map(|l| serde_json::from_str(l).map_err(|e| TestCaseError::fail(format!("{e}: {l}"))))
        .collect()
}

async fn reads(p: &mut Plugin, org: i64) -> (Value, Value) {
    let teams = p.ok(p.viewer(org), "GET", "teams", None, 200).await;
    let events = p
        .ok(p.viewer(org), "GET", "events?limit=5000", None, 200)
        .await;
    (teams, events)
}

async fn round_trip(p: &mut Plugin, org: i64, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut seen = Seen::default();
    if !ops.is_empty() {
        // Most calls name a team: start each case with them (ops replace and delete them).
        for id in TEAMS {
            p.call(
                p.admin(org),
                "POST",
                "teams",
                Some(json!({"id": id, "dashboards": [format!("slo-{}", &id[..1])]})),
            )
            .await;
        }
    }
    for op in ops {
        apply(p, org, op, &mut seen).await;
    }
    if ops.iter().any(|o| matches!(o, Op::View(..))) {
        // Passive views are written within 500 ms of the query that saw them.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    }
    let exported = export(p, org).await?;
    if std::env::var_os("MATURITY_ROUNDTRIP_DEBUG").is_some() {
        let kinds: Vec<String> = exported
            .iter()
            .map(|l| {
                format!(
                    "{}{}",
                    l["type"].as_str().unwrap_or("?"),
                    l["value"]["kind"]
                        .as_str()
                        .map(|k| format!(":{k}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        eprintln!("{} ops -> {} lines: {kinds:?}", ops.len(), exported.len());
    }
    let ndjson: String = exported.iter().map(|l| format!("{l}\n")).collect();
    let (status, report, _) = p
        .call_raw(p.admin(org + 1), "POST", "import", ndjson.into_bytes())
        .await;
    let report: Value = serde_json::from_slice(&report).unwrap_or(Value::Null);
    prop_assert_eq!(status, 200, "import answered {}", report);
    prop_assert_eq!(
        &report["rejected"],
        &json!(0),
        "the import refused what the API accepted: {}",
        report
    );
    prop_assert_eq!(&report["created"], &json!(exported.len()), "{}", report);
    let again = export(p, org + 1).await?;
    prop_assert_eq!(exported.len(), again.len());
    for (a, b) in exported.iter().zip(&again) {
        prop_assert_eq!(a, b, "a line changed on its way through import");
    }
    let (teams_a, events_a) = reads(p, org).await;
    let (teams_b, events_b) = reads(p, org + 1).await;
    prop_assert_eq!(teams_a, teams_b);
    prop_assert_eq!(events_a, events_b);
    Ok(())
}

#[test]
fn whatever_the_api_accepted_import_takes_back_from_export() {
    let cases: u32 = std::env::var("MATURITY_ROUNDTRIP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_d, db) = temp_store();
    let plugin = RefCell::new(runtime.block_on(Plugin::start(&db, &[])));
    let next_org = RefCell::new(1i64);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op(), 1..40), |ops| {
        let org = {
            let mut n = next_org.borrow_mut();
            *n += 2;
            *n
        };
        let mut p = plugin.borrow_mut();
        runtime.block_on(round_trip(&mut p, org, &ops))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The attack's own shapes, kept as they were found.
#[tokio::test]
async fn the_shapes_the_attack_found_survive_export_and_import() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let org = 10;
    p.ok(
        p.admin(org),
        "POST",
        "teams",
        Some(json!({"id": "alpha"})),
        201,
    )
    .await;
    let post = |body: Value| (body,);
    let bodies = [
        // An outcome whose decision is then deleted.
        post(
            json!([{"id": "d1", "kind": "decision", "team": "alpha", "time": 10},
                    {"id": "o1", "kind": "outcome", "team": "alpha", "time": 20,
                     "data": {"decisionId": "d1", "result": "confirmed"}}]),
        ),
        // An outcome timed before its decision.
        post(
            json!([{"id": "d2", "kind": "decision", "team": "alpha", "time": 500},
                    {"id": "o2", "kind": "outcome", "team": "alpha", "time": 100,
                     "data": {"decisionId": "d2", "result": "inconclusive"}}]),
        ),
        // A decision later edited to a time after its outcome.
        post(
            json!([{"id": "d3", "kind": "decision", "team": "alpha", "time": 30},
                    {"id": "o3", "kind": "outcome", "team": "alpha", "time": 40,
                     "data": {"decisionId": "d3", "result": "not_confirmed"}}]),
        ),
    ];
    for (b,) in bodies {
        p.ok(p.editor(org), "POST", "events", Some(b), 201).await;
    }
    p.ok(p.admin(org), "DELETE", "events/d1", None, 200).await;
    p.ok(
        p.editor(org),
        "PATCH",
        "events/d3",
        Some(json!({"time": 9000})),
        200,
    )
    .await;
    // A query nested deeper than the API takes is refused up front, never half-accepted.
    let deep = (0..125).fold(json!(1), |v, _| json!({"q": v}));
    let (status, body) = p
        .call(
            p.editor(org),
            "POST",
            "events",
            Some(json!({"kind": "question", "team": "alpha", "data": {"query": deep}})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("data")),
        "{body}"
    );
    let at_limit = (0..31).fold(json!(1), |v, _| json!({"q": v}));
    p.ok(
        p.editor(org),
        "POST",
        "events",
        Some(json!({"id": "q1", "kind": "question", "team": "alpha", "data": {"query": at_limit}})),
        201,
    )
    .await;
    round_trip(&mut p, org, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
