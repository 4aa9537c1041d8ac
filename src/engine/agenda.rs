//! The review agenda (SPEC §4.1 `reviewAgenda`, issue 13): per team, what to discuss now,
//! one [`AgendaItem`] an item, most urgent first. Computed at an instant `T` handed in from
//! the evidence the ladder already reads, with the ladder's, the lapse's and the targets'
//! own rules (nothing here re-decides what they decide).
//!
//! # The items, with `c` = the team's `cadenceDays` (as milliseconds) and `W` the window
//!
//! - `review_lapsed` — the hours since the last review evidence ([`super::lapse`], as
//!   `reviewLapse` counts them: reviews and counting views in `[T − W, T)`) exceed `c`
//!   (`hours_overdue > 0`). When the team as a whole has lapsed (or owns no dashboard) it
//!   is one item, `subject` = the team id, `dashboardUid` null; otherwise one item per
//!   dashboard of the team that has lapsed on its own (`subject` = `dashboardUid` = its
//!   uid). `since` = the last evidence + `c` (with none in the window, `T − W + c`, the
//!   window read as the time since, as `reviewLapse` does). Gone once a review (or a
//!   counting view) of it is recorded.
//! - `level_dropped` — the team's level at `T` is below its level just after its last
//!   `review` event in `[T − W, T)` (that review included), or, with none, its level at
//!   `T − c` (at most `W` back). Passive views do not move this reference: the agenda's own
//!   query records them. `subject` = the criterion that flipped (the lowest one the ladder
//!   names for the change, as `levelChanges` does); `since` = the first of the daily steps
//!   `T, T − 1 day, …` after the reference from which the level stayed below. Gone once a
//!   review is posted (the reference becomes the level of now) or the criterion passes again.
//! - `target_off_track` — a target of the team whose status at `T` is `off_track`
//!   ([`super::targets::status`]). `subject` = the target id; `since` = the time of the
//!   first actual of the trailing run of actuals that read behind plan, or the quarter mark
//!   when the run reaches back to the time before any actual. Gone once an actual back on
//!   the glide path is recorded (or the target is verified).
//! - `target_due` — a target whose status at `T` is `due` (deadline passed, not verified)
//!   for at most `verificationGraceDays` (14): the verification is due now. `since` = the
//!   deadline.
//! - `verification_due` — the same past the grace: level 7's verified share now counts it
//!   as unverified. `since` = deadline + grace. Only deadlines within `loopbackDays` (182)
//!   of `T`, the ones level 7 counts (`verificationDue` lists older ones too). Both are gone
//!   once a verification is recorded.
//! - `follow_up_due` — a decision of the team whose follow-up ([`super::targets::follow_ups`]:
//!   `data.followUpAt`, else `time + defaultFollowUpDays`) fell due in `[T − c, T)` with no
//!   outcome before `T` (status `overdue` there, but still within the current cadence).
//!   `since` = the follow-up date.
//! - `follow_up_overdue` — the same, fallen due before `T − c` (a review went by without
//!   it) but within the window, `[T − W, T − c)`: the follow-ups level 6 (b) counts
//!   (`followUpsOverdue` lists older ones too). `since` = follow-up date + `c`.
//! - `outcome_suggested` — a decision without an outcome whose `data.suggestedOutcome`
//!   (`{result, before, after, evaluatedAt}`, written by the sync: [`super::suggest`]) names a
//!   result (`confirmed`, `not_confirmed`, `inconclusive`) and was evaluated before `T`
//!   (or carries no `evaluatedAt`). It replaces the decision's `follow_up_*` item (one row a
//!   decision, so the panel offers it once); the detail names the suggested result in words.
//!   `since` = `evaluatedAt` (else the follow-up date, at most `T`). Decisions whose
//!   follow-up fell due before the window are left out here too.
//!   All three decision items have `subject` = the decision's event id (an outcome posted
//!   with `data.decisionId` = subject closes them) and `dashboardUid` = the decision's.
//!
//! # The order (most urgent first; total, so the answer never depends on input order)
//!
//! 1. By tier: overdue or lapsed (`review_lapsed`, `follow_up_overdue`,
//!    `verification_due`), then due now (`level_dropped`, `target_off_track`, `target_due`,
//!    `follow_up_due`), then suggestions (`outcome_suggested`).
//! 2. Within a tier, by `since`, oldest first (what has waited longest).
//! 3. Ties by team, item (wire name), subject, dashboard uid.
//!
//! Every `detail` is a sentence with the numbers behind the item, e.g. "No review of
//! checkout-slo for 9 days; the cadence is 7 days". Durations read in minutes below an
//! hour, hours below two days, else days (with the hours below ten days).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use crate::model::{EpochMs, Event, EventKind, OutcomeResult, Target, Team, DAY_MS};

use super::evidence::{EvidenceIndex, TeamEvidence};
use super::ladder::level_changes;
use super::lapse::{hours_overdue, last_review_evidence};
use super::settings::{days_ms, MaturitySettings};
use super::suggest::{self, SuggestedOutcome};
use super::targets::{self, FollowUp, FollowUpStatus, TargetStatus};

const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// What an agenda item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// The team, or one of its dashboards, was not reviewed within its cadence.
    ReviewLapsed,
    /// The level is below the level of the last review.
    LevelDropped,
    /// A target is behind its glide path.
    TargetOffTrack,
    /// A target passed its deadline, within the verification grace.
    TargetDue,
    /// A target passed its deadline and the grace, unverified.
    VerificationDue,
    /// A decision's follow-up fell due within the cadence, no outcome.
    FollowUpDue,
    /// A decision's follow-up fell due more than a cadence ago, no outcome.
    FollowUpOverdue,
    /// A decision has a suggested outcome waiting for a person to confirm it.
    OutcomeSuggested,
}

