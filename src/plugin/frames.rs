//! Data frames from plain results: pure functions, one per query shape (SPEC §4.1, §4.3).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use grafana_plugin_sdk::data::{Field, Frame};
use grafana_plugin_sdk::prelude::*;

use crate::app::loops::{FollowUpRow, TargetReport, TargetSeries};
use crate::app::queries::{Activity, Lapse};
use crate::engine::{Evaluation, LevelChange, LevelPoint};
use crate::model::{EpochMs, Event, Team};

fn time(ms: EpochMs) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn labelled(field: Field, key: &str, value: &str) -> Field {
    field.with_labels(BTreeMap::from([(key.to_string(), value.to_string())]))
}

/// The first line of a text, as an annotation title.
fn title_of(e: &Event) -> String {
    let first = e.text.lines().next().unwrap_or_default();
    if first.is_empty() {
        e.kind.as_str().replace('_', " ")
    } else {
        first.to_string()
    }
}

/// `events`: annotation-shaped, so Grafana's default mapping applies.
pub fn events(events: &[Event]) -> Frame {
    [
        events.iter().map(|e| time(e.time)).into_field("time"),
        events
            .iter()
            .map(|e| e.time_end.map(time))
            .into_opt_field("timeEnd"),
        events.iter().map(title_of).into_field("title"),
        events.iter().map(|e| e.text.clone()).into_field("text"),
        events.iter().map(|e| e.tags.join(",")).into_field("tags"),
        events.iter().map(|e| e.id.clone()).into_field("id"),
        events.iter().map(|e| e.kind.as_str()).into_field("kind"),
        events
            .iter()
            .map(|e| e.team.clone().unwrap_or_default())
            .into_field("team"),
        events
            .iter()
            .map(|e| e.dashboard_uid.clone().unwrap_or_default())
            .into_field("dashboardUID"),
        events.iter().map(|e| e.user.clone()).into_field("login"),
    ]
    .into_frame("events")
}

/// `levelChanges`: annotation-shaped like `events`.
pub fn level_changes(changes: &[(String, LevelChange)]) -> Frame {
    [
        changes.iter().map(|(_, c)| time(c.time)).into_field("time"),
        changes
            .iter()
            .map(|_| None::<DateTime<Utc>>)
            .into_opt_field("timeEnd"),
        changes
            .iter()
            .map(|(t, c)| format!("{t}: level {} → {}", c.from, c.to))
            .into_field("title"),
        changes
            .iter()
            .map(|(_, c)| c.text.clone())
            .into_field("text"),
        changes
            .iter()
            .map(|(t, c)| format!("level-change,{t},{}", c.criterion))
            .into_field("tags"),
        changes
            .iter()
            .map(|(t, c)| format!("{t}:{}", c.time))
            .into_field("id"),
        changes.iter().map(|_| "level_change").into_field("kind"),
        changes.iter().map(|(t, _)| t.clone()).into_field("team"),
        changes.iter().map(|_| "").into_field("dashboardUID"),
        changes.iter().map(|_| "").into_field("login"),
    ]
    .into_frame("levelChanges")
}

/// `teams`: one string field for template variables.
pub fn teams(teams: &[Team]) -> Frame {
    [teams.iter().map(|t| t.id.clone()).into_field("team")].into_frame("teams")
}

/// `reviewActivity`: one wide frame, a shared `time` and four counts per team.
pub fn review_activity(activity: &[Activity]) -> Frame {
    let times = activity
        .first()
        .map(|a| a.times.clone())
        .unwrap_or_default();
    let mut fields = vec![times.iter().map(|t| time(*t)).into_field("time")];
    for a in activity {
        for (name, values) in [
            ("reviews", &a.reviews),
            ("views", &a.views),
            ("decisions", &a.decisions),
            ("questions", &a.questions),
        ] {
            fields.push(labelled(values.clone().into_field(name), "team", &a.team));
        }
    }
    fields.into_frame("reviewActivity")
}

/// Which number `reviewLapse` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LapseMeasure {
    /// Hours since the last review evidence.
    HoursSinceReview,
    /// That minus the team's cadence in hours.
    HoursOverdue,
}

/// `reviewLapse`: an alertable number table (strings, then exactly one number).
pub fn review_lapse(rows: &[Lapse], measure: LapseMeasure) -> Frame {
    let (name, values): (&str, Vec<f64>) = match measure {
        LapseMeasure::HoursSinceReview => (
            "hours_since_review",
            rows.iter().map(|r| r.hours_since_review).collect(),
        ),
        LapseMeasure::HoursOverdue => (
            "hours_overdue",
            rows.iter()
                .map(|r| r.hours_since_review - r.cadence_hours)
                .collect(),
        ),
    };
    [
        rows.iter().map(|r| r.team.clone()).into_field("team"),
        rows.iter()
            .map(|r| r.dashboard.clone())
            .into_field("dashboard"),
        values.into_field(name),
    ]
    .into_frame("reviewLapse")
}

