//! QueryData through the running binary: every query type's frame (names, types, labels),
//! per-query errors, alertable shapes and passive review evidence (SPEC §4).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

async fn seeded() -> (tempfile::TempDir, Plugin) {
    let (dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    for (id, dash) in [("payments", "slo-payments"), ("search", "slo-search")] {
        p.ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": id, "dashboards": [dash], "members": ["alice"]})),
            201,
        )
        .await;
    }
    let now = ms("2026-06-01T00:00:00Z");
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!([
            {"id": "r1", "kind": "review", "team": "payments", "time": now - 2 * DAY, "text": "weekly review\nall green", "tags": ["weekly"]},
            {"id": "q1", "kind": "question", "team": "payments", "time": now - DAY - 5},
            {"id": "d1", "kind": "decision", "team": "search", "time": now - 3 * DAY, "timeEnd": now - 3 * DAY + 3_600_000},
            {"id": "v1", "kind": "view", "dashboardUid": "slo-search", "time": now - 10 * DAY}
        ])),
        201,
    )
    .await;
    (dir, p)
}

fn the_frame(resp: &grafana_plugin_sdk::pluginv2::QueryDataResponse, ref_id: &str) -> DecodedFrame {
    let frames = frames_of(resp, ref_id).unwrap_or_else(|e| panic!("{ref_id} failed: {e:?}"));
    assert_eq!(frames.len(), 1, "{ref_id}: one frame");
    frames.into_iter().next().expect("frame")
}

/// SPEC §4.3: exactly one number field, any string fields, nothing else; unique strings per row.
fn assert_alertable_number_table(f: &DecodedFrame) {
    let numbers = f
        .fields
        .iter()
        .filter(|x| matches!(x.column, Column::Num(_)))
        .count();
    assert_eq!(numbers, 1, "one number field in {:?}", f.names());
    assert!(
        f.fields
            .iter()
            .all(|x| matches!(x.column, Column::Num(_) | Column::Str(_))),
        "only strings besides: {:?}",
        f.fields
    );
    assert!(
        f.fields
            .iter()
            .all(|x| x.labels.is_empty() || !x.has_config),
        "labels and config together lose labels"
    );
    let mut keys: Vec<Vec<String>> = (0..f.rows())
        .map(|r| {
            f.fields
                .iter()
                .filter_map(|x| match &x.column {
                    Column::Str(v) => Some(v[r].clone().unwrap_or_default()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "each row's strings are unique");
}

#[tokio::test]
async fn events_frames_are_annotation_shaped_and_bounded_by_the_range() {
    let (_d, mut p) = seeded().await;
    let now = ms("2026-06-01T00:00:00Z");
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("A", "events", json!({}), now - 5 * DAY, now),
                query(
                    "B",
                    "events",
                    json!({"kinds": ["review"], "team": "payments"}),
                    now - 5 * DAY,
                    now,
                ),
                query(
                    "Anno",
                    "",
                    json!({"queryType": "events", "tags": ["weekly"]}),
                    now - 5 * DAY,
                    now,
                ),
            ],
        )
        .await;
    let f = the_frame(&resp, "A");
    assert_eq!(
        f.names(),
        [
            "time",
            "timeEnd",
            "title",
            "text",
            "tags",
            "id",
            "kind",
            "team",
            "dashboardUID",
            "login"
        ]
    );
    assert_eq!(
        f.field("id").column.strs(),
        ["q1", "r1", "d1"],
        "the view 10 days back is out of range; newest first"
    );
    assert!(f.field("timeEnd").nullable);
    assert_eq!(
        f.field("timeEnd").column.times(),
        [None, None, Some(now - 3 * DAY + 3_600_000)]
    );
    assert_eq!(f.field("title").column.strs()[1], "weekly review");
    assert_eq!(f.field("time").column.times()[0], Some(now - DAY - 5));
    assert_eq!(the_frame(&resp, "B").field("id").column.strs(), ["r1"]);
    assert_eq!(
        the_frame(&resp, "Anno").field("tags").column.strs(),
        ["weekly"]
    );
}

#[tokio::test]
async fn teams_frame_has_one_string_field() {
    let (_d, mut p) = seeded().await;
    let resp = p
        .query(p.viewer(1), &[], vec![query("A", "teams", json!({}), 0, 1)])
        .await;
    let f = the_frame(&resp, "A");
    assert_eq!(f.names(), ["team"]);
    assert_eq!(f.field("team").column.strs(), ["payments", "search"]);
}

#[tokio::test]
async fn review_activity_is_a_wide_daily_series_labelled_by_team() {
    let (_d, mut p) = seeded().await;
    let now = ms("2026-06-01T00:00:00Z");
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query("A", "reviewActivity", json!({}), now - 14 * DAY, now)],
        )
        .await;
    let f = the_frame(&resp, "A");
    assert_eq!(f.rows(), 14);
    assert_eq!(
        f.field("time").column.times().last().copied().flatten(),
        Some(now - DAY),
        "buckets end at T"
    );
    let series = |name: &str, team: &str| -> Vec<f64> {
        f.fields
            .iter()
            .find(|x| x.name == name && x.labels.get("team").map(String::as_str) == Some(team))
            .expect("series")
            .column
            .nums()
    };
    assert_eq!(series("reviews", "payments").iter().sum::<f64>(), 1.0);
    assert_eq!(
        series("reviews", "payments")[12],
        1.0,
        "two days before T is the 13th of 14 buckets"
    );
    assert_eq!(
        series("questions", "payments")[12],
        1.0,
        "T − 1 day − 5 ms falls in the same bucket"
    );
    assert_eq!(series("decisions", "search").iter().sum::<f64>(), 1.0);
    assert_eq!(
        series("views", "search").iter().sum::<f64>(),
        0.0,
        "a view by an unknown user of a team with members does not count"
    );
    assert_eq!(f.fields.len(), 1 + 4 * 2);
}

