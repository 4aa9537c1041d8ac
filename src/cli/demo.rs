//! The demo data set of `maturity demo`: eight teams over the 26 weeks before "now", one
//! at each level of the ladder, written through the same use cases as the plugin.
//!
//! # Design
//! Each team's profile says, week by week (week 0 is the week just before now), whether
//! it held a review, whether its members looked at its dashboards, whether it asked a
//! question, changed a metric, took a decision and followed it up; its targets are
//! fixed too. The pseudo-random generator (seeded by `--seed`) only picks texts, times
//! inside a week, how many views, who recorded what, and the measured values, so the
//! levels below hold for every seed and every now (default thresholds of SPEC §5):
//!
//! | team | level | score | what holds it there |
//! |---|---|---|---|
//! | `checkout` | 7 | 7 | everything: weekly reviews, decisions followed up, three defined projects, a miss with learnings |
//! | `payments` | 6 | 6 | a missed project verified without learnings (level 7) |
//! | `platform` | 5 | 5 | fortnightly cadence; decisions in 1 of 6 reviewed periods; one live project |
//! | `mobile` | 4 | 5 | metric changes in 1 of 3 blocks (level 6 passes, gated) |
//! | `growth` | 3 | 5 | reviews lapsed 7 weeks ago; the only recent views are by a non-member |
//! | `identity` | 2 | 3 | a target past its deadline, never verified |
//! | `search` | 1 | 4 | its targets have no numbers yet, though reviews, adjustments and decisions pass |
//! | `onboarding` | 0 | 1 | no question asked in the last 12 weeks |
//!
//! # Idempotency
//! Every id starts with `demo-`; the last event written is the marker `demo-written`
//! (a `note` holding the seed and now). A rerun that finds the marker writes nothing and
//! says the demo data is already there; a store whose org already holds a team of the
//! demo's names without the marker (another team of that name, or an interrupted run) is
//! refused, so the demo never mixes its data with anyone else's.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::{CliError, CLI_LOGIN};
use crate::app::{App, AppError, Caller, Role, MAX_BATCH};
use crate::model::OrgId;
use crate::model::{EpochMs, Source, DAY_MS};

/// One week in milliseconds.
pub const WEEK: i64 = 7 * DAY_MS;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;
/// How far back the demo's history goes, in weeks.
pub const HISTORY_WEEKS: u32 = 26;
/// Id of the event written last: its presence means the demo data is complete.
pub const MARKER_ID: &str = "demo-written";

/// A set of weeks, by index before now (0 = the week just before now).
type Weeks = fn(u32) -> bool;

fn never(_: u32) -> bool {
    false
}

/// A finish-line check planned for a target.
struct VerifyPlan {
    /// Week in which it was made.
    week: i64,
    verdict: &'static str,
    learnings: &'static str,
}

/// A project with a target.
struct TargetPlan {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    direction: &'static str,
    baseline: Option<f64>,
    target: Option<f64>,
    /// Weeks before now when it started.
    start_week: i64,
    /// Weeks before now of its deadline (negative: after now).
    deadline_week: Option<i64>,
    verification: Option<VerifyPlan>,
    /// How far from baseline to target the measured values get (1 = exactly there).
    reach: f64,
    query: &'static str,
}

/// One team's behaviour over the demo's history.
struct Profile {
    id: &'static str,
    name: &'static str,
    members: &'static [&'static str],
    /// People outside the team who look at its dashboards (their views do not count).
    outsiders: &'static [&'static str],
    dashboards: &'static [&'static str],
    cadence_days: u32,
    review: Weeks,
    member_views: Weeks,
    outsider_views: Weeks,
    question: Weeks,
    metric_change: Weeks,
    decision: Weeks,
    /// Whether a decision taken that week gets its outcome recorded.
    follow_through: Weeks,
    targets: &'static [TargetPlan],
    questions: &'static [&'static str],
    /// (decision, expected effect)
    decisions: &'static [(&'static str, &'static str)],
    /// (change, reason)
    changes: &'static [(&'static str, &'static str)],
}

