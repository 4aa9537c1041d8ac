//! `reviewAgenda` through the running binary (issue 13): on a store where every kind of
//! item is due at once, the agenda lists each one, most urgent first, with a sentence of
//! numbers; then each is dealt with the way a team would — an outcome posted for each
//! decision, an actual back on plan, the verifications recorded, the dashboards marked
//! reviewed — and it leaves the agenda, until the agenda is an empty frame.
//!
//! Times are relative to the real clock: the queries' range ends a second before now, so
//! `T` is the range's end, and every fix is recorded before it.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// One row of the agenda frame.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    team: String,
    item: String,
    subject: String,
    detail: String,
    since: i64,
    dashboard: Option<String>,
}

/// The `reviewAgenda` answer at now − 1 s, as rows, after checking the frame's shape.
async fn agenda(p: &mut Plugin, team: Value) -> (i64, Vec<Row>) {
    let t = now_ms() - 1000;
    let resp = p
        .query(
            p.viewer(1),
            &[],
            vec![query(
                "A",
                "reviewAgenda",
                json!({ "team": team }),
                t - DAY,
                t,
            )],
        )
        .await;
    let mut frames = frames_of(&resp, "A").expect("reviewAgenda answers");
    assert_eq!(frames.len(), 1);
    let f = frames.remove(0);
    assert_eq!(f.name, "reviewAgenda");
    assert_eq!(
        f.names(),
        ["team", "item", "subject", "detail", "since", "dashboardUid"]
    );
    assert!(f.field("dashboardUid").nullable);
    let dashboards = match &f.field("dashboardUid").column {
        Column::Str(v) => v.clone(),
        other => panic!("dashboardUid is not a string column: {other:?}"),
    };
    let rows = (0..f.rows())
        .map(|i| Row {
            team: f.field("team").column.strs()[i].clone(),
            item: f.field("item").column.strs()[i].clone(),
            subject: f.field("subject").column.strs()[i].clone(),
            detail: f.field("detail").column.strs()[i].clone(),
            since: f.field("since").column.times()[i].expect("since is set"),
            dashboard: dashboards[i].clone(),
        })
        .collect();
    (t, rows)
}

fn items(rows: &[Row]) -> Vec<(&str, &str)> {
    rows.iter()
        .map(|r| (r.item.as_str(), r.subject.as_str()))
        .collect()
}

fn row<'r>(rows: &'r [Row], item: &str) -> &'r Row {
    rows.iter()
        .find(|r| r.item == item)
        .unwrap_or_else(|| panic!("no {item} in {rows:#?}"))
}

async fn post_event(p: &mut Plugin, body: Value) {
    p.ok(p.editor(1), "POST", "events", Some(body), 201).await;
}

