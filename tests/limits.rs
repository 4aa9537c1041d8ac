//! Issue 11, defect 1, through the running binary: every list a request may carry has a
//! limit (a 400 naming the field past it), every read answers for any list the API accepts,
//! and even a store holding longer lists (written before the limits) keeps answering.
//! No answer echoes SQL.

mod common;

use common::*;
use maturity::app::limits::MAX_LIST_ITEMS;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// `key=a&key=b&…` for each value.
fn repeated(key: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{key}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The answer of every all-team read: `GET /maturity`, and the maturity, reviewLapse and
/// events queries, each of which must answer without error.
async fn every_read_answers(p: &mut Plugin, org: i64) {
    let now = ms("2026-06-01T00:00:00Z");
    let (status, body) = p.call(p.viewer(org), "GET", "maturity", None).await;
    assert_eq!(status, 200, "GET /maturity answered {body}");
    let resp = p
        .query(
            p.viewer(org),
            &[],
            vec![
                query("M", "maturity", json!({}), now - 30 * DAY, now),
                query("L", "reviewLapse", json!({}), now - 30 * DAY, now),
                query(
                    "P",
                    "reviewLapse",
                    json!({"perDashboard": true}),
                    now - 30 * DAY,
                    now,
                ),
                query("E", "events", json!({}), now - 30 * DAY, now),
                query("C", "criteria", json!({}), now - 30 * DAY, now),
            ],
        )
        .await;
    for ref_id in ["M", "L", "P", "E", "C"] {
        if let Err(e) = frames_of(&resp, ref_id) {
            panic!("{ref_id} failed: {e:?}");
        }
    }
}

fn assert_no_sql(body: &Value) {
    let text = body.to_string();
    assert!(text.len() < 2000, "a short answer: {} bytes", text.len());
    for sql in ["SELECT", "json_each", "WHERE org_id"] {
        assert!(!text.contains(sql), "the answer echoes SQL: {text}");
    }
}

async fn expect_400(p: &mut Plugin, method: &str, path: &str, body: Option<Value>, field: &str) {
    let (status, answer) = p.call(p.admin(1), method, path, body).await;
    assert_eq!(
        status,
        400,
        "{method} {}… answered {answer}",
        &path[..path.len().min(60)]
    );
    assert_eq!(answer["error"], "invalid_argument", "{answer}");
    assert_eq!(answer["field"], field, "{answer}");
    assert_no_sql(&answer);
}

#[tokio::test]
async fn teams_with_the_most_dashboards_leave_every_alertable_read_working() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    // More teams than one evidence read holds (10), each at the limit: the reads of one
    // batch name 10,000 dashboards.
    for t in 0..12 {
        let dashboards = ids(&format!("t{t}-dash-"), MAX_LIST_ITEMS);
        let members = ids("user", MAX_LIST_ITEMS);
        p.ok(
            p.editor(1),
            "POST",
            "teams",
            Some(json!({"id": format!("team-{t}"), "dashboards": dashboards, "members": members})),
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
            {"kind": "view", "dashboardUid": "t3-dash-999", "time": now - DAY},
            {"kind": "review", "team": "team-3", "time": now - 2 * DAY,
             "data": {"attendees": ids("user", MAX_LIST_ITEMS), "dashboards": ids("t3-dash-", MAX_LIST_ITEMS)}},
        ])),
        201,
    )
    .await;
    every_read_answers(&mut p, 1).await;
    let all_teams = ids("team-", 12);
    let many = [all_teams.clone(), ids("nope-", MAX_LIST_ITEMS - 12)].concat();
    let body = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("maturity?{}", repeated("team", &many)),
            None,
            200,
        )
        .await;
    assert_eq!(body.as_array().map(Vec::len), Some(12));
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query(
                "M",
                "maturity",
                json!({"team": many}),
                now - DAY,
                now,
            )],
        )
        .await;
    assert_eq!(frames_of(&resp, "M").expect("maturity")[0].rows(), 12);
}

