//! The SQLite side of [`SyncStore`] (issue 12): imported events written in one transaction,
//! the sync's small key-value state, actuals with their source. A child of `sqlite`, so it
//! shares that module's row readers and connections; its tables come with the migration step
//! "Grafana sync" of `sqlite::MIGRATIONS`.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::{event_from_row, insert_event, target_team, to_json, SqliteStore, EVENT_COLUMNS};
use crate::model::OrgId;
use crate::model::{Actual, EpochMs, Event, Source};
use crate::store::{ImportWrite, StoreError, StoreResult, SyncStore};

impl SyncStore for SqliteStore {
    fn imported_events(
        &self,
        org: OrgId,
        prefix: &str,
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Vec<Event>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE org_id = ?1 AND source = 'grafana' AND time >= ?3 AND time <= ?4
               AND substr(id, 1, length(?2)) = ?2
             ORDER BY time, id"
        ))?;
        let events = stmt
            .query_map(params![org, prefix, from, to], event_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(events)
    }

    fn write_imported(
        &self,
        org: OrgId,
        upserts: &[Event],
        removals: &[String],
    ) -> StoreResult<ImportWrite> {
        let mut conn = self.lock();
        // The write lock up front: a transaction that reads first could not wait for another
        // process's write (issue 11).
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = ImportWrite::default();
        for e in upserts {
            let source: Option<String> = tx
                .prepare_cached("SELECT source FROM events WHERE org_id = ?1 AND id = ?2")?
                .query_row(params![org, e.id], |r| r.get(0))
                .optional()?;
            match source.as_deref() {
                None => {
                    insert_event(&tx, org, e, None)?;
                    out.inserted += 1;
                }
                Some("grafana") => {
                    tx.prepare_cached(
                        "UPDATE events SET kind = ?3, time = ?4, time_end = ?5, team = ?6,
                             dashboard_uid = ?7, panel_id = ?8, user_login = ?9, text = ?10,
                             tags = ?11, data = ?12, updated_at = ?13, decision_id = ?14
                         WHERE org_id = ?1 AND id = ?2",
                    )?
                    .execute(params![
                        org,
                        e.id,
                        e.kind.as_str(),
                        e.time,
                        e.time_end,
                        e.team,
                        e.dashboard_uid,
                        e.panel_id,
                        e.user,
                        e.text,
                        to_json(&e.tags),
                        to_json(&e.data),
                        e.updated_at,
                        e.decision_id(),
                    ])?;
                    out.updated += 1;
                }
                Some(_) => out.refused.push(e.id.clone()),
            }
        }
        for id in removals {
            out.removed += tx
                .prepare_cached(
                    "DELETE FROM events WHERE org_id = ?1 AND id = ?2 AND source = 'grafana'",
                )?
                .execute(params![org, id])?;
        }
        tx.commit()?;
        Ok(out)
    }

    fn sync_value(&self, org: OrgId, key: &str) -> StoreResult<Option<Value>> {
        let conn = self.reader();
        let text: Option<String> = conn
            .prepare_cached("SELECT value FROM sync_state WHERE org_id = ?1 AND key = ?2")?
            .query_row(params![org, key], |r| r.get(0))
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StoreError::Database(format!("sync state {key:?} is not JSON: {e}")))
        })
        .transpose()
    }

    fn sync_values(&self, org: OrgId, prefix: &str) -> StoreResult<Vec<(String, Value)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT key, value FROM sync_state
             WHERE org_id = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key",
        )?;
        let rows = stmt
            .query_map(params![org, prefix], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|v| (k, v)))
            .collect())
    }

    fn set_sync_value(&self, org: OrgId, key: &str, value: Option<&Value>) -> StoreResult<()> {
        let conn = self.lock();
        match value {
            Some(v) => conn.execute(
                "INSERT INTO sync_state (org_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value",
                params![org, key, to_json(v)],
            )?,
            None => conn.execute(
                "DELETE FROM sync_state WHERE org_id = ?1 AND key = ?2",
                params![org, key],
            )?,
        };
        Ok(())
    }

    fn claim_lease(
        &self,
        org: OrgId,
        key: &str,
        holder: &str,
        now: EpochMs,
        until: EpochMs,
    ) -> StoreResult<bool> {
        let conn = self.lock();
        let lease = to_json(&serde_json::json!({"holder": holder, "until": until}));
        let changed = conn.execute(
            "INSERT INTO sync_state (org_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value
             WHERE json_extract(sync_state.value, '$.until') <= ?4
                OR json_extract(sync_state.value, '$.holder') = ?5",
            params![org, key, lease, now, holder],
        )?;
        Ok(changed == 1)
    }

    fn add_actuals_from(
        &self,
        org: OrgId,
        id: &str,
        actuals: &[Actual],
        source: Source,
    ) -> StoreResult<()> {
        let mut conn = self.lock();
        // The write lock up front: a transaction that reads first could not wait for another
        // process's write (issue 11).
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        target_team(&tx, org, id)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO actuals (org_id, target_id, time, value, source) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (org_id, target_id, time)
                 DO UPDATE SET value = excluded.value, source = excluded.source",
            )?;
            for a in actuals {
                stmt.execute(params![org, id, a.time, a.value, source.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn actual_sources(&self, org: OrgId, id: &str) -> StoreResult<Vec<(EpochMs, Source)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT time, source FROM actuals WHERE org_id = ?1 AND target_id = ?2 ORDER BY time",
        )?;
        let rows = stmt
            .query_map(params![org, id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(t, s)| (t, Source::parse(&s).unwrap_or(Source::Api)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_store_of_the_first_schema_upgrades_and_its_actuals_read_as_posted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            conn.pragma_update(None, "application_id", super::super::APPLICATION_ID)
                .expect("id");
            conn.execute_batch(super::super::MIGRATIONS[0])
                .expect("schema 1");
            conn.execute_batch(
                "INSERT INTO teams VALUES (1, 'pay', 'Pay', '[]', '[]', 7, 0);
                 INSERT INTO targets (org_id, id, team, name, direction, start_at, created_at)
                     VALUES (1, 't', 'pay', 'T', 'decrease', 0, 0);
                 INSERT INTO actuals VALUES (1, 't', 5, 9.5);
                 PRAGMA user_version = 1;",
            )
            .expect("data");
        }
        let s = SqliteStore::open(&path).expect("upgrade");
        assert_eq!(s.schema_version(), super::super::SCHEMA_VERSION);
        assert_eq!(
            s.actual_sources(1, "t").expect("sources"),
            [(5, Source::Api)]
        );
        assert_eq!(s.get_target(1, "t").expect("target").actuals[0].value, 9.5);
    }
}
