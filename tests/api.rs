//! The resource API through the running binary: every endpoint, the role matrix, org
//! isolation and every kind of bad input (SPEC §3).

mod common;

use common::*;
use serde_json::{json, Value};

async fn started() -> (tempfile::TempDir, Plugin) {
    let (dir, db) = temp_store();
    let plugin = Plugin::start(&db, &[]).await;
    (dir, plugin)
}

async fn with_team(p: &mut Plugin, org: i64, id: &str) {
    let body =
        json!({"id": id, "name": id, "dashboards": [format!("slo-{id}")], "members": ["alice"]});
    p.ok(p.admin(org), "POST", "teams", Some(body), 201).await;
}

#[tokio::test]
async fn teams_are_created_read_replaced_and_deleted() {
    let (_d, mut p) = started().await;
    let created = p
        .ok(
            p.editor(1),
            "POST",
            "teams",
            Some(json!({"id": "payments", "name": "Payments", "dashboards": ["slo-payments"]})),
            201,
        )
        .await;
    assert_eq!(created["cadenceDays"], 7);
    assert!(created["createdAt"].as_i64().unwrap_or(0) > 0);
    let list = p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let replaced = p
        .ok(
            p.editor(1),
            "PUT",
            "teams/payments",
            Some(json!({"name": "Pay", "cadenceDays": 14, "members": ["bob"]})),
            200,
        )
        .await;
    assert_eq!(replaced["cadenceDays"], 14);
    assert_eq!(
        replaced["createdAt"], created["createdAt"],
        "a replace keeps createdAt"
    );
    let one = p.ok(p.viewer(1), "GET", "teams/payments", None, 200).await;
    assert_eq!(one["members"], json!(["bob"]));
    let (status, body) = p
        .call(
            p.editor(1),
            "POST",
            "teams",
            Some(json!({"id": "payments"})),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
    p.ok(p.editor(1), "DELETE", "teams/payments", None, 403)
        .await;
    p.ok(p.admin(1), "DELETE", "teams/payments", None, 200)
        .await;
    p.ok(p.viewer(1), "GET", "teams/payments", None, 404).await;
}

#[tokio::test]
async fn a_team_named_by_events_is_deleted_only_with_cascade() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    p.ok(
        p.viewer(1),
        "POST",
        "events",
        Some(json!({"kind": "question", "team": "payments", "text": "why?"})),
        201,
    )
    .await;
    let body = p
        .ok(p.admin(1), "DELETE", "teams/payments", None, 409)
        .await;
    assert!(body["message"].as_str().unwrap_or("").contains("cascade"));
    p.ok(
        p.admin(1),
        "DELETE",
        "teams/payments?cascade=true",
        None,
        200,
    )
    .await;
    let events = p.ok(p.viewer(1), "GET", "events", None, 200).await;
    assert_eq!(events, json!([]));
}

