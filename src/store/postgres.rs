//! The PostgreSQL store (issue 14): the same verbs and answers as the SQLite store, for
//! Grafana replicas sharing one database.
//!
//! - **Place**: our tables live in their own schema, `maturity`, and every statement names
//!   it, so a database shared with other applications (even Grafana's own) never collides.
//!   Column types mirror SQLite's: ids and text `TEXT COLLATE "C"` (bytewise order, as
//!   SQLite sorts), times `BIGINT`, numbers `DOUBLE PRECISION`, and the JSON columns `TEXT`
//!   holding the exact text SQLite holds, so answers and exports are byte-identical.
//! - **Migrations**: ordered ([`MIGRATIONS`], one row per step in `maturity.schema_version`),
//!   run in one transaction under `pg_advisory_xact_lock`, so plugin processes starting at
//!   once migrate exactly once. A database already at this version is not locked nor
//!   altered (a role with only table grants can run the plugin); a newer one is refused.
//! - **Pool**: r2d2 with [`POOL_SIZE`] connections, not pinged before each use (that cost a
//!   round trip per call, issue 15): a read, or a transaction whose BEGIN fails, on a
//!   connection the server has closed runs again on another. The store connects once
//!   itself before building the pool, so the first error is the real one.
//! - **Writes**: one transaction per verb, acknowledged only after COMMIT returned
//!   (`synchronous_commit` is raised to `on` if the server has it `off`). Lists reach SQL as
//!   one array parameter. Races between replicas: passive views and imports are idempotent
//!   (`ON CONFLICT`), actuals are upserts, and a transaction that lost a race (deadlock,
//!   serialization failure, an id taken between check and insert) is run again, so a taken
//!   id is still a `Conflict` naming it.
//! - **TLS**: when the connection string asks (`sslmode=prefer`, the default, or
//!   `require`), through rustls on `ring`. We always verify the server's certificate and
//!   host name, against `sslrootcert=FILE` when given (libpq's option), else the system's
//!   CAs; libpq's `verify-ca`/`verify-full` are accepted as `require`. `disable` is plain.
//!   Unlike libpq, `prefer` does not accept an unverified certificate: a server offering
//!   TLS with a certificate we cannot trust is refused, saying to name its CA.
//! - **Secrets**: the URL and password are never in `Debug`, logs nor errors; errors never
//!   carry SQL.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, GenericClient, Row, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::{Counts, ListedEvents, Store, StoreError, StoreResult};
use crate::model::{
    Actual, EpochMs, Event, EventFilter, EventKind, Evidence, EvidenceOf, EvidenceVersions,
    KeptEvent, KeptRead, OrgId, PendingView, SharedNames, Target, TargetWritten, Team,
    Verification, VersionStep, ViewsWritten,
};
use crate::settings::Secret;

mod connect;
mod pool;
mod rows;
mod schema;
mod sync;

use connect::{chain, connect_failure, Endpoint, Place};
use pool::{statement_forgotten, Ask, Manager, PgConn, Snapshot};
use rows::{
    direction_str, event_from_row, events_from_rows, kept_from_row, listed_from_row, load_actuals,
    p, target_team, targets_of, team_from_row, teams_of, teams_with_ids, to_json, upsert_actuals,
    EventColumns, EVENT_COLUMNS, EVENT_COLUMNS_WITHOUT_DATA, EVIDENCE_COLUMNS, LISTED_COLUMNS,
    PLAIN_EVIDENCE_COLUMNS, TARGET_COLUMNS, TEAM_COLUMNS,
};
use schema::{newer_schema, prepare_schema};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};

/// Connections per store: enough for the evidence reads of a dashboard full of panels and
/// the view writer at once, few enough that several replicas stay far below the server's
/// `max_connections` (100 by default).
pub const POOL_SIZE: u32 = 10;

/// How long a verb waits for a pooled connection before failing.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(8);

/// Whether `e` says the server closed the connection (terminated, shut down, gone): the
/// statement did not run, and another connection may run it.
fn connection_gone(conn: &Client, e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    conn.is_closed()
        || e.is_closed()
        || e.code().is_some_and(|c| {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        })
}

/// How many times a transaction that lost a race is run in all.
const ATTEMPTS: usize = 3;

/// How old the size shown in metrics may get before it is read again.
const SIZE_MAX_AGE: Duration = Duration::from_secs(30);

type Conn = PooledConnection<Manager>;

/// What a step inside a verb can fail with: a verdict of ours, or PostgreSQL's error (kept
/// whole so that a lost race can be told apart and run again).
enum Fail {
    Store(StoreError),
    Pg(postgres::Error),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// A transaction that lost a race with another one and may simply run again.
fn lost_race(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

/// A PostgreSQL database opened as our store.
pub struct PostgresStore {
    place: Place,
    /// Kept to diagnose a pool that cannot connect (a direct connection tells why).
    endpoint: Arc<Endpoint>,
    /// `None` only while dropping (see `Drop`).
    pool: Option<Pool<Manager>>,
    /// The size shown in metrics, refreshed in the background (see [`Store::size_bytes`]).
    size: Arc<AtomicU64>,
    size_read_at: Arc<AtomicI64>,
    size_reading: Arc<AtomicBool>,
    started: Instant,
    /// The schema version, as last read (see [`Store::schema_version`]).
    version: AtomicI64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Server, database and user only: never the connection string or its password.
        f.debug_struct("PostgresStore")
            .field("server", &self.place.server)
            .field("database", &self.place.database)
            .field("user", &self.place.user)
            .finish()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // A postgres connection closes by blocking on its own runtime, which panics on a
        // thread that drives async tasks: the pool is let go on a thread of its own there.
        if let Some(pool) = self.pool.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new()
                    .name("maturity-pg-close".into())
                    .spawn(move || drop(pool));
            }
        }
    }
}

/// Sets each new pooled connection up: a write is acknowledged only once on disk.
#[derive(Debug)]
struct Session;

impl r2d2::CustomizeConnection<PgConn, postgres::Error> for Session {
    fn on_acquire(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.batch_execute(
            "SELECT set_config('synchronous_commit', 'on', false)
             WHERE current_setting('synchronous_commit') = 'off'",
        )
    }
}

