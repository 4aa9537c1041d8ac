//! Frames from fixed inputs, pinned by golden files in `tests/golden/` (the SDK's JSON
//! form of a frame: schema, field types, labels and values). Rewriting the goldens is
//! opt-in: `UPDATE_GOLDEN=1 cargo test --test frames_golden`.

use std::path::PathBuf;

use grafana_plugin_sdk::data::Frame;
use maturity::app::loops::{FollowUpRow, TargetReport, TargetSeries};
use maturity::app::queries::{Activity, Lapse};
use maturity::engine::agenda::{AgendaItem, ItemKind};
use maturity::engine::targets::{FollowUpStatus, TargetStatus, TargetView};
use maturity::model::{Actual, Direction, Event, EventKind, Source, Target, DAY_MS};
use maturity::plugin::queries::review_lapse::{self, LapseMeasure};
use maturity::plugin::queries::{
    events, follow_ups, follow_ups_overdue, review_activity, review_agenda, target_series, targets,
    verification_due,
};

const T0: i64 = 1_780_272_000_000; // 2026-06-01T00:00:00Z

fn golden(name: &str, frame: &Frame) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let got = serde_json::to_string_pretty(frame).expect("frame json") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden {}; run with UPDATE_GOLDEN=1 once and review it",
            path.display()
        )
    });
    assert_eq!(got, want, "frame {name} differs from its golden file");
}

fn target(id: &str, name: &str) -> Target {
    Target {
        id: id.into(),
        team: "payments".into(),
        name: name.into(),
        unit: Some("ms".into()),
        direction: Direction::Decrease,
        baseline: Some(10.0),
        target: Some(8.0),
        start_at: T0 - 50 * DAY_MS,
        deadline: Some(T0 + 50 * DAY_MS),
        query: None,
        actuals: vec![Actual {
            time: T0 - DAY_MS,
            value: 9.0,
        }],
        verification: None,
        created_at: 0,
    }
}

#[test]
fn targets_frame() {
    let reports = vec![
        TargetReport {
            target: target("t1", "Latency"),
            view: TargetView {
                status: TargetStatus::OnTrack,
                latest_actual: Some(9.0),
                progress: Some(0.5),
                projected_hit_at: Some(T0 + 40 * DAY_MS),
            },
            last_error: Some(serde_json::json!({
                "at": T0, "message": "the query answered no data: no frame", "fault": "query"
            })),
        },
        TargetReport {
            target: Target {
                baseline: None,
                target: None,
                deadline: None,
                actuals: vec![],
                ..target("t2", "Checkout revamp")
            },
            view: TargetView {
                status: TargetStatus::Undefined,
                latest_actual: None,
                progress: None,
                projected_hit_at: None,
            },
            last_error: None,
        },
    ];
    golden("targets", &targets::frame(&reports));
}

#[test]
fn target_series_frame() {
    let s = TargetSeries {
        name: "Latency".into(),
        times: vec![T0 - 50 * DAY_MS, T0 - DAY_MS, T0 + 50 * DAY_MS],
        actual: vec![None, Some(9.0), None],
        planned: vec![Some(10.0), Some(9.02), Some(8.0)],
    };
    golden("target_series", &target_series::frame(&s));
}

#[test]
fn follow_ups_frame() {
    let rows = vec![
        FollowUpRow {
            id: "d1".into(),
            team: "payments".into(),
            text: "cache it".into(),
            follow_up_at: T0 - DAY_MS,
            status: FollowUpStatus::Overdue,
            result: None,
            suggested: Some(maturity::engine::suggest::SuggestedOutcome {
                result: maturity::model::OutcomeResult::NotConfirmed,
                before: Some(2.1),
                after: Some(2.35),
                evaluated_at: Some(T0 - 1),
            }),
        },
        FollowUpRow {
            id: "d2".into(),
            team: "search".into(),
            text: "".into(),
            follow_up_at: T0,
            status: FollowUpStatus::Done,
            result: Some("confirmed".into()),
            suggested: None,
        },
    ];
    golden("follow_ups", &follow_ups::frame(&rows));
}

#[test]
fn overdue_frames() {
    golden(
        "follow_ups_overdue",
        &follow_ups_overdue::frame([("payments", "d1", 3.5)].into_iter()),
    );
    golden(
        "verification_due",
        &verification_due::frame(&[("payments".into(), "Latency".into(), 2.0)]),
    );
    golden("verification_due_empty", &verification_due::frame(&[]));
}

#[test]
fn events_and_lapse_and_activity_frames() {
    let e = Event {
        id: "r1".into(),
        kind: EventKind::Review,
        time: T0,
        time_end: Some(T0 + 3_600_000),
        team: Some("payments".into()),
        dashboard_uid: Some("slo".into()),
        panel_id: None,
        user: "alice".into(),
        text: "weekly\nall green".into(),
        tags: vec!["weekly".into(), "review".into()],
        data: Default::default(),
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    };
    golden("events", &events::frame(vec![e]));
    let lapse = vec![Lapse {
        team: "payments".into(),
        dashboard: String::new(),
        hours_since_review: 30.0,
        cadence_hours: 168.0,
    }];
    golden(
        "review_lapse_overdue",
        &review_lapse::frame(&lapse, LapseMeasure::HoursOverdue),
    );
    let activity = vec![Activity {
        team: "payments".into(),
        times: vec![T0 - DAY_MS],
        reviews: vec![1.0],
        views: vec![2.0],
        decisions: vec![0.0],
        questions: vec![1.0],
    }];
    golden("review_activity", &review_activity::frame(&activity));
}

#[test]
fn review_agenda_frames() {
    let items = vec![
        AgendaItem {
            team: "payments".into(),
            item: ItemKind::ReviewLapsed,
            subject: "checkout-slo".into(),
            detail: "No review of checkout-slo for 9 days; the cadence is 7 days".into(),
            since: T0 - 2 * DAY_MS,
            dashboard_uid: Some("checkout-slo".into()),
        },
        AgendaItem {
            team: "payments".into(),
            item: ItemKind::OutcomeSuggested,
            subject: "d-42".into(),
            detail: "Decision 'Retry soft declines' was due for follow-up 3 days ago; suggested: not confirmed (2.1 before → 2.3 after)".into(),
            since: T0 - 3 * DAY_MS,
            dashboard_uid: None,
        },
    ];
    golden("review_agenda", &review_agenda::frame(&items));
    golden("review_agenda_empty", &review_agenda::frame(&[]));
}