#[tokio::test]
async fn review_lapse_is_alertable_in_both_measures_and_per_dashboard() {
    let (_d, mut p) = seeded().await;
    let now = ms("2026-06-01T00:00:00Z");
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("A", "reviewLapse", json!({}), now - DAY, now),
                query(
                    "B",
                    "reviewLapse",
                    json!({"measure": "hoursOverdue", "team": "payments"}),
                    now - DAY,
                    now,
                ),
                query(
                    "C",
                    "reviewLapse",
                    json!({"perDashboard": true}),
                    now - DAY,
                    now,
                ),
                query(
                    "D",
                    "reviewLapse",
                    json!({"team": "nobody"}),
                    now - DAY,
                    now,
                ),
            ],
        )
        .await;
    let a = the_frame(&resp, "A");
    assert_alertable_number_table(&a);
    assert_eq!(a.names(), ["team", "dashboard", "hours_since_review"]);
    assert_eq!(a.field("team").column.strs(), ["payments", "search"]);
    assert_eq!(
        a.field("hours_since_review").column.nums(),
        [48.0, 12.0 * 7.0 * 24.0],
        "no evidence: the whole window"
    );
    let b = the_frame(&resp, "B");
    assert_alertable_number_table(&b);
    assert_eq!(b.field("hours_overdue").column.nums(), [48.0 - 168.0]);
    let c = the_frame(&resp, "C");
    assert_alertable_number_table(&c);
    assert_eq!(
        c.field("dashboard").column.strs(),
        ["slo-payments", "slo-search"]
    );
    let d = the_frame(&resp, "D");
    assert_alertable_number_table(&d);
    assert_eq!(d.rows(), 0, "an empty result is a frame with no rows");
}

