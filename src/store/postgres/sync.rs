//! The PostgreSQL side of [`SyncStore`] (issue 12): imported events, the sync's key-value
//! state, actuals with their source. Every write is idempotent, so replicas importing the
//! same annotations at once store each one once.

use postgres::types::Type;
use serde_json::Value;

use super::rows::{
    events_from_rows, p, target_team, to_json, upsert_actuals, upsert_imported, EVENT_COLUMNS,
};
use super::PostgresStore;
use crate::model::{Actual, EpochMs, Event, OrgId, Source};
use crate::store::{ImportWrite, StoreError, StoreResult, SyncStore};

impl SyncStore for PostgresStore {
    fn imported_events(
        &self,
        org: OrgId,
        prefix: &str,
        from: EpochMs,
        to: EpochMs,
    ) -> StoreResult<Vec<Event>> {
        self.read(|c| {
            events_from_rows(c.query_typed(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM maturity.events
                     WHERE org_id = $1 AND source = 'grafana' AND time >= $3 AND time <= $4
                       AND left(id, length($2)) = $2
                     ORDER BY time, id"
                ),
                &[
                    p(&org, Type::INT8),
                    p(&prefix, Type::TEXT),
                    p(&from, Type::INT8),
                    p(&to, Type::INT8),
                ],
            )?)
        })
    }

    fn write_imported(
        &self,
        org: OrgId,
        upserts: &[Event],
        removals: &[String],
    ) -> StoreResult<ImportWrite> {
        self.write(|tx| {
            let mut out = ImportWrite::default();
            // One by one, in order, as SQLite does (an id twice in a batch is inserted, then
            // updated). The upsert is one statement, so a replica importing the same event
            // at once cannot make it fail: one inserts, the other updates. An event that was
            // not imported is left alone (the WHERE) and returns no row.
            for e in upserts {
                match upsert_imported(tx, org, e)? {
                    Some(true) => out.inserted += 1,
                    Some(false) => out.updated += 1,
                    None => out.refused.push(e.id.clone()),
                }
            }
            if !removals.is_empty() {
                out.removed += tx.execute_typed(
                    "DELETE FROM maturity.events
                     WHERE org_id = $1 AND id = ANY($2) AND source = 'grafana'",
                    &[p(&org, Type::INT8), p(&removals, Type::TEXT_ARRAY)],
                )? as usize;
            }
            Ok(out)
        })
    }

    fn sync_value(&self, org: OrgId, key: &str) -> StoreResult<Option<Value>> {
        let text = self.read(|c| {
            let row = c.query_typed_opt(
                "SELECT value FROM maturity.sync_state WHERE org_id = $1 AND key = $2",
                &[p(&org, Type::INT8), p(&key, Type::TEXT)],
            )?;
            Ok(match row {
                Some(r) => Some(r.try_get::<_, String>(0)?),
                None => None,
            })
        })?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StoreError::Database(format!("sync state {key:?} is not JSON: {e}")))
        })
        .transpose()
    }

    fn sync_values(&self, org: OrgId, prefix: &str) -> StoreResult<Vec<(String, Value)>> {
        let rows = self.read(|c| {
            let rows = c.query_typed(
                "SELECT key, value FROM maturity.sync_state
                 WHERE org_id = $1 AND left(key, length($2)) = $2 ORDER BY key",
                &[p(&org, Type::INT8), p(&prefix, Type::TEXT)],
            )?;
            rows.iter()
                .map(|r| Ok((r.try_get::<_, String>(0)?, r.try_get::<_, String>(1)?)))
                .collect::<Result<Vec<_>, super::Fail>>()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|v| (k, v)))
            .collect())
    }

    fn set_sync_value(&self, org: OrgId, key: &str, value: Option<&Value>) -> StoreResult<()> {
        self.read(|c| {
            match value {
                Some(v) => c.execute_typed(
                    "INSERT INTO maturity.sync_state (org_id, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value",
                    &[
                        p(&org, Type::INT8),
                        p(&key, Type::TEXT),
                        p(&to_json(v), Type::TEXT),
                    ],
                )?,
                None => c.execute_typed(
                    "DELETE FROM maturity.sync_state WHERE org_id = $1 AND key = $2",
                    &[p(&org, Type::INT8), p(&key, Type::TEXT)],
                )?,
            };
            Ok(())
        })
    }

    fn claim_lease(
        &self,
        org: OrgId,
        key: &str,
        holder: &str,
        now: EpochMs,
        until: EpochMs,
    ) -> StoreResult<bool> {
        let lease = to_json(&serde_json::json!({"holder": holder, "until": until}));
        // INSERT … ON CONFLICT is atomic against a concurrent insert or update of the row:
        // of two replicas claiming at once, one updates it and the other sees its lease.
        self.read(|c| {
            let rows = c.query_typed(
                "INSERT INTO maturity.sync_state AS s (org_id, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value
                 WHERE (s.value::jsonb ->> 'until')::bigint <= $4
                    OR s.value::jsonb ->> 'holder' = $5
                 RETURNING 1",
                &[
                    p(&org, Type::INT8),
                    p(&key, Type::TEXT),
                    p(&lease, Type::TEXT),
                    p(&now, Type::INT8),
                    p(&holder, Type::TEXT),
                ],
            )?;
            Ok(rows.len() == 1)
        })
    }

    fn add_actuals_from(
        &self,
        org: OrgId,
        id: &str,
        actuals: &[Actual],
        source: Source,
    ) -> StoreResult<()> {
        self.write(|tx| {
            target_team(tx, org, id)?;
            upsert_actuals(tx, org, id, actuals, Some(source))
        })
    }

    fn actual_sources(&self, org: OrgId, id: &str) -> StoreResult<Vec<(EpochMs, Source)>> {
        self.read(|c| {
            let rows = c.query_typed(
                "SELECT time, source FROM maturity.actuals
                 WHERE org_id = $1 AND target_id = $2 ORDER BY time",
                &[p(&org, Type::INT8), p(&id, Type::TEXT)],
            )?;
            rows.iter()
                .map(|r| {
                    let source: &str = r.try_get(1)?;
                    Ok((
                        r.try_get::<_, i64>(0)?,
                        Source::parse(source).unwrap_or(Source::Api),
                    ))
                })
                .collect()
        })
    }
}
