//! Tests of `stable_until` (test-only): on random worlds, every instant in
//! `[at, stable_until)` gives the same answer as `at` (sampled at random, on the edges of
//! the days the worlds crowd their dates around, and at `stable_until − 1`); a level
//! point's instant is never earlier than its evaluation's; on realistic histories the
//! instant is hours or days away, and it is exact where the first change is known.

use proptest::prelude::*;

use super::property_tests::{world, World};
use crate::engine::test_support::{self as ts, D, T, W};
use crate::engine::{evaluate, evaluate_timed, Evaluation, MaturitySettings, TeamEvidence};
use crate::model::{EpochMs, EventKind, Verdict};

const HOUR: i64 = 3_600_000;

/// How far past `at` the instants are checked when the answer lasts longer (or forever):
/// past every window, loopback, grace and period the worlds use.
const HORIZON: i64 = 500 * D;

/// The evaluation at `t`, stamped as if made at `at`.
fn restamped(w: &World, t: EpochMs, at: EpochMs) -> Evaluation {
    let mut e = evaluate(&w.settings, &w.team, &w.events, &w.targets, t);
    e.at = at;
    e
}

/// Instants in `[at, end)` to check: the random ones, the last one, and every edge of
/// the days the worlds put their dates on (`T + k·D` nudged as `time()` nudges them,
/// and one past each, where a flip lands) for at most 40 days, spread over the range.
fn instants(at: EpochMs, end: EpochMs, random: &[u64]) -> Vec<EpochMs> {
    let span = u64::try_from(end - at).unwrap_or(0).max(1);
    let mut out: Vec<EpochMs> = random
        .iter()
        .map(|r| at + i64::try_from(r % span).unwrap_or(0))
        .collect();
    out.push(end - 1);
    out.push(at);
    let first_day = (at - T).div_euclid(D) - 1;
    let last_day = (end - T).div_euclid(D) + 1;
    let days = last_day - first_day + 1;
    let stride = (days / 40).max(1);
    // With a stride, start from a random day so that cases cover different days.
    let offset = random
        .first()
        .map_or(0, |r| i64::try_from(r % 1000).unwrap_or(0))
        % stride;
    let mut day = first_day + offset;
    while day <= last_day {
        for nudge in [
            0,
            1,
            2,
            -1,
            3 * HOUR,
            3 * HOUR + 1,
            -5 * HOUR,
            -5 * HOUR + 1,
        ] {
            out.push(T + day * D + nudge);
        }
        day += stride;
    }
    out.retain(|t| *t >= at && *t < end);
    out
}

fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0i64),
        1 => -2i64..=2,
        2 => (-60i64..60).prop_map(|d| d * D),
        2 => -60 * D..60 * D,
        1 => (-60i64..60, prop_oneof![Just(-1i64), Just(1), Just(3 * HOUR), Just(-5 * HOUR)])
            .prop_map(|(d, n)| d * D + n),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_answer_holds_until_stable_until(
        w in world(),
        shift in offset(),
        random in proptest::collection::vec(any::<u64>(), 16),
    ) {
        let at = w.at + shift;
        let timed = evaluate_timed(&w.settings, &w.team, &w.events, &w.targets, at);
        prop_assert_eq!(
            &timed.value,
            &evaluate(&w.settings, &w.team, &w.events, &w.targets, at)
        );
        let until = timed.stable_until;
        prop_assert!(until > at, "stable_until {} is not after {}", until, at);
        let end = until.min(at + HORIZON);
        for t in instants(at, end, &random) {
            prop_assert_eq!(
                &restamped(&w, t, at),
                &timed.value,
                "changed at at + {} ms, stable_until = at + {} ms",
                t - at,
                until - at
            );
        }
    }

    #[test]
    fn the_level_holds_until_its_stable_until_which_is_never_earlier(
        w in world(),
        shift in offset(),
        random in proptest::collection::vec(any::<u64>(), 16),
    ) {
        let at = w.at + shift;
        let evidence = TeamEvidence::new(&w.settings, &w.team, &w.events, &w.targets);
        let point = evidence.level_at_timed(at);
        prop_assert_eq!(point.value, evidence.level_at(at));
        let full = evidence.evaluate_timed(at).stable_until;
        prop_assert!(point.stable_until >= full);
        let end = point.stable_until.min(at + HORIZON);
        for t in instants(at, end, &random) {
            let mut p = evidence.level_at(t);
            p.at = at;
            prop_assert_eq!(p, point.value, "changed at at + {} ms", t - at);
        }
    }
}

fn until(w: &World) -> EpochMs {
    evaluate_timed(&w.settings, &w.team, &w.events, &w.targets, w.at).stable_until
}