/// Logs a pooled connection's failure (the pool retries on its own) with the words of
/// [`chain`]: no password, no SQL.
#[derive(Debug)]
struct LogErrors {
    server: String,
}

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::warn!(server = %self.server, "PostgreSQL store connection failed: {}", chain(&error));
    }
}

impl PostgresStore {
    /// Connects, creates or migrates our schema, and opens the pool. Refuses a schema newer
    /// than this binary's, and says what is wrong when the server cannot be used.
    pub fn open(url: &Secret) -> StoreResult<PostgresStore> {
        let endpoint = connect::endpoint(url).map_err(StoreError::Unusable)?;
        let place = endpoint.place.clone();
        // One connection of our own first: the pool would only report a timeout.
        let mut first = endpoint
            .config
            .connect(endpoint.tls.clone())
            .map_err(|e| StoreError::Unusable(connect_failure(&place, &e)))?;
        let version = prepare_schema(&mut first, &place)?;
        let size = store_size(&mut first);
        drop(first);
        let manager = Manager(PostgresConnectionManager::new(
            endpoint.config.clone(),
            endpoint.tls.clone(),
        ));
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .error_handler(Box::new(LogErrors {
                server: place.server.clone(),
            }))
            .connection_customizer(Box::new(Session))
            .build_unchecked(manager);
        let started = Instant::now();
        Ok(PostgresStore {
            place,
            endpoint: Arc::new(endpoint),
            pool: Some(pool),
            size: Arc::new(AtomicU64::new(size)),
            size_read_at: Arc::new(AtomicI64::new(0)),
            size_reading: Arc::new(AtomicBool::new(false)),
            started,
            version: AtomicI64::new(version),
        })
    }

    /// A pooled connection, or why there is none.
    fn conn(&self) -> StoreResult<Conn> {
        self.conn_within(CHECKOUT_TIMEOUT)
            .map_err(StoreError::Database)
    }

    fn conn_within(&self, timeout: Duration) -> Result<Conn, String> {
        let Some(pool) = &self.pool else {
            return Err("the store is closed".into());
        };
        pool.get_timeout(timeout)
            .map_err(|_| self.why_no_connection(timeout))
    }

    /// Why the pool gave no connection: a direct attempt tells unreachable, refused logins
    /// and TLS apart; if it succeeds, every pooled connection was busy.
    fn why_no_connection(&self, waited: Duration) -> String {
        match self.endpoint.config.connect(self.endpoint.tls.clone()) {
            Err(e) => connect_failure(&self.place, &e),
            Ok(_) => format!(
                "all {POOL_SIZE} connections to {} stayed busy for {} s: the server is slow or \
                 overloaded",
                self.place.describe(),
                waited.as_secs()
            ),
        }
    }

    /// The rows of [`Store::list_events`], made into `T` by `rows`.
    fn listed_rows<T>(
        &self,
        org: OrgId,
        f: &EventFilter,
        columns: &str,
        mut rows: impl FnMut(Vec<Row>) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        // The statement's shape depends only on which filters are set; every value, and
        // every list whatever its length, is one parameter.
        let mut sql = format!("SELECT {columns} FROM maturity.events WHERE org_id = $1");
        let mut kinds: Vec<&str> = f.kinds.iter().map(|k| k.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut tags: Vec<&str> = f.tags.iter().map(String::as_str).collect();
        tags.sort_unstable();
        tags.dedup();
        let wanted_tags = tags.len() as i64;
        let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(f.offset).unwrap_or(i64::MAX);
        let mut args = vec![p(&org, Type::INT8)];
        let next = |args: &mut Vec<_>, arg| {
            args.push(arg);
            args.len()
        };
        if !kinds.is_empty() {
            let n = next(&mut args, p(&kinds, Type::TEXT_ARRAY));
            sql += &format!(" AND kind = ANY(${n})");
        }
        if !f.teams.is_empty() {
            let n = next(&mut args, p(&f.teams, Type::TEXT_ARRAY));
            sql += &format!(" AND team = ANY(${n})");
        }
        if let Some(d) = &f.dashboard_uid {
            let n = next(&mut args, p(d, Type::TEXT));
            sql += &format!(" AND dashboard_uid = ${n}");
        }
        if let Some(from) = &f.from {
            let n = next(&mut args, p(from, Type::INT8));
            sql += &format!(" AND time >= ${n}");
        }
        if let Some(to) = &f.to {
            let n = next(&mut args, p(to, Type::INT8));
            sql += &format!(" AND time <= ${n}");
        }
        if !tags.is_empty() {
            // Every wanted tag present: as many distinct matches as distinct wanted tags.
            let list = next(&mut args, p(&tags, Type::TEXT_ARRAY));
            let count = next(&mut args, p(&wanted_tags, Type::INT8));
            sql += &format!(
                " AND (SELECT count(DISTINCT t.value) FROM json_array_elements_text(tags::json) AS t(value)
                       WHERE t.value = ANY(${list})) = ${count}"
            );
        }
        let l = next(&mut args, p(&limit, Type::INT8));
        let o = next(&mut args, p(&offset, Type::INT8));
        sql += &format!(" ORDER BY time DESC, id DESC LIMIT ${l} OFFSET ${o}");
        self.read_prepared(|c| rows(c.query_prepared(&sql, &args)?))
    }

    /// Runs `f` on a pooled connection (with its prepared statements); again on another
    /// when the server had closed that one (a restart, an idle timeout, a terminated
    /// backend), at most once per pooled connection: reads repeat safely.
    fn read_prepared<T>(
        &self,
        mut f: impl FnMut(&mut PgConn) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        // After a server restart every pooled connection is gone: at most that many tries.
        let mut tries = 0;
        loop {
            let mut conn = self.conn()?;
            match f(&mut conn) {
                Err(Fail::Pg(e)) if tries < POOL_SIZE && connection_gone(&conn, &e) => tries += 1,
                // A snapshot's prepared statement the server forgot (see `Snapshot`): read
                // again, preparing them anew.
                Err(Fail::Pg(e)) if tries < POOL_SIZE && statement_forgotten(&e) => {
                    conn.forget_statements();
                    tries += 1;
                }
                other => return other.map_err(|e| self.fail(e)),
            }
        }
    }

    /// [`Self::read_prepared`] for reads that need only the client.
    fn read<T>(&self, mut f: impl FnMut(&mut Client) -> Result<T, Fail>) -> StoreResult<T> {
        self.read_prepared(|conn| f(conn))
    }

