//! The storage seam: a small trait of the verbs the app needs, implemented per database
//! (SQLite now, PostgreSQL later), each with its own ordered migrations.
//!
//! The trait is synchronous on purpose: rusqlite is blocking, and callers run store work
//! on `spawn_blocking`, so no lock is ever held across an `.await`.
//!
//! - [`sqlite`]: the SQLite store; every list reaches SQL as one JSON variable, every write
//!   transaction takes the lock up front (issue 11).
//! - [`diagnose`]: what is wrong with a store file, in words an admin can act on.

pub mod diagnose;
pub mod postgres;
pub mod sqlite;

use std::cell::RefCell;
use std::sync::Arc;

use crate::settings::Storage;

use crate::model::{
    Actual, EpochMs, Event, EventFilter, EventKind, Evidence, EvidenceVersions, KeptRead, OrgId,
    PendingView, Source, Target, TargetWritten, Team, Verification, VersionStep, ViewsWritten,
};

thread_local! {
    /// Told when a write on this thread is about to commit (see [`announce_commit`]).
    static COMMIT_LISTENER: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Called by a store right before it commits a write that its caller takes forward into
/// kept evidence (events, passive views, actuals): from then on the write's versions may be
/// seen, and `app::write_order` lets a query that sees them wait until they are taken.
/// Does nothing outside [`listening_for_commits`].
pub fn announce_commit() {
    COMMIT_LISTENER.with(|listener| {
        if let Some(listen) = listener.borrow().as_ref() {
            listen();
        }
    });
}

/// Runs `f` with `listener` told of the commits it announces on this thread.
pub fn listening_for_commits<T>(listener: Box<dyn Fn()>, f: impl FnOnce() -> T) -> T {
    /// Stops listening when `f` returns or panics.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            COMMIT_LISTENER.with(|listener| *listener.borrow_mut() = None);
        }
    }
    COMMIT_LISTENER.with(|l| *l.borrow_mut() = Some(listener));
    let _stop = Stop;
    f()
}

/// What can go wrong in a store, separated by whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in this org.
    #[error("{0} not found")]
    NotFound(String),
    /// An id is taken, or a delete is blocked by references.
    #[error("{0}")]
    Conflict(String),
    /// The store cannot be opened or used as ours (foreign file, newer schema, ...).
    #[error("{0}")]
    Unusable(String),
    /// The database failed underneath us.
    #[error("database error: {0}")]
    Database(String),
}

/// Result of a store verb.
pub type StoreResult<T> = Result<T, StoreError>;

/// One event of [`Store::visit_events`], its fields borrowed from the store's row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListedEvent<'r> {
    /// As [`Event::id`].
    pub id: &'r str,
    /// As [`Event::kind`].
    pub kind: EventKind,
    /// As [`Event::time`].
    pub time: EpochMs,
    /// As [`Event::time_end`].
    pub time_end: Option<EpochMs>,
    /// As [`Event::team`].
    pub team: Option<&'r str>,
    /// As [`Event::dashboard_uid`].
    pub dashboard_uid: Option<&'r str>,
    /// As [`Event::user`].
    pub user: &'r str,
    /// As [`Event::text`].
    pub text: &'r str,
    /// The tags as stored: a JSON list of strings.
    pub tags_json: &'r str,
}

impl<'r> ListedEvent<'r> {
    /// The fields of `event` an answer lists (its tags written as the store keeps them
    /// into `tags_json`, which must outlive the borrow).
    pub fn of(event: &'r Event, tags_json: &'r str) -> Self {
        ListedEvent {
            id: &event.id,
            kind: event.kind,
            time: event.time,
            time_end: event.time_end,
            team: event.team.as_deref(),
            dashboard_uid: event.dashboard_uid.as_deref(),
            user: &event.user,
            text: &event.text,
            tags_json,
        }
    }
}

/// Where [`Store::visit_events`] hands each event.
pub trait ListedEvents {
    /// Takes one event; an error stops the listing and is its answer.
    fn take(&mut self, event: ListedEvent<'_>) -> StoreResult<()>;
}

/// Opens (creating or migrating when needed) the store the settings name: the one place that
/// knows which implementation serves which [`Storage`].
pub fn open_store(storage: &Storage) -> StoreResult<Arc<dyn Store>> {
    Ok(match storage {
        Storage::Sqlite { path, .. } => Arc::new(sqlite::SqliteStore::open(path)?),
        Storage::Postgres { url } => Arc::new(postgres::PostgresStore::open(url)?),
    })
}

/// Counts shown by CheckHealth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Teams of the org.
    pub teams: u64,
    /// Events of the org.
    pub events: u64,
    /// Targets of the org.
    pub targets: u64,
}

