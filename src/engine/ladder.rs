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

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{EpochMs, Event, Target, Team, Verdict};

use super::evidence::{Periods, TeamEvidence};
use super::ratio::{needed, reaches, share};
use super::settings::{days_ms, MaturitySettings};

pub use super::evidence::counts_as_review_evidence;
pub use super::lapse::{hours_overdue, hours_since_review, last_review_evidence};

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
            let flipped = before.level.min(after.level) + 1;
            let c = after.criteria.iter().find(|c| c.level == flipped)?;
            Some(LevelChange {
                time: after.at,
                from: before.level,
                to: after.level,
                criterion: c.id,
                text: format!("Level {} → {}: {}", before.level, after.level, c.detail),
            })
        })
        .collect()
}

/// What each criterion measured at one instant: the numbers that decide pass or fail and
/// the evidence behind them, before any sentence is written. A level-only history stops
/// here; a full evaluation goes on to [`TeamEvidence::describe`].
struct Measures<'e> {
    at: EpochMs,
    questions: &'e [&'e Event],
    defined: Vec<&'e Target>,
    /// Started targets without baseline, target or deadline.
    lacking: u64,
    looped: Vec<&'e Target>,
    periods: Periods,
    /// Reviewed periods, oldest first, with the event that made each one reviewed.
    reviewed: Vec<(u64, &'e Event)>,
    blocks: Periods,
    blocks_hit: u64,
    acting: Acting<'e>,
    projects: Projects<'e>,
}

/// Level 6's numbers.
struct Acting<'e> {
    with_decision: u64,
    /// Decisions in reviewed periods.
    decisions: Vec<&'e Event>,
    /// Due decisions (time, id) and the outcomes closing them.
    due_used: Vec<(EpochMs, &'e str)>,
    due_n: u64,
    done: u64,
}

/// Level 7's numbers.
struct Projects<'e> {
    live: Vec<&'e Target>,
    defined_n: u64,
    due: Vec<&'e Target>,
    unverified: Vec<&'e Target>,
    missed: Vec<&'e Target>,
    blank: Vec<&'e Target>,
}

impl<'e> Measures<'e> {
    fn passed(&self, s: &MaturitySettings) -> [bool; 7] {
        [
            self.questions.len() as u64 >= u64::from(s.min_questions),
            self.defined.len() as u64 >= u64::from(s.min_defined_targets),
            !self.looped.is_empty(),
            reaches(self.reviewed.len() as u64, self.periods.n, s.review_ratio),
            reaches(self.blocks_hit, self.blocks.n, s.adjustment_ratio),
            {
                let [a, b] = self.acting_parts(s);
                a && b
            },
            self.project_parts(s).iter().all(|p| *p),
        ]
    }

    /// Level 6: (a) decisions in reviewed periods, (b) follow-through (holds when none due).
    fn acting_parts(&self, s: &MaturitySettings) -> [bool; 2] {
        let a = &self.acting;
        [
            reaches(
                a.with_decision,
                self.reviewed.len() as u64,
                s.decision_ratio,
            ),
            a.due_n == 0 || reaches(a.done, a.due_n, s.follow_through_ratio),
        ]
    }

