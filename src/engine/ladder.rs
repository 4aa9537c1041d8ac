//! The seven-level maturity ladder of SPEC §5: each criterion at an instant `T`, the gated
//! level, the score, the blocker sentences, level history and level changes.
//!
//! Value and threshold of each criterion, as reported:
//! - counts (levels 1–3): `value` = the count, `threshold` = the minimum;
//! - ratios (levels 4, 5): `value` = count / n (0 when n is 0), `threshold` = the ratio
//!   setting; pass is `count ≥ needed(n, ratio)` in exact decimal arithmetic (see
//!   [`super::ratio`]), so it never disagrees with the "k needed" of the sentence;
//! - compound (levels 6, 7): `value` = how many of the parts hold, `threshold` = how many
//!   parts there are (2 for level 6, 4 for level 7), so `passed ⇔ value ≥ threshold`
//!   holds for every row of a `criteria` table; the numbers of each part are in `detail`.
//!
//! The work is split: `ladder_measure.rs` takes the numbers at `T` (counts, periods, the
//! evidence behind each, the verdicts), `ladder_sentences.rs` writes each criterion's
//! result from those numbers, and `ladder_validity.rs` tells until when those numbers
//! stay the same ([`Timed`]); this file holds the public shapes and puts them together.

use serde::Serialize;

use crate::model::{EpochMs, Event, Target, Team};

use super::evidence::TeamEvidence;
use super::settings::MaturitySettings;

pub use super::evidence::counts_as_review_evidence;
pub use super::lapse::{hours_overdue, hours_since_review, last_review_evidence};

#[path = "ladder_measure.rs"]
mod measure;
#[path = "ladder_sentences.rs"]
mod sentences;
#[path = "ladder_validity.rs"]
mod validity;

use validity::Scope;

/// The criterion ids, in ladder order (index + 1 is the level).
pub const CRITERIA: [&str; 7] = [
    "adhoc_queries",
    "defined_targets",
    "looped_back",
    "regular_reviews",
    "regular_adjustments",
    "acting_on_metrics",
    "data_driven_projects",
];

/// The most steps [`history_steps`] returns: a guard against a tiny step over a huge
/// range, far above a year of daily steps.
pub const MAX_HISTORY_STEPS: usize = 100_000;

/// One criterion of the ladder evaluated at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CriterionResult {
    /// Criterion id (`adhoc_queries`, ...).
    pub id: &'static str,
    /// Its level, 1 to 7.
    pub level: u8,
    /// Whether it holds.
    pub passed: bool,
    /// The measured value (see the module doc for each kind of criterion).
    pub value: f64,
    /// What the value is compared with.
    pub threshold: f64,
    /// The blocker sentence when failing, a short summary when passing.
    pub detail: String,
    /// Ids of the events or targets the criterion used.
    pub evidence: Vec<String>,
}

/// A team's place on the ladder at an instant: the shape of SPEC §3.2 `GET /maturity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Team id.
    pub team: String,
    /// Gated level: the highest L such that criteria 1..L all pass (0 when level 1 fails).
    pub level: u8,
    /// Number of criteria that pass, gated or not.
    pub score: u8,
    /// The instant `T` of the evaluation.
    pub at: EpochMs,
    /// The seven criteria, in ladder order.
    pub criteria: Vec<CriterionResult>,
    /// The detail of every failing criterion, in ladder order: the first blocks the next level.
    pub blockers: Vec<String>,
}

impl Evaluation {
    /// The criterion with this id.
    pub fn criterion(&self, id: &str) -> Option<&CriterionResult> {
        self.criteria.iter().find(|c| c.id == id)
    }
}

/// Evaluates `team` at `at` from a superset of events and targets (other teams', any
/// times): every rule of SPEC §5 is applied here.
pub fn evaluate(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    at: EpochMs,
) -> Evaluation {
    TeamEvidence::new(settings, team, events, targets).evaluate(at)
}

/// A result with the instant until which it stays true: for every `t` in
/// `[at, stable_until)`, the same evidence evaluated at `t` gives `value` again, except
/// for its own `at`. The instant is the first at which an event or a target date crosses
/// a boundary that can change the result (an event entering or leaving the window or the
/// loopback, or moving to another period or block, a start, deadline, grace, follow-up
/// date, verification or outcome passing); it may come early, when the crossing changes
/// nothing, but never late. `EpochMs::MAX` when nothing can change it any more.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timed<T> {
    /// The result at the instant asked for.
    pub value: T,
    /// The first instant after it at which the result may differ.
    pub stable_until: EpochMs,
}

/// [`evaluate`] with the instant until which its answer stays true (see [`Timed`]).
pub fn evaluate_timed(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    at: EpochMs,
) -> Timed<Evaluation> {
    TeamEvidence::new(settings, team, events, targets).evaluate_timed(at)
}