const PROFILES: &[Profile] = &[
    Profile {
        id: "checkout",
        name: "Checkout",
        members: &["alice", "bruno", "chen", "dana"],
        outsiders: &[],
        dashboards: &["checkout-slo", "checkout-funnel"],
        cadence_days: 7,
        review: |w| !matches!(w, 6 | 14 | 19 | 23),
        member_views: |_| true,
        outsider_views: never,
        question: |w| w % 2 == 1 || w < 4,
        metric_change: |w| w % 3 == 1,
        decision: |w| w % 4 != 3,
        follow_through: |w| w % 5 != 2,
        targets: &[
            TargetPlan {
                key: "conversion",
                name: "Checkout conversion to 3.6%",
                unit: "%",
                direction: "increase",
                baseline: Some(3.1),
                target: Some(3.6),
                start_week: 24,
                deadline_week: Some(10),
                verification: Some(VerifyPlan {
                    week: 9,
                    verdict: "met",
                    learnings: "The one-page checkout lifted conversion to 3.7%; address autocomplete did most of it.",
                }),
                reach: 1.2,
                query: "sum(rate(orders_completed_total[1d])) / sum(rate(checkout_started_total[1d])) * 100",
            },
            TargetPlan {
                key: "abandonment",
                name: "Cart abandonment below 65%",
                unit: "%",
                direction: "decrease",
                baseline: Some(71.0),
                target: Some(65.0),
                start_week: 20,
                deadline_week: Some(4),
                verification: Some(VerifyPlan {
                    week: 3,
                    verdict: "missed",
                    learnings: "Abandonment fell to 68%: showing shipping costs early helped less than the survey said. \
                                Next: test free-shipping thresholds.",
                }),
                reach: 0.5,
                query: "1 - sum(rate(orders_completed_total[1d])) / sum(rate(cart_created_total[1d]))",
            },
            TargetPlan {
                key: "latency",
                name: "Payment step p95 under 600 ms",
                unit: "ms",
                direction: "decrease",
                baseline: Some(820.0),
                target: Some(600.0),
                start_week: 16,
                deadline_week: Some(-6),
                verification: None,
                reach: 1.0,
                query: "histogram_quantile(0.95, sum by (le) (rate(checkout_payment_seconds_bucket[5m])))",
            },
        ],
        questions: &[
            "Why did conversion dip on Tuesday evening?",
            "Which payment methods fail most on mobile browsers?",
            "How many carts time out at the address step?",
            "Did the new coupon field change the average basket?",
        ],
        decisions: &[
            ("Roll back the new address form", "address-step drop-off back under 8%"),
            ("Make guest checkout the default", "conversion +0.2 points"),
            ("Prefetch payment methods on the cart page", "payment step p95 −80 ms"),
        ],
        changes: &[
            ("Split the funnel panel by device", "drop-off on mobile was hidden in the total"),
            ("Add payment step p95 to the SLO dashboard", "latency target needs a panel"),
            ("Replace the daily conversion panel with a 7-day rolling one", "weekday noise hid the trend"),
        ],
    },
    Profile {
        id: "payments",
        name: "Payments",
        members: &["erin", "farid", "grace"],
        outsiders: &[],
        dashboards: &["payments-slo", "payments-fraud"],
        cadence_days: 7,
        review: |w| w != 17,
        member_views: |w| w % 2 == 0,
        outsider_views: never,
        question: |w| w % 3 == 0,
        metric_change: |w| w % 4 == 2,
        decision: |w| w % 3 != 2,
        follow_through: |w| w % 5 != 3,
        targets: &[
            TargetPlan {
                key: "authorisation",
                name: "Card authorisation rate to 94%",
                unit: "%",
                direction: "increase",
                baseline: Some(92.5),
                target: Some(94.0),
                start_week: 22,
                deadline_week: Some(8),
                verification: Some(VerifyPlan {
                    week: 7,
                    verdict: "met",
                    learnings: "Retrying soft declines once did most of it; 3-D Secure exemptions the rest.",
                }),
                reach: 1.15,
                query: "sum(rate(card_auth_approved_total[1d])) / sum(rate(card_auth_total[1d])) * 100",
            },
            TargetPlan {
                key: "refunds",
                name: "Refunds processed within 3 days",
                unit: "days",
                direction: "decrease",
                baseline: Some(5.2),
                target: Some(3.0),
                start_week: 18,
                deadline_week: Some(5),
                verification: Some(VerifyPlan {
                    week: 4,
                    verdict: "missed",
                    learnings: "",
                }),
                reach: 0.6,
                query: "avg(refund_processing_days)",
            },
            TargetPlan {
                key: "chargebacks",
                name: "Chargeback rate under 0.30%",
                unit: "%",
                direction: "decrease",
                baseline: Some(0.42),
                target: Some(0.30),
                start_week: 6,
                deadline_week: Some(-8),
                verification: None,
                reach: 1.0,
                query: "sum(rate(chargebacks_total[7d])) / sum(rate(payments_total[7d])) * 100",
            },
        ],
        questions: &[
            "Which issuers decline the most since the 3-D Secure change?",
            "Are refunds slower for marketplace orders?",
            "How many fraud flags turned out to be false positives last week?",
        ],
        decisions: &[
            ("Retry soft declines once after 2 seconds", "authorisation rate +0.5 points"),
            ("Move refund approval to the nightly batch", "refund time −1 day"),
            ("Lower the fraud score threshold for gift cards", "chargebacks −10%"),
        ],
        changes: &[
            ("Add declines by issuer", "one issuer drove half the declines"),
            ("Chart refund age percentiles", "the average hid a long tail"),
        ],
    },
    Profile {
        id: "platform",
        name: "Platform",
        members: &["hiro", "ines", "jon", "kai"],
        outsiders: &[],
        dashboards: &["platform-slo", "platform-capacity", "platform-deploys"],
        cadence_days: 14,
        review: |w| w % 2 == 1,
        member_views: |_| true,
        outsider_views: never,
        question: |w| w % 2 == 0,
        metric_change: |w| w % 2 == 0,
        decision: |w| matches!(w, 3 | 15 | 22),
        follow_through: |_| true,
        targets: &[
            TargetPlan {
                key: "lead-time",
                name: "Deploy lead time under 8 hours",
                unit: "h",
                direction: "decrease",
                baseline: Some(26.0),
                target: Some(8.0),
                start_week: 20,
                deadline_week: Some(7),
                verification: Some(VerifyPlan {
                    week: 6,
                    verdict: "met",
                    learnings: "Parallel integration tests cut 12 hours; the manual approval step is the rest.",
                }),
                reach: 1.1,
                query: "avg(deploy_lead_time_hours)",
            },
            TargetPlan {
                key: "cache",
                name: "Build cache hit rate to 85%",
                unit: "%",
                direction: "increase",
                baseline: Some(60.0),
                target: Some(85.0),
                start_week: 25,
                deadline_week: Some(15),
                verification: Some(VerifyPlan {
                    week: 14,
                    verdict: "met",
                    learnings: "Pinning toolchain versions mattered more than cache size.",
                }),
                reach: 1.05,
                query: "sum(rate(build_cache_hits_total[1d])) / sum(rate(build_cache_requests_total[1d])) * 100",
            },
        ],
        questions: &[
            "Which services page the on-call most at night?",
            "How close are we to the node pool limit in eu-west?",
            "Do canary deploys catch more than the staging soak?",
        ],
        decisions: &[
            ("Raise the eu-west node pool limit", "no capacity alerts for a month"),
            ("Drop the staging soak for low-risk services", "lead time −4 hours"),
        ],
        changes: &[
            ("Add pages per service per week", "on-call load was anecdotal"),
            ("Chart deploy lead time by stage", "the total hid where time went"),
            ("Remove the unused CPU steal panel", "nobody looked at it in a year"),
        ],
    },
    Profile {
        id: "mobile",
        name: "Mobile",
        members: &["lena", "mo", "nadia"],
        outsiders: &[],
        dashboards: &["mobile-health", "mobile-releases"],
        cadence_days: 7,
        review: |w| w % 2 == 0,
        member_views: |w| w % 6 != 3,
        outsider_views: never,
        question: |w| w % 2 == 1,
        metric_change: |w| matches!(w, 5 | 13 | 18 | 24),
        decision: |w| w % 2 == 0,
        follow_through: |w| w % 3 != 0,
        targets: &[
            TargetPlan {
                key: "crash-free",
                name: "Crash-free sessions to 99.6%",
                unit: "%",
                direction: "increase",
                baseline: Some(99.1),
                target: Some(99.6),
                start_week: 20,
                deadline_week: Some(8),
                verification: Some(VerifyPlan {
                    week: 7,
                    verdict: "met",
                    learnings: "Two crashes in the image cache were 70% of all; fixing those was enough.",
                }),
                reach: 1.1,
                query: "1 - sum(increase(app_crashes_total[1d])) / sum(increase(app_sessions_total[1d]))",
            },
            TargetPlan {
                key: "start-time",
                name: "Faster cold start on Android",
                unit: "s",
                direction: "decrease",
                baseline: Some(2.4),
                target: None,
                start_week: 3,
                deadline_week: None,
                verification: None,
                reach: 0.0,
                query: "histogram_quantile(0.5, sum by (le) (rate(app_cold_start_seconds_bucket[1d])))",
            },
        ],
        questions: &[
            "Did the 5.12 release raise crashes on Android 12?",
            "How many users are still on the app version before the login fix?",
            "Is cold start slower on low-memory devices?",
        ],
        decisions: &[
            ("Halt the 5.12 rollout at 20%", "crash-free sessions back above 99.4%"),
            ("Ship the image cache fix as a hotfix", "crashes −50%"),
            ("Force-update versions older than 5.8", "login errors −30%"),
        ],
        changes: &[("Add crash-free sessions by OS version", "one OS version hid in the total")],
    },
    Profile {
        id: "growth",
        name: "Growth",
        members: &["olga", "pablo", "quinn"],
        outsiders: &["sre-oncall"],
        dashboards: &["growth-funnel", "growth-acquisition"],
        cadence_days: 7,
        review: |w| w >= 7 && w != 20,
        member_views: |w| w >= 7,
        outsider_views: |w| w < 7,
        question: |w| w % 2 == 0 || w < 3,
        metric_change: |w| matches!(w, 6 | 9) || (w > 12 && w % 5 == 0),
        decision: |w| w == 9 || (w >= 12 && w % 2 == 0),
        follow_through: |w| w % 3 != 1,
        targets: &[
            TargetPlan {
                key: "signup",
                name: "Signup conversion to 5%",
                unit: "%",
                direction: "increase",
                baseline: Some(4.0),
                target: Some(5.0),
                start_week: 23,
                deadline_week: Some(5),
                verification: Some(VerifyPlan {
                    week: 4,
                    verdict: "met",
                    learnings: "Social login brought most of it; the shorter form barely moved the number.",
                }),
                reach: 1.1,
                query: "sum(rate(signups_total[7d])) / sum(rate(landing_visits_total[7d])) * 100",
            },
            TargetPlan {
                key: "referrals",
                name: "Referral sign-ups to 300 a week",
                unit: "sign-ups/week",
                direction: "increase",
                baseline: Some(120.0),
                target: Some(300.0),
                start_week: 10,
                deadline_week: Some(-8),
                verification: None,
                reach: 0.9,
                query: "sum(increase(referral_signups_total[7d]))",
            },
        ],
        questions: &[
            "Which campaign brought the most activated users?",
            "Do referred users stay longer than paid ones?",
            "Where do visitors leave the signup form?",
        ],
        decisions: &[
            ("Pause the display campaign", "cost per signup −20%"),
            ("Offer social login first", "signup conversion +0.5 points"),
        ],
        changes: &[
            ("Add activation rate by campaign", "signups alone rewarded the wrong campaigns"),
            ("Add the referral funnel", "the referral project needs its own panel"),
        ],
    },
    Profile {
        id: "identity",
        name: "Identity",
        members: &["rosa", "sam", "tara"],
        outsiders: &[],
        dashboards: &["identity-slo"],
        cadence_days: 7,
        review: |w| w % 5 != 4,
        member_views: |w| w % 3 == 0,
        outsider_views: never,
        question: |w| w % 3 == 1,
        metric_change: |w| matches!(w, 2 | 16),
        decision: |w| matches!(w, 5 | 11 | 18),
        follow_through: |w| w != 11,
        targets: &[
            TargetPlan {
                key: "login-success",
                name: "Login success rate to 99%",
                unit: "%",
                direction: "increase",
                baseline: Some(97.0),
                target: Some(99.0),
                start_week: 18,
                deadline_week: Some(6),
                verification: None,
                reach: 0.8,
                query: "sum(rate(login_success_total[1d])) / sum(rate(login_attempts_total[1d])) * 100",
            },
            TargetPlan {
                key: "mfa",
                name: "MFA adoption to 60%",
                unit: "%",
                direction: "increase",
                baseline: Some(35.0),
                target: Some(60.0),
                start_week: 8,
                deadline_week: Some(-10),
                verification: None,
                reach: 0.85,
                query: "count(users{mfa=\"on\"}) / count(users) * 100",
            },
        ],
        questions: &[
            "Which login errors grew after the password policy change?",
            "How many users reset their password twice in a week?",
            "Is MFA adoption higher among admins?",
        ],
        decisions: &[
            ("Show the MFA prompt after the third login", "MFA adoption +5 points"),
            ("Relax the password policy for SSO users", "login errors −20%"),
        ],
        changes: &[("Add login errors by reason", "the total could not say what to fix")],
    },
    Profile {
        id: "search",
        name: "Search",
        members: &["uma", "victor", "wei"],
        outsiders: &[],
        dashboards: &["search-quality", "search-latency"],
        cadence_days: 7,
        review: |w| !matches!(w, 8 | 21),
        member_views: |w| w % 2 == 0,
        outsider_views: never,
        question: |_| true,
        metric_change: |w| w % 3 == 0,
        decision: |w| w % 2 == 1 || w == 0,
        follow_through: |w| w % 8 != 7,
        targets: &[
            TargetPlan {
                key: "relevance",
                name: "Better search relevance (nDCG@10)",
                unit: "",
                direction: "increase",
                baseline: None,
                target: None,
                start_week: 12,
                deadline_week: None,
                verification: None,
                reach: 0.0,
                query: "avg(search_ndcg_at_10)",
            },
            TargetPlan {
                key: "zero-results",
                name: "Fewer zero-result searches",
                unit: "%",
                direction: "decrease",
                baseline: Some(8.5),
                target: None,
                start_week: 5,
                deadline_week: None,
                verification: None,
                reach: 0.0,
                query: "sum(rate(search_zero_results_total[1d])) / sum(rate(search_queries_total[1d])) * 100",
            },
        ],
        questions: &[
            "Which queries return nothing most often?",
            "Did the synonym list change click-through on page one?",
            "Is p99 latency worse for queries with filters?",
            "How often do people refine a query right away?",
        ],
        decisions: &[
            ("Add synonyms for the top 50 zero-result queries", "zero-result rate −1 point"),
            ("Cache filter facets for 60 seconds", "p99 latency −100 ms"),
            ("Boost in-stock items", "click-through on page one +3%"),
        ],
        changes: &[
            ("Add zero-result rate by locale", "one locale had no synonyms at all"),
            ("Chart query refinements", "a proxy for bad results"),
            ("Add p99 latency with filters", "filters were slow and nobody saw it"),
        ],
    },
    Profile {
        id: "onboarding",
        name: "Onboarding",
        members: &["xena", "yusuf", "zoe"],
        outsiders: &[],
        dashboards: &["onboarding-funnel"],
        cadence_days: 7,
        review: |w| w == 9 || (w >= 13 && w % 2 == 1),
        member_views: |w| w == 4 || w >= 14,
        outsider_views: never,
        question: |w| w >= 14,
        metric_change: |w| matches!(w, 17 | 22),
        decision: |w| matches!(w, 15 | 19),
        follow_through: |w| w == 15,
        targets: &[TargetPlan {
            key: "first-value",
            name: "Time to first value under 3 days",
            unit: "days",
            direction: "decrease",
            baseline: Some(9.0),
            target: Some(3.0),
            start_week: 22,
            deadline_week: Some(-4),
            verification: None,
            reach: 0.4,
            query: "avg(onboarding_first_value_days)",
        }],
        questions: &[
            "Which onboarding step takes the longest?",
            "Do invited users finish onboarding faster?",
        ],
        decisions: &[("Send the setup checklist by e-mail on day 2", "time to first value −1 day")],
        changes: &[("Add the onboarding funnel by signup week", "cohorts were mixed")],
    },
];

