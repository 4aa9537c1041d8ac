//! Builders of teams, events and targets for the engine's tests (test-only).

use serde_json::{Map, Value};

use crate::model::{
    Direction, EpochMs, Event, EventKind, Source, Target, Team, Verdict, Verification, DAY_MS,
};

/// The evaluation instant of most tests: 2026-06-01T00:00:00Z.
pub const T: EpochMs = 1_780_272_000_000;
/// One day.
pub const D: i64 = DAY_MS;
/// The default window (12 weeks).
pub const W: i64 = 84 * DAY_MS;

/// Team `id` with dashboard `slo-<id>`, members alice and bob, weekly cadence.
pub fn team(id: &str) -> Team {
    Team {
        id: id.into(),
        name: id.into(),
        dashboards: vec![format!("slo-{id}")],
        members: vec!["alice".into(), "bob".into()],
        cadence_days: 7,
        created_at: 0,
    }
}

/// An event of `kind` for team `pay` by alice.
pub fn ev(id: &str, kind: EventKind, time: EpochMs) -> Event {
    Event {
        id: id.into(),
        kind,
        time,
        time_end: None,
        team: Some("pay".into()),
        dashboard_uid: None,
        panel_id: None,
        user: "alice".into(),
        text: String::new(),
        tags: vec![],
        data: Map::new(),
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    }
}

/// The same event for another team.
pub fn for_team(mut e: Event, team: &str) -> Event {
    e.team = Some(team.into());
    e
}

/// A view of `dashboard` by `user` (no team).
pub fn view(id: &str, time: EpochMs, dashboard: &str, user: &str) -> Event {
    let mut e = ev(id, EventKind::View, time);
    e.team = None;
    e.dashboard_uid = Some(dashboard.into());
    e.user = user.into();
    e
}

/// A decision with an explicit follow-up.
pub fn decision_due(id: &str, time: EpochMs, follow_up_at: EpochMs) -> Event {
    let mut e = ev(id, EventKind::Decision, time);
    e.data
        .insert("followUpAt".into(), Value::from(follow_up_at));
    e
}

/// An outcome of `decision`.
pub fn outcome(id: &str, time: EpochMs, decision: &str) -> Event {
    let mut e = ev(id, EventKind::Outcome, time);
    e.data.insert("decisionId".into(), Value::from(decision));
    e.data.insert("result".into(), Value::from("confirmed"));
    e
}

/// A defined target of team `pay` (baseline 10 → 8, decreasing).
pub fn target(id: &str, start_at: EpochMs, deadline: EpochMs) -> Target {
    Target {
        id: id.into(),
        team: "pay".into(),
        name: id.into(),
        unit: None,
        direction: Direction::Decrease,
        baseline: Some(10.0),
        target: Some(8.0),
        start_at,
        deadline: Some(deadline),
        query: None,
        actuals: vec![],
        verification: None,
        created_at: 0,
    }
}

/// A target without numbers.
pub fn undefined_target(id: &str, start_at: EpochMs) -> Target {
    Target {
        baseline: None,
        target: None,
        deadline: None,
        ..target(id, start_at, 0)
    }
}

/// The target with a verification.
pub fn verified(mut t: Target, at: EpochMs, verdict: Verdict, learnings: &str) -> Target {
    t.verification = Some(Verification {
        verdict,
        actual: None,
        learnings: learnings.into(),
        verified_at: at,
        verified_by: "alice".into(),
    });
    t
}
