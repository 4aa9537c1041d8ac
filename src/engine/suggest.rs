//! Suggested outcomes (SPEC §9, issue 12): the arithmetic that compares a decision's metric
//! before and after it, so that a person only has to confirm. The behaviour stays human:
//! a suggestion never closes a decision; only a posted `outcome` does.
//!
//! A decision qualifies when its `data.expectedEffect` is an object with a `direction`
//! (`increase` | `decrease`), it carries `data.query`, it has no outcome and no suggestion
//! yet, and its follow-up has fallen due. With `L` = follow-up − decision time (or
//! `defaultFollowUpDays` when that is not positive), the query's mean over `[t − L, t)` is
//! `before` and over `[t, t + L)` is `after` ([`periods`]). [`judge`] then says:
//! - `confirmed` when `after` moved from `before` in the expected direction by more than the
//!   threshold;
//! - `not_confirmed` when it moved the other way by more than the threshold;
//! - `inconclusive` when it moved by no more than the threshold, or a period has no data.
//!
//! The threshold is `data.expectedEffect.minChange` (an absolute amount) when given, else
//! 5 % of `|before|`. The suggestion is kept on the decision as `data.suggestedOutcome` =
//! `{result, before, after, evaluatedAt}` (numbers or null; `evaluatedAt` in epoch ms).

use serde_json::{json, Map, Value};

use super::settings::MaturitySettings;
use crate::model::{
    parse_time, Direction, EpochMs, Event, EventKind, EventRef, OutcomeResult, DAY_MS,
};

/// The threshold, relative to `|before|`, when the decision names no `minChange`.
pub const DEFAULT_RELATIVE_CHANGE: f64 = 0.05;

/// What a decision expects of its metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    /// Which way the metric should move.
    pub direction: Direction,
    /// The smallest move that counts, when the decision names one.
    pub min_change: Option<f64>,
}

/// The decision's expectation, when `data.expectedEffect` is `{direction, minChange?}`.
pub fn expectation(decision: &Event) -> Option<Expectation> {
    let e = decision.data.get("expectedEffect")?.as_object()?;
    let direction = e
        .get("direction")
        .and_then(Value::as_str)
        .and_then(Direction::parse)?;
    Some(Expectation {
        direction,
        min_change: e
            .get("minChange")
            .and_then(Value::as_f64)
            .filter(|m| m.is_finite() && *m >= 0.0),
    })
}

/// The two periods compared: `(before, after)`, each `[from, to)`.
pub fn periods(
    settings: &MaturitySettings,
    decision: &Event,
) -> ((EpochMs, EpochMs), (EpochMs, EpochMs)) {
    let t = decision.time;
    let due = super::follow_up_at(settings, decision);
    let mut length = due.saturating_sub(t);
    if length <= 0 {
        length = i64::from(settings.default_follow_up_days).saturating_mul(DAY_MS);
    }
    ((t.saturating_sub(length), t), (t, t.saturating_add(length)))
}

/// The suggested result for the means of the two periods.
pub fn judge(expect: Expectation, before: Option<f64>, after: Option<f64>) -> OutcomeResult {
    let (Some(b), Some(a)) = (before, after) else {
        return OutcomeResult::Inconclusive;
    };
    let threshold = expect
        .min_change
        .unwrap_or(DEFAULT_RELATIVE_CHANGE * b.abs());
    let moved = match expect.direction {
        Direction::Increase => a - b,
        Direction::Decrease => b - a,
    };
    if moved.abs() <= threshold {
        OutcomeResult::Inconclusive
    } else if moved > 0.0 {
        OutcomeResult::Confirmed
    } else {
        OutcomeResult::NotConfirmed
    }
}

/// The wire name of a result.
pub fn result_name(r: OutcomeResult) -> &'static str {
    match r {
        OutcomeResult::Confirmed => "confirmed",
        OutcomeResult::NotConfirmed => "not_confirmed",
        OutcomeResult::Inconclusive => "inconclusive",
    }
}

/// A suggestion as stored on the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestedOutcome {
    /// The suggested result.
    pub result: OutcomeResult,
    /// Mean before the decision.
    pub before: Option<f64>,
    /// Mean since the decision.
    pub after: Option<f64>,
    /// When it was computed.
    pub evaluated_at: Option<EpochMs>,
}

impl SuggestedOutcome {
    /// `{result, before, after, evaluatedAt}`.
    pub fn to_json(&self) -> Value {
        json!({
            "result": result_name(self.result),
            "before": self.before,
            "after": self.after,
            "evaluatedAt": self.evaluated_at,
        })
    }
}

/// The suggestion stored on a decision, if any.
pub fn suggested<'e>(decision: impl Into<EventRef<'e>>) -> Option<SuggestedOutcome> {
    let o: &Map<String, Value> = decision
        .into()
        .data()
        .get("suggestedOutcome")?
        .as_object()?;
    Some(SuggestedOutcome {
        result: o
            .get("result")
            .and_then(Value::as_str)
            .and_then(OutcomeResult::parse)?,
        before: o.get("before").and_then(Value::as_f64),
        after: o.get("after").and_then(Value::as_f64),
        evaluated_at: o
            .get("evaluatedAt")
            .filter(|v| !v.is_null())
            .and_then(|v| parse_time("evaluatedAt", v).ok()),
    })
}

