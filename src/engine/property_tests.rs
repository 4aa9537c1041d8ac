//! Property tests of the ladder (test-only): the engine agrees with a naive reading of
//! SPEC §5 on random worlds crowded around the boundaries; input order never matters;
//! level ≤ score; history equals evaluate; and the criteria that are monotone in a kind
//! of evidence never drop when such evidence is added.
//!
//! Monotone, and tested: adding a `question` never lowers `adhoc_queries` and changes no
//! other criterion; adding a `review` or a counting `view` never lowers
//! `regular_reviews`; adding a `metric_change` never lowers `regular_adjustments` and
//! changes nothing else; adding an `outcome` never lowers `acting_on_metrics` and changes
//! nothing else; adding a target never lowers `defined_targets` nor `looped_back`; a
//! `note` changes nothing. Not monotone, so not tested as such: `acting_on_metrics` in
//! reviews (a reviewed period without a decision lowers part a) and in decisions (one
//! falling due without an outcome lowers part b); `data_driven_projects` in targets (an
//! undefined or unverified one lowers a share).

use proptest::prelude::*;
use serde_json::Value;

use crate::engine::test_support::{self as ts, D, T};
use crate::engine::{
    evaluate, history, level_changes, level_changes_over, level_history, Evaluation,
    MaturitySettings,
};
use crate::model::{EpochMs, Event, EventKind, Target, Team, Verdict};

// ------------------------------------------------------------------ the naive reference

/// Ratios in these tests are `p / 100`, so "k of n reaches r" is `100·k ≥ p·n` exactly.
fn ref_reaches(k: u64, n: u64, ratio: f64) -> bool {
    let p = (ratio * 100.0).round() as u64;
    n > 0 && 100 * k >= p * n
}

fn ref_counts(team: &Team, e: &Event) -> bool {
    if e.kind == EventKind::View {
        e.dashboard_uid
            .as_ref()
            .is_some_and(|d| team.dashboards.contains(d))
            && (team.members.is_empty() || team.members.contains(&e.user))
    } else {
        e.team.as_deref() == Some(team.id.as_str())
    }
}