    /// Level 7: live count, defined share, verified share (holds when none due), learnings.
    fn project_parts(&self, s: &MaturitySettings) -> [bool; 4] {
        let p = &self.projects;
        let live_n = p.live.len() as u64;
        let due_n = p.due.len() as u64;
        let verified_n = due_n - p.unverified.len() as u64;
        [
            live_n >= u64::from(s.min_projects),
            reaches(p.defined_n, live_n, s.defined_share),
            due_n == 0 || reaches(verified_n, due_n, s.verified_share),
            p.blank.is_empty(),
        ]
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

impl TeamEvidence<'_> {
    /// Levels at each step (see [`level_history`]).
    pub fn level_history(&self, steps: &[EpochMs]) -> Vec<LevelPoint> {
        steps.iter().map(|&t| self.level_at(t)).collect()
    }

    /// Changes of level between consecutive steps (see [`level_changes_over`]).
    pub fn level_changes(&self, steps: &[EpochMs]) -> Vec<LevelChange> {
        self.level_history(steps)
            .windows(2)
            .filter(|p| p[0].level != p[1].level)
            .flat_map(|p| level_changes(&[self.evaluate(p[0].at), self.evaluate(p[1].at)]))
            .collect()
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

    /// Every number of SPEC §5 at `at`.
    fn measure(&self, at: EpochMs) -> Measures<'_> {
        let s = self.settings;
        let window_start = at.saturating_sub(s.window_ms());
        let loopback_start = at.saturating_sub(days_ms(u64::from(s.loopback_days)));

        // 1: questions in the window.
        let questions = TeamEvidence::in_range(&self.questions, window_start, at);

        // 2: defined targets, started, deadline no older than the window.
        let mut defined = Vec::new();
        let mut lacking = 0u64;
        for t in self.targets.iter().filter(|t| t.start_at < at) {
            if !t.is_defined() {
                lacking += 1;
            } else if t.deadline.is_some_and(|d| d >= window_start) {
                defined.push(*t);
            }
        }

        // 3: verifications in [T − loopback, T).
        let looped = self
            .targets
            .iter()
            .filter(|t| {
                t.verification
                    .as_ref()
                    .is_some_and(|v| v.verified_at >= loopback_start && v.verified_at < at)
            })
            .copied()
            .collect();

        // 4: reviewed periods.
        let periods = Periods {
            t: at,
            len: days_ms(u64::from(self.team.cadence_days)),
            n: s.period_count(self.team.cadence_days),
        };
        let reviewed = self.reviewed_periods(&periods);

        // 5: blocks with a metric change.
        let blocks = Periods {
            t: at,
            len: days_ms(u64::from(s.adjustment_block_days)),
            n: s.block_count(),
        };
        let blocks_hit = blocks.first_per_period(&self.metric_changes).len() as u64;

        let acting = self.measure_acting(at, window_start, &periods, &reviewed);
        let projects = self.measure_projects(at, window_start, loopback_start);
        Measures {
            at,
            questions,
            defined,
            lacking,
            looped,
            periods,
            reviewed,
            blocks,
            blocks_hit,
            acting,
            projects,
        }
    }

    /// Reviewed periods (index → the evidence that made it reviewed), oldest first: the
    /// earliest `review` of the period, or when it has none the earliest counting `view`.
    /// One event per period keeps the evidence list short with passive views.
    fn reviewed_periods(&self, periods: &Periods) -> Vec<(u64, &'a Event)> {
        let mut by_period: BTreeMap<u64, &Event> = BTreeMap::new();
        for (i, e) in periods.first_per_period(&self.views) {
            by_period.insert(i, e);
        }
        for (i, e) in periods.first_per_period(&self.reviews) {
            by_period.insert(i, e);
        }
        by_period.into_iter().rev().collect()
    }

    fn measure_acting(
        &self,
        at: EpochMs,
        window_start: EpochMs,
        periods: &Periods,
        reviewed: &[(u64, &Event)],
    ) -> Acting<'a> {
        // (a) reviewed periods that also hold a decision of the team.
        let mut with_decision = 0u64;
        let mut decisions = Vec::new();
        for (i, _) in reviewed {
            let ds = TeamEvidence::in_range(&self.decisions, periods.start(*i), periods.end(*i));
            if !ds.is_empty() {
                with_decision += 1;
                decisions.extend_from_slice(ds);
            }
        }
        // (b) decisions due in the window (whenever taken; only those taken before T
        // exist at T) and the earliest outcome naming each, if before T.
        let mut due_used = Vec::new();
        let mut due_n = 0u64;
        let mut done = 0u64;
        for d in self
            .due_in_range(window_start, at)
            .iter()
            .filter(|d| d.decision.time < at)
        {
            due_n += 1;
            due_used.push((d.decision.time, d.decision.id.as_str()));
            if let Some(o) = self
                .outcomes
                .get(d.decision.id.as_str())
                .filter(|o| o.time < at)
            {
                done += 1;
                due_used.push((o.time, o.id));
            }
        }
        Acting {
            with_decision,
            decisions,
            due_used,
            due_n,
            done,
        }
    }