    /// [`Self::read`] in one read-only snapshot for every statement `f` runs, as SQLite's
    /// read transaction gives.
    fn snapshot<T>(
        &self,
        mut f: impl FnMut(&mut Snapshot<'_>) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        self.read_prepared(|c| f(&mut c.snapshot()?))
    }

    /// Runs `f` in a transaction and commits; a transaction that lost a race with another
    /// one (deadlock, serialization failure, an id taken since it looked) runs again, so
    /// `f` must be repeatable. `Ok` means committed.
    fn write<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<T, Fail>,
    ) -> StoreResult<T> {
        let mut conn = self.conn()?;
        let (mut attempt, mut reconnects) = (1, 0);
        loop {
            let mut at_begin = false;
            let outcome = match conn.transaction() {
                Ok(mut tx) => f(&mut tx).and_then(|value| {
                    // Its versions may be seen from here on (see `announce_commit`).
                    super::announce_commit();
                    tx.commit()?;
                    Ok(value)
                }),
                Err(e) => {
                    at_begin = true;
                    Err(Fail::Pg(e))
                }
            };
            // BEGIN failed on a connection the server had closed since its last use: nothing
            // was done, so another connection can run the same transaction.
            let gone_at_begin =
                at_begin && matches!(&outcome, Err(Fail::Pg(e)) if connection_gone(&conn, e));
            if gone_at_begin && reconnects < POOL_SIZE {
                conn = self.conn()?;
                reconnects += 1;
                continue;
            }
            match outcome {
                Err(Fail::Pg(e)) if attempt < ATTEMPTS && lost_race(&e) => attempt += 1,
                other => return other.map_err(|e| self.fail(e)),
            }
        }
    }

    /// A failure in the store's terms: a unique or foreign-key violation is a `Conflict`,
    /// anything else `Database` with PostgreSQL's words and a hint, never the SQL.
    fn fail(&self, e: Fail) -> StoreError {
        match e {
            Fail::Store(e) => e,
            Fail::Pg(e) => describe_error(&self.place, &e),
        }
    }

    /// The health check: a short round trip on a pooled connection that also finds a
    /// standby, a newer schema and missing grants.
    fn health(&self, budget: Duration) -> StoreResult<String> {
        let started = Instant::now();
        let checkout = || {
            self.conn_within(budget.max(Duration::from_secs(1)))
                .map_err(StoreError::Unusable)
        };
        // Connections are not pinged when taken from the pool (see the module doc); the
        // health check pings its own, so connections the server closed are not reported.
        let mut conn = checkout()?;
        for _ in 0..POOL_SIZE {
            if conn.simple_query("").is_ok() {
                break;
            }
            conn = checkout()?;
        }
        let place = &self.place;
        let unusable = |why: String| StoreError::Unusable(place.unusable(why));
        let mut tx = conn
            .transaction()
            .map_err(|e| unusable(connect::chain(&e)))?;
        let budget_ms = budget.as_millis().clamp(100, 60_000).to_string();
        let checked = (|| -> Result<postgres::Row, postgres::Error> {
            tx.query_typed(
                "SELECT set_config('statement_timeout', $1, true)",
                &[p(&budget_ms, Type::TEXT)],
            )?;
            tx.query_typed_one(
                "SELECT current_setting('server_version'), current_database(),
                        (SELECT coalesce(max(version), 0) FROM maturity.schema_version),
                        pg_is_in_recovery(),
                        current_setting('default_transaction_read_only') = 'on',
                        current_user,
                        (SELECT string_agg(t, ', ' ORDER BY t) FROM unnest(
                            ARRAY['teams', 'events', 'targets', 'actuals', 'sync_state']) AS t
                         WHERE NOT has_table_privilege('maturity.' || t,
                             'SELECT, INSERT, UPDATE, DELETE'))",
                &[],
            )
        })();
        let row = checked.map_err(|e| match describe_error(place, &e) {
            StoreError::Database(m) | StoreError::Unusable(m) | StoreError::Conflict(m) => {
                unusable(m)
            }
            StoreError::NotFound(m) => unusable(m),
        })?;
        let get = |e: postgres::Error| unusable(connect::chain(&e));
        let version: String = row.try_get(0).map_err(get)?;
        let database: String = row.try_get(1).map_err(get)?;
        let schema: i64 = row.try_get(2).map_err(get)?;
        let standby: bool = row.try_get(3).map_err(get)?;
        let read_only: bool = row.try_get(4).map_err(get)?;
        let user: String = row.try_get(5).map_err(get)?;
        let missing: Option<String> = row.try_get(6).map_err(get)?;
        drop(tx);
        if standby || read_only {
            return Err(unusable(format!(
                "the server is {} and cannot take writes: point the connection string at the \
                 primary",
                if standby {
                    "a standby (in recovery)"
                } else {
                    "read-only"
                }
            )));
        }
        self.version.store(schema, Ordering::Relaxed);
        if schema > SCHEMA_VERSION {
            return Err(unusable(newer_schema(schema)));
        }
        if let Some(tables) = missing {
            return Err(unusable(format!(
                "user {user:?} may not read and write tables {tables} of schema maturity: \
                 GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA maturity TO \"{user}\""
            )));
        }
        Ok(format!(
            "PostgreSQL {version} at {}, database {database}, schema version {schema}; \
             answered in {} ms",
            place.server,
            started.elapsed().as_millis()
        ))
    }