#[tokio::test]
async fn a_bad_query_fails_alone_on_its_own_ref_id() {
    let (_d, mut p) = seeded().await;
    let mut malformed = query("BAD", "events", json!({}), 0, 1);
    malformed.json = b"{nope".to_vec();
    let mut no_range = query("NORANGE", "teams", json!({}), 0, 1);
    no_range.time_range = None;
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                malformed,
                no_range,
                query("UNKNOWN", "vote", json!({}), 0, 1),
                query("WRONGTYPE", "events", json!({"limit": "many"}), 0, 1),
                query("GOOD", "teams", json!({}), 0, 1),
            ],
        )
        .await;
    for (ref_id, needle) in [
        ("BAD", "JSON"),
        ("NORANGE", "timeRange"),
        ("UNKNOWN", "vote"),
        ("WRONGTYPE", "limit"),
    ] {
        let (status, message) = frames_of(&resp, ref_id).expect_err(ref_id);
        assert_eq!(status, 400, "{ref_id}: {message}");
        assert!(message.contains(needle), "{ref_id}: {message}");
    }
    assert_eq!(the_frame(&resp, "GOOD").rows(), 2);
}

#[tokio::test]
async fn the_none_role_gets_forbidden_on_every_query() {
    let (_d, mut p) = seeded().await;
    let resp = p
        .query(
            p.ctx(1, Some(("x", "None"))),
            &[],
            vec![
                query("A", "teams", json!({}), 0, 1),
                query("B", "events", json!({}), 0, 1),
            ],
        )
        .await;
    for r in ["A", "B"] {
        let (status, message) = frames_of(&resp, r).expect_err(r);
        assert_eq!(status, 403, "{message}");
    }
    // The process keeps serving.
    let resp = p
        .query(p.viewer(1), &[], vec![query("A", "teams", json!({}), 0, 1)])
        .await;
    assert!(frames_of(&resp, "A").is_ok());
}

async fn views(p: &mut Plugin, org: i64) -> Vec<Value> {
    let v = p
        .ok(
            p.viewer(org),
            "GET",
            "events?kind=view&limit=5000",
            None,
            200,
        )
        .await;
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["source"] == "passive")
        .collect()
}