impl ItemKind {
    /// Every kind, in the order of SPEC §4.1.
    pub const ALL: [ItemKind; 8] = [
        ItemKind::ReviewLapsed,
        ItemKind::TargetOffTrack,
        ItemKind::TargetDue,
        ItemKind::VerificationDue,
        ItemKind::FollowUpDue,
        ItemKind::FollowUpOverdue,
        ItemKind::OutcomeSuggested,
        ItemKind::LevelDropped,
    ];

    /// The wire name (the frame's `item`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::ReviewLapsed => "review_lapsed",
            ItemKind::LevelDropped => "level_dropped",
            ItemKind::TargetOffTrack => "target_off_track",
            ItemKind::TargetDue => "target_due",
            ItemKind::VerificationDue => "verification_due",
            ItemKind::FollowUpDue => "follow_up_due",
            ItemKind::FollowUpOverdue => "follow_up_overdue",
            ItemKind::OutcomeSuggested => "outcome_suggested",
        }
    }

    /// The urgency tier (see the module doc): 0 overdue or lapsed, 1 due now, 2 suggestions.
    pub const fn tier(self) -> u8 {
        match self {
            ItemKind::ReviewLapsed | ItemKind::FollowUpOverdue | ItemKind::VerificationDue => 0,
            ItemKind::LevelDropped
            | ItemKind::TargetOffTrack
            | ItemKind::TargetDue
            | ItemKind::FollowUpDue => 1,
            ItemKind::OutcomeSuggested => 2,
        }
    }
}

/// One row of the agenda.
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaItem {
    /// The team.
    pub team: String,
    /// What it is about.
    pub item: ItemKind,
    /// The dashboard uid, team id, target id, criterion id or decision id it is about.
    pub subject: String,
    /// A sentence with the numbers a team can act on.
    pub detail: String,
    /// When the item's condition began to hold.
    pub since: EpochMs,
    /// The dashboard it concerns, if one.
    pub dashboard_uid: Option<String>,
}

/// The order of the module doc: tier, `since` (oldest first), team, item, subject, dashboard.
pub fn urgency(a: &AgendaItem, b: &AgendaItem) -> Ordering {
    (a.item.tier(), a.since, &a.team, a.item.as_str(), &a.subject)
        .cmp(&(b.item.tier(), b.since, &b.team, b.item.as_str(), &b.subject))
        .then_with(|| a.dashboard_uid.cmp(&b.dashboard_uid))
}

/// Sorts items most urgent first (see [`urgency`]).
pub fn sort(items: &mut [AgendaItem]) {
    items.sort_by(urgency);
}

/// The agenda of `teams` at `at`, most urgent first. `events` and `targets` may hold other
/// teams' evidence and any times (only what precedes `at` counts); `level_dropped` needs
/// events from `at − 2·W` on, the other items those of the window.
pub fn agenda(
    settings: &MaturitySettings,
    teams: &[Team],
    events: &[Event],
    targets: &[Target],
    at: EpochMs,
) -> Vec<AgendaItem> {
    let index = EvidenceIndex::new(events);
    let follow_ups = targets::follow_ups(settings, events, at);
    let mut out = Vec::new();
    let mut seen_teams = HashSet::new();
    for team in teams {
        if !seen_teams.insert(team.id.as_str()) {
            continue;
        }
        let evidence = TeamEvidence::from_events(settings, team, index.for_team(team), targets);
        review_items(settings, team, events, at, &mut out);
        level_items(&evidence, at, &mut out);
        target_items(settings, team, &evidence.targets, at, &mut out);
        decision_items(settings, team, &follow_ups, at, &mut out);
    }
    sort(&mut out);
    out
}

/// The team's cadence in milliseconds.
fn cadence_ms(team: &Team) -> i64 {
    days_ms(u64::from(team.cadence_days))
}

/// `review_lapsed`: the team as a whole, else each lapsed dashboard.
fn review_items(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    at: EpochMs,
    out: &mut Vec<AgendaItem>,
) {
    let cadence = cadence_ms(team);
    let window = settings.window_ms();
    // When lapsed: (since, the sentence). One scan when not lapsed, two when it is.
    let lapse = |dashboard: Option<&str>, what: &str| -> Option<(EpochMs, String)> {
        if hours_overdue(settings, team, events, at, dashboard) <= 0.0 {
            return None;
        }
        let last = last_review_evidence(settings, team, events, at, dashboard).map(|e| e.time);
        let how_long = match last {
            Some(t) => format!("for {}", span(at.saturating_sub(t))),
            None => format!("in {}", window_phrase(settings)),
        };
        let since = last
            .unwrap_or_else(|| at.saturating_sub(window))
            .saturating_add(cadence)
            .min(at);
        let detail = format!(
            "No review of {what} {how_long}; the cadence is {}",
            days(team.cadence_days)
        );
        Some((since, detail))
    };
    if let Some((since, detail)) = lapse(None, &format!("team {}", team.id)) {
        out.push(AgendaItem {
            team: team.id.clone(),
            item: ItemKind::ReviewLapsed,
            subject: team.id.clone(),
            detail,
            since,
            dashboard_uid: None,
        });
        return;
    }
    let mut seen = HashSet::new();
    for uid in &team.dashboards {
        if !seen.insert(uid.as_str()) {
            continue;
        }
        if let Some((since, detail)) = lapse(Some(uid), uid) {
            out.push(AgendaItem {
                team: team.id.clone(),
                item: ItemKind::ReviewLapsed,
                subject: uid.clone(),
                detail,
                since,
                dashboard_uid: Some(uid.clone()),
            });
        }
    }
}