#[tokio::test]
async fn every_list_of_a_request_has_a_limit_that_names_the_field() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let over = MAX_LIST_ITEMS + 1;
    p.ok(p.admin(1), "POST", "teams", Some(json!({"id": "p"})), 201)
        .await;
    expect_400(
        &mut p,
        "POST",
        "teams",
        Some(json!({"id": "q", "dashboards": ids("d", 40_000)})),
        "dashboards",
    )
    .await;
    expect_400(
        &mut p,
        "PUT",
        "teams/p",
        Some(json!({"members": ids("m", over)})),
        "members",
    )
    .await;
    expect_400(
        &mut p,
        "POST",
        "events",
        Some(json!({"kind": "note", "team": "p", "tags": ids("t", over)})),
        "tags",
    )
    .await;
    expect_400(
        &mut p,
        "POST",
        "events",
        Some(json!([{"kind": "note"}, {"kind": "review", "team": "p", "data": {"attendees": ids("a", over)}}])),
        "[1].data.attendees",
    )
    .await;
    expect_400(
        &mut p,
        "POST",
        "annotations",
        Some(json!({"text": "x", "tags": ids("t", over)})),
        "tags",
    )
    .await;
    // Filters: repeated, comma-joined, or both.
    let kinds = vec!["review".to_string(); 40_000];
    expect_400(
        &mut p,
        "GET",
        &format!("events?{}", repeated("kind", &kinds)),
        None,
        "kind",
    )
    .await;
    expect_400(
        &mut p,
        "GET",
        &format!("events?team={}", ids("t", 33_000).join(",")),
        None,
        "team",
    )
    .await;
    expect_400(
        &mut p,
        "GET",
        &format!("annotations?{}", repeated("tags", &ids("t", over))),
        None,
        "tags",
    )
    .await;
    expect_400(
        &mut p,
        "GET",
        &format!(
            "events?{}&{}",
            repeated("tags", &ids("a", 600)),
            repeated("tag", &ids("b", 600))
        ),
        None,
        "tags",
    )
    .await;
    expect_400(
        &mut p,
        "GET",
        &format!("targets?{}", repeated("team", &ids("t", over))),
        None,
        "team",
    )
    .await;
    expect_400(
        &mut p,
        "GET",
        &format!("maturity?team={}", ids("t", over).join(",")),
        None,
        "team",
    )
    .await;
    // Queries: the error is on the query's own refId and names the field.
    let now = ms("2026-06-01T00:00:00Z");
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query("T", "maturity", json!({"team": ids("t", 33_000)}), 0, now),
                query(
                    "S",
                    "reviewLapse",
                    json!({"team": ids("t", over).join(",")}),
                    0,
                    now,
                ),
                query(
                    "K",
                    "events",
                    json!({"kinds": vec!["review"; 40_000]}),
                    0,
                    now,
                ),
                query("G", "events", json!({"tags": ids("t", over)}), 0, now),
                query("OK", "teams", json!({}), 0, now),
            ],
        )
        .await;
    for (ref_id, field) in [("T", "team"), ("S", "team"), ("K", "kinds"), ("G", "tags")] {
        let (status, message) = frames_of(&resp, ref_id).expect_err("over the limit");
        assert_eq!(status, 400, "{ref_id}: {message}");
        assert!(
            message.starts_with(&format!("{field}:")),
            "{ref_id}: {message}"
        );
        assert!(message.len() < 500, "{ref_id}: a short message");
    }
    assert!(frames_of(&resp, "OK").is_ok());
}