/// A store of teams, events and targets, scoped by org.
pub trait Store: SyncStore + Send + Sync + 'static {
    /// Where the data lives, for people (a path or a server).
    fn describe(&self) -> String;
    /// The schema version in use.
    fn schema_version(&self) -> i64;
    /// Counts for CheckHealth.
    fn counts(&self, org: OrgId) -> StoreResult<Counts>;
    /// Approximate size on disk in bytes (for metrics).
    fn size_bytes(&self) -> u64;
    /// Checks that the store can be written and is sound, within about `budget`: a note
    /// for CheckHealth, or `Unusable` naming what is wrong in words an admin can act on.
    fn check_health(&self, budget: std::time::Duration) -> StoreResult<String>;

    /// All teams of the org, by id.
    fn list_teams(&self, org: OrgId) -> StoreResult<Vec<Team>>;
    /// One team.
    fn get_team(&self, org: OrgId, id: &str) -> StoreResult<Team>;
    /// Creates a team; `Conflict` when the id is taken.
    fn create_team(&self, org: OrgId, team: &Team) -> StoreResult<()>;
    /// Replaces a team's definition, keeping `createdAt`; `NotFound` when absent.
    fn replace_team(&self, org: OrgId, team: &Team) -> StoreResult<Team>;
    /// Deletes a team; `Conflict` while events or targets name it unless `cascade`.
    fn delete_team(&self, org: OrgId, id: &str, cascade: bool) -> StoreResult<()>;

    /// Which of `ids` exist as decisions in the org.
    fn existing_decisions(&self, org: OrgId, ids: &[String]) -> StoreResult<Vec<String>>;
    /// Which of `ids` exist as events of any kind in the org.
    fn existing_event_ids(&self, org: OrgId, ids: &[String]) -> StoreResult<Vec<String>>;
    /// Inserts events all-or-none; `Conflict` naming the first id already taken. Returns how
    /// the write moved the evidence versions it can raise (issue 15: a cache that kept a
    /// team's evidence at the `before` versions takes these events in instead of reading it
    /// again).
    fn insert_events(&self, org: OrgId, events: &[Event]) -> StoreResult<VersionStep>;
    /// Writes passive views, at most one per session bucket. Returns the views stored (a
    /// view of a bucket already stored is skipped), by org in ascending order, each org's
    /// with how it moved the versions of their dashboards (as [`Store::insert_events`]).
    fn insert_views(
        &self,
        views: &[PendingView],
        make_id: &mut dyn FnMut() -> String,
        now: EpochMs,
    ) -> StoreResult<Vec<ViewsWritten>>;
    /// Events matching the filter, newest first.
    fn list_events(&self, org: OrgId, filter: &EventFilter) -> StoreResult<Vec<Event>>;
    /// The events of [`Store::list_events`], in its order, each handed to `into` borrowed
    /// from the store's row: for answers that copy a few fields of each (the `events`
    /// frame), no `Event` is made (issue 15). Never reads `data`.
    fn visit_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        into: &mut dyn ListedEvents,
    ) -> StoreResult<()>;
    /// One event.
    fn get_event(&self, org: OrgId, id: &str) -> StoreResult<Event>;
    /// Overwrites an event (same id).
    fn update_event(&self, org: OrgId, event: &Event) -> StoreResult<()>;
    /// Deletes an event.
    fn delete_event(&self, org: OrgId, id: &str) -> StoreResult<()>;

    /// Targets of the org, optionally of some teams only.
    fn list_targets(&self, org: OrgId, teams: &[String]) -> StoreResult<Vec<Target>>;
    /// One target with its actuals and verification.
    fn get_target(&self, org: OrgId, id: &str) -> StoreResult<Target>;
    /// Creates a target with its inline actuals and verification; `Conflict` on a taken id.
    fn create_target(&self, org: OrgId, target: &Target) -> StoreResult<()>;
    /// Overwrites a target's own fields (not actuals nor verification).
    fn update_target(&self, org: OrgId, target: &Target) -> StoreResult<()>;
    /// Deletes a target with its actuals.
    fn delete_target(&self, org: OrgId, id: &str) -> StoreResult<()>;
    /// Adds actuals (an actual at an existing time replaces it). Returns the target as the
    /// write left it and how the write moved its team's evidence version (issue 15: kept
    /// evidence takes the target forward instead of reading the team again).
    fn add_actuals(&self, org: OrgId, id: &str, actuals: &[Actual]) -> StoreResult<TargetWritten>;
    /// Records (or replaces) the verification.
    fn set_verification(
        &self,
        org: OrgId,
        id: &str,
        verification: &Verification,
    ) -> StoreResult<()>;

    /// The evidence for `teams` (all when empty) that can count in `[from, to)`:
    /// team-linked events and views of the teams' dashboards in the range, every decision
    /// of the teams before `to` with the outcomes naming them, and the teams' targets.
    /// An event's `data` is there only for decisions and outcomes, and a review's only its
    /// `dashboards`: what a rule of the engine reads; the others' is empty (issue 15). Each
    /// event comes once, in no particular order (the engine sorts what it counts).
    fn evidence(
        &self,
        org: OrgId,
        teams: &[String],
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Evidence>;

    /// [`Store::evidence`] with each event kept ([`crate::model::KeptEvent::of_event`]):
    /// what the per-team computations of the evaluation caches and the histories read, and
    /// what kept evidence holds (issue 15), made straight from the store's rows.
    fn kept_evidence(
        &self,
        org: OrgId,
        teams: &[String],
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<KeptRead>;

    /// The org's evidence versions (issue 15): what a cache compares to know which teams'
    /// evidence changed since it read them, whichever process wrote.
    fn evidence_versions(&self, org: OrgId) -> StoreResult<EvidenceVersions>;

    /// Every event of the org in time order (export).
    fn all_events(&self, org: OrgId) -> StoreResult<Vec<Event>>;
    /// At most `limit` events of the org in (time, id) order, after the event at `after`
    /// (from the first when `None`): the pages of a streamed export.
    fn events_after(
        &self,
        org: OrgId,
        after: Option<(EpochMs, String)>,
        limit: usize,
    ) -> StoreResult<Vec<Event>>;
}

/// What [`SyncStore::write_imported`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportWrite {
    /// New events.
    pub inserted: usize,
    /// Imported events overwritten.
    pub updated: usize,
    /// Imported events deleted.
    pub removed: usize,
    /// Ids held by events that were not imported, left alone.
    pub refused: Vec<String>,
}