/// `maturity`: an alertable number table, one row per team.
pub fn maturity(evals: &[Evaluation]) -> Frame {
    [
        evals.iter().map(|e| e.team.clone()).into_field("team"),
        evals.iter().map(|e| f64::from(e.level)).into_field("level"),
    ]
    .into_frame("maturity")
}

/// `criteria`: one row per team × criterion.
pub fn criteria(evals: &[Evaluation]) -> Frame {
    let rows: Vec<_> = evals
        .iter()
        .flat_map(|e| e.criteria.iter().map(move |c| (e.team.as_str(), c)))
        .collect();
    [
        rows.iter().map(|(t, _)| t.to_string()).into_field("team"),
        rows.iter()
            .map(|(_, c)| f64::from(c.level))
            .into_field("level"),
        rows.iter().map(|(_, c)| c.id).into_field("criterion"),
        rows.iter().map(|(_, c)| c.passed).into_field("passed"),
        rows.iter().map(|(_, c)| c.value).into_field("value"),
        rows.iter()
            .map(|(_, c)| c.threshold)
            .into_field("threshold"),
        rows.iter()
            .map(|(_, c)| {
                if c.passed {
                    String::new()
                } else {
                    c.detail.clone()
                }
            })
            .into_field("detail"),
    ]
    .into_frame("criteria")
}

/// `maturityHistory`: a wide series, `time` plus one `level` per team labelled `team=<id>`.
pub fn maturity_history(steps: &[EpochMs], history: &[(String, Vec<LevelPoint>)]) -> Frame {
    let mut fields = vec![steps.iter().map(|t| time(*t)).into_field("time")];
    for (team, evals) in history {
        fields.push(labelled(
            evals.iter().map(|e| f64::from(e.level)).into_field("level"),
            "team",
            team,
        ));
    }
    fields.into_frame("maturityHistory")
}

/// `targets`: one row per target with what is derived at `T`.
pub fn targets(reports: &[TargetReport]) -> Frame {
    [
        reports.iter().map(|r| r.target.id.clone()).into_field("id"),
        reports
            .iter()
            .map(|r| r.target.team.clone())
            .into_field("team"),
        reports
            .iter()
            .map(|r| r.target.name.clone())
            .into_field("name"),
        reports
            .iter()
            .map(|r| match r.target.direction {
                crate::model::Direction::Increase => "increase",
                crate::model::Direction::Decrease => "decrease",
            })
            .into_field("direction"),
        reports
            .iter()
            .map(|r| r.target.baseline)
            .into_opt_field("baseline"),
        reports
            .iter()
            .map(|r| r.target.target)
            .into_opt_field("target"),
        reports
            .iter()
            .map(|r| r.target.deadline.map(time))
            .into_opt_field("deadline"),
        reports
            .iter()
            .map(|r| r.view.latest_actual)
            .into_opt_field("latest_actual"),
        reports
            .iter()
            .map(|r| r.view.progress)
            .into_opt_field("progress"),
        reports
            .iter()
            .map(|r| r.view.status.as_str())
            .into_field("status"),
        reports
            .iter()
            .map(|r| r.view.projected_hit_at.map(time))
            .into_opt_field("projected_hit"),
    ]
    .into_frame("targets")
}

/// `targetSeries`: one wide frame per target, `actual` and `planned` labelled `target=<name>`.
pub fn target_series(s: &TargetSeries) -> Frame {
    [
        s.times.iter().map(|t| time(*t)).into_field("time"),
        labelled(s.actual.clone().into_opt_field("actual"), "target", &s.name),
        labelled(
            s.planned.clone().into_opt_field("planned"),
            "target",
            &s.name,
        ),
    ]
    .into_frame(s.name.clone())
}

/// `followUps`: decisions with their follow-up state.
pub fn follow_ups(rows: &[FollowUpRow]) -> Frame {
    [
        rows.iter().map(|r| r.id.clone()).into_field("id"),
        rows.iter().map(|r| r.team.clone()).into_field("team"),
        rows.iter().map(|r| r.text.clone()).into_field("text"),
        rows.iter()
            .map(|r| time(r.follow_up_at))
            .into_field("follow_up_at"),
        rows.iter().map(|r| r.status.as_str()).into_field("status"),
        rows.iter()
            .map(|r| r.result.clone().unwrap_or_default())
            .into_field("result"),
    ]
    .into_frame("followUps")
}

/// `followUpsOverdue` / `verificationDue`: alertable number tables of (team, what, days).
pub fn overdue(name: &str, what: &str, rows: &[(String, String, f64)]) -> Frame {
    [
        rows.iter().map(|r| r.0.clone()).into_field("team"),
        rows.iter().map(|r| r.1.clone()).into_field(what),
        rows.iter().map(|r| r.2).into_field("days_overdue"),
    ]
    .into_frame(name)
}