fn empty_world(at: EpochMs) -> World {
    World {
        settings: MaturitySettings::default(),
        team: ts::team("pay"),
        events: vec![],
        targets: vec![],
        at,
    }
}

/// A team that works the way the seed describes: a review every Monday at 10:00 with a
/// decision taken in every other one and followed up, a few questions a week at odd
/// hours, a metric change a month, passive views of its dashboard, and three projects.
fn realistic(at: EpochMs) -> World {
    let mut w = empty_world(at);
    let monday_10 = T - 7 * D + 10 * HOUR;
    let mut events = Vec::new();
    for week in 0..30i64 {
        let review = monday_10 - week * 7 * D;
        events.push(ts::ev(&format!("r{week}"), EventKind::Review, review));
        if week % 2 == 0 {
            let id = format!("d{week}");
            events.push(ts::ev(&id, EventKind::Decision, review + HOUR));
            events.push(ts::outcome(&format!("o{week}"), review + 15 * D, &id));
        }
        for (k, h) in [(0, 27), (1, 52), (2, 98)] {
            let q = review + h * HOUR + 17 * 60_000 * (week + k);
            events.push(ts::ev(&format!("q{week}-{k}"), EventKind::Question, q));
        }
        if week % 4 == 1 {
            events.push(ts::ev(
                &format!("m{week}"),
                EventKind::MetricChange,
                review + 2 * D,
            ));
        }
        for (k, h) in [(0, 3), (1, 30), (2, 75), (3, 121)] {
            let v = review + h * HOUR + 7 * 60_000 * (week + k);
            events.push(ts::view(&format!("v{week}-{k}"), v, "slo-pay", "bob"));
        }
    }
    w.events = events;
    w.targets = vec![
        ts::target("latency", T - 100 * D, T + 60 * D),
        ts::target("errors", T - 40 * D, T + 90 * D),
        ts::verified(
            ts::target("cost", T - 200 * D, T - 50 * D),
            T - 45 * D,
            Verdict::Met,
            "",
        ),
    ];
    w
}

#[test]
fn a_realistic_history_stays_true_for_hours() {
    // Instants every 7 minutes 13 s across a week (the dates of the history fall on whole
    // hours and minutes; an instant one millisecond before a date is stable for 1 ms).
    let mut spans: Vec<i64> = (0..1400)
        .map(|k| {
            let w = realistic(T + k * 433_000);
            let e = eval_at(&w);
            assert!(e.level >= 4, "the realistic team is at level {}", e.level);
            until(&w) - w.at
        })
        .collect();
    spans.sort_unstable();
    let median = spans[spans.len() / 2];
    assert!(median >= 6 * HOUR, "stable for {median} ms at the median");
}

fn eval_at(w: &World) -> Evaluation {
    evaluate(&w.settings, &w.team, &w.events, &w.targets, w.at)
}

#[test]
fn a_team_without_evidence_stays_the_same_forever() {
    let w = empty_world(T);
    assert_eq!(until(&w), EpochMs::MAX);
    let evidence = TeamEvidence::new(&w.settings, &w.team, &w.events, &w.targets);
    assert_eq!(evidence.level_at_timed(T).stable_until, EpochMs::MAX);
}

#[test]
fn a_single_question_is_stable_until_it_leaves_the_window() {
    let mut w = empty_world(T);
    let asked = T - 10 * D + 5 * HOUR;
    w.events = vec![ts::ev("q", EventKind::Question, asked)];
    // It leaves when T − W passes it: at asked + W + 1, no sooner.
    assert_eq!(until(&w), asked + W + 1);
    assert_eq!(eval_at(&w).level, 1);
    let mut later = w.clone();
    later.at = asked + W;
    assert_eq!(eval_at(&later).level, 1);
    later.at = asked + W + 1;
    assert_eq!(eval_at(&later).level, 0);
}

#[test]
fn a_question_asked_after_t_is_stable_until_it_enters() {
    let mut w = empty_world(T);
    w.events = vec![ts::ev("q", EventKind::Question, T + 3 * HOUR)];
    assert_eq!(until(&w), T + 3 * HOUR + 1);
}

#[test]
fn a_weekly_review_moves_to_the_next_period_a_week_after_it_was_held() {
    // Reviews every 7 days at the same hour: the periods' events all change period at
    // once, a week after the last one plus 1 ms.
    let mut w = empty_world(T);
    let last = T - 2 * D + 10 * HOUR;
    w.events = (0..12)
        .map(|k| ts::ev(&format!("r{k}"), EventKind::Review, last - k * 7 * D))
        .collect();
    assert_eq!(until(&w), last + 7 * D + 1);
}