/// `(passed, value)` of each criterion, computed the slow way, straight from SPEC §5.
fn reference(
    s: &MaturitySettings,
    team: &Team,
    events: &[Event],
    targets: &[Target],
    t: EpochMs,
) -> Vec<(bool, f64)> {
    let w = i64::from(s.window_weeks) * 7 * D;
    let in_window = |x: EpochMs| x >= t - w && x < t;
    let mine = |k: EventKind| {
        events
            .iter()
            .filter(move |e| e.kind == k && ref_counts(team, e))
    };
    let my_targets: Vec<&Target> = targets.iter().filter(|x| x.team == team.id).collect();
    let mut out = Vec::new();

    // 1
    let q = mine(EventKind::Question)
        .filter(|e| in_window(e.time))
        .count() as u64;
    out.push((q >= u64::from(s.min_questions), q as f64));
    // 2
    let dt = my_targets
        .iter()
        .filter(|x| x.is_defined() && x.start_at < t && x.deadline.unwrap_or(i64::MIN) >= t - w)
        .count() as u64;
    out.push((dt >= u64::from(s.min_defined_targets), dt as f64));
    // 3
    let lb = i64::from(s.loopback_days) * D;
    let lv = my_targets
        .iter()
        .filter(|x| {
            x.verification
                .as_ref()
                .is_some_and(|v| v.verified_at >= t - lb && v.verified_at < t)
        })
        .count() as u64;
    out.push((lv >= 1, lv as f64));
    // 4
    let window_days = i64::from(s.window_weeks) * 7;
    let cad = i64::from(team.cadence_days);
    let n = if cad == 0 { 0 } else { window_days / cad };
    let c = cad * D;
    let period = |i: i64| (t - (i + 1) * c, t - i * c);
    let reviewed: Vec<i64> = (0..n)
        .filter(|&i| {
            let (a, b) = period(i);
            events.iter().any(|e| {
                matches!(e.kind, EventKind::Review | EventKind::View)
                    && ref_counts(team, e)
                    && e.time >= a
                    && e.time < b
            })
        })
        .collect();
    let r = reviewed.len() as u64;
    let nn = n as u64;
    out.push((
        ref_reaches(r, nn, s.review_ratio),
        if nn == 0 { 0.0 } else { r as f64 / nn as f64 },
    ));
    // 5
    let bd = i64::from(s.adjustment_block_days);
    let nb = if bd == 0 { 0 } else { window_days / bd };
    let blocks_hit = (0..nb)
        .filter(|&i| {
            let (a, b) = (t - (i + 1) * bd * D, t - i * bd * D);
            mine(EventKind::MetricChange).any(|e| e.time >= a && e.time < b)
        })
        .count() as u64;
    let nb = nb as u64;
    out.push((
        ref_reaches(blocks_hit, nb, s.adjustment_ratio),
        if nb == 0 {
            0.0
        } else {
            blocks_hit as f64 / nb as f64
        },
    ));
    // 6
    let with_decision = reviewed
        .iter()
        .filter(|&&i| {
            let (a, b) = period(i);
            mine(EventKind::Decision).any(|e| e.time >= a && e.time < b)
        })
        .count() as u64;
    let part_a = ref_reaches(with_decision, r, s.decision_ratio);
    let due: Vec<&Event> = mine(EventKind::Decision)
        .filter(|e| {
            let fu = e
                .data
                .get("followUpAt")
                .and_then(Value::as_i64)
                .unwrap_or(e.time + i64::from(s.default_follow_up_days) * D);
            e.time < t && in_window(fu)
        })
        .collect();
    let done = due
        .iter()
        .filter(|d| {
            events.iter().any(|o| {
                o.kind == EventKind::Outcome
                    && o.time < t
                    && o.data.get("decisionId").and_then(Value::as_str) == Some(d.id.as_str())
            })
        })
        .count() as u64;
    let part_b = due.is_empty() || ref_reaches(done, due.len() as u64, s.follow_through_ratio);
    out.push((
        part_a && part_b,
        f64::from(u8::from(part_a) + u8::from(part_b)),
    ));
    // 7
    let live: Vec<&&Target> = my_targets
        .iter()
        .filter(|x| {
            x.start_at < t
                && x.verification
                    .as_ref()
                    .is_none_or(|v| v.verified_at >= t - w)
        })
        .collect();
    let p1 = live.len() as u64 >= u64::from(s.min_projects);
    let defined = live.iter().filter(|x| x.is_defined()).count() as u64;
    let p2 = ref_reaches(defined, live.len() as u64, s.defined_share);
    let grace = i64::from(s.verification_grace_days) * D;
    let due_t: Vec<&&Target> = my_targets
        .iter()
        .filter(|x| x.deadline.is_some_and(|d| d >= t - lb && d < t - grace))
        .collect();
    let ver = due_t
        .iter()
        .filter(|x| x.verification.as_ref().is_some_and(|v| v.verified_at < t))
        .count() as u64;
    let p3 = due_t.is_empty() || ref_reaches(ver, due_t.len() as u64, s.verified_share);
    let p4 = my_targets.iter().all(|x| {
        x.verification.as_ref().is_none_or(|v| {
            !(v.verified_at >= t - lb
                && v.verified_at < t
                && v.verdict == Verdict::Missed
                && v.learnings.trim().is_empty())
        })
    });
    let parts = [p1, p2, p3, p4];
    out.push((
        parts.iter().all(|p| *p),
        parts.iter().filter(|p| **p).count() as f64,
    ));
    out
}

// ------------------------------------------------------------------ random worlds

#[derive(Debug, Clone)]
pub(super) struct World {
    pub settings: MaturitySettings,
    pub team: Team,
    pub events: Vec<Event>,
    pub targets: Vec<Target>,
    pub at: EpochMs,
}

