//! The numbers of SPEC §5 at one instant `T`: what each criterion counts and the evidence
//! behind it, and which criteria pass, before any sentence is written.

use crate::model::{EpochMs, EventRef, Target, Verdict};

use crate::engine::evidence::{Periods, TeamEvidence};
use crate::engine::ratio::reaches;
use crate::engine::settings::{days_ms, MaturitySettings};

/// What each criterion measured at one instant: the numbers that decide pass or fail and
/// the evidence behind them, before any sentence is written. A level-only history stops
/// here; a full evaluation goes on to the sentences.
pub(super) struct Measures<'e> {
    pub(super) at: EpochMs,
    pub(super) questions: &'e [EventRef<'e>],
    pub(super) defined: Vec<&'e Target>,
    /// Started targets without baseline, target or deadline.
    pub(super) lacking: u64,
    pub(super) looped: Vec<&'e Target>,
    pub(super) periods: Periods,
    /// Reviewed periods, oldest first, with the event that made each one reviewed.
    pub(super) reviewed: Vec<(u64, EventRef<'e>)>,
    pub(super) blocks: Periods,
    pub(super) blocks_hit: u64,
    /// Blocks holding a metric change, oldest first, each with its earliest one.
    pub(super) block_hits: Vec<(u64, EventRef<'e>)>,
    pub(super) acting: Acting<'e>,
    pub(super) projects: Projects<'e>,
}

/// Level 6's numbers.
pub(super) struct Acting<'e> {
    pub(super) with_decision: u64,
    /// Decisions in reviewed periods.
    pub(super) decisions: Vec<EventRef<'e>>,
    /// Due decisions (time, id) and the outcomes closing them.
    pub(super) due_used: Vec<(EpochMs, &'e str)>,
    pub(super) due_n: u64,
    pub(super) done: u64,
}

/// Level 7's numbers.
pub(super) struct Projects<'e> {
    pub(super) live: Vec<&'e Target>,
    pub(super) defined_n: u64,
    pub(super) due: Vec<&'e Target>,
    pub(super) unverified: Vec<&'e Target>,
    pub(super) missed: Vec<&'e Target>,
    pub(super) blank: Vec<&'e Target>,
}

impl<'e> Measures<'e> {
    pub(super) fn passed(&self, s: &MaturitySettings) -> [bool; 7] {
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
    pub(super) fn acting_parts(&self, s: &MaturitySettings) -> [bool; 2] {
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
    pub(super) fn project_parts(&self, s: &MaturitySettings) -> [bool; 4] {
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

impl<'a> TeamEvidence<'a> {
    /// Every number of SPEC §5 at `at`.
    pub(super) fn measure(&self, at: EpochMs) -> Measures<'_> {
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
        let block_hits = blocks.first_per_period(&self.metric_changes);
        let blocks_hit = block_hits.len() as u64;

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
            block_hits,
            acting,
            projects,
        }
    }

    /// Reviewed periods (index → the evidence that made it reviewed), oldest first: the
    /// earliest `review` of the period, or when it has none the earliest counting `view`.
    /// One event per period keeps the evidence list short with passive views.
    fn reviewed_periods(&self, periods: &Periods) -> Vec<(u64, EventRef<'a>)> {
        // Both lists are oldest period first (descending index): merged, a review taking
        // the place of a view of the same period (a map of periods was a tenth of a
        // history step's measuring, issue 15).
        let views = periods.first_per_period(&self.views);
        let reviews = periods.first_per_period(&self.reviews);
        let mut out = Vec::with_capacity(views.len().max(reviews.len()));
        let (mut views, mut reviews) =
            (views.into_iter().peekable(), reviews.into_iter().peekable());
        loop {
            let next = match (views.peek(), reviews.peek()) {
                (None, None) => break,
                (Some(_), None) => views.next(),
                (None, Some(_)) => reviews.next(),
                (Some(&(v, _)), Some(&(r, _))) => {
                    if v > r {
                        views.next()
                    } else {
                        if v == r {
                            views.next();
                        }
                        reviews.next()
                    }
                }
            };
            out.extend(next);
        }
        out
    }

    fn measure_acting(
        &self,
        at: EpochMs,
        window_start: EpochMs,
        periods: &Periods,
        reviewed: &[(u64, EventRef)],
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
            .filter(|d| d.decision.time() < at)
        {
            due_n += 1;
            due_used.push((d.decision.time(), d.decision.id()));
            if let Some(o) = self.outcomes.get(d.decision.id()).filter(|o| o.time < at) {
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
}