#[tokio::test]
async fn events_are_recorded_listed_filtered_edited_and_deleted() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let e = p
        .ok(
            p.ctx(1, Some(("alice", "Viewer"))),
            "POST",
            "events",
            Some(json!({"kind": "review", "team": "payments", "time": "2026-05-01T10:00:00Z", "text": "weekly", "tags": ["weekly"], "user": "mallory"})),
            201,
        )
        .await;
    assert_eq!(
        e["user"], "alice",
        "the user comes from the request, not the body"
    );
    assert_eq!(e["time"], ms("2026-05-01T10:00:00Z"));
    assert_eq!(e["source"], "api");
    let id = e["id"].as_str().expect("id").to_string();
    let batch = p
        .ok(
            p.editor(1),
            "POST",
            "events",
            Some(json!([
                {"id": "d1", "kind": "decision", "team": "payments", "time": 1_000, "data": {"followUpAt": "2026-06-01T00:00:00Z"}},
                {"id": "o1", "kind": "outcome", "team": "payments", "time": 2_000, "data": {"decisionId": "d1", "result": "confirmed"}},
                {"kind": "metric_change", "team": "payments", "time": 3_000}
            ])),
            201,
        )
        .await;
    assert_eq!(batch.as_array().map(Vec::len), Some(3));
    assert_eq!(batch[0]["data"]["followUpAt"], ms("2026-06-01T00:00:00Z"));
    let all = p.ok(p.viewer(1), "GET", "events", None, 200).await;
    let times: Vec<i64> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["time"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(times.len(), 4);
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let reviews = p
        .ok(p.viewer(1), "GET", "events?kind=review,decision", None, 200)
        .await;
    assert_eq!(reviews.as_array().map(Vec::len), Some(2));
    let tagged = p
        .ok(p.viewer(1), "GET", "events?tags=weekly", None, 200)
        .await;
    assert_eq!(tagged[0]["id"], id.as_str());
    let page = p
        .ok(p.viewer(1), "GET", "events?limit=1&offset=1", None, 200)
        .await;
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    let ranged = p
        .ok(p.viewer(1), "GET", "events?from=1500&to=3000", None, 200)
        .await;
    assert_eq!(ranged.as_array().map(Vec::len), Some(2));
    // The author may edit; another Viewer may not; an Editor may.
    let edited = p
        .ok(
            p.ctx(1, Some(("alice", "Viewer"))),
            "PATCH",
            &format!("events/{id}"),
            Some(json!({"text": "edited"})),
            200,
        )
        .await;
    assert_eq!(edited["text"], "edited");
    p.ok(
        p.ctx(1, Some(("bob", "Viewer"))),
        "PATCH",
        &format!("events/{id}"),
        Some(json!({"text": "x"})),
        403,
    )
    .await;
    p.ok(
        p.editor(1),
        "PATCH",
        &format!("events/{id}"),
        Some(json!({"text": "by editor"})),
        200,
    )
    .await;
    p.ok(
        p.editor(1),
        "PATCH",
        &format!("events/{id}"),
        Some(json!({"kind": "note"})),
        400,
    )
    .await;
    // Deleting: the author or an Admin.
    p.ok(p.editor(1), "DELETE", &format!("events/{id}"), None, 403)
        .await;
    p.ok(
        p.ctx(1, Some(("alice", "Viewer"))),
        "DELETE",
        &format!("events/{id}"),
        None,
        200,
    )
    .await;
    p.ok(p.viewer(1), "GET", &format!("events/{id}"), None, 404)
        .await;
}

#[tokio::test]
async fn annotations_take_and_give_grafanas_shape() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let posted = p
        .ok(
            p.viewer(1),
            "POST",
            "annotations",
            Some(json!({"time": 5_000, "timeEnd": 5_000, "text": "looked at SLOs", "tags": ["weekly", "review"], "dashboardUID": "slo-payments", "panelId": 2, "team": "payments"})),
            201,
        )
        .await;
    let id = posted["id"].as_str().expect("id").to_string();
    let stored = p
        .ok(p.viewer(1), "GET", &format!("events/{id}"), None, 200)
        .await;
    assert_eq!(
        stored["kind"], "review",
        "the first tag naming a kind decides"
    );
    assert_eq!(stored["source"], "annotation_api");
    assert_eq!(
        stored["timeEnd"],
        Value::Null,
        "a point annotation has no end"
    );
    p.ok(
        p.viewer(1),
        "POST",
        "annotations",
        Some(json!({"time": 6_000, "text": "fyi", "tags": ["x"]})),
        403,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "annotations",
        Some(json!({"time": 6_000, "text": "fyi", "tags": ["x"]})),
        201,
    )
    .await;
    let list = p
        .ok(
            p.viewer(1),
            "GET",
            "annotations?dashboardUID=slo-payments",
            None,
            200,
        )
        .await;
    let a = &list[0];
    for key in [
        "id",
        "time",
        "timeEnd",
        "text",
        "tags",
        "dashboardUID",
        "panelId",
    ] {
        assert!(a.get(key).is_some(), "annotation lacks {key}: {a}");
    }
    assert_eq!(a["panelId"], 2);
}

