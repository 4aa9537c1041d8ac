//! Each team's evidence kept between queries and taken forward by this process's own writes
//! (issue 15): after a write, the next query computes the written teams again from memory
//! instead of reading them again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::cache::CacheStats;

use crate::model::{
    EpochMs, Event, EventKind, EventRef, EvidenceVersions, KeptEvent, KeptMore, OrgId, Target,
    Team, VersionStep,
};

/// Events kept at most over every team of the process: past it, teams read are not kept
/// (their values are still cached; a write to them then costs a read again, as without
/// kept evidence), and writes taken forward past it let go of the teams used least
/// recently. A bound on memory, chosen by the load test (`cargo bench --bench load`,
/// BENCHMARKS.md): with jemalloc giving freed pages back, 80,000 (every team of the load
/// store kept) peaks below 100 MiB under the load, with twice the operations a second of
/// 25,000; kept as whole events instead of these compact ones, ~25 % more again, but past
/// the 100 MiB budget at every bound that keeps the load's teams.
pub const MAX_KEPT_EVENTS: usize = 80_000;

/// The `data` keys a rule of the engine reads from an outcome.
const OUTCOME_KEYS: [&str; 2] = ["decisionId", "result"];

/// Names shared by a team's kept events.
#[derive(Debug, Clone, Default)]
struct Names(std::collections::HashSet<Arc<str>>);

impl Names {
    fn share(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.0.get(name) {
            return known.clone();
        }
        let name: Arc<str> = Arc::from(name);
        self.0.insert(name.clone());
        name
    }
}

