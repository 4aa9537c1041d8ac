//! Issue 11: fuzz targets for every parser of untrusted input, as property tests (proptest
//! fits better than `cargo fuzz` here: they run on the stable toolchain inside `cargo test`,
//! through the built binary where a request would come from Grafana). Each target replays
//! its committed corpus (`tests/fuzz/corpus/<target>/`: the shapes of the attack and of real
//! requests), then mutates it and generates fresh input for a bounded time:
//! `MATURITY_FUZZ_SECS` seconds per target (5 by default; CI runs the default).
//!
//! - `resource_bodies`: every body parser of the resource API (teams, events, batches,
//!   annotations, targets, actuals, verifications): a value or an error naming its field.
//! - `requests`: any method, path, query string and body through the binary: never a 5xx,
//!   always SPEC §3's error shape, and the process keeps answering.
//! - `query_json`: any query JSON, query type, time range and headers through the binary:
//!   an answer or an error on each query's own refId, never a 5xx.
//! - `json_data`: the datasource settings, parsed and through CheckHealth.
//! - `import_lines`: any NDJSON through `import`: every line accounted for, and what the
//!   import took, an export gives back and a second import takes whole.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use maturity::app::{input, App, AppSettings, Caller, Role};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use serde_json::{json, Map, Value};

fn budget() -> Duration {
    let secs = std::env::var("MATURITY_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(5.0);
    Duration::from_secs_f64(secs.max(0.1))
}

/// The committed corpus of a target: (file name, text).
fn corpus(target: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("corpus file");
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                text,
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "an empty corpus for {target}");
    files
}

/// The JSON seeds of a target (each file one value; an array file also gives each element).
fn seeds(target: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, text) in corpus(target) {
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Value::Array(items) = &v {
            out.extend(items.iter().cloned());
        }
        out.push(v);
    }
    out
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "*",
            "$__all",
            "review",
            "decision",
            "outcome",
            "note",
            "view",
            "metric-change",
            "payments",
            "t1",
            "d1",
            "met",
            "missed",
            "increase",
            "decrease",
            "confirmed",
            "2026-06-01T00:00:00Z",
            "1780000000000",
            "9223372036854775808",
            "-1",
            "NaN",
            "{a,b}",
            "a,b,,c",
            "\u{0}",
        ])
        .prop_map(Value::from),
        Just(Value::from("x".repeat(300))),
    ]
}