#[tokio::test]
async fn targets_carry_actuals_and_a_verification() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let t = p
        .ok(
            p.editor(1),
            "POST",
            "targets",
            Some(json!({
                "id": "latency", "team": "payments", "name": "Latency", "direction": "decrease",
                "baseline": 10, "target": 8, "startAt": "2026-01-01T00:00:00Z", "deadline": "2026-03-01T00:00:00Z",
                "actuals": [{"time": "2026-01-10T00:00:00Z", "value": 9.5}]
            })),
            201,
        )
        .await;
    assert_eq!(t["actuals"][0]["value"], 9.5);
    let t = p
        .ok(
            p.editor(1),
            "POST",
            "targets/latency/actuals",
            Some(json!([{"time": "2026-02-01T00:00:00Z", "value": 7.9}])),
            200,
        )
        .await;
    assert_eq!(t["actuals"].as_array().map(Vec::len), Some(2));
    let v = p
        .ok(
            p.ctx(1, Some(("carol", "Editor"))),
            "POST",
            "targets/latency/verification",
            Some(json!({"learnings": "caching helped"})),
            200,
        )
        .await;
    assert_eq!(
        v["verification"]["verdict"], "met",
        "derived from the last actual"
    );
    assert_eq!(v["verification"]["verifiedBy"], "carol");
    let patched = p
        .ok(
            p.editor(1),
            "PATCH",
            "targets/latency",
            Some(json!({"name": "p99 latency", "unit": "ms"})),
            200,
        )
        .await;
    assert_eq!(patched["unit"], "ms");
    assert_eq!(
        patched["verification"]["verdict"], "met",
        "a patch keeps the verification"
    );
    let list = p
        .ok(p.viewer(1), "GET", "targets?team=payments", None, 200)
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    p.ok(p.editor(1), "DELETE", "targets/latency", None, 403)
        .await;
    p.ok(p.admin(1), "DELETE", "targets/latency", None, 200)
        .await;
    p.ok(p.viewer(1), "GET", "targets/latency", None, 404).await;
}

#[tokio::test]
async fn the_role_matrix_holds() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let none = p.ctx(1, Some(("nobody", "None")));
    let internal = p.ctx(1, None);
    // Reads: Viewer and Grafana itself yes; None no.
    p.ok(p.viewer(1), "GET", "teams", None, 200).await;
    p.ok(internal.clone(), "GET", "teams", None, 200).await;
    p.ok(none.clone(), "GET", "teams", None, 403).await;
    p.ok(none.clone(), "GET", "events", None, 403).await;
    // Writes need a user.
    p.ok(
        internal.clone(),
        "POST",
        "events",
        Some(json!({"kind": "question", "team": "payments"})),
        403,
    )
    .await;
    // Viewers record rituals, not metric changes or notes.
    for kind in ["view", "review", "question", "decision"] {
        p.ok(
            p.viewer(1),
            "POST",
            "events",
            Some(json!({"kind": kind, "team": "payments"})),
            201,
        )
        .await;
    }
    for kind in ["metric_change", "note"] {
        p.ok(
            p.viewer(1),
            "POST",
            "events",
            Some(json!({"kind": kind, "team": "payments"})),
            403,
        )
        .await;
        p.ok(
            p.editor(1),
            "POST",
            "events",
            Some(json!({"kind": kind, "team": "payments"})),
            201,
        )
        .await;
    }
    // Teams and targets: Editor; deletes: Admin; export and import: Admin.
    p.ok(p.viewer(1), "POST", "teams", Some(json!({"id": "x"})), 403)
        .await;
    p.ok(
        p.viewer(1),
        "POST",
        "targets",
        Some(json!({"team": "payments", "name": "n", "direction": "increase"})),
        403,
    )
    .await;
    p.ok(p.editor(1), "GET", "export", None, 403).await;
    p.ok(p.editor(1), "POST", "import", Some(json!({})), 403)
        .await;
    // viewersCanAnnotate=false lifts rituals to Editor.
    p.set_json_data(json!({"viewersCanAnnotate": false}));
    p.ok(
        p.viewer(1),
        "POST",
        "events",
        Some(json!({"kind": "review", "team": "payments"})),
        403,
    )
    .await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"kind": "review", "team": "payments"})),
        201,
    )
    .await;
}

#[tokio::test]
async fn two_orgs_never_see_each_other() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    with_team(&mut p, 2, "payments").await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"id": "shared-id", "kind": "note", "team": "payments", "text": "org one"})),
        201,
    )
    .await;
    p.ok(
        p.editor(2),
        "POST",
        "events",
        Some(json!({"id": "shared-id", "kind": "note", "team": "payments", "text": "org two"})),
        201,
    )
    .await;
    let one = p
        .ok(p.viewer(1), "GET", "events/shared-id", None, 200)
        .await;
    assert_eq!(one["text"], "org one");
    let two = p.ok(p.viewer(2), "GET", "events", None, 200).await;
    assert_eq!(two.as_array().map(Vec::len), Some(1));
    assert_eq!(two[0]["text"], "org two");
    p.ok(p.admin(2), "DELETE", "events/shared-id", None, 200)
        .await;
    p.ok(p.viewer(1), "GET", "events/shared-id", None, 200)
        .await;
    p.ok(p.viewer(3), "GET", "teams/payments", None, 404).await;
    p.ok(
        p.editor(3),
        "POST",
        "events",
        Some(json!({"kind": "question", "team": "payments"})),
        400,
    )
    .await;
}

