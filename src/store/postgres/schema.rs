//! Our schema `maturity` in the database: its ordered migrations, run once across processes
//! under an advisory lock, and the words for what keeps them from running.

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, GenericClient};

use super::connect::{chain, Place};
use super::rows::p;
use crate::store::{StoreError, StoreResult};

/// Ordered forward migrations; `maturity.schema_version` holds a row per step run. The
/// steps match SQLite's, so both stores report the same version for the same schema.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"CREATE TABLE maturity.teams (
        org_id BIGINT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        dashboards TEXT NOT NULL,
        members TEXT NOT NULL,
        cadence_days BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, id)
    );
    CREATE TABLE maturity.events (
        org_id BIGINT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        time BIGINT NOT NULL,
        time_end BIGINT,
        team TEXT COLLATE "C",
        dashboard_uid TEXT COLLATE "C",
        panel_id BIGINT,
        user_login TEXT COLLATE "C" NOT NULL,
        text TEXT COLLATE "C" NOT NULL,
        tags TEXT NOT NULL,
        data TEXT NOT NULL,
        source TEXT COLLATE "C" NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        decision_id TEXT COLLATE "C",
        view_bucket BIGINT,
        PRIMARY KEY (org_id, id)
    );
    CREATE INDEX events_by_time ON maturity.events (org_id, time);
    CREATE INDEX events_by_team ON maturity.events (org_id, team, time);
    CREATE INDEX events_by_dashboard ON maturity.events (org_id, dashboard_uid, time);
    CREATE INDEX events_by_decision ON maturity.events (org_id, decision_id)
        WHERE decision_id IS NOT NULL;
    CREATE UNIQUE INDEX passive_view_sessions
        ON maturity.events (org_id, user_login, dashboard_uid, view_bucket)
        WHERE view_bucket IS NOT NULL;
    CREATE TABLE maturity.targets (
        org_id BIGINT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        team TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        unit TEXT COLLATE "C",
        direction TEXT COLLATE "C" NOT NULL,
        baseline DOUBLE PRECISION,
        target DOUBLE PRECISION,
        start_at BIGINT NOT NULL,
        deadline BIGINT,
        query TEXT,
        verification TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, id)
    );
    CREATE INDEX targets_by_team ON maturity.targets (org_id, team);
    CREATE TABLE maturity.actuals (
        org_id BIGINT NOT NULL,
        target_id TEXT COLLATE "C" NOT NULL,
        time BIGINT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (org_id, target_id, time)
    );"#,
    // 2: the Grafana sync (issue 12): where each actual came from, the sync's cursors and
    // last errors, and imported events found by source.
    r#"ALTER TABLE maturity.actuals ADD COLUMN source TEXT COLLATE "C" NOT NULL DEFAULT 'api';
    CREATE TABLE maturity.sync_state (
        org_id BIGINT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (org_id, key)
    );
    CREATE INDEX events_imported ON maturity.events (org_id, time) WHERE source = 'grafana';"#,
    // 3: evidence versions (issue 15), as SQLite's migration 3: a counter per team and per
    // dashboard, raised by triggers on every write that can change what a team's evaluation
    // reads, so that a cache in any replica knows what changed. Statement-level triggers
    // raise each counter once per statement, in (org, scope) order, so that concurrent
    // writers take the counters' row locks in one order.
    r#"CREATE TABLE maturity.evidence_versions (
        org_id BIGINT NOT NULL,
        scope TEXT COLLATE "C" NOT NULL,
        version BIGINT NOT NULL,
        PRIMARY KEY (org_id, scope)
    );
    CREATE FUNCTION maturity.events_versions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM new_rows WHERE team IS NOT NULL
            UNION SELECT org_id, 'dashboard:' || dashboard_uid FROM new_rows WHERE dashboard_uid IS NOT NULL
            UNION SELECT r.org_id, 'team:' || d.team FROM new_rows AS r
                JOIN maturity.events AS d ON d.org_id = r.org_id AND d.id = r.decision_id
                WHERE d.team IS NOT NULL
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM new_rows WHERE team IS NOT NULL
            UNION SELECT org_id, 'dashboard:' || dashboard_uid FROM new_rows WHERE dashboard_uid IS NOT NULL
            UNION SELECT r.org_id, 'team:' || d.team FROM new_rows AS r
                JOIN maturity.events AS d ON d.org_id = r.org_id AND d.id = r.decision_id
                WHERE d.team IS NOT NULL
            UNION SELECT org_id, 'team:' || team AS scope FROM old_rows WHERE team IS NOT NULL
            UNION SELECT org_id, 'dashboard:' || dashboard_uid FROM old_rows WHERE dashboard_uid IS NOT NULL
            UNION SELECT r.org_id, 'team:' || d.team FROM old_rows AS r
                JOIN maturity.events AS d ON d.org_id = r.org_id AND d.id = r.decision_id
                WHERE d.team IS NOT NULL
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSE
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM old_rows WHERE team IS NOT NULL
            UNION SELECT org_id, 'dashboard:' || dashboard_uid FROM old_rows WHERE dashboard_uid IS NOT NULL
            UNION SELECT r.org_id, 'team:' || d.team FROM old_rows AS r
                JOIN maturity.events AS d ON d.org_id = r.org_id AND d.id = r.decision_id
                WHERE d.team IS NOT NULL
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER events_version_insert AFTER INSERT ON maturity.events
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.events_versions();
    CREATE TRIGGER events_version_update AFTER UPDATE ON maturity.events
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION maturity.events_versions();
    CREATE TRIGGER events_version_delete AFTER DELETE ON maturity.events
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.events_versions();
    CREATE FUNCTION maturity.teams_versions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || id AS scope FROM new_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || id AS scope FROM new_rows UNION SELECT org_id, 'team:' || id AS scope FROM old_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSE
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || id AS scope FROM old_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER teams_version_insert AFTER INSERT ON maturity.teams
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.teams_versions();
    CREATE TRIGGER teams_version_update AFTER UPDATE ON maturity.teams
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION maturity.teams_versions();
    CREATE TRIGGER teams_version_delete AFTER DELETE ON maturity.teams
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.teams_versions();
    CREATE FUNCTION maturity.targets_versions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM new_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM new_rows UNION SELECT org_id, 'team:' || team AS scope FROM old_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSE
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT org_id, 'team:' || team AS scope FROM old_rows
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER targets_version_insert AFTER INSERT ON maturity.targets
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.targets_versions();
    CREATE TRIGGER targets_version_update AFTER UPDATE ON maturity.targets
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION maturity.targets_versions();
    CREATE TRIGGER targets_version_delete AFTER DELETE ON maturity.targets
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.targets_versions();
    CREATE FUNCTION maturity.actuals_versions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT r.org_id, 'team:' || t.team AS scope FROM new_rows AS r
                JOIN maturity.targets AS t ON t.org_id = r.org_id AND t.id = r.target_id
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT r.org_id, 'team:' || t.team AS scope FROM new_rows AS r
                JOIN maturity.targets AS t ON t.org_id = r.org_id AND t.id = r.target_id
            UNION SELECT r.org_id, 'team:' || t.team AS scope FROM old_rows AS r
                JOIN maturity.targets AS t ON t.org_id = r.org_id AND t.id = r.target_id
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        ELSE
        INSERT INTO maturity.evidence_versions AS v (org_id, scope, version)
        SELECT DISTINCT org_id, scope, 1 FROM (
            SELECT r.org_id, 'team:' || t.team AS scope FROM old_rows AS r
                JOIN maturity.targets AS t ON t.org_id = r.org_id AND t.id = r.target_id
        ) AS changed ORDER BY org_id, scope
        ON CONFLICT (org_id, scope) DO UPDATE SET version = v.version + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER actuals_version_insert AFTER INSERT ON maturity.actuals
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.actuals_versions();
    CREATE TRIGGER actuals_version_update AFTER UPDATE ON maturity.actuals
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION maturity.actuals_versions();
    CREATE TRIGGER actuals_version_delete AFTER DELETE ON maturity.actuals
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION maturity.actuals_versions();"#,
    // 4: every decision of a team, whatever its age, without walking the team's older
    // events (issue 15; the same index as SQLite's migration 4).
    r#"CREATE INDEX events_decisions ON maturity.events (org_id, team, time) WHERE kind = 'decision';"#,
    // 5: the evidence read by kind (issue 15; SQLite's migration 5): views and questions,
    // metric changes and notes from covering indexes (index-only scans, no heap fetch per
    // row where the pages are all-visible), reviews from an index of their own so that only
    // their rows are fetched.
    r#"CREATE INDEX events_view_evidence ON maturity.events (org_id, dashboard_uid, time)
        INCLUDE (kind, user_login, id, source, team) WHERE kind = 'view';
    CREATE INDEX events_plain_evidence ON maturity.events (org_id, team, time)
        INCLUDE (kind, id, dashboard_uid, user_login, source)
        WHERE kind IN ('question', 'metric_change', 'note');
    CREATE INDEX events_reviews ON maturity.events (org_id, team, time) WHERE kind = 'review';"#,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock that serializes migrations across processes ("MATU" and 1).
