//! The read use cases behind the query types and `GET /maturity`: load a team's evidence
//! once, hand it to the engine, return plain values (the plugin turns them into frames).

use std::collections::HashMap;

use std::sync::Arc;

use super::cache::TeamCache;
use super::kept::{split_kept_by_team, InputsStamp, TeamInputs, TeamRead};
use super::{App, AppError, AppResult, Caller};
use crate::engine::{self, Evaluation, LevelChange, LevelPoint, ReviewTimes, TeamEvidence, Timed};
use crate::model::{EpochMs, EventKind, EventRef, EvidenceVersions, OrgId, Target, Team, DAY_MS};
use crate::model::{Evidence, KeptRead};
use crate::store::{Store, StoreResult};

/// Which teams a query or request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamSelector {
    /// Every team of the org (`team` absent, `*` or `$__all`).
    All,
    /// These ids (one, or a multi-value template variable).
    Only(Vec<String>),
}

impl TeamSelector {
    /// Whether the team with this id is selected.
    pub fn selects(&self, id: &str) -> bool {
        match self {
            TeamSelector::All => true,
            TeamSelector::Only(ids) => ids.iter().any(|i| i == id),
        }
    }
}

/// How many teams' evidence one read holds: bounds the memory of a query over every team
/// (500 teams of 26 weeks of evidence would otherwise be 140,000 events at once).
pub const TEAMS_PER_READ: usize = 10;

/// How many teams' evidence the reads of every query of the process hold at once; a read
/// waits for its teams' share first (issue 15). Bounding each query alone left the memory
/// to the number of clients: under the load test's 8 clients the all-team queries read up
/// to three chunks each, and the live heap rose from ~50 to over 110 MiB in spikes
/// (jemalloc's `stats.allocated`, session 9). Two chunks, one per core, each read and
/// evaluated on its own thread ([`CHUNK_LANES`]), keep both cores busy; at four, a heap
/// profile at the load's peak still found ~34 MiB in evidence reads.
const TEAMS_HELD_AT_ONCE: usize = 2 * TEAMS_PER_READ;

/// How many chunks of one query are read and evaluated at once (see `App::per_chunk`): as
/// many as [`TEAMS_HELD_AT_ONCE`] holds.
const CHUNK_LANES: usize = TEAMS_HELD_AT_ONCE / TEAMS_PER_READ;

/// The shares of [`TEAMS_HELD_AT_ONCE`] (handed out first come, first served).
static TEAMS_HELD: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(TEAMS_HELD_AT_ONCE);

/// A read of `teams` teams' evidence takes one share per team (a read of every team, as one
/// chunk); the read is held as long as its permit.
fn shares(teams: usize) -> u32 {
    teams.clamp(1, TEAMS_PER_READ) as u32
}

/// Waits until a read of `teams` teams' evidence may be held. Never called while holding a
/// permit (see `App::per_chunk`).
async fn hold_evidence(teams: usize) -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    TEAMS_HELD
        .acquire_many(shares(teams))
        .await
        .map_err(|e| AppError::Internal(format!("evidence reads stopped: {e}")))
}

/// A team's value a query did not find in its cache.
enum Fresh<V> {
    /// Computed, from kept inputs or a read kept with this stamp (else none).
    Computed(Timed<V>, Option<InputsStamp>),
    /// The cached value, still true: the team's evidence changed in nothing it reads (see
    /// [`TeamCache::carry`]).
    Carried(V),
}

/// Counts per day for one team (`reviewActivity`).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The team.
    pub team: String,
    /// Start of each day bucket, ascending.
    pub times: Vec<EpochMs>,
    /// Reviews per day.
    pub reviews: Vec<f64>,
    /// Views that count as the team's review evidence, per day.
    pub views: Vec<f64>,
    /// Decisions per day.
    pub decisions: Vec<f64>,
    /// Questions per day.
    pub questions: Vec<f64>,
}

/// One row of `reviewLapse`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lapse {
    /// The team.
    pub team: String,
    /// The dashboard uid, or empty for the team as a whole.
    pub dashboard: String,
    /// Hours from the last review evidence to `T` (the whole window when none).
    pub hours_since_review: f64,
    /// The team's cadence in hours.
    pub cadence_hours: f64,
}

