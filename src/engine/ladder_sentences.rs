//! The sentences of SPEC §5: each criterion's result (value, threshold, detail, evidence
//! ids) written from the numbers `ladder_measure.rs` took, and the phrases they share.

use crate::model::{EpochMs, EventRef, Target};

use super::measure::Measures;
use super::{CriterionResult, CRITERIA};
use crate::engine::evidence::TeamEvidence;
use crate::engine::ratio::{needed, share};
use crate::engine::settings::MaturitySettings;

impl TeamEvidence<'_> {
    /// The seven criteria with values, sentences and evidence ids.
    pub(super) fn describe(&self, m: &Measures<'_>, passed: &[bool; 7]) -> Vec<CriterionResult> {
        (1..=7)
            .filter_map(|level| self.describe_level(m, passed, level))
            .collect()
    }

    /// The criterion of `level` (1 to 7) alone, as [`describe`](Self::describe) writes it.
    pub(super) fn describe_level(
        &self,
        m: &Measures<'_>,
        passed: &[bool; 7],
        level: u8,
    ) -> Option<CriterionResult> {
        Some(match level {
            1 => self.adhoc_queries(m, passed[0]),
            2 => self.defined_targets(m, passed[1]),
            3 => self.looped_back(m, passed[2]),
            4 => self.regular_reviews(m, passed[3]),
            5 => self.regular_adjustments(m, passed[4]),
            6 => self.acting_on_metrics(m),
            7 => self.data_driven_projects(m),
            _ => return None,
        })
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
            .map(|e| (e.time(), e.id()))
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
fn ids<'e>(events: impl Iterator<Item = EventRef<'e>>) -> Vec<String> {
    events.map(|e| e.id().to_string()).collect()
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
