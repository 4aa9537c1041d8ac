//! Which evidence counts for a team (SPEC §5), indexed once so that many instants `T` can
//! be evaluated cheaply (`maturityHistory`).

use std::collections::HashMap;

use crate::model::{EpochMs, Event, EventKind, EventRef, Target, Team};

use super::settings::{days_ms, MaturitySettings};

/// Whether `event` is review evidence for `team`: a `review` whose `team` is the team's
/// id, or a `view` of one of the team's dashboards by a member (anyone when the team
/// lists no members). A view's own `team` field is ignored, as SPEC §5 says.
pub fn counts_as_review_evidence<'e>(team: &Team, event: impl Into<EventRef<'e>>) -> bool {
    let event = event.into();
    match event.kind() {
        EventKind::Review => belongs_to(team, event),
        EventKind::View => view_counts(team, event),
        _ => false,
    }
}

/// Whether a `view` counts for `team` (by dashboard and member; its `team` is ignored).
pub(crate) fn view_counts(team: &Team, event: EventRef<'_>) -> bool {
    event.kind() == EventKind::View
        && event
            .dashboard_uid()
            .is_some_and(|uid| team.dashboards.iter().any(|d| d == uid))
        && (team.members.is_empty() || team.members.iter().any(|m| m == event.user()))
}

/// Whether a non-view event is the team's (its `team` is the team's id).
pub(crate) fn belongs_to(team: &Team, event: EventRef<'_>) -> bool {
    event.team() == Some(team.id.as_str())
}

/// When a decision falls due: its `data.followUpAt`, else its time plus
/// `defaultFollowUpDays` (the setting in force at evaluation, SPEC §3.1).
pub fn follow_up_at<'e>(settings: &MaturitySettings, decision: impl Into<EventRef<'e>>) -> EpochMs {
    let decision = decision.into();
    decision.follow_up_at().unwrap_or_else(|| {
        decision
            .time()
            .saturating_add(days_ms(u64::from(settings.default_follow_up_days)))
    })
}

/// A decision with its due date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due<'a> {
    /// When it falls due.
    pub at: EpochMs,
    /// The decision.
    pub decision: EventRef<'a>,
}

/// The earliest outcome naming a decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FirstOutcome<'a> {
    /// Its time.
    pub time: EpochMs,
    /// Its id.
    pub id: &'a str,
}

/// One team's evidence out of a superset of events and targets, each list sorted by
/// `(time, id)` so that every question the ladder asks at an instant `T` is a binary
/// search. Building it is the only pass over the whole input.
#[derive(Debug, Clone)]
pub struct TeamEvidence<'a> {
    pub(crate) settings: &'a MaturitySettings,
    pub(crate) team: &'a Team,
    pub(crate) questions: Vec<EventRef<'a>>,
    pub(crate) reviews: Vec<EventRef<'a>>,
    pub(crate) views: Vec<EventRef<'a>>,
    pub(crate) metric_changes: Vec<EventRef<'a>>,
    pub(crate) decisions: Vec<EventRef<'a>>,
    /// The team's decisions ordered by due date (then time, id).
    pub(crate) due: Vec<Due<'a>>,
    /// Decision id → its earliest outcome (of any team).
    pub(crate) outcomes: ahash::AHashMap<&'a str, FirstOutcome<'a>>,
    /// The team's targets, by id.
    pub(crate) targets: Vec<&'a Target>,
}

fn by_time_id(a: &EventRef<'_>, b: &EventRef<'_>) -> std::cmp::Ordering {
    (a.time(), a.id()).cmp(&(b.time(), b.id()))
}

impl<'a> TeamEvidence<'a> {
    /// The kinds of event [`TeamEvidence::from_events`] reads (notes count for no rule).
    pub const KINDS: [EventKind; 6] = [
        EventKind::View,
        EventKind::Review,
        EventKind::Question,
        EventKind::Decision,
        EventKind::Outcome,
        EventKind::MetricChange,
    ];

    /// Picks and sorts the evidence that counts for `team` (any instant); events and
    /// targets may hold other teams' data, any times, and the same id twice (counted once).
    pub fn new(
        settings: &'a MaturitySettings,
        team: &'a Team,
        events: &'a [Event],
        targets: &'a [Target],
    ) -> Self {
        Self::from_events(settings, team, events.iter().map(EventRef::from), targets)
    }

