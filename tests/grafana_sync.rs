//! The Grafana sync (issue 12) through the plugin's own server, with a fake Grafana as
//! `jsonData.grafanaUrl` and a clock the test hands in: imported annotations (twice = once,
//! edits and deletions in Grafana reflected), dashboard versions as metric changes, live
//! actuals and their failures kept on the target, suggested outcomes, CheckHealth on the
//! token and its permissions, who may sync, and the schedule (on its own, resumed after a
//! restart, stopped with a replaced instance, never twice at once).

mod common;
mod fake_grafana;

use std::time::Duration;

use common::*;
use fake_grafana::{all_permissions, fixture, FakeGrafana, VersionsShape};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;
const TOKEN: &str = "glsa_sync_test_token_0123456789";

fn now() -> i64 {
    ms("2026-06-01T00:00:00Z")
}

/// A plugin whose datasource has the fake as its Grafana and the token.
async fn plugin(db: &std::path::Path, g: &FakeGrafana) -> Plugin {
    plugin_at(db, g, now()).await
}

/// The same, with its clock at `at` (what it stored at `now()` counts before `at`).
async fn plugin_at(db: &std::path::Path, g: &FakeGrafana, at: i64) -> Plugin {
    let mut p = Plugin::start_at(db, at).await;
    p.set_json_data(json!({"grafanaUrl": g.url}));
    p.secure
        .insert("serviceAccountToken".into(), TOKEN.to_string());
    p
}

async fn sync(p: &mut Plugin) -> Value {
    p.ok(p.editor(1), "POST", "sync", None, 200).await
}

async fn teams(p: &mut Plugin) {
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
        "teams",
        Some(json!({"id": "search", "dashboards": ["slo-search"]})),
        201,
    )
    .await;
}

#[tokio::test]
async fn importing_twice_changes_nothing_and_edits_and_deletions_in_grafana_are_reflected() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    let t = now() - 3 * DAY;
    let decision = g.annotate(
        Some("slo-payments"),
        t,
        "Decision: roll back the cache change, check again in two weeks",
        &["decision"],
        "alice",
    );
    let review = g.annotate(
        None,
        t - DAY,
        "Weekly review",
        &["review", "team:search"],
        "bob",
    );
    let outcome_tags = format!("decision:grafana:{decision}");
    let outcome = g.annotate(
        Some("slo-payments"),
        t + DAY,
        "Rollback helped",
        &["outcome", &outcome_tags, "result:confirmed"],
        "alice",
    );
    let nowhere = g.annotate(
        Some("prom-only"),
        t,
        "Decision elsewhere",
        &["decision"],
        "carol",
    );
    g.annotate(Some("slo-payments"), t, "deploy 4.2", &["deploy"], "ci");
    let old = g.annotate(
        Some("slo-payments"),
        now() - 400 * DAY,
        "long ago",
        &["decision"],
        "x",
    );

    let first = sync(&mut p).await;
    assert_eq!(first["annotations"]["stored"], 3, "{first}");
    assert_eq!(first["annotations"]["skipped"], 1, "{first}");
    assert_eq!(first["skipped"][0]["id"], nowhere.to_string());
    assert!(
        first["skipped"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("prom-only"),
        "{first}"
    );
    assert_eq!(first["failed"], json!([]), "{first}");
    let d = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("events/grafana:{decision}"),
            None,
            200,
        )
        .await;
    assert_eq!(
        (
            &d["kind"],
            &d["team"],
            &d["source"],
            &d["user"],
            &d["dashboardUid"]
        ),
        (
            &json!("decision"),
            &json!("payments"),
            &json!("grafana"),
            &json!("alice"),
            &json!("slo-payments")
        )
    );
    let o = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("events/grafana:{outcome}"),
            None,
            200,
        )
        .await;
    assert_eq!(
        o["data"],
        json!({"decisionId": format!("grafana:{decision}"), "result": "confirmed"})
    );
    let r = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("events/grafana:{review}"),
            None,
            200,
        )
        .await;
    assert_eq!(r["team"], "search");
    p.ok(
        p.viewer(1),
        "GET",
        &format!("events/grafana:{old}"),
        None,
        404,
    )
    .await;

    // Twice: nothing twice.
    let second = sync(&mut p).await;
    assert_eq!(
        (
            &second["annotations"]["stored"],
            &second["annotations"]["updated"],
            &second["annotations"]["removed"],
            &second["annotations"]["unchanged"]
        ),
        (&json!(0), &json!(0), &json!(0), &json!(3)),
        "{second}"
    );
    let all = p
        .ok(p.viewer(1), "GET", "events?limit=100", None, 200)
        .await;
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");

    // Edited in Grafana: updated here; deleted in Grafana: removed here.
    g.edit(
        decision,
        "Decision: roll back, check in ten days",
        &["decision", "cache"],
    );
    g.delete(review);
    let third = sync(&mut p).await;
    assert_eq!(third["annotations"]["updated"], 1, "{third}");
    assert_eq!(third["annotations"]["removed"], 1, "{third}");
    assert_eq!(third["removed"], 1);
    let d = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("events/grafana:{decision}"),
            None,
            200,
        )
        .await;
    assert_eq!(d["text"], "Decision: roll back, check in ten days");
    assert_eq!(d["tags"], json!(["decision", "cache"]));
    p.ok(
        p.viewer(1),
        "GET",
        &format!("events/grafana:{review}"),
        None,
        404,
    )
    .await;

    // An outcome naming a decision that does not exist is skipped with the reason.
    g.annotate(
        Some("slo-payments"),
        t + 2 * DAY,
        "orphan",
        &["outcome", "decision:nope", "result:confirmed"],
        "alice",
    );
    let fourth = sync(&mut p).await;
    assert!(
        fourth["skipped"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("decision:nope")),
        "{fourth}"
    );
}

