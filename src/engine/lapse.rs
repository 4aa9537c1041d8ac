//! How long since a team (or one of its dashboards) was last reviewed: the numbers of the
//! alertable `reviewLapse` query (SPEC §4.1).
//!
//! Per dashboard, review evidence is a counting `view` of that dashboard, or a `review` of
//! the team whose `data.dashboards` names it; a review that names no dashboards (field
//! absent, not an array, or an empty array) covered the team's dashboards as a whole and
//! counts for each of them.

use serde_json::Value;

use crate::model::{EpochMs, Event, EventKind, EventRef, Team};

use super::evidence::{belongs_to, counts_as_review_evidence, view_counts};
use super::settings::MaturitySettings;

const HOUR_MS: f64 = 3_600_000.0;

/// Whether `event` is review evidence for `team`, restricted to `dashboard` when given.
pub fn counts_for_dashboard<'e>(
    team: &Team,
    event: impl Into<EventRef<'e>>,
    dashboard: Option<&str>,
) -> bool {
    let event = event.into();
    let Some(uid) = dashboard else {
        return counts_as_review_evidence(team, event);
    };
    match event.kind() {
        EventKind::View => view_counts(team, event) && event.dashboard_uid() == Some(uid),
        EventKind::Review => belongs_to(team, event) && review_covers(event, uid),
        _ => false,
    }
}

/// Whether a review covered dashboard `uid` (see the module doc).
fn review_covers(event: EventRef<'_>, uid: &str) -> bool {
    match event.data().get("dashboards") {
        Some(Value::Array(list)) if !list.is_empty() => {
            list.iter().any(|v| v.as_str() == Some(uid))
        }
        _ => true,
    }
}

/// The latest review evidence in the window `[at − W, at)` (for one dashboard when given):
/// greatest time, ties broken by the greater id so the answer never depends on order.
pub fn last_review_evidence<'e>(
    settings: &MaturitySettings,
    team: &Team,
    events: &'e [Event],
    at: EpochMs,
    dashboard: Option<&str>,
) -> Option<&'e Event> {
    let from = at.saturating_sub(settings.window_ms());
    events
        .iter()
        .filter(|e| e.time >= from && e.time < at && counts_for_dashboard(team, *e, dashboard))
        .max_by(|a, b| (a.time, a.id.as_str()).cmp(&(b.time, b.id.as_str())))
}

/// Hours from the last review evidence in the window to `at` (fractional); the whole
/// window, `windowWeeks · 168`, when there is none in it.
pub fn hours_since_review(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    at: EpochMs,
    dashboard: Option<&str>,
) -> f64 {
    match last_review_evidence(settings, team, events, at, dashboard) {
        Some(e) => (i128::from(at) - i128::from(e.time)) as f64 / HOUR_MS,
        None => f64::from(settings.window_weeks) * 168.0,
    }
}

/// The times of a team's review evidence, for the team as a whole and for each of its
/// dashboards (in the team's order), ascending: all that [`hours_since_review`] needs from
/// events, so a cache can keep it instead of the events (issue 15).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewTimes {
    team: Vec<EpochMs>,
    dashboards: Vec<Vec<EpochMs>>,
}

impl ReviewTimes {
    /// The kinds of event [`ReviewTimes::new`] reads (it skips the others).
    pub const KINDS: [EventKind; 2] = [EventKind::Review, EventKind::View];

    /// The review evidence of `team` among `events` (any order, any team).
    pub fn new<'e, E: Into<EventRef<'e>>>(
        team: &Team,
        events: impl IntoIterator<Item = E>,
    ) -> Self {
        let mut times = ReviewTimes {
            team: Vec::new(),
            dashboards: vec![Vec::new(); team.dashboards.len()],
        };
        for e in events {
            let e = e.into();
            if !counts_as_review_evidence(team, e) {
                continue;
            }
            times.team.push(e.time());
            for (uid, list) in team.dashboards.iter().zip(&mut times.dashboards) {
                if counts_for_dashboard(team, e, Some(uid)) {
                    list.push(e.time());
                }
            }
        }
        times.team.sort_unstable();
        for list in &mut times.dashboards {
            list.sort_unstable();
        }
        times
    }

    /// [`hours_since_review`] at `at`, for the team or for its dashboard number `dashboard`
    /// (its place in `team.dashboards`), from evidence read from `at − W` on.
    pub fn hours_since_review(
        &self,
        settings: &MaturitySettings,
        at: EpochMs,
        dashboard: Option<usize>,
    ) -> f64 {
        let times = match dashboard {
            None => &self.team,
            Some(i) => self.dashboards.get(i).map_or(&[][..], Vec::as_slice),
        };
        let from = at.saturating_sub(settings.window_ms());
        let before = times.partition_point(|&t| t < at);
        match before.checked_sub(1).map(|i| times[i]) {
            Some(t) if t >= from => (i128::from(at) - i128::from(t)) as f64 / HOUR_MS,
            _ => f64::from(settings.window_weeks) * 168.0,
        }
    }
}