    /// The same as [`TeamEvidence::new`] over any collection of events as the engine reads
    /// them, such as [`EvidenceIndex::for_team`]'s or a team's kept evidence.
    pub fn from_events(
        settings: &'a MaturitySettings,
        team: &'a Team,
        events: impl IntoIterator<Item = EventRef<'a>>,
        targets: &'a [Target],
    ) -> Self {
        let mut ev = TeamEvidence {
            settings,
            team,
            questions: Vec::new(),
            reviews: Vec::new(),
            views: Vec::new(),
            metric_changes: Vec::new(),
            decisions: Vec::new(),
            due: Vec::new(),
            outcomes: ahash::AHashMap::new(),
            targets: targets.iter().filter(|t| t.team == team.id).collect(),
        };
        for e in events {
            match e.kind() {
                EventKind::View if view_counts(team, e) => ev.views.push(e),
                EventKind::View => {}
                EventKind::Outcome => {
                    // Outcomes of any team count, matched by decision id.
                    if let Some(d) = e.decision_id() {
                        let first = FirstOutcome {
                            time: e.time(),
                            id: e.id(),
                        };
                        ev.outcomes
                            .entry(d)
                            .and_modify(|f| {
                                if (first.time, first.id) < (f.time, f.id) {
                                    *f = first;
                                }
                            })
                            .or_insert(first);
                    }
                }
                kind if belongs_to(team, e) => match kind {
                    EventKind::Review => ev.reviews.push(e),
                    EventKind::Question => ev.questions.push(e),
                    EventKind::MetricChange => ev.metric_changes.push(e),
                    EventKind::Decision => ev.decisions.push(e),
                    _ => {}
                },
                _ => {}
            }
        }
        for list in [
            &mut ev.questions,
            &mut ev.reviews,
            &mut ev.views,
            &mut ev.metric_changes,
            &mut ev.decisions,
        ] {
            list.sort_by(by_time_id);
            // Ids are unique in an org: the same event handed in twice (a store that
            // unions a by-team and a by-dashboard read) must count once.
            // Times first: comparing the ids of every neighbour was a fifth of a team's
            // evaluation from kept evidence (issue 15).
            list.dedup_by(|a, b| a.time() == b.time() && a.id() == b.id());
        }
        ev.due = ev
            .decisions
            .iter()
            .map(|d| Due {
                at: follow_up_at(settings, d),
                decision: *d,
            })
            .collect();
        ev.due.sort_by(|a, b| {
            (a.at, a.decision.time(), a.decision.id()).cmp(&(
                b.at,
                b.decision.time(),
                b.decision.id(),
            ))
        });
        ev.targets.sort_by(|a, b| a.id.cmp(&b.id));
        ev.targets.dedup_by(|a, b| a.id == b.id);
        ev
    }

    /// The team's events of one sorted list with `time` in `[from, to)`.
    pub(crate) fn in_range<'s>(
        list: &'s [EventRef<'a>],
        from: EpochMs,
        to: EpochMs,
    ) -> &'s [EventRef<'a>] {
        let lo = list.partition_point(|e| e.time() < from);
        let hi = list.partition_point(|e| e.time() < to);
        if lo < hi {
            &list[lo..hi]
        } else {
            &[]
        }
    }

    /// The due decisions with due date in `[from, to)`.
    pub(crate) fn due_in_range(&self, from: EpochMs, to: EpochMs) -> &[Due<'a>] {
        let lo = self.due.partition_point(|d| d.at < from);
        let hi = self.due.partition_point(|d| d.at < to);
        if lo < hi {
            &self.due[lo..hi]
        } else {
            &[]
        }
    }
}

/// Events grouped once by what can make them count for a team (SPEC §5): non-view events
/// by their `team`, views by their dashboard, outcomes by the decision they name. Evaluating
/// many teams then costs one pass over the events instead of one pass per team.
#[derive(Debug, Clone, Default)]
pub struct EvidenceIndex<'a> {
    by_team: HashMap<&'a str, Vec<&'a Event>>,
    views_by_dashboard: HashMap<&'a str, Vec<&'a Event>>,
    outcomes_by_decision: HashMap<&'a str, Vec<&'a Event>>,
}

impl<'a> EvidenceIndex<'a> {
    /// Indexes `events` (any teams, any times).
    pub fn new(events: &'a [Event]) -> Self {
        let mut index = EvidenceIndex::default();
        for e in events {
            match e.kind {
                EventKind::View => {
                    if let Some(d) = e.dashboard_uid.as_deref() {
                        index.views_by_dashboard.entry(d).or_default().push(e);
                    }
                }
                EventKind::Outcome => {
                    if let Some(d) = e.decision_id() {
                        index.outcomes_by_decision.entry(d).or_default().push(e);
                    }
                }
                _ => {
                    if let Some(t) = e.team.as_deref() {
                        index.by_team.entry(t).or_default().push(e);
                    }
                }
            }
        }
        index
    }