/// An event to record, as the login that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    /// The login of the member who records it (its `user`).
    pub user: String,
    /// How it reached the store (`passive` for dashboard views).
    pub source: Source,
    /// An outcome: written after every decision, since it names one.
    pub outcome: bool,
    /// The body as `POST /events` takes it.
    pub body: Value,
}

/// Everything the demo writes, computed before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The seed it came from.
    pub seed: u64,
    /// The demo's now.
    pub now: EpochMs,
    /// `POST /teams` bodies.
    pub teams: Vec<Value>,
    /// `POST /targets` bodies, each with the login of the member who records it.
    pub targets: Vec<(String, Value)>,
    /// The events, in no particular order.
    pub events: Vec<PlannedEvent>,
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Teams created.
    pub teams: usize,
    /// Targets created.
    pub targets: usize,
    /// Events recorded (the marker included).
    pub events: usize,
}

/// What [`write()`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The demo data was written.
    Fresh(Counts),
    /// The marker was there already: nothing was written.
    AlreadyThere {
        /// The seed of the earlier run.
        seed: u64,
        /// The now of the earlier run.
        now: EpochMs,
    },
}

/// A time in week `w` before `now` (`[now − (w+1)·7d, now − w·7d)`), at least an hour
/// from either edge, to the minute.
fn in_week(rng: &mut StdRng, now: EpochMs, w: u32) -> EpochMs {
    let start = now - (i64::from(w) + 1) * WEEK;
    let t = start + rng.gen_range(HOUR..=WEEK - HOUR);
    t - t.rem_euclid(MINUTE)
}

