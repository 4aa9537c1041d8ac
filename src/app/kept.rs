//! Each team's evidence kept between queries and taken forward by this process's own writes
//! (issue 15): after a write, the next query computes the written teams again from memory
//! instead of reading them again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::cache::CacheStats;

use crate::model::{
    EpochMs, Event, EventKind, Evidence, EvidenceVersions, OrgId, Target, Team, VersionStep,
};

/// Events kept at most over every team of the process (~0.4 KiB each): past it, teams read
/// are not kept (their values are still cached; a write to them then costs a read again).
pub const MAX_KEPT_EVENTS: usize = 60_000;

/// One team's evidence as a read of `[from, ∞)` gives it: its events (thin, see
/// [`Evidence::events`]) and targets.
#[derive(Debug, Clone, Default)]
pub struct TeamInputs {
    /// Each once, in no particular order.
    pub events: Vec<Event>,
    /// The team's targets.
    pub targets: Vec<Target>,
}

impl TeamInputs {
    /// The events a read of `[from, ∞)` gives, for a `from` no earlier than the kept read's:
    /// every decision and outcome, and the other events from `from` on.
    pub fn events_from(&self, from: EpochMs) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| {
                matches!(e.kind, EventKind::Decision | EventKind::Outcome) || e.time >= from
            })
            .collect()
    }
}

/// Splits one read's evidence into each team's: its own events (not views nor outcomes),
/// the views of its dashboards (a view of a dashboard two teams list goes to both) and the
/// outcomes naming its decisions; targets by team. Moves the events, copying only shared
/// views. The same sets as [`crate::engine::EvidenceIndex::for_team`].
pub fn split_by_team(evidence: Evidence) -> Vec<(Team, TeamInputs)> {
    let Evidence {
        teams,
        events,
        targets,
    } = evidence;
    let position: HashMap<&str, usize> = teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut by_dashboard: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in teams.iter().enumerate() {
        for d in &t.dashboards {
            let listed = by_dashboard.entry(d.as_str()).or_default();
            if !listed.contains(&i) {
                listed.push(i);
            }
        }
    }
    let decided: HashMap<&str, usize> = events
        .iter()
        .filter(|e| e.kind == EventKind::Decision)
        .filter_map(|e| Some((e.id.as_str(), *position.get(e.team.as_deref()?)?)))
        .collect();
    // Where each event goes, worked out while the events are borrowed, then moved.
    let homes: Vec<Vec<usize>> = events
        .iter()
        .map(|e| match e.kind {
            EventKind::View => e
                .dashboard_uid
                .as_deref()
                .and_then(|d| by_dashboard.get(d).cloned())
                .unwrap_or_default(),
            EventKind::Outcome => e
                .decision_id()
                .and_then(|d| decided.get(d).copied())
                .into_iter()
                .collect(),
            _ => e
                .team
                .as_deref()
                .and_then(|t| position.get(t).copied())
                .into_iter()
                .collect(),
        })
        .collect();
    drop((position, by_dashboard, decided));
    let mut inputs: Vec<TeamInputs> = vec![TeamInputs::default(); teams.len()];
    for (event, homes) in events.into_iter().zip(homes) {
        if let Some((last, rest)) = homes.split_last() {
            for &i in rest {
                inputs[i].events.push(event.clone());
            }
            inputs[*last].events.push(event);
        }
    }
    for target in targets {
        if let Some(i) = teams.iter().position(|t| t.id == target.team) {
            inputs[i].targets.push(target);
        }
    }
    teams.into_iter().zip(inputs).collect()
}

struct Kept {
    team: Team,
    /// The team's evidence scopes, in the order of `fingerprint`.
    scopes: Vec<String>,
    /// The versions of `scopes` the inputs are at.
    fingerprint: Vec<i64>,
    /// The start of the kept read (its end is the end of time).
    from: EpochMs,
    inputs: Arc<TeamInputs>,
}