#[tokio::test]
async fn a_page_that_fails_removes_nothing() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    let a = g.annotate(
        Some("slo-payments"),
        now() - DAY,
        "d",
        &["decision"],
        "alice",
    );
    assert_eq!(sync(&mut p).await["annotations"]["stored"], 1);
    g.fail("/api/annotations", 500, 10);
    let failed = sync(&mut p).await;
    assert_eq!(failed["failed"][0]["what"], "annotations", "{failed}");
    assert_eq!(failed["failed"][0]["fault"], "grafana", "{failed}");
    assert_eq!(failed["removed"], 0);
    p.ok(
        p.viewer(1),
        "GET",
        &format!("events/grafana:{a}"),
        None,
        200,
    )
    .await;
}

#[tokio::test]
async fn each_new_dashboard_version_is_a_metric_change_once_and_moves_level_5() {
    for shape in [VersionsShape::List, VersionsShape::Object] {
        let g = FakeGrafana::start(TOKEN).await;
        g.set_versions_shape(shape);
        let (_d, db) = temp_store();
        let mut p = plugin(&db, &g).await;
        teams(&mut p).await;
        g.save_dashboard("slo-payments", now() - 400 * DAY, "", "alice");
        g.save_dashboard(
            "slo-payments",
            now() - 40 * DAY,
            "Add p99 latency panel",
            "alice",
        );
        let adjustments = |m: &Value| {
            m[0]["criteria"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["id"] == "regular_adjustments").cloned())
                .unwrap_or_default()
        };
        let before = p
            .ok(p.viewer(1), "GET", "maturity?team=payments", None, 200)
            .await;
        assert_eq!(
            adjustments(&before)["value"].as_f64(),
            Some(0.0),
            "{shape:?}"
        );

        let r = sync(&mut p).await;
        assert_eq!(r["dashboardVersions"]["stored"], 1, "{shape:?}: {r}");
        let e = p
            .ok(
                p.viewer(1),
                "GET",
                "events/grafana-dash:slo-payments:2",
                None,
                200,
            )
            .await;
        assert_eq!(
            (
                &e["kind"],
                &e["team"],
                &e["text"],
                &e["user"],
                &e["source"],
                &e["data"]["change"]
            ),
            (
                &json!("metric_change"),
                &json!("payments"),
                &json!("Add p99 latency panel"),
                &json!("alice"),
                &json!("grafana"),
                &json!("changed")
            )
        );
        assert_eq!(
            sync(&mut p).await["dashboardVersions"]["stored"],
            0,
            "the cursor holds"
        );
        g.save_dashboard(
            "slo-payments",
            now() - 5 * DAY,
            "Threshold at 300 ms",
            "bob",
        );
        drop(p);
        // After a restart the cursor is still there: only the new version.
        let mut p = plugin(&db, &g).await;
        let r = sync(&mut p).await;
        assert_eq!(r["dashboardVersions"]["stored"], 1, "{shape:?}: {r}");
        let after = p
            .ok(p.viewer(1), "GET", "maturity?team=payments", None, 200)
            .await;
        let c = adjustments(&after);
        assert_eq!(
            c["passed"], true,
            "{shape:?}: two of three 28-day blocks: {c}"
        );
        assert_eq!(
            c["evidence"],
            json!(["grafana-dash:slo-payments:2", "grafana-dash:slo-payments:3"]),
            "{c}"
        );
        // A dashboard Grafana does not know: a failure naming it, the rest goes on.
        g.remove_dashboard("gone");
        p.ok(
            p.admin(1),
            "PUT",
            "teams/search",
            Some(json!({"dashboards": ["gone"]})),
            200,
        )
        .await;
        let r = sync(&mut p).await;
        assert_eq!(r["failed"][0]["id"], "gone", "{r}");
    }
}