/// `level_dropped`: the level at `at` against the level of the last review.
fn level_items(evidence: &TeamEvidence<'_>, at: EpochMs, out: &mut Vec<AgendaItem>) {
    let settings = evidence.settings;
    let team = evidence.team;
    let window = settings.window_ms();
    let last_review =
        TeamEvidence::in_range(&evidence.reviews, at.saturating_sub(window), at).last();
    // Just after the review, so that the review itself counts in the level it saw.
    let reference = match last_review {
        Some(r) => r.time().saturating_add(1),
        None => at.saturating_sub(cadence_ms(team).min(window)),
    };
    if reference >= at {
        return;
    }
    let before = evidence.level_at(reference);
    let now = evidence.level_at(at);
    if now.level >= before.level {
        return;
    }
    let (then_eval, now_eval) = (evidence.evaluate(reference), evidence.evaluate(at));
    let Some(change) = level_changes(&[then_eval, now_eval.clone()])
        .into_iter()
        .next()
    else {
        return;
    };
    let why = now_eval
        .criterion(change.criterion)
        .map(|c| c.detail.clone())
        .unwrap_or_default();
    // The first daily step (anchored at `at`) from which the level stayed below.
    let mut since = at;
    let mut k: i64 = 1;
    loop {
        let step = at.saturating_sub(DAY_MS.saturating_mul(k));
        if step <= reference || evidence.level_at(step).level >= before.level {
            break;
        }
        since = step;
        k += 1;
    }
    let when = match last_review {
        Some(r) => format!(
            "since the review recorded {} ago",
            span(at.saturating_sub(r.time()))
        ),
        None => format!(
            "in the last {} (no review recorded in {})",
            span(at.saturating_sub(reference)),
            window_phrase(settings)
        ),
    };
    out.push(AgendaItem {
        team: team.id.clone(),
        item: ItemKind::LevelDropped,
        subject: change.criterion.to_string(),
        detail: format!(
            "Level {} → {} {when}: {} fails ({why})",
            change.from, change.to, change.criterion
        ),
        since,
        dashboard_uid: None,
    });
}