fn random_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "id",
                        "kind",
                        "time",
                        "timeEnd",
                        "team",
                        "dashboardUid",
                        "dashboardUID",
                        "panelId",
                        "text",
                        "tags",
                        "data",
                        "name",
                        "dashboards",
                        "members",
                        "cadenceDays",
                        "direction",
                        "baseline",
                        "target",
                        "startAt",
                        "deadline",
                        "query",
                        "actuals",
                        "verification",
                        "verdict",
                        "learnings",
                        "verifiedAt",
                        "value",
                        "decisionId",
                        "result",
                        "followUpAt",
                        "queryType",
                        "kinds",
                        "limit",
                        "measure",
                        "perDashboard",
                        "status",
                        "targetId",
                        "maturity",
                        "windowWeeks",
                        "reviewRatio",
                        "storage",
                        "viewSessionMinutes",
                        "type",
                    ])
                    .prop_map(String::from),
                    any::<String>(),
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, here: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if out.len() > 200 {
        return;
    }
    out.push(here.clone());
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(20) {
                let mut p = here.clone();
                p.push(Step::Index(i));
                paths(item, p, out);
            }
        }
        Value::Object(o) => {
            for (k, item) in o.iter().take(20) {
                let mut p = here.clone();
                p.push(Step::Key(k.clone()));
                paths(item, p, out);
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(o)) => o.get_mut(k)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A mutation: which kind, which node, and a value to use.
type Mutation = (u8, u32, Value);

fn mutate(seed: &Value, mutations: &[Mutation]) -> Value {
    let mut v = seed.clone();
    for (kind, which, with) in mutations {
        let mut all = Vec::new();
        paths(&v, Vec::new(), &mut all);
        let path = all[*which as usize % all.len()].clone();
        if let Some((last, parent)) = path.split_last() {
            if *kind % 8 == 1 {
                // Remove the node from its parent.
                match (last, at(&mut v, parent)) {
                    (Step::Key(k), Some(Value::Object(o))) => {
                        o.remove(k);
                    }
                    (Step::Index(i), Some(Value::Array(a))) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
                continue;
            }
        }
        let Some(node) = at(&mut v, &path) else {
            continue;
        };
        let old = node.clone();
        let new = match kind % 8 {
            0 | 1 => with.clone(),
            2 => json!([old]),
            3 => json!({"x": old, "y": with.clone()}),
            4 => Value::String(old.to_string()),
            5 if old.to_string().len() < 64 => Value::Array(vec![old; 1001]),
            6 => (0..40).fold(old, |inner, _| json!([inner])),
            _ => match old {
                Value::Object(mut o) => {
                    o.insert(format!("{which}"), with.clone());
                    Value::Object(o)
                }
                other => other,
            },
        };
        *node = new;
    }
    v
}

/// Fresh input for a target: a seed mutated, or random JSON.
fn input_from(seeds: Vec<Value>) -> impl Strategy<Value = Value> {
    let mutated = (
        prop::sample::select(seeds),
        prop::collection::vec((any::<u8>(), any::<u32>(), random_json()), 0..4),
    )
        .prop_map(|(seed, mutations)| mutate(&seed, &mutations));
    prop_oneof![3 => mutated, 1 => random_json()]
}

/// Runs `check` on each corpus seed, then on generated input until the budget is spent;
/// a failure is shrunk to a small input before it is reported.
fn fuzz<S: Strategy>(
    strategy: S,
    seeds: Vec<S::Value>,
    mut check: impl FnMut(&S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    use proptest::strategy::ValueTree;
    for s in &seeds {
        if let Err(e) = check(s) {
            panic!("a corpus seed fails: {e}\n{s:?}");
        }
    }
    let deadline = Instant::now() + budget();
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let mut ran = 0u64;
    while Instant::now() < deadline {
        let mut tree = strategy.new_tree(&mut runner).expect("a value");
        ran += 1;
        let Err(first) = check(&tree.current()) else {
            continue;
        };
        // Shrink: simplify while it still fails, step back when it passes.
        let (mut smallest, mut error) = (tree.current(), first);
        let mut failing = true;
        for _ in 0..2000 {
            let moved = if failing {
                tree.simplify()
            } else {
                tree.complicate()
            };
            if !moved {
                break;
            }
            match check(&tree.current()) {
                Err(e) => {
                    smallest = tree.current();
                    error = e;
                    failing = true;
                }
                Ok(()) => failing = false,
            }
        }
        panic!("{error}\nafter {ran} inputs; smallest failing input:\n{smallest:#?}");
    }
    eprintln!("{ran} generated inputs in {:?}", budget());
}

fn named(e: &maturity::model::Invalid) -> Result<(), TestCaseError> {
    prop_assert!(!e.field.is_empty(), "an error names its field: {e:?}");
    prop_assert!(
        !e.message.trim().is_empty(),
        "an error says what is wrong: {e:?}"
    );
    Ok(())
}

#[test]
fn fuzz_resource_bodies_give_a_value_or_an_error_naming_the_field() {
    let seeds = seeds("resource_bodies");
    fuzz(input_from(seeds.clone()), seeds, |v| {
        let mut errors = Vec::new();
        errors.extend(input::team(v, None).err());
        errors.extend(input::team(v, Some("payments")).err());
        errors.extend(input::event(v, "").err());
        errors.extend(input::event(v, "[3].").err());
        errors.extend(input::target(v).err());
        errors.extend(input::actuals(v, "actuals").err());
        errors.extend(input::verification(v, "verification.").err());
        if let Value::Array(items) = v {
            for (i, item) in items.iter().enumerate() {
                errors.extend(input::event(item, &format!("[{i}].")).err());
            }
        }
        for e in &errors {
            named(e)?;
        }
        if let Err(e) = maturity::app::annotation_to_event(v) {
            prop_assert!(!e.to_string().is_empty());
        }
        Ok(())
    });
}

#[test]
fn fuzz_json_data_gives_settings_or_an_error_naming_the_field() {
    let seeds = seeds("json_data");
    let env = maturity::plugin::settings::PathEnv {
        executable: Some(PathBuf::from("/var/lib/grafana/plugins/p/gpx_maturity")),
        ..Default::default()
    };
    fuzz(input_from(seeds.clone()), seeds, |v| {
        let mut secure = Map::new();
        if let Some(o) = v.get("secure").and_then(Value::as_object) {
            secure = o.clone();
        }
        if let Err(e) = maturity::plugin::settings::parse(v, &secure, &env) {
            named(&e)?;
        }
        Ok(())
    });
}

/// A request as the fuzzer sends it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    url: String,
    body: Vec<u8>,
    role: &'static str,
}

fn request_seeds() -> Vec<Request> {
    seeds("requests")
        .into_iter()
        .filter(|v| v.get("method").is_some())
        .map(|v| Request {
            method: v["method"].as_str().unwrap_or("GET").to_string(),
            url: v["url"].as_str().unwrap_or("").to_string(),
            body: match &v["body"] {
                Value::Null => Vec::new(),
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            },
            role: "Admin",
        })
        .collect()
}

fn requests() -> impl Strategy<Value = Request> {
    let routes = vec![
        "teams",
        "teams/payments",
        "teams/x",
        "events",
        "events/d1",
        "events/o1",
        "annotations",
        "targets",
        "targets/t1",
        "targets/t1/actuals",
        "targets/t1/verification",
        "maturity",
        "export",
        "import",
        "sync",
        "targets/t1/refresh",
        "",
    ];
    let params = prop::collection::vec(
        (
            prop::sample::select(vec![
                "kind",
                "team",
                "tags",
                "tag",
                "limit",
                "offset",
                "from",
                "to",
                "at",
                "status",
                "cascade",
                "dashboardUid",
                "dashboardUID",
                "x",
            ]),
            prop_oneof![
                any::<String>(),
                prop::sample::select(vec![
                    "",
                    "review",
                    "payments",
                    "1",
                    "0",
                    "-1",
                    "5001",
                    "18446744073709551616",
                    "true",
                    "2026-06-01T00:00:00Z",
                    "a,b,c",
                    "%00",
                    "%ff",
                    "on_track",
                ])
                .prop_map(String::from),
            ],
        ),
        0..5,
    );
    let bodies = prop_oneof![
        Just(Vec::new()),
        input_from(seeds("resource_bodies")).prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
        input_from(import_line_values()).prop_map(|v| format!("{v}\n{v}\n").into_bytes()),
    ];
    (
        prop::sample::select(vec![
            "GET", "POST", "PUT", "PATCH", "DELETE", "get", "HEAD", "BREW",
        ]),
        prop::sample::select(routes),
        params,
        bodies,
        prop::sample::select(vec!["Admin", "Editor", "Viewer", "None", ""]),
    )
        .prop_map(|(method, route, params, body, role)| {
            let query: Vec<String> = params
                .iter()
                .map(|(k, v)| {
                    let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                    format!("{k}={v}")
                })
                .collect();
            Request {
                method: method.to_string(),
                url: if query.is_empty() {
                    route.to_string()
                } else {
                    format!("{route}?{}", query.join("&"))
                },
                body,
                role,
            }
        })
}

/// The body of `POST /import` seeds are lines; as JSON values for the request fuzzer.
fn import_line_values() -> Vec<Value> {
    corpus("import_lines")
        .iter()
        .flat_map(|(_, text)| {
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn fuzz_requests_through_the_binary_never_fail_the_process_or_answer_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_d, db) = temp_store();
    let plugin = std::cell::RefCell::new(runtime.block_on(async {
        let mut p = Plugin::start(&db, &[]).await;
        p.ok(p.admin(1), "POST", "teams", Some(json!({"id": "payments", "dashboards": ["slo-payments"]})), 201)
            .await;
        p.ok(p.admin(1), "POST", "targets", Some(json!({"id": "t1", "team": "payments", "name": "n", "direction": "increase"})), 201)
            .await;
        p.ok(p.admin(1), "POST", "events", Some(json!([{"id": "d1", "kind": "decision", "team": "payments"},
            {"id": "o1", "kind": "outcome", "team": "payments", "data": {"decisionId": "d1", "result": "confirmed"}}])), 201)
            .await;
        p
    }));
    fuzz(requests(), request_seeds(), |r| {
        let mut p = plugin.borrow_mut();
        runtime.block_on(async {
            let ctx = if r.role.is_empty() {
                p.ctx(1, None)
            } else {
                p.ctx(1, Some(("fuzz", r.role)))
            };
            let (status, body, _) = p.call_raw(ctx, &r.method, &r.url, r.body.clone()).await;
            prop_assert!(
                (200..500).contains(&status),
                "{} {} answered {status}: {}",
                r.method,
                r.url,
                String::from_utf8_lossy(&body)
            );
            if status >= 400 {
                let v: Value = serde_json::from_slice(&body).map_err(|e| {
                    TestCaseError::fail(format!("an error body that is not JSON: {e}"))
                })?;
                prop_assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
                if status == 400 {
                    prop_assert!(v["field"].is_string(), "a 400 names its field: {v}");
                }
            }
            Ok(())
        })
    });
    let mut p = plugin.borrow_mut();
    let admin = p.admin(1);
    let h = runtime.block_on(p.health(admin));
    assert_eq!(h.status, 1, "still healthy: {}", h.message);
}

#[test]
fn fuzz_query_json_through_the_binary_answers_each_query_on_its_own_ref_id() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_d, db) = temp_store();
    let plugin = std::cell::RefCell::new(runtime.block_on(async {
        let mut p = Plugin::start(&db, &[]).await;
        p.ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": "payments", "dashboards": ["slo-payments"]})),
            201,
        )
        .await;
        p.ok(
            p.admin(1),
            "POST",
            "events",
            Some(
                json!([{"kind": "review", "team": "payments", "time": 1_779_000_000_000i64},
            {"kind": "decision", "team": "payments", "time": 1_779_000_000_000i64}]),
            ),
            201,
        )
        .await;
        p
    }));
    let types: Vec<String> = maturity::plugin::queries::QUERY_TYPES
        .iter()
        .map(|d| d.query_type.to_string())
        .chain(["", "vote", "Maturity"].map(String::from))
        .collect();
    let times = prop::sample::select(vec![
        0i64,
        -1,
        1_780_000_000_000,
        1_779_000_000_000,
        253_402_300_799_999,
        -62_135_596_800_000,
        i64::MAX,
        i64::MIN,
    ]);
    let one = (
        prop::sample::select(types),
        input_from(seeds("query_json")),
        times.clone(),
        times,
        prop::sample::select(vec![0i64, 1, 60_000, 86_400_000, i64::MAX]),
    );
    let strategy = (
        prop::collection::vec(one, 1..4),
        prop::sample::select(vec!["", "slo-payments", "x"]),
        any::<bool>(),
    );
    let seed_queries: Vec<_> = seeds("query_json")
        .into_iter()
        .map(|v| {
            let qt = v["queryType"].as_str().unwrap_or("").to_string();
            (
                vec![(qt, v, 1_779_000_000_000i64, 1_780_000_000_000i64, 60_000i64)],
                "slo-payments",
                false,
            )
        })
        .collect();
    fuzz(strategy, seed_queries, |(queries, dashboard, alert)| {
        let mut p = plugin.borrow_mut();
        runtime.block_on(async {
            let qs: Vec<_> = queries
                .iter()
                .enumerate()
                .map(|(i, (qt, json, from, to, interval))| {
                    let mut q = query(&format!("Q{i}"), qt, json.clone(), *from, *to);
                    q.interval_ms = *interval;
                    q
                })
                .collect();
            let mut headers = vec![("http_X-Panel-Id", "3")];
            if !dashboard.is_empty() {
                headers.push(("http_X-Dashboard-Uid", dashboard));
            }
            if *alert {
                headers.push(("FromAlert", "true"));
            }
            let viewer = p.ctx(1, Some(("fuzz", "Viewer")));
            let resp = p.query(viewer, &headers, qs).await;
            prop_assert_eq!(resp.responses.len(), queries.len(), "an answer per refId");
            for (ref_id, r) in &resp.responses {
                if !r.error.is_empty() {
                    prop_assert!(
                        (400..500).contains(&r.status),
                        "{ref_id} failed with {}: {}",
                        r.status,
                        r.error
                    );
                }
            }
            Ok(())
        })
    });
}