#[tokio::test]
async fn a_target_with_a_query_gets_live_actuals_and_a_failure_stays_on_it_until_it_works() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    let target = |id: &str, expr: &str| {
        json!({"id": id, "team": "payments", "name": id, "direction": "decrease",
               "baseline": 10, "target": 8, "startAt": now() - 30 * DAY, "deadline": now() + 70 * DAY,
               "query": {"datasourceUid": "prom", "model": {"expr": expr}}})
    };
    p.ok(
        p.editor(1),
        "POST",
        "targets",
        Some(target("latency", "fixture:timeseries")),
        201,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "targets",
        Some(target("logs", "fixture:strings-only")),
        201,
    )
    .await;
    let t = p.ok(p.viewer(1), "GET", "targets/latency", None, 200).await;
    assert_eq!(
        t["status"], "off_track",
        "no actual after a quarter of the time"
    );

    let r = sync(&mut p).await;
    assert_eq!(r["actuals"]["stored"], 1, "{r}");
    assert_eq!(r["failed"][0]["id"], "logs", "{r}");
    assert_eq!(r["failed"][0]["fault"], "query", "{r}");
    // A minute later, the actual measured now counts: on track (8.5 against a plan of 9.4).
    drop(p);
    let mut p = plugin_at(&db, &g, now() + MINUTE).await;
    let t = p.ok(p.viewer(1), "GET", "targets/latency", None, 200).await;
    assert_eq!(t["actuals"], json!([{"time": now(), "value": 8.5}]));
    assert_eq!(t["status"], "on_track", "{t}");
    assert!(t.get("lastError").is_none(), "{t}");
    // The query Grafana was sent: the last interval (an hour at least) up to now.
    let asked = &g.requests_to("/api/ds/query")[0].body;
    assert_eq!(asked["to"], now().to_string());
    assert_eq!(asked["from"], (now() - 3_600_000).to_string());
    assert_eq!(asked["queries"][0]["datasource"]["uid"], "prom");

    let logs = p.ok(p.viewer(1), "GET", "targets/logs", None, 200).await;
    assert_eq!(logs["lastError"]["fault"], "query", "{logs}");
    assert_eq!(logs["lastError"]["at"], now());
    assert!(
        logs["lastError"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no numeric field"),
        "{logs}"
    );
    // The targets query and CheckHealth show it too.
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query("T", "targets", json!({}), now() - DAY, now())],
        )
        .await;
    let f = frames_of(&resp, "T").expect("targets").remove(0);
    let ids = f.field("id").column.strs();
    let errors = f.field("last_error").column.strs();
    let of = |id: &str| errors[ids.iter().position(|i| i == id).expect("row")].clone();
    assert!(of("logs").contains("no numeric field"), "{errors:?}");
    assert_eq!(of("latency"), "");
    let h = p.health(p.editor(1)).await;
    assert!(
        h.message
            .contains("1 target(s) failed their last live query: logs:"),
        "{}",
        h.message
    );

    // A wrong token: the failure says so, on the target.
    g.set_token("glsa_rotated");
    p.ok(p.editor(1), "POST", "targets/latency/refresh", None, 200)
        .await;
    let t = p.ok(p.viewer(1), "GET", "targets/latency", None, 200).await;
    assert_eq!(t["lastError"]["fault"], "token", "{t}");
    g.set_token(TOKEN);
    // Fixed in the target, refreshed on demand: the error is gone.
    p.ok(
        p.editor(1),
        "PATCH",
        "targets/logs",
        Some(json!({"query": {"datasourceUid": "prom", "model": {"expr": "fixture:int-table"}}})),
        200,
    )
    .await;
    let t = p
        .ok(p.editor(1), "POST", "targets/logs/refresh", None, 200)
        .await;
    assert!(t.get("lastError").is_none(), "{t}");
    assert_eq!(
        t["actuals"],
        json!([{"time": now() + MINUTE, "value": 7.0}])
    );
    // Refresh needs an Editor, a target with a query, and an existing target.
    p.ok(p.viewer(1), "POST", "targets/logs/refresh", None, 403)
        .await;
    p.ok(p.editor(1), "POST", "targets/nope/refresh", None, 400)
        .await;
    p.ok(
        p.editor(1),
        "POST",
        "targets",
        Some(
            json!({"id": "free", "team": "payments", "name": "free", "direction": "increase",
                    "query": "rate(orders_total[5m])"}),
        ),
        201,
    )
    .await;
    let (status, body) = p
        .call(p.editor(1), "POST", "targets/free/refresh", None)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("query")),
        "{body}"
    );
}