/// Day buckets anchored at `to`: `[to − (k+1)·step, to − k·step)` for every bucket that
/// ends after `from`, returned by start time, ascending.
pub fn day_buckets(from: EpochMs, to: EpochMs, step: i64) -> Vec<EpochMs> {
    let step = step.max(1);
    if to <= from {
        return Vec::new();
    }
    let n = (to - from + step - 1) / step;
    // Bounded so that a huge range cannot exhaust memory: 20 years of days.
    let n = n.min(7400);
    (0..n).rev().map(|k| to - (k + 1) * step).collect()
}

/// How [`App::per_chunk`] reads a chunk of teams: [`whole_evidence`] or the kept read.
pub(super) type EvidenceRead<R> =
    fn(&dyn Store, OrgId, &[String], EpochMs, EpochMs) -> StoreResult<R>;

/// [`crate::store::Store::evidence`], as [`App::per_chunk`] reads it.
pub(super) fn whole_evidence(
    store: &dyn Store,
    org: OrgId,
    teams: &[String],
    from: EpochMs,
    to: EpochMs,
) -> StoreResult<Evidence> {
    store.evidence(org, teams, from, to)
}

/// [`Store::kept_evidence`], as [`App::per_chunk`] reads it.
pub(super) fn kept_evidence(
    store: &dyn Store,
    org: OrgId,
    teams: &[String],
    from: EpochMs,
    to: EpochMs,
) -> StoreResult<KeptRead> {
    store.kept_evidence(org, teams, from, to)
}