/// [`hours_since_review`] minus the team's cadence in hours (`cadenceDays · 24`): above 0
/// means a review is overdue, whatever the cadence.
pub fn hours_overdue(
    settings: &MaturitySettings,
    team: &Team,
    events: &[Event],
    at: EpochMs,
    dashboard: Option<&str>,
) -> f64 {
    hours_since_review(settings, team, events, at, dashboard) - f64::from(team.cadence_days) * 24.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Source, DAY_MS};
    use serde_json::{json, Map};

    const T: EpochMs = 1_780_272_000_000;

    fn team() -> Team {
        Team {
            id: "pay".into(),
            name: "Pay".into(),
            dashboards: vec!["d1".into(), "d2".into()],
            members: vec!["alice".into()],
            cadence_days: 7,
            created_at: 0,
        }
    }

    fn ev(id: &str, kind: EventKind, time: EpochMs, dash: Option<&str>, data: Value) -> Event {
        Event {
            id: id.into(),
            kind,
            time,
            time_end: None,
            team: Some("pay".into()),
            dashboard_uid: dash.map(str::to_string),
            panel_id: None,
            user: "alice".into(),
            text: String::new(),
            tags: vec![],
            data: match data {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            source: Source::Api,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn no_evidence_in_the_window_reads_as_the_whole_window() {
        let s = MaturitySettings::default();
        let old = ev("old", EventKind::Review, T - 85 * DAY_MS, None, json!({}));
        assert_eq!(
            hours_since_review(&s, &team(), &[old], T, None),
            12.0 * 168.0
        );
        assert_eq!(
            hours_overdue(&s, &team(), &[], T, None),
            12.0 * 168.0 - 7.0 * 24.0
        );
    }

    #[test]
    fn the_window_start_counts_and_t_itself_does_not() {
        let s = MaturitySettings::default();
        let at_start = ev("s", EventKind::Review, T - 84 * DAY_MS, None, json!({}));
        let at_t = ev("t", EventKind::Review, T, None, json!({}));
        let events = [at_start, at_t];
        assert_eq!(
            hours_since_review(&s, &team(), &events, T, None),
            84.0 * 24.0
        );
    }

    #[test]
    fn hours_are_fractional_and_take_the_latest() {
        let s = MaturitySettings::default();
        let events = [
            ev("a", EventKind::Review, T - 10 * DAY_MS, None, json!({})),
            ev("b", EventKind::View, T - 90 * 60_000, Some("d1"), json!({})),
        ];
        assert_eq!(hours_since_review(&s, &team(), &events, T, None), 1.5);
    }

    #[test]
    fn per_dashboard_views_count_for_their_dashboard_and_reviews_for_those_they_name() {
        let s = MaturitySettings::default();
        let events = [
            ev("v1", EventKind::View, T - DAY_MS, Some("d1"), json!({})),
            ev(
                "r2",
                EventKind::Review,
                T - 2 * DAY_MS,
                None,
                json!({"dashboards": ["d2"]}),
            ),
            ev("r-all", EventKind::Review, T - 3 * DAY_MS, None, json!({})),
        ];
        let t = team();
        assert_eq!(hours_since_review(&s, &t, &events, T, Some("d1")), 24.0);
        assert_eq!(hours_since_review(&s, &t, &events, T, Some("d2")), 48.0);
        assert_eq!(hours_since_review(&s, &t, &events, T, None), 24.0);
        // Only the unscoped review covers a dashboard nobody viewed or named.
        let only_named = [events[1].clone(), events[2].clone()];
        assert_eq!(hours_since_review(&s, &t, &only_named, T, Some("d1")), 72.0);
    }

    #[test]
    fn views_by_non_members_and_other_teams_reviews_do_not_count() {
        let s = MaturitySettings::default();
        let mut stranger = ev("v", EventKind::View, T - DAY_MS, Some("d1"), json!({}));
        stranger.user = "mallory".into();
        let mut other = ev("r", EventKind::Review, T - DAY_MS, None, json!({}));
        other.team = Some("search".into());
        let q = ev("q", EventKind::Question, T - DAY_MS, None, json!({}));
        assert_eq!(
            last_review_evidence(&s, &team(), &[stranger, other, q], T, None),
            None
        );
    }

    proptest::proptest! {
        /// The kept review times answer as the events do, at every instant from the start
        /// of their read on, for the team and for each dashboard (issue 15's lapse cache).
        #[test]
        fn review_times_answer_as_the_events_do(
            raw in proptest::collection::vec(
                (0u8..4, 0i64..200, 0u8..4, 0u8..3, 0u8..4), 0..40),
            read_at in 0i64..200,
            later in proptest::collection::vec(0i64..300, 1..8),
        ) {
            let s = MaturitySettings { window_weeks: 4, ..MaturitySettings::default() };
            let t = team();
            let events: Vec<Event> = raw.iter().enumerate().map(|(i, &(kind, day, dash, user, scope))| {
                let kind = [EventKind::Review, EventKind::View, EventKind::Question, EventKind::Review][kind as usize];
                let dash = ["d1", "d2", "elsewhere", ""][dash as usize];
                let data = match scope {
                    0 => json!({}),
                    1 => json!({"dashboards": ["d2"]}),
                    2 => json!({"dashboards": []}),
                    _ => json!({"dashboards": ["d1", "x"]}),
                };
                let mut e = ev(&format!("e{i}"), kind, T + day * 3 * 3_600_000, (!dash.is_empty()).then_some(dash), data);
                e.user = ["alice", "mallory", "alice"][user as usize].into();
                if user == 2 { e.team = Some("search".into()); }
                e
            }).collect();
            let read_at = T + read_at * 3 * 3_600_000;
            let read_from = read_at - s.window_ms();
            let kept = ReviewTimes::new(&t, events.iter().filter(|e| e.time >= read_from));
            for dt in later {
                let at = read_at + dt * 3_600_000;
                proptest::prop_assert_eq!(kept.hours_since_review(&s, at, None), hours_since_review(&s, &t, &events, at, None));
                for (i, d) in t.dashboards.iter().enumerate() {
                    proptest::prop_assert_eq!(kept.hours_since_review(&s, at, Some(i)), hours_since_review(&s, &t, &events, at, Some(d)));
                }
            }
        }
    }
}
