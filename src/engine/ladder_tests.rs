//! Unit tests of the ladder: every boundary of SPEC §5, one behaviour a test.

use super::*;
use crate::engine::test_support::*;
use crate::model::{EventKind, Verdict};
use serde_json::json;

fn defaults() -> MaturitySettings {
    MaturitySettings::default()
}

fn eval(events: &[Event], targets: &[Target]) -> Evaluation {
    evaluate(&defaults(), &team("pay"), events, targets, T)
}

fn crit<'e>(e: &'e Evaluation, id: &str) -> &'e CriterionResult {
    match e.criterion(id) {
        Some(c) => c,
        None => panic!("no criterion {id}"),
    }
}

/// One review per weekly period `i` (middle of the period).
fn reviews_in(periods: &[i64]) -> Vec<Event> {
    periods
        .iter()
        .map(|i| ev(&format!("r{i}"), EventKind::Review, T - i * 7 * D - 3 * D))
        .collect()
}

// ---------------------------------------------------------------- level 1

#[test]
fn a_question_exactly_at_t_does_not_count_and_one_at_the_window_start_does() {
    let at_t = ev("q-at-t", EventKind::Question, T);
    let c = eval(std::slice::from_ref(&at_t), &[]);
    assert!(!crit(&c, "adhoc_queries").passed);
    let start = ev("q-start", EventKind::Question, T - W);
    let c = eval(&[at_t.clone(), start], &[]);
    let a = crit(&c, "adhoc_queries");
    assert!(a.passed);
    assert_eq!(a.value, 1.0);
    assert_eq!(a.evidence, vec!["q-start"]);
    let before = ev("q-before", EventKind::Question, T - W - 1);
    assert!(!crit(&eval(&[at_t, before], &[]), "adhoc_queries").passed);
}

#[test]
fn other_teams_questions_do_not_count() {
    let q = for_team(ev("q", EventKind::Question, T - D), "search");
    let c = eval(&[q], &[]);
    let a = crit(&c, "adhoc_queries");
    assert!(!a.passed);
    assert_eq!(
        a.detail,
        "no ad-hoc question in the last 12 weeks; 1 needed"
    );
    assert_eq!(c.blockers[0], a.detail);
}

#[test]
fn min_questions_is_a_setting() {
    let s = MaturitySettings {
        min_questions: 2,
        ..defaults()
    };
    let events = [ev("q1", EventKind::Question, T - D)];
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    let a = crit(&c, "adhoc_queries");
    assert!(!a.passed);
    assert_eq!((a.value, a.threshold), (1.0, 2.0));
    assert_eq!(a.detail, "1 ad-hoc question in the last 12 weeks; 2 needed");
    let events = [events[0].clone(), ev("q2", EventKind::Question, T - 2 * D)];
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    assert!(crit(&c, "adhoc_queries").passed);
    assert_eq!(
        crit(&c, "adhoc_queries").detail,
        "2 ad-hoc questions in the last 12 weeks"
    );
    let zero = MaturitySettings {
        min_questions: 0,
        ..defaults()
    };
    assert!(crit(&evaluate(&zero, &team("pay"), &[], &[], T), "adhoc_queries").passed);
}

#[test]
fn the_window_follows_window_weeks() {
    let s = MaturitySettings {
        window_weeks: 4,
        ..defaults()
    };
    let q = ev("q", EventKind::Question, T - 28 * D - 1);
    let c = evaluate(&s, &team("pay"), &[q], &[], T);
    assert!(!crit(&c, "adhoc_queries").passed);
    assert_eq!(
        crit(&c, "adhoc_queries").detail,
        "no ad-hoc question in the last 4 weeks; 1 needed"
    );
}

// ---------------------------------------------------------------- level 2

#[test]
fn a_defined_target_counts_until_its_deadline_is_a_window_old() {
    let on_edge = target("edge", T - 200 * D, T - W);
    let c = eval(&[], &[on_edge]);
    assert!(crit(&c, "defined_targets").passed);
    let too_old = target("old", T - 200 * D, T - W - 1);
    let c = eval(&[], &[too_old]);
    assert!(!crit(&c, "defined_targets").passed);
    let future = target("future", T - D, T + 100 * D);
    assert!(crit(&eval(&[], &[future]), "defined_targets").passed);
}

#[test]
fn a_target_starting_at_t_does_not_count_yet() {
    let c = eval(&[], &[target("t", T, T + 30 * D)]);
    assert!(!crit(&c, "defined_targets").passed);
    let c = eval(&[], &[target("t", T - 1, T + 30 * D)]);
    let d = crit(&c, "defined_targets");
    assert!(d.passed);
    assert_eq!(d.evidence, vec!["t"]);
}

#[test]
fn a_target_without_numbers_is_not_defined_and_the_sentence_says_so() {
    let c = eval(&[], &[undefined_target("draft", T - 10 * D)]);
    let d = crit(&c, "defined_targets");
    assert!(!d.passed);
    assert_eq!(d.value, 0.0);
    assert!(d.detail.contains("1 needed"), "{}", d.detail);
    assert!(
        d.detail.contains("1 started target still lacks"),
        "{}",
        d.detail
    );
}