/// A time near a boundary: whole days before T (often one of the boundaries of the
/// default settings and of the cadences tried), nudged by −1 ms, 0, +1 ms or hours.
pub(super) fn time() -> impl Strategy<Value = EpochMs> {
    const EDGES: [i64; 22] = [
        0, 1, 5, 7, 10, 14, 15, 20, 21, 28, 30, 42, 56, 60, 70, 80, 84, 85, 90, 98, 182, 196,
    ];
    (
        prop_oneof![
            3 => proptest::sample::select(EDGES.to_vec()),
            2 => -20i64..200,
        ],
        prop_oneof![
            3 => Just(0i64),
            1 => Just(-1),
            1 => Just(1),
            1 => Just(3 * 3_600_000),
            1 => Just(-5 * 3_600_000),
        ],
    )
        .prop_map(|(days, nudge)| T - days * D + nudge)
}

fn ratio() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(0.5),
        Just(0.66),
        Just(0.75),
        Just(0.8),
        Just(1.0),
        (0u32..=100).prop_map(|p| f64::from(p) / 100.0)
    ]
}

fn settings() -> impl Strategy<Value = MaturitySettings> {
    prop_oneof![Just(MaturitySettings::default()), any_settings()]
}

fn any_settings() -> impl Strategy<Value = MaturitySettings> {
    // Two tuples: proptest implements Strategy for tuples of at most 12.
    let counts = (
        prop_oneof![Just(12u32), Just(1), Just(4), Just(10)],
        0u32..3,
        0u32..3,
        prop_oneof![Just(182u32), Just(30), Just(0)],
        prop_oneof![Just(28u32), Just(7), Just(14), Just(10)],
        0u32..4,
        prop_oneof![Just(14u32), Just(0), Just(40)],
        prop_oneof![Just(14u32), Just(0), Just(30)],
    );
    let ratios = (ratio(), ratio(), ratio(), ratio(), ratio(), ratio());
    (counts, ratios).prop_map(
        |((ww, mq, md, lb, bd, mp, g, fu), (rr, ar, dr, fr, ds, vs))| MaturitySettings {
            window_weeks: ww,
            min_questions: mq,
            min_defined_targets: md,
            loopback_days: lb,
            review_ratio: rr,
            adjustment_block_days: bd,
            adjustment_ratio: ar,
            decision_ratio: dr,
            follow_through_ratio: fr,
            min_projects: mp,
            defined_share: ds,
            verified_share: vs,
            verification_grace_days: g,
            default_follow_up_days: fu,
            pace_tolerance: 0.1,
        },
    )
}

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        3 => Just(EventKind::Review),
        3 => Just(EventKind::View),
        2 => Just(EventKind::Question),
        3 => Just(EventKind::Decision),
        3 => Just(EventKind::Outcome),
        2 => Just(EventKind::MetricChange),
        1 => Just(EventKind::Note),
    ]
}

fn event(i: usize) -> impl Strategy<Value = Event> {
    (
        kind(),
        time(),
        prop_oneof![Just(Some("pay")), Just(Some("other")), Just(None)],
        prop_oneof![Just(Some("slo-pay")), Just(Some("home")), Just(None)],
        prop_oneof![Just("alice"), Just("mallory")],
        proptest::option::of(time()),
        0usize..12,
    )
        .prop_map(move |(kind, time, team, dash, user, follow_up, target)| {
            let mut e = ts::ev(&format!("e{i:02}"), kind, time);
            e.team = team.map(str::to_string);
            e.dashboard_uid = dash.map(str::to_string);
            e.user = user.to_string();
            match kind {
                EventKind::Decision => {
                    if let Some(f) = follow_up {
                        e.data.insert("followUpAt".into(), Value::from(f));
                    }
                }
                EventKind::Outcome => {
                    e.data
                        .insert("decisionId".into(), Value::from(format!("e{target:02}")));
                }
                _ => {}
            }
            e
        })
}

fn target(i: usize) -> impl Strategy<Value = Target> {
    (
        prop_oneof![4 => Just("pay"), 1 => Just("other")],
        any::<bool>(),
        time(),
        time(),
        proptest::option::of((
            time(),
            prop_oneof![Just(Verdict::Met), Just(Verdict::Missed)],
            prop_oneof![Just(""), Just("  "), Just("learnt")],
        )),
    )
        .prop_map(move |(team, defined, start, deadline, verification)| {
            let id = format!("t{i:02}");
            let mut t = if defined {
                ts::target(&id, start, deadline)
            } else {
                ts::undefined_target(&id, start)
            };
            t.team = team.to_string();
            if let Some((at, verdict, learnings)) = verification {
                t = ts::verified(t, at, verdict, learnings);
            }
            t
        })
}

