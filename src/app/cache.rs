//! Answers that cost nothing to ask for again (issue 15): per (org, team), the last value
//! computed from the team's evidence is served until the instant it may change
//! (`stable_until`), or until the team's evidence changes — known from the store's evidence
//! versions, which a write on any replica raises, so a cache in one process never misses
//! another's writes. One cache per kind of value: evaluations (`maturity`, `criteria`,
//! `GET /maturity`), review times (`reviewLapse`) and decisions (`followUps`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::kept::InputsStamp;
use crate::engine::{Evaluation, Timed};
use crate::model::{EpochMs, EvidenceVersions, OrgId, Team, VersionStep};

/// Hits and misses of every cache of one kind in this process, for the metrics.
#[derive(Debug, Default)]
pub struct ProcessCounters {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ProcessCounters {
    const fn new() -> Self {
        Self {
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Counts `hits` hits and `misses` misses at once.
    pub(super) fn add(&self, hits: u64, misses: u64) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

/// Every evaluation cache of the process together (`evaluation_cache_total`).
pub static EVALUATIONS: ProcessCounters = ProcessCounters::new();
/// Every review-times cache of the process (`team_inputs_cache_total{query="reviewLapse"}`).
pub static REVIEW_TIMES: ProcessCounters = ProcessCounters::new();
/// Every decisions cache of the process (`team_inputs_cache_total{query="followUps"}`).
pub static DECISIONS: ProcessCounters = ProcessCounters::new();

/// Every kept evidence of the process (`kept_evidence_total`): a team computed again from
/// its kept evidence (hit) or from a read (miss).
pub static KEPT_EVIDENCE: ProcessCounters = ProcessCounters::new();

/// Hits and misses of every evaluation cache of this process since it started.
pub fn process_stats() -> CacheStats {
    EVALUATIONS.stats()
}

/// Entries kept at most; past it the cache starts again (a bound, not a policy: an org has
/// hundreds of teams, not this many).
const MAX_ENTRIES: usize = 50_000;

struct Entry<V> {
    /// The team's evidence versions when its evidence was read.
    fingerprint: Vec<i64>,
    /// The team's definition it was computed with.
    team: Team,
    /// The first instant it holds for (the evidence read covers no earlier instant).
    valid_from: EpochMs,
    timed: Timed<V>,
    /// What it was computed from, when computed from kept inputs (see [`TeamCache::carry`]).
    stamp: Option<InputsStamp>,
}

/// How a cache has done since the start (for tests, benchmarks and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Values served from the cache.
    pub hits: u64,
    /// Values computed (nothing valid was cached).
    pub misses: u64,
}

/// A per-(org, team) cache of one datasource instance (its settings are fixed: new settings
/// build a new instance, and with it new caches).
pub struct TeamCache<V> {
    entries: Mutex<HashMap<(OrgId, String), Entry<V>>>,
    /// Held by the query computing values this cache misses (see [`TeamCache::computing`]).
    computing: tokio::sync::Mutex<()>,
    hits: AtomicU64,
    misses: AtomicU64,
    process: &'static ProcessCounters,
}

/// The evaluations of `maturity`, `criteria` and `GET /maturity`.
pub type EvaluationCache = TeamCache<Arc<Evaluation>>;

impl<V> std::fmt::Debug for TeamCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamCache")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<V> TeamCache<V> {
    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

impl<V: Clone> TeamCache<V> {
    /// An empty cache counted in `process`.
    pub fn new(process: &'static ProcessCounters) -> Self {
        Self {
            entries: Mutex::default(),
            computing: tokio::sync::Mutex::const_new(()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            process,
        }
    }

    /// The value of `team` at `at`, when one is cached for the same evidence
    /// (`fingerprint`) and definition, and it holds at `at`.
    pub fn get(&self, org: OrgId, team: &Team, fingerprint: &[i64], at: EpochMs) -> Option<V> {
        let found = self.peek(org, team, fingerprint, at, V::clone);
        let (counter, total) = if found.is_some() {
            (&self.hits, &self.process.hits)
        } else {
            (&self.misses, &self.process.misses)
        };
        counter.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Whether [`TeamCache::get`] would find a value (not counted as a hit or a miss).
    pub fn holds(&self, org: OrgId, team: &Team, fingerprint: &[i64], at: EpochMs) -> bool {
        self.peek(org, team, fingerprint, at, |_| ()).is_some()
    }

    fn peek<T>(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
        at: EpochMs,
        take: impl FnOnce(&V) -> T,
    ) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&(org, team.id.clone())).and_then(|e| {
            let valid = e.fingerprint == fingerprint
                && e.team == *team
                && e.valid_from <= at
                && at < e.timed.stable_until;
            valid.then(|| take(&e.timed.value))
        })
    }

    /// Waits until no other query computes values this cache misses, and holds that turn
    /// until the guard is dropped. Queries that arrive together after a write all miss the
    /// written teams: each computing them again cost eight times the work and the memory
    /// under the load test's eight clients (the heap profile of session 9 held five to six
    /// copies of every team's decisions); in turn, the later ones find them cached.
    pub async fn computing(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.computing.lock().await
    }

    /// The value of `team` at `at` when it was computed from kept inputs with `stamp`: the
    /// team's evidence changed since (its versions moved to `fingerprint`), but in nothing
    /// the value reads, so it is the value a computation would give again. Kept from now on
    /// at `fingerprint`.
    pub fn carry(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
        at: EpochMs,
        stamp: InputsStamp,
    ) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get_mut(&(org, team.id.clone()))?;
        let same = e.stamp == Some(stamp)
            && e.team == *team
            && e.valid_from <= at
            && at < e.timed.stable_until;
        if !same {
            return None;
        }
        e.fingerprint = fingerprint.to_vec();
        Some(e.timed.value.clone())
    }

    /// Keeps a fresh value of `team` (whose evidence had `fingerprint` when it was read),
    /// true from `valid_from` until its `stable_until`; `stamp` when computed from kept
    /// inputs, or from a read kept as such.
    pub fn put(
        &self,
        org: OrgId,
        team: Team,
        fingerprint: Vec<i64>,
        valid_from: EpochMs,
        timed: Timed<V>,
        stamp: Option<InputsStamp>,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            (org, team.id.clone()),
            Entry {
                fingerprint,
                team,
                valid_from,
                timed,
                stamp,
            },
        );
    }
}

/// Each org's team list with the evidence versions it was read after: the same versions
/// mean the same teams (every write to a team raises its version), so a warm query reads
/// the versions alone.
#[derive(Debug, Default)]
pub struct TeamLists {
    lists: Mutex<HashMap<OrgId, (EvidenceVersions, Vec<Team>)>>,
}

impl TeamLists {
    /// The teams of `org` when they were read after these very `versions`.
    pub fn get(&self, org: OrgId, versions: &EvidenceVersions) -> Option<Vec<Team>> {
        let lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists
            .get(&org)
            .filter(|(seen, _)| seen == versions)
            .map(|(_, teams)| teams.clone())
    }

    /// Takes the kept list of `org` through a write of events (which changes no team): kept
    /// at the versions the write started from, it is the list at the versions it ended at.
    pub fn advance(&self, org: OrgId, step: &VersionStep) {
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, _)) = lists.get_mut(&org) {
            if let Some(next) = seen.advanced(step) {
                *seen = next;
            }
        }
    }

    /// Keeps the teams of `org`, read after `versions`.
    pub fn put(&self, org: OrgId, versions: EvidenceVersions, teams: Vec<Team>) {
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        if lists.len() >= MAX_ENTRIES {
            lists.clear();
        }
        lists.insert(org, (versions, teams));
    }
}