#[test]
fn other_teams_targets_do_not_count() {
    let mut t = target("t", T - D, T + D);
    t.team = "search".into();
    assert!(!crit(&eval(&[], &[t]), "defined_targets").passed);
}

// ---------------------------------------------------------------- level 3

#[test]
fn a_verification_counts_from_the_loopback_start_to_just_before_t() {
    let t = target("t", T - 300 * D, T - 200 * D);
    let edge = verified(t.clone(), T - 182 * D, Verdict::Met, "x");
    assert!(crit(&eval(&[], &[edge]), "looped_back").passed);
    let older = verified(t.clone(), T - 182 * D - 1, Verdict::Met, "x");
    assert!(!crit(&eval(&[], &[older]), "looped_back").passed);
    let at_t = verified(t, T, Verdict::Met, "x");
    let c = eval(&[], &[at_t]);
    let l = crit(&c, "looped_back");
    assert!(!l.passed);
    assert_eq!(
        l.detail,
        "no target verified at the finish line in the last 182 days; 1 needed; 1 target is past its deadline without a verification"
    );
}

#[test]
fn loopback_days_is_a_setting() {
    let s = MaturitySettings {
        loopback_days: 30,
        ..defaults()
    };
    let t = verified(
        target("t", T - 90 * D, T - 60 * D),
        T - 31 * D,
        Verdict::Met,
        "x",
    );
    let c = evaluate(&s, &team("pay"), &[], &[t], T);
    assert!(!crit(&c, "looped_back").passed);
}

// ---------------------------------------------------------------- level 4

#[test]
fn nine_of_twelve_weeks_is_exactly_the_default_ratio() {
    let c = eval(&reviews_in(&[0, 1, 2, 3, 4, 5, 6, 7, 8]), &[]);
    let r = crit(&c, "regular_reviews");
    assert!(r.passed);
    assert_eq!((r.value, r.threshold), (0.75, 0.75));
    assert_eq!(r.detail, "reviewed in 9 of 12 weeks");
    let c = eval(&reviews_in(&[0, 1, 2, 3, 4, 5, 6, 7]), &[]);
    let r = crit(&c, "regular_reviews");
    assert!(!r.passed);
    assert_eq!(r.detail, "reviewed in 8 of 12 weeks; 9 needed");
}

#[test]
fn several_reviews_in_one_week_count_once() {
    let events: Vec<Event> = (0..20)
        .map(|k| ev(&format!("r{k}"), EventKind::Review, T - D - k * 3_600_000))
        .collect();
    let c = eval(&events, &[]);
    let r = crit(&c, "regular_reviews");
    assert_eq!(r.value, 1.0 / 12.0);
    assert_eq!(r.evidence.len(), 1);
}

#[test]
fn periods_are_anchored_at_t_and_half_open() {
    // Exactly at T: no period; exactly T − 7d: period 0; T − 84d: period 11; before: none.
    let events = [
        ev("at-t", EventKind::Review, T),
        ev("p0-start", EventKind::Review, T - 7 * D),
        ev("p1-end", EventKind::Review, T - 7 * D - 1),
        ev("p11-start", EventKind::Review, T - W),
        ev("none", EventKind::Review, T - W - 1),
    ];
    let c = eval(&events, &[]);
    let r = crit(&c, "regular_reviews");
    assert_eq!(r.detail, "reviewed in 3 of 12 weeks; 9 needed");
    assert_eq!(r.evidence, vec!["p11-start", "p1-end", "p0-start"]);
}

#[test]
fn a_fortnightly_cadence_has_six_periods() {
    let mut t = team("pay");
    t.cadence_days = 14;
    let events: Vec<Event> = (0..4)
        .map(|i| ev(&format!("r{i}"), EventKind::Review, T - i * 14 * D - D))
        .collect();
    let c = evaluate(&defaults(), &t, &events, &[], T);
    let r = crit(&c, "regular_reviews");
    assert!(!r.passed);
    assert_eq!(r.detail, "reviewed in 4 of 6 periods of 14 days; 5 needed");
    let mut more = events.clone();
    more.push(ev("r4", EventKind::Review, T - 4 * 14 * D - D));
    assert!(crit(&evaluate(&defaults(), &t, &more, &[], T), "regular_reviews").passed);
}

#[test]
fn a_ten_day_cadence_leaves_the_oldest_days_of_the_window_in_no_period() {
    // floor(84 / 10) = 8 periods cover [T − 80d, T); days 80..84 belong to none.
    let mut t = team("pay");
    t.cadence_days = 10;
    let mut events: Vec<Event> = (0..5)
        .map(|i| ev(&format!("r{i}"), EventKind::Review, T - i * 10 * D - D))
        .collect();
    events.push(ev("outside", EventKind::Review, T - 80 * D - 1));
    events.push(ev("p7", EventKind::Review, T - 80 * D));
    let c = evaluate(&defaults(), &t, &events, &[], T);
    let r = crit(&c, "regular_reviews");
    assert_eq!(r.value, 6.0 / 8.0);
    assert!(r.passed, "6 of 8 = 0.75");
    assert!(!r.evidence.contains(&"outside".to_string()));
}

