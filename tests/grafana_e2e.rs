//! Evidence from Grafana end to end through the running binary (issue 12), with a fake
//! Grafana (tests/fake_grafana) as the datasource's `jsonData.grafanaUrl` and the real clock:
//! a tagged annotation on a dashboard whose panels query Prometheus (never this datasource)
//! becomes the team's decision, shows in the `events` annotation query and in the ladder; a
//! dashboard version moves level 5's criterion; a target with a query gets its actual and
//! changes status; a decision with a query gets a suggested result that `followUps` shows;
//! and the token appears nowhere in the plugin's log (its standard error, at debug level).

mod common;
mod fake_grafana;

use std::process::Stdio;

use common::*;
use fake_grafana::{fixture, FakeGrafana};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const TOKEN: &str = "glsa_e2e_never_in_logs_5f3a9c1d7e";

fn criterion(m: &Value, id: &str) -> Value {
    m[0]["criteria"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id).cloned())
        .unwrap_or_else(|| panic!("no criterion {id} in {m}"))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn evidence_from_grafana_reaches_the_ladder_the_annotations_targets_and_follow_ups() {
    let g = FakeGrafana::start(TOKEN).await;
    let now = now_ms();
    let decided = now - 31 * DAY;
    // The target's query answers the Go SDK's time series (last value 8.5); the decision's
    // query a mean of 2.1 before the decision and 2.35 since.
    g.on_query(move |body| {
        let q = &body["queries"][0];
        match q["expr"].as_str().unwrap_or_default() {
            "declines" => {
                let to: i64 = body["to"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                fixture(if to <= decided {
                    "mean-2.1"
                } else {
                    "mean-2.35"
                })
            }
            expr => fixture(expr.trim_start_matches("fixture:")),
        }
    });
    // On the payments team's SLO dashboard, whose panels all query Prometheus: a review and a
    // decision written as annotations during the review, two days ago.
    g.annotate(
        Some("slo-payments"),
        now - 2 * DAY - 3_600_000,
        "Weekly review",
        &["review"],
        "bob",
    );
    let decision = g.annotate(
        Some("slo-payments"),
        now - 2 * DAY,
        "Decision: roll back the cache change, check again in two weeks",
        &["decision"],
        "alice",
    );
    // Dashboard saves: one before the window, one 40 days ago, one 5 days ago.
    g.save_dashboard("slo-payments", now - 400 * DAY, "", "alice");
    g.save_dashboard(
        "slo-payments",
        now - 40 * DAY,
        "Add p99 latency panel",
        "alice",
    );
    g.save_dashboard(
        "slo-payments",
        now - 5 * DAY,
        "Alert threshold at 300 ms",
        "bob",
    );

    let (dir, db) = temp_store();
    let log_path = dir.path().join("plugin.stderr");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut p = Plugin::start_with_stderr(
        &db,
        &[("RUST_LOG", "debug"), ("GF_APP_URL", &g.url)],
        Stdio::from(log),
    )
    .await;
    p.set_json_data(json!({"grafanaUrl": g.url}));
    p.secure.insert("serviceAccountToken".into(), TOKEN.into());

    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments", "name": "Payments", "dashboards": ["slo-payments"]})),
        201,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "targets",
        Some(json!({"id": "p95", "team": "payments", "name": "Checkout p95", "direction": "decrease",
                    "baseline": 10, "target": 8, "startAt": now - 30 * DAY, "deadline": now + 70 * DAY,
                    "query": {"datasourceUid": "prometheus", "model": {"expr": "fixture:timeseries"}}})),
        201,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "targets",
        Some(
            json!({"id": "logs", "team": "payments", "name": "Log lines", "direction": "decrease",
                    "query": {"datasourceUid": "loki", "model": {"expr": "fixture:strings-only"}}}),
        ),
        201,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"id": "d-retries", "kind": "decision", "team": "payments", "time": decided,
                    "text": "Retry soft declines once",
                    "data": {"followUpAt": now - DAY,
                             "expectedEffect": {"direction": "decrease"},
                             "query": {"datasourceUid": "prometheus", "model": {"expr": "declines"}}}})),
        201,
    )
    .await;

    // Before: no metric change, the target off track (no actual after a quarter of its time).
    let before = p
        .ok(p.viewer(1), "GET", "maturity?team=payments", None, 200)
        .await;
    assert_eq!(criterion(&before, "regular_adjustments")["passed"], false);
    assert_eq!(
        p.ok(p.viewer(1), "GET", "targets/p95", None, 200).await["status"],
        "off_track"
    );

    let report = p.ok(p.editor(1), "POST", "sync", None, 200).await;
    assert!(report["annotations"].is_object(), "{report}");
    let failed = report["failed"].as_array().cloned().unwrap_or_default();
    assert!(
        failed
            .iter()
            .all(|f| f["id"] == "logs" && f["fault"] == "query"),
        "only the query without numbers fails: {report}"
    );

    // The annotation is the team's decision, in the events annotation query …
    let t = now_ms();
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query(
                "Anno",
                "events",
                json!({"kinds": ["decision"], "team": "payments"}),
                now - 7 * DAY,
                t,
            )],
        )
        .await;
    let f = frames_of(&resp, "Anno").expect("events").remove(0);
    let ids = f.field("id").column.strs();
    let row = ids
        .iter()
        .position(|i| *i == format!("grafana:{decision}"))
        .unwrap_or_else(|| panic!("the decision in {ids:?}"));
    assert_eq!(f.field("team").column.strs()[row], "payments");
    assert_eq!(f.field("dashboardUID").column.strs()[row], "slo-payments");
    assert_eq!(f.field("login").column.strs()[row], "alice");
    assert!(f.field("text").column.strs()[row].starts_with("Decision: roll back"));
    // … and in the ladder: level 6 counts it as a decision in a reviewed period; the two
    // dashboard saves inside the window pass level 5's criterion.
    let after = p
        .ok(p.viewer(1), "GET", "maturity?team=payments", None, 200)
        .await;
    let acting = criterion(&after, "acting_on_metrics");
    assert!(
        acting["evidence"]
            .as_array()
            .is_some_and(|e| e.contains(&json!(format!("grafana:{decision}")))),
        "{acting}"
    );
    let adjustments = criterion(&after, "regular_adjustments");
    assert_eq!(adjustments["passed"], true, "{adjustments}");
    assert_eq!(
        adjustments["evidence"],
        json!(["grafana-dash:slo-payments:2", "grafana-dash:slo-payments:3"])
    );
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("C", "criteria", json!({"team": "payments"}), now - DAY, t),
                query(
                    "F",
                    "followUps",
                    json!({"team": "payments"}),
                    now - 60 * DAY,
                    t,
                ),
                query("T", "targets", json!({"team": "payments"}), now - DAY, t),
            ],
        )
        .await;
    let c = frames_of(&resp, "C").expect("criteria").remove(0);
    let crit = c.field("criterion").column.strs();
    let at = crit
        .iter()
        .position(|x| x == "regular_adjustments")
        .expect("row");
    assert!(c.field("passed").column.bools()[at]);

    // The target got its actual from Grafana and is on track; the other keeps its error.
    let p95 = p.ok(p.viewer(1), "GET", "targets/p95", None, 200).await;
    assert_eq!(p95["latestActual"], 8.5, "{p95}");
    assert_eq!(p95["status"], "on_track", "{p95}");
    let tf = frames_of(&resp, "T").expect("targets").remove(0);
    let tids = tf.field("id").column.strs();
    let logs_row = tids.iter().position(|i| i == "logs").expect("logs row");
    assert!(tf.field("last_error").column.strs()[logs_row].contains("no numeric field"));
    let sources: Vec<String> = rusqlite::Connection::open(&db)
        .expect("store")
        .prepare("SELECT source FROM actuals WHERE target_id = 'p95'")
        .expect("stmt")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("sources");
    assert_eq!(sources, ["grafana"]);

    // The decision with a query got its suggested result, which followUps shows.
    let fu = frames_of(&resp, "F").expect("followUps").remove(0);
    let fids = fu.field("id").column.strs();
    let d = fids
        .iter()
        .position(|i| i == "d-retries")
        .expect("decision row");
    assert_eq!(
        fu.field("suggested_result").column.strs()[d],
        "not_confirmed"
    );
    assert_eq!(fu.field("suggested_before").column.nums()[d], 2.1);
    assert_eq!(fu.field("suggested_after").column.nums()[d], 2.35);
    let stored = p
        .ok(p.viewer(1), "GET", "events/d-retries", None, 200)
        .await;
    assert_eq!(
        stored["data"]["suggestedOutcome"]["result"],
        "not_confirmed"
    );

    // CheckHealth: the token works; a datasource without grafanaUrl finds Grafana by GF_APP_URL.
    let h = p.health(p.editor(1)).await;
    assert_eq!(h.status, 1, "{}", h.message);
    assert!(h.message.contains("takes the token"), "{}", h.message);
    let main_uid = std::mem::replace(&mut p.uid, "by-app-url".into());
    p.set_json_data(json!({}));
    let h = p.health(p.editor(1)).await;
    assert!(
        h.message
            .contains(&format!("Grafana at {}/ takes the token", g.url)),
        "{}",
        h.message
    );
    p.uid = main_uid;
    p.set_json_data(json!({"grafanaUrl": g.url}));

    // A rotated token: every call fails, and says so — the log still holds no token.
    g.set_token("glsa_rotated_token");
    let report = p.ok(p.editor(1), "POST", "sync", None, 200).await;
    assert!(
        report["failed"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["fault"] == "token")),
        "{report}"
    );
    let status = p.shutdown().await;
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        log.contains("Grafana sync"),
        "the log was captured: {log:.2000}"
    );
    assert!(
        log.contains("rejected the service account token"),
        "{log:.2000}"
    );
    assert!(!log.contains(TOKEN), "the token is in the plugin's log");
    assert!(
        !log.contains("glsa_e2e"),
        "a part of the token is in the plugin's log"
    );
    // Every request carried it, as a bearer token, to the fake only.
    assert!(g
        .requests()
        .iter()
        .take(3)
        .all(|r| r.authorization == format!("Bearer {TOKEN}")));
}
