//! Each team's evidence kept between queries and taken forward by this process's own writes
//! (issue 15): after a write, the next query computes the written teams again from memory
//! instead of reading them again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::cache::CacheStats;

use crate::model::{
    EpochMs, Event, EventKind, EventRef, EvidenceVersions, KeptEvent, KeptMore, KeptRead, OrgId,
    SharedNames, Target, Team, VersionStep,
};

/// Bytes kept at most over every team of the process (as [`kept_bytes`] counts them;
/// `maturity_kept_evidence_bytes` reports it): past it, teams read are not kept (their
/// values are still cached; a write to them then costs a read again, as without kept
/// evidence), and writes taken forward past it let go of the teams used least recently. A
/// bound on memory, chosen by the load test (`cargo bench --bench load`, BENCHMARKS.md), in
/// bytes because memory is what it bounds: a bound of 80,000 events was reached halfway
/// through the load as its store grew, after which every all-team query read teams again.
/// The load's 200,000 events kept take ~22 MiB (decisions keep a few `data` values, not the
/// map) with the plugin's peak at 76-78 MiB; 32 MiB leaves room for half as many again.
pub const MAX_KEPT_BYTES: usize = 32 << 20;

/// Teams remembered as read once (see [`KeptEvidence::wants`]) before the list starts over.
const MAX_READ_ONCE: usize = 100_000;

/// What a kept event costs, about: the event, its id and what it keeps of text and `data`
/// (team, dashboard and user names are shared by a team's events and not counted).
fn kept_bytes(e: &KeptEvent) -> usize {
    const PAIR: usize = std::mem::size_of::<(&str, serde_json::Value)>();
    let pairs = |keys: &[(&str, serde_json::Value)]| -> usize {
        keys.iter().map(|(_, v)| PAIR + value_bytes(v)).sum()
    };
    let more = match e.more.as_deref() {
        Some(KeptMore::Decision { text, keys, .. }) => {
            std::mem::size_of::<KeptMore>() + text.len() + pairs(keys)
        }
        Some(KeptMore::Keys(keys)) => std::mem::size_of::<KeptMore>() + pairs(keys),
        None => 0,
    };
    std::mem::size_of::<KeptEvent>() + e.id.len() + more
}

/// About what a JSON value takes on the heap (a map: its keys and values, and a B-tree's
/// share of each entry).
fn value_bytes(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::String(s) => s.len(),
        Value::Array(items) => items
            .iter()
            .map(|i| std::mem::size_of::<Value>() + value_bytes(i))
            .sum(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| std::mem::size_of::<(String, Value)>() + k.len() + value_bytes(v))
            .sum(),
        _ => 0,
    }
}

/// About what keeping a team's targets costs.
fn targets_bytes(targets: &[Target]) -> usize {
    targets
        .iter()
        .map(|t| {
            std::mem::size_of::<Target>()
                + t.id.len()
                + t.name.len()
                + t.actuals.len() * std::mem::size_of::<crate::model::Actual>()
        })
        .sum()
}

/// What every kept evidence of the process takes (`kept_evidence_bytes`).
pub static KEPT_BYTES: AtomicI64 = AtomicI64::new(0);

/// Numbers the reads kept (see [`InputsStamp`]).
static READS_KEPT: AtomicU64 = AtomicU64::new(0);

/// What a value computed from a team's kept inputs was computed from (issue 15): the read
/// the inputs came from, and how many events of the kinds the value reads and how many
/// target writes were taken in since. Values computed from inputs with the same stamp read
/// the same events and targets, whatever else was written to the team in between: a
/// `followUps` decision log stays true through the team's reviews and views, which are
/// most of its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputsStamp {
    read: u64,
    taken: u64,
}