async fn expect_invalid(p: &mut Plugin, method: &str, path: &str, body: Vec<u8>, field: &str) {
    let (status, out, _) = p.call_raw(p.editor(1), method, path, body).await;
    let v: Value = serde_json::from_slice(&out).expect("json error body");
    assert_eq!(status, 400, "{method} {path}: {v}");
    assert_eq!(v["error"], "invalid_argument", "{v}");
    assert_eq!(v["field"], field, "{v}");
    assert!(!v["message"].as_str().unwrap_or("").is_empty());
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"id": "keep", "kind": "note", "team": "payments"})),
        201,
    )
    .await;
    let j = |v: Value| serde_json::to_vec(&v).expect("json");
    expect_invalid(&mut p, "POST", "events", b"{not json".to_vec(), "body").await;
    expect_invalid(&mut p, "POST", "events", Vec::new(), "body").await;
    expect_invalid(&mut p, "POST", "events", j(json!({"kind": "vote"})), "kind").await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!({"kind": "note", "time": "last tuesday"})),
        "time",
    )
    .await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!({"kind": "note", "tags": "a"})),
        "tags",
    )
    .await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!({"kind": "note", "id": "no spaces"})),
        "id",
    )
    .await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!({"kind": "note", "team": "Not A Slug"})),
        "team",
    )
    .await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!({"kind": "note", "team": "ghosts"})),
        "team",
    )
    .await;
    expect_invalid(&mut p, "POST", "events", j(json!({"kind": "outcome", "team": "payments", "data": {"decisionId": "nope", "result": "confirmed"}})), "data.decisionId").await;
    expect_invalid(
        &mut p,
        "POST",
        "events",
        j(json!([{"kind": "note", "team": "payments"}, {"kind": "bogus"}])),
        "[1].kind",
    )
    .await;
    expect_invalid(&mut p, "POST", "teams", j(json!({"id": "-bad"})), "id").await;
    expect_invalid(
        &mut p,
        "POST",
        "teams",
        j(json!({"id": "ok", "cadenceDays": "weekly"})),
        "cadenceDays",
    )
    .await;
    expect_invalid(
        &mut p,
        "POST",
        "targets",
        j(json!({"team": "payments", "name": "n", "direction": "sideways"})),
        "direction",
    )
    .await;
    expect_invalid(&mut p, "POST", "targets", j(json!({"team": "payments", "name": "n", "direction": "increase", "baseline": 1, "target": 1})), "target").await;
    expect_invalid(&mut p, "POST", "targets", j(json!({"team": "payments", "name": "n", "direction": "increase", "startAt": 10, "deadline": 5})), "deadline").await;
    expect_invalid(&mut p, "POST", "targets", j(json!({"team": "payments", "name": "n", "direction": "increase", "actuals": [{"time": 1, "value": "high"}]})), "actuals[0].value").await;
    expect_invalid(&mut p, "GET", "events?limit=9999", Vec::new(), "limit").await;
    expect_invalid(&mut p, "GET", "maturity?at=someday", Vec::new(), "at").await;
    // A batch with a taken id or an id given twice stores none of its events.
    let (status, _) = p
        .call(p.editor(1), "POST", "events", Some(json!([{"id": "new1", "kind": "note", "team": "payments"}, {"id": "keep", "kind": "note", "team": "payments"}])))
        .await;
    assert_eq!(status, 409);
    expect_invalid(&mut p, "POST", "events", j(json!([{"id": "twice", "kind": "note", "team": "payments"}, {"id": "twice", "kind": "note", "team": "payments"}])), "[1].id").await;
    // Too large: an array over 1000, a body over 1 MiB.
    let many: Vec<Value> = (0..1001)
        .map(|_| json!({"kind": "note", "team": "payments"}))
        .collect();
    let (status, body) = p
        .call(p.editor(1), "POST", "events", Some(Value::Array(many)))
        .await;
    assert_eq!((status, body["error"].as_str()), (413, Some("too_large")));
    let huge = j(json!({"kind": "note", "team": "payments", "text": "x".repeat(1 << 20)}));
    let (status, _, _) = p.call_raw(p.editor(1), "POST", "events", huge).await;
    assert_eq!(status, 413);
    // Unknown endpoints.
    let (status, body) = p.call(p.viewer(1), "GET", "nothing/here", None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    // Nothing changed, and the process still serves.
    let events = p.ok(p.viewer(1), "GET", "events", None, 200).await;
    assert_eq!(events.as_array().map(Vec::len), Some(1));
    assert_eq!(events[0]["id"], "keep");
}