impl Kept {
    /// Whether a write's `event` changes what a read of `[from, ∞)` gives this team (the
    /// rules of [`crate::store::Store::evidence`]); `decisions` are the team's decision ids.
    fn takes(&self, event: &Event, decisions: &[&str]) -> bool {
        if event.time == EpochMs::MAX {
            return false;
        }
        match event.kind {
            EventKind::View => {
                event.time >= self.from
                    && event
                        .dashboard_uid
                        .as_deref()
                        .is_some_and(|d| self.team.dashboards.iter().any(|x| x == d))
            }
            EventKind::Outcome => event.decision_id().is_some_and(|d| decisions.contains(&d)),
            kind => {
                event.team.as_deref() == Some(self.team.id.as_str())
                    && (event.time >= self.from || kind == EventKind::Decision)
            }
        }
    }
}

#[derive(Default)]
struct State {
    teams: HashMap<(OrgId, String), Kept>,
    events: usize,
}

/// The kept evidence of one datasource instance.
#[derive(Default)]
pub struct KeptEvidence {
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for KeptEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("KeptEvidence")
            .field("teams", &state.teams.len())
            .field("events", &state.events)
            .finish()
    }
}

impl KeptEvidence {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many teams and events are kept.
    pub fn size(&self) -> (usize, usize) {
        let state = self.lock();
        (state.teams.len(), state.events)
    }

    /// The inputs of `team` (this very definition) at the versions `fingerprint`, when kept
    /// from a read that started no later than `from`.
    pub fn get(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
        from: EpochMs,
    ) -> Option<Arc<TeamInputs>> {
        let state = self.lock();
        let found = state.teams.get(&(org, team.id.clone())).and_then(|kept| {
            (kept.fingerprint == fingerprint && kept.team == *team && kept.from <= from)
                .then(|| kept.inputs.clone())
        });
        drop(state);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        super::cache::KEPT_EVIDENCE.count(found.is_some());
        found
    }

    /// Teams computed from kept evidence (hits) and from a read (misses) so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Keeps the inputs of `team` read from `from` on at the versions `fingerprint`
    /// (replacing what was kept), unless that would pass [`MAX_KEPT_EVENTS`].
    pub fn put(
        &self,
        org: OrgId,
        team: Team,
        fingerprint: Vec<i64>,
        from: EpochMs,
        inputs: Arc<TeamInputs>,
    ) {
        let mut state = self.lock();
        let key = (org, team.id.clone());
        if let Some(old) = state.teams.remove(&key) {
            state.events -= old.inputs.events.len();
        }
        if state.events + inputs.events.len() > MAX_KEPT_EVENTS {
            return;
        }
        state.events += inputs.events.len();
        let scopes = EvidenceVersions::scopes_of(&team);
        state.teams.insert(
            key,
            Kept {
                team,
                scopes,
                fingerprint,
                from,
                inputs,
            },
        );
    }

    /// Takes a write of `events` in `org` that moved the versions by `step` into every kept
    /// team whose scopes the write touched and that was at the step's `before` versions on
    /// all of them. A team kept at other versions is left as it is: its fingerprint no
    /// longer matches the store's, so the next query reads it again.
    pub fn advance(&self, org: OrgId, step: &VersionStep, events: &[Event]) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut added = 0;
        for ((kept_org, _), kept) in state.teams.iter_mut() {
            if *kept_org != org {
                continue;
            }
            let mut next = kept.fingerprint.clone();
            let (mut touched, mut at_before) = (false, true);
            for (i, scope) in kept.scopes.iter().enumerate() {
                if let Some((before, after)) = step.of_scope(scope) {
                    touched = true;
                    at_before &= kept.fingerprint[i] == before;
                    next[i] = after;
                }
            }
            if !touched || !at_before {
                continue;
            }
            let mut decisions: Vec<&str> = kept
                .inputs
                .events
                .iter()
                .chain(events)
                .filter(|e| {
                    e.kind == EventKind::Decision
                        && e.team.as_deref() == Some(kept.team.id.as_str())
                })
                .map(|e| e.id.as_str())
                .collect();
            decisions.sort_unstable();
            decisions.dedup();
            let taken: Vec<Event> = events
                .iter()
                .filter(|e| kept.takes(e, &decisions))
                // A read after the write already holds it (kept at older versions than its
                // content, see `App::cached_per_team`): each event once.
                .filter(|e| !kept.inputs.events.iter().any(|k| k.id == e.id))
                .map(Event::as_evidence)
                .collect();
            drop(decisions);
            added += taken.len();
            Arc::make_mut(&mut kept.inputs).events.extend(taken);
            kept.fingerprint = next;
        }
        state.events += added;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EvidenceIndex;
    use crate::model::Source;
    use serde_json::{json, Map};