impl App {
    /// Runs `each` over the evidence of the selected teams, read [`TEAMS_PER_READ`] teams at
    /// a time, and joins the answers in team order (the order of one read): a query over
    /// every team of a large store never holds all their events at once (issue 6). `each`
    /// runs on the blocking thread that read the chunk, right after its read, so that both
    /// cores read and compute.
    pub(super) async fn per_chunk<R, T, F>(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        (from, to): (EpochMs, EpochMs),
        reader: EvidenceRead<R>,
        each: F,
    ) -> AppResult<Vec<T>>
    where
        R: 'static,
        T: Send + 'static,
        F: Fn(R) -> Vec<T> + Send + Sync + 'static,
    {
        let each = Arc::new(each);
        if let TeamSelector::Only(ids) = teams {
            if ids.len() <= TEAMS_PER_READ {
                let _held = hold_evidence(ids.len()).await?;
                caller.check_read()?;
                let (org, ids) = (caller.org, ids.clone());
                return self
                    .with_store(move |s| Ok(each(reader(s, org, &ids, from, to)?)))
                    .await;
            }
        }
        caller.check_read()?;
        let org = caller.org;
        let selected: Vec<String> = self
            .with_store(move |s| Ok(s.list_teams(org)?))
            .await?
            .into_iter()
            .map(|t| t.id)
            .filter(|id| teams.selects(id))
            .collect();
        // The chunks run on `CHUNK_LANES` threads of the blocking pool, each taking the next
        // chunk when it is done with one: a thread that stays on its core from one chunk to
        // the next. A task per chunk, started from here as the one before finished, waited
        // 0.1–2.7 ms for its thread to be woken on the other (idle) core, and this task as
        // long for the answer: a fifth of a cold all-team `maturity` (session 16). Each lane
        // waits for its chunk's share holding none (holding one while waiting for another
        // deadlocked two queries, session 9), and one share at a time, so that a one-team
        // query gets its turn between an all-team query's chunks.
        let chunks: Arc<Vec<Vec<String>>> = Arc::new(
            selected
                .chunks(TEAMS_PER_READ)
                .map(<[String]>::to_vec)
                .collect(),
        );
        let next_chunk = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let lanes: Vec<_> = (0..CHUNK_LANES.min(chunks.len()))
            .map(|_| {
                let (store, chunks) = (self.store().clone(), chunks.clone());
                let (next_chunk, each) = (next_chunk.clone(), each.clone());
                tokio::task::spawn_blocking(move || {
                    let mut done = Vec::new();
                    loop {
                        let index = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(ids) = chunks.get(index) else {
                            return AppResult::Ok(done);
                        };
                        let answered = futures::executor::block_on(hold_evidence(ids.len()))
                            .and_then(|held| {
                                let read = reader(&*store, org, ids, from, to)?;
                                let answers = each(read);
                                drop(held);
                                Ok(answers)
                            });
                        match answered {
                            Ok(answers) => done.push((index, answers)),
                            Err(e) => {
                                // The other lane stops at its next chunk: the query fails.
                                next_chunk
                                    .store(chunks.len(), std::sync::atomic::Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        let mut answers: Vec<Option<Vec<T>>> = Vec::with_capacity(chunks.len());
        answers.resize_with(chunks.len(), || None);
        // Every lane is awaited, a failed query's too: none reads on after its query answered.
        let mut failed = None;
        for lane in lanes {
            let done = lane
                .await
                .map_err(|e| AppError::Internal(format!("store task failed: {e}")))
                .and_then(|done| done);
            match done {
                Ok(done) => {
                    for (index, chunk) in done {
                        answers[index] = Some(chunk);
                    }
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(answers.into_iter().flatten().flatten().collect())
    }

    /// The `teams` query: every team of the org.
    pub async fn teams(&self, caller: &Caller) -> AppResult<Vec<Team>> {
        self.list_teams(caller).await
    }

    /// The org's evidence versions, then its teams. The versions first: evidence read after
    /// them is at least as new, so an answer kept at them can be older than its fingerprint
    /// says, never newer. Every write to a team raises a version, so with the same versions
    /// the team list is the one kept.
    pub(super) async fn versions_and_teams(
        &self,
        org: OrgId,
    ) -> AppResult<(EvidenceVersions, Vec<Team>)> {
        let follower = self.follower.clone();
        self.with_store(move |s| {
            let versions = s.evidence_versions(org)?;
            let lists = &follower.team_lists;
            if let Some(teams) = lists.get(org, &versions) {
                return Ok((versions, teams));
            }
            let teams = s.list_teams(org)?;
            lists.put(org, versions.clone(), teams.clone());
            Ok((versions, teams))
        })
        .await
    }

    /// Per-team values computed from each selected team's evidence, in team order (issue 15).
    /// A team whose evidence did not change (the store's evidence versions) since a value in
    /// `cache` that still holds at `at` is served from it; the others are computed from
    /// their kept evidence (events of `kinds`, the only ones `compute` reads) or read over
    /// `read`, and kept from `valid_from` until their `stable_until`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn cached_per_team<V, F>(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        cache: &TeamCache<V>,
        at: EpochMs,
        valid_from: EpochMs,
        read: (EpochMs, EpochMs),
        kinds: &'static [EventKind],
        compute: F,
    ) -> AppResult<Vec<(Team, V)>>
    where
        V: Clone + Send + 'static,
        F: Fn(&Team, Vec<EventRef<'_>>, &[Target]) -> Timed<V> + Send + Sync + 'static,
    {
        let compute = Arc::new(compute);
        caller.check_read()?;
        let org = caller.org;
        let (versions, listed) = self.versions_and_teams(org).await?;
        let selected: Vec<Team> = listed
            .into_iter()
            .filter(|t| teams.selects(&t.id))
            .collect();
        // One query at a time computes what the cache misses when it misses more than a read's
        // worth of teams (see `TeamCache::computing`): one that waited finds what the other
        // computed, counted as hits. A query missing a few teams computes them at once: the
        // turn of an all-team query is ~40 ms of computing, a team ~1 ms (waiting for it
        // tripled the p99 of one-team `criteria` under the load test).
        let fingerprints: Vec<_> = selected.iter().map(|t| versions.fingerprint(t)).collect();
        let misses = selected
            .iter()
            .zip(&fingerprints)
            .filter(|(t, fingerprint)| !cache.holds(org, t, fingerprint, at))
            .count();
        let _turn = if misses > TEAMS_PER_READ {
            Some(cache.computing().await)
        } else {
            None
        };
        let mut answers: Vec<Option<V>> = Vec::with_capacity(selected.len());
        let mut missing: Vec<&Team> = Vec::new();
        for (team, fingerprint) in selected.iter().zip(&fingerprints) {
            let cached = cache.get(org, team, fingerprint, at);
            if cached.is_none() {
                missing.push(team);
            }
            answers.push(cached);
        }
        if !missing.is_empty() {
            let (from, to) = read;
            // Inputs are kept for reads to the end of time only: those are the ones a write
            // can take forward (a later `from` is a subset of an earlier one's).
            let keep = to == EpochMs::MAX;
            let mut fresh: Vec<(Team, Fresh<V>)> = Vec::with_capacity(missing.len());
            let mut behind: Vec<&Team> = Vec::new();
            let from_kept = |team: &Team| {
                let fingerprint = versions.fingerprint(team);
                let inputs = self.follower.kept.get(org, team, &fingerprint, from)?;
                let stamp = inputs.stamp(kinds);
                if let Some(value) = cache.carry(org, team, &fingerprint, at, stamp) {
                    return Some((team.clone(), Fresh::Carried(value)));
                }
                let events = inputs.events_from(from, kinds);
                let timed = (*compute)(team, events, inputs.targets());
                Some((team.clone(), Fresh::Computed(timed, Some(stamp))))
            };
            for team in missing {
                match keep.then(|| from_kept(team)).flatten() {
                    Some(computed) => fresh.push(computed),
                    None => behind.push(team),
                }
            }
            if keep && !behind.is_empty() {
                // The versions can be those of a write that committed and is still on its
                // way to the kept evidence (it takes its steps forward after its commit):
                // once it is there, the teams it wrote are no longer behind, and a read of
                // them again (~40 teams after a batch) is saved.
                let writes = self.writes.clone();
                tokio::task::spawn_blocking(move || writes.settled())
                    .await
                    .map_err(|e| AppError::Internal(format!("store task failed: {e}")))?;
                behind.retain(|team| match from_kept(team) {
                    Some(computed) => {
                        fresh.push(computed);
                        false
                    }
                    None => true,
                });
            }
            if keep {
                self.follower.kept.count(fresh.len(), behind.len());
            }
            let to_read: Vec<String> = behind.iter().map(|t| t.id.clone()).collect();
            if !to_read.is_empty() {
                let follower = self.follower.clone();
                let read = self
                    .per_chunk(
                        caller,
                        &TeamSelector::Only(to_read),
                        (from, to),
                        kept_evidence,
                        move |read| {
                            let kept = &follower.kept;
                            split_kept_by_team(read)
                                .into_iter()
                                .map(|read| {
                                    let TeamRead {
                                        team,
                                        events,
                                        targets,
                                        fingerprint,
                                    } = read;
                                    let viewed = events.iter().map(EventRef::from).collect();
                                    let timed = (*compute)(&team, viewed, &targets);
                                    let mut stamp = None;
                                    if keep
                                        && kept.wants(org, &team.id, || {
                                            TeamInputs::bytes_of(&events, &targets)
                                        })
                                    {
                                        // At the versions of the read's own snapshot: exactly
                                        // the evidence of these versions.
                                        let inputs = Arc::new(TeamInputs::of_read(events, targets));
                                        stamp = Some(inputs.stamp(kinds));
                                        kept.put(org, team.clone(), fingerprint, from, inputs);
                                    }
                                    (team, Fresh::Computed(timed, stamp))
                                })
                                .collect()
                        },
                    )
                    .await?;
                fresh.extend(read);
            }
            let mut by_id: HashMap<String, V> = HashMap::with_capacity(fresh.len());
            for (team, fresh) in fresh {
                match fresh {
                    Fresh::Carried(value) => {
                        by_id.insert(team.id.clone(), value);
                    }
                    Fresh::Computed(timed, stamp) => {
                        by_id.insert(team.id.clone(), timed.value.clone());
                        let fingerprint = versions.fingerprint(&team);
                        cache.put(org, team, fingerprint, valid_from, timed, stamp);
                    }
                }
            }
            for (slot, team) in answers.iter_mut().zip(&selected) {
                if slot.is_none() {
                    *slot = by_id.remove(&team.id);
                }
            }
        }
        // A team deleted between the listing and the read has no answer: left out, as an
        // uncached read would have.
        Ok(selected
            .into_iter()
            .zip(answers)
            .filter_map(|(t, a)| a.map(|v| (t, v)))
            .collect())
    }

    /// `GET /maturity` and the CLI's report: the ladder at `at`, in team order (see
    /// [`App::maturity_shared`]).
    pub async fn maturity(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<Evaluation>> {
        Ok(self
            .maturity_shared(caller, teams, at)
            .await?
            .into_iter()
            .map(|shared| {
                let mut evaluation = Evaluation::clone(&shared);
                evaluation.at = at;
                evaluation
            })
            .collect())
    }

    /// The `maturity` / `criteria` queries: the ladder at `at`, in team order, each team's
    /// evaluation cached until the engine's `stable_until` (issue 15) and shared with the
    /// cache, not copied (a warm query over 500 teams spent most of its time copying and
    /// dropping their criteria and sentences). An evaluation served from the cache keeps
    /// the `at` it was computed for: the same answer as at `at`, but not its instant.
    pub async fn maturity_shared(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<Arc<Evaluation>>> {
        let settings = self.settings().maturity.clone();
        let from = at.saturating_sub(settings.window_ms());
        // Read to the end of time: an event already stored with a later time enters the
        // window as `at` moves on, and the engine's instant must know of it.
        let evaluations = self
            .cached_per_team(
                caller,
                teams,
                &self.evaluations,
                at,
                at,
                (from, EpochMs::MAX),
                &TeamEvidence::KINDS,
                move |t, events, targets| {
                    let timed =
                        TeamEvidence::from_events(&settings, t, events, targets).evaluate_timed(at);
                    Timed {
                        value: Arc::new(timed.value),
                        stable_until: timed.stable_until,
                    }
                },
            )
            .await?;
        Ok(evaluations.into_iter().map(|(_, e)| e).collect())
    }

    /// The `maturity` query: each team's level at `at`, in team order. Its frame shows the
    /// level alone, so the level-only evaluation answers it (no sentences, no evidence
    /// lists: they were a third of an all-team query's computing under the load test,
    /// issue 15), kept in its own cache until its own `stable_until`, which comes no
    /// earlier than a full evaluation's and often later.
    pub async fn levels(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        at: EpochMs,
    ) -> AppResult<Vec<(Team, LevelPoint)>> {
        let settings = self.settings().maturity.clone();
        let from = at.saturating_sub(settings.window_ms());
        self.cached_per_team(
            caller,
            teams,
            &self.levels,
            at,
            at,
            (from, EpochMs::MAX),
            &TeamEvidence::KINDS,
            move |t, events, targets| {
                TeamEvidence::from_events(&settings, t, events, targets).level_at_timed(at)
            },
        )
        .await
    }

    /// `GET /maturity?team=X` for one team; 404 when the team does not exist.
    pub async fn maturity_of(
        &self,
        caller: &Caller,
        team: &str,
        at: EpochMs,
    ) -> AppResult<Evaluation> {
        self.maturity(caller, &TeamSelector::Only(vec![team.to_string()]), at)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::NotFound(format!("team {team:?} not found")))
    }

    /// The range of evidence every step of a history needs (`None` without steps).
    fn history_range(&self, steps: &[EpochMs]) -> Option<(EpochMs, EpochMs)> {
        let (first, last) = (steps.first()?, steps.last()?);
        let window = self.settings().maturity.window_ms();
        Some((first.saturating_sub(window), *last))
    }

    /// A history (`maturityHistory`, `levelChanges`) of one team whose recent evidence is
    /// kept (issue 15): only `[from, kept_from)` is read from the store, and the rest comes
    /// from the kept evidence, which must be at exactly the versions of that read's
    /// snapshot (every decision and outcome, the other events from `kept_from` on; the
    /// engine counts an event handed in twice once). A year's history read ~2,000 events a
    /// query, most of them kept already. `None` when the selection is not one team kept
    /// from inside the range, or its kept evidence is not at the read's versions: the
    /// whole range is read then.
    async fn history_of_kept<T>(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        (from, to): (EpochMs, EpochMs),
        each: impl FnOnce(TeamEvidence<'_>) -> T,
    ) -> AppResult<Option<(String, T)>> {
        let TeamSelector::Only(ids) = teams else {
            return Ok(None);
        };
        let [id] = ids.as_slice() else {
            return Ok(None);
        };
        let (org, kept) = (caller.org, &self.follower.kept);
        let Some(read_to) = kept.kept_from(org, id).filter(|k| from < *k && *k <= to) else {
            return Ok(None);
        };
        let _held = hold_evidence(1).await?;
        caller.check_read()?;
        let one = ids.clone();
        let older = self
            .with_store(move |s| Ok(s.kept_evidence(org, &one, from, read_to)?))
            .await?;
        let Some(read) = split_kept_by_team(older).into_iter().next() else {
            return Ok(None);
        };
        let team = &read.team;
        let Some((inputs, kept_from)) = kept.get_at(org, team, &read.fingerprint) else {
            return Ok(None);
        };
        if kept_from > read_to {
            // Kept again since, from later on: the read does not reach it.
            return Ok(None);
        }
        let mut events: Vec<EventRef<'_>> = read.events.iter().map(EventRef::from).collect();
        events.extend(inputs.events_from(read_to, &TeamEvidence::KINDS));
        let settings = &self.settings().maturity;
        let evidence = TeamEvidence::from_events(settings, team, events, inputs.targets());
        Ok(Some((team.id.clone(), each(evidence))))
    }

    /// `maturityHistory`: the level at each step, per team (the cheap path: no sentences).
    pub async fn maturity_history(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        steps: &[EpochMs],
    ) -> AppResult<Vec<(String, Vec<LevelPoint>)>> {
        let Some((from, to)) = self.history_range(steps) else {
            return Ok(Vec::new());
        };
        let kept = self
            .history_of_kept(caller, teams, (from, to), |ev| ev.level_history(steps))
            .await?;
        if let Some(history) = kept {
            return Ok(vec![history]);
        }
        let (settings, steps) = (self.settings().maturity.clone(), steps.to_vec());
        self.per_chunk(caller, teams, (from, to), kept_evidence, move |read| {
            split_kept_by_team(read)
                .into_iter()
                .map(|read| {
                    let events: Vec<EventRef<'_>> =
                        read.events.iter().map(EventRef::from).collect();
                    let evidence =
                        TeamEvidence::from_events(&settings, &read.team, events, &read.targets);
                    (read.team.id.clone(), evidence.level_history(&steps))
                })
                .collect()
        })
        .await
    }

    /// `levelChanges`: each change of level between consecutive steps, per team.
    pub async fn level_changes(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        steps: &[EpochMs],
    ) -> AppResult<Vec<(String, LevelChange)>> {
        let Some((from, to)) = self.history_range(steps) else {
            return Ok(Vec::new());
        };
        let kept = self
            .history_of_kept(caller, teams, (from, to), |ev| ev.level_changes(steps))
            .await?;
        if let Some((team, changes)) = kept {
            return Ok(changes.into_iter().map(|c| (team.clone(), c)).collect());
        }
        let (settings, steps) = (self.settings().maturity.clone(), steps.to_vec());
        self.per_chunk(caller, teams, (from, to), kept_evidence, move |read| {
            split_kept_by_team(read)
                .into_iter()
                .flat_map(|read| {
                    let events: Vec<EventRef<'_>> =
                        read.events.iter().map(EventRef::from).collect();
                    let changes =
                        TeamEvidence::from_events(&settings, &read.team, events, &read.targets)
                            .level_changes(&steps);
                    let team = read.team.id;
                    changes.into_iter().map(move |c| (team.clone(), c))
                })
                .collect()
        })
        .await
    }

    /// `reviewActivity`: counts per day bucket ending at `to`, in team order. A team whose
    /// kept evidence reaches back to the first bucket at the store's versions is counted
    /// from it (issue 15): a dashboard's activity panel costs one versions read, where
    /// reading its evidence took the team's every decision since the start and ~9 round
    /// trips on PostgreSQL (its p99 under the load test was over 50 ms). The others are read.
    pub async fn review_activity(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        from: EpochMs,
        to: EpochMs,
    ) -> AppResult<Vec<Activity>> {
        let buckets = day_buckets(from, to, DAY_MS);
        let Some(&start) = buckets.first() else {
            return Ok(Vec::new());
        };
        caller.check_read()?;
        let org = caller.org;
        let (versions, listed) = self.versions_and_teams(org).await?;
        let kept = &self.follower.kept;
        let mut counted: Vec<Option<Activity>> = Vec::new();
        let mut to_read: Vec<String> = Vec::new();
        let selected: Vec<Team> = listed
            .into_iter()
            .filter(|t| teams.selects(&t.id))
            .collect();
        for team in &selected {
            match kept.get(org, team, &versions.fingerprint(team), start) {
                Some(inputs) => {
                    let events = inputs.events_from(start, &ACTIVITY_KINDS);
                    counted.push(Some(activity(team, events, &buckets, start, to)));
                }
                None => {
                    counted.push(None);
                    to_read.push(team.id.clone());
                }
            }
        }
        kept.count(selected.len() - to_read.len(), to_read.len());
        if !to_read.is_empty() {
            let mut read: HashMap<String, Activity> = self
                .per_chunk(
                    caller,
                    &TeamSelector::Only(to_read),
                    (start, to),
                    kept_evidence,
                    move |read| {
                        split_kept_by_team(read)
                            .into_iter()
                            .map(|read| {
                                let events = read.events.iter().map(EventRef::from);
                                let a = activity(&read.team, events, &buckets, start, to);
                                (a.team.clone(), a)
                            })
                            .collect()
                    },
                )
                .await?
                .into_iter()
                .collect();
            for (slot, team) in counted.iter_mut().zip(&selected) {
                if slot.is_none() {
                    // A team deleted since the listing has no answer, as before.
                    *slot = read.remove(&team.id);
                }
            }
        }
        Ok(counted.into_iter().flatten().collect())
    }

    /// `reviewLapse`: hours since the last review evidence at `at`, per team or per dashboard.
    /// Each team's review times are kept (issue 15): read from `at − W` on, they answer for
    /// every later instant until the team's evidence changes.
    pub async fn review_lapse(
        &self,
        caller: &Caller,
        teams: &TeamSelector,
        per_dashboard: bool,
        at: EpochMs,
    ) -> AppResult<Vec<Lapse>> {
        let settings = &self.settings().maturity;
        let from = at.saturating_sub(settings.window_ms());
        let times = self
            .cached_per_team(
                caller,
                teams,
                &self.review_times,
                at,
                at,
                (from, EpochMs::MAX),
                &ReviewTimes::KINDS,
                |t, events, _| Timed {
                    value: Arc::new(ReviewTimes::new(t, events)),
                    stable_until: EpochMs::MAX,
                },
            )
            .await?;
        let mut rows = Vec::new();
        for (team, times) in &times {
            let cadence_hours = f64::from(team.cadence_days) * 24.0;
            let row = |dashboard: String, i: Option<usize>| Lapse {
                team: team.id.clone(),
                dashboard,
                hours_since_review: times.hours_since_review(settings, at, i),
                cadence_hours,
            };
            if per_dashboard {
                rows.extend(
                    team.dashboards
                        .iter()
                        .enumerate()
                        .map(|(i, d)| row(d.clone(), Some(i))),
                );
            } else {
                rows.push(row(String::new(), None));
            }
        }
        Ok(rows)
    }
}

/// The kinds of event `reviewActivity` counts.
const ACTIVITY_KINDS: [EventKind; 4] = [
    EventKind::Review,
    EventKind::View,
    EventKind::Decision,
    EventKind::Question,
];

/// `team`'s counts per day bucket of `[start, to)` among `events` (the team's, and views
/// of any dashboard: only those that count as its review evidence are counted).
fn activity<'e>(
    team: &Team,
    events: impl IntoIterator<Item = EventRef<'e>>,
    buckets: &[EpochMs],
    start: EpochMs,
    to: EpochMs,
) -> Activity {
    let n = buckets.len();
    let mut a = Activity {
        team: team.id.clone(),
        times: buckets.to_vec(),
        reviews: vec![0.0; n],
        views: vec![0.0; n],
        decisions: vec![0.0; n],
        questions: vec![0.0; n],
    };
    for e in events {
        if e.time() < start || e.time() >= to {
            continue;
        }
        let counts = match e.kind() {
            EventKind::View => engine::counts_as_review_evidence(team, e),
            _ => e.team() == Some(team.id.as_str()),
        };
        if !counts {
            continue;
        }
        let series = match e.kind() {
            EventKind::Review => &mut a.reviews,
            EventKind::View => &mut a.views,
            EventKind::Decision => &mut a.decisions,
            EventKind::Question => &mut a.questions,
            _ => continue,
        };
        let i = ((e.time() - start) / DAY_MS) as usize;
        if let Some(slot) = series.get_mut(i) {
            *slot += 1.0;
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_buckets_are_anchored_at_the_end() {
        assert_eq!(
            day_buckets(0, 3 * DAY_MS, DAY_MS),
            vec![0, DAY_MS, 2 * DAY_MS]
        );
        // A partial first day still gets a bucket, anchored at `to`.
        assert_eq!(day_buckets(10, 2 * DAY_MS + 5, DAY_MS), vec![5, DAY_MS + 5]);
        assert!(day_buckets(5, 5, DAY_MS).is_empty());
    }

    use crate::app::Role;
    use crate::store::sqlite::SqliteStore;
    use crate::store::StoreError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An app over a fresh SQLite store with `n` teams `team-00` …, listed in that order.
    fn app_with_teams(dir: &tempfile::TempDir, n: usize) -> App {
        let store = SqliteStore::open(&dir.path().join("m.db")).expect("store");
        for i in 0..n {
            let team = Team {
                id: format!("team-{i:02}"),
                name: format!("Team {i}"),
                dashboards: vec![],
                members: vec![],
                cadence_days: 7,
                created_at: 0,
            };
            store.create_team(1, &team).expect("team");
        }
        App::new(Arc::new(store), Default::default(), Arc::new(|| 0))
    }

    fn viewer() -> Caller {
        Caller {
            org: 1,
            user: Some(("viewer".into(), Role::Viewer)),
        }
    }

    /// The second chunk read slowest: the lane that did not take it reads every later one
    /// meanwhile.
    fn ids_read_slowly_second(
        _: &dyn Store,
        _: OrgId,
        ids: &[String],
        _: EpochMs,
        _: EpochMs,
    ) -> StoreResult<Vec<String>> {
        let second = ids
            .iter()
            .any(|id| *id == format!("team-{TEAMS_PER_READ:02}"));
        std::thread::sleep(std::time::Duration::from_millis(if second {
            60
        } else {
            5
        }));
        Ok(ids.to_vec())
    }

    #[test]
    fn chunks_evaluated_on_their_lanes_answer_in_team_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app_with_teams(&dir, 4 * TEAMS_PER_READ + 3);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let run = |teams: TeamSelector| {
            runtime
                .block_on(
                    app.per_chunk(&viewer(), &teams, (0, 1), ids_read_slowly_second, |ids| {
                        ids.into_iter().map(|id| format!("{id}!")).collect()
                    }),
                )
                .expect("answers")
        };
        let all: Vec<String> = (0..4 * TEAMS_PER_READ + 3)
            .map(|i| format!("team-{i:02}!"))
            .collect();
        assert_eq!(run(TeamSelector::All), all);
        // A selection over more than one chunk keeps the listing's order too.
        let some: Vec<String> = (0..4 * TEAMS_PER_READ + 3)
            .rev()
            .step_by(2)
            .map(|i| format!("team-{i:02}"))
            .collect();
        let mut want: Vec<String> = some.iter().map(|id| format!("{id}!")).collect();
        want.sort();
        assert_eq!(run(TeamSelector::Only(some)), want);
    }

    /// Reads of [`fails_on_the_first_chunk`].
    static READS: AtomicUsize = AtomicUsize::new(0);

    /// Fails the chunk of `team-00` at once; the others take a while.
    fn fails_on_the_first_chunk(
        _: &dyn Store,
        _: OrgId,
        ids: &[String],
        _: EpochMs,
        _: EpochMs,
    ) -> StoreResult<Vec<String>> {
        READS.fetch_add(1, Ordering::SeqCst);
        if ids.iter().any(|id| id == "team-00") {
            return Err(StoreError::Database("disk I/O error".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        Ok(ids.to_vec())
    }

    #[test]
    fn a_chunk_that_fails_fails_the_query_and_stops_the_other_lane() {
        let chunks = 6;
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app_with_teams(&dir, chunks * TEAMS_PER_READ);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let failed = runtime
            .block_on(app.per_chunk(
                &viewer(),
                &TeamSelector::All,
                (0, 1),
                fails_on_the_first_chunk,
                |ids| ids,
            ))
            .expect_err("the query fails");
        assert_eq!(failed.to_string(), "the store failed: disk I/O error");
        let reads = READS.load(Ordering::SeqCst);
        assert!(
            reads < chunks,
            "the lane still reading stops after its chunk: {reads} of {chunks} chunks read"
        );
        // Every share was given back: a query after it reads every chunk.
        let all = runtime
            .block_on(app.per_chunk(
                &viewer(),
                &TeamSelector::All,
                (0, 1),
                ids_read_slowly_second,
                |ids| ids,
            ))
            .expect("answers");
        assert_eq!(all.len(), chunks * TEAMS_PER_READ);
    }
}
