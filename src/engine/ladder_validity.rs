//! How long a result of the ladder stays true: the first instant after `T` at which some
//! event or target date crosses a boundary that the numbers of `ladder_measure.rs` compare
//! it with (issue 15: a cache serves a result until then).
//!
//! Every comparison with `T` in SPEC §5 is a step in `t` that flips once: `x < t` flips at
//! `x + 1`, `x ≥ t − K` (a window or loopback of length `K`) at `x + K + 1`, and the
//! period of an event anchored at `t` changes at `x + k·len + 1`. The instant is the
//! earliest such flip after `T` among the ones that can change the result, so it is never
//! late; it is early only when a flip changes nothing (say, a question leaving the window
//! the moment another enters). The arithmetic is exact (`i128`); `measure` saturates only
//! for instants within a window of the ends of `EpochMs`, where no evidence lies.

use crate::engine::evidence::{Periods, TeamEvidence};
use crate::engine::settings::days_ms;
use crate::model::{EpochMs, EventKind, EventRef};

use super::measure::Measures;

/// What the caller keeps of a result, which decides which flips matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// The whole evaluation: verdicts, values, sentences and evidence ids.
    Evaluation,
    /// The verdicts alone (a [`super::LevelPoint`]): which event stands for a period does
    /// not matter, only whether the period has one.
    Level,
}

/// The earliest flip after `at` seen so far. Arithmetic is in `i128` so that no date near
/// the ends of `EpochMs` can wrap.
struct Next {
    at: i128,
    first: i128,
}

impl Next {
    fn new(at: EpochMs) -> Self {
        Next {
            at: i128::from(at),
            first: i128::MAX,
        }
    }

    /// A flip at `instant`. One at or before `at` has happened already (the result at
    /// `at` reflects it), so only later ones count.
    fn add(&mut self, instant: i128) {
        if instant > self.at && instant < self.first {
            self.first = instant;
        }
    }

    /// The instant, `EpochMs::MAX` when nothing can flip within `EpochMs`.
    fn until(&self) -> EpochMs {
        EpochMs::try_from(self.first).unwrap_or(EpochMs::MAX)
    }
}

fn ms(t: EpochMs) -> i128 {
    i128::from(t)
}

/// When an event at `time` enters period `i` of periods of `len` (`k = i`) or leaves it
/// (`k = i + 1`): the first `t` with `t − k·len > time`.
fn crossing(time: EpochMs, k: u64, len: i128) -> i128 {
    ms(time) + i128::from(k) * len + 1
}

/// A sorted list counted in `[t − len, t)`: the first event at or after `at` enters at
/// its time + 1, and the oldest one still in (or ahead) leaves at its time + len + 1.
fn window(next: &mut Next, list: &[EventRef], len: i128) {
    let entering = list.partition_point(|e| ms(e.time()) < next.at);
    if let Some(e) = list.get(entering) {
        next.add(ms(e.time()) + 1);
    }
    let leaving = list.partition_point(|e| ms(e.time()) + len < next.at);
    if let Some(e) = list.get(leaving) {
        next.add(ms(e.time()) + len + 1);
    }
}

/// Whether period `i` is among `hits` (period index descending, as `first_per_period`
/// and the reviewed periods list them: oldest first).
fn holds(hits: &[(u64, EventRef)], i: u64) -> bool {
    hits.binary_search_by(|(j, _)| i.cmp(j)).is_ok()
}

/// The earliest time among `lists` in `[from, to)`.
fn earliest(lists: &[&[EventRef]], from: EpochMs, to: EpochMs) -> Option<EpochMs> {
    lists
        .iter()
        .filter_map(|l| l.get(l.partition_point(|e| e.time() < from)))
        .map(|e| e.time())
        .filter(|t| *t < to)
        .min()
}