#[tokio::test]
async fn every_item_appears_in_urgency_order_and_leaves_when_it_is_dealt_with() {
    let (_d, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let n = now_ms() - 60_000;
    for (id, dashboards) in [
        ("payments", json!(["checkout-slo", "search-slo"])),
        ("search", json!(["search-home"])),
    ] {
        p.ok(
            p.admin(1),
            "POST",
            "teams",
            Some(json!({"id": id, "dashboards": dashboards})),
            201,
        )
        .await;
    }
    // search reviewed an hour ago and has nothing else: nothing to discuss.
    post_event(
        &mut p,
        json!({"kind": "review", "team": "search", "time": n - HOUR, "text": "weekly"}),
    )
    .await;
    // payments: reviewed 10 days ago (cadence 7), when a question 85 days old still counted.
    post_event(
        &mut p,
        json!({"kind": "review", "team": "payments", "time": n - 10 * DAY, "text": "weekly"}),
    )
    .await;
    post_event(
        &mut p,
        json!({"kind": "question", "team": "payments", "time": n - 85 * DAY - HOUR, "text": "why Mondays?"}),
    )
    .await;
    // Decisions: due 3 days ago, due 10 days ago, and one with a suggested outcome.
    post_event(
        &mut p,
        json!({"id": "d-due", "kind": "decision", "team": "payments", "time": n - 20 * DAY,
               "dashboardUid": "checkout-slo", "text": "Retry soft declines",
               "data": {"owner": "alice", "followUpAt": n - 3 * DAY}}),
    )
    .await;
    post_event(
        &mut p,
        json!({"id": "d-late", "kind": "decision", "team": "payments", "time": n - 30 * DAY,
               "text": "Cache the BIN table", "data": {"followUpAt": n - 10 * DAY}}),
    )
    .await;
    post_event(
        &mut p,
        json!({"id": "d-sugg", "kind": "decision", "team": "payments", "time": n - 16 * DAY,
               "text": "Drop the third-party widget",
               "data": {"followUpAt": n - 2 * DAY, "suggestedOutcome": {
                   "result": "not_confirmed", "before": 2.1, "after": 2.35,
                   "evaluatedAt": n - 2 * DAY + HOUR}}}),
    )
    .await;
    // Targets (10 → 8, decreasing): one behind plan, one just past its deadline, one past
    // its deadline and the 14-day grace.
    for (id, start, deadline, actuals) in [
        (
            "conv",
            n - 50 * DAY,
            n + 50 * DAY,
            json!([{"time": n - 20 * DAY, "value": 9.9}]),
        ),
        (
            "soon",
            n - 103 * DAY,
            n - 3 * DAY,
            json!([{"time": n - 4 * DAY, "value": 9.0}]),
        ),
        ("late", n - 120 * DAY, n - 20 * DAY, json!([])),
    ] {
        p.ok(
            p.editor(1),
            "POST",
            "targets",
            Some(
                json!({"id": id, "team": "payments", "name": format!("{id} rate"), "unit": "%",
                        "direction": "decrease", "baseline": 10, "target": 8,
                        "startAt": start, "deadline": deadline, "actuals": actuals}),
            ),
            201,
        )
        .await;
    }

    let (t, rows) = agenda(&mut p, json!("*")).await;
    assert!(rows.iter().all(|r| r.team == "payments"), "{rows:#?}");
    assert_eq!(
        items(&rows),
        [
            // Overdue or lapsed, oldest first (ties by item name).
            ("verification_due", "late"),
            ("follow_up_overdue", "d-late"),
            ("review_lapsed", "payments"),
            // Due now, oldest first.
            ("target_off_track", "conv"),
            ("follow_up_due", "d-due"),
            ("target_due", "soon"),
            ("level_dropped", "adhoc_queries"),
            // Suggestions.
            ("outcome_suggested", "d-sugg"),
        ],
        "{rows:#?}"
    );
    let r = row(&rows, "verification_due");
    assert_eq!(r.since, n - 20 * DAY + 14 * DAY);
    assert_eq!(
        r.detail,
        "'late rate' passed its deadline 20 days ago (target 8%, last actual none) and nobody verified it; the grace is 14 days"
    );
    let r = row(&rows, "follow_up_overdue");
    assert_eq!(r.since, n - 3 * DAY);
    assert_eq!(
        r.detail,
        "Decision 'Cache the BIN table' was due for follow-up 10 days ago and has no outcome; the cadence is 7 days"
    );
    let r = row(&rows, "review_lapsed");
    assert_eq!((r.since, r.dashboard.as_deref()), (n - 3 * DAY, None));
    assert_eq!(
        r.detail,
        "No review of team payments for 10 days; the cadence is 7 days"
    );
    let r = row(&rows, "target_off_track");
    assert_eq!(r.since, n - 25 * DAY, "off track since its quarter mark");
    assert!(
        r.detail
            .starts_with("'conv rate' is behind plan: the last actual, 9.9% (20 days ago), against 9.4% planned then; target 8% in 49 days"),
        "{}",
        r.detail
    );
    let r = row(&rows, "follow_up_due");
    assert_eq!(
        (r.since, r.dashboard.as_deref()),
        (n - 3 * DAY, Some("checkout-slo"))
    );
    assert_eq!(
        r.detail,
        "Decision 'Retry soft declines' (owner alice) was due for follow-up 3 days ago"
    );
    let r = row(&rows, "target_due");
    assert_eq!(r.since, n - 3 * DAY);
    assert!(
        r.detail.starts_with(
            "'soon rate' passed its deadline 3 days ago (target 8%, last actual 9%): record its verification"
        ),
        "{}",
        r.detail
    );
    let r = row(&rows, "level_dropped");
    assert_eq!(r.since, t - DAY);
    assert!(
        r.detail
            .starts_with("Level 2 → 0 since the review recorded 10 days ago: adhoc_queries fails"),
        "{}",
        r.detail
    );
    let r = row(&rows, "outcome_suggested");
    assert_eq!(r.since, n - 2 * DAY + HOUR);
    assert_eq!(
        r.detail,
        "Decision 'Drop the third-party widget' was due for follow-up 2 days ago; suggested: not confirmed (2.1 before → 2.35 after)"
    );
    // One team's agenda; a team with nothing to discuss is a frame with no rows.
    let (_, only) = agenda(&mut p, json!(["payments"])).await;
    assert_eq!(items(&only), items(&rows));
    let (_, empty) = agenda(&mut p, json!("search")).await;
    assert!(empty.is_empty(), "{empty:#?}");

    // Each is dealt with; it leaves the agenda and the others stay.
    let fix = now_ms() - 30_000;
    let mut left: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.item.clone(), r.subject.clone()))
        .collect();
    let mut gone = |item: &str, rows: Vec<Row>| {
        left.retain(|(i, _)| i != item);
        let now: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.item.clone(), r.subject.clone()))
            .collect();
        assert_eq!(now, left, "after dealing with {item}");
    };
    for (decision, item, result) in [
        ("d-due", "follow_up_due", "confirmed"),
        ("d-late", "follow_up_overdue", "inconclusive"),
        ("d-sugg", "outcome_suggested", "not_confirmed"),
    ] {
        post_event(
            &mut p,
            json!({"kind": "outcome", "team": "payments", "time": fix,
                   "data": {"decisionId": decision, "result": result}}),
        )
        .await;
        gone(item, agenda(&mut p, json!("*")).await.1);
    }
    p.ok(
        p.editor(1),
        "POST",
        "targets/conv/actuals",
        Some(json!({"time": fix, "value": 9.0})),
        200,
    )
    .await;
    gone("target_off_track", agenda(&mut p, json!("*")).await.1);
    for (id, item, body) in [
        (
            "soon",
            "target_due",
            json!({"verdict": "missed", "learnings": "the retries hid the declines", "verifiedAt": fix}),
        ),
        (
            "late",
            "verification_due",
            json!({"verdict": "met", "learnings": "", "verifiedAt": fix}),
        ),
    ] {
        p.ok(
            p.editor(1),
            "POST",
            &format!("targets/{id}/verification"),
            Some(body),
            200,
        )
        .await;
        gone(item, agenda(&mut p, json!("*")).await.1);
    }
    // The panel's "Mark reviewed" names its dashboard: the team is reviewed (and sees
    // today's level), the dashboard it did not name has still lapsed.
    post_event(
        &mut p,
        json!({"kind": "review", "team": "payments", "time": fix,
               "data": {"dashboards": ["checkout-slo"]}}),
    )
    .await;
    let (_, rows) = agenda(&mut p, json!("*")).await;
    assert_eq!(items(&rows), [("review_lapsed", "search-slo")], "{rows:#?}");
    assert_eq!(rows[0].dashboard.as_deref(), Some("search-slo"));
    assert_eq!(rows[0].since, n - 3 * DAY);
    assert_eq!(
        rows[0].detail,
        "No review of search-slo for 10 days; the cadence is 7 days"
    );
    post_event(
        &mut p,
        json!({"kind": "review", "team": "payments", "time": fix,
               "data": {"dashboards": ["search-slo"]}}),
    )
    .await;
    let (_, rows) = agenda(&mut p, json!("*")).await;
    assert!(rows.is_empty(), "{rows:#?}");
}