const MIGRATION_LOCK: i64 = 0x4D41_5455_0000_0001;

pub(super) fn newer_schema(version: i64) -> String {
    format!(
        "its schema version {version} is newer than this plugin knows ({SCHEMA_VERSION}); \
         upgrade the plugin"
    )
}

/// Our schema version (0 when there is none yet), or `None` when schema `maturity` has no
/// version table.
fn read_version(c: &mut impl GenericClient) -> Result<Option<i64>, postgres::Error> {
    let row = c.query_typed_one(
        "SELECT to_regclass('maturity.schema_version') IS NOT NULL",
        &[],
    )?;
    if !row.try_get::<_, bool>(0)? {
        return Ok(None);
    }
    let row = c.query_typed_one(
        "SELECT coalesce(max(version), 0) FROM maturity.schema_version",
        &[],
    )?;
    Ok(Some(row.try_get(0)?))
}

/// Creates or migrates schema `maturity`; answers the version in use.
pub(super) fn prepare_schema(c: &mut Client, place: &Place) -> StoreResult<i64> {
    let unusable = |why: String| StoreError::Unusable(place.unusable(why));
    let pg = |e: postgres::Error, doing: &str| unusable(schema_failure(place, &e, doing));
    // Already current: nothing to lock or create, so a role with table grants only works.
    match read_version(c).map_err(|e| pg(e, "read the schema version"))? {
        Some(v) if v > SCHEMA_VERSION => return Err(unusable(newer_schema(v))),
        Some(v) if v == SCHEMA_VERSION => return Ok(v),
        _ => {}
    }
    let mut tx = c.transaction().map_err(|e| pg(e, "start the migration"))?;
    // Every process that gets here queues on this lock; the first migrates, the others
    // then find the work done (each statement below sees what committed before it).
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[p(&MIGRATION_LOCK, Type::INT8)],
    )
    .map_err(|e| pg(e, "lock the migration"))?;
    let row = tx
        .query_typed_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'maturity'),
                    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'maturity')",
            &[],
        )
        .map_err(|e| pg(e, "look for schema maturity"))?;
    let exists: bool = row
        .try_get(0)
        .map_err(|e| pg(e, "look for schema maturity"))?;
    let objects: i64 = row
        .try_get(1)
        .map_err(|e| pg(e, "look for schema maturity"))?;
    let version = read_version(&mut tx).map_err(|e| pg(e, "read the schema version"))?;
    if !exists {
        tx.batch_execute("CREATE SCHEMA maturity")
            .map_err(|e| pg(e, "create schema maturity"))?;
    } else if version.is_none() && objects > 0 {
        return Err(unusable(format!(
            "its schema \"maturity\" holds {objects} objects of another application (no \
             maturity.schema_version): use another database, or rename that schema"
        )));
    }
    let version = version.unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(unusable(newer_schema(version)));
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS maturity.schema_version (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .map_err(|e| pg(e, "create table maturity.schema_version"))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let step = i as i64 + 1;
        tx.batch_execute(sql)
            .map_err(|e| pg(e, &format!("run migration {step}")))?;
        tx.execute_typed(
            "INSERT INTO maturity.schema_version (version) VALUES ($1)",
            &[p(&step, Type::INT8)],
        )
        .map_err(|e| pg(e, &format!("record migration {step}")))?;
    }
    tx.commit().map_err(|e| pg(e, "commit the migration"))?;
    Ok(SCHEMA_VERSION.max(version))
}