    /// Every event that can count for `team`: its own non-view events, the views of its
    /// dashboards and the outcomes naming its decisions. [`TeamEvidence::from_events`] over
    /// these gives the same evidence as [`TeamEvidence::new`] over all the events.
    pub fn for_team(&self, team: &Team) -> Vec<EventRef<'a>> {
        let mut out: Vec<EventRef<'a>> = Vec::new();
        fn refs<'l, 'e>(list: &'l [&'e Event]) -> impl Iterator<Item = EventRef<'e>> + 'l {
            list.iter().map(|e| EventRef::Whole(e))
        }
        if let Some(own) = self.by_team.get(team.id.as_str()) {
            out.extend(refs(own));
            for d in own.iter().filter(|e| e.kind == EventKind::Decision) {
                if let Some(outcomes) = self.outcomes_by_decision.get(d.id.as_str()) {
                    out.extend(refs(outcomes));
                }
            }
        }
        for d in &team.dashboards {
            if let Some(views) = self.views_by_dashboard.get(d.as_str()) {
                out.extend(refs(views));
            }
        }
        out
    }
}

/// Periods `[t − (i+1)·len, t − i·len)` for `0 ≤ i < n`, anchored at `t`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Periods {
    pub t: EpochMs,
    pub len: i64,
    pub n: u64,
}

impl Periods {
    /// Start (inclusive) of period `i`.
    pub fn start(&self, i: u64) -> EpochMs {
        self.t
            .saturating_sub(self.len.saturating_mul(to_i64(i).saturating_add(1)))
    }

    /// End (exclusive) of period `i`.
    pub fn end(&self, i: u64) -> EpochMs {
        self.t.saturating_sub(self.len.saturating_mul(to_i64(i)))
    }

    /// Start of the oldest period: older times belong to no period.
    pub fn oldest_start(&self) -> EpochMs {
        if self.n == 0 {
            self.t
        } else {
            self.start(self.n - 1)
        }
    }

    /// The period holding `time`, if any.
    pub fn index_of(&self, time: EpochMs) -> Option<u64> {
        if self.len <= 0 || time >= self.t || time < self.oldest_start() {
            return None;
        }
        // d ≥ 1; time is in period i exactly when i·len < d ≤ (i+1)·len.
        let d = i128::from(self.t) - i128::from(time);
        let i = (d - 1) / i128::from(self.len);
        u64::try_from(i).ok().filter(|i| *i < self.n)
    }

    /// For each period holding at least one event of `list` (sorted by time), the
    /// earliest such event, oldest period first (ascending time). Skips to the next period after each
    /// hit, so the cost grows with the number of periods, not of events.
    pub fn first_per_period<'a>(&self, list: &[EventRef<'a>]) -> Vec<(u64, EventRef<'a>)> {
        if self.n == 0 || self.len <= 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(usize::try_from(self.n).unwrap_or(0).min(list.len()));
        let end = list.partition_point(|e| e.time() < self.t);
        let mut pos = list.partition_point(|e| e.time() < self.oldest_start());
        while pos < end {
            let e = list[pos];
            let Some(i) = self.index_of(e.time()) else {
                break;
            };
            out.push((i, e));
            let next = self.end(i);
            // At least one step, so that no arithmetic edge can stall the loop.
            pos += list[pos..end].partition_point(|e| e.time() < next).max(1);
        }
        out
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Source, DAY_MS};
    use serde_json::Map;

    fn ev(id: &str, kind: EventKind, time: EpochMs) -> Event {
        Event {
            id: id.into(),
            kind,
            time,
            time_end: None,
            team: Some("a".into()),
            dashboard_uid: None,
            panel_id: None,
            user: "u".into(),
            text: String::new(),
            tags: vec![],
            data: Map::new(),
            source: Source::Api,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn periods_are_half_open_and_anchored_at_t() {
        let p = Periods {
            t: 100 * DAY_MS,
            len: 7 * DAY_MS,
            n: 12,
        };
        assert_eq!(p.index_of(100 * DAY_MS), None);
        assert_eq!(p.index_of(100 * DAY_MS - 1), Some(0));
        assert_eq!(p.index_of(93 * DAY_MS), Some(0));
        assert_eq!(p.index_of(93 * DAY_MS - 1), Some(1));
        assert_eq!(p.index_of(16 * DAY_MS), Some(11));
        assert_eq!(p.index_of(16 * DAY_MS - 1), None);
    }

    #[test]
    fn first_per_period_takes_the_earliest_of_each_period() {
        let p = Periods {
            t: 100 * DAY_MS,
            len: 7 * DAY_MS,
            n: 3,
        };
        let events = [
            ev("old", EventKind::Review, 70 * DAY_MS),
            ev("p2", EventKind::Review, 79 * DAY_MS),
            ev("p2b", EventKind::Review, 80 * DAY_MS),
            ev("p0", EventKind::Review, 99 * DAY_MS),
            ev("p0b", EventKind::Review, 100 * DAY_MS - 1),
            ev("at", EventKind::Review, 100 * DAY_MS),
        ];
        let list: Vec<EventRef> = events.iter().map(EventRef::from).collect();
        let got: Vec<(u64, &str)> = p
            .first_per_period(&list)
            .into_iter()
            .map(|(i, e)| (i, e.id()))
            .collect();
        assert_eq!(got, vec![(2, "p2"), (0, "p0")]);
    }
}