fn pick<T: Copy + Default>(rng: &mut StdRng, items: &[T]) -> T {
    items
        .get(rng.gen_range(0..items.len().max(1)))
        .copied()
        .unwrap_or_default()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The whole data set for `seed` and `now`: a pure function of both.
pub fn plan(seed: u64, now: EpochMs) -> Plan {
    let mut p = Plan {
        seed,
        now,
        teams: Vec::new(),
        targets: Vec::new(),
        events: Vec::new(),
    };
    for (i, profile) in PROFILES.iter().enumerate() {
        let team_seed = seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(team_seed);
        plan_team(&mut p, profile, &mut rng);
    }
    p
}

fn plan_team(p: &mut Plan, t: &Profile, rng: &mut StdRng) {
    let now = p.now;
    p.teams.push(json!({
        "id": t.id,
        "name": t.name,
        "dashboards": t.dashboards,
        "members": t.members,
        "cadenceDays": t.cadence_days,
        "createdAt": now - (i64::from(HISTORY_WEEKS) + 1) * WEEK,
    }));
    let lead = t.members.first().copied().unwrap_or(CLI_LOGIN).to_string();
    for target in t.targets {
        p.targets
            .push((lead.clone(), target_body(t, target, now, rng)));
    }
    let id = |kind: &str, w: u32, n: usize| format!("demo-{}-{kind}-w{w:02}-{n}", t.id);
    let cadence = if t.cadence_days == 7 {
        "Weekly"
    } else {
        "Fortnightly"
    };
    for w in (0..HISTORY_WEEKS).rev() {
        if (t.review)(w) {
            let time = in_week(rng, now, w);
            let n = rng.gen_range(2..=t.members.len().max(2));
            let attendees: Vec<&str> = t.members.choose_multiple(rng, n).copied().collect();
            let user = pick(rng, attendees.as_slice()).to_string();
            p.events.push(PlannedEvent {
                user,
                source: Source::Api,
                outcome: false,
                body: json!({
                    "id": id("review", w, 1),
                    "kind": "review",
                    "time": time,
                    "timeEnd": time + 45 * MINUTE,
                    "team": t.id,
                    "dashboardUid": t.dashboards.first(),
                    "text": format!("{cadence} {} review", t.name),
                    "tags": ["review"],
                    "data": {"attendees": attendees, "dashboards": t.dashboards},
                }),
            });
        }
        for (viewers, kind, counts) in [
            (t.members, "view", t.member_views),
            (t.outsiders, "oview", t.outsider_views),
        ] {
            if viewers.is_empty() || !counts(w) {
                continue;
            }
            for n in 1..=rng.gen_range(2..=5usize) {
                let time = in_week(rng, now, w);
                p.events.push(PlannedEvent {
                    user: pick(rng, viewers).to_string(),
                    source: Source::Passive,
                    outcome: false,
                    body: json!({
                        "id": id(kind, w, n),
                        "kind": "view",
                        "time": time,
                        "dashboardUid": pick(rng, t.dashboards),
                        "panelId": rng.gen_range(1..=12),
                    }),
                });
            }
        }
        if (t.question)(w) {
            let count = if rng.gen_bool(0.4) { 2 } else { 1 };
            for n in 1..=count {
                let time = in_week(rng, now, w);
                let dashboard = pick(rng, t.dashboards);
                p.events.push(PlannedEvent {
                    user: pick(rng, t.members).to_string(),
                    source: Source::Api,
                    outcome: false,
                    body: json!({
                        "id": id("question", w, n),
                        "kind": "question",
                        "time": time,
                        "team": t.id,
                        "dashboardUid": dashboard,
                        "text": pick(rng, t.questions),
                        "tags": ["question"],
                        "data": {"query": {"dashboard": dashboard, "range": "now-7d", "editor": "explore"}},
                    }),
                });
            }
        }
        if (t.metric_change)(w) {
            let count = if rng.gen_bool(0.3) { 2 } else { 1 };
            for n in 1..=count {
                let (change, reason) = pick(rng, t.changes);
                p.events.push(PlannedEvent {
                    user: pick(rng, t.members).to_string(),
                    source: Source::Api,
                    outcome: false,
                    body: json!({
                        "id": id("change", w, n),
                        "kind": "metric_change",
                        "time": in_week(rng, now, w),
                        "team": t.id,
                        "dashboardUid": pick(rng, t.dashboards),
                        "text": change,
                        "tags": ["metric-change"],
                        "data": {"change": if rng.gen_bool(0.5) { "added" } else { "changed" }, "reason": reason},
                    }),
                });
            }
        }
        if (t.decision)(w) {
            plan_decision(p, t, w, rng, &id("decision", w, 1), &id("outcome", w, 1));
        }
    }
}

fn plan_decision(
    p: &mut Plan,
    t: &Profile,
    w: u32,
    rng: &mut StdRng,
    decision_id: &str,
    outcome_id: &str,
) {
    let now = p.now;
    let time = in_week(rng, now, w);
    let (text, effect) = pick(rng, t.decisions);
    let owner = pick(rng, t.members).to_string();
    // Half name their follow-up date (1 to 3 weeks on); the others fall due after the
    // default 14 days.
    let explicit = if rng.gen_bool(0.5) {
        Some(time + rng.gen_range(7..=21) * DAY_MS)
    } else {
        None
    };
    let follow_up = explicit.unwrap_or(time + 14 * DAY_MS);
    let mut data = Map::new();
    data.insert("owner".into(), json!(owner));
    data.insert("expectedEffect".into(), json!(effect));
    if let Some(f) = explicit {
        data.insert("followUpAt".into(), json!(f));
    }
    p.events.push(PlannedEvent {
        user: owner.clone(),
        source: Source::Api,
        outcome: false,
        body: json!({
            "id": decision_id,
            "kind": "decision",
            "time": time,
            "team": t.id,
            "dashboardUid": t.dashboards.first(),
            "text": text,
            "tags": ["decision"],
            "data": data,
        }),
    });
    // Followed-up decisions get their outcome on or up to two days before the follow-up
    // date, once that date has passed; the others stay open, or overdue.
    if (t.follow_through)(w) && follow_up < now {
        let at = (follow_up - rng.gen_range(0..=2 * DAY_MS)).max(time + DAY_MS);
        let at = at - at.rem_euclid(MINUTE);
        let roll: f64 = rng.gen();
        let result = if roll < 0.6 {
            "confirmed"
        } else if roll < 0.85 {
            "not_confirmed"
        } else {
            "inconclusive"
        };
        p.events.push(PlannedEvent {
            user: owner,
            source: Source::Api,
            outcome: true,
            body: json!({
                "id": outcome_id,
                "kind": "outcome",
                "time": at,
                "team": t.id,
                "dashboardUid": t.dashboards.first(),
                "text": format!("Follow-up of \"{text}\": {}", result.replace('_', " ")),
                "tags": ["outcome"],
                "data": {"decisionId": decision_id, "result": result},
            }),
        });
    }
}

fn target_body(t: &Profile, plan: &TargetPlan, now: EpochMs, rng: &mut StdRng) -> Value {
    let week_ago = |w: i64| now - w * WEEK;
    let start_at = week_ago(plan.start_week);
    let mut body = json!({
        "id": format!("demo-{}-{}", t.id, plan.key),
        "team": t.id,
        "name": plan.name,
        "direction": plan.direction,
        "startAt": start_at,
        "createdAt": start_at,
        "query": {"expr": plan.query},
    });
    let Some(o) = body.as_object_mut() else {
        return body;
    };
    if !plan.unit.is_empty() {
        o.insert("unit".into(), json!(plan.unit));
    }
    if let Some(b) = plan.baseline {
        o.insert("baseline".into(), json!(b));
    }
    if let Some(v) = plan.target {
        o.insert("target".into(), json!(v));
    }
    if let Some(d) = plan.deadline_week {
        o.insert("deadline".into(), json!(week_ago(d)));
    }
    // Weekly measurements from the start to the verification (or to last week).
    let last_week = plan.verification.as_ref().map_or(1, |v| v.week).max(1);
    let span = plan
        .deadline_week
        .map_or(plan.start_week, |d| plan.start_week - d)
        .max(1) as f64;
    let mut actuals = Vec::new();
    let mut last = None;
    if let Some(b) = plan.baseline {
        let goal = plan.target.unwrap_or(b);
        let noise_scale = if plan.target.is_some() {
            (goal - b).abs() * 0.06
        } else {
            b * 0.04
        };
        let mut k = plan.start_week - 1;
        while k >= last_week {
            let progress = ((plan.start_week - k) as f64 / span).min(1.0);
            let mut value = b + (goal - b) * plan.reach * progress;
            if k > last_week {
                value += rng.gen_range(-1.0..=1.0) * noise_scale;
            }
            let value = round3(value);
            let time = week_ago(k) - rng.gen_range(2 * DAY_MS..=3 * DAY_MS);
            actuals.push(json!({"time": time - time.rem_euclid(MINUTE), "value": value}));
            last = Some(value);
            k -= 1;
        }
    }
    if !actuals.is_empty() {
        o.insert("actuals".into(), Value::Array(actuals));
    }
    if let Some(v) = &plan.verification {
        let at = week_ago(v.week) - rng.gen_range(2 * HOUR..=DAY_MS);
        let mut verification = json!({
            "verdict": v.verdict,
            "learnings": v.learnings,
            "verifiedAt": at - at.rem_euclid(MINUTE),
        });
        if let (Some(value), Some(vo)) = (last, verification.as_object_mut()) {
            vo.insert("actual".into(), json!(value));
        }
        o.insert("verification".into(), verification);
    }
    body
}

fn editor(org: OrgId, login: &str) -> Caller {
    Caller {
        org,
        user: Some((login.to_string(), Role::Editor)),
    }
}

/// Writes `plan` into `org` through the use cases: teams as the tool (Admin), targets
/// as each team's lead, events as the member who recorded them, in batches of at most
/// [`MAX_BATCH`]; the marker last. Refuses to mix with data it did not write.
pub async fn write(app: &App, org: OrgId, plan: &Plan) -> Result<Written, CliError> {
    let admin = Caller {
        org,
        user: Some((CLI_LOGIN.to_string(), Role::Admin)),
    };
    match app.get_event(&admin, MARKER_ID).await {
        Ok(marker) => {
            let num = |k: &str| {
                marker
                    .data
                    .get(k)
                    .and_then(Value::as_i64)
                    .unwrap_or_default()
            };
            return Ok(Written::AlreadyThere {
                seed: u64::try_from(num("seed")).unwrap_or_default(),
                now: num("now"),
            });
        }
        Err(AppError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let existing: Vec<String> = app
        .list_teams(&admin)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    if let Some(taken) = plan
        .teams
        .iter()
        .filter_map(|t| t.get("id").and_then(Value::as_str))
        .find(|id| existing.iter().any(|e| e == id))
    {
        return Err(CliError::new(format!(
            "org {org} already has a team {taken:?} that no complete `maturity demo` run wrote; \
             write the demo into another --org or --db"
        )));
    }
    let mut counts = Counts::default();
    for team in &plan.teams {
        app.create_team(&admin, team).await?;
        counts.teams += 1;
    }
    for (login, target) in &plan.targets {
        app.create_target(&editor(org, login), target).await?;
        counts.targets += 1;
    }
    // Decisions before the outcomes that name them; one caller per login and source.
    let mut groups: BTreeMap<(bool, &str, &str), Vec<Value>> = BTreeMap::new();
    for e in &plan.events {
        groups
            .entry((e.outcome, e.user.as_str(), e.source.as_str()))
            .or_default()
            .push(e.body.clone());
    }
    for ((_, login, source), bodies) in groups {
        let source = Source::parse(source).unwrap_or(Source::Api);
        for batch in bodies.chunks(MAX_BATCH) {
            let written = app
                .record_events(&editor(org, login), &Value::Array(batch.to_vec()), source)
                .await?;
            counts.events += written.len();
        }
    }
    let marker = json!({
        "id": MARKER_ID,
        "kind": "note",
        "time": plan.now,
        "text": format!("Demo data written by `maturity demo --seed {}`", plan.seed),
        "tags": ["demo"],
        "data": {"seed": plan.seed, "now": plan.now},
    });
    counts.events += app.record_events(&admin, &marker, Source::Api).await?.len();
    Ok(Written::Fresh(counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochMs = 1_780_272_000_000; // 2026-06-01T00:00:00Z

    #[test]
    fn the_plan_is_a_function_of_seed_and_now() {
        assert_eq!(plan(7, NOW), plan(7, NOW));
        assert_ne!(plan(7, NOW), plan(8, NOW));
    }

    #[test]
    fn every_event_lies_in_the_history_before_now_with_a_unique_demo_id() {
        let p = plan(3, NOW);
        let mut ids = std::collections::HashSet::new();
        for e in &p.events {
            let id = e.body["id"].as_str().expect("id");
            assert!(id.starts_with("demo-") && id.len() <= 64, "{id}");
            assert!(ids.insert(id.to_string()), "{id} twice");
            let time = e.body["time"].as_i64().expect("time");
            assert!(
                time < NOW && time >= NOW - i64::from(HISTORY_WEEKS) * WEEK,
                "{id}"
            );
        }
        assert!(p.teams.len() >= 6);
    }
}