#[test]
fn a_five_day_cadence_has_sixteen_periods() {
    let mut t = team("pay");
    t.cadence_days = 5;
    let events: Vec<Event> = (0..11)
        .map(|i| ev(&format!("r{i}"), EventKind::Review, T - i * 5 * D - 1))
        .collect();
    let c = evaluate(&defaults(), &t, &events, &[], T);
    let r = crit(&c, "regular_reviews");
    assert_eq!(
        r.detail,
        "reviewed in 11 of 16 periods of 5 days; 12 needed"
    );
    let mut more = events.clone();
    more.push(ev("r15", EventKind::Review, T - 80 * D));
    more.push(ev("too-old", EventKind::Review, T - 80 * D - 1));
    let c = evaluate(&defaults(), &t, &more, &[], T);
    assert!(crit(&c, "regular_reviews").passed);
}

#[test]
fn a_cadence_of_zero_or_longer_than_the_window_fails_with_value_zero() {
    for cadence in [0, 85, 365] {
        let mut t = team("pay");
        t.cadence_days = cadence;
        let events = reviews_in(&[0, 1, 2]);
        let c = evaluate(&defaults(), &t, &events, &[], T);
        let r = crit(&c, "regular_reviews");
        assert!(!r.passed);
        assert_eq!(r.value, 0.0);
        assert!(
            r.detail.contains("no period can be reviewed"),
            "{}",
            r.detail
        );
        // and (a) of level 6 fails for want of a reviewed period
        assert!(!crit(&c, "acting_on_metrics").passed);
    }
    let mut t = team("pay");
    t.cadence_days = 84;
    let c = evaluate(&defaults(), &t, &reviews_in(&[0]), &[], T);
    assert!(
        crit(&c, "regular_reviews").passed,
        "one period of 84 days, reviewed"
    );
}

#[test]
fn review_ratio_is_a_setting() {
    let s = MaturitySettings {
        review_ratio: 0.5,
        ..defaults()
    };
    let c = evaluate(&s, &team("pay"), &reviews_in(&[0, 2, 4, 6, 8, 10]), &[], T);
    assert!(crit(&c, "regular_reviews").passed);
    let c = evaluate(&s, &team("pay"), &reviews_in(&[0, 2, 4, 6, 8]), &[], T);
    assert_eq!(
        crit(&c, "regular_reviews").detail,
        "reviewed in 5 of 12 weeks; 6 needed"
    );
}

#[test]
fn member_views_of_team_dashboards_count_whatever_their_team_field() {
    let mut tagged_other = view("v-other-team", T - D, "slo-pay", "bob");
    tagged_other.team = Some("search".into());
    let events = [
        tagged_other,
        view("v-stranger", T - 8 * D, "slo-pay", "mallory"),
        view("v-home", T - 15 * D, "home", "alice"),
        {
            // a view carrying our team id but of another dashboard
            let mut v = view("v-tagged", T - 22 * D, "home", "alice");
            v.team = Some("pay".into());
            v
        },
    ];
    let c = eval(&events, &[]);
    let r = crit(&c, "regular_reviews");
    assert_eq!(r.evidence, vec!["v-other-team"]);
    assert_eq!(r.value, 1.0 / 12.0);
}

#[test]
fn a_team_without_members_counts_every_viewer() {
    let mut t = team("pay");
    t.members.clear();
    let events = [view("v", T - D, "slo-pay", "zed")];
    let c = evaluate(&defaults(), &t, &events, &[], T);
    assert_eq!(crit(&c, "regular_reviews").evidence, vec!["v"]);
}

#[test]
fn a_review_is_preferred_to_a_view_as_the_evidence_of_a_period() {
    let events = [
        view("v", T - 6 * D, "slo-pay", "alice"),
        ev("r", EventKind::Review, T - D),
    ];
    assert_eq!(
        crit(&eval(&events, &[]), "regular_reviews").evidence,
        vec!["r"]
    );
}

#[test]
fn other_teams_reviews_do_not_count() {
    let events = [for_team(ev("r", EventKind::Review, T - D), "search")];
    assert_eq!(crit(&eval(&events, &[]), "regular_reviews").value, 0.0);
}

// ---------------------------------------------------------------- level 5