fn events(max: usize) -> impl Strategy<Value = Vec<Event>> {
    (0..=max).prop_flat_map(|n| (0..n).map(event).collect::<Vec<_>>())
}

fn targets(max: usize) -> impl Strategy<Value = Vec<Target>> {
    (0..=max).prop_flat_map(|n| (0..n).map(target).collect::<Vec<_>>())
}

pub(super) fn world() -> impl Strategy<Value = World> {
    (
        settings(),
        prop_oneof![
            Just(7u32),
            Just(1),
            Just(5),
            Just(10),
            Just(14),
            Just(30),
            Just(90),
            Just(0)
        ],
        any::<bool>(),
        events(40),
        targets(6),
        prop_oneof![3 => Just(T), 1 => Just(T - 3 * D), 1 => Just(T - D / 2)],
    )
        .prop_map(|(settings, cadence, open, events, targets, at)| {
            let mut team = ts::team("pay");
            team.cadence_days = cadence;
            if open {
                team.members.clear();
            }
            World {
                settings,
                team,
                events,
                targets,
                at,
            }
        })
}

fn eval(w: &World) -> Evaluation {
    evaluate(&w.settings, &w.team, &w.events, &w.targets, w.at)
}

fn values(e: &Evaluation) -> Vec<f64> {
    e.criteria.iter().map(|c| c.value).collect()
}

/// A deterministic Fisher–Yates shuffle driven by `seed`.
fn shuffled<X: Clone>(items: &[X], mut seed: u64) -> Vec<X> {
    let mut v = items.to_vec();
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from((seed >> 33) % (i as u64 + 1)).unwrap_or(0);
        v.swap(i, j);
    }
    v
}

/// Index of a criterion by id.
fn at(id: &str) -> usize {
    crate::engine::CRITERIA
        .iter()
        .position(|c| *c == id)
        .unwrap_or(usize::MAX)
}

