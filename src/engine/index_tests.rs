//! The per-team index (test-only): evaluating many teams through [`EvidenceIndex`] gives
//! exactly the answers of evaluating each team over all the events (issue 6: `maturity` for
//! all teams reads the events once instead of once per team).

use proptest::prelude::*;
use serde_json::Value;

use crate::engine::test_support::{self as ts, D, T};
use crate::engine::{
    evaluate, history_steps, level_changes_over, level_history, EvidenceIndex, MaturitySettings,
    TeamEvidence,
};
use crate::model::{Event, EventKind, Team};

const TEAMS: [&str; 3] = ["pay", "ops", "web"];

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Review),
        Just(EventKind::View),
        Just(EventKind::Question),
        Just(EventKind::Decision),
        Just(EventKind::Outcome),
        Just(EventKind::MetricChange),
        Just(EventKind::Note),
    ]
}

/// Events of any of three teams (or none), on their dashboards, a shared one or none;
/// outcomes name any event id (a decision of any team, or not a decision at all).
fn event(i: usize) -> impl Strategy<Value = Event> {
    (
        kind(),
        0i64..200,
        proptest::option::of(proptest::sample::select(TEAMS.to_vec())),
        prop_oneof![
            Just(Some("slo-pay")),
            Just(Some("slo-ops")),
            Just(Some("shared")),
            Just(None)
        ],
        prop_oneof![Just("alice"), Just("bob"), Just("mallory")],
        proptest::option::of(0i64..100),
        0usize..30,
    )
        .prop_map(move |(kind, days, team, dash, user, follow_up, named)| {
            let mut e = ts::ev(&format!("e{i:02}"), kind, T - days * D);
            e.team = team.map(str::to_string);
            e.dashboard_uid = dash.map(str::to_string);
            e.user = user.to_string();
            match kind {
                EventKind::Decision => {
                    if let Some(f) = follow_up {
                        e.data.insert("followUpAt".into(), Value::from(T - f * D));
                    }
                }
                EventKind::Outcome => {
                    e.data
                        .insert("decisionId".into(), Value::from(format!("e{named:02}")));
                }
                _ => {}
            }
            e
        })
}

fn teams() -> Vec<Team> {
    let mut pay = ts::team("pay");
    pay.dashboards.push("shared".into());
    let mut ops = ts::team("ops");
    ops.members.clear();
    ops.dashboards.push("shared".into());
    // A team that lists a dashboard twice and owns no events of its own.
    let mut web = ts::team("web");
    web.dashboards = vec!["shared".into(), "shared".into()];
    vec![pay, ops, web]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn evaluating_through_the_index_equals_evaluating_over_every_event(
        events in (0usize..30).prop_flat_map(|n| (0..n).map(event).collect::<Vec<_>>()),
        days_before in 0i64..60,
    ) {
        let settings = MaturitySettings::default();
        let at = T - days_before * D;
        let index = EvidenceIndex::new(&events);
        let steps = history_steps(at - 60 * D, at, 3 * D);
        for team in &teams() {
            let indexed = TeamEvidence::from_events(&settings, team, index.for_team(team), &[]);
            prop_assert_eq!(indexed.evaluate(at), evaluate(&settings, team, &events, &[], at));
            prop_assert_eq!(
                indexed.level_history(&steps),
                level_history(&settings, team, &events, &[], &steps)
            );
            prop_assert_eq!(
                indexed.level_changes(&steps),
                level_changes_over(&settings, team, &events, &[], &steps)
            );
        }
    }
}