/// One team's evidence as a read of `[from, ∞)` gives it: its events (kept small, see
/// [`KeptEvent`]) and targets. Cheap to clone: what the read gave is shared; only the
/// events writes added since are copied.
#[derive(Debug, Clone, Default)]
pub struct TeamInputs {
    read: Arc<[KeptEvent]>,
    added: Vec<KeptEvent>,
    names: SharedNames,
    targets: Arc<[Target]>,
    /// What the events and targets take, as [`kept_bytes`] and [`targets_bytes`] count.
    bytes: usize,
    /// The read's number (see [`InputsStamp`]).
    read_no: u64,
    /// Events taken in since the read, by kind (`EventKind as usize`).
    taken_by_kind: [u64; EventKind::ALL.len()],
    /// Target writes taken in since the read.
    targets_taken: u64,
}

impl TeamInputs {
    /// Keeps a read's events (each once, as [`crate::model::Evidence::events`]) and targets
    /// of one team.
    pub fn new<'a>(events: impl IntoIterator<Item = &'a Event>, targets: Vec<Target>) -> Self {
        let mut names = SharedNames::default();
        let kept = events
            .into_iter()
            .map(|e| KeptEvent::of_event(e, &mut names))
            .collect();
        Self::of_read(kept, targets)
    }

    /// Keeps a kept read's events (each once, as [`KeptRead::events`]) and targets of one
    /// team. Events written later make their own shared names: a few per team.
    pub fn of_read(events: Vec<KeptEvent>, targets: Vec<Target>) -> Self {
        TeamInputs {
            bytes: Self::bytes_of(&events, &targets),
            read: events.into(),
            added: Vec::new(),
            names: SharedNames::default(),
            targets: targets.into(),
            read_no: READS_KEPT.fetch_add(1, Ordering::Relaxed),
            taken_by_kind: [0; EventKind::ALL.len()],
            targets_taken: 0,
        }
    }

    /// What a value computed from these inputs' events of `kinds` (and their targets)
    /// depends on.
    pub fn stamp(&self, kinds: &[EventKind]) -> InputsStamp {
        let events: u64 = kinds.iter().map(|k| self.taken_by_kind[*k as usize]).sum();
        InputsStamp {
            read: self.read_no,
            taken: events + self.targets_taken,
        }
    }

    fn all(&self) -> impl Iterator<Item = &KeptEvent> {
        self.read.iter().chain(&self.added)
    }

    fn push(&mut self, e: &Event) {
        let e = KeptEvent::of_event(e, &mut self.names);
        self.bytes += kept_bytes(&e);
        self.taken_by_kind[e.kind as usize] += 1;
        self.added.push(e);
    }

    /// Puts `target` in place of the kept target of its id (in the read's order, by id),
    /// or among them when it is new to the team.
    fn put_target(&mut self, target: &Target) {
        let mut targets: Vec<Target> = self
            .targets
            .iter()
            .filter(|t| t.id != target.id)
            .cloned()
            .collect();
        let at = targets.partition_point(|t| t.id < target.id);
        targets.insert(at, target.clone());
        self.bytes = self.bytes - targets_bytes(&self.targets) + targets_bytes(&targets);
        self.targets = targets.into();
        self.targets_taken += 1;
    }

    /// What keeping `events` and `targets` would take, about (as [`TeamInputs::bytes`]).
    pub fn bytes_of(events: &[KeptEvent], targets: &[Target]) -> usize {
        targets_bytes(targets) + events.iter().map(kept_bytes).sum::<usize>()
    }

    /// What the kept events and targets take, about (see [`kept_bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
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
        // Room for all at once: grown as it filled, its copies and fresh pages were a sixth
        // of a team's evaluation from kept evidence (issue 15).
        let mut events = Vec::with_capacity(self.len());
        events.extend(
            self.all()
                .filter(|e| Self::gives(e, from, kinds))
                .map(EventRef::Kept),
        );
        events
    }
}

/// One team's part of a read (see [`split_kept_by_team`]).
#[derive(Debug, Clone)]
pub struct TeamRead {
    /// The team as the read found it.
    pub team: Team,
    /// Its events (each once, as [`crate::model::Evidence::events`]).
    pub events: Vec<KeptEvent>,
    /// Its targets.
    pub targets: Vec<Target>,
    /// Its evidence versions in the read's snapshot: the events are exactly theirs.
    pub fingerprint: Vec<i64>,
}