/// The latest time among `lists` in `[from, to)`.
fn latest(lists: &[&[EventRef]], from: EpochMs, to: EpochMs) -> Option<EpochMs> {
    lists
        .iter()
        .filter_map(|l| {
            l.partition_point(|e| e.time() < to)
                .checked_sub(1)
                .and_then(|i| l.get(i))
        })
        .map(|e| e.time())
        .filter(|t| *t >= from)
        .max()
}

/// Empty periods filling: an empty period fills when the earliest event newer than it
/// enters, and only the newest empty period of a run can fill first (an event reaches
/// older periods through it). That is period 0, filled from the events at or after `at`,
/// or an empty period just older than a held one, filled from the held one's earliest.
/// `hits` are the held periods, index descending (oldest first, as `first_per_period`
/// and the reviewed periods list them).
fn fills(next: &mut Next, p: &Periods, lists: &[&[EventRef]], hits: &[(u64, EventRef)]) {
    let len = i128::from(p.len);
    for &(i, _) in hits {
        if i + 1 < p.n && !holds(hits, i + 1) {
            if let Some(t) = earliest(lists, p.start(i), p.end(i)) {
                next.add(crossing(t, i + 1, len));
            }
        }
    }
    if !holds(hits, 0) {
        // An event at EpochMs::MAX itself is left out: no `t` passes it.
        if let Some(t) = earliest(lists, p.t, EpochMs::MAX) {
            next.add(crossing(t, 0, len));
        }
    }
}

/// Which periods hold at least one event of `lists` (`hits`, see [`fills`]): a held
/// period empties when its latest event leaves it; empty ones fill.
fn occupancy(next: &mut Next, p: &Periods, lists: &[&[EventRef]], hits: &[(u64, EventRef)]) {
    if p.n == 0 || p.len <= 0 {
        return;
    }
    let len = i128::from(p.len);
    for &(i, _) in hits {
        if let Some(t) = latest(lists, p.start(i), p.end(i)) {
            next.add(crossing(t, i + 1, len));
        }
    }
    fills(next, p, lists, hits);
}

/// The reviewed periods with the event that stands for each (the earliest review, else
/// the earliest view): a period's event changes when it leaves (before the period can
/// empty), a period standing on a view changes when a review enters it, and empty
/// periods fill as in [`occupancy`].
fn representatives(
    next: &mut Next,
    p: &Periods,
    reviews: &[EventRef],
    views: &[EventRef],
    reviewed: &[(u64, EventRef)],
) {
    if p.n == 0 || p.len <= 0 {
        return;
    }
    let len = i128::from(p.len);
    for &(i, rep) in reviewed {
        next.add(crossing(rep.time(), i + 1, len));
        if rep.kind() != EventKind::Review {
            // Standing on a view: the first review newer than the period takes over.
            let r = reviews.partition_point(|e| e.time() < p.end(i));
            if let Some(e) = reviews.get(r) {
                next.add(crossing(e.time(), i, len));
            }
        }
    }
    fills(next, p, &[reviews, views], reviewed);
}

/// Decisions in reviewed periods (level 6, part a): a decision matters when it leaves a
/// reviewed period or enters one. From an unreviewed period (or the future) it passes
/// unreviewed periods unnoticed until it enters the nearest reviewed one older than it.
fn decisions_in_reviewed(
    next: &mut Next,
    p: &Periods,
    decisions: &[EventRef],
    reviewed: &[(u64, EventRef)],
) {
    if reviewed.is_empty() || p.len <= 0 {
        return;
    }
    let len = i128::from(p.len);
    // The smallest reviewed index above `i` (reviewed lists indices descending).
    let reviewed_above = |i: Option<u64>| -> Option<u64> {
        let k = match i {
            Some(i) => reviewed.partition_point(|(j, _)| *j > i),
            None => reviewed.len(),
        };
        k.checked_sub(1)
            .and_then(|k| reviewed.get(k))
            .map(|(j, _)| *j)
    };
    let from = decisions.partition_point(|e| e.time() < p.oldest_start());
    for d in &decisions[from..] {
        if d.time() >= p.t {
            // The first decision not yet in any period enters first; later ones later.
            if let Some(j) = reviewed_above(None) {
                next.add(crossing(d.time(), j, len));
            }
            break;
        }
        match p.index_of(d.time()) {
            Some(i) if holds(reviewed, i) => next.add(crossing(d.time(), i + 1, len)),
            Some(i) => {
                if let Some(j) = reviewed_above(Some(i)) {
                    next.add(crossing(d.time(), j, len));
                }
            }
            None => {}
        }
    }
}