/// Why preparing the schema failed, with the grant that is missing when it is one.
fn schema_failure(place: &Place, e: &postgres::Error, doing: &str) -> String {
    let user = &place.user;
    let database = &place.database;
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => {
            let grant = if doing == "create schema maturity" {
                format!(
                    "GRANT CREATE ON DATABASE \"{database}\" TO \"{user}\" (or have an admin \
                     run CREATE SCHEMA maturity AUTHORIZATION \"{user}\")"
                )
            } else if doing.starts_with("read") {
                format!(
                    "GRANT USAGE ON SCHEMA maturity TO \"{user}\" and GRANT SELECT, INSERT, \
                     UPDATE, DELETE ON ALL TABLES IN SCHEMA maturity TO \"{user}\""
                )
            } else {
                format!(
                    "make \"{user}\" the owner of schema maturity (ALTER SCHEMA maturity OWNER \
                     TO \"{user}\"), or let an owner start the plugin once to migrate"
                )
            };
            format!("user {user:?} may not {doing} ({}): {grant}", db.message())
        }
        Some(db) if *db.code() == SqlState::READ_ONLY_SQL_TRANSACTION => format!(
            "the server is read-only (a standby?) and cannot {doing}: point the connection \
             string at the primary"
        ),
        Some(db) => format!(
            "cannot {doing}: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => format!("cannot {doing}: {}", chain(e)),
    }
}