#[tokio::test]
async fn requests_without_settings_or_with_invalid_settings_are_refused_clearly() {
    let (_d, mut p) = started().await;
    let mut ctx = p.viewer(1);
    ctx.data_source_instance_settings = None;
    let (status, body) = p.call(ctx, "GET", "teams", None).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("datasource")));
    for bad in [
        json!({"reviewRatio": 3}),
        json!({"windowWeeks": 0}),
        json!({"minQuestions": -1}),
    ] {
        let key = bad
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        p.set_json_data(json!({ "maturity": bad }));
        let (status, body) = p.call(p.viewer(1), "GET", "teams", None).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(&key),
            "{body}"
        );
        let h = p.health(p.viewer(1)).await;
        assert_eq!(h.status, 2, "CheckHealth reports invalid settings");
        assert!(h.message.contains(&key), "{}", h.message);
        let resp = p
            .query(
                p.viewer(1),
                &[],
                vec![query("A", "maturity", json!({}), 0, 1)],
            )
            .await;
        let (status, message) = frames_of(&resp, "A").expect_err("invalid settings fail the query");
        assert_eq!(status, 400);
        assert!(message.contains(&key), "{message}");
    }
    let mut ctx = p.viewer(1);
    if let Some(ds) = ctx.data_source_instance_settings.as_mut() {
        ds.json_data = b"{oops".to_vec();
    }
    let (status, body) = p.call(ctx, "GET", "teams", None).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("jsonData")));
}

#[tokio::test]
async fn a_foreign_sqlite_file_is_refused_and_health_says_so() {
    let (dir, _) = temp_store();
    let foreign = dir.path().join("grafana.db");
    make_foreign_database(&foreign);
    let mut p = Plugin::start(&foreign, &[]).await;
    let h = p.health(p.viewer(1)).await;
    assert_eq!(h.status, 2, "ERROR");
    assert!(h.message.contains("another application"), "{}", h.message);
    let (status, _) = p.call(p.viewer(1), "GET", "teams", None).await;
    assert_eq!(status, 500);
}

/// A database of another application, like Grafana's own `grafana.db`.
fn make_foreign_database(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch("CREATE TABLE dashboard (id INTEGER); INSERT INTO dashboard VALUES (1);")
        .expect("a foreign table");
}

#[tokio::test]
async fn health_names_the_store_the_rule_and_the_counts() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let h = p.health(p.viewer(1)).await;
    assert_eq!(h.status, 1, "OK: {}", h.message);
    assert!(
        h.message.contains(&*p.db.to_string_lossy()),
        "{}",
        h.message
    );
    assert!(h.message.contains("jsonData.databasePath"), "{}", h.message);
    let details: Value = serde_json::from_slice(&h.json_details).expect("details");
    assert_eq!(details["teams"], 1);
    assert_eq!(
        details["schemaVersion"],
        maturity::store::sqlite::SCHEMA_VERSION
    );
}

