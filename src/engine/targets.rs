//! Target math of SPEC §4.2 and decision follow-ups: glide path, status, progress, the
//! least-squares projection, and whether a decision is open, overdue or done at `T`.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{EpochMs, Event, EventKind, EventRef, Target, Verdict, DAY_MS};

use super::evidence::follow_up_at;
use super::settings::MaturitySettings;

/// Where a project stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Baseline, target or deadline is missing.
    Undefined,
    /// Before the deadline, keeping pace with the glide path.
    OnTrack,
    /// Before the deadline, behind the glide path.
    OffTrack,
    /// The deadline has passed and nobody checked the result yet.
    Due,
    /// Verified: the target was reached.
    Met,
    /// Verified: it was not.
    Missed,
}

impl TargetStatus {
    /// Every status, in the order of SPEC §4.2.
    pub const ALL: [TargetStatus; 6] = [
        TargetStatus::Undefined,
        TargetStatus::OnTrack,
        TargetStatus::OffTrack,
        TargetStatus::Due,
        TargetStatus::Met,
        TargetStatus::Missed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Undefined => "undefined",
            TargetStatus::OnTrack => "on_track",
            TargetStatus::OffTrack => "off_track",
            TargetStatus::Due => "due",
            TargetStatus::Met => "met",
            TargetStatus::Missed => "missed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<TargetStatus> {
        Self::ALL.into_iter().find(|s2| s2.as_str() == s)
    }
}

/// The derived numbers of a target at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    /// Status at the instant.
    pub status: TargetStatus,
    /// The last actual measured before the instant.
    pub latest_actual: Option<f64>,
    /// (last actual − baseline) / (target − baseline), clamped to [0, 1].
    pub progress: Option<f64>,
    /// Where the least-squares line through the actuals reaches the target.
    pub projected_hit_at: Option<EpochMs>,
}

/// The glide path at `t` (clamped to `[startAt, deadline]`); `None` for an undefined target.
pub fn planned(target: &Target, t: EpochMs) -> Option<f64> {
    let (b, goal, deadline) = (target.baseline?, target.target?, target.deadline?);
    let span = deadline - target.start_at;
    if span <= 0 {
        return Some(goal);
    }
    let t = t.clamp(target.start_at, deadline);
    Some(b + (goal - b) * ((t - target.start_at) as f64 / span as f64))
}

/// Actuals measured before `at` (strictly: like all evidence, only what precedes `T` counts).
fn actuals_before(target: &Target, at: EpochMs) -> impl Iterator<Item = &crate::model::Actual> {
    target.actuals.iter().filter(move |a| a.time < at)
}

/// The derived status, progress and projection of `target` at `at`.
pub fn view(settings: &MaturitySettings, target: &Target, at: EpochMs) -> TargetView {
    let latest = actuals_before(target, at).max_by_key(|a| a.time).copied();
    let latest_actual = latest.map(|a| a.value);
    let progress = match (target.baseline, target.target, latest_actual) {
        (Some(b), Some(goal), Some(a)) if goal != b => Some(((a - b) / (goal - b)).clamp(0.0, 1.0)),
        _ => None,
    };
    TargetView {
        status: status(settings, target, at),
        latest_actual,
        progress,
        projected_hit_at: projected_hit(target, at),
    }
}

/// SPEC §4.2 status. A verification made before `at` decides (met/missed) whatever the
/// deadline; otherwise an undefined target is `undefined`, a passed deadline is `due`, and
/// before it the last actual is compared with the glide path *at the actual's own time*
/// (so a measurement is judged against what the plan asked for when it was taken).
pub fn status(settings: &MaturitySettings, target: &Target, at: EpochMs) -> TargetStatus {
    if let Some(v) = target.verification.as_ref().filter(|v| v.verified_at < at) {
        return match v.verdict {
            Verdict::Met => TargetStatus::Met,
            Verdict::Missed => TargetStatus::Missed,
        };
    }
    let (Some(b), Some(goal), Some(deadline)) = (target.baseline, target.target, target.deadline)
    else {
        return TargetStatus::Undefined;
    };
    if at > deadline {
        return TargetStatus::Due;
    }
    let Some(last) = actuals_before(target, at).max_by_key(|a| a.time) else {
        // No actual yet: on track until a quarter of the time has passed.
        let quarter = target.start_at + (deadline - target.start_at) / 4;
        return if at <= quarter {
            TargetStatus::OnTrack
        } else {
            TargetStatus::OffTrack
        };
    };
    let plan = planned(target, last.time).unwrap_or(goal);
    let tolerance = settings.pace_tolerance * (goal - b).abs();
    let ahead = if goal >= b {
        last.value - plan
    } else {
        plan - last.value
    };
    if ahead >= -tolerance {
        TargetStatus::OnTrack
    } else {
        TargetStatus::OffTrack
    }
}