/// Which teams each of a read's events goes to: a team's own events (not views nor
/// outcomes), the views of its dashboards (a view of a dashboard two teams list goes to
/// both) and the outcomes naming its decisions. `to(event, team)` is told in the events'
/// order (positions in `events` and `teams`). The same sets as
/// [`crate::engine::EvidenceIndex::for_team`].
fn assign(teams: &[Team], events: &[KeptEvent], mut to: impl FnMut(usize, usize)) {
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
        .map(EventRef::from)
        .filter(|e| e.kind() == EventKind::Decision)
        .filter_map(|e| Some((e.id(), *position.get(e.team()?)?)))
        .collect();
    for (n, e) in events.iter().map(EventRef::from).enumerate() {
        match e.kind() {
            EventKind::View => {
                let listing = e.dashboard_uid().and_then(|d| by_dashboard.get(d));
                for &i in listing.into_iter().flatten() {
                    to(n, i);
                }
            }
            EventKind::Outcome => {
                if let Some(&i) = e.decision_id().and_then(|d| decided.get(d)) {
                    to(n, i);
                }
            }
            _ => {
                if let Some(&i) = e.team().and_then(|t| position.get(t)) {
                    to(n, i);
                }
            }
        }
    }
}

/// Each team's targets, in the teams' order.
fn targets_by_team(teams: &[Team], targets: Vec<Target>) -> Vec<Vec<Target>> {
    let mut by_team = vec![Vec::new(); teams.len()];
    for target in targets {
        if let Some(i) = teams.iter().position(|t| t.id == target.team) {
            by_team[i].push(target);
        }
    }
    by_team
}