/// The verbs of the Grafana sync (issue 12): imported events, the sync's own state (cursors,
/// last errors) and actuals with their source. Part of every [`Store`].
pub trait SyncStore {
    /// Imported events (`source: grafana`) whose id starts with `prefix` and whose time is
    /// in `[from, to]`, in time order.
    fn imported_events(
        &self,
        org: OrgId,
        prefix: &str,
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Vec<Event>>;
    /// Writes an import in one transaction: each of `upserts` is inserted, or overwrites the
    /// imported event of its id; each of `removals` that is an imported event is deleted. An
    /// id held by an event that was not imported is left alone and reported.
    fn write_imported(
        &self,
        org: OrgId,
        upserts: &[Event],
        removals: &[String],
    ) -> StoreResult<ImportWrite>;
    /// A value the sync keeps (a cursor, a last error), if set.
    fn sync_value(&self, org: OrgId, key: &str) -> StoreResult<Option<serde_json::Value>>;
    /// Every value whose key starts with `prefix`, by key.
    fn sync_values(
        &self,
        org: OrgId,
        prefix: &str,
    ) -> StoreResult<Vec<(String, serde_json::Value)>>;
    /// Sets a value (`None` clears it).
    fn set_sync_value(
        &self,
        org: OrgId,
        key: &str,
        value: Option<&serde_json::Value>,
    ) -> StoreResult<()>;
    /// Takes the lease `key` for `holder` until `until`, when it is free: never taken,
    /// expired at `now`, or already `holder`'s. True when taken. One atomic statement, so of
    /// two replicas asking at once exactly one gets it (issue 14: a scheduled sync run once
    /// per cluster).
    fn claim_lease(
        &self,
        org: OrgId,
        key: &str,
        holder: &str,
        now: EpochMs,
        until: EpochMs,
    ) -> StoreResult<bool>;
    /// Adds actuals measured by `source` (an actual at an existing time replaces it).
    fn add_actuals_from(
        &self,
        org: OrgId,
        id: &str,
        actuals: &[Actual],
        source: Source,
    ) -> StoreResult<()>;
    /// The time and source of each of a target's actuals, in time order.
    fn actual_sources(&self, org: OrgId, id: &str) -> StoreResult<Vec<(EpochMs, Source)>>;
}
