//! The SQLite side of [`SyncStore`] (issue 12): imported events written in one transaction,
//! the sync's small key-value state, actuals with their source. A child of `sqlite`, so it
//! shares that module's row readers and connections; its tables come with the migration step
//! "Grafana sync" of `sqlite::MIGRATIONS`.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::{ensure_target, event_from_row, insert_event, to_json, SqliteStore, EVENT_COLUMNS};
use crate::model::{Actual, EpochMs, Event, Source};
use crate::model::OrgId;
use crate::store::{ImportWrite, StoreError, StoreResult, SyncStore};

impl SyncStore for SqliteStore {
    fn imported_events(
        &self,
        org: OrgId,
        prefix: &str,
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Vec<Event>> {
        let conn = self.lock();
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
        let conn = self.lock();
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
        let conn = self.lock();
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
        ensure_target(&tx, org, id)?;
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
        let conn = self.lock();
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
    use crate::model::{Direction, EventKind, Target, Team};
    use crate::store::Store;
    use serde_json::{json, Map};

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStore::open(&dir.path().join("m.db")).expect("open");
        (dir, s)
    }

    fn imported(id: &str, time: i64, text: &str, source: Source) -> Event {
        Event {
            id: id.into(),
            kind: EventKind::Decision,
            time,
            time_end: None,
            team: Some("pay".into()),
            dashboard_uid: Some("slo".into()),
            panel_id: Some(2),
            user: "alice".into(),
            text: text.into(),
            tags: vec!["decision".into()],
            data: Map::new(),
            source,
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn imports_insert_update_and_remove_only_imported_events() {
        let (_d, s) = store();
        s.create_team(
            1,
            &Team {
                id: "pay".into(),
                name: "Pay".into(),
                dashboards: vec![],
                members: vec![],
                cadence_days: 7,
                created_at: 0,
            },
        )
        .expect("team");
        s.insert_events(1, &[imported("grafana:9", 50, "posted", Source::Api)])
            .expect("api event");
        let w = s
            .write_imported(
                1,
                &[
                    imported("grafana:1", 10, "one", Source::Grafana),
                    imported("grafana:2", 20, "two", Source::Grafana),
                    imported("grafana:9", 30, "clash", Source::Grafana),
                ],
                &[],
            )
            .expect("write");
        assert_eq!(
            (w.inserted, w.updated, w.refused.clone()),
            (2, 0, vec!["grafana:9".to_string()])
        );
        let mut edited = imported("grafana:1", 11, "one, edited", Source::Grafana);
        edited.tags.push("team:pay".into());
        let w = s
            .write_imported(1, &[edited], &["grafana:2".into(), "grafana:9".into()])
            .expect("write");
        assert_eq!(
            (w.inserted, w.updated, w.removed),
            (0, 1, 1),
            "the API event is not removed"
        );
        let left = s.imported_events(1, "grafana:", 0, 100).expect("read");
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].time, left[0].text.as_str()), (11, "one, edited"));
        assert_eq!(s.get_event(1, "grafana:9").expect("kept").text, "posted");
        assert!(s
            .imported_events(2, "grafana:", 0, 100)
            .expect("org 2")
            .is_empty());
    }

    #[test]
    fn sync_values_are_per_org_and_clear_with_none() {
        let (_d, s) = store();
        s.set_sync_value(1, "ds/a/lastRun", Some(&json!(5)))
            .expect("set");
        s.set_sync_value(1, "ds/a/lastRun", Some(&json!(6)))
            .expect("replace");
        s.set_sync_value(1, "target/t1/lastError", Some(&json!({"message": "x"})))
            .expect("set");
        assert_eq!(
            s.sync_value(1, "ds/a/lastRun").expect("get"),
            Some(json!(6))
        );
        assert_eq!(s.sync_value(2, "ds/a/lastRun").expect("other org"), None);
        assert_eq!(s.sync_values(1, "target/").expect("prefix").len(), 1);
        s.set_sync_value(1, "ds/a/lastRun", None).expect("clear");
        assert_eq!(s.sync_value(1, "ds/a/lastRun").expect("get"), None);
    }

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

    #[test]
    fn live_actuals_keep_their_source() {
        let (_d, s) = store();
        s.create_team(
            1,
            &Team {
                id: "pay".into(),
                name: "Pay".into(),
                dashboards: vec![],
                members: vec![],
                cadence_days: 7,
                created_at: 0,
            },
        )
        .expect("team");
        s.create_target(
            1,
            &Target {
                id: "t".into(),
                team: "pay".into(),
                name: "T".into(),
                unit: None,
                direction: Direction::Decrease,
                baseline: None,
                target: None,
                start_at: 0,
                deadline: None,
                query: None,
                actuals: vec![Actual {
                    time: 1,
                    value: 1.0,
                }],
                verification: None,
                created_at: 0,
            },
        )
        .expect("target");
        s.add_actuals_from(
            1,
            "t",
            &[Actual {
                time: 2,
                value: 2.0,
            }],
            Source::Grafana,
        )
        .expect("live");
        assert_eq!(
            s.actual_sources(1, "t").expect("sources"),
            [(1, Source::Api), (2, Source::Grafana)]
        );
        assert_eq!(s.get_target(1, "t").expect("t").actuals.len(), 2);
        assert!(s
            .add_actuals_from(
                1,
                "nope",
                &[Actual {
                    time: 2,
                    value: 2.0
                }],
                Source::Grafana
            )
            .is_err());
    }
}