    /// Reads the size of our tables again on a thread of its own when the last reading is
    /// old, so that metrics (which may ask from an async task) never wait for the server.
    fn refresh_size(&self) {
        let now = self.started.elapsed().as_millis() as i64;
        let last = self.size_read_at.load(Ordering::Relaxed);
        if now - last < SIZE_MAX_AGE.as_millis() as i64
            || self.size_reading.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Some(pool) = self.pool.clone() else {
            self.size_reading.store(false, Ordering::Release);
            return;
        };
        let (size, read_at, reading) = (
            self.size.clone(),
            self.size_read_at.clone(),
            self.size_reading.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("maturity-pg-size".into())
            .spawn(move || {
                if let Ok(mut conn) = pool.get_timeout(Duration::from_secs(2)) {
                    size.store(store_size(&mut conn), Ordering::Relaxed);
                }
                read_at.store(now, Ordering::Relaxed);
                reading.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.size_reading.store(false, Ordering::Release);
        }
    }
}

/// The size of our tables with their indexes and TOAST, in bytes (0 when unreadable).
fn store_size(c: &mut Client) -> u64 {
    c.query_typed_one(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'maturity' AND c.relkind = 'r'",
        &[],
    )
    .and_then(|r| r.try_get::<_, i64>(0))
    .map(|n| n.max(0) as u64)
    .unwrap_or(0)
}

/// A PostgreSQL error in the store's terms (see [`PostgresStore::fail`]).
fn describe_error(place: &Place, e: &postgres::Error) -> StoreError {
    const MAX: usize = 300;
    let Some(db) = e.as_db_error() else {
        // The connection broke (server restarted, network): say where.
        return StoreError::Database(format!(
            "lost the connection to PostgreSQL at {}: {}",
            place.server,
            chain(e)
        ));
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        return StoreError::Conflict("an id of this request is already taken".into());
    }
    if *code == SqlState::FOREIGN_KEY_VIOLATION {
        return StoreError::Conflict("the object is still referenced".into());
    }
    let hint = if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        format!(
            "; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA maturity TO \"{}\"",
            place.user
        )
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        "; the server takes no writes: point the connection string at the primary".into()
    } else if *code == SqlState::DISK_FULL {
        "; the server's disk is full".into()
    } else if *code == SqlState::QUERY_CANCELED {
        "; the statement ran past the server's statement_timeout".into()
    } else {
        String::new()
    };
    let text = format!("{} (SQLSTATE {}){hint}", db.message(), code.code());
    let text = if text.chars().count() > MAX {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    } else {
        text
    };
    StoreError::Database(text)
}

/// `Conflict` naming `id` when a unique key was violated, else the error as it was.
fn taken(e: postgres::Error, what: String) -> Fail {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        Fail::Store(StoreError::Conflict(what))
    } else {
        Fail::Pg(e)
    }
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.place.describe()
    }

    fn schema_version(&self) -> i64 {
        // As read at open and at each health check: no round trip, so describing the store
        // never blocks (nor panics on a thread that drives async tasks).
        self.version.load(Ordering::Relaxed)
    }

    fn counts(&self, org: OrgId) -> StoreResult<Counts> {
        self.read(|c| {
            let r = c.query_typed_one(
                "SELECT (SELECT count(*) FROM maturity.teams WHERE org_id = $1),
                        (SELECT count(*) FROM maturity.events WHERE org_id = $1),
                        (SELECT count(*) FROM maturity.targets WHERE org_id = $1)",
                &[p(&org, Type::INT8)],
            )?;
            let n = |i: usize| -> Result<u64, Fail> { Ok(r.try_get::<_, i64>(i)?.max(0) as u64) };
            Ok(Counts {
                teams: n(0)?,
                events: n(1)?,
                targets: n(2)?,
            })
        })
    }

    fn size_bytes(&self) -> u64 {
        self.refresh_size();
        self.size.load(Ordering::Relaxed)
    }

    fn check_health(&self, budget: Duration) -> StoreResult<String> {
        self.health(budget)
    }

    fn list_teams(&self, org: OrgId) -> StoreResult<Vec<Team>> {
        self.read(|c| teams_of(c, org))
    }

    fn get_team(&self, org: OrgId, id: &str) -> StoreResult<Team> {
        self.read(|c| {
            let row = c.query_typed_opt(
                &format!("SELECT {TEAM_COLUMNS} FROM maturity.teams WHERE org_id = $1 AND id = $2"),
                &[p(&org, Type::INT8), p(&id, Type::TEXT)],
            )?;
            match row {
                Some(r) => team_from_row(&r),
                None => Err(StoreError::NotFound(format!("team {id:?}")).into()),
            }
        })
    }

    fn create_team(&self, org: OrgId, team: &Team) -> StoreResult<()> {
        let cadence = i64::from(team.cadence_days);
        let (dashboards, members) = (to_json(&team.dashboards), to_json(&team.members));
        self.read(|c| {
            c.execute_typed(
                &format!(
                    "INSERT INTO maturity.teams (org_id, {TEAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    p(&org, Type::INT8),
                    p(&team.id, Type::TEXT),
                    p(&team.name, Type::TEXT),
                    p(&dashboards, Type::TEXT),
                    p(&members, Type::TEXT),
                    p(&cadence, Type::INT8),
                    p(&team.created_at, Type::INT8),
                ],
            )
            .map_err(|e| taken(e, format!("team {:?} already exists", team.id)))?;
            Ok(())
        })
    }

    fn replace_team(&self, org: OrgId, team: &Team) -> StoreResult<Team> {
        let cadence = i64::from(team.cadence_days);
        let (dashboards, members) = (to_json(&team.dashboards), to_json(&team.members));
        let created_at = self.read(|c| {
            let row = c.query_typed_opt(
                "UPDATE maturity.teams SET name = $3, dashboards = $4, members = $5, cadence_days = $6
                 WHERE org_id = $1 AND id = $2 RETURNING created_at",
                &[
                    p(&org, Type::INT8),
                    p(&team.id, Type::TEXT),
                    p(&team.name, Type::TEXT),
                    p(&dashboards, Type::TEXT),
                    p(&members, Type::TEXT),
                    p(&cadence, Type::INT8),
                ],
            )?;
            match row {
                Some(r) => Ok(r.try_get::<_, i64>(0)?),
                None => Err(StoreError::NotFound(format!("team {:?}", team.id)).into()),
            }
        })?;
        Ok(Team {
            created_at,
            ..team.clone()
        })
    }

    fn delete_team(&self, org: OrgId, id: &str, cascade: bool) -> StoreResult<()> {
        self.write(|tx| {
            let args = [p(&org, Type::INT8), p(&id, Type::TEXT)];
            // The team's row stays locked until commit: two deletes of one team queue.
            let found = tx.query_typed(
                "SELECT 1 FROM maturity.teams WHERE org_id = $1 AND id = $2 FOR UPDATE",
                &args,
            )?;
            if found.is_empty() {
                return Err(StoreError::NotFound(format!("team {id:?}")).into());
            }
            let r = tx.query_typed_one(
                "SELECT (SELECT count(*) FROM maturity.events WHERE org_id = $1 AND team = $2),
                        (SELECT count(*) FROM maturity.targets WHERE org_id = $1 AND team = $2)",
                &args,
            )?;
            let (events, targets): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            if (events > 0 || targets > 0) && !cascade {
                return Err(StoreError::Conflict(format!(
                    "team {id:?} is named by {events} events and {targets} targets; delete with ?cascade=true to remove them too"
                ))
                .into());
            }
            tx.execute_typed(
                "DELETE FROM maturity.actuals WHERE org_id = $1 AND target_id IN
                     (SELECT id FROM maturity.targets WHERE org_id = $1 AND team = $2)",
                &args,
            )?;
            tx.execute_typed(
                "DELETE FROM maturity.targets WHERE org_id = $1 AND team = $2",
                &args,
            )?;
            tx.execute_typed(
                "DELETE FROM maturity.events WHERE org_id = $1 AND team = $2",
                &args,
            )?;
            tx.execute_typed(
                "DELETE FROM maturity.teams WHERE org_id = $1 AND id = $2",
                &args,
            )?;
            Ok(())
        })
    }

    fn existing_decisions(&self, org: OrgId, ids: &[String]) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let found = ids_present(c, org, ids, "AND kind = 'decision'")?;
            Ok(ids.iter().filter(|i| found.contains(*i)).cloned().collect())
        })
    }

    fn existing_event_ids(&self, org: OrgId, ids: &[String]) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let found = ids_present(c, org, ids, "")?;
            Ok(ids.iter().filter(|i| found.contains(*i)).cloned().collect())
        })
    }

    fn insert_events(&self, org: OrgId, events: &[Event]) -> StoreResult<VersionStep> {
        let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        let mut rows = EventColumns::default();
        for e in events {
            rows.push(org, e, None);
        }
        self.write(|tx| {
            // The first id taken, in the batch's order (by a stored event or an earlier one
            // of the batch): the one SQLite, inserting one by one, would name.
            let stored = ids_present(tx, org, &ids, "")?;
            let mut seen = HashSet::new();
            if let Some(id) = ids
                .iter()
                .find(|id| stored.contains(*id) || !seen.insert(id.as_str()))
            {
                return Err(
                    StoreError::Conflict(format!("event id {id:?} is already taken")).into(),
                );
            }
            let scopes = candidate_scopes(tx, org, events)?;
            let before = lock_versions(tx, org, &scopes)?;
            // Another writer may take an id between the check and the insert: the unique
            // violation makes `write` run this again, and the check above then names it.
            rows.insert(tx, "")?;
            let after = versions_of(tx, org, &scopes, "")?;
            Ok(VersionStep::between(&scopes, &before, &after))
        })
    }

    fn insert_views(
        &self,
        views: &[PendingView],
        make_id: &mut dyn FnMut() -> String,
        now: EpochMs,
    ) -> StoreResult<Vec<ViewsWritten>> {
        // The first view of each session bucket in the batch, as SQLite keeps it, with its
        // place in the batch.
        let mut seen = HashSet::new();
        let mut firsts: Vec<(usize, &PendingView, Event)> = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let id = make_id();
            if seen.insert((v.org, &v.user, &v.dashboard_uid, v.session_bucket)) {
                firsts.push((i, v, v.to_event(id, now)));
            }
        }
        // In key order (org first), so that two replicas writing overlapping batches take
        // the version rows' and the unique index's locks in the same order and never
        // deadlock.
        firsts.sort_by(|(_, a, _), (_, b, _)| {
            (a.org, &a.user, &a.dashboard_uid, a.session_bucket).cmp(&(
                b.org,
                &b.user,
                &b.dashboard_uid,
                b.session_bucket,
            ))
        });
        let orgs = firsts.chunk_by(|(_, a, _), (_, b, _)| a.org == b.org);
        let orgs: Vec<&[(usize, &PendingView, Event)]> = orgs.collect();
        self.write(|tx| {
            let mut written = Vec::with_capacity(orgs.len());
            for org_views in &orgs {
                let org = org_views[0].1.org;
                let events = org_views.iter().map(|(_, _, e)| e);
                let scopes = VersionStep::candidate_scopes(events, &[]);
                let before = lock_versions(tx, org, &scopes)?;
                let mut rows = EventColumns::default();
                for (_, v, e) in org_views.iter() {
                    rows.push(org, e, Some(v.session_bucket));
                }
                // A view another replica stored in the same bucket is skipped, not an error.
                let stored: HashSet<String> = rows
                    .insert_returning_ids(tx, "ON CONFLICT DO NOTHING")?
                    .into_iter()
                    .collect();
                let after = versions_of(tx, org, &scopes, "")?;
                let mut stored: Vec<(usize, Event)> = org_views
                    .iter()
                    .filter(|(_, _, e)| stored.contains(&e.id))
                    .map(|(i, _, e)| (*i, e.clone()))
                    .collect();
                stored.sort_by_key(|(i, _)| *i);
                if !stored.is_empty() {
                    written.push(ViewsWritten {
                        org,
                        step: VersionStep::between(&scopes, &before, &after),
                        events: stored.into_iter().map(|(_, e)| e).collect(),
                    });
                }
            }
            Ok(written)
        })
    }

    fn list_events(&self, org: OrgId, f: &EventFilter) -> StoreResult<Vec<Event>> {
        let columns = if f.without_data {
            EVENT_COLUMNS_WITHOUT_DATA
        } else {
            EVENT_COLUMNS
        };
        self.listed_rows(org, f, columns, events_from_rows)
    }

    fn visit_events(
        &self,
        org: OrgId,
        f: &EventFilter,
        into: &mut dyn ListedEvents,
    ) -> StoreResult<()> {
        // Rows first, visited after: a read tried again on a new connection (see
        // `read_prepared`) hands no event twice.
        let rows = self.listed_rows(org, f, LISTED_COLUMNS, Ok)?;
        for r in &rows {
            into.take(listed_from_row(r).map_err(|e| self.fail(e))?)?;
        }
        Ok(())
    }

    fn get_event(&self, org: OrgId, id: &str) -> StoreResult<Event> {
        self.read(|c| {
            let row = c.query_typed_opt(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1 AND id = $2"
                ),
                &[p(&org, Type::INT8), p(&id, Type::TEXT)],
            )?;
            match row {
                Some(r) => event_from_row(&r),
                None => Err(StoreError::NotFound(format!("event {id:?}")).into()),
            }
        })
    }

    fn update_event(&self, org: OrgId, e: &Event) -> StoreResult<()> {
        let (tags, data) = (to_json(&e.tags), to_json(&e.data));
        let decision = e.decision_id();
        self.read(|c| {
            let n = c.execute_typed(
                "UPDATE maturity.events SET time = $3, time_end = $4, team = $5, dashboard_uid = $6,
                     panel_id = $7, text = $8, tags = $9, data = $10, updated_at = $11, decision_id = $12
                 WHERE org_id = $1 AND id = $2",
                &[
                    p(&org, Type::INT8),
                    p(&e.id, Type::TEXT),
                    p(&e.time, Type::INT8),
                    p(&e.time_end, Type::INT8),
                    p(&e.team, Type::TEXT),
                    p(&e.dashboard_uid, Type::TEXT),
                    p(&e.panel_id, Type::INT8),
                    p(&e.text, Type::TEXT),
                    p(&tags, Type::TEXT),
                    p(&data, Type::TEXT),
                    p(&e.updated_at, Type::INT8),
                    p(&decision, Type::TEXT),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("event {:?}", e.id)).into());
            }
            Ok(())
        })
    }

    fn delete_event(&self, org: OrgId, id: &str) -> StoreResult<()> {
        self.read(|c| {
            let n = c.execute_typed(
                "DELETE FROM maturity.events WHERE org_id = $1 AND id = $2",
                &[p(&org, Type::INT8), p(&id, Type::TEXT)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("event {id:?}")).into());
            }
            Ok(())
        })
    }

    fn list_targets(&self, org: OrgId, teams: &[String]) -> StoreResult<Vec<Target>> {
        // One snapshot for the targets and their actuals.
        self.snapshot(|tx| targets_of(tx, org, teams))
    }

    fn get_target(&self, org: OrgId, id: &str) -> StoreResult<Target> {
        self.snapshot(|tx| target_with_actuals(tx, org, id))
    }

    fn create_target(&self, org: OrgId, t: &Target) -> StoreResult<()> {
        let query = t.query.as_ref().map(to_json);
        let verification = t.verification.as_ref().map(to_json);
        let direction = direction_str(t.direction);
        self.write(|tx| {
            tx.execute_typed(
                &format!(
                    "INSERT INTO maturity.targets (org_id, {TARGET_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                ),
                &[
                    p(&org, Type::INT8),
                    p(&t.id, Type::TEXT),
                    p(&t.team, Type::TEXT),
                    p(&t.name, Type::TEXT),
                    p(&t.unit, Type::TEXT),
                    p(&direction, Type::TEXT),
                    p(&t.baseline, Type::FLOAT8),
                    p(&t.target, Type::FLOAT8),
                    p(&t.start_at, Type::INT8),
                    p(&t.deadline, Type::INT8),
                    p(&query, Type::TEXT),
                    p(&verification, Type::TEXT),
                    p(&t.created_at, Type::INT8),
                ],
            )
            .map_err(|e| taken(e, format!("target id {:?} is already taken", t.id)))?;
            upsert_actuals(tx, org, &t.id, &t.actuals, None)
        })
    }

    fn update_target(&self, org: OrgId, t: &Target) -> StoreResult<()> {
        let query = t.query.as_ref().map(to_json);
        let direction = direction_str(t.direction);
        self.read(|c| {
            let n = c.execute_typed(
                "UPDATE maturity.targets SET team = $3, name = $4, unit = $5, direction = $6,
                     baseline = $7, target = $8, start_at = $9, deadline = $10, query = $11
                 WHERE org_id = $1 AND id = $2",
                &[
                    p(&org, Type::INT8),
                    p(&t.id, Type::TEXT),
                    p(&t.team, Type::TEXT),
                    p(&t.name, Type::TEXT),
                    p(&t.unit, Type::TEXT),
                    p(&direction, Type::TEXT),
                    p(&t.baseline, Type::FLOAT8),
                    p(&t.target, Type::FLOAT8),
                    p(&t.start_at, Type::INT8),
                    p(&t.deadline, Type::INT8),
                    p(&query, Type::TEXT),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("target {:?}", t.id)).into());
            }
            Ok(())
        })
    }

    fn delete_target(&self, org: OrgId, id: &str) -> StoreResult<()> {
        self.write(|tx| {
            let args = [p(&org, Type::INT8), p(&id, Type::TEXT)];
            let n = tx.execute_typed(
                "DELETE FROM maturity.targets WHERE org_id = $1 AND id = $2",
                &args,
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("target {id:?}")).into());
            }
            tx.execute_typed(
                "DELETE FROM maturity.actuals WHERE org_id = $1 AND target_id = $2",
                &args,
            )?;
            Ok(())
        })
    }

    fn add_actuals(&self, org: OrgId, id: &str, actuals: &[Actual]) -> StoreResult<TargetWritten> {
        self.write(|tx| {
            let scopes = vec![format!("team:{}", target_team(tx, org, id)?)];
            // Locked until the commit, as for events: the step read here is exact.
            let before = lock_versions(tx, org, &scopes)?;
            upsert_actuals(tx, org, id, actuals, None)?;
            let after = versions_of(tx, org, &scopes, "")?;
            Ok(TargetWritten {
                step: VersionStep::between(&scopes, &before, &after),
                target: target_with_actuals(tx, org, id)?,
            })
        })
    }

    fn set_verification(&self, org: OrgId, id: &str, v: &Verification) -> StoreResult<()> {
        let text = to_json(v);
        self.read(|c| {
            let n = c.execute_typed(
                "UPDATE maturity.targets SET verification = $3 WHERE org_id = $1 AND id = $2",
                &[
                    p(&org, Type::INT8),
                    p(&id, Type::TEXT),
                    p(&text, Type::TEXT),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("target {id:?}")).into());
            }
            Ok(())
        })
    }

    fn evidence(
        &self,
        org: OrgId,
        teams: &[String],
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Evidence> {
        self.snapshot(|tx| {
            evidence_in(tx, org, teams, (from, to), event_from_row, |e: &Event| {
                (e.kind == EventKind::Decision).then_some(e.id.as_str())
            })
        })
    }

    /// The rows made kept events as they are decoded (issue 15), as on SQLite: a row costs
    /// its id, and a decision, outcome or review the few `data` values a rule reads.
    fn kept_evidence(
        &self,
        org: OrgId,
        teams: &[String],
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<KeptRead> {
        self.snapshot(|tx| {
            let mut names = SharedNames::default();
            evidence_in(
                tx,
                org,
                teams,
                (from, to),
                |r: &Row| kept_from_row(r, &mut names),
                |e: &KeptEvent| (e.kind == EventKind::Decision).then_some(&*e.id),
            )
        })
    }

    fn evidence_versions(&self, org: OrgId) -> StoreResult<EvidenceVersions> {
        self.read_prepared(|c| {
            let rows = c.query_prepared(
                "SELECT scope, version FROM maturity.evidence_versions WHERE org_id = $1",
                &[p(&org, Type::INT8)],
            )?;
            let mut pairs = Vec::with_capacity(rows.len());
            for r in rows {
                pairs.push((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?));
            }
            Ok(EvidenceVersions::from_pairs(pairs))
        })
    }

    fn all_events(&self, org: OrgId) -> StoreResult<Vec<Event>> {
        self.read(|c| {
            events_from_rows(c.query_typed(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1 ORDER BY time, id"
                ),
                &[p(&org, Type::INT8)],
            )?)
        })
    }

    fn events_after(
        &self,
        org: OrgId,
        after: Option<(EpochMs, String)>,
        limit: usize,
    ) -> StoreResult<Vec<Event>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let rows = match &after {
                None => c.query_typed(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1
                         ORDER BY time, id LIMIT $2"
                    ),
                    &[p(&org, Type::INT8), p(&limit, Type::INT8)],
                )?,
                Some((time, id)) => c.query_typed(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1
                           AND time >= $2 AND (time > $2 OR id > $3)
                         ORDER BY time, id LIMIT $4"
                    ),
                    &[
                        p(&org, Type::INT8),
                        p(time, Type::INT8),
                        p(id, Type::TEXT),
                        p(&limit, Type::INT8),
                    ],
                )?,
            };
            events_from_rows(rows)
        })
    }
}