/// One evaluation per step, each equal to [`evaluate`] at that step; the evidence is
/// sorted once, so each step costs a few binary searches per period.
pub fn history(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    steps: &[EpochMs],
) -> Vec<Evaluation> {
    let evidence = TeamEvidence::new(settings, team, events, targets);
    steps.iter().map(|&t| evidence.evaluate(t)).collect()
}

/// The steps of `maturityHistory`: `to`, `to − step`, … down to `from` (inclusive),
/// returned ascending, so the last step is `to` itself. Empty when `to < from`; only
/// `to` when `step_ms ≤ 0`; at most [`MAX_HISTORY_STEPS`], keeping the newest.
pub fn history_steps(from: EpochMs, to: EpochMs, step_ms: i64) -> Vec<EpochMs> {
    if to < from {
        return Vec::new();
    }
    if step_ms <= 0 {
        return vec![to];
    }
    let span = i128::from(to) - i128::from(from);
    let count = usize::try_from(span / i128::from(step_ms) + 1)
        .unwrap_or(MAX_HISTORY_STEPS)
        .min(MAX_HISTORY_STEPS);
    let mut out: Vec<EpochMs> = (0..count)
        .filter_map(|k| {
            i64::try_from(k)
                .ok()
                .and_then(|k| step_ms.checked_mul(k))
                .and_then(|d| to.checked_sub(d))
        })
        .filter(|t| *t >= from)
        .collect();
    out.reverse();
    out
}

/// A change of level between two consecutive evaluations of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelChange {
    /// The step at which the new level is first seen.
    pub time: EpochMs,
    /// Level before.
    pub from: u8,
    /// Level after.
    pub to: u8,
    /// The criterion that flipped: on the way up the one that blocked the old level, on
    /// the way down the one that now blocks.
    pub criterion: &'static str,
    /// For people: "Level 3 → 4: reviewed in 9 of 12 weeks".
    pub text: String,
}

/// Every change of level between consecutive evaluations (SPEC §4.1 `levelChanges`).
/// The criterion named is the lowest one whose state explains the change (level
/// `min(from, to) + 1`), and the text quotes its detail at the new step.
pub fn level_changes(history: &[Evaluation]) -> Vec<LevelChange> {
    history
        .windows(2)
        .filter_map(|pair| {
            let (before, after) = (&pair[0], &pair[1]);
            if before.level == after.level {
                return None;
            }
            let flipped = LevelChange::flipped(before.level, after.level);
            let c = after.criteria.iter().find(|c| c.level == flipped)?;
            Some(LevelChange::quoting(after.at, before.level, after.level, c))
        })
        .collect()
}

impl LevelChange {
    /// The level of the criterion that explains a change from `from` to `to`: the lowest
    /// one whose state differs, `min(from, to) + 1`.
    fn flipped(from: u8, to: u8) -> u8 {
        from.min(to) + 1
    }

    /// The change seen at `time`, quoting criterion `c`'s detail.
    fn quoting(time: EpochMs, from: u8, to: u8, c: &CriterionResult) -> Self {
        LevelChange {
            time,
            from,
            to,
            criterion: c.id,
            text: format!("Level {from} → {to}: {}", c.detail),
        }
    }
}

/// A step of a level-only history: what `maturityHistory` plots, without the sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelPoint {
    /// The instant.
    pub at: EpochMs,
    /// Gated level, as in [`Evaluation::level`].
    pub level: u8,
    /// Criteria that pass, as in [`Evaluation::score`].
    pub score: u8,
    /// Each criterion's verdict, in ladder order.
    pub passed: [bool; 7],
}

/// Levels at each step, equal to the level, score and verdicts of [`evaluate`] at that
/// step, computed without writing sentences or evidence lists (the cheap path for
/// `maturityHistory` over long ranges).
pub fn level_history(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    steps: &[EpochMs],
) -> Vec<LevelPoint> {
    TeamEvidence::new(settings, team, events, targets).level_history(steps)
}

/// The same as `level_changes(&history(…, steps))`, but only evaluates in full the steps
/// at which the level changes.
pub fn level_changes_over(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    steps: &[EpochMs],
) -> Vec<LevelChange> {
    TeamEvidence::new(settings, team, events, targets).level_changes(steps)
}

/// Steps a history measures without working out how long their points hold, after a point
/// that skipped no step (see [`TeamEvidence::level_history`]).
const PLAIN_STEPS: usize = 7;