/// Splits a kept read into each team's (see [`assign`]); targets by team. The events are
/// moved into their team's list, a view two teams share copied: kept events are ~90 bytes,
/// where moving ~200-byte `Event`s and the fresh pages they needed was a sixth of a cold
/// `maturity` (issue 15, before reads were kept from their rows).
pub fn split_kept_by_team(read: KeptRead) -> Vec<TeamRead> {
    let KeptRead {
        teams,
        events,
        targets,
        versions,
    } = read;
    let mut goes: Vec<(usize, usize)> = Vec::with_capacity(events.len());
    assign(&teams, &events, |e, i| goes.push((e, i)));
    let mut inputs: Vec<Vec<KeptEvent>> = vec![Vec::new(); teams.len()];
    let mut goes = goes.into_iter().peekable();
    for (n, e) in events.into_iter().enumerate() {
        let mut to: Option<usize> = None;
        while let Some(&(_, i)) = goes.peek().filter(|(m, _)| *m == n) {
            goes.next();
            if let Some(earlier) = to.replace(i) {
                inputs[earlier].push(e.clone());
            }
        }
        if let Some(last) = to {
            inputs[last].push(e);
        }
    }
    let targets = targets_by_team(&teams, targets);
    teams
        .into_iter()
        .zip(inputs.into_iter().zip(targets))
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
    /// rules of [`crate::store::Store::evidence`]); `decisions` are the team's decision
    /// ids, sorted.
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
            EventKind::Outcome => event
                .decision_id()
                .is_some_and(|d| decisions.binary_search(&d).is_ok()),
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

/// What a write taken forward wrote.
#[derive(Debug, Clone)]
enum Written {
    /// Events, as evidence events ([`Event::as_evidence`]).
    Events(Arc<[Event]>),
    /// A target as the write left it (actuals added).
    Target(Arc<Target>),
}

struct State {
    /// [`MAX_KEPT_BYTES`], but in tests.
    bound: usize,
    teams: HashMap<(OrgId, String), Kept>,
    /// Teams read once and not kept (see [`KeptEvidence::wants`]).
    read_once: std::collections::HashSet<(OrgId, String)>,
    /// What the kept teams take (see [`TeamInputs::bytes`]).
    bytes: usize,
    /// The last steps taken, with what they wrote, in write order.
    log: std::collections::VecDeque<(OrgId, VersionStep, Written)>,
    /// Counts gets and puts: the order in which kept teams were used.
    clock: u64,
}

impl State {
    /// Counts a kept team's evidence going from `before` to `after` bytes, here and in
    /// [`KEPT_BYTES`].
    fn resize(&mut self, before: usize, after: usize) {
        self.bytes = self.bytes - before + after;
        KEPT_BYTES.fetch_add(after as i64 - before as i64, Ordering::Relaxed);
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Writes taken forward add evidence past [`MAX_KEPT_BYTES`] (only reads are refused
    /// at it): the teams used least recently are let go until a tenth of the bound is free
    /// again, so that memory stays bounded however long the writes go on, and the next
    /// writes do not each let a team go.
    fn let_go_past_bound(&mut self) {
        if self.bytes <= self.bound {
            return;
        }
        let mut by_use: Vec<(u64, (OrgId, String))> = self
            .teams
            .iter()
            .map(|(key, kept)| (kept.used, key.clone()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_use {
            if self.bytes <= self.bound - self.bound / 10 {
                break;
            }
            if let Some(gone) = self.teams.remove(&key) {
                self.resize(gone.inputs.bytes(), 0);
            }
        }
    }
}

/// The kept evidence of one datasource instance.
pub struct KeptEvidence {
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Drop for KeptEvidence {
    fn drop(&mut self) {
        let state = self.lock();
        KEPT_BYTES.fetch_sub(state.bytes as i64, Ordering::Relaxed);
    }
}

impl Default for KeptEvidence {
    fn default() -> Self {
        Self::with_bound(MAX_KEPT_BYTES)
    }
}

impl std::fmt::Debug for KeptEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("KeptEvidence")
            .field("teams", &state.teams.len())
            .field("bytes", &state.bytes)
            .finish()
    }
}

impl KeptEvidence {
    /// Kept evidence bound to `bound` bytes instead of [`MAX_KEPT_BYTES`].
    fn with_bound(bound: usize) -> Self {
        KeptEvidence {
            state: Mutex::new(State {
                bound,
                teams: HashMap::new(),
                read_once: Default::default(),
                bytes: 0,
                log: Default::default(),
                clock: 0,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many teams are kept, and what they take (see [`TeamInputs::bytes`]).
    pub fn size(&self) -> (usize, usize) {
        let state = self.lock();
        (state.teams.len(), state.bytes)
    }

    /// The inputs of `team` (this very definition) at the versions `fingerprint` or later
    /// ones, when kept from a read that started no later than `from`. Later is as good as a
    /// read: what a query reads after taking the versions can be newer than they say, and
    /// never older (a query that took the versions just before a write still finds the
    /// write's teams kept). Not counted: the caller [`counts`](Self::count) what it did.
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
        found
    }

    /// Where the kept read of `team` started, when it is kept (at whatever versions).
    pub fn kept_from(&self, org: OrgId, team: &str) -> Option<EpochMs> {
        let state = self.lock();
        state
            .teams
            .get(&(org, team.to_string()))
            .map(|kept| kept.from)
    }

    /// The inputs of `team` (this very definition) at exactly the versions `fingerprint`,
    /// with where their read started: what a read in the same snapshot would give from
    /// there on. Not counted, as [`KeptEvidence::get`].
    pub fn get_at(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
    ) -> Option<(Arc<TeamInputs>, EpochMs)> {
        let mut state = self.lock();
        let now = state.tick();
        let kept = state.teams.get_mut(&(org, team.id.clone()))?;
        if kept.fingerprint != fingerprint || kept.team != *team {
            return None;
        }
        kept.used = now;
        Some((kept.inputs.clone(), kept.from))
    }

    /// Counts the teams of one query computed from their kept evidence (`hits`) and from a
    /// read (`misses`).
    pub fn count(&self, hits: usize, misses: usize) {
        let (hits, misses) = (hits as u64, misses as u64);
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
        super::cache::KEPT_EVIDENCE.add(hits, misses);
    }

    /// Teams computed from kept evidence (hits) and from a read (misses) so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Whether evidence just read for `team` is worth keeping: the team was read before,
    /// and there is room for its `bytes` (see [`kept_bytes`]; counted only then, outside
    /// the lock). A team read once (a dashboard opened, a cold start) costs no copy and no
    /// count; one read again is one whose evidence changes, which a write can then take
    /// forward.
    pub fn wants(&self, org: OrgId, team: &str, bytes: impl FnOnce() -> usize) -> bool {
        let key = (org, team.to_string());
        {
            let mut state = self.lock();
            if !state.teams.contains_key(&key) && !state.read_once.remove(&key) {
                if state.read_once.len() >= MAX_READ_ONCE {
                    state.read_once.clear();
                }
                state.read_once.insert(key);
                return false;
            }
        }
        let bytes = bytes();
        let mut state = self.lock();
        let replaced = state.teams.get(&key).map_or(0, |k| k.inputs.bytes());
        if state.bytes - replaced + bytes > state.bound {
            // What is kept for the team is behind (it was just read): it only takes room.
            if let Some(stale) = state.teams.remove(&key) {
                state.resize(stale.inputs.bytes(), 0);
            }
            return false;
        }
        true
    }

    /// Keeps the inputs of `team` read from `from` on at the versions `fingerprint`
    /// (replacing what was kept), unless that would pass [`MAX_KEPT_BYTES`].
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
            state.resize(old.inputs.bytes(), 0);
        }
        if state.bytes + inputs.bytes() > state.bound {
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
        for (step_org, step, written) in &state.log {
            if *step_org == org {
                kept.take(step, written);
            }
        }
        state.resize(0, kept.inputs.bytes());
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
        self.take_forward(org, step, Written::Events(events));
    }

    /// Takes a write of `target`'s actuals in `org` that moved its team's version by `step`
    /// into the team, when kept at the step's `before` version (as [`KeptEvidence::advance`]).
    pub fn advance_target(&self, org: OrgId, step: &VersionStep, target: &Target) {
        self.take_forward(org, step, Written::Target(Arc::new(target.clone())));
    }

    fn take_forward(&self, org: OrgId, step: &VersionStep, written: Written) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let (mut before, mut after) = (0, 0);
        for ((kept_org, _), kept) in state.teams.iter_mut() {
            if *kept_org == org {
                before += kept.inputs.bytes();
                kept.take(step, &written);
                after += kept.inputs.bytes();
            }
        }
        state.resize(before, after);
        state.let_go_past_bound();
        if state.log.len() >= MAX_LOGGED_STEPS {
            state.log.pop_front();
        }
        state.log.push_back((org, step.clone(), written));
    }
}

/// Steps kept for teams kept after them (a write commits while a query reads; the query
/// keeps what it read after the write went by).
const MAX_LOGGED_STEPS: usize = 32;

impl Kept {
    /// Takes a write that moved the versions by `step`, when this team's evidence was at
    /// its `before` versions.
    fn take(&mut self, step: &VersionStep, written: &Written) {
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
            return;
        }
        match written {
            Written::Events(events) => self.take_events(events),
            Written::Target(target) => {
                if target.team == self.team.id {
                    Arc::make_mut(&mut self.inputs).put_target(target);
                }
            }
        }
        self.fingerprint = next;
    }

    /// Takes the `events` (evidence events) of a write this team's evidence was just before.
    fn take_events(&mut self, events: &[Event]) {
        let team_id = self.team.id.as_str();
        // The team's decisions, kept or written, that a written outcome may name: looked
        // for among every kept event only when an outcome is written.
        let mut decisions: Vec<&str> = Vec::new();
        if events.iter().any(|e| e.kind == EventKind::Outcome) {
            decisions = self
                .inputs
                .all()
                .filter(|e| e.kind == EventKind::Decision && e.team.as_deref() == Some(team_id))
                .map(|e| &*e.id)
                .chain(
                    events
                        .iter()
                        .filter(|e| {
                            e.kind == EventKind::Decision && e.team.as_deref() == Some(team_id)
                        })
                        .map(|e| e.id.as_str()),
                )
                .collect();
            decisions.sort_unstable();
            decisions.dedup();
        }
        let mut taken: Vec<&Event> = events
            .iter()
            .filter(|e| self.takes(e, &decisions))
            .collect();
        if !taken.is_empty() {
            // Ids are unique in an org: an event already kept is not taken twice. One pass
            // over the kept events (each written id compared with every kept one was a third
            // of the writes' CPU under the load test, issue 15), with a fast hash (SipHash
            // of every kept id was still 5 % of the plugin's CPU, session 16).
            let written: ahash::AHashSet<&str> = taken.iter().map(|e| e.id.as_str()).collect();
            let already: ahash::AHashSet<&str> = self
                .inputs
                .all()
                .map(|k| &*k.id)
                .filter(|id| written.contains(id))
                .collect();
            taken.retain(|e| !already.contains(e.id.as_str()));
        }
        drop(decisions);
        let inputs = Arc::make_mut(&mut self.inputs);
        taken.into_iter().for_each(|e| inputs.push(e));
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
        let mut names = SharedNames::default();
        let read = KeptRead {
            teams: teams.clone(),
            events: events
                .iter()
                .map(|e| KeptEvent::of_event(e, &mut names))
                .collect(),
            targets: vec![],
            versions,
        };
        let split = split_kept_by_team(read);
        assert_eq!(split.len(), 2);
        for (read, expected) in split.iter().zip(&teams) {
            let t = &read.team;
            assert_eq!(t, expected);
            let read_events = read.events.iter().map(EventRef::from).collect();
            assert_eq!(ids(read_events), ids(index.for_team(t)), "{}", t.id);
        }
        let of = |i: usize| ids(split[i].events.iter().map(EventRef::from).collect());
        assert_eq!(of(0), ["d1", "o1", "v1", "v2"]);
        assert_eq!(of(1), ["q1", "v1"]);
    }

    /// One event of each kind a rule reads something of, with what no rule reads beside it.
    fn mixed_events() -> Vec<Event> {
        let mut decision = event("d1", EventKind::Decision, Some("a"), Some("x"));
        decision.text = "Cache the lookups".into();
        decision.data = json!({"followUpAt": 99, "owner": "bo", "query": {"expr": "up"},
                               "suggestedOutcome": {"result": "confirmed", "before": 1.0}})
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
        Option<EpochMs>,
        Option<String>,
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
            e.follow_up_at(),
            e.decision_id().map(String::from),
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
                EventKind::Decision => {
                    expected.data.remove("owner");
                    expected.data.remove("query")
                }
                _ => None,
            };
            assert_eq!(seen(kept), seen(&expected), "{}", expected.id);
        }
        // Names are shared, not copied per event.
        let named_a: Vec<&Arc<str>> = inputs
            .all()
            .filter_map(|e| e.team.as_ref())
            .filter(|t| &***t == "a")
            .collect();
        assert!(named_a.len() >= 2, "{named_a:?}");
        assert!(named_a.windows(2).all(|w| Arc::ptr_eq(w[0], w[1])));
        // From a later instant: decisions and outcomes of any age, the rest from then on.
        assert_eq!(inputs.events_from(11, &ALL).len(), 2);
        // Of some kinds only.
        let decided = inputs.events_from(0, &[EventKind::Decision]);
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].id(), "d1");
    }

    #[test]
    fn a_team_is_kept_from_its_second_read_within_the_bound() {
        const BOUND: usize = 1 << 20;
        let kept = KeptEvidence::with_bound(BOUND);
        let inputs = |n: usize| {
            let events = vec![event("e", EventKind::Question, Some("a"), None); n];
            Arc::new(TeamInputs::new(&events, vec![]))
        };
        let one = inputs(1).bytes();
        // Room for 10 more events, not 11.
        let big = BOUND / one - 10;
        let size = inputs(big).bytes();
        assert!(!kept.wants(1, "a", || size), "read once");
        assert!(kept.wants(1, "a", || size), "read again");
        kept.put(1, team("a", &[]), vec![1], 0, inputs(big));
        assert!(kept.wants(1, "a", || size), "replacing itself fits");
        kept.put(1, team("a", &[]), vec![2], 0, inputs(big));
        assert_eq!(kept.size(), (1, size), "a replaced team counts once");
        assert!(!kept.wants(1, "b", || 5 * one));
        assert!(kept.wants(1, "b", || 5 * one));
        assert!(!kept.wants(1, "c", || 11 * one));
        assert!(!kept.wants(1, "c", || 11 * one), "c would pass the bound");
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
    fn what_keeping_costs_is_counted_the_same_read_and_written() {
        let events = mixed_events();
        let mut names = SharedNames::default();
        let mut keep = |e: &Event| KeptEvent::of_event(e, &mut names);
        let kept: Vec<KeptEvent> = events.iter().map(&mut keep).collect();
        let targets = vec![test_support::target("t1", 0, 10)];
        let read = TeamInputs::new(&events, targets.clone());
        assert_eq!(TeamInputs::bytes_of(&kept, &targets), read.bytes());
        let mut written = TeamInputs::new(&events[..2], targets.clone());
        events[2..].iter().for_each(|e| written.push(e));
        assert_eq!(written.bytes(), read.bytes());
        // A decision's text counts: the larger the decision, the more it costs.
        let mut larger = events[0].clone();
        larger.text.push_str(&"x".repeat(1000));
        assert!(kept_bytes(&keep(&larger)) >= kept_bytes(&keep(&events[0])) + 1000);
    }

    #[test]
    fn a_kept_team_takes_a_targets_actuals_as_written() {
        let kept = KeptEvidence::default();
        let mut first = test_support::target("t1", 0, 10);
        first.team = "a".into();
        let mut second = test_support::target("t2", 0, 10);
        second.team = "a".into();
        let inputs = TeamInputs::new(&[], vec![first.clone(), second.clone()]);
        kept.put(1, team("a", &[]), vec![4], 0, Arc::new(inputs));
        let step = |before, after| VersionStep {
            scopes: vec![("team:a".into(), before, after)],
        };
        let mut written = first.clone();
        written.actuals = (0..50)
            .map(|i| crate::model::Actual {
                time: i,
                value: 1.0,
            })
            .collect();
        kept.advance_target(1, &step(4, 5), &written);
        let now = kept
            .get(1, &team("a", &[]), &[5], 0)
            .expect("taken forward");
        assert_eq!(now.targets(), [written.clone(), second.clone()]);
        let fresh = TeamInputs::new(&[], vec![written.clone(), second.clone()]);
        assert_eq!(now.bytes(), fresh.bytes());
        assert_eq!(kept.size(), (1, fresh.bytes()));
        // A write from other versions than the kept ones is not taken: the team is read.
        kept.advance_target(1, &step(6, 7), &first);
        assert!(kept.get(1, &team("a", &[]), &[7], 0).is_none());
        assert_eq!(
            kept.get(1, &team("a", &[]), &[5], 0)
                .expect("still at 5")
                .targets(),
            [written, second]
        );
    }

    #[test]
    fn a_team_is_given_at_exactly_its_versions_with_where_its_read_started() {
        let kept = KeptEvidence::default();
        let a = team("a", &[]);
        kept.put(
            1,
            a.clone(),
            vec![4],
            7,
            Arc::new(TeamInputs::new(&[], vec![])),
        );
        assert_eq!(kept.kept_from(1, "a"), Some(7));
        assert_eq!(kept.kept_from(1, "b"), None);
        assert_eq!(kept.get_at(1, &a, &[4]).map(|(_, from)| from), Some(7));
        // Only these very versions: a read at other ones holds other evidence.
        assert!(kept.get_at(1, &a, &[3]).is_none());
        let step = VersionStep {
            scopes: vec![("team:a".into(), 4, 5)],
        };
        kept.advance(1, &step, &[]);
        assert!(kept.get_at(1, &a, &[4]).is_none());
        assert!(kept.get_at(1, &a, &[5]).is_some());
        // Nor another definition of the team.
        assert!(kept.get_at(1, &team("a", &["d"]), &[5, 0]).is_none());
    }

    #[test]
    fn a_stamp_moves_with_what_its_kinds_take_in_and_with_targets_only() {
        let evidence: Vec<Event> = mixed_events().iter().map(Event::as_evidence).collect();
        let mut inputs = TeamInputs::new(&evidence, vec![]);
        let decisions = [EventKind::Decision, EventKind::Outcome];
        let reviews = [EventKind::Review, EventKind::View];
        let (d0, r0) = (inputs.stamp(&decisions), inputs.stamp(&reviews));
        inputs.push(&event("r2", EventKind::Review, Some("a"), Some("x")));
        assert_eq!(
            inputs.stamp(&decisions),
            d0,
            "a review changes no decision log"
        );
        assert_ne!(inputs.stamp(&reviews), r0);
        let r1 = inputs.stamp(&reviews);
        inputs.push(&event("o2", EventKind::Outcome, Some("a"), None));
        assert_ne!(inputs.stamp(&decisions), d0);
        assert_eq!(inputs.stamp(&reviews), r1);
        let d1 = inputs.stamp(&decisions);
        inputs.put_target(&test_support::target("t1", 0, 10));
        assert_ne!(
            inputs.stamp(&decisions),
            d1,
            "targets count for every stamp"
        );
        // Another read of the same events is other inputs.
        let again = TeamInputs::new(&evidence, vec![]);
        assert_ne!(again.stamp(&decisions), d0);
    }

    #[test]
    fn writes_past_the_bound_let_go_of_the_teams_used_least_recently() {
        const BOUND: usize = 1 << 20;
        let kept = KeptEvidence::with_bound(BOUND);
        let one =
            TeamInputs::new(&[event("e", EventKind::Question, Some("a"), None)], vec![]).bytes();
        let third = BOUND / one / 3;
        for id in ["a", "b", "c"] {
            let events = vec![event("e", EventKind::Question, Some(id), None); third];
            let inputs = Arc::new(TeamInputs::new(&events, vec![]));
            kept.put(1, team(id, &[]), vec![1], 0, inputs);
        }
        assert_eq!(kept.size(), (3, 3 * third * one));
        // "a" is served after "b" and "c" were kept: "b" is now the least recently used.
        assert!(kept.get(1, &team("a", &[]), &[1], 0).is_some());
        // A write to "c" that passes the bound.
        let written: Vec<Event> = (0..BOUND / one / 10)
            .map(|i| event(&format!("w{i}"), EventKind::Question, Some("c"), None))
            .collect();
        let step = VersionStep {
            scopes: vec![("team:c".into(), 1, 2)],
        };
        kept.advance(1, &step, &written);
        let (teams, bytes) = kept.size();
        assert_eq!(teams, 2, "one team let go");
        assert!(bytes <= BOUND - BOUND / 10, "{bytes}");
        assert!(kept.get(1, &team("b", &[]), &[1], 0).is_none(), "b let go");
        assert!(kept.get(1, &team("a", &[]), &[1], 0).is_some(), "a kept");
        assert!(
            kept.get(1, &team("c", &[]), &[2], 0).is_some(),
            "c took the write"
        );
    }
}