#[test]
fn metric_changes_in_two_of_three_blocks_reach_the_default_ratio() {
    let events = [
        ev("m0", EventKind::MetricChange, T - 28 * D),
        ev("m1", EventKind::MetricChange, T - 28 * D - 1),
    ];
    let c = eval(&events, &[]);
    let a = crit(&c, "regular_adjustments");
    assert!(a.passed);
    assert_eq!(a.detail, "metric changes in 2 of 3 blocks of 28 days");
    assert_eq!(a.evidence, vec!["m1", "m0"]);

    let events = [
        ev("m0", EventKind::MetricChange, T - D),
        ev("m0b", EventKind::MetricChange, T - 2 * D),
        ev("at-t", EventKind::MetricChange, T),
        ev("too-old", EventKind::MetricChange, T - W - 1),
    ];
    let c = eval(&events, &[]);
    let a = crit(&c, "regular_adjustments");
    assert!(!a.passed);
    assert_eq!(
        a.detail,
        "metric changes in 1 of 3 blocks of 28 days; 2 needed"
    );
    assert_eq!(a.value, 1.0 / 3.0);
    assert_eq!(a.threshold, 0.66);
}

#[test]
fn the_oldest_block_starts_exactly_a_window_before_t() {
    let events = [
        ev("m2", EventKind::MetricChange, T - W),
        ev("m0", EventKind::MetricChange, T - 1),
    ];
    assert!(crit(&eval(&events, &[]), "regular_adjustments").passed);
}

#[test]
fn days_older_than_the_last_block_belong_to_none() {
    // 10 weeks = 70 days: two blocks of 28 days cover [T − 56d, T).
    let s = MaturitySettings {
        window_weeks: 10,
        ..defaults()
    };
    let events = [
        ev("m0", EventKind::MetricChange, T - D),
        ev("m-none", EventKind::MetricChange, T - 60 * D),
    ];
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    let a = crit(&c, "regular_adjustments");
    assert_eq!(
        a.detail,
        "metric changes in 1 of 2 blocks of 28 days; 2 needed"
    );
    assert_eq!(a.evidence, vec!["m0"]);
}

#[test]
fn block_length_and_ratio_are_settings() {
    let s = MaturitySettings {
        adjustment_block_days: 14,
        adjustment_ratio: 0.5,
        ..defaults()
    };
    let events: Vec<Event> = (0..3)
        .map(|i| {
            ev(
                &format!("m{i}"),
                EventKind::MetricChange,
                T - i * 14 * D - D,
            )
        })
        .collect();
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    assert!(crit(&c, "regular_adjustments").passed, "3 of 6 = 0.5");
    let c = evaluate(&s, &team("pay"), &events[..2], &[], T);
    assert_eq!(
        crit(&c, "regular_adjustments").detail,
        "metric changes in 2 of 6 blocks of 14 days; 3 needed"
    );
}

#[test]
fn zero_blocks_fail_with_value_zero_without_panicking() {
    let s = MaturitySettings {
        adjustment_block_days: 0,
        ..defaults()
    };
    let events = [ev("m", EventKind::MetricChange, T - D)];
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    let a = crit(&c, "regular_adjustments");
    assert!(!a.passed);
    assert_eq!(a.value, 0.0);
    let s = MaturitySettings {
        window_weeks: 0,
        ..defaults()
    };
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    assert_eq!(c.level, 0);
}

// ---------------------------------------------------------------- level 6

/// Reviews in every week, decisions in the weeks given (taken just after the review).
fn reviewed_with_decisions(decided: &[i64]) -> Vec<Event> {
    let mut events = reviews_in(&(0..12).collect::<Vec<_>>());
    for i in decided {
        // explicit follow-up after T so that (b) has nothing due
        events.push(decision_due(
            &format!("d{i}"),
            T - i * 7 * D - 3 * D + 3_600_000,
            T + 30 * D,
        ));
    }
    events
}