/// Whether the decision wants a suggestion at `at`: a decision expecting a direction, with a
/// query, due, with neither outcome (`has_outcome`) nor suggestion.
pub fn wants_suggestion(
    settings: &MaturitySettings,
    decision: &Event,
    has_outcome: bool,
    at: EpochMs,
) -> bool {
    decision.kind == EventKind::Decision
        && !has_outcome
        && decision.data.get("query").is_some_and(|q| !q.is_null())
        && decision.data.get("suggestedOutcome").is_none()
        && expectation(decision).is_some()
        && super::follow_up_at(settings, decision) <= at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    fn decision(data: Value) -> Event {
        Event {
            id: "d1".into(),
            kind: EventKind::Decision,
            time: 100 * DAY_MS,
            time_end: None,
            team: Some("pay".into()),
            dashboard_uid: None,
            panel_id: None,
            user: "alice".into(),
            text: "retry soft declines".into(),
            tags: vec![],
            data: data.as_object().cloned().unwrap_or_default(),
            source: Source::Api,
            created_at: 0,
            updated_at: 0,
        }
    }

    const UP: Expectation = Expectation {
        direction: Direction::Increase,
        min_change: None,
    };

    #[test]
    fn the_result_follows_the_direction_and_the_threshold() {
        let down = Expectation {
            direction: Direction::Decrease,
            min_change: None,
        };
        assert_eq!(judge(UP, Some(2.1), Some(2.35)), OutcomeResult::Confirmed);
        assert_eq!(
            judge(down, Some(2.1), Some(2.35)),
            OutcomeResult::NotConfirmed
        );
        // 5 % of 2.0 is 0.1: a move of 0.09 is not enough, 0.11 is.
        assert_eq!(
            judge(UP, Some(2.0), Some(2.09)),
            OutcomeResult::Inconclusive
        );
        assert_eq!(judge(UP, Some(2.0), Some(2.11)), OutcomeResult::Confirmed);
        assert_eq!(judge(UP, None, Some(2.0)), OutcomeResult::Inconclusive);
        assert_eq!(judge(UP, Some(2.0), None), OutcomeResult::Inconclusive);
        let exact = Expectation {
            direction: Direction::Decrease,
            min_change: Some(0.5),
        };
        assert_eq!(
            judge(exact, Some(10.0), Some(9.6)),
            OutcomeResult::Inconclusive
        );
        assert_eq!(
            judge(exact, Some(10.0), Some(9.4)),
            OutcomeResult::Confirmed
        );
    }

    #[test]
    fn the_periods_are_the_follow_up_length_either_side_of_the_decision() {
        let s = MaturitySettings::default();
        let d = decision(json!({"followUpAt": 130 * DAY_MS}));
        assert_eq!(
            periods(&s, &d),
            ((70 * DAY_MS, 100 * DAY_MS), (100 * DAY_MS, 130 * DAY_MS))
        );
        // No followUpAt: defaultFollowUpDays (14).
        let d = decision(json!({}));
        assert_eq!(periods(&s, &d).1, (100 * DAY_MS, 114 * DAY_MS));
        // A follow-up before the decision: the default length.
        let d = decision(json!({"followUpAt": 90 * DAY_MS}));
        assert_eq!(periods(&s, &d).0, (86 * DAY_MS, 100 * DAY_MS));
    }

    #[test]
    fn only_due_decisions_with_a_query_and_a_direction_want_a_suggestion() {
        let s = MaturitySettings::default();
        let due = 130 * DAY_MS;
        let full = json!({"followUpAt": due, "query": {"datasourceUid": "p", "model": {}},
                          "expectedEffect": {"direction": "increase"}});
        let d = decision(full.clone());
        assert!(wants_suggestion(&s, &d, false, due));
        assert!(!wants_suggestion(&s, &d, false, due - 1), "not due yet");
        assert!(!wants_suggestion(&s, &d, true, due), "an outcome closed it");
        let mut text_effect = full.clone();
        text_effect["expectedEffect"] = json!("fewer declines");
        assert!(!wants_suggestion(&s, &decision(text_effect), false, due));
        let mut no_query = full.clone();
        no_query.as_object_mut().map(|o| o.remove("query"));
        assert!(!wants_suggestion(&s, &decision(no_query), false, due));
        let mut done = full;
        done["suggestedOutcome"] = json!({"result": "confirmed"});
        assert!(!wants_suggestion(&s, &decision(done), false, due));
    }

    #[test]
    fn a_suggestion_round_trips_through_the_decisions_data() {
        let s = SuggestedOutcome {
            result: OutcomeResult::NotConfirmed,
            before: Some(2.1),
            after: None,
            evaluated_at: Some(5),
        };
        let d = decision(json!({"suggestedOutcome": s.to_json()}));
        assert_eq!(suggested(&d), Some(s));
        assert_eq!(
            decision(json!({"suggestedOutcome": {"result": "confirmed", "evaluatedAt": "1970-01-01T00:00:00.005Z"}}))
                .data["suggestedOutcome"]["evaluatedAt"],
            "1970-01-01T00:00:00.005Z"
        );
    }
}