/// Which of `ids` are events of the org (`extra` narrows further, e.g. by kind).
fn ids_present(
    c: &mut impl GenericClient,
    org: OrgId,
    ids: &[String],
    extra: &str,
) -> Result<HashSet<String>, Fail> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = c.query_typed(
        &format!("SELECT id FROM maturity.events WHERE org_id = $1 AND id = ANY($2) {extra}"),
        &[p(&org, Type::INT8), p(&ids, Type::TEXT_ARRAY)],
    )?;
    rows.iter()
        .map(|r| Ok(r.try_get::<_, String>(0)?))
        .collect()
}

/// The scopes a write of `events` can raise (see [`VersionStep::candidate_scopes`]).
fn candidate_scopes(
    c: &mut impl GenericClient,
    org: OrgId,
    events: &[Event],
) -> Result<Vec<String>, Fail> {
    let named: Vec<&str> = events.iter().filter_map(Event::decision_id).collect();
    let decision_teams: Vec<String> = if named.is_empty() {
        Vec::new()
    } else {
        c.query_typed(
            "SELECT DISTINCT team FROM maturity.events WHERE org_id = $1 AND id = ANY($2)
               AND team IS NOT NULL",
            &[p(&org, Type::INT8), p(&named, Type::TEXT_ARRAY)],
        )?
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?
    };
    Ok(VersionStep::candidate_scopes(events, &decision_teams))
}