/// Where a least-squares line through the actuals since `startAt` (and before `at`)
/// reaches the target; `None` with fewer than two distinct times, a flat line, or a line
/// moving away from the target.
pub fn projected_hit(target: &Target, at: EpochMs) -> Option<EpochMs> {
    let goal = target.target?;
    let points: Vec<(f64, f64)> = actuals_before(target, at)
        .filter(|a| a.time >= target.start_at)
        .map(|a| (a.time as f64, a.value))
        .collect();
    if points.len() < 2 {
        return None;
    }
    // Centre times on the first point so the sums stay well inside f64 precision.
    let t0 = points[0].0;
    let n = points.len() as f64;
    let mean_t = points.iter().map(|(t, _)| t - t0).sum::<f64>() / n;
    let mean_v = points.iter().map(|(_, v)| v).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|(t, _)| (t - t0 - mean_t).powi(2)).sum();
    let sxy: f64 = points
        .iter()
        .map(|(t, v)| (t - t0 - mean_t) * (v - mean_v))
        .sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    if slope == 0.0 || !slope.is_finite() {
        return None;
    }
    // It must move toward the target from where the line stands at the last actual.
    let last_t = points.iter().map(|(t, _)| t - t0).fold(f64::MIN, f64::max);
    let at_last = mean_v + slope * (last_t - mean_t);
    let toward = (goal - at_last) * slope >= 0.0 || at_last == goal;
    if !toward {
        return None;
    }
    let hit = t0 + mean_t + (goal - mean_v) / slope;
    if hit.is_finite() && hit.abs() < 9.0e15 {
        Some(hit.round() as EpochMs)
    } else {
        None
    }
}

/// Days the verification is overdue at `at` (a target past its deadline, unverified).
pub fn verification_days_overdue(target: &Target, at: EpochMs) -> Option<f64> {
    let deadline = target.deadline?;
    let verified = target
        .verification
        .as_ref()
        .is_some_and(|v| v.verified_at < at);
    (target.is_defined() && !verified && at > deadline)
        .then(|| (at - deadline) as f64 / DAY_MS as f64)
}

/// Where a decision's follow-up stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// Not yet due, no outcome.
    Open,
    /// Due, no outcome.
    Overdue,
    /// An outcome names it.
    Done,
}

impl FollowUpStatus {
    /// Every status.
    pub const ALL: [FollowUpStatus; 3] = [
        FollowUpStatus::Open,
        FollowUpStatus::Overdue,
        FollowUpStatus::Done,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpStatus::Open => "open",
            FollowUpStatus::Overdue => "overdue",
            FollowUpStatus::Done => "done",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<FollowUpStatus> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// A decision and its follow-up at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp<'a> {
    /// The decision.
    pub decision: &'a Event,
    /// When it falls due.
    pub follow_up_at: EpochMs,
    /// Open, overdue or done.
    pub status: FollowUpStatus,
    /// The result of the latest outcome naming it, when done.
    pub result: Option<String>,
}

/// The follow-ups of the decisions among `events` taken before `at`, with their status at
/// `at` (outcomes count when recorded before `at`, by any team).
pub fn follow_ups<'a>(
    settings: &MaturitySettings,
    events: &'a [Event],
    at: EpochMs,
) -> Vec<FollowUp<'a>> {
    // The latest outcome naming each decision, found in one pass.
    let mut latest_outcome: HashMap<&str, &Event> = HashMap::new();
    for o in events
        .iter()
        .filter(|e| e.kind == EventKind::Outcome && e.time < at)
    {
        if let Some(d) = o.decision_id() {
            latest_outcome
                .entry(d)
                .and_modify(|cur| {
                    if (o.time, o.id.as_str()) >= (cur.time, cur.id.as_str()) {
                        *cur = o;
                    }
                })
                .or_insert(o);
        }
    }
    let mut out: Vec<FollowUp<'a>> = events
        .iter()
        .filter(|e| e.kind == EventKind::Decision && e.time < at)
        .map(|d| {
            let due = follow_up_at(settings, d);
            let latest = latest_outcome.get(d.id.as_str());
            let status = match latest {
                Some(_) => FollowUpStatus::Done,
                None if due < at => FollowUpStatus::Overdue,
                None => FollowUpStatus::Open,
            };
            FollowUp {
                decision: d,
                follow_up_at: due,
                status,
                result: latest.and_then(|o| {
                    o.data
                        .get("result")
                        .and_then(|r| r.as_str())
                        .map(String::from)
                }),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.follow_up_at
            .cmp(&b.follow_up_at)
            .then_with(|| a.decision.id.cmp(&b.decision.id))
    });
    out
}