    fn team(id: &str, dashboards: &[&str]) -> Team {
        Team {
            id: id.into(),
            name: id.into(),
            dashboards: dashboards.iter().map(|d| d.to_string()).collect(),
            members: vec![],
            cadence_days: 7,
            created_at: 0,
        }
    }

    fn event(id: &str, kind: EventKind, team: Option<&str>, dashboard: Option<&str>) -> Event {
        Event {
            id: id.into(),
            kind,
            time: 10,
            time_end: None,
            team: team.map(String::from),
            dashboard_uid: dashboard.map(String::from),
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
    fn a_split_gives_each_team_what_the_index_gives_it() {
        let teams = vec![team("a", &["shared", "a-only"]), team("b", &["shared"])];
        let mut outcome = event("o1", EventKind::Outcome, Some("b"), None);
        outcome.data.insert("decisionId".into(), json!("d1"));
        let mut stray = event("o2", EventKind::Outcome, Some("a"), None);
        stray.data.insert("decisionId".into(), json!("nowhere"));
        let events = vec![
            event("d1", EventKind::Decision, Some("a"), Some("a-only")),
            event("v1", EventKind::View, Some("b"), Some("shared")),
            event("v2", EventKind::View, None, Some("a-only")),
            event("q1", EventKind::Question, Some("b"), Some("a-only")),
            event("n1", EventKind::Note, Some("c"), None),
            outcome,
            stray,
        ];
        let evidence = Evidence {
            teams: teams.clone(),
            events: events.clone(),
            targets: vec![],
        };
        let index = EvidenceIndex::new(&events);
        let ids = |list: Vec<&Event>| {
            let mut ids: Vec<String> = list.into_iter().map(|e| e.id.clone()).collect();
            ids.sort();
            ids
        };
        let split = split_by_team(evidence);
        assert_eq!(split.len(), 2);
        for ((t, inputs), expected) in split.iter().zip(&teams) {
            assert_eq!(t, expected);
            assert_eq!(
                ids(inputs.events.iter().collect()),
                ids(index.for_team(t)),
                "{}",
                t.id
            );
        }
        assert_eq!(
            ids(split[0].1.events.iter().collect()),
            ["d1", "o1", "v1", "v2"]
        );
        assert_eq!(ids(split[1].1.events.iter().collect()), ["q1", "v1"]);
    }

    #[test]
    fn teams_past_the_bound_are_not_kept_and_a_replaced_team_is_counted_once() {
        let kept = KeptEvidence::default();
        let inputs = |n: usize| {
            Arc::new(TeamInputs {
                events: vec![event("e", EventKind::Question, Some("a"), None); n],
                targets: vec![],
            })
        };
        kept.put(1, team("a", &[]), vec![1], 0, inputs(MAX_KEPT_EVENTS - 10));
        kept.put(1, team("a", &[]), vec![2], 0, inputs(MAX_KEPT_EVENTS - 10));
        assert_eq!(kept.size(), (1, MAX_KEPT_EVENTS - 10));
        kept.put(1, team("b", &[]), vec![1], 0, inputs(11));
        assert_eq!(
            kept.size(),
            (1, MAX_KEPT_EVENTS - 10),
            "b would pass the bound"
        );
        assert!(kept.get(1, &team("b", &[]), &[1], 0).is_none());
        assert!(kept.get(1, &team("a", &[]), &[2], 0).is_some());
        assert!(
            kept.get(1, &team("a", &[]), &[1], 0).is_none(),
            "older versions"
        );
        assert!(
            kept.get(1, &team("a", &["d"]), &[2], 0).is_none(),
            "another definition"
        );
        assert!(
            kept.get(1, &team("a", &[]), &[2], -1).is_none(),
            "an earlier read"
        );
    }
}