/// Target `id` with its actuals; `NotFound` when there is no such target.
fn target_with_actuals(c: &mut impl Ask, org: OrgId, id: &str) -> Result<Target, Fail> {
    let rows = c.ask(
        &format!("SELECT {TARGET_COLUMNS} FROM maturity.targets WHERE org_id = $1 AND id = $2"),
        &[p(&org, Type::INT8), p(&id, Type::TEXT)],
    )?;
    let mut one = match rows.first() {
        Some(r) => vec![rows::target_from_row(r)?],
        None => return Err(StoreError::NotFound(format!("target {id:?}")).into()),
    };
    load_actuals(c, org, &mut one)?;
    one.pop()
        .ok_or_else(|| StoreError::NotFound(format!("target {id:?}")).into())
}

/// The versions of `scopes` (absent ones are 0); `lock` is appended to the statement.
fn versions_of(
    c: &mut impl Ask,
    org: OrgId,
    scopes: &[String],
    lock: &str,
) -> Result<EvidenceVersions, Fail> {
    let rows = c.ask(
        &format!(
            "SELECT scope, version FROM maturity.evidence_versions WHERE org_id = $1
               AND scope = ANY($2) ORDER BY scope {lock}"
        ),
        &[p(&org, Type::INT8), p(&scopes, Type::TEXT_ARRAY)],
    )?;
    let pairs = rows
        .iter()
        .map(|r| Ok((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?)))
        .collect::<Result<Vec<_>, Fail>>()?;
    Ok(EvidenceVersions::from_pairs(pairs))
}