/// `target_off_track`, `target_due`, `verification_due`.
fn target_items(
    settings: &MaturitySettings,
    team: &Team,
    targets: &[&Target],
    at: EpochMs,
    out: &mut Vec<AgendaItem>,
) {
    let grace = days_ms(u64::from(settings.verification_grace_days));
    let loopback = at.saturating_sub(days_ms(u64::from(settings.loopback_days)));
    for t in targets.iter().filter(|t| t.team == team.id) {
        let (Some(goal), Some(deadline)) = (t.target, t.deadline) else {
            continue;
        };
        let unit = t.unit.as_deref();
        let view = targets::view(settings, t, at);
        let item = |item: ItemKind, detail: String, since: EpochMs| AgendaItem {
            team: team.id.clone(),
            item,
            subject: t.id.clone(),
            detail,
            since,
            dashboard_uid: None,
        };
        match view.status {
            TargetStatus::OffTrack => {
                let goal_text = format!(
                    "target {} in {}",
                    amount(goal, unit),
                    span(deadline.saturating_sub(at))
                );
                let last = t
                    .actuals
                    .iter()
                    .filter(|a| a.time < at)
                    .max_by_key(|a| a.time);
                let detail = match last {
                    Some(a) => format!(
                        "'{}' is behind plan: the last actual, {} ({} ago), against {} planned then; {goal_text}",
                        t.name,
                        amount(a.value, unit),
                        span(at.saturating_sub(a.time)),
                        targets::planned(t, a.time).map_or_else(|| "unknown".into(), |p| amount(p, unit)),
                    ),
                    None => format!(
                        "'{}' has no actual yet, {} into a project of {}; {goal_text}",
                        t.name,
                        span(at.saturating_sub(t.start_at)),
                        span(deadline.saturating_sub(t.start_at)),
                    ),
                };
                out.push(item(
                    ItemKind::TargetOffTrack,
                    detail,
                    off_track_since(settings, t, at),
                ));
            }
            TargetStatus::Due => {
                // Past the loopback the ladder no longer counts it; verificationDue still lists it.
                if targets::verification_days_overdue(t, at).is_none() || deadline < loopback {
                    continue;
                }
                let passed = at.saturating_sub(deadline);
                let numbers = format!(
                    "target {}, last actual {}",
                    amount(goal, unit),
                    view.latest_actual
                        .map_or_else(|| "none".to_string(), |a| amount(a, unit))
                );
                let ago = span(passed);
                if passed <= grace {
                    out.push(item(
                        ItemKind::TargetDue,
                        format!(
                            "'{}' passed its deadline {ago} ago ({numbers}): record its verification; level 7 counts it as unverified in {}",
                            t.name,
                            span(grace.saturating_sub(passed)),
                        ),
                        deadline,
                    ));
                } else {
                    out.push(item(
                        ItemKind::VerificationDue,
                        format!(
                            "'{}' passed its deadline {ago} ago ({numbers}) and nobody verified it; the grace is {}",
                            t.name,
                            days(settings.verification_grace_days),
                        ),
                        deadline.saturating_add(grace),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// When an off-track target (at `at`) began to read off track: the first actual of the
/// trailing run of actuals behind plan, or the quarter mark when the run reaches back to
/// before any actual. Each actual is judged by [`targets::status`] on its own, just after
/// it was measured, exactly as the status at `at` judges the last one.
fn off_track_since(settings: &MaturitySettings, target: &Target, at: EpochMs) -> EpochMs {
    let mut actuals: Vec<_> = target
        .actuals
        .iter()
        .filter(|a| a.time < at)
        .copied()
        .collect();
    actuals.sort_by_key(|a| a.time);
    let mut probe = Target {
        actuals: Vec::new(),
        verification: None,
        ..target.clone()
    };
    let mut since = at;
    for a in actuals.iter().rev() {
        probe.actuals = vec![*a];
        if targets::status(settings, &probe, a.time.saturating_add(1)) != TargetStatus::OffTrack {
            return since;
        }
        since = a.time;
    }
    // Before any actual: off track from the first instant the rule without actuals says so.
    probe.actuals.clear();
    let off = |x: EpochMs| targets::status(settings, &probe, x) == TargetStatus::OffTrack;
    if !off(since) {
        return since;
    }
    let (mut lo, mut hi) = (target.start_at.min(since), since);
    if off(lo) {
        return lo;
    }
    // Invariant: on track at lo, off track at hi.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if off(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    lo
}

/// The decision's suggested outcome ([`suggest::suggested`]), when it was evaluated before
/// `at` (or says not when).
fn suggestion(decision: &Event, at: EpochMs) -> Option<SuggestedOutcome> {
    suggest::suggested(decision).filter(|s| s.evaluated_at.is_none_or(|t| t < at))
}

/// A result in words.
fn result_words(r: OutcomeResult) -> &'static str {
    match r {
        OutcomeResult::Confirmed => "confirmed",
        OutcomeResult::NotConfirmed => "not confirmed",
        OutcomeResult::Inconclusive => "inconclusive",
    }
}

/// `follow_up_due`, `follow_up_overdue`, `outcome_suggested`.
fn decision_items(
    settings: &MaturitySettings,
    team: &Team,
    follow_ups: &[FollowUp<'_>],
    at: EpochMs,
    out: &mut Vec<AgendaItem>,
) {
    let cadence = cadence_ms(team);
    // Follow-ups that fell due before the window no longer count for the ladder (level 6 b);
    // `followUps` and `followUpsOverdue` still list them.
    let horizon = at.saturating_sub(settings.window_ms());
    let mut seen = HashSet::new();
    for f in follow_ups {
        let d = f.decision;
        if d.kind != EventKind::Decision
            || d.team.as_deref() != Some(team.id.as_str())
            || f.status == FollowUpStatus::Done
            || f.follow_up_at < horizon
            || !seen.insert(d.id.as_str())
        {
            continue;
        }
        let owner = d
            .data
            .get("owner")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| format!(" (owner {o})"))
            .unwrap_or_default();
        let name = format!("Decision {}{owner}", quote(&d.text, &d.id));
        let when = if f.follow_up_at < at {
            format!("was due for follow-up {} ago", span(at - f.follow_up_at))
        } else {
            format!("is due for follow-up in {}", span(f.follow_up_at - at))
        };
        let item = |item: ItemKind, detail: String, since: EpochMs| AgendaItem {
            team: team.id.clone(),
            item,
            subject: d.id.clone(),
            detail,
            since,
            dashboard_uid: d.dashboard_uid.clone(),
        };
        if let Some(s) = suggestion(d, at) {
            let numbers = match (s.before, s.after) {
                (Some(b), Some(a)) => format!(" ({} before → {} after)", number(b), number(a)),
                (Some(b), None) => format!(" ({} before)", number(b)),
                (None, Some(a)) => format!(" ({} after)", number(a)),
                (None, None) => String::new(),
            };
            out.push(item(
                ItemKind::OutcomeSuggested,
                format!(
                    "{name} {when}; suggested: {}{numbers}",
                    result_words(s.result)
                ),
                s.evaluated_at.unwrap_or(f.follow_up_at.min(at)),
            ));
        } else if f.status == FollowUpStatus::Overdue {
            if f.follow_up_at >= at.saturating_sub(cadence) {
                out.push(item(
                    ItemKind::FollowUpDue,
                    format!("{name} {when}"),
                    f.follow_up_at,
                ));
            } else {
                out.push(item(
                    ItemKind::FollowUpOverdue,
                    format!(
                        "{name} {when} and has no outcome; the cadence is {}",
                        days(team.cadence_days)
                    ),
                    f.follow_up_at.saturating_add(cadence),
                ));
            }
        }
    }
}

/// A decision's text in quotes (at most 80 characters), or its id when it has none.
fn quote(text: &str, id: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return id.to_string();
    }
    let mut short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("'{short}'")
}

/// A number for people: at most three decimals, no trailing zeros.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

/// A number with its unit ("9.5 ms", "12%").
fn amount(v: f64, unit: Option<&str>) -> String {
    match unit.map(str::trim).filter(|u| !u.is_empty()) {
        Some("%") => format!("{}%", number(v)),
        Some(u) => format!("{} {u}", number(v)),
        None => number(v),
    }
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// "1 day" / "7 days".
fn days(n: u32) -> String {
    plural(i64::from(n), "day")
}

/// A duration in words: minutes below an hour, hours below two days, else days (with the
/// remaining hours below ten days).
fn span(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < MINUTE_MS {
        return "less than a minute".to_string();
    }
    if ms < HOUR_MS {
        return plural(ms / MINUTE_MS, "minute");
    }
    if ms < 2 * DAY_MS {
        return plural(ms / HOUR_MS, "hour");
    }
    let (d, h) = (ms / DAY_MS, (ms % DAY_MS) / HOUR_MS);
    if d < 10 && h > 0 {
        format!("{} {}", plural(d, "day"), plural(h, "hour"))
    } else {
        plural(d, "day")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{
        decision_due, ev, for_team, outcome, target, team, verified, view, D, T, W,
    };
    use crate::model::{Actual, Verdict};
    use serde_json::json;

    const H: i64 = 3_600_000;

    fn s() -> MaturitySettings {
        MaturitySettings::default()
    }

    fn run(teams: &[Team], events: &[Event], targets: &[Target]) -> Vec<AgendaItem> {
        agenda(&s(), teams, events, targets, T)
    }

    /// A review of `pay` that keeps its review from lapsing.
    fn fresh_review() -> Event {
        ev("fresh", EventKind::Review, T - H)
    }

    fn of(items: &[AgendaItem], kind: ItemKind) -> Vec<&AgendaItem> {
        items.iter().filter(|i| i.item == kind).collect()
    }

    fn only(items: &[AgendaItem], kind: ItemKind) -> &AgendaItem {
        let found = of(items, kind);
        assert_eq!(found.len(), 1, "one {} in {items:#?}", kind.as_str());
        found[0]
    }

    fn with_data(mut e: Event, data: Value) -> Event {
        if let Value::Object(m) = data {
            e.data.extend(m);
        }
        e
    }

    fn with_actuals(mut t: Target, actuals: &[(i64, f64)]) -> Target {
        t.actuals = actuals
            .iter()
            .map(|&(time, value)| Actual { time, value })
            .collect();
        t
    }

    #[test]
    fn nothing_to_discuss_is_an_empty_agenda() {
        assert!(run(&[], &[], &[]).is_empty());
        assert!(run(&[team("pay")], &[fresh_review()], &[]).is_empty());
    }

    #[test]
    fn review_lapsed_appears_past_the_cadence_and_disappears_with_a_review() {
        let r = ev("r", EventKind::Review, T - 9 * D);
        let items = run(&[team("pay")], std::slice::from_ref(&r), &[]);
        let i = only(&items, ItemKind::ReviewLapsed);
        assert_eq!(
            (i.subject.as_str(), i.dashboard_uid.as_deref(), i.since),
            ("pay", None, T - 2 * D)
        );
        assert_eq!(
            i.detail,
            "No review of team pay for 9 days; the cadence is 7 days"
        );
        // Exactly one cadence is not yet lapsed.
        let on_time = ev("r", EventKind::Review, T - 7 * D);
        assert!(of(
            &run(&[team("pay")], &[on_time], &[]),
            ItemKind::ReviewLapsed
        )
        .is_empty());
        // Dealt with: a review (or a member's view of the team's dashboard) now.
        for fix in [fresh_review(), view("v", T - H, "slo-pay", "bob")] {
            let items = run(&[team("pay")], &[r.clone(), fix], &[]);
            assert!(of(&items, ItemKind::ReviewLapsed).is_empty(), "{items:#?}");
        }
        // A stranger's view is no review.
        let items = run(
            &[team("pay")],
            &[r, view("v", T - H, "slo-pay", "mallory")],
            &[],
        );
        assert_eq!(of(&items, ItemKind::ReviewLapsed).len(), 1);
    }

    #[test]
    fn a_team_never_reviewed_in_the_window_reads_as_the_whole_window() {
        let items = run(&[team("pay")], &[], &[]);
        let i = only(&items, ItemKind::ReviewLapsed);
        assert_eq!(i.since, T - W + 7 * D);
        assert_eq!(
            i.detail,
            "No review of team pay in the last 12 weeks; the cadence is 7 days"
        );
    }

    #[test]
    fn review_lapsed_names_each_dashboard_that_lapsed_while_the_team_did_not() {
        let mut pay = team("pay");
        pay.dashboards = vec!["d1".into(), "d2".into(), "d3".into()];
        let events = [
            with_data(
                ev("r1", EventKind::Review, T - D),
                json!({"dashboards": ["d1"]}),
            ),
            ev("r-all", EventKind::Review, T - 9 * D - 2 * H),
            view("v3", T - 2 * D, "d3", "alice"),
        ];
        let items = run(&[pay.clone()], &events, &[]);
        let lapsed = of(&items, ItemKind::ReviewLapsed);
        assert_eq!(lapsed.len(), 1, "{items:#?}");
        assert_eq!(
            (
                lapsed[0].subject.as_str(),
                lapsed[0].dashboard_uid.as_deref()
            ),
            ("d2", Some("d2"))
        );
        assert_eq!(lapsed[0].since, T - 2 * D - 2 * H);
        assert_eq!(
            lapsed[0].detail,
            "No review of d2 for 9 days 2 hours; the cadence is 7 days"
        );
        // Marking d2 reviewed (the panel's review names its dashboard) deals with it.
        let mut fixed = events.to_vec();
        fixed.push(with_data(
            ev("r2", EventKind::Review, T - H),
            json!({"dashboards": ["d2"]}),
        ));
        assert!(of(&run(&[pay], &fixed, &[]), ItemKind::ReviewLapsed).is_empty());
    }

    #[test]
    fn level_dropped_since_the_last_review_names_the_criterion_and_goes_with_a_review() {
        // At the review (10 days ago) the question counted: level 1; now it has left the
        // window: level 0.
        let q = ev("q", EventKind::Question, T - 85 * D - H);
        let r = ev("r", EventKind::Review, T - 10 * D);
        let items = run(&[team("pay")], &[q.clone(), r.clone()], &[]);
        let i = only(&items, ItemKind::LevelDropped);
        assert_eq!(i.subject, "adhoc_queries");
        assert_eq!(i.since, T - D, "the first daily step at which it was below");
        assert!(
            i.detail.starts_with(
                "Level 1 → 0 since the review recorded 10 days ago: adhoc_queries fails ("
            ),
            "{}",
            i.detail
        );
        assert!(i.detail.contains("question"), "{}", i.detail);
        // Dealt with: a review now (the level it sees is today's) ...
        let items = run(&[team("pay")], &[q.clone(), r.clone(), fresh_review()], &[]);
        assert!(of(&items, ItemKind::LevelDropped).is_empty(), "{items:#?}");
        // ... or a question that lifts the level back.
        let again = ev("q2", EventKind::Question, T - 2 * D);
        let items = run(&[team("pay")], &[q, r, again], &[]);
        assert!(of(&items, ItemKind::LevelDropped).is_empty(), "{items:#?}");
    }

    #[test]
    fn without_a_review_the_level_is_compared_with_one_cadence_ago() {
        let q = ev("q", EventKind::Question, T - 88 * D);
        let items = run(&[team("pay")], std::slice::from_ref(&q), &[]);
        let i = only(&items, ItemKind::LevelDropped);
        assert!(
            i.detail
                .starts_with("Level 1 → 0 in the last 7 days (no review recorded in the last 12 weeks): adhoc_queries fails"),
            "{}",
            i.detail
        );
        assert_eq!(i.since, T - 3 * D);
        // A question older than one cadence plus the window never counted: no drop.
        let older = ev("q", EventKind::Question, T - 92 * D);
        assert!(of(&run(&[team("pay")], &[older], &[]), ItemKind::LevelDropped).is_empty());
        // A passive view does not move the reference.
        let items = run(
            &[team("pay")],
            &[q, view("v", T - H, "slo-pay", "alice")],
            &[],
        );
        assert_eq!(of(&items, ItemKind::LevelDropped).len(), 1);
    }

    #[test]
    fn target_off_track_since_the_run_of_actuals_behind_plan_until_one_is_back_on_it() {
        // 10 → 8 over 100 days, tolerance 0.2; the plan is 9.8 at −40 d, 9.4 at −20 d, 9.2 at −10 d.
        let t = with_actuals(
            target("lat", T - 50 * D, T + 50 * D),
            &[(T - 40 * D, 9.8), (T - 20 * D, 9.9), (T - 10 * D, 9.7)],
        );
        let items = run(&[team("pay")], &[fresh_review()], std::slice::from_ref(&t));
        let i = only(&items, ItemKind::TargetOffTrack);
        assert_eq!((i.subject.as_str(), i.since), ("lat", T - 20 * D));
        assert_eq!(
            i.detail,
            "'lat' is behind plan: the last actual, 9.7 (10 days ago), against 9.2 planned then; target 8 in 50 days"
        );
        // Dealt with: an actual back on the glide path.
        let back = with_actuals(
            t.clone(),
            &[
                (T - 40 * D, 9.8),
                (T - 20 * D, 9.9),
                (T - 10 * D, 9.7),
                (T - H, 9.0),
            ],
        );
        assert!(of(&run(&[team("pay")], &[], &[back]), ItemKind::TargetOffTrack).is_empty());
        // An actual at T is not known at T.
        let at_t = with_actuals(t, &[(T - 10 * D, 9.7), (T, 9.0)]);
        assert_eq!(
            of(&run(&[team("pay")], &[], &[at_t]), ItemKind::TargetOffTrack).len(),
            1
        );
    }

    #[test]
    fn a_target_without_actuals_is_off_track_from_its_quarter_mark() {
        let mut t = target("lat", T - 50 * D, T + 50 * D);
        t.unit = Some("ms".into());
        let items = run(&[team("pay")], &[fresh_review()], std::slice::from_ref(&t));
        let i = only(&items, ItemKind::TargetOffTrack);
        assert_eq!(i.since, T - 25 * D);
        assert_eq!(
            i.detail,
            "'lat' has no actual yet, 50 days into a project of 100 days; target 8 ms in 50 days"
        );
        // A first actual that is behind too continues the run back to the quarter mark.
        let late = with_actuals(t, &[(T - 10 * D, 9.9)]);
        let items = run(&[team("pay")], &[], &[late]);
        assert_eq!(only(&items, ItemKind::TargetOffTrack).since, T - 25 * D);
    }

    #[test]
    fn a_passed_deadline_is_target_due_within_the_grace_then_verification_due_until_verified() {
        let due = with_actuals(target("soon", T - 103 * D, T - 3 * D), &[(T - 4 * D, 9.0)]);
        let late = target("late", T - 120 * D, T - 20 * D);
        let items = run(
            &[team("pay")],
            &[fresh_review()],
            &[due.clone(), late.clone()],
        );
        let i = only(&items, ItemKind::TargetDue);
        assert_eq!((i.subject.as_str(), i.since), ("soon", T - 3 * D));
        assert_eq!(
            i.detail,
            "'soon' passed its deadline 3 days ago (target 8, last actual 9): record its verification; level 7 counts it as unverified in 11 days"
        );
        let v = only(&items, ItemKind::VerificationDue);
        assert_eq!((v.subject.as_str(), v.since), ("late", T - 6 * D));
        assert_eq!(
            v.detail,
            "'late' passed its deadline 20 days ago (target 8, last actual none) and nobody verified it; the grace is 14 days"
        );
        // Dealt with: a verification before T (one at T is not yet known).
        let items = run(
            &[team("pay")],
            &[],
            &[
                verified(due, T - H, Verdict::Missed, "too slow"),
                verified(late, T, Verdict::Met, ""),
            ],
        );
        assert!(of(&items, ItemKind::TargetDue).is_empty());
        assert_eq!(of(&items, ItemKind::VerificationDue).len(), 1);
        // Undefined targets are not on the agenda.
        let mut undefined = target("u", T - 120 * D, T - 20 * D);
        undefined.baseline = None;
        assert!(run(&[team("pay")], &[fresh_review()], &[undefined]).is_empty());
    }

    #[test]
    fn what_the_ladder_no_longer_counts_is_left_to_the_alerting_queries() {
        // A follow-up due before the window, a deadline before the loopback: their
        // followUpsOverdue / verificationDue rows stay, the agenda does not repeat them.
        let old = decision_due("old", T - 100 * D, T - W - H);
        let edge = decision_due("edge", T - 100 * D, T - W);
        let ancient = target("ancient", T - 300 * D, T - 183 * D);
        let recent = target("recent", T - 300 * D, T - 182 * D);
        let items = run(
            &[team("pay")],
            &[fresh_review(), old, edge],
            &[ancient, recent],
        );
        let got: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i.item.as_str(), i.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("verification_due", "recent"),
                ("follow_up_overdue", "edge")
            ]
        );
    }

    #[test]
    fn follow_ups_are_due_within_a_cadence_overdue_past_it_and_gone_with_an_outcome() {
        let mut d1 = decision_due("d1", T - 20 * D, T - 3 * D);
        d1.text = "Retry soft declines".into();
        d1.dashboard_uid = Some("slo-pay".into());
        let d1 = with_data(d1, json!({"owner": "alice"}));
        let d2 = decision_due("d2", T - 30 * D, T - 10 * D);
        let edge = decision_due("edge", T - 30 * D, T - 7 * D);
        let open = decision_due("open", T - D, T + 2 * D);
        let other = for_team(decision_due("other", T - 30 * D, T - 10 * D), "search");
        let events = [fresh_review(), d1, d2, edge, open, other];
        let items = run(&[team("pay")], &events, &[]);
        let due = of(&items, ItemKind::FollowUpDue);
        assert_eq!(due.len(), 2, "{items:#?}");
        assert_eq!(
            (
                due[1].subject.as_str(),
                due[1].since,
                due[1].dashboard_uid.as_deref()
            ),
            ("d1", T - 3 * D, Some("slo-pay"))
        );
        assert_eq!(
            due[1].detail,
            "Decision 'Retry soft declines' (owner alice) was due for follow-up 3 days ago"
        );
        assert_eq!((due[0].subject.as_str(), due[0].since), ("edge", T - 7 * D));
        let overdue = only(&items, ItemKind::FollowUpOverdue);
        assert_eq!((overdue.subject.as_str(), overdue.since), ("d2", T - 3 * D));
        assert_eq!(
            overdue.detail,
            "Decision d2 was due for follow-up 10 days ago and has no outcome; the cadence is 7 days"
        );
        // Dealt with: outcomes naming them (of any team, as the ladder counts them).
        let mut fixed = events.to_vec();
        fixed.push(outcome("o1", T - H, "d1"));
        fixed.push(for_team(outcome("o2", T - H, "d2"), "search"));
        fixed.push(outcome("o3", T - H, "edge"));
        let items = run(&[team("pay")], &fixed, &[]);
        assert!(items.is_empty(), "{items:#?}");
        // An outcome at T is not yet known.
        let mut at_t = events.to_vec();
        at_t.push(outcome("o1", T, "d1"));
        assert_eq!(
            of(&run(&[team("pay")], &at_t, &[]), ItemKind::FollowUpDue).len(),
            2
        );
    }

    #[test]
    fn a_suggested_outcome_replaces_the_follow_up_item_until_an_outcome_is_posted() {
        let mut d = decision_due("d3", T - 20 * D, T - 2 * D);
        d.text = "Retry soft declines".into();
        let suggested = |s: Value| with_data(d.clone(), json!({"suggestedOutcome": s}));
        let s1 = suggested(
            json!({"result": "not_confirmed", "before": 2.1, "after": 2.35, "evaluatedAt": T - 2 * D + H}),
        );
        let items = run(&[team("pay")], &[fresh_review(), s1.clone()], &[]);
        assert_eq!(items.len(), 1, "{items:#?}");
        let i = only(&items, ItemKind::OutcomeSuggested);
        assert_eq!((i.subject.as_str(), i.since), ("d3", T - 2 * D + H));
        assert_eq!(
            i.detail,
            "Decision 'Retry soft declines' was due for follow-up 2 days ago; suggested: not confirmed (2.1 before → 2.35 after)"
        );
        // RFC 3339 times, other results, a suggestion before the follow-up falls due.
        let s2 =
            suggested(json!({"result": "inconclusive", "evaluatedAt": "2026-05-30T00:00:00Z"}));
        let i = run(&[team("pay")], &[fresh_review(), s2], &[]).remove(0);
        assert_eq!((i.item, i.since), (ItemKind::OutcomeSuggested, T - 2 * D));
        assert!(
            i.detail.ends_with("; suggested: inconclusive"),
            "{}",
            i.detail
        );
        let mut early = decision_due("d4", T - D, T + 2 * D);
        early.data.insert(
            "suggestedOutcome".into(),
            json!({"result": "confirmed", "before": 1, "after": 3}),
        );
        let i = run(&[team("pay")], &[fresh_review(), early], &[]).remove(0);
        assert_eq!(i.item, ItemKind::OutcomeSuggested);
        assert_eq!(i.since, T);
        assert_eq!(
            i.detail,
            "Decision d4 is due for follow-up in 2 days; suggested: confirmed (1 before → 3 after)"
        );
        // A suggestion evaluated at or after T, or naming no known result, is not one.
        for not_yet in [
            json!({"result": "confirmed", "evaluatedAt": T}),
            json!({"result": "maybe"}),
            json!("confirmed"),
        ] {
            let items = run(&[team("pay")], &[fresh_review(), suggested(not_yet)], &[]);
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].item, ItemKind::FollowUpDue);
        }
        // Dealt with: the outcome a person posts.
        let items = run(
            &[team("pay")],
            &[fresh_review(), s1, outcome("o", T - H, "d3")],
            &[],
        );
        assert!(items.is_empty(), "{items:#?}");
    }

    fn item(team: &str, kind: ItemKind, subject: &str, since: EpochMs) -> AgendaItem {
        AgendaItem {
            team: team.into(),
            item: kind,
            subject: subject.into(),
            detail: String::new(),
            since,
            dashboard_uid: None,
        }
    }

    #[test]
    fn the_order_is_overdue_then_due_then_suggestions_oldest_first_ties_by_team_item_subject() {
        let mut items = vec![
            item("a", ItemKind::OutcomeSuggested, "d9", T - 30 * D),
            item("a", ItemKind::FollowUpDue, "d1", T - 2 * D),
            item("b", ItemKind::ReviewLapsed, "b", T - D),
            item("a", ItemKind::TargetOffTrack, "t", T - 5 * D),
            item("a", ItemKind::FollowUpOverdue, "d2", T - 3 * D),
            item("b", ItemKind::VerificationDue, "t2", T - 3 * D),
            item("a", ItemKind::VerificationDue, "t3", T - 3 * D),
            item("a", ItemKind::LevelDropped, "regular_reviews", T - 2 * D),
            item("a", ItemKind::TargetDue, "t1", T - 2 * D),
            item("a", ItemKind::FollowUpDue, "d0", T - 2 * D),
        ];
        let want: Vec<(String, &str, String)> = [
            ("a", "follow_up_overdue", "d2"),
            ("a", "verification_due", "t3"),
            ("b", "verification_due", "t2"),
            ("b", "review_lapsed", "b"),
            ("a", "target_off_track", "t"),
            ("a", "follow_up_due", "d0"),
            ("a", "follow_up_due", "d1"),
            ("a", "level_dropped", "regular_reviews"),
            ("a", "target_due", "t1"),
            ("a", "outcome_suggested", "d9"),
        ]
        .into_iter()
        .map(|(t, i, s)| (t.to_string(), i, s.to_string()))
        .collect();
        let key = |v: &[AgendaItem]| -> Vec<(String, &'static str, String)> {
            v.iter()
                .map(|i| (i.team.clone(), i.item.as_str(), i.subject.clone()))
                .collect()
        };
        sort(&mut items);
        assert_eq!(key(&items), want);
        items.reverse();
        sort(&mut items);
        assert_eq!(key(&items), want, "stable whatever the input order");
    }

    #[test]
    fn the_agenda_of_many_teams_does_not_depend_on_the_order_of_its_evidence() {
        let teams = [team("pay"), team("search")];
        let mut events = vec![
            ev("r", EventKind::Review, T - 9 * D),
            decision_due("d1", T - 20 * D, T - 3 * D),
            for_team(decision_due("d2", T - 30 * D, T - 10 * D), "search"),
            for_team(ev("rs", EventKind::Review, T - D), "search"),
        ];
        let targets = vec![
            target("lat", T - 50 * D, T + 50 * D),
            Target {
                team: "search".into(),
                ..target("late", T - 120 * D, T - 20 * D)
            },
        ];
        let a = run(&teams, &events, &targets);
        events.reverse();
        let b = run(&[team("search"), team("pay")], &events, &targets);
        assert_eq!(a, b);
        let got: Vec<(&str, &str, &str)> = a
            .iter()
            .map(|i| (i.team.as_str(), i.item.as_str(), i.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("search", "verification_due", "late"),
                ("search", "follow_up_overdue", "d2"),
                ("pay", "review_lapsed", "pay"),
                ("pay", "target_off_track", "lat"),
                ("pay", "follow_up_due", "d1"),
            ]
        );
    }

    #[test]
    fn durations_and_numbers_read_as_people_write_them() {
        assert_eq!(span(30_000), "less than a minute");
        assert_eq!(span(MINUTE_MS), "1 minute");
        assert_eq!(span(5 * H), "5 hours");
        assert_eq!(span(47 * H), "47 hours");
        assert_eq!(span(2 * D), "2 days");
        assert_eq!(span(7 * D + 3 * H), "7 days 3 hours");
        assert_eq!(span(12 * D + 3 * H), "12 days");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(9.8000001), "9.8");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(amount(12.5, Some("%")), "12.5%");
        assert_eq!(amount(12.5, Some("ms")), "12.5 ms");
        assert_eq!(quote("  a \n b ", "id"), "'a b'");
        assert_eq!(quote("", "id"), "id");
        assert_eq!(quote(&"é".repeat(90), "id").chars().count(), 83);
    }
}