#[tokio::test]
async fn export_and_import_round_trip_and_import_is_idempotent() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    p.ok(p.editor(1), "POST", "events", Some(json!([
        {"id": "d1", "kind": "decision", "team": "payments", "time": 10},
        {"id": "o1", "kind": "outcome", "team": "payments", "time": 20, "data": {"decisionId": "d1", "result": "inconclusive"}}
    ])), 201).await;
    p.ok(p.editor(1), "POST", "targets", Some(json!({"id": "t1", "team": "payments", "name": "n", "direction": "increase",
        "actuals": [{"time": 5, "value": 1}], "verification": {"verdict": "missed", "learnings": "", "verifiedAt": 30}})), 201).await;
    let (status, ndjson, content_type) = p.call_raw(p.admin(1), "GET", "export", Vec::new()).await;
    assert_eq!(status, 200);
    assert!(content_type.contains("ndjson"));
    let lines: Vec<Value> = ndjson
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("line"))
        .collect();
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["team", "target", "event", "event"]);
    // Into another org: everything is created; a second time: everything skipped.
    let (status, out, _) = p
        .call_raw(p.admin(2), "POST", "import", ndjson.clone())
        .await;
    let report: Value = serde_json::from_slice(&out).expect("report");
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["created"].as_u64(),
            report["skipped"].as_u64(),
            report["rejected"].as_u64()
        ),
        (Some(4), Some(0), Some(0)),
        "{report}"
    );
    let (_, out, _) = p
        .call_raw(p.admin(2), "POST", "import", ndjson.clone())
        .await;
    let report: Value = serde_json::from_slice(&out).expect("report");
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(0), Some(4)),
        "{report}"
    );
    let (_, again, _) = p.call_raw(p.admin(2), "GET", "export", Vec::new()).await;
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&ndjson),
        "org 2 now exports what org 1 did"
    );
    // Bad lines are rejected one by one with their reason; the rest go in.
    let mixed = "{\"type\":\"event\",\"value\":{\"id\":\"n1\",\"kind\":\"note\",\"team\":\"payments\",\"time\":1}}\nnot json\n{\"type\":\"gizmo\",\"value\":{}}\n";
    let (_, out, _) = p
        .call_raw(p.admin(2), "POST", "import", mixed.as_bytes().to_vec())
        .await;
    let report: Value = serde_json::from_slice(&out).expect("report");
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(2)),
        "{report}"
    );
    assert_eq!(report["errors"][0]["line"], 2);
}

#[tokio::test]
async fn the_none_role_and_missing_users_cannot_write() {
    let (_d, mut p) = started().await;
    let (status, body) = p
        .call(
            p.ctx(1, Some(("x", "None"))),
            "POST",
            "teams",
            Some(json!({"id": "t"})),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = p
        .call(p.ctx(1, None), "POST", "teams", Some(json!({"id": "t"})))
        .await;
    assert_eq!(status, 403);
}

/// Issue 11, defect 9: go-plugin hands Grafana's environment to the plugin, so a variable
/// that fixed the clock would freeze every score in production. The shipped binary reads
/// only the real clock, whatever its environment holds.
#[tokio::test]
async fn the_shipped_binary_keeps_the_real_clock_whatever_its_environment() {
    let (_d, db) = temp_store();
    let frozen = ms("2020-01-01T00:00:00Z").to_string();
    let mut p = Plugin::start(
        &db,
        &[
            ("MATURITY_TEST_NOW_MS", frozen.as_str()),
            ("NOW", frozen.as_str()),
        ],
    )
    .await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "payments"})),
        201,
    )
    .await;
    let e = p
        .ok(
            p.editor(1),
            "POST",
            "events",
            Some(json!({"kind": "question", "team": "payments"})),
            201,
        )
        .await;
    for key in ["time", "createdAt"] {
        let t = e[key].as_i64().expect("a time");
        assert!(
            (before - 60_000..before + 60_000).contains(&t),
            "{key} {t} is the real time ({before}), not the frozen one"
        );
    }
    let m = p.ok(p.viewer(1), "GET", "maturity", None, 200).await;
    let at = m[0]["at"].as_i64().expect("at");
    assert!(at >= before, "the evaluation is at the real now: {at}");
}