/// The versions of `scopes`, each row locked until the transaction ends (a missing one made
/// at 0 first, which is how an absent scope reads), in the order the version triggers lock
/// them: no other writer raises them between this read and the commit, so the write's
/// [`VersionStep`] is exact.
fn lock_versions(
    c: &mut impl GenericClient,
    org: OrgId,
    scopes: &[String],
) -> Result<EvidenceVersions, Fail> {
    c.query_typed(
        "INSERT INTO maturity.evidence_versions (org_id, scope, version)
           SELECT $1, s, 0 FROM unnest($2::text[]) AS s ORDER BY s COLLATE \"C\" ON CONFLICT DO NOTHING",
        &[p(&org, Type::INT8), p(&scopes, Type::TEXT_ARRAY)],
    )?;
    versions_of(c, org, scopes, "FOR UPDATE")
}

/// The reads of [`Store::evidence`], in one transaction, each row made an `E` by `row`;
/// `decision` gives an `E`'s id when it is a decision (the outcomes naming them are read
/// after).
fn evidence_in<E>(
    tx: &mut impl Ask,
    org: OrgId,
    teams: &[String],
    (from, to): (EpochMs, EpochMs),
    mut row: impl FnMut(&Row) -> Result<E, Fail>,
    decision: impl Fn(&E) -> Option<&str>,
) -> Result<EvidenceOf<E>, Fail> {
    // Appends the rows to `events`, which grows once for each statement.
    let mut push = |rows: Vec<Row>, events: &mut Vec<E>| -> Result<(), Fail> {
        events.reserve(rows.len());
        for r in &rows {
            events.push(row(r)?);
        }
        Ok(())
    };
    let teams: Vec<Team> = if teams.is_empty() {
        teams_of(tx, org)?
    } else {
        teams_with_ids(tx, org, teams)?
    };
    let ids: Vec<String> = teams.iter().map(|t| t.id.clone()).collect();
    let mut dashboards: Vec<String> = teams
        .iter()
        .flat_map(|t| t.dashboards.iter().cloned())
        .collect();
    dashboards.sort();
    dashboards.dedup();
    let targets = if ids.is_empty() {
        Vec::new()
    } else {
        targets_of(tx, org, &ids)?
    };
    let mut events: Vec<E> = Vec::new();
    if !ids.is_empty() {
        // Team-linked events of the range, and every decision before its end (a decision
        // taken long ago can fall due inside the window): one range read per kind's index
        // (SQLite's `team_evidence_sql`), so no row of another kind is stepped through and
        // the kinds whose data no rule reads come from `events_plain_evidence` alone.
        push(
            tx.ask(
                &format!(
                    "SELECT {PLAIN_EVIDENCE_COLUMNS} FROM maturity.events WHERE org_id = $1
                   AND team = ANY($4) AND time >= $3 AND time < $2
                   AND kind IN ('question', 'metric_change', 'note')
                 UNION ALL
                 SELECT {EVIDENCE_COLUMNS} FROM maturity.events WHERE org_id = $1 AND team = ANY($4)
                   AND time >= $3 AND time < $2 AND kind = 'review'
                 UNION ALL
                 SELECT {EVIDENCE_COLUMNS} FROM maturity.events WHERE org_id = $1 AND team = ANY($4)
                   AND kind = 'decision' AND time < $2"
                ),
                &[
                    p(&org, Type::INT8),
                    p(&to, Type::INT8),
                    p(&from, Type::INT8),
                    p(&ids, Type::TEXT_ARRAY),
                ],
            )?,
            &mut events,
        )?;
    }
    if !dashboards.is_empty() {
        push(
            tx.ask(
            &format!(
                "SELECT {PLAIN_EVIDENCE_COLUMNS} FROM maturity.events WHERE org_id = $1 AND kind = 'view'
                   AND dashboard_uid = ANY($4) AND time >= $2 AND time < $3"
            ),
            &[
                p(&org, Type::INT8),
                p(&from, Type::INT8),
                p(&to, Type::INT8),
                p(&dashboards, Type::TEXT_ARRAY),
            ],
        )?,
            &mut events,
        )?;
    }
    // Outcomes of any team that name one of these decisions.
    let decision_ids: Vec<String> = events
        .iter()
        .filter_map(&decision)
        .map(String::from)
        .collect();
    if !decision_ids.is_empty() {
        push(
            tx.ask(
            &format!(
                "SELECT {EVIDENCE_COLUMNS} FROM maturity.events WHERE org_id = $1 AND kind = 'outcome'
                   AND decision_id = ANY($2) AND time < $3"
            ),
            &[
                p(&org, Type::INT8),
                p(&decision_ids, Type::TEXT_ARRAY),
                p(&to, Type::INT8),
            ],
        )?,
            &mut events,
        )?;
    }
    let scopes: Vec<String> = teams.iter().flat_map(EvidenceVersions::scopes_of).collect();
    let versions = versions_of(tx, org, &scopes, "")?;
    Ok(EvidenceOf {
        teams,
        events,
        targets,
        versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support;

    /// A store on a database of its own on the server of `scripts/with-postgres`, when it
    /// is there (required under it).
    fn fresh_store(hint: &str) -> Option<PostgresStore> {
        let Ok(server) = std::env::var("MATURITY_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("MATURITY_REQUIRE_POSTGRES").is_none(),
                "MATURITY_REQUIRE_POSTGRES is set but MATURITY_TEST_POSTGRES_URL is not"
            );
            return None;
        };
        let name = format!("u_{hint}_{}", std::process::id());
        let mut admin = Client::connect(&server, postgres::NoTls).expect("admin connection");
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .expect("a database of its own");
        }
        let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
        Some(PostgresStore::open(&Secret::new(format!("{base}/{name}"))).expect("open"))
    }

    #[test]
    fn an_evidence_read_whose_prepared_statements_the_server_forgot_is_read_again() {
        let Some(store) = fresh_store("forgot") else {
            return;
        };
        store
            .create_team(1, &test_support::team("a"))
            .expect("team");
        let review = Event {
            team: Some("a".into()),
            ..test_support::ev("r1", EventKind::Review, 1_000)
        };
        store.insert_events(1, &[review]).expect("event");
        let ids = |read: &KeptRead| -> Vec<String> {
            read.events.iter().map(|e| e.id.to_string()).collect()
        };
        let before = store.kept_evidence(1, &[], 0, 10_000).expect("first read");
        assert_eq!(ids(&before), ["r1"]);
        // What a pooler in transaction mode does: every pooled connection's server session
        // forgets what it prepared, while the connections still hold their statements.
        let mut held: Vec<Conn> = (0..POOL_SIZE)
            .map(|_| store.conn().expect("conn"))
            .collect();
        for conn in &mut held {
            conn.batch_execute("DEALLOCATE ALL").expect("deallocate");
        }
        // Only the connections that prepared go back to the pool: the next read takes one.
        let (prepared, others): (Vec<Conn>, Vec<Conn>) =
            held.into_iter().partition(|c| c.prepared_count() > 0);
        assert!(
            !prepared.is_empty(),
            "the first read prepared its statements"
        );
        drop(prepared);
        let after = store.kept_evidence(1, &[], 0, 10_000).expect("read again");
        drop(others);
        assert_eq!(ids(&after), ["r1"]);
        assert_eq!(after.versions, before.versions);
    }
}