#[tokio::test]
async fn a_due_decision_with_a_query_gets_a_suggested_outcome_until_a_person_posts_one() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    let decided = now() - 31 * DAY;
    // Before the decision the query answers a mean of 2.1, since it 2.35.
    g.on_query(move |body| {
        let to: i64 = body["to"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        fixture(if to <= decided {
            "mean-2.1"
        } else {
            "mean-2.35"
        })
    });
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(
            json!({"id": "d-retries", "kind": "decision", "team": "payments", "time": decided,
                    "text": "Retry soft declines",
                    "data": {"followUpAt": now() - DAY,
                             "expectedEffect": {"direction": "decrease", "text": "fewer declines"},
                             "query": {"datasourceUid": "prom", "model": {"expr": "declines"}}}}),
        ),
        201,
    )
    .await;
    // Not due yet: nothing suggested.
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(
            json!({"id": "d-later", "kind": "decision", "team": "payments", "time": now() - DAY,
                    "data": {"expectedEffect": {"direction": "increase"},
                             "query": {"datasourceUid": "prom", "model": {"expr": "declines"}}}}),
        ),
        201,
    )
    .await;
    let r = sync(&mut p).await;
    assert_eq!(r["suggestions"]["stored"], 1, "{r}");
    let d = p
        .ok(p.viewer(1), "GET", "events/d-retries", None, 200)
        .await;
    assert_eq!(
        d["data"]["suggestedOutcome"],
        json!({"result": "not_confirmed", "before": 2.1, "after": 2.35, "evaluatedAt": now()})
    );
    // The periods asked: 30 days before the decision, and the 30 days since.
    let ranges: Vec<(String, String)> = g
        .requests_to("/api/ds/query")
        .iter()
        .map(|r| {
            (
                r.body["from"].as_str().unwrap_or_default().to_string(),
                r.body["to"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        [
            ((decided - 30 * DAY).to_string(), decided.to_string()),
            (decided.to_string(), (now() - DAY).to_string())
        ]
    );
    // A minute later, followUps shows it; the agenda offers it; the decision is still open.
    drop(p);
    let mut p = plugin_at(&db, &g, now() + MINUTE).await;
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("F", "followUps", json!({}), now() - 60 * DAY, now()),
                query("A", "reviewAgenda", json!({}), now() - DAY, now() + 1),
            ],
        )
        .await;
    let f = frames_of(&resp, "F").expect("followUps").remove(0);
    let ids = f.field("id").column.strs();
    let row = ids.iter().position(|i| i == "d-retries").expect("row");
    assert_eq!(
        f.field("suggested_result").column.strs()[row],
        "not_confirmed"
    );
    assert_eq!(f.field("suggested_before").column.nums()[row], 2.1);
    assert_eq!(f.field("suggested_after").column.nums()[row], 2.35);
    assert_eq!(f.field("status").column.strs()[row], "overdue");
    let later = ids.iter().position(|i| i == "d-later").expect("row");
    assert_eq!(f.field("suggested_result").column.strs()[later], "");
    let a = frames_of(&resp, "A").expect("reviewAgenda").remove(0);
    let items = a.field("item").column.strs();
    let subjects = a.field("subject").column.strs();
    assert!(
        items
            .iter()
            .zip(&subjects)
            .any(|(i, s)| i == "outcome_suggested" && s == "d-retries"),
        "{items:?} {subjects:?}"
    );
    // Again: nothing new. A person posts the outcome: done, suggestion no longer shown.
    assert_eq!(sync(&mut p).await["suggestions"]["stored"], 0);
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"kind": "outcome", "team": "payments", "time": now(),
                    "data": {"decisionId": "d-retries", "result": "not_confirmed"}})),
        201,
    )
    .await;
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query(
                "F",
                "followUps",
                json!({}),
                now() - 60 * DAY,
                now() + MINUTE,
            )],
        )
        .await;
    let f = frames_of(&resp, "F").expect("followUps").remove(0);
    let row = f
        .field("id")
        .column
        .strs()
        .iter()
        .position(|i| i == "d-retries")
        .expect("row");
    assert_eq!(f.field("status").column.strs()[row], "done");
    assert_eq!(f.field("suggested_result").column.strs()[row], "");
    // A decision whose query is half of the shape is refused on input.
    let (status, body) = p
        .call(
            p.editor(1),
            "POST",
            "events",
            Some(json!({"kind": "decision", "team": "payments",
                        "data": {"query": {"datasourceUid": "prom"}}})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("data.query.model")),
        "{body}"
    );
    let (status, body) = p
        .call(
            p.editor(1),
            "POST",
            "events",
            Some(json!({"kind": "decision", "team": "payments",
                        "data": {"expectedEffect": {"direction": "sideways"}}})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("data.expectedEffect.direction")),
        "{body}"
    );
}