async fn wait_for_views(p: &mut Plugin, org: i64, n: usize) -> Vec<Value> {
    for _ in 0..30 {
        let v = views(p, org).await;
        if v.len() >= n {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    views(p, org).await
}

#[tokio::test]
async fn passive_views_are_recorded_once_per_session_and_never_for_alerts() {
    let (_d, mut p) = seeded().await;
    let q = || vec![query("A", "teams", json!({}), 0, 1)];
    let dash = [
        ("http_X-Dashboard-Uid", "slo-payments"),
        ("http_X-Panel-Id", "7"),
    ];
    for _ in 0..5 {
        p.query(p.ctx(1, Some(("alice", "Viewer"))), &dash, q())
            .await;
    }
    let recorded = wait_for_views(&mut p, 1, 1).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["user"], "alice");
    assert_eq!(recorded[0]["dashboardUid"], "slo-payments");
    assert_eq!(recorded[0]["panelId"], 7);
    // Alerting, users without a login and requests without a dashboard record nothing.
    p.query(
        p.ctx(1, Some(("bob", "Viewer"))),
        &[
            ("http_X-Dashboard-Uid", "slo-payments"),
            ("FromAlert", "true"),
        ],
        q(),
    )
    .await;
    p.query(p.ctx(1, Some(("", "Viewer"))), &dash, q()).await;
    p.query(p.ctx(1, None), &dash, q()).await;
    p.query(p.ctx(1, Some(("carol", "Viewer"))), &[], q()).await;
    // Another user, and another org, each get their own view.
    p.query(p.ctx(1, Some(("dave", "Viewer"))), &dash, q())
        .await;
    p.query(p.ctx(2, Some(("alice", "Viewer"))), &dash, q())
        .await;
    let recorded = wait_for_views(&mut p, 1, 2).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let users: Vec<String> = views(&mut p, 1)
        .await
        .iter()
        .map(|v| v["user"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        users.len(),
        2,
        "no view for alerts, empty logins or requests without a dashboard: {users:?}"
    );
    assert!(users.contains(&"dave".to_string()));
    assert_eq!(wait_for_views(&mut p, 2, 1).await.len(), 1);
}

#[tokio::test]
async fn a_new_session_bucket_records_a_new_view() {
    // One-minute sessions make the bucket boundary reachable in a test.
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    p.set_json_data(json!({"viewSessionMinutes": 1}));
    let dash = [("http_X-Dashboard-Uid", "d1")];
    p.query(
        p.ctx(1, Some(("alice", "Viewer"))),
        &dash,
        vec![query("A", "teams", json!({}), 0, 1)],
    )
    .await;
    let first = wait_for_views(&mut p, 1, 1).await;
    assert_eq!(first.len(), 1);
    let t0 = first[0]["time"].as_i64().expect("time");
    let next_bucket = (t0 / 60_000 + 1) * 60_000;
    let wait = next_bucket - chrono_now() + 50;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    p.query(
        p.ctx(1, Some(("alice", "Viewer"))),
        &dash,
        vec![query("A", "teams", json!({}), 0, 1)],
    )
    .await;
    assert_eq!(wait_for_views(&mut p, 1, 2).await.len(), 2);
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn collect_metrics_counts_requests_by_endpoint_and_query_type() {
    let (_d, mut p) = seeded().await;
    p.query(
        p.viewer(1),
        &[],
        vec![
            query("A", "teams", json!({}), 0, 1),
            query("B", "vote", json!({}), 0, 1),
        ],
    )
    .await;
    let m = p
        .diagnostics
        .collect_metrics(grafana_plugin_sdk::pluginv2::CollectMetricsRequest {
            plugin_context: None,
        })
        .await
        .expect("metrics")
        .into_inner();
    let text = String::from_utf8(m.metrics.expect("payload").prometheus).expect("utf8");
    assert!(
        text.contains("maturity_requests_total{kind=\"query\",name=\"teams\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("maturity_errors_total{kind=\"query\",name=\"unknown\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("maturity_requests_total{kind=\"resource\",name=\"POST /teams\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("maturity_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("maturity_store_size_bytes"), "{text}");
}

/// Issue 11, defect 8: a passive view's dashboard uid had no size limit (a 5 MiB header was
/// stored). One longer than any dashboard uid is not recorded but counted as dropped; the
/// query still answers.
#[tokio::test]
async fn a_passive_view_of_an_over_long_dashboard_uid_is_counted_not_stored() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let huge = "d".repeat(5 << 20);
    let longest = "e".repeat(maturity::app::limits::MAX_UID_CHARS);
    for (user, uid) in [("alice", huge.as_str()), ("bob", longest.as_str())] {
        let resp = p
            .query(
                p.ctx(1, Some((user, "Viewer"))),
                &[("http_X-Dashboard-Uid", uid)],
                vec![query("A", "teams", json!({}), 0, 1)],
            )
            .await;
        assert!(frames_of(&resp, "A").is_ok(), "the query answers");
    }
    let recorded = wait_for_views(&mut p, 1, 1).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let recorded_later = views(&mut p, 1).await;
    assert_eq!(recorded.len(), 1, "only the uid of a sane length");
    assert_eq!(recorded_later.len(), 1);
    assert_eq!(recorded[0]["user"], "bob");
    let m = p
        .diagnostics
        .collect_metrics(grafana_plugin_sdk::pluginv2::CollectMetricsRequest {
            plugin_context: None,
        })
        .await
        .expect("metrics")
        .into_inner();
    let text = String::from_utf8(m.metrics.expect("payload").prometheus).expect("utf8");
    assert!(
        text.contains("maturity_passive_views_dropped_total 1"),
        "{text}"
    );
}