    fn measure_projects(
        &self,
        at: EpochMs,
        window_start: EpochMs,
        loopback_start: EpochMs,
    ) -> Projects<'a> {
        let s = self.settings;
        let grace_end = at.saturating_sub(days_ms(u64::from(s.verification_grace_days)));
        // (i) live: started, and no verification before the window.
        let live: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| {
                t.start_at < at
                    && t.verification
                        .as_ref()
                        .is_none_or(|v| v.verified_at >= window_start)
            })
            .copied()
            .collect();
        // (ii) of them, the defined ones.
        let defined_n = live.iter().filter(|t| t.is_defined()).count() as u64;
        // (iii) deadline in [T − loopback, T − grace): verified before T?
        let due: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| {
                t.deadline
                    .is_some_and(|d| d >= loopback_start && d < grace_end)
            })
            .copied()
            .collect();
        let unverified = due
            .iter()
            .filter(|t| t.verification.as_ref().is_none_or(|v| v.verified_at >= at))
            .copied()
            .collect();
        // (iv) missed verifications in the loopback, and those with blank learnings.
        let missed: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| {
                t.verification.as_ref().is_some_and(|v| {
                    v.verified_at >= loopback_start
                        && v.verified_at < at
                        && v.verdict == Verdict::Missed
                })
            })
            .copied()
            .collect();
        let blank = missed
            .iter()
            .filter(|t| {
                t.verification
                    .as_ref()
                    .is_some_and(|v| v.learnings.trim().is_empty())
            })
            .copied()
            .collect();
        Projects {
            live,
            defined_n,
            due,
            unverified,
            missed,
            blank,
        }
    }

    /// The seven criteria with values, sentences and evidence ids.
    fn describe(&self, m: &Measures<'_>, passed: &[bool; 7]) -> Vec<CriterionResult> {
        vec![
            self.adhoc_queries(m, passed[0]),
            self.defined_targets(m, passed[1]),
            self.looped_back(m, passed[2]),
            self.regular_reviews(m, passed[3]),
            self.regular_adjustments(m, passed[4]),
            self.acting_on_metrics(m),
            self.data_driven_projects(m),
        ]
    }

    fn adhoc_queries(&self, m: &Measures<'_>, passed: bool) -> CriterionResult {
        let s = self.settings;
        let count = m.questions.len() as u64;
        let found = format!(
            "{} in {}",
            count_noun(count, "ad-hoc question", "ad-hoc questions"),
            window_phrase(s)
        );
        CriterionResult {
            id: CRITERIA[0],
            level: 1,
            passed,
            value: count as f64,
            threshold: f64::from(s.min_questions),
            detail: if passed {
                found
            } else {
                format!("{found}; {} needed", s.min_questions)
            },
            evidence: ids(m.questions.iter().copied()),
        }
    }

    fn defined_targets(&self, m: &Measures<'_>, passed: bool) -> CriterionResult {
        let s = self.settings;
        let count = m.defined.len() as u64;
        let found = format!(
            "{} (baseline, target and deadline set) started, with a deadline no earlier than {} ago",
            count_noun(count, "defined target", "defined targets"),
            weeks(s.window_weeks)
        );
        let detail = if passed {
            found
        } else {
            let mut d = format!("{found}; {} needed", s.min_defined_targets);
            if m.lacking > 0 {
                d.push_str(&format!(
                    "; {} still {} a baseline, target or deadline",
                    count_noun(m.lacking, "started target", "started targets"),
                    if m.lacking == 1 { "lacks" } else { "lack" }
                ));
            }
            d
        };
        CriterionResult {
            id: CRITERIA[1],
            level: 2,
            passed,
            value: count as f64,
            threshold: f64::from(s.min_defined_targets),
            detail,
            evidence: m.defined.iter().map(|t| t.id.clone()).collect(),
        }
    }

    fn looped_back(&self, m: &Measures<'_>, passed: bool) -> CriterionResult {
        let s = self.settings;
        let at = m.at;
        let count = m.looped.len() as u64;
        let found = format!(
            "{} at the finish line in the last {}",
            count_noun(count, "target verified", "targets verified"),
            days(s.loopback_days)
        );
        let detail = if passed {
            found
        } else {
            let unverified = self
                .targets
                .iter()
                .filter(|t| {
                    t.deadline.is_some_and(|d| d < at)
                        && t.verification.as_ref().is_none_or(|v| v.verified_at >= at)
                })
                .count() as u64;
            let mut d = format!("{found}; 1 needed");
            if unverified > 0 {
                d.push_str(&format!(
                    "; {} past {} deadline without a verification",
                    count_noun(unverified, "target is", "targets are"),
                    if unverified == 1 { "its" } else { "their" }
                ));
            }
            d
        };
        CriterionResult {
            id: CRITERIA[2],
            level: 3,
            passed,
            value: count as f64,
            threshold: 1.0,
            detail,
            evidence: m.looped.iter().map(|t| t.id.clone()).collect(),
        }
    }

    fn regular_reviews(&self, m: &Measures<'_>, passed: bool) -> CriterionResult {
        let s = self.settings;
        let n = m.periods.n;
        let count = m.reviewed.len() as u64;
        let cadence = self.team.cadence_days;
        let detail = if n == 0 {
            no_period_fits(cadence, s.window_weeks)
        } else {
            let found = format!("reviewed in {count} of {n} {}", period_noun(cadence, n));
            if passed {
                found
            } else {
                format!("{found}; {} needed", needed(n, s.review_ratio))
            }
        };
        CriterionResult {
            id: CRITERIA[3],
            level: 4,
            passed,
            value: share(count, n),
            threshold: s.review_ratio,
            detail,
            evidence: ids(m.reviewed.iter().map(|(_, e)| *e)),
        }
    }

    fn regular_adjustments(&self, m: &Measures<'_>, passed: bool) -> CriterionResult {
        let s = self.settings;
        let n = m.blocks.n;
        let count = m.blocks_hit;
        let detail = if n == 0 {
            format!(
                "no block of {} fits in the {}-week window",
                days(s.adjustment_block_days),
                s.window_weeks
            )
        } else {
            let found = format!(
                "metric changes in {count} of {n} {} of {}",
                if n == 1 { "block" } else { "blocks" },
                days(s.adjustment_block_days)
            );
            if passed {
                found
            } else {
                format!("{found}; {} needed", needed(n, s.adjustment_ratio))
            }
        };
        let used = if n == 0 {
            &[][..]
        } else {
            TeamEvidence::in_range(&self.metric_changes, m.blocks.oldest_start(), m.at)
        };
        CriterionResult {
            id: CRITERIA[4],
            level: 5,
            passed,
            value: share(count, n),
            threshold: s.adjustment_ratio,
            detail,
            evidence: ids(used.iter().copied()),
        }
    }

    fn acting_on_metrics(&self, m: &Measures<'_>) -> CriterionResult {
        let s = self.settings;
        let a = &m.acting;
        let cadence = self.team.cadence_days;
        let [a_pass, b_pass] = m.acting_parts(s);

        let reviewed_n = m.reviewed.len() as u64;
        let a_text = if reviewed_n == 0 {
            format!(
                "no {} reviewed, so none holds a decision",
                period_noun(cadence, 1)
            )
        } else {
            let found = format!(
                "decisions in {} of {reviewed_n} reviewed {}",
                a.with_decision,
                period_noun(cadence, reviewed_n)
            );
            if a_pass {
                found
            } else {
                format!("{found}; {} needed", needed(reviewed_n, s.decision_ratio))
            }
        };

        let b_text = if a.due_n == 0 {
            format!("no decision fell due in {}", window_phrase(s))
        } else {
            let found = format!(
                "outcomes for {} of {} {} due in {}",
                a.done,
                a.due_n,
                if a.due_n == 1 {
                    "decision"
                } else {
                    "decisions"
                },
                window_phrase(s)
            );
            if b_pass {
                found
            } else {
                format!(
                    "{found}; {} needed",
                    needed(a.due_n, s.follow_through_ratio)
                )
            }
        };

        let mut used: Vec<(EpochMs, &str)> = a
            .decisions
            .iter()
            .map(|e| (e.time, e.id.as_str()))
            .chain(a.due_used.iter().copied())
            .collect();
        used.sort_unstable();
        used.dedup();
        let parts = [(a_pass, a_text), (b_pass, b_text)];
        compound(
            6,
            CRITERIA[5],
            &parts,
            used.into_iter().map(|(_, id)| id.to_string()).collect(),
        )
    }

    fn data_driven_projects(&self, m: &Measures<'_>) -> CriterionResult {
        let s = self.settings;
        let p = &m.projects;
        let [i_pass, ii_pass, iii_pass, iv_pass] = m.project_parts(s);

        let live_n = p.live.len() as u64;
        let i_text = if i_pass {
            count_noun(live_n, "live project", "live projects")
        } else {
            format!(
                "{}; {} needed",
                count_noun(live_n, "live project", "live projects"),
                s.min_projects
            )
        };

        // When there is no live project at all and (i) already says so, "none is
        // defined" would only repeat it.
        let ii_text = if live_n == 0 {
            if i_pass {
                "no live project, so none is defined".to_string()
            } else {
                String::new()
            }
        } else {
            let found = format!(
                "{} of {live_n} live {} defined (baseline, target and deadline)",
                p.defined_n,
                if live_n == 1 { "project" } else { "projects" }
            );
            if ii_pass {
                found
            } else {
                format!("{found}; {} needed", needed(live_n, s.defined_share))
            }
        };

        let due_n = p.due.len() as u64;
        let verified_n = due_n - p.unverified.len() as u64;
        let iii_text = if due_n == 0 {
            format!(
                "no project past its deadline and {}-day grace in the last {}",
                s.verification_grace_days,
                days(s.loopback_days)
            )
        } else {
            let found = format!(
                "{verified_n} of {due_n} {} past the deadline and {}-day grace verified",
                if due_n == 1 { "project" } else { "projects" },
                s.verification_grace_days
            );
            if iii_pass {
                found
            } else {
                format!(
                    "{found}; {} needed (unverified: {})",
                    needed(due_n, s.verified_share),
                    names(&p.unverified)
                )
            }
        };

        let iv_text = if !iv_pass {
            format!(
                "{} verified without learnings: {}; write down what was learnt",
                if p.blank.len() == 1 {
                    "missed project"
                } else {
                    "missed projects"
                },
                names(&p.blank)
            )
        } else if p.missed.is_empty() {
            "no missed project to learn from".to_string()
        } else {
            "learnings recorded for every missed project".to_string()
        };

        let mut used: Vec<&str> = p
            .live
            .iter()
            .chain(&p.due)
            .chain(&p.missed)
            .map(|t| t.id.as_str())
            .collect();
        used.sort_unstable();
        used.dedup();
        let parts = [
            (i_pass, i_text),
            (ii_pass, ii_text),
            (iii_pass, iii_text),
            (iv_pass, iv_text),
        ];
        compound(
            7,
            CRITERIA[6],
            &parts,
            used.into_iter().map(str::to_string).collect(),
        )
    }
}

