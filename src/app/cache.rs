//! Evaluations that cost nothing to ask for again (issue 15): per (org, team), the last
//! evaluation is served until the instant the engine says it may change (`stable_until`),
//! or until the team's evidence changes — known from the store's evidence versions, which a
//! write on any replica raises, so a cache in one process never misses another's writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::engine::{Evaluation, Timed};
use crate::model::{EpochMs, OrgId, Team};

/// Every cache of the process together, for the metrics (`evaluation_cache_total`).
static PROCESS_HITS: AtomicU64 = AtomicU64::new(0);
static PROCESS_MISSES: AtomicU64 = AtomicU64::new(0);

/// Hits and misses of every evaluation cache of this process since it started.
pub fn process_stats() -> CacheStats {
    CacheStats {
        hits: PROCESS_HITS.load(Ordering::Relaxed),
        misses: PROCESS_MISSES.load(Ordering::Relaxed),
    }
}

/// Entries kept at most; past it the cache starts again (a bound, not a policy: an org has
/// hundreds of teams, not this many).
const MAX_ENTRIES: usize = 50_000;

struct Entry {
    /// The team's evidence versions when its evidence was read.
    fingerprint: Vec<i64>,
    /// The team's definition it was evaluated with.
    team: Team,
    /// The instant it was evaluated at.
    at: EpochMs,
    timed: Timed<Evaluation>,
}

/// How the cache has done since the start (for tests, benchmarks and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Evaluations served from the cache.
    pub hits: u64,
    /// Evaluations computed (nothing valid was cached).
    pub misses: u64,
}

/// The per-(org, team) evaluation cache of one datasource instance (its settings are fixed:
/// new settings build a new instance, and with it a new cache).
#[derive(Default)]
pub struct EvaluationCache {
    entries: Mutex<HashMap<(OrgId, String), Entry>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for EvaluationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvaluationCache")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl EvaluationCache {
    /// The evaluation of `team` at `at`, when one is cached for the same evidence
    /// (`fingerprint`) and definition, made at or before `at`, and still true at `at`.
    pub fn get(
        &self,
        org: OrgId,
        team: &Team,
        fingerprint: &[i64],
        at: EpochMs,
    ) -> Option<Evaluation> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let found = entries.get(&(org, team.id.clone())).and_then(|e| {
            let valid = e.fingerprint == fingerprint
                && e.team == *team
                && e.at <= at
                && at < e.timed.stable_until;
            valid.then(|| {
                let mut evaluation = e.timed.value.clone();
                evaluation.at = at;
                evaluation
            })
        });
        let (counter, total) = if found.is_some() {
            (&self.hits, &PROCESS_HITS)
        } else {
            (&self.misses, &PROCESS_MISSES)
        };
        counter.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps a fresh evaluation of `team` (whose evidence had `fingerprint` when it was read).
    pub fn put(&self, org: OrgId, team: Team, fingerprint: Vec<i64>, timed: Timed<Evaluation>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let at = timed.value.at;
        entries.insert(
            (org, team.id.clone()),
            Entry {
                fingerprint,
                team,
                at,
                timed,
            },
        );
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}