#[test]
fn decisions_in_half_the_reviewed_weeks_reach_the_default_ratio() {
    let c = eval(&reviewed_with_decisions(&[0, 1, 2, 3, 4, 5]), &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(a.passed, "{}", a.detail);
    assert_eq!((a.value, a.threshold), (2.0, 2.0));
    assert_eq!(
        a.detail,
        "decisions in 6 of 12 reviewed weeks, no decision fell due in the last 12 weeks"
    );
    let c = eval(&reviewed_with_decisions(&[0, 1, 2, 3, 4]), &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(!a.passed);
    assert_eq!(a.value, 1.0);
    assert_eq!(a.detail, "decisions in 5 of 12 reviewed weeks; 6 needed");
}

#[test]
fn a_decision_in_a_week_without_review_does_not_count_for_a() {
    let mut events = reviews_in(&[0]);
    events.push(decision_due("d-unreviewed", T - 10 * D, T + D));
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(!a.passed);
    assert_eq!(a.detail, "decisions in 0 of 1 reviewed week; 1 needed");
    events.push(decision_due("d-reviewed", T - D, T + D));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn part_a_fails_when_no_period_is_reviewed() {
    let events = [decision_due("d", T - D, T + D)];
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(!a.passed);
    assert_eq!(a.value, 1.0, "(b) holds: nothing fell due");
    assert_eq!(a.detail, "no week reviewed, so none holds a decision");
}

/// Every week reviewed with a decision whose follow-up is after T: (a) holds; tests
/// then add decisions that fall due.
fn acting_base() -> Vec<Event> {
    reviewed_with_decisions(&(0..12).collect::<Vec<_>>())
}

#[test]
fn without_follow_up_a_decision_falls_due_default_follow_up_days_after_it() {
    let mut events = acting_base();
    // due at T − 1: in the window, no outcome → 0 of 1
    events.push(ev("due", EventKind::Decision, T - 14 * D - 1));
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(!a.passed);
    assert_eq!(
        a.detail,
        "outcomes for 0 of 1 decision due in the last 12 weeks; 1 needed"
    );
    // due exactly at T: not yet
    let mut events = acting_base();
    events.push(ev("due-at-t", EventKind::Decision, T - 14 * D));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn default_follow_up_days_is_a_setting() {
    let s = MaturitySettings {
        default_follow_up_days: 30,
        ..defaults()
    };
    let mut events = acting_base();
    events.push(ev("d", EventKind::Decision, T - 20 * D));
    assert!(
        crit(
            &evaluate(&s, &team("pay"), &events, &[], T),
            "acting_on_metrics"
        )
        .passed
    );
    assert!(!crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn an_explicit_follow_up_after_t_is_not_due_however_old_the_decision() {
    let mut events = acting_base();
    events.push(decision_due("old", T - 200 * D, T));
    events.push(decision_due("older", T - 300 * D, T + 5 * D));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn a_decision_taken_before_the_window_falls_due_in_it() {
    let mut events = acting_base();
    events.push(decision_due("old", T - 200 * D, T - W));
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(!a.passed);
    assert!(a.evidence.contains(&"old".to_string()));
    // a follow-up just before the window is not due
    let mut events = acting_base();
    events.push(decision_due("old", T - 200 * D, T - W - 1));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
    // the default follow-up lands exactly at the window start
    let mut events = acting_base();
    events.push(ev("edge", EventKind::Decision, T - W - 14 * D));
    assert!(!crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn an_outcome_counts_before_t_whatever_its_team_and_however_late() {
    let mut events = acting_base();
    events.push(decision_due("d", T - 60 * D, T - 50 * D));
    let mut late = outcome("o", T - 1, "d");
    late.team = Some("search".into());
    events.push(late);
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert!(a.passed, "{}", a.detail);
    assert!(a.evidence.contains(&"o".to_string()));
    assert!(
        a.detail.contains("outcomes for 1 of 1 decision due"),
        "{}",
        a.detail
    );
}

#[test]
fn an_outcome_at_or_after_t_or_naming_another_decision_does_not_count() {
    let mut events = acting_base();
    events.push(decision_due("d", T - 60 * D, T - 50 * D));
    events.push(outcome("at-t", T, "d"));
    events.push(outcome("other", T - D, "d0"));
    assert!(!crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn half_the_due_decisions_followed_through_is_enough() {
    let mut events = acting_base();
    events.push(decision_due("x", T - 60 * D, T - 50 * D));
    events.push(decision_due("y", T - 60 * D, T - 40 * D));
    events.push(outcome("ox", T - 45 * D, "x"));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
    let s = MaturitySettings {
        follow_through_ratio: 0.51,
        ..defaults()
    };
    let c = evaluate(&s, &team("pay"), &events, &[], T);
    assert_eq!(
        crit(&c, "acting_on_metrics").detail,
        "outcomes for 1 of 2 decisions due in the last 12 weeks; 2 needed"
    );
}

#[test]
fn a_decision_taken_at_or_after_t_is_not_due_even_with_a_past_follow_up() {
    let mut events = acting_base();
    events.push(decision_due("future", T, T - D));
    assert!(crit(&eval(&events, &[]), "acting_on_metrics").passed);
}

#[test]
fn both_parts_failing_are_both_named() {
    let mut events = reviews_in(&[0, 1]);
    events.push(decision_due("d", T - 60 * D, T - 50 * D));
    let c = eval(&events, &[]);
    let a = crit(&c, "acting_on_metrics");
    assert_eq!(a.value, 0.0);
    assert_eq!(
        a.detail,
        "decisions in 0 of 2 reviewed weeks; 1 needed, and outcomes for 0 of 1 decision due in the last 12 weeks; 1 needed"
    );
}

// ---------------------------------------------------------------- level 7

fn l7(e: &Evaluation) -> &CriterionResult {
    crit(e, "data_driven_projects")
}

#[test]
fn two_live_defined_projects_and_nothing_due_reach_level_7s_criterion() {
    let targets = [
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
    ];
    let c = eval(&[], &targets);
    assert!(l7(&c).passed, "{}", l7(&c).detail);
    assert_eq!((l7(&c).value, l7(&c).threshold), (4.0, 4.0));
    assert_eq!(l7(&c).evidence, vec!["a", "b"]);
    let c = eval(&[], &targets[..1]);
    assert!(!l7(&c).passed);
    assert_eq!(l7(&c).value, 3.0);
    assert_eq!(l7(&c).detail, "1 live project; 2 needed");
}

#[test]
fn a_project_verified_inside_the_window_is_still_live_and_one_verified_before_is_not() {
    let open = target("open", T - 10 * D, T + 10 * D);
    let base = target("done", T - 300 * D, T - 250 * D);
    let inside = verified(base.clone(), T - W, Verdict::Met, "x");
    assert!(l7(&eval(&[], &[open.clone(), inside])).passed);
    let before = verified(base.clone(), T - W - 1, Verdict::Met, "x");
    assert!(!l7(&eval(&[], &[open.clone(), before])).passed);
    // a verification at T is not yet evidence: still live
    let at_t = verified(base, T, Verdict::Met, "x");
    assert!(l7(&eval(&[], &[open, at_t])).passed);
}

#[test]
fn a_project_starting_at_t_is_not_live() {
    let targets = [
        target("a", T - 10 * D, T + 10 * D),
        target("b", T, T + 20 * D),
    ];
    assert!(!l7(&eval(&[], &targets)).passed);
}

#[test]
fn the_defined_share_is_counted_over_live_projects() {
    let mut four_of_five: Vec<Target> = (0..4)
        .map(|i| target(&format!("t{i}"), T - D, T + D))
        .collect();
    four_of_five.push(undefined_target("u", T - D));
    assert!(l7(&eval(&[], &four_of_five)).passed, "0.8 exactly");
    let three_of_four = &four_of_five[1..];
    let c = eval(&[], three_of_four);
    assert!(!l7(&c).passed);
    assert_eq!(
        l7(&c).detail,
        "3 of 4 live projects defined (baseline, target and deadline); 4 needed"
    );
}

#[test]
fn no_live_project_fails_the_defined_share_even_when_none_is_needed() {
    let s = MaturitySettings {
        min_projects: 0,
        ..defaults()
    };
    let c = evaluate(&s, &team("pay"), &[], &[], T);
    assert!(!l7(&c).passed);
    assert_eq!(l7(&c).value, 3.0);
    assert_eq!(l7(&c).detail, "no live project, so none is defined");
    let c = eval(&[], &[]);
    assert_eq!(l7(&c).detail, "no live project; 2 needed");
}

#[test]
fn the_grace_period_keeps_a_fresh_deadline_out_of_the_verified_share() {
    let live = [
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
    ];
    let mut targets = live.to_vec();
    targets.push(target("fresh", T - 100 * D, T - 14 * D));
    assert!(
        l7(&eval(&[], &targets)).passed,
        "deadline at T − grace is not due"
    );
    let mut targets = live.to_vec();
    targets.push(target("due", T - 100 * D, T - 14 * D - 1));
    let c = eval(&[], &targets);
    assert!(!l7(&c).passed);
    assert_eq!(
        l7(&c).detail,
        "0 of 1 project past the deadline and 14-day grace verified; 1 needed (unverified: due)"
    );
}

#[test]
fn deadlines_older_than_the_loopback_are_not_due() {
    let mut targets = vec![
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
    ];
    targets.push(target("ancient", T - 400 * D, T - 182 * D - 1));
    assert!(l7(&eval(&[], &targets)).passed);
    targets.pop();
    targets.push(target("edge", T - 400 * D, T - 182 * D));
    assert!(!l7(&eval(&[], &targets)).passed);
}

#[test]
fn a_verification_counts_for_the_share_only_before_t() {
    let live = [
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
    ];
    let mut targets = live.to_vec();
    let due = target("due", T - 100 * D, T - 30 * D);
    targets.push(verified(due.clone(), T, Verdict::Met, "x"));
    assert!(!l7(&eval(&[], &targets)).passed);
    targets.pop();
    // verified long before the window (and before its own deadline): still counts
    targets.push(verified(due, T - 150 * D, Verdict::Met, "x"));
    assert!(l7(&eval(&[], &targets)).passed);
}

#[test]
fn verification_grace_and_share_are_settings() {
    let s = MaturitySettings {
        verification_grace_days: 40,
        verified_share: 0.5,
        ..defaults()
    };
    let mut targets = vec![
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
        target("x", T - 100 * D, T - 30 * D),
    ];
    assert!(l7(&evaluate(&s, &team("pay"), &[], &targets, T)).passed);
    targets.push(target("y", T - 100 * D, T - 50 * D));
    targets.push(verified(
        target("z", T - 100 * D, T - 60 * D),
        T - 55 * D,
        Verdict::Met,
        "ok",
    ));
    assert!(
        l7(&evaluate(&s, &team("pay"), &[], &targets, T)).passed,
        "1 of 2"
    );
}

#[test]
fn a_missed_verification_needs_learnings_that_are_not_blank() {
    let live = vec![
        target("a", T - 10 * D, T + 10 * D),
        target("b", T - 10 * D, T + 20 * D),
    ];
    let done = target("errors-q2", T - 100 * D, T - 30 * D);
    for blank in ["", "  ", "\t\n"] {
        let mut targets = live.clone();
        targets.push(verified(done.clone(), T - 20 * D, Verdict::Missed, blank));
        let c = eval(&[], &targets);
        assert!(!l7(&c).passed, "{blank:?}");
        assert_eq!(
            l7(&c).detail,
            "missed project verified without learnings: errors-q2; write down what was learnt"
        );
    }
    let mut targets = live.clone();
    targets.push(verified(done.clone(), T - 20 * D, Verdict::Missed, " why "));
    assert!(l7(&eval(&[], &targets)).passed);
    let mut targets = live.clone();
    targets.push(verified(done.clone(), T - 20 * D, Verdict::Met, ""));
    assert!(l7(&eval(&[], &targets)).passed, "met needs no learnings");
    // a blank missed verification older than the loopback is forgotten
    let mut targets = live.clone();
    let ancient = target("ancient", T - 500 * D, T - 400 * D);
    targets.push(verified(
        ancient.clone(),
        T - 182 * D - 1,
        Verdict::Missed,
        "",
    ));
    assert!(l7(&eval(&[], &targets)).passed);
    let mut targets = live;
    targets.push(verified(ancient, T - 182 * D, Verdict::Missed, ""));
    assert!(!l7(&eval(&[], &targets)).passed);
}

#[test]
fn min_projects_and_defined_share_are_settings() {
    let s = MaturitySettings {
        min_projects: 1,
        defined_share: 0.5,
        ..defaults()
    };
    let targets = [
        target("a", T - 10 * D, T + 10 * D),
        undefined_target("u", T - D),
    ];
    assert!(l7(&evaluate(&s, &team("pay"), &[], &targets, T)).passed);
}

// ---------------------------------------------------------------- the whole ladder

#[test]
fn the_level_is_gated_and_the_score_is_not() {
    // Reviews every week and metric changes in every block, nothing else.
    let mut events = reviews_in(&(0..12).collect::<Vec<_>>());
    for i in 0..3 {
        events.push(ev(
            &format!("m{i}"),
            EventKind::MetricChange,
            T - i * 28 * D - D,
        ));
    }
    let c = eval(&events, &[]);
    assert_eq!(c.level, 0);
    assert_eq!(c.score, 2, "{:?}", c.criteria);
    assert!(crit(&c, "regular_reviews").passed && crit(&c, "regular_adjustments").passed);
    assert_eq!(c.blockers.len(), 5);
    assert_eq!(c.blockers[0], crit(&c, "adhoc_queries").detail);
}

#[test]
fn criteria_come_in_ladder_order_with_their_levels() {
    let c = eval(&[], &[]);
    let ids: Vec<&str> = c.criteria.iter().map(|c| c.id).collect();
    assert_eq!(ids, CRITERIA.to_vec());
    let levels: Vec<u8> = c.criteria.iter().map(|c| c.level).collect();
    assert_eq!(levels, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(c.blockers.len(), 7 - usize::from(c.score));
}

#[test]
fn the_evaluation_serialises_to_the_maturity_endpoint_shape() {
    let events = [ev("q", EventKind::Question, T - D)];
    let v = serde_json::to_value(eval(&events, &[])).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["at", "blockers", "criteria", "level", "score", "team"]
    );
    assert_eq!(v["team"], json!("pay"));
    assert_eq!(v["at"], json!(T));
    assert_eq!(v["level"], json!(1));
    assert_eq!(
        v["criteria"][0],
        json!({
            "id": "adhoc_queries", "level": 1, "passed": true, "value": 1.0,
            "threshold": 1.0, "detail": "1 ad-hoc question in the last 12 weeks",
            "evidence": ["q"]
        })
    );
    let c = &v["criteria"][3];
    let mut keys: Vec<&String> = c.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "detail",
            "evidence",
            "id",
            "level",
            "passed",
            "threshold",
            "value"
        ]
    );
}

#[test]
fn events_of_every_other_kind_and_team_change_nothing() {
    let base = eval(&[], &[]);
    let noise = [
        ev("n", EventKind::Note, T - D),
        outcome("o", T - D, "nothing"),
        for_team(ev("q", EventKind::Question, T - D), "search"),
        view("v", T - D, "slo-search", "alice"),
    ];
    assert_eq!(eval(&noise, &[]), base);
}

#[test]
fn the_same_event_or_target_handed_in_twice_counts_once() {
    let mut events = reviews_in(&[0, 1, 2, 3, 4, 5, 6, 7]);
    events.push(ev("q", EventKind::Question, T - D));
    events.push(ev("d", EventKind::Decision, T - 20 * D));
    let targets = [target("a", T - D, T + D)];
    let once = eval(&events, &targets);
    let mut twice = events.clone();
    twice.extend(events.iter().cloned());
    let doubled_targets = [targets[0].clone(), targets[0].clone()];
    assert_eq!(eval(&twice, &doubled_targets), once);
}

// ---------------------------------------------------------------- history and changes

#[test]
fn history_equals_evaluate_at_every_step() {
    let mut events = reviewed_with_decisions(&[0, 2, 4, 6, 8, 10]);
    events.push(ev("q", EventKind::Question, T - 40 * D));
    events.push(ev("m", EventKind::MetricChange, T - 20 * D));
    events.push(outcome("o", T - 10 * D, "d4"));
    let targets = [
        target("a", T - 100 * D, T - 20 * D),
        verified(
            target("b", T - 200 * D, T - 90 * D),
            T - 60 * D,
            Verdict::Missed,
            "",
        ),
    ];
    let steps = history_steps(T - 150 * D, T + 20 * D, D);
    let s = defaults();
    let h = history(&s, &team("pay"), &events, &targets, &steps);
    assert_eq!(h.len(), steps.len());
    for (e, step) in h.iter().zip(&steps) {
        assert_eq!(e, &evaluate(&s, &team("pay"), &events, &targets, *step));
    }
}

#[test]
fn history_steps_are_anchored_at_the_end() {
    assert_eq!(history_steps(0, 10, 3), vec![1, 4, 7, 10]);
    assert_eq!(history_steps(1, 10, 3), vec![1, 4, 7, 10]);
    assert_eq!(history_steps(2, 10, 3), vec![4, 7, 10]);
    assert_eq!(history_steps(10, 10, 3), vec![10]);
    assert_eq!(history_steps(11, 10, 3), Vec::<EpochMs>::new());
    assert_eq!(history_steps(0, 10, 0), vec![10]);
    assert_eq!(history_steps(0, 10, -5), vec![10]);
    let many = history_steps(i64::MIN, i64::MAX, 1);
    assert_eq!(many.len(), MAX_HISTORY_STEPS);
    assert_eq!(many.last(), Some(&i64::MAX));
    let year = history_steps(T - 365 * D, T, D);
    assert_eq!(year.len(), 366);
    assert_eq!(year[0], T - 365 * D);
}

#[test]
fn level_changes_name_the_criterion_that_flipped() {
    // Level 3 (questions, a defined target, a verification); reviews reach 9 of 12
    // weeks at T and 8 of 12 a week earlier.
    let mut events = reviews_in(&[0, 1, 2, 3, 4, 5, 6, 7, 8]);
    events.push(ev("q", EventKind::Question, T - 20 * D));
    let targets = [verified(
        target("t", T - 100 * D, T - 10 * D),
        T - 9 * D,
        Verdict::Met,
        "ok",
    )];
    let steps = [T - 7 * D, T];
    let h = history(&defaults(), &team("pay"), &events, &targets, &steps);
    assert_eq!(h[0].level, 3, "{:?}", h[0].blockers);
    assert_eq!(h[1].level, 4, "{:?}", h[1].blockers);
    let changes = level_changes(&h);
    assert_eq!(
        changes,
        vec![LevelChange {
            time: T,
            from: 3,
            to: 4,
            criterion: "regular_reviews",
            text: "Level 3 → 4: reviewed in 9 of 12 weeks".into(),
        }]
    );
    let down = level_changes(&[h[1].clone(), h[0].clone()]);
    assert_eq!(down[0].criterion, "regular_reviews");
    assert_eq!(
        down[0].text,
        "Level 4 → 3: reviewed in 8 of 12 weeks; 9 needed"
    );
    assert!(level_changes(&[h[0].clone(), h[0].clone()]).is_empty());
    assert!(level_changes(&[]).is_empty());
}

#[test]
fn a_jump_of_several_levels_names_the_lowest_criterion_that_flipped() {
    let mut events = reviews_in(&(0..12).collect::<Vec<_>>());
    let targets = [verified(
        target("t", T - 100 * D, T - 10 * D),
        T - 9 * D,
        Verdict::Met,
        "ok",
    )];
    let before = evaluate(&defaults(), &team("pay"), &events, &targets, T);
    events.push(ev("q", EventKind::Question, T - D));
    let after = evaluate(&defaults(), &team("pay"), &events, &targets, T);
    assert_eq!((before.level, after.level), (0, 4));
    let ch = level_changes(&[before, after]);
    assert_eq!(ch[0].criterion, "adhoc_queries");
    assert_eq!(
        ch[0].text,
        "Level 0 → 4: 1 ad-hoc question in the last 12 weeks"
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    let events = reviewed_with_decisions(&[0, 1]);
    let targets = [target("a", T - D, T + D)];
    for at in [i64::MIN, i64::MIN + 1, 0, i64::MAX] {
        let e = evaluate(&defaults(), &team("pay"), &events, &targets, at);
        assert!(e.level <= e.score);
    }
    let s = MaturitySettings {
        window_weeks: u32::MAX,
        loopback_days: u32::MAX,
        default_follow_up_days: u32::MAX,
        verification_grace_days: u32::MAX,
        adjustment_block_days: 1,
        ..defaults()
    };
    let mut t = team("pay");
    t.cadence_days = 1;
    let e = evaluate(&s, &t, &events, &targets, T);
    assert!(e.level <= e.score);
}