/// A criterion made of parts: value = parts that hold, threshold = number of parts; the
/// detail lists the failing parts (or, when all hold, every part's summary).
fn compound(
    level: u8,
    id: &'static str,
    parts: &[(bool, String)],
    evidence: Vec<String>,
) -> CriterionResult {
    let held = parts.iter().filter(|(ok, _)| *ok).count();
    let passed = held == parts.len();
    let texts: Vec<&str> = parts
        .iter()
        .filter(|(ok, text)| (passed || !*ok) && !text.is_empty())
        .map(|(_, text)| text.as_str())
        .collect();
    CriterionResult {
        id,
        level,
        passed,
        value: held as f64,
        threshold: parts.len() as f64,
        detail: texts.join(if passed { ", " } else { ", and " }),
        evidence,
    }
}

/// Ids of events in the order given (callers pass them sorted by time).
fn ids<'e>(events: impl Iterator<Item = &'e Event>) -> Vec<String> {
    events.map(|e| e.id.clone()).collect()
}

/// "no question" / "1 question" / "3 questions".
fn count_noun(n: u64, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {one}"),
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// "the last 12 weeks" (or "the last week").
fn window_phrase(s: &MaturitySettings) -> String {
    if s.window_weeks == 1 {
        "the last week".to_string()
    } else {
        format!("the last {} weeks", s.window_weeks)
    }
}

fn weeks(n: u32) -> String {
    if n == 1 {
        "1 week".to_string()
    } else {
        format!("{n} weeks")
    }
}

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

/// How a count of periods reads: "weeks" for a weekly cadence, else "periods of N days".
fn period_noun(cadence_days: u32, n: u64) -> String {
    match (cadence_days, n) {
        (7, 1) => "week".to_string(),
        (7, _) => "weeks".to_string(),
        (c, 1) => format!("period of {}", days(c)),
        (c, _) => format!("periods of {}", days(c)),
    }
}

fn no_period_fits(cadence_days: u32, window_weeks: u32) -> String {
    if cadence_days == 0 {
        "the team has no review cadence (cadenceDays is 0), so no period can be reviewed"
            .to_string()
    } else {
        format!(
            "a review period of {} is longer than the {}-week window, so no period can be reviewed",
            days(cadence_days),
            window_weeks
        )
    }
}

/// Target names for a sentence: at most three, then "and N more".
fn names(targets: &[&Target]) -> String {
    let shown: Vec<&str> = targets.iter().take(3).map(|t| t.name.as_str()).collect();
    let mut s = shown.join(", ");
    if targets.len() > 3 {
        s.push_str(&format!(" and {} more", targets.len() - 3));
    }
    s
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