#[tokio::test]
async fn lists_at_the_limit_are_answered_by_every_read() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let now = ms("2026-06-01T00:00:00Z");
    p.ok(
        p.admin(1),
        "POST",
        "teams",
        Some(json!({"id": "p", "dashboards": ["d1"]})),
        201,
    )
    .await;
    let tags = ids("tag", MAX_LIST_ITEMS);
    p.ok(
        p.editor(1),
        "POST",
        "events",
        Some(json!({"id": "n1", "kind": "note", "team": "p", "time": now - DAY, "tags": tags})),
        201,
    )
    .await;
    let teams = [vec!["p".to_string()], ids("t", MAX_LIST_ITEMS - 1)].concat();
    let kinds: Vec<String> = ["note", "review"]
        .iter()
        .cycle()
        .take(MAX_LIST_ITEMS)
        .map(|k| k.to_string())
        .collect();
    for path in [
        format!("events?{}", repeated("tags", &tags)),
        format!("annotations?{}", repeated("tags", &tags)),
        format!("events?team={}", teams.join(",")),
        format!("events?{}", repeated("kind", &kinds)),
        format!(
            "events?{}&{}&{}",
            repeated("tags", &tags[..500]),
            repeated("team", &teams[..300]),
            repeated("kind", &kinds[..200])
        ),
    ] {
        let body = p.ok(p.viewer(1), "GET", &path, None, 200).await;
        assert_eq!(
            body.as_array().map(Vec::len),
            Some(1),
            "{}",
            &path[..path.len().min(60)]
        );
    }
    let body = p
        .ok(
            p.viewer(1),
            "GET",
            &format!("targets?{}", repeated("team", &teams)),
            None,
            200,
        )
        .await;
    assert_eq!(body, json!([]));
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![
                query(
                    "E",
                    "events",
                    json!({"team": teams, "tags": tags, "kinds": kinds}),
                    now - 2 * DAY,
                    now,
                ),
                query("L", "reviewLapse", json!({"team": teams}), now - DAY, now),
            ],
        )
        .await;
    assert_eq!(frames_of(&resp, "E").expect("events")[0].rows(), 1);
    assert_eq!(frames_of(&resp, "L").expect("lapse")[0].rows(), 1);
}

#[tokio::test]
async fn a_store_holding_longer_lists_than_the_api_takes_still_answers() {
    // A team written before the limits (issue 11 found one with 40,000 dashboards) must not
    // break the org's reads.
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    for t in 0..3 {
        p.ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": format!("team-{t}")})),
            201,
        )
        .await;
    }
    p.kill();
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let dashboards = serde_json::to_string(&ids("d", 40_000)).expect("json");
        let tags = serde_json::to_string(&ids("t", 5_000)).expect("json");
        conn.execute(
            "UPDATE teams SET dashboards = ?1, members = ?1",
            [&dashboards],
        )
        .expect("update");
        conn.execute(
            "INSERT INTO events (org_id, id, kind, time, team, user_login, text, tags, data, source, created_at, updated_at)
             VALUES (1, 'n1', 'note', 1, 'team-1', 'alice', '', ?1, '{}', 'api', 0, 0)",
            [&tags],
        )
        .expect("insert");
    }
    let mut p = Plugin::start(&db, &[]).await;
    every_read_answers(&mut p, 1).await;
    let body = p
        .ok(p.viewer(1), "GET", "events?tags=t1,t4999", None, 200)
        .await;
    assert_eq!(body.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_query_request_past_the_most_queries_answers_the_rest_on_their_own_ref_ids() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let max = maturity::plugin::server::MAX_QUERIES;
    let now = ms("2026-06-01T00:00:00Z");
    let queries: Vec<_> = (0..max + 5)
        .map(|i| query(&format!("Q{i}"), "teams", json!({}), now - 1, now))
        .collect();
    let resp = p.query(p.viewer(1), &[], queries).await;
    assert_eq!(resp.responses.len(), max + 5);
    assert!(frames_of(&resp, "Q0").is_ok());
    assert!(frames_of(&resp, &format!("Q{}", max - 1)).is_ok());
    let (status, message) = frames_of(&resp, &format!("Q{max}")).expect_err("past the limit");
    assert_eq!(status, 400);
    assert!(message.starts_with("queries:"), "{message}");
}