proptest! {
    // The reference comparison is the sharpest test: give it the most cases.
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_engine_agrees_with_a_naive_reading_of_the_spec(w in world()) {
        let e = eval(&w);
        let r = reference(&w.settings, &w.team, &w.events, &w.targets, w.at);
        for (c, (passed, value)) in e.criteria.iter().zip(&r) {
            prop_assert_eq!(c.passed, *passed, "{} {}", c.id, c.detail);
            prop_assert_eq!(c.value, *value, "{} {}", c.id, c.detail);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn level_is_gated_score_counts_and_blockers_are_the_failing_details(w in world()) {
        let e = eval(&w);
        prop_assert!(e.level <= e.score);
        let gated = e.criteria.iter().take_while(|c| c.passed).count();
        prop_assert_eq!(usize::from(e.level), gated);
        let failing: Vec<&String> =
            e.criteria.iter().filter(|c| !c.passed).map(|c| &c.detail).collect();
        prop_assert_eq!(e.blockers.iter().collect::<Vec<_>>(), failing);
        for c in &e.criteria {
            prop_assert!(c.value.is_finite() && c.threshold.is_finite());
            prop_assert!(!c.detail.is_empty(), "{} has no detail", c.id);
        }
    }

    #[test]
    fn input_order_changes_nothing(w in world(), seed in any::<u64>()) {
        let e = eval(&w);
        let mut p = w.clone();
        p.events = shuffled(&w.events, seed);
        p.targets = shuffled(&w.targets, seed ^ 0x9e37_79b9);
        prop_assert_eq!(eval(&p), e);
    }

    #[test]
    fn history_equals_evaluate_at_every_step(w in world(), stride in 1i64..20) {
        let steps = crate::engine::history_steps(w.at - 120 * D, w.at, stride * D / 2);
        let h = history(&w.settings, &w.team, &w.events, &w.targets, &steps);
        prop_assert_eq!(h.len(), steps.len());
        for (e, s) in h.iter().zip(&steps) {
            prop_assert_eq!(e, &evaluate(&w.settings, &w.team, &w.events, &w.targets, *s));
        }
    }

    #[test]
    fn the_level_only_history_and_changes_agree_with_the_full_history(
        w in world(), stride in 1i64..20
    ) {
        let steps = crate::engine::history_steps(w.at - 120 * D, w.at, stride * D / 2);
        let full = history(&w.settings, &w.team, &w.events, &w.targets, &steps);
        let lean = level_history(&w.settings, &w.team, &w.events, &w.targets, &steps);
        prop_assert_eq!(full.len(), lean.len());
        for (f, l) in full.iter().zip(&lean) {
            prop_assert_eq!((f.at, f.level, f.score), (l.at, l.level, l.score));
            let passed: Vec<bool> = f.criteria.iter().map(|c| c.passed).collect();
            prop_assert_eq!(passed, l.passed.to_vec());
        }
        prop_assert_eq!(
            level_changes_over(&w.settings, &w.team, &w.events, &w.targets, &steps),
            level_changes(&full)
        );
    }

    #[test]
    fn a_question_never_lowers_adhoc_queries_and_changes_nothing_else(
        w in world(), t in time(), team in prop_oneof![Just("pay"), Just("other")]
    ) {
        let before = eval(&w);
        let mut more = w.clone();
        let mut q = ts::ev("added", EventKind::Question, t);
        q.team = Some(team.into());
        more.events.push(q);
        let after = eval(&more);
        let (b, a) = (values(&before), values(&after));
        let i = at("adhoc_queries");
        prop_assert!(a[i] >= b[i]);
        for k in (0..7).filter(|k| *k != i) {
            prop_assert_eq!(&after.criteria[k], &before.criteria[k]);
        }
    }

    #[test]
    fn review_evidence_never_lowers_regular_reviews(
        w in world(), t in time(), as_view in any::<bool>()
    ) {
        let before = eval(&w);
        let mut more = w.clone();
        more.events.push(if as_view {
            ts::view("added", t, "slo-pay", "alice")
        } else {
            ts::ev("added", EventKind::Review, t)
        });
        let i = at("regular_reviews");
        prop_assert!(values(&eval(&more))[i] >= values(&before)[i]);
    }

    #[test]
    fn a_metric_change_never_lowers_regular_adjustments_and_changes_nothing_else(
        w in world(), t in time()
    ) {
        let before = eval(&w);
        let mut more = w.clone();
        more.events.push(ts::ev("added", EventKind::MetricChange, t));
        let after = eval(&more);
        let i = at("regular_adjustments");
        prop_assert!(values(&after)[i] >= values(&before)[i]);
        for k in (0..7).filter(|k| *k != i) {
            prop_assert_eq!(&after.criteria[k], &before.criteria[k]);
        }
    }

    #[test]
    fn an_outcome_never_lowers_acting_on_metrics_and_changes_nothing_else(
        w in world(), t in time(), d in 0usize..40
    ) {
        let before = eval(&w);
        let mut more = w.clone();
        more.events.push(ts::outcome("added", t, &format!("e{d:02}")));
        let after = eval(&more);
        let i = at("acting_on_metrics");
        prop_assert!(values(&after)[i] >= values(&before)[i]);
        prop_assert!(after.criteria[i].passed >= before.criteria[i].passed);
        for k in (0..7).filter(|k| *k != i) {
            prop_assert_eq!(&after.criteria[k], &before.criteria[k]);
        }
    }

    #[test]
    fn a_target_never_lowers_defined_targets_or_looped_back(w in world(), t in target(99)) {
        let before = eval(&w);
        let mut more = w.clone();
        more.targets.push(t);
        let after = eval(&more);
        for id in ["defined_targets", "looped_back"] {
            let i = at(id);
            prop_assert!(values(&after)[i] >= values(&before)[i]);
        }
    }

    #[test]
    fn a_note_changes_nothing(w in world(), t in time()) {
        let before = eval(&w);
        let mut more = w.clone();
        more.events.push(ts::ev("added", EventKind::Note, t));
        prop_assert_eq!(eval(&more), before);
    }
}