/// A team's decisions with the outcomes naming them, kept without their events: all that
/// [`follow_ups`] reads, so a cache can answer for any instant from it (issue 15). A few
/// hundred bytes a decision instead of two events with their `data`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecisionLog {
    decisions: Vec<LoggedDecision>,
}

/// One decision of a [`DecisionLog`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedDecision {
    /// The decision's id.
    pub id: String,
    /// Its team.
    pub team: Option<String>,
    /// Its text.
    pub text: String,
    /// When it was taken.
    pub time: EpochMs,
    /// When it falls due ([`follow_up_at`]).
    pub follow_up_at: EpochMs,
    /// The suggestion stored on it, if any.
    pub suggested: Option<super::suggest::SuggestedOutcome>,
    /// `(time, id, result)` of each outcome naming it, from any team.
    outcomes: Vec<LoggedOutcome>,
}

impl LoggedDecision {
    /// Where it comes among follow-ups: by due date, then by id.
    pub fn due_order(&self) -> (EpochMs, &str) {
        (self.follow_up_at, &self.id)
    }

    /// Its follow-up's status at `at`, with the latest outcome naming it before `at`.
    fn status_at(&self, at: EpochMs) -> (FollowUpStatus, Option<&LoggedOutcome>) {
        let latest = self
            .outcomes
            .iter()
            .filter(|(time, _, _)| *time < at)
            .max_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
        let status = match latest {
            Some(_) => FollowUpStatus::Done,
            None if self.follow_up_at < at => FollowUpStatus::Overdue,
            None => FollowUpStatus::Open,
        };
        (status, latest)
    }
}

/// An outcome naming a logged decision: its time, id and result.
type LoggedOutcome = (EpochMs, String, Option<String>);

/// A logged decision's follow-up at an instant (what [`FollowUp`] says of an event).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedFollowUp<'a> {
    /// The decision.
    pub decision: &'a LoggedDecision,
    /// Open, overdue or done.
    pub status: FollowUpStatus,
    /// The result of the latest outcome naming it before the instant, when done.
    pub result: Option<String>,
}

impl DecisionLog {
    /// The kinds of event [`DecisionLog::new`] reads (it skips the others).
    pub const KINDS: [EventKind; 2] = [EventKind::Decision, EventKind::Outcome];

    /// The decisions among `events` (of any instant) with the outcomes among them naming
    /// them.
    pub fn new<'e, E: Into<EventRef<'e>>>(
        settings: &MaturitySettings,
        events: impl IntoIterator<Item = E>,
    ) -> Self {
        // The list made once at its size (kept in the decisions cache for every team, issue
        // 15), and decisions found by the ids of the events they were made of: grown as it
        // filled, then shrunk, and its ids copied into the map, the list's copies were a
        // third of the decision logs' making under the load test.
        let events: Vec<EventRef<'e>> = events.into_iter().map(Into::into).collect();
        let count = events
            .iter()
            .filter(|e| e.kind() == EventKind::Decision)
            .count();
        let mut decisions: Vec<LoggedDecision> = Vec::with_capacity(count);
        let mut position: HashMap<&'e str, usize> = HashMap::with_capacity(count);
        for e in &events {
            if e.kind() == EventKind::Decision {
                position.insert(e.id(), decisions.len());
                decisions.push(LoggedDecision {
                    id: e.id().to_string(),
                    team: e.team().map(String::from),
                    text: e.text().to_string(),
                    time: e.time(),
                    follow_up_at: follow_up_at(settings, *e),
                    suggested: super::suggest::suggested(*e),
                    outcomes: Vec::new(),
                });
            }
        }
        for o in events.iter().filter(|e| e.kind() == EventKind::Outcome) {
            if let Some(&i) = o.decision_id().and_then(|d| position.get(d)) {
                let result = o
                    .data()
                    .get("result")
                    .and_then(|r| r.as_str())
                    .map(String::from);
                decisions[i]
                    .outcomes
                    .push((o.time(), o.id().to_string(), result));
            }
        }
        DecisionLog { decisions }
    }