#[tokio::test]
async fn check_health_checks_the_token_and_names_a_missing_permission() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    let h = p.health(p.editor(1)).await;
    assert_eq!(h.status, 1, "{}", h.message);
    assert!(h.message.contains("takes the token"), "{}", h.message);
    let mut partial = all_permissions();
    partial
        .as_object_mut()
        .map(|o| o.remove("dashboards:write"));
    g.set_permissions(partial);
    let h = p.health(p.editor(1)).await;
    assert_eq!(h.status, 2, "{}", h.message);
    assert!(
        h.message
            .contains("lacks dashboards:write (to read dashboard versions"),
        "{}",
        h.message
    );
    let details: Value = serde_json::from_slice(&h.json_details).expect("details");
    assert_eq!(
        details["grafana"]["missingPermissions"],
        json!(["dashboards:write"])
    );
    g.set_token("glsa_other");
    let h = p.health(p.editor(1)).await;
    assert_eq!(h.status, 2, "{}", h.message);
    assert!(
        h.message.contains("rejected the service account token"),
        "{}",
        h.message
    );
    assert!(h.message.contains("fault: token"), "{}", h.message);
    assert!(!h.message.contains(TOKEN) && !h.message.contains("glsa_other"));
    // Without a token the store's health stands and the import is off.
    p.secure.clear();
    p.set_json_data(json!({}));
    let h = p.health(p.editor(1)).await;
    assert_eq!(h.status, 1, "{}", h.message);
    assert!(
        h.message.contains("off (no service account token)"),
        "{}",
        h.message
    );
    // A grafanaUrl that is no URL is an invalid setting naming it.
    p.set_json_data(json!({"grafanaUrl": "grafana:3000"}));
    let h = p.health(p.editor(1)).await;
    assert!(h.message.starts_with("grafanaUrl:"), "{}", h.message);
}

#[tokio::test]
async fn only_an_editor_syncs_and_only_with_a_token() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    p.ok(p.viewer(1), "POST", "sync", None, 403).await;
    let (status, body) = p.call(p.ctx(1, None), "POST", "sync", None).await;
    assert_eq!(status, 403, "{body}");
    p.secure.clear();
    p.set_json_data(json!({}));
    let (status, body) = p.call(p.editor(1), "POST", "sync", None).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("serviceAccountToken")),
        "{body}"
    );
}