impl TeamEvidence<'_> {
    /// The first instant after `m.at` at which the result of `scope` may differ, given the
    /// same evidence; `EpochMs::MAX` when none. `passed` is `m.passed(settings)`.
    pub(super) fn stable_until(
        &self,
        m: &Measures<'_>,
        passed: &[bool; 7],
        scope: Scope,
    ) -> EpochMs {
        let s = self.settings;
        let mut next = Next::new(m.at);
        let w = i128::from(s.window_ms());
        let loopback = i128::from(days_ms(u64::from(s.loopback_days)));
        let grace = i128::from(days_ms(u64::from(s.verification_grace_days)));

        // 1: questions in the window.
        window(&mut next, &self.questions, w);

        // 2, 3, 7: every date of a target that is compared with T.
        for t in &self.targets {
            // Started (2: defined or lacking; 7: live).
            next.add(ms(t.start_at) + 1);
            if let Some(d) = t.deadline {
                if t.is_defined() {
                    // 2: deadline no older than the window.
                    next.add(ms(d) + w + 1);
                }
                if grace < loopback {
                    // 7 (iii): deadline in [T − loopback, T − grace).
                    next.add(ms(d) + grace + 1);
                    next.add(ms(d) + loopback + 1);
                }
                if scope == Scope::Evaluation && !passed[2] {
                    // 3's sentence: targets past their deadline without a verification.
                    next.add(ms(d) + 1);
                }
            }
            if let Some(v) = &t.verification {
                let v = ms(v.verified_at);
                // 3 and 7 (iv): verified in [T − loopback, T); 7 (iii): verified before
                // T; 7 (i): no verification older than the window.
                next.add(v + 1);
                next.add(v + loopback + 1);
                next.add(v + w + 1);
            }
        }

        // 4: reviewed periods.
        match scope {
            Scope::Evaluation => representatives(
                &mut next,
                &m.periods,
                &self.reviews,
                &self.views,
                &m.reviewed,
            ),
            Scope::Level => occupancy(
                &mut next,
                &m.periods,
                &[&self.reviews, &self.views],
                &m.reviewed,
            ),
        }

        // 5: blocks with a metric change; the evaluation lists every change in the blocks.
        occupancy(&mut next, &m.blocks, &[&self.metric_changes], &m.block_hits);
        if scope == Scope::Evaluation && m.blocks.n > 0 && m.blocks.len > 0 {
            let span = i128::from(m.blocks.len) * i128::from(m.blocks.n);
            window(&mut next, &self.metric_changes, span);
        }

        // 6 (a): decisions in reviewed periods.
        decisions_in_reviewed(&mut next, &m.periods, &self.decisions, &m.reviewed);

        // 6 (b): a decision counts while T is in (max(due, taken), due + W], with its
        // first outcome once T passes the outcome's time.
        let from = self.due.partition_point(|d| ms(d.at) + w < next.at);
        for d in &self.due[from..] {
            let due = ms(d.at);
            if due + 1 >= next.first {
                // Sorted by due date, and every flip below is after it.
                break;
            }
            let enter = due.max(ms(d.decision.time())) + 1;
            let leave = due + w + 1;
            if enter >= leave {
                continue;
            }
            next.add(enter);
            next.add(leave);
            if let Some(o) = self.outcomes.get(d.decision.id()) {
                let done = ms(o.time) + 1;
                if done > enter && done < leave {
                    next.add(done);
                }
            }
        }

        next.until()
    }
}