    /// The decisions taken before `at` whose follow-up is overdue at `at`, in the log's
    /// order, each with its position in the log (see [`DecisionLog::decision`]): what
    /// `followUpsOverdue` answers, without the results, copies and sorting
    /// [`DecisionLog::follow_ups`] makes for every follow-up.
    pub fn overdue(&self, at: EpochMs) -> impl Iterator<Item = (usize, &LoggedDecision)> {
        self.decisions
            .iter()
            .enumerate()
            .filter(move |(_, d)| d.time < at && d.status_at(at).0 == FollowUpStatus::Overdue)
    }

    /// The decision at `position` in the log.
    pub fn decision(&self, position: usize) -> Option<&LoggedDecision> {
        self.decisions.get(position)
    }

    /// [`follow_ups`] at `at` over the events this log was made of: the decisions taken
    /// before `at`, by due date then id.
    pub fn follow_ups(&self, at: EpochMs) -> Vec<LoggedFollowUp<'_>> {
        let mut out: Vec<LoggedFollowUp<'_>> = self
            .decisions
            .iter()
            .filter(|d| d.time < at)
            .map(|d| {
                let (status, latest) = d.status_at(at);
                LoggedFollowUp {
                    decision: d,
                    status,
                    result: latest.and_then(|(_, _, r)| r.clone()),
                }
            })
            .collect();
        out.sort_by(|a, b| a.decision.due_order().cmp(&b.decision.due_order()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actual, Direction, Verification};
    use serde_json::json;

    fn target(direction: Direction, baseline: f64, goal: f64) -> Target {
        Target {
            id: "t".into(),
            team: "p".into(),
            name: "t".into(),
            unit: None,
            direction,
            baseline: Some(baseline),
            target: Some(goal),
            start_at: 0,
            deadline: Some(100 * DAY_MS),
            query: None,
            actuals: Vec::new(),
            verification: None,
            created_at: 0,
        }
    }

    fn with(mut t: Target, actuals: &[(i64, f64)]) -> Target {
        t.actuals = actuals
            .iter()
            .map(|&(d, v)| Actual {
                time: d * DAY_MS,
                value: v,
            })
            .collect();
        t
    }

    fn s() -> MaturitySettings {
        MaturitySettings::default()
    }

    #[test]
    fn the_glide_path_is_clamped_to_start_and_deadline() {
        let t = target(Direction::Decrease, 10.0, 8.0);
        assert_eq!(planned(&t, -5), Some(10.0));
        assert_eq!(planned(&t, 50 * DAY_MS), Some(9.0));
        assert_eq!(planned(&t, 500 * DAY_MS), Some(8.0));
        let mut u = t.clone();
        u.deadline = None;
        assert_eq!(planned(&u, 0), None);
    }

    #[test]
    fn status_moves_from_on_track_to_off_track_to_due_to_met_or_missed() {
        let t = target(Direction::Decrease, 10.0, 8.0);
        // No actual: on track for the first quarter, then off track.
        assert_eq!(status(&s(), &t, 25 * DAY_MS), TargetStatus::OnTrack);
        assert_eq!(status(&s(), &t, 25 * DAY_MS + 1), TargetStatus::OffTrack);
        // At day 50 the plan is 9.0; the tolerance is 0.1 × 2 = 0.2.
        assert_eq!(
            status(&s(), &with(t.clone(), &[(50, 9.2)]), 60 * DAY_MS),
            TargetStatus::OnTrack
        );
        assert_eq!(
            status(&s(), &with(t.clone(), &[(50, 9.21)]), 60 * DAY_MS),
            TargetStatus::OffTrack
        );
        assert_eq!(
            status(&s(), &with(t.clone(), &[(50, 8.5)]), 60 * DAY_MS),
            TargetStatus::OnTrack
        );
        // An actual at T is not yet known at T.
        assert_eq!(
            status(&s(), &with(t.clone(), &[(60, 9.9)]), 60 * DAY_MS),
            TargetStatus::OffTrack
        );
        // The deadline is still "before" at the deadline itself, due after it.
        assert_eq!(
            status(&s(), &with(t.clone(), &[(50, 9.0)]), 100 * DAY_MS),
            TargetStatus::OnTrack
        );
        assert_eq!(status(&s(), &t, 100 * DAY_MS + 1), TargetStatus::Due);
        let mut v = t.clone();
        v.verification = Some(Verification {
            verdict: Verdict::Missed,
            actual: None,
            learnings: String::new(),
            verified_at: 101 * DAY_MS,
            verified_by: "a".into(),
        });
        assert_eq!(
            status(&s(), &v, 101 * DAY_MS),
            TargetStatus::Due,
            "verified at T is not yet known"
        );
        assert_eq!(status(&s(), &v, 101 * DAY_MS + 1), TargetStatus::Missed);
        let mut u = t;
        u.target = None;
        assert_eq!(status(&s(), &u, 0), TargetStatus::Undefined);
    }

    #[test]
    fn pace_tolerance_is_a_setting() {
        // Plan at day 50 is 50; the default tolerance is 0.1 × 100 = 10.
        let t = |v: f64| with(target(Direction::Increase, 0.0, 100.0), &[(50, v)]);
        assert_eq!(status(&s(), &t(40.0), 60 * DAY_MS), TargetStatus::OnTrack);
        assert_eq!(status(&s(), &t(39.0), 60 * DAY_MS), TargetStatus::OffTrack);
        let loose = MaturitySettings {
            pace_tolerance: 0.2,
            ..s()
        };
        assert_eq!(status(&loose, &t(39.0), 60 * DAY_MS), TargetStatus::OnTrack);
    }

    #[test]
    fn progress_is_clamped_to_zero_and_one() {
        let t = target(Direction::Decrease, 10.0, 8.0);
        assert_eq!(
            view(&s(), &with(t.clone(), &[(1, 9.0)]), 2 * DAY_MS).progress,
            Some(0.5)
        );
        assert_eq!(
            view(&s(), &with(t.clone(), &[(1, 11.0)]), 2 * DAY_MS).progress,
            Some(0.0)
        );
        assert_eq!(
            view(&s(), &with(t.clone(), &[(1, 7.0)]), 2 * DAY_MS).progress,
            Some(1.0)
        );
        assert_eq!(view(&s(), &t, 2 * DAY_MS).progress, None);
    }

    #[test]
    fn the_projection_follows_rising_and_falling_actuals_and_refuses_flat_or_wrong_ones() {
        let rising = with(
            target(Direction::Increase, 0.0, 100.0),
            &[(10, 10.0), (20, 20.0), (30, 30.0)],
        );
        assert_eq!(projected_hit(&rising, 40 * DAY_MS), Some(100 * DAY_MS));
        let falling = with(
            target(Direction::Decrease, 10.0, 8.0),
            &[(0, 10.0), (10, 9.5), (20, 9.0)],
        );
        assert_eq!(projected_hit(&falling, 40 * DAY_MS), Some(40 * DAY_MS));
        let flat = with(
            target(Direction::Decrease, 10.0, 8.0),
            &[(0, 9.0), (10, 9.0)],
        );
        assert_eq!(projected_hit(&flat, 40 * DAY_MS), None);
        let wrong = with(
            target(Direction::Decrease, 10.0, 8.0),
            &[(0, 9.0), (10, 9.5)],
        );
        assert_eq!(projected_hit(&wrong, 40 * DAY_MS), None);
        let one = with(target(Direction::Decrease, 10.0, 8.0), &[(0, 9.0)]);
        assert_eq!(projected_hit(&one, 40 * DAY_MS), None);
        // Actuals before startAt or at/after T are not used.
        let mut late = with(
            target(Direction::Increase, 0.0, 100.0),
            &[(-5, 90.0), (10, 10.0), (20, 20.0), (40, 0.0)],
        );
        late.start_at = 0;
        assert_eq!(projected_hit(&late, 40 * DAY_MS), Some(100 * DAY_MS));
    }

    fn event(id: &str, kind: EventKind, time: EpochMs, data: serde_json::Value) -> Event {
        Event {
            id: id.into(),
            kind,
            time,
            time_end: None,
            team: Some("p".into()),
            dashboard_uid: None,
            panel_id: None,
            user: "a".into(),
            text: String::new(),
            tags: Vec::new(),
            data: data.as_object().cloned().unwrap_or_default(),
            source: crate::model::Source::Api,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn follow_ups_are_open_then_overdue_then_done() {
        let events = vec![
            event("d1", EventKind::Decision, 0, json!({})),
            event(
                "d2",
                EventKind::Decision,
                0,
                json!({"followUpAt": 3 * DAY_MS}),
            ),
            event(
                "o2",
                EventKind::Outcome,
                5 * DAY_MS,
                json!({"decisionId": "d2", "result": "confirmed"}),
            ),
        ];
        let at = |t: i64| -> Vec<(String, FollowUpStatus, Option<String>)> {
            follow_ups(&s(), &events, t)
                .into_iter()
                .map(|f| (f.decision.id.clone(), f.status, f.result))
                .collect()
        };
        use FollowUpStatus::*;
        assert_eq!(
            at(DAY_MS),
            [("d2".into(), Open, None), ("d1".into(), Open, None)]
        );
        assert_eq!(
            at(4 * DAY_MS),
            [("d2".into(), Overdue, None), ("d1".into(), Open, None)]
        );
        assert_eq!(
            at(5 * DAY_MS + 1),
            [
                ("d2".into(), Done, Some("confirmed".into())),
                ("d1".into(), Open, None)
            ]
        );
        assert_eq!(
            at(15 * DAY_MS)[1],
            ("d1".into(), Overdue, None),
            "14 days by default"
        );
    }

    #[test]
    fn verification_is_overdue_only_after_the_deadline_of_a_defined_unverified_target() {
        let t = target(Direction::Decrease, 10.0, 8.0);
        assert_eq!(verification_days_overdue(&t, 100 * DAY_MS), None);
        assert_eq!(verification_days_overdue(&t, 102 * DAY_MS), Some(2.0));
    }

    proptest::proptest! {
        /// The log answers as the events do at every instant: statuses, due dates, results
        /// and order (issue 15's decisions cache), and its overdue decisions are the
        /// follow-ups found overdue.
        #[test]
        fn a_decision_log_answers_as_its_events_do(
            raw in proptest::collection::vec((0u8..3, 0i64..60, 0usize..8, 0u8..4, proptest::bool::ANY), 0..30),
            instants in proptest::collection::vec(0i64..80, 1..6),
        ) {
            let s = MaturitySettings::default();
            let t0: EpochMs = 1_780_272_000_000;
            let mut events = Vec::new();
            for (i, &(kind, day, target, result, due)) in raw.iter().enumerate() {
                let mut data = serde_json::Map::new();
                let kind = match kind {
                    0 => {
                        if due { data.insert("followUpAt".into(), json!(t0 + (day + 3) * DAY_MS)); }
                        EventKind::Decision
                    }
                    1 => {
                        data.insert("decisionId".into(), json!(format!("e{target}")));
                        if result < 3 {
                            data.insert("result".into(), json!(["confirmed", "not_confirmed", "inconclusive"][result as usize]));
                        }
                        EventKind::Outcome
                    }
                    _ => EventKind::Question,
                };
                events.push(Event {
                    id: format!("e{i}"),
                    kind,
                    time: t0 + day * DAY_MS / 2,
                    time_end: None,
                    team: Some(if i % 5 == 0 { "other" } else { "pay" }.into()),
                    dashboard_uid: None,
                    panel_id: None,
                    user: "alice".into(),
                    text: format!("text {i}"),
                    tags: vec![],
                    data,
                    source: crate::model::Source::Api,
                    created_at: 0,
                    updated_at: 0,
                });
            }
            let log = DecisionLog::new(&s, &events);
            for day in instants {
                let at = t0 + day * DAY_MS / 2;
                let kept: Vec<_> = log.follow_ups(at).into_iter()
                    .map(|f| (f.decision.id.clone(), f.decision.follow_up_at, f.status, f.result))
                    .collect();
                let fresh: Vec<_> = follow_ups(&s, &events, at).into_iter()
                    .map(|f| (f.decision.id.clone(), f.follow_up_at, f.status, f.result))
                    .collect();
                // `overdue` (followUpsOverdue) gives the overdue ones, in the log's order.
                let mut overdue: Vec<_> = log.overdue(at)
                    .map(|(position, d)| {
                        assert_eq!(log.decision(position), Some(d));
                        (d.id.clone(), d.follow_up_at)
                    })
                    .collect();
                overdue.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                let fresh_overdue: Vec<_> = fresh.iter()
                    .filter(|f| f.2 == FollowUpStatus::Overdue)
                    .map(|f| (f.0.clone(), f.1))
                    .collect();
                proptest::prop_assert_eq!(overdue, fresh_overdue);
                proptest::prop_assert_eq!(kept, fresh);
            }
        }
    }
}