/// Waits until the fake has seen `n` annotation listings, or `within` passes.
async fn listings(g: &FakeGrafana, n: usize, within: Duration) -> usize {
    let started = std::time::Instant::now();
    loop {
        let seen = g.requests_to("/api/annotations").len();
        if seen >= n || started.elapsed() > within {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_schedule_runs_on_its_own_resumes_after_a_restart_and_stops_with_its_instance() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    g.annotate(
        Some("slo-payments"),
        now() - DAY,
        "d",
        &["decision"],
        "alice",
    );
    // The first request built the instance; its first run comes by itself within seconds.
    assert_eq!(listings(&g, 1, Duration::from_secs(10)).await, 1);
    let started = std::time::Instant::now();
    loop {
        let (status, _) = p
            .call(p.viewer(1), "GET", "events/grafana:1001", None)
            .await;
        if status == 200 || started.elapsed() > Duration::from_secs(10) {
            assert_eq!(status, 200, "the scheduled run imported the annotation");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The run writes its lastRun marker last; restart only once it is in the store, or a slow
    // machine restarts mid-run and the new process rightly runs again.
    wait_for_last_run(&db, Duration::from_secs(20)).await;
    // Restarted: the last run is in the store, so the next waits for the interval (an hour).
    drop(p);
    g.forget_requests();
    let mut p = plugin(&db, &g).await;
    p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    assert_eq!(
        listings(&g, 1, Duration::from_secs(4)).await,
        0,
        "resumed, not rerun"
    );
    drop(p);

    // A fresh store: an instance replaced before its first run never runs.
    let (_d2, db2) = temp_store();
    g.forget_requests();
    let mut p = plugin(&db2, &g).await;
    p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    p.set_json_data(json!({"grafanaUrl": g.url, "viewSessionMinutes": 31}));
    p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    assert_eq!(listings(&g, 1, Duration::from_secs(10)).await, 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        g.requests_to("/api/annotations").len(),
        1,
        "only the new instance's schedule ran"
    );
}

/// Waits until a sync run has recorded its end (`…/lastRun` in `sync_state`) in the store.
async fn wait_for_last_run(db: &std::path::Path, within: Duration) {
    let started = std::time::Instant::now();
    loop {
        let recorded =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row(
                        "SELECT count(*) FROM sync_state WHERE key LIKE '%/lastRun'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .unwrap_or(0);
        if recorded > 0 {
            return;
        }
        assert!(
            started.elapsed() < within,
            "no sync run recorded its end within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_syncs_of_one_datasource_never_run_at_once() {
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut p = plugin(&db, &g).await;
    teams(&mut p).await;
    // Let the scheduled first run pass, then slow Grafana down.
    assert_eq!(listings(&g, 1, Duration::from_secs(10)).await, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    g.slow("/api/annotations", Duration::from_millis(800));
    g.forget_requests();
    // Two requests at once to the same plugin: two clients of one connection.
    let post_sync = |p: &Plugin| {
        let mut client = p.resource.clone();
        let req = grafana_plugin_sdk::pluginv2::CallResourceRequest {
            plugin_context: Some(p.editor(1)),
            path: "sync".into(),
            method: "POST".into(),
            url: "sync".into(),
            headers: Default::default(),
            body: Default::default(),
        };
        async move {
            let mut stream = client.call_resource(req).await.expect("call").into_inner();
            let mut code = 0;
            while let Some(m) = stream.message().await.expect("stream") {
                code = m.code;
            }
            code
        }
    };
    let (a, b) = tokio::join!(post_sync(&p), post_sync(&p));
    assert_eq!((a, b), (200, 200));
    let times: Vec<std::time::Instant> = g
        .requests_to("/api/annotations")
        .iter()
        .map(|r| r.at)
        .collect();
    assert_eq!(times.len(), 2, "{times:?}");
    let gap = times[1].duration_since(times[0]);
    assert!(
        gap >= Duration::from_millis(750),
        "the second run waited for the first: {gap:?}"
    );
}

#[tokio::test]
async fn replicas_on_one_store_share_the_schedule_one_run_per_interval() {
    // Two plugin processes (two Grafana replicas) on one store, with one datasource: both
    // schedules tick about 2 s after their first request; the lease in the store lets one
    // of them call Grafana. The real binaries, so that each has its own replica id.
    let g = FakeGrafana::start(TOKEN).await;
    let (_d, db) = temp_store();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let mut p = Plugin::start(&db, &[]).await;
        p.set_json_data(json!({"grafanaUrl": g.url}));
        p.secure
            .insert("serviceAccountToken".into(), TOKEN.to_string());
        replicas.push(p);
    }
    teams(&mut replicas[0]).await;
    for p in &mut replicas {
        p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    }
    wait_for_last_run(&db, Duration::from_secs(20)).await;
    // Both first ticks are due within FIRST_DELAY of the requests above; give the other
    // replica time to pass its tick.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        g.requests_to("/api/annotations").len(),
        1,
        "one replica ran the scheduled sync"
    );
    // The holder is one of the two, and a manual sync on either still runs.
    for p in &mut replicas {
        assert_eq!(sync(p).await["failed"], json!([]));
    }
    assert_eq!(g.requests_to("/api/annotations").len(), 3);
}