impl TeamEvidence<'_> {
    /// Levels at each step (see [`level_history`]). A level point holds until its
    /// `stable_until` (see [`Timed`]), so the steps before that instant reuse it instead of
    /// measuring again (issue 15): a year of daily steps measures only where something can
    /// change. Working out that instant costs half a measurement again and pays only where
    /// it skips a step: after a point that held past no later step (a busy team's hold for
    /// hours), the next [`PLAIN_STEPS`] are measured plainly (it was a third of a busy
    /// team's `levelChanges` under the load test). Steps out of order are measured afresh.
    pub fn level_history(&self, steps: &[EpochMs]) -> Vec<LevelPoint> {
        let mut held: Option<Timed<LevelPoint>> = None;
        let mut plain_left = 0;
        steps
            .iter()
            .enumerate()
            .map(|(i, &t)| match &held {
                Some(h) if h.value.at <= t && t < h.stable_until => LevelPoint { at: t, ..h.value },
                _ if plain_left > 0 => {
                    plain_left -= 1;
                    self.level_at(t)
                }
                _ => {
                    let timed = self.level_at_timed(t);
                    let point = timed.value;
                    if steps
                        .get(i + 1)
                        .is_some_and(|next| *next >= timed.stable_until)
                    {
                        plain_left = PLAIN_STEPS;
                    }
                    held = Some(timed);
                    point
                }
            })
            .collect()
    }

    /// Changes of level between consecutive steps (see [`level_changes_over`]). Each change
    /// measures its new step once more and writes the one sentence it quotes, where
    /// evaluating both steps in full wrote fourteen sentences and their evidence lists.
    pub fn level_changes(&self, steps: &[EpochMs]) -> Vec<LevelChange> {
        self.level_history(steps)
            .windows(2)
            .filter(|p| p[0].level != p[1].level)
            .filter_map(|p| self.change_between(&p[0], &p[1]))
            .collect()
    }

    /// The change from `before` to `after`, two level points of different levels, as
    /// [`level_changes`] describes it.
    fn change_between(&self, before: &LevelPoint, after: &LevelPoint) -> Option<LevelChange> {
        let flipped = LevelChange::flipped(before.level, after.level);
        let m = self.measure(after.at);
        let c = self.describe_level(&m, &m.passed(self.settings), flipped)?;
        Some(LevelChange::quoting(
            after.at,
            before.level,
            after.level,
            &c,
        ))
    }
}

fn gated(passed: &[bool; 7]) -> (u8, u8) {
    let level = passed.iter().take_while(|p| **p).count();
    let score = passed.iter().filter(|p| **p).count();
    (
        u8::try_from(level).unwrap_or(7),
        u8::try_from(score).unwrap_or(7),
    )
}

impl<'a> TeamEvidence<'a> {
    /// The evaluation at `at` (same answer as [`evaluate`]).
    pub fn evaluate(&self, at: EpochMs) -> Evaluation {
        let m = self.measure(at);
        let passed = m.passed(self.settings);
        let criteria = self.describe(&m, &passed);
        let (level, score) = gated(&passed);
        let blockers = criteria
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.clone())
            .collect();
        Evaluation {
            team: self.team.id.clone(),
            level,
            score,
            at,
            criteria,
            blockers,
        }
    }

    /// The evaluation at `at` with the instant until which it stays true (see [`Timed`]).
    pub fn evaluate_timed(&self, at: EpochMs) -> Timed<Evaluation> {
        let m = self.measure(at);
        let passed = m.passed(self.settings);
        let stable_until = self.stable_until(&m, &passed, Scope::Evaluation);
        let criteria = self.describe(&m, &passed);
        let (level, score) = gated(&passed);
        let blockers = criteria
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.clone())
            .collect();
        Timed {
            value: Evaluation {
                team: self.team.id.clone(),
                level,
                score,
                at,
                criteria,
                blockers,
            },
            stable_until,
        }
    }

    /// The level point at `at` with the instant until which its level, score and verdicts
    /// stay the same (see [`Timed`]); never earlier than [`TeamEvidence::evaluate_timed`]'s,
    /// often later, since which event stands for a period does not matter here.
    pub fn level_at_timed(&self, at: EpochMs) -> Timed<LevelPoint> {
        let m = self.measure(at);
        let passed = m.passed(self.settings);
        let stable_until = self.stable_until(&m, &passed, Scope::Level);
        let (level, score) = gated(&passed);
        Timed {
            value: LevelPoint {
                at,
                level,
                score,
                passed,
            },
            stable_until,
        }
    }

    /// Level, score and verdicts at `at`, without sentences (see [`level_history`]).
    pub fn level_at(&self, at: EpochMs) -> LevelPoint {
        let passed = self.measure(at).passed(self.settings);
        let (level, score) = gated(&passed);
        LevelPoint {
            at,
            level,
            score,
            passed,
        }
    }
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