/// Issue 11, defect 5: an in-memory database or an SQLite URI answered 201 to writes and lost
/// them on restart. Only a file path is a store; CheckHealth and every request say why.
#[tokio::test]
async fn only_a_file_path_is_a_store_and_health_says_why() {
    let (dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let inside = |name: &str| dir.path().join(name).display().to_string();
    for path in [
        ":memory:".to_string(),
        "file::memory:?cache=shared".to_string(),
        format!("file:{}", inside("uri.db")),
        format!("file:{}?mode=memory&cache=shared", inside("mem.db")),
        format!("{}?nolock=1", inside("params.db")),
    ] {
        p.json_data = json!({"databasePath": path});
        p.updated_ms += 1;
        let health = p.health(p.admin(1)).await;
        assert_ne!(
            health.status, 1,
            "{path}: health must fail: {}",
            health.message
        );
        assert!(
            health.message.contains("must be a file path"),
            "{path}: {}",
            health.message
        );
        let (status, body) = p
            .call(p.admin(1), "POST", "teams", Some(json!({"id": "payments"})))
            .await;
        assert!(status >= 400, "{path}: a write answered {status} {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("must be a file path"),
            "{path}: {body}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("maturity.db")),
        "no store was made of a URI: {names:?}"
    );
}

// ---- Issue 11, defect 8: the smaller holes, each closed ----

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

#[tokio::test]
async fn an_offset_past_two_to_the_63_is_refused_and_never_wraps_to_the_first_page() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!([{"kind": "note", "team": "payments"}, {"kind": "note", "team": "payments"}])),
        201,
    )
    .await;
    for path in ["events", "annotations"] {
        let far = p
            .ok(
                p.viewer(1),
                "GET",
                &format!("{path}?offset=9223372036854775807"),
                None,
                200,
            )
            .await;
        assert_eq!(far, json!([]), "{path}: the last possible page is empty");
        for offset in [
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
        ] {
            let (status, body) = p
                .call(p.viewer(1), "GET", &format!("{path}?offset={offset}"), None)
                .await;
            assert_eq!(
                (status, body["field"].as_str()),
                (400, Some("offset")),
                "{offset}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_repeat_of_a_parameter_never_hides_the_value_given() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let batch: Vec<Value> = (0..3)
        .map(|_| json!({"kind": "note", "team": "payments"}))
        .collect();
    p.ok(p.editor(1), "POST", "events", Some(json!(batch)), 201)
        .await;
    for path in [
        "events?limit=&limit=1",
        "events?limit=1&limit=",
        "events?limit=1&limit=1",
        "events?offset=&offset=2&limit=5",
    ] {
        let got = p.ok(p.viewer(1), "GET", path, None, 200).await;
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{path}");
    }
    let (status, body) = p
        .call(p.viewer(1), "GET", "events?limit=1&limit=2", None)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("limit")),
        "{body}"
    );
}

#[tokio::test]
async fn verified_by_is_always_the_requests_user_even_for_an_admin() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let inline = p
        .ok(
            p.admin(1),
            "POST",
            "targets",
            Some(json!({"id": "t1", "team": "payments", "name": "n", "direction": "increase",
                        "verification": {"verdict": "met", "learnings": "", "verifiedBy": "mallory"}})),
            201,
        )
        .await;
    assert_eq!(inline["verification"]["verifiedBy"], "admin");
    p.ok(
        p.admin(1),
        "POST",
        "targets",
        Some(json!({"id": "t2", "team": "payments", "name": "n", "direction": "increase"})),
        201,
    )
    .await;
    let posted = p
        .ok(
            p.admin(1),
            "POST",
            "targets/t2/verification",
            Some(json!({"verdict": "missed", "learnings": "l", "verifiedBy": "mallory"})),
            200,
        )
        .await;
    assert_eq!(posted["verification"]["verifiedBy"], "admin");
    // An import keeps the export's verifiedBy: it records who verified then.
    let line = json!({"type": "target", "value": {"id": "t3", "team": "payments", "name": "n",
        "direction": "increase", "verification": {"verdict": "met", "learnings": "", "verifiedBy": "carol"}}});
    p.ok(
        p.admin(2),
        "POST",
        "teams",
        Some(json!({"id": "payments"})),
        201,
    )
    .await;
    let (status, _, _) = p
        .call_raw(p.admin(2), "POST", "import", line.to_string().into_bytes())
        .await;
    assert_eq!(status, 200);
    let t3 = p.ok(p.viewer(2), "GET", "targets/t3", None, 200).await;
    assert_eq!(t3["verification"]["verifiedBy"], "carol");
}