impl KeptEvent {
    /// Keeps an evidence event (see [`Event::as_evidence`]): what no rule reads is dropped.
    fn keep(e: &Event, names: &mut Names) -> Self {
        let keys = |wanted: &[&'static str]| {
            let kept: Vec<(&'static str, serde_json::Value)> = wanted
                .iter()
                .filter_map(|k| Some((*k, e.data.get(*k)?.clone())))
                .collect();
            (!kept.is_empty()).then(|| Box::new(KeptMore::Keys(kept)))
        };
        let more = match e.kind {
            EventKind::Decision => {
                Some(Box::new(KeptMore::Decision(e.text.clone(), e.data.clone())))
            }
            EventKind::Outcome => keys(&OUTCOME_KEYS),
            EventKind::Review => keys(&[Event::REVIEW_EVIDENCE_KEY]),
            _ => None,
        };
        KeptEvent {
            id: e.id.as_str().into(),
            kind: e.kind,
            time: e.time,
            team: e.team.as_deref().map(|t| names.share(t)),
            dashboard: e.dashboard_uid.as_deref().map(|d| names.share(d)),
            user: names.share(&e.user),
            more,
        }
    }
}

/// One team's evidence as a read of `[from, ∞)` gives it: its events (kept small, see
/// [`KeptEvent`]) and targets. Cheap to clone: what the read gave is shared; only the
/// events writes added since are copied.
#[derive(Debug, Clone, Default)]
pub struct TeamInputs {
    read: Arc<[KeptEvent]>,
    added: Vec<KeptEvent>,
    names: Names,
    targets: Arc<[Target]>,
}

impl TeamInputs {
    /// Keeps a read's events (each once, as [`crate::model::Evidence::events`]) and targets
    /// of one team.
    pub fn new<'a>(events: impl IntoIterator<Item = &'a Event>, targets: Vec<Target>) -> Self {
        let mut names = Names::default();
        let read: Vec<KeptEvent> = events
            .into_iter()
            .map(|e| KeptEvent::keep(e, &mut names))
            .collect();
        TeamInputs {
            read: read.into(),
            added: Vec::new(),
            names,
            targets: targets.into(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &KeptEvent> {
        self.read.iter().chain(&self.added)
    }

    fn push(&mut self, e: &Event) {
        let e = KeptEvent::keep(e, &mut self.names);
        self.added.push(e);
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        self.read.len() + self.added.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The team's targets.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Whether a read of `[from, ∞)` of `kinds` gives `e` (for a `from` no earlier than the
    /// kept read's): every decision and outcome, the other events from `from` on.
    fn gives(e: &KeptEvent, from: EpochMs, kinds: &[EventKind]) -> bool {
        kinds.contains(&e.kind)
            && (matches!(e.kind, EventKind::Decision | EventKind::Outcome) || e.time >= from)
    }

    /// The events a read of `[from, ∞)` of `kinds` gives (see [`TeamInputs::gives`]), as
    /// the engine reads them.
    pub fn events_from(&self, from: EpochMs, kinds: &[EventKind]) -> Vec<EventRef<'_>> {
        self.all()
            .filter(|e| Self::gives(e, from, kinds))
            .map(EventRef::Kept)
            .collect()
    }
}

/// One team's part of a read (see [`split_by_team`]).
#[derive(Debug, Clone)]
pub struct TeamRead<'a> {
    /// The team as the read found it.
    pub team: Team,
    /// Its events (each once, as [`crate::model::Evidence::events`]), borrowed from the read.
    pub events: Vec<&'a Event>,
    /// Its targets.
    pub targets: Vec<Target>,
    /// Its evidence versions in the read's snapshot: the events are exactly theirs.
    pub fingerprint: Vec<i64>,
}

/// Splits one read's evidence into each team's: its own events (not views nor outcomes),
/// the views of its dashboards (a view of a dashboard two teams list goes to both) and the
/// outcomes naming its decisions; targets by team. The events stay where the read put them
/// and each team borrows its own: moved into a vector per team, the ~200-byte events and
/// the fresh pages they needed were a sixth of a cold `maturity` (issue 15). The same sets
/// as [`crate::engine::EvidenceIndex::for_team`].
pub fn split_by_team<'a>(
    teams: Vec<Team>,
    events: &'a [Event],
    targets: Vec<Target>,
    versions: &EvidenceVersions,
) -> Vec<TeamRead<'a>> {
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
    let mut inputs: Vec<(Vec<&Event>, Vec<Target>)> = vec![(Vec::new(), Vec::new()); teams.len()];
    for e in events {
        match e.kind {
            EventKind::View => {
                let listing = e.dashboard_uid.as_deref().and_then(|d| by_dashboard.get(d));
                for &i in listing.into_iter().flatten() {
                    inputs[i].0.push(e);
                }
            }
            EventKind::Outcome => {
                if let Some(&i) = e.decision_id().and_then(|d| decided.get(d)) {
                    inputs[i].0.push(e);
                }
            }
            _ => {
                if let Some(&i) = e.team.as_deref().and_then(|t| position.get(t)) {
                    inputs[i].0.push(e);
                }
            }
        }
    }
    drop((position, decided, by_dashboard));
    for target in targets {
        if let Some(i) = teams.iter().position(|t| t.id == target.team) {
            inputs[i].1.push(target);
        }
    }
    teams
        .into_iter()
        .zip(inputs)
        .map(|(team, (events, targets))| TeamRead {
            fingerprint: versions.fingerprint(&team),
            team,
            events,
            targets,
        })
        .collect()
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
    /// When it was last kept or served ([`State::tick`]).
    used: u64,
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

/// Whether versions `kept` are those of `asked` or later, scope by scope (versions only
/// grow).
fn at_least(kept: &[i64], asked: &[i64]) -> bool {
    kept.len() == asked.len() && kept.iter().zip(asked).all(|(k, a)| k >= a)
}

#[derive(Default)]
struct State {
    teams: HashMap<(OrgId, String), Kept>,
    /// Teams read once and not kept (see [`KeptEvidence::wants`]).
    read_once: std::collections::HashSet<(OrgId, String)>,
    events: usize,
    /// The last steps taken, with their evidence events, in write order.
    log: std::collections::VecDeque<(OrgId, VersionStep, Arc<[Event]>)>,
    /// Counts gets and puts: the order in which kept teams were used.
    clock: u64,
}

impl State {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Writes taken forward add events past [`MAX_KEPT_EVENTS`] (only reads are refused at
    /// it): the teams used least recently are let go until a tenth of the bound is free
    /// again, so that memory stays bounded however long the writes go on, and the next
    /// writes do not each let a team go.
    fn let_go_past_bound(&mut self) {
        if self.events <= MAX_KEPT_EVENTS {
            return;
        }
        let mut by_use: Vec<(u64, (OrgId, String))> = self
            .teams
            .iter()
            .map(|(key, kept)| (kept.used, key.clone()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_use {
            if self.events <= MAX_KEPT_EVENTS - MAX_KEPT_EVENTS / 10 {
                break;
            }
            if let Some(gone) = self.teams.remove(&key) {
                self.events -= gone.inputs.len();
            }
        }
    }
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

    /// The inputs of `team` (this very definition) at the versions `fingerprint` or later
    /// ones, when kept from a read that started no later than `from`. Later is as good as a
    /// read: what a query reads after taking the versions can be newer than they say, and
    /// never older (a query that took the versions just before a write still finds the
    /// write's teams kept).
    pub fn get(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
        from: EpochMs,
    ) -> Option<Arc<TeamInputs>> {
        let mut state = self.lock();
        let now = state.tick();
        let found = state
            .teams
            .get_mut(&(org, team.id.clone()))
            .and_then(|kept| {
                let fits = at_least(&kept.fingerprint, fingerprint)
                    && kept.team == *team
                    && kept.from <= from;
                fits.then(|| {
                    kept.used = now;
                    kept.inputs.clone()
                })
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

    /// Whether `n` events just read for `team` are worth keeping: there is room for them,
    /// and the team was read before. A team read once (a dashboard opened, a cold start)
    /// costs no copy; one read again is one whose evidence changes, which a write can then
    /// take forward.
    pub fn wants(&self, org: OrgId, team: &str, n: usize) -> bool {
        let mut state = self.lock();
        let key = (org, team.to_string());
        let replaced = state.teams.get(&key).map_or(0, |k| k.inputs.len());
        if state.events - replaced + n > MAX_KEPT_EVENTS {
            // What is kept for the team is behind (it was just read): it only takes room.
            if let Some(stale) = state.teams.remove(&key) {
                state.events -= stale.inputs.len();
            }
            return false;
        }
        if state.teams.contains_key(&key) || state.read_once.remove(&key) {
            return true;
        }
        if state.read_once.len() >= MAX_KEPT_EVENTS {
            state.read_once.clear();
        }
        state.read_once.insert(key);
        false
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
        // A query that took older versions, finishing late, leaves newer inputs in place.
        let newer_kept = state.teams.get(&key).is_some_and(|k| {
            k.team == team && k.from <= from && at_least(&k.fingerprint, &fingerprint)
        });
        if newer_kept {
            return;
        }
        if let Some(old) = state.teams.remove(&key) {
            state.events -= old.inputs.len();
        }
        if state.events + inputs.len() > MAX_KEPT_EVENTS {
            return;
        }
        let scopes = EvidenceVersions::scopes_of(&team);
        let mut kept = Kept {
            team,
            scopes,
            fingerprint,
            from,
            inputs,
            used: state.tick(),
        };
        // Writes logged since the read's snapshot are taken now, in their order: the team
        // is kept at the versions of the last one instead of one write behind.
        let state = &mut *state;
        for (step_org, step, events) in &state.log {
            if *step_org == org {
                kept.take(step, events);
            }
        }
        state.events += kept.inputs.len();
        state.teams.insert(key, kept);
    }

    /// Takes a write of `events` in `org` that moved the versions by `step` into every kept
    /// team whose scopes the write touched and that was at the step's `before` versions on
    /// all of them. A team kept at other versions is left as it is: its fingerprint no
    /// longer matches the store's, so the next query reads it again. The step is logged for
    /// a team kept later from a read older than it (see [`KeptEvidence::put`]). Calls come
    /// in the order of the writes (`App::record_events` holds a lock from write to here).
    pub fn advance(&self, org: OrgId, step: &VersionStep, events: &[Event]) {
        let events: Arc<[Event]> = events.iter().map(Event::as_evidence).collect();
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut added = 0;
        for ((kept_org, _), kept) in state.teams.iter_mut() {
            if *kept_org == org {
                added += kept.take(step, &events);
            }
        }
        state.events += added;
        state.let_go_past_bound();
        if state.log.len() >= MAX_LOGGED_STEPS {
            state.log.pop_front();
        }
        state.log.push_back((org, step.clone(), events));
    }
}

/// Steps kept for teams kept after them (a write commits while a query reads; the query
/// keeps what it read after the write went by).
const MAX_LOGGED_STEPS: usize = 32;

impl Kept {
    /// Takes the write of `events` (evidence events) that moved the versions by `step`, when
    /// this team's evidence was at its `before` versions; the events it took.
    fn take(&mut self, step: &VersionStep, events: &[Event]) -> usize {
        let mut next = self.fingerprint.clone();
        let (mut touched, mut at_before) = (false, true);
        for (i, scope) in self.scopes.iter().enumerate() {
            if let Some((before, after)) = step.of_scope(scope) {
                touched = true;
                at_before &= self.fingerprint[i] == before;
                next[i] = after;
            }
        }
        if !touched || !at_before {
            return 0;
        }
        let team_id = self.team.id.as_str();
        let mut decisions: Vec<&str> = self
            .inputs
            .all()
            .filter(|e| e.kind == EventKind::Decision && e.team.as_deref() == Some(team_id))
            .map(|e| &*e.id)
            .chain(
                events
                    .iter()
                    .filter(|e| e.kind == EventKind::Decision && e.team.as_deref() == Some(team_id))
                    .map(|e| e.id.as_str()),
            )
            .collect();
        decisions.sort_unstable();
        decisions.dedup();
        let taken: Vec<Event> = events
            .iter()
            .filter(|e| self.takes(e, &decisions))
            // Ids are unique in an org: an event already kept is not taken twice.
            .filter(|e| !self.inputs.all().any(|k| *k.id == *e.id))
            .cloned()
            .collect();
        drop(decisions);
        let n = taken.len();
        let inputs = Arc::make_mut(&mut self.inputs);
        taken.iter().for_each(|e| inputs.push(e));
        self.fingerprint = next;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{test_support, EvidenceIndex};
    use serde_json::json;

    const ALL: [EventKind; 7] = EventKind::ALL;

    fn team(id: &str, dashboards: &[&str]) -> Team {
        Team {
            dashboards: dashboards.iter().map(|d| d.to_string()).collect(),
            members: vec![],
            ..test_support::team(id)
        }
    }

    fn event(id: &str, kind: EventKind, team: Option<&str>, dashboard: Option<&str>) -> Event {
        Event {
            team: team.map(String::from),
            dashboard_uid: dashboard.map(String::from),
            user: "u".into(),
            ..test_support::ev(id, kind, 10)
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
        let versions = EvidenceVersions::default();
        let index = EvidenceIndex::new(&events);
        let ids = |list: Vec<EventRef>| {
            let mut ids: Vec<String> = list.into_iter().map(|e| e.id().to_string()).collect();
            ids.sort();
            ids
        };
        let split = split_by_team(teams.clone(), &events, vec![], &versions);
        assert_eq!(split.len(), 2);
        for (read, expected) in split.iter().zip(&teams) {
            let t = &read.team;
            assert_eq!(t, expected);
            let read_events = read.events.iter().map(|e| EventRef::from(*e)).collect();
            assert_eq!(ids(read_events), ids(index.for_team(t)), "{}", t.id);
        }
        let of = |i: usize| ids(split[i].events.iter().map(|e| EventRef::from(*e)).collect());
        assert_eq!(of(0), ["d1", "o1", "v1", "v2"]);
        assert_eq!(of(1), ["q1", "v1"]);
    }

    /// One event of each kind a rule reads something of, with what no rule reads beside it.
    fn mixed_events() -> Vec<Event> {
        let mut decision = event("d1", EventKind::Decision, Some("a"), Some("x"));
        decision.text = "Cache the lookups".into();
        decision.data = json!({"followUpAt": 99, "owner": "bo", "query": {"expr": "up"}})
            .as_object()
            .cloned()
            .expect("object");
        let mut outcome = event("o1", EventKind::Outcome, Some("b"), None);
        outcome.data = json!({"decisionId": "d1", "result": "confirmed", "note": "n"})
            .as_object()
            .cloned()
            .expect("object");
        let mut review = event("r1", EventKind::Review, Some("a"), Some("x"));
        review.data = json!({"dashboards": ["x"], "attendees": ["u"]})
            .as_object()
            .cloned()
            .expect("object");
        let mut note = event("n1", EventKind::Note, Some("a"), None);
        note.text = "free text".into();
        note.tags = vec!["t".into()];
        note.time_end = Some(20);
        vec![
            decision,
            outcome,
            review,
            note,
            event("v1", EventKind::View, None, Some("x")),
        ]
    }

    /// Everything the engine can read of an event, `data` as a map.
    type Seen = (
        String,
        EventKind,
        EpochMs,
        Option<String>,
        Option<String>,
        String,
        String,
        serde_json::Map<String, serde_json::Value>,
    );

    fn seen<'e>(e: impl Into<EventRef<'e>>) -> Seen {
        let e = e.into();
        let data = match e.data() {
            crate::model::DataRef::Map(map) => map.clone(),
            crate::model::DataRef::Pairs(pairs) => pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        };
        (
            e.id().into(),
            e.kind(),
            e.time(),
            e.team().map(String::from),
            e.dashboard_uid().map(String::from),
            e.user().into(),
            e.text().into(),
            data,
        )
    }

    #[test]
    fn a_kept_event_is_the_evidence_event_again_but_for_data_no_rule_reads() {
        let events = mixed_events();
        let evidence: Vec<Event> = events.iter().map(Event::as_evidence).collect();
        let inputs = TeamInputs::new(&evidence, vec![]);
        let again = inputs.events_from(0, &ALL);
        assert_eq!(again.len(), events.len());
        for (kept, original) in again.iter().zip(&events) {
            let mut expected = original.as_evidence();
            match expected.kind {
                EventKind::Outcome => expected.data.remove("note"),
                EventKind::Review => expected.data.remove("attendees"),
                _ => None,
            };
            assert_eq!(seen(kept), seen(&expected), "{}", expected.id);
        }
        // Names are shared, not copied per event.
        assert_eq!(inputs.names.0.len(), 4, "{:?}", inputs.names);
        // From a later instant: decisions and outcomes of any age, the rest from then on.
        assert_eq!(inputs.events_from(11, &ALL).len(), 2);
        // Of some kinds only.
        let decided = inputs.events_from(0, &[EventKind::Decision]);
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].id(), "d1");
    }

    #[test]
    fn a_team_is_kept_from_its_second_read_within_the_bound() {
        let kept = KeptEvidence::default();
        let inputs = |n: usize| {
            let events = vec![event("e", EventKind::Question, Some("a"), None); n];
            Arc::new(TeamInputs::new(&events, vec![]))
        };
        let big = MAX_KEPT_EVENTS - 10;
        assert!(!kept.wants(1, "a", big), "read once");
        assert!(kept.wants(1, "a", big), "read again");
        kept.put(1, team("a", &[]), vec![1], 0, inputs(big));
        assert!(kept.wants(1, "a", big), "replacing itself fits");
        kept.put(1, team("a", &[]), vec![2], 0, inputs(big));
        assert_eq!(kept.size(), (1, big), "a replaced team counts once");
        assert!(!kept.wants(1, "b", 5));
        assert!(kept.wants(1, "b", 5));
        assert!(!kept.wants(1, "c", 11));
        assert!(!kept.wants(1, "c", 11), "c would pass the bound");
        assert!(kept.get(1, &team("a", &[]), &[2], 0).is_some());
        assert!(
            kept.get(1, &team("a", &[]), &[1], 0).is_some(),
            "asked for older versions: the newer ones serve, as a read would"
        );
        assert!(
            kept.get(1, &team("a", &[]), &[3], 0).is_none(),
            "asked for newer versions"
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

    #[test]
    fn writes_past_the_bound_let_go_of_the_teams_used_least_recently() {
        let kept = KeptEvidence::default();
        let third = MAX_KEPT_EVENTS / 3;
        for id in ["a", "b", "c"] {
            let events = vec![event("e", EventKind::Question, Some(id), None); third];
            let inputs = Arc::new(TeamInputs::new(&events, vec![]));
            kept.put(1, team(id, &[]), vec![1], 0, inputs);
        }
        assert_eq!(kept.size(), (3, 3 * third));
        // "a" is served after "b" and "c" were kept: "b" is now the least recently used.
        assert!(kept.get(1, &team("a", &[]), &[1], 0).is_some());
        // A write to "c" that passes the bound.
        let written: Vec<Event> = (0..MAX_KEPT_EVENTS / 10)
            .map(|i| event(&format!("w{i}"), EventKind::Question, Some("c"), None))
            .collect();
        let step = VersionStep {
            scopes: vec![("team:c".into(), 1, 2)],
        };
        kept.advance(1, &step, &written);
        let (teams, events) = kept.size();
        assert_eq!(teams, 2, "one team let go");
        assert!(events <= MAX_KEPT_EVENTS - MAX_KEPT_EVENTS / 10, "{events}");
        assert!(kept.get(1, &team("b", &[]), &[1], 0).is_none(), "b let go");
        assert!(kept.get(1, &team("a", &[]), &[1], 0).is_some(), "a kept");
        assert!(
            kept.get(1, &team("c", &[]), &[2], 0).is_some(),
            "c took the write"
        );
    }
}