#[test]
fn fuzz_import_lines_account_for_every_line_and_what_goes_in_comes_back() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_d, db) = temp_store();
    let store = maturity::store::sqlite::SqliteStore::open(&db).expect("store");
    let app = App::new(
        Arc::new(store),
        AppSettings::default(),
        Arc::new(|| 1_780_000_000_000),
    );
    let lines = import_line_values();
    let line = prop_oneof![
        4 => input_from(lines.clone()).prop_map(|v| v.to_string()),
        1 => any::<String>().prop_map(|s| s.replace('\n', " ")),
    ];
    let seed_text: Vec<Vec<String>> = corpus("import_lines")
        .into_iter()
        .map(|(_, text)| text.lines().map(String::from).collect())
        .collect();
    let org = std::cell::Cell::new(0i64);
    fuzz(prop::collection::vec(line, 1..12), seed_text, |lines| {
        org.set(org.get() + 2);
        let admin = |org| Caller {
            org,
            user: Some(("fuzz".to_string(), Role::Admin)),
        };
        runtime.block_on(async {
            let text = lines.join("\n");
            let report = app
                .import(&admin(org.get()), &text)
                .await
                .map_err(|e| TestCaseError::fail(format!("import failed as a whole: {e}")))?;
            let non_blank = text.lines().filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(
                report.created + report.skipped + report.rejected,
                non_blank,
                "every line accounted for: {:?}",
                report
            );
            prop_assert_eq!(report.errors.len(), report.rejected);
            let exported = app
                .export(&admin(org.get()))
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = app
                .import(&admin(org.get() + 1), &exported)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                again.rejected,
                0,
                "what the import took comes back: {:?}",
                again.errors
            );
            let second = app
                .export(&admin(org.get() + 1))
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(exported, second);
            Ok(())
        })
    });
}