#[tokio::test]
async fn created_at_is_the_servers_on_create_and_the_exports_on_import() {
    let (_d, mut p) = started().await;
    let before = now_ms();
    let team = p
        .ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": "payments", "createdAt": 1})),
            201,
        )
        .await;
    let target = p
        .ok(
            p.admin(1),
            "POST",
            "targets",
            Some(
                json!({"id": "t1", "team": "payments", "name": "n", "direction": "increase",
                        "createdAt": "2001-01-01T00:00:00Z"}),
            ),
            201,
        )
        .await;
    for (what, v) in [("team", &team), ("target", &target)] {
        let t = v["createdAt"].as_i64().expect("createdAt");
        assert!(t >= before - 1000, "{what}: createdAt {t} is the server's");
    }
    let lines = [
        json!({"type": "team", "value": {"id": "search", "createdAt": 1}}),
        json!({"type": "target", "value": {"id": "t2", "team": "search", "name": "n",
               "direction": "increase", "createdAt": 2}}),
    ]
    .map(|l| l.to_string())
    .join("\n");
    p.call_raw(p.admin(1), "POST", "import", lines.into_bytes())
        .await;
    assert_eq!(
        p.ok(p.viewer(1), "GET", "teams/search", None, 200).await["createdAt"],
        1
    );
    assert_eq!(
        p.ok(p.viewer(1), "GET", "targets/t2", None, 200).await["createdAt"],
        2
    );
}

#[tokio::test]
async fn a_viewer_may_not_edit_or_delete_their_own_review_once_viewers_may_not_annotate() {
    let (_d, mut p) = started().await;
    with_team(&mut p, 1, "payments").await;
    let alice = |p: &Plugin| p.ctx(1, Some(("alice", "Viewer")));
    for id in ["r1", "r2"] {
        p.ok(
            alice(&p),
            "POST",
            "events",
            Some(json!({"id": id, "kind": "review", "team": "payments"})),
            201,
        )
        .await;
    }
    p.ok(
        alice(&p),
        "PATCH",
        "events/r1",
        Some(json!({"text": "ok"})),
        200,
    )
    .await;
    p.set_json_data(json!({"viewersCanAnnotate": false}));
    let (status, body) = p
        .call(
            alice(&p),
            "PATCH",
            "events/r1",
            Some(json!({"text": "still mine?"})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    p.ok(alice(&p), "DELETE", "events/r2", None, 403).await;
    assert_eq!(
        p.ok(p.viewer(1), "GET", "events/r1", None, 200).await["text"],
        "ok"
    );
    // Editors and Admins keep their powers; and when Viewers may annotate again, so does alice.
    p.ok(
        p.editor(1),
        "PATCH",
        "events/r1",
        Some(json!({"text": "edited"})),
        200,
    )
    .await;
    p.set_json_data(json!({"viewersCanAnnotate": true}));
    p.ok(
        alice(&p),
        "PATCH",
        "events/r1",
        Some(json!({"text": "mine"})),
        200,
    )
    .await;
    p.ok(alice(&p), "DELETE", "events/r2", None, 200).await;
}

/// A port range of `width` that no test of this run is likely to share.
fn port_range(width: u16) -> (u16, u16) {
    let base = 20_000 + (std::process::id() % 2000) as u16 * 20 + (now_ms() % 7) as u16;
    (base, base + width - 1)
}

#[tokio::test]
async fn the_plugin_listens_only_in_go_plugins_port_range() {
    let (_d, db) = temp_store();
    let (lo, hi) = port_range(10);
    let (lo_s, hi_s) = (lo.to_string(), hi.to_string());
    let env = [
        ("PLUGIN_MIN_PORT", lo_s.as_str()),
        ("PLUGIN_MAX_PORT", hi_s.as_str()),
    ];
    let mut a = Plugin::start(&db, &env).await;
    let b = Plugin::start(&db, &env).await;
    let port = |p: &Plugin| -> u16 {
        p.addr
            .rsplit(':')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("port")
    };
    assert!((lo..=hi).contains(&port(&a)), "{} in {lo}..={hi}", a.addr);
    assert!((lo..=hi).contains(&port(&b)), "{} in {lo}..={hi}", b.addr);
    assert_ne!(port(&a), port(&b));
    assert!(a.addr.starts_with("127.0.0.1:"), "{}", a.addr);
    a.ok(a.admin(1), "POST", "teams", Some(json!({"id": "p"})), 201)
        .await;
    for (min, max) in [("10010", "10000"), ("x", "10"), ("10", "70000")] {
        let mut cmd = Plugin::command();
        cmd.env("PLUGIN_MIN_PORT", min)
            .env("PLUGIN_MAX_PORT", max)
            .stderr(std::process::Stdio::piped());
        let out = cmd.output().expect("run");
        assert!(!out.status.success(), "{min}..{max} must not start");
        assert!(out.stdout.is_empty(), "no handshake for {min}..{max}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PLUGIN_M"), "{min}..{max}: {err}");
    }
}
