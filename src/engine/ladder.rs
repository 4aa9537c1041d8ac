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

impl TeamEvidence<'_> {
    /// The evaluation at `at` (same answer as [`evaluate`]).
    pub fn evaluate(&self, at: EpochMs) -> Evaluation {
        let s = self.settings;
        let window_start = at.saturating_sub(s.window_ms());
        let periods = Periods {
            t: at,
            len: days_ms(u64::from(self.team.cadence_days)),
            n: s.period_count(self.team.cadence_days),
        };
        let reviewed = self.reviewed_periods(&periods);

        let criteria = vec![
            self.adhoc_queries(at, window_start),
            self.defined_targets(at, window_start),
            self.looped_back(at),
            self.regular_reviews(&periods, &reviewed),
            self.regular_adjustments(at),
            self.acting_on_metrics(at, window_start, &periods, &reviewed),
            self.data_driven_projects(at, window_start),
        ];
        let score = criteria.iter().filter(|c| c.passed).count();
        let level = criteria.iter().take_while(|c| c.passed).count();
        let blockers = criteria
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.clone())
            .collect();
        Evaluation {
            team: self.team.id.clone(),
            level: u8::try_from(level).unwrap_or(7),
            score: u8::try_from(score).unwrap_or(7),
            at,
            criteria,
            blockers,
        }
    }

    /// Reviewed periods (index → the evidence that made it reviewed), oldest first: the
    /// earliest `review` of the period, or when it has none the earliest counting `view`.
    /// One event per period keeps the evidence list short with passive views.
    fn reviewed_periods(&self, periods: &Periods) -> Vec<(u64, &Event)> {
        let mut by_period: BTreeMap<u64, &Event> = BTreeMap::new();
        for (i, e) in periods.first_per_period(&self.views) {
            by_period.insert(i, e);
        }
        for (i, e) in periods.first_per_period(&self.reviews) {
            by_period.insert(i, e);
        }
        by_period.into_iter().rev().collect()
    }

    fn adhoc_queries(&self, at: EpochMs, window_start: EpochMs) -> CriterionResult {
        let s = self.settings;
        let questions = TeamEvidence::in_range(&self.questions, window_start, at);
        let count = questions.len() as u64;
        let min = u64::from(s.min_questions);
        let passed = count >= min;
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
                format!("{found}; {min} needed")
            },
            evidence: ids(questions.iter().copied()),
        }
    }

    fn defined_targets(&self, at: EpochMs, window_start: EpochMs) -> CriterionResult {
        let s = self.settings;
        let mut used: Vec<&Target> = Vec::new();
        let mut lacking = 0u64;
        for t in self.targets.iter().filter(|t| t.start_at < at) {
            if !t.is_defined() {
                lacking += 1;
            } else if t.deadline.is_some_and(|d| d >= window_start) {
                used.push(t);
            }
        }
        let count = used.len() as u64;
        let min = u64::from(s.min_defined_targets);
        let passed = count >= min;
        let found = format!(
            "{} (baseline, target and deadline set) started, with a deadline no earlier than {} ago",
            count_noun(count, "defined target", "defined targets"),
            weeks(s.window_weeks)
        );
        let detail = if passed {
            found
        } else {
            let mut d = format!("{found}; {min} needed");
            if lacking > 0 {
                d.push_str(&format!(
                    "; {} still {} a baseline, target or deadline",
                    count_noun(lacking, "started target", "started targets"),
                    if lacking == 1 { "lacks" } else { "lack" }
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
            evidence: used.iter().map(|t| t.id.clone()).collect(),
        }
    }

    fn looped_back(&self, at: EpochMs) -> CriterionResult {
        let s = self.settings;
        let from = at.saturating_sub(days_ms(u64::from(s.loopback_days)));
        let used: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| {
                t.verification
                    .as_ref()
                    .is_some_and(|v| v.verified_at >= from && v.verified_at < at)
            })
            .copied()
            .collect();
        let count = used.len() as u64;
        let passed = count >= 1;
        let found = format!(
            "{} at its finish line in the last {}",
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
            evidence: used.iter().map(|t| t.id.clone()).collect(),
        }
    }

    fn regular_reviews(&self, periods: &Periods, reviewed: &[(u64, &Event)]) -> CriterionResult {
        let s = self.settings;
        let n = periods.n;
        let count = reviewed.len() as u64;
        let passed = reaches(count, n, s.review_ratio);
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
            evidence: ids(reviewed.iter().map(|(_, e)| *e)),
        }
    }

    fn regular_adjustments(&self, at: EpochMs) -> CriterionResult {
        let s = self.settings;
        let blocks = Periods {
            t: at,
            len: days_ms(u64::from(s.adjustment_block_days)),
            n: s.block_count(),
        };
        let n = blocks.n;
        let count = blocks.first_per_period(&self.metric_changes).len() as u64;
        let passed = reaches(count, n, s.adjustment_ratio);
        let noun = format!(
            "{} of {}",
            if n == 1 { "block" } else { "blocks" },
            days(s.adjustment_block_days)
        );
        let detail = if n == 0 {
            format!(
                "no block of {} fits in the {}-week window",
                days(s.adjustment_block_days),
                s.window_weeks
            )
        } else {
            let found = format!("metric changes in {count} of {n} {noun}");
            if passed {
                found
            } else {
                format!("{found}; {} needed", needed(n, s.adjustment_ratio))
            }
        };
        let used = if n == 0 {
            &[][..]
        } else {
            TeamEvidence::in_range(&self.metric_changes, blocks.oldest_start(), at)
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

    fn acting_on_metrics(
        &self,
        at: EpochMs,
        window_start: EpochMs,
        periods: &Periods,
        reviewed: &[(u64, &Event)],
    ) -> CriterionResult {
        let s = self.settings;
        let cadence = self.team.cadence_days;
        let mut used: Vec<(EpochMs, &str)> = Vec::new();

        // (a) reviewed periods that also hold a decision of the team.
        let reviewed_n = reviewed.len() as u64;
        let mut with_decision = 0u64;
        for (i, _) in reviewed {
            let ds = TeamEvidence::in_range(&self.decisions, periods.start(*i), periods.end(*i));
            if !ds.is_empty() {
                with_decision += 1;
                used.extend(ds.iter().map(|e| (e.time, e.id.as_str())));
            }
        }
        let a_pass = reaches(with_decision, reviewed_n, s.decision_ratio);
        let a_text = if reviewed_n == 0 {
            format!(
                "no {} reviewed, so none holds a decision",
                period_noun(cadence, 1)
            )
        } else {
            let found = format!(
                "decisions in {with_decision} of {reviewed_n} reviewed {}",
                period_noun(cadence, reviewed_n)
            );
            if a_pass {
                found
            } else {
                format!("{found}; {} needed", needed(reviewed_n, s.decision_ratio))
            }
        };

        // (b) decisions due in the window (whenever taken) with an outcome before T.
        let mut due_n = 0u64;
        let mut done = 0u64;
        for d in self
            .due_in_range(window_start, at)
            .iter()
            .filter(|d| d.decision.time < at)
        {
            due_n += 1;
            used.push((d.decision.time, d.decision.id.as_str()));
            if let Some(o) = self
                .outcomes
                .get(d.decision.id.as_str())
                .filter(|o| o.time < at)
            {
                done += 1;
                used.push((o.time, o.id));
            }
        }
        let b_pass = due_n == 0 || reaches(done, due_n, s.follow_through_ratio);
        let b_text = if due_n == 0 {
            format!("no decision fell due in {}", window_phrase(s))
        } else {
            let found = format!(
                "outcomes for {done} of {due_n} {} due in {}",
                if due_n == 1 { "decision" } else { "decisions" },
                window_phrase(s)
            );
            if b_pass {
                found
            } else {
                format!("{found}; {} needed", needed(due_n, s.follow_through_ratio))
            }
        };

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

    fn data_driven_projects(&self, at: EpochMs, window_start: EpochMs) -> CriterionResult {
        let s = self.settings;
        let loopback_start = at.saturating_sub(days_ms(u64::from(s.loopback_days)));
        let grace_end = at.saturating_sub(days_ms(u64::from(s.verification_grace_days)));
        let mut used: Vec<&str> = Vec::new();

        // (i) live projects: started, and not verified before the window.
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
        used.extend(live.iter().map(|t| t.id.as_str()));
        let live_n = live.len() as u64;
        let i_pass = live_n >= u64::from(s.min_projects);
        let i_text = if i_pass {
            count_noun(live_n, "live project", "live projects")
        } else {
            format!(
                "{}; {} needed",
                count_noun(live_n, "live project", "live projects"),
                s.min_projects
            )
        };

        // (ii) of the live projects, the share that is defined.
        let defined_n = live.iter().filter(|t| t.is_defined()).count() as u64;
        let ii_pass = reaches(defined_n, live_n, s.defined_share);
        let ii_text = if live_n == 0 {
            "no live project, so none is defined".to_string()
        } else {
            let found = format!(
                "{defined_n} of {live_n} live {} defined (baseline, target and deadline)",
                if live_n == 1 { "project" } else { "projects" }
            );
            if ii_pass {
                found
            } else {
                format!("{found}; {} needed", needed(live_n, s.defined_share))
            }
        };

        // (iii) projects past deadline and grace (within the loopback): the share verified.
        let due: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| {
                t.deadline
                    .is_some_and(|d| d >= loopback_start && d < grace_end)
            })
            .copied()
            .collect();
        used.extend(due.iter().map(|t| t.id.as_str()));
        let (verified, unverified): (Vec<&Target>, Vec<&Target>) = due
            .iter()
            .partition(|t| t.verification.as_ref().is_some_and(|v| v.verified_at < at));
        let due_n = due.len() as u64;
        let verified_n = verified.len() as u64;
        let iii_pass = due_n == 0 || reaches(verified_n, due_n, s.verified_share);
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
                    names(&unverified)
                )
            }
        };

        // (iv) every missed verification in the loopback has learnings.
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
        used.extend(missed.iter().map(|t| t.id.as_str()));
        let blank: Vec<&Target> = missed
            .iter()
            .filter(|t| {
                t.verification
                    .as_ref()
                    .is_some_and(|v| v.learnings.trim().is_empty())
            })
            .copied()
            .collect();
        let iv_pass = blank.is_empty();
        let iv_text = if !iv_pass {
            format!(
                "{} verified without learnings: {}; write down what was learnt",
                if blank.len() == 1 {
                    "missed project"
                } else {
                    "missed projects"
                },
                names(&blank)
            )
        } else if missed.is_empty() {
            "no missed project to learn from".to_string()
        } else {
            "learnings recorded for every missed project".to_string()
        };

        used.sort_unstable();
        used.dedup();
        // When there is no live project at all, "none is defined" only repeats (i).
        let show_ii = live_n != 0 || i_pass;
        let mut parts = vec![(i_pass, i_text)];
        if show_ii {
            parts.push((ii_pass, ii_text));
        } else {
            parts.push((ii_pass, String::new()));
        }
        parts.push((iii_pass, iii_text));
        parts.push((iv_pass, iv_text));
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
