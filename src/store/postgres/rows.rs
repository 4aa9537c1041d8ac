//! Rows in and out: the column lists, the readers that turn rows into model objects, and the
//! writes several verbs share (a batch of events, actuals), each list as one array
//! parameter. JSON columns hold the exact text the SQLite store writes.

use std::collections::{BTreeMap, HashMap};

use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Row};
use serde_json::{Map, Value};

use super::pool::Ask;
use super::Fail;
use crate::model::{
    Actual, Direction, Event, EventKind, EvidenceFields, KeptEvent, OrgId, SharedNames, Source,
    Target, Team,
};
use crate::store::{ListedEvent, StoreError};

/// A parameter with its type: statements go out with `query_typed`, one round trip with no
/// prepared statement to keep, except the hot reads (`PgConn::query_prepared`) and the
/// snapshots' (`pool::Snapshot`).
pub(super) fn p<T: ToSql + Sync>(v: &T, t: Type) -> (&(dyn ToSql + Sync), Type) {
    (v, t)
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, Fail> {
    serde_json::from_str(text).map_err(|e| {
        Fail::Store(StoreError::Database(format!(
            "a stored {what} is not valid JSON: {e}"
        )))
    })
}

/// A JSON text column; `empty`, what most rows hold (`[]` tags, `{}` data), skips the parser.
fn json_or_default<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    empty: &str,
    what: &str,
) -> Result<T, Fail> {
    if text == empty {
        Ok(T::default())
    } else {
        from_json(text, what)
    }
}

fn bad_value(what: String) -> Fail {
    Fail::Store(StoreError::Database(what))
}

pub(super) const TEAM_COLUMNS: &str = "id, name, dashboards, members, cadence_days, created_at";

pub(super) fn team_from_row(r: &Row) -> Result<Team, Fail> {
    let cadence: i64 = r.try_get(4)?;
    Ok(Team {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        dashboards: from_json(r.try_get(2)?, "team's dashboards")?,
        members: from_json(r.try_get(3)?, "team's members")?,
        cadence_days: u32::try_from(cadence).map_err(|_| {
            bad_value(format!(
                "a stored cadence of {cadence} days is out of range"
            ))
        })?,
        created_at: r.try_get(5)?,
    })
}

pub(super) const EVENT_COLUMNS: &str = "id, kind, time, time_end, team, dashboard_uid, panel_id, \
                                        user_login, text, tags, data, source, created_at, updated_at";
/// [`EVENT_COLUMNS`] for the engine's evidence (issue 15): only what a rule reads, as on
/// SQLite (see `Event::as_evidence`). `data` only for decisions and outcomes, of a review only
/// its `dashboards`, `text` only for decisions; tags, panel, end time and timestamps are left
/// empty (neither sent nor parsed).
pub(super) const EVIDENCE_COLUMNS: &str = "id, kind, time, NULL::bigint, team, dashboard_uid, \
                                        NULL::bigint, user_login, \
                                        CASE WHEN kind = 'decision' THEN text ELSE ''::text END, \
                                        '[]'::text, CASE WHEN kind IN ('decision', 'outcome') THEN data \
                                        WHEN kind = 'review' AND jsonb_exists(data::jsonb, 'dashboards') \
                                        THEN jsonb_build_object('dashboards', data::jsonb -> 'dashboards')::text \
                                        ELSE '{}'::text END, source, 0::bigint, 0::bigint";
/// [`EVIDENCE_COLUMNS`] for the kinds whose text and data no rule reads (views, questions,
/// metric changes, notes): only columns `events_view_evidence` and `events_plain_evidence`
/// hold, so the read can be an index-only scan.
pub(super) const PLAIN_EVIDENCE_COLUMNS: &str = "id, kind, time, NULL::bigint, team, dashboard_uid, \
                                        NULL::bigint, user_login, ''::text, '[]'::text, '{}'::text, \
                                        source, 0::bigint, 0::bigint";
/// [`EVENT_COLUMNS`] with an empty `data` (see `EventFilter::without_data`): the column is
/// neither sent nor parsed.
pub(super) const EVENT_COLUMNS_WITHOUT_DATA: &str = "id, kind, time, time_end, team, dashboard_uid, \
                                        panel_id, user_login, text, tags, '{}'::text, source, created_at, updated_at";
/// The columns [`listed_from_row`] reads, at their [`EVENT_COLUMNS`] places (the panel's a
/// `NULL`): an `events` frame's read leaves the panel, data, source and timestamps unsent.
pub(super) const LISTED_COLUMNS: &str = "id, kind, time, time_end, team, dashboard_uid, \
                                        NULL::bigint, user_login, text, tags";

pub(super) fn event_from_row(r: &Row) -> Result<Event, Fail> {
    let listed = listed_from_row(r)?;
    let source: &str = r.try_get(11)?;
    Ok(Event {
        id: listed.id.into(),
        kind: listed.kind,
        time: listed.time,
        time_end: listed.time_end,
        team: listed.team.map(String::from),
        dashboard_uid: listed.dashboard_uid.map(String::from),
        panel_id: r.try_get(6)?,
        user: listed.user.into(),
        text: listed.text.into(),
        tags: json_or_default(listed.tags_json, "[]", "event's tags")?,
        data: json_or_default::<Map<String, Value>>(r.try_get(10)?, "{}", "event's data")?,
        source: Source::parse(source)
            .ok_or_else(|| bad_value(format!("unknown source {source}")))?,
        created_at: r.try_get(12)?,
        updated_at: r.try_get(13)?,
    })
}

/// An evidence row ([`EVIDENCE_COLUMNS`] or [`PLAIN_EVIDENCE_COLUMNS`]) made a kept event:
/// its `data` is parsed only when the row has some (decisions, outcomes, reviews), and the
/// values a rule reads are moved out of it.
pub(super) fn kept_from_row(r: &Row, names: &mut SharedNames) -> Result<KeptEvent, Fail> {
    let kind: &str = r.try_get(1)?;
    let fields = EvidenceFields {
        id: r.try_get(0)?,
        kind: EventKind::parse(kind).ok_or_else(|| bad_value(format!("unknown kind {kind}")))?,
        time: r.try_get(2)?,
        team: r.try_get(4)?,
        dashboard_uid: r.try_get(5)?,
        user: r.try_get(7)?,
        text: r.try_get(8)?,
    };
    let mut data: Map<String, Value> = json_or_default(r.try_get(10)?, "{}", "event's data")?;
    Ok(KeptEvent::of_fields(fields, |key| data.remove(key), names))
}

/// A row of [`EVENT_COLUMNS`] (or a statement with the same columns) as [`ListedEvent`],
/// borrowed from it.
pub(super) fn listed_from_row(r: &Row) -> Result<ListedEvent<'_>, Fail> {
    let kind: &str = r.try_get(1)?;
    Ok(ListedEvent {
        id: r.try_get(0)?,
        kind: EventKind::parse(kind).ok_or_else(|| bad_value(format!("unknown kind {kind}")))?,
        time: r.try_get(2)?,
        time_end: r.try_get(3)?,
        team: r.try_get(4)?,
        dashboard_uid: r.try_get(5)?,
        user: r.try_get(7)?,
        text: r.try_get(8)?,
        tags_json: r.try_get(9)?,
    })
}

pub(super) fn events_from_rows(rows: Vec<Row>) -> Result<Vec<Event>, Fail> {
    rows.iter().map(event_from_row).collect()
}

pub(super) const TARGET_COLUMNS: &str = "id, team, name, unit, direction, baseline, target, \
                                         start_at, deadline, query, verification, created_at";

pub(super) fn target_from_row(r: &Row) -> Result<Target, Fail> {
    let direction: &str = r.try_get(4)?;
    let query: Option<&str> = r.try_get(9)?;
    let verification: Option<&str> = r.try_get(10)?;
    Ok(Target {
        id: r.try_get(0)?,
        team: r.try_get(1)?,
        name: r.try_get(2)?,
        unit: r.try_get(3)?,
        direction: Direction::parse(direction)
            .ok_or_else(|| bad_value(format!("unknown direction {direction}")))?,
        baseline: r.try_get(5)?,
        target: r.try_get(6)?,
        start_at: r.try_get(7)?,
        deadline: r.try_get(8)?,
        query: query.map(|q| from_json(q, "target's query")).transpose()?,
        actuals: Vec::new(),
        verification: verification
            .map(|v| from_json(v, "target's verification"))
            .transpose()?,
        created_at: r.try_get(11)?,
    })
}

pub(super) fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Increase => "increase",
        Direction::Decrease => "decrease",
    }
}

/// Every team of the org, by id.
pub(super) fn teams_of(c: &mut impl Ask, org: OrgId) -> Result<Vec<Team>, Fail> {
    let rows = c.ask(
        &format!("SELECT {TEAM_COLUMNS} FROM maturity.teams WHERE org_id = $1 ORDER BY id"),
        &[p(&org, Type::INT8)],
    )?;
    rows.iter().map(team_from_row).collect()
}

/// The teams of the org with one of `ids`, by id (ids that name no team are skipped).
pub(super) fn teams_with_ids(
    c: &mut impl Ask,
    org: OrgId,
    ids: &[String],
) -> Result<Vec<Team>, Fail> {
    let rows = c.ask(
        &format!(
            "SELECT {TEAM_COLUMNS} FROM maturity.teams WHERE org_id = $1 AND id = ANY($2) ORDER BY id"
        ),
        &[p(&org, Type::INT8), p(&ids, Type::TEXT_ARRAY)],
    )?;
    rows.iter().map(team_from_row).collect()
}

/// Targets of the org (of `teams` only, unless empty) by team then id, with their actuals.
pub(super) fn targets_of(
    c: &mut impl Ask,
    org: OrgId,
    teams: &[String],
) -> Result<Vec<Target>, Fail> {
    let rows = if teams.is_empty() {
        c.ask(
            &format!(
                "SELECT {TARGET_COLUMNS} FROM maturity.targets WHERE org_id = $1 ORDER BY team, id"
            ),
            &[p(&org, Type::INT8)],
        )?
    } else {
        c.ask(
            &format!(
                "SELECT {TARGET_COLUMNS} FROM maturity.targets WHERE org_id = $1 AND team = ANY($2)
                 ORDER BY team, id"
            ),
            &[p(&org, Type::INT8), p(&teams, Type::TEXT_ARRAY)],
        )?
    };
    let mut targets = rows
        .iter()
        .map(target_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    load_actuals(c, org, &mut targets)?;
    Ok(targets)
}

/// Fills in the actuals of `targets`, in time order, with one statement.
pub(super) fn load_actuals(
    c: &mut impl Ask,
    org: OrgId,
    targets: &mut [Target],
) -> Result<(), Fail> {
    if targets.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    let rows = c.ask(
        "SELECT target_id, time, value FROM maturity.actuals
         WHERE org_id = $1 AND target_id = ANY($2) ORDER BY target_id, time",
        &[p(&org, Type::INT8), p(&ids, Type::TEXT_ARRAY)],
    )?;
    let mut by_target: HashMap<String, Vec<Actual>> = HashMap::new();
    for r in &rows {
        by_target
            .entry(r.try_get::<_, String>(0)?)
            .or_default()
            .push(Actual {
                time: r.try_get(1)?,
                value: r.try_get(2)?,
            });
    }
    for t in targets.iter_mut() {
        t.actuals = by_target.remove(&t.id).unwrap_or_default();
    }
    Ok(())
}

/// The columns of `events` as arrays, one entry per event, for `unnest`.
#[derive(Default)]
pub(super) struct EventColumns<'a> {
    pub(super) orgs: Vec<OrgId>,
    ids: Vec<&'a str>,
    kinds: Vec<&'static str>,
    times: Vec<i64>,
    time_ends: Vec<Option<i64>>,
    teams: Vec<Option<&'a str>>,
    dashboards: Vec<Option<&'a str>>,
    panels: Vec<Option<i64>>,
    users: Vec<&'a str>,
    texts: Vec<&'a str>,
    tags: Vec<String>,
    data: Vec<String>,
    sources: Vec<&'static str>,
    created: Vec<i64>,
    updated: Vec<i64>,
    decisions: Vec<Option<&'a str>>,
    buckets: Vec<Option<i64>>,
}

impl<'a> EventColumns<'a> {
    pub(super) fn push(&mut self, org: OrgId, e: &'a Event, view_bucket: Option<i64>) {
        self.orgs.push(org);
        self.ids.push(&e.id);
        self.kinds.push(e.kind.as_str());
        self.times.push(e.time);
        self.time_ends.push(e.time_end);
        self.teams.push(e.team.as_deref());
        self.dashboards.push(e.dashboard_uid.as_deref());
        self.panels.push(e.panel_id);
        self.users.push(&e.user);
        self.texts.push(&e.text);
        self.tags.push(to_json(&e.tags));
        self.data.push(to_json(&e.data));
        self.sources.push(e.source.as_str());
        self.created.push(e.created_at);
        self.updated.push(e.updated_at);
        self.decisions.push(e.decision_id());
        self.buckets.push(view_bucket);
    }

    /// Inserts every row in one statement; `on_conflict` is `""` (a taken key fails the
    /// statement) or `ON CONFLICT DO NOTHING`. Answers how many rows were written.
    pub(super) fn insert(
        &self,
        c: &mut impl GenericClient,
        on_conflict: &str,
    ) -> Result<u64, Fail> {
        if self.ids.is_empty() {
            return Ok(0);
        }
        Ok(c.execute_typed(&Self::statement(on_conflict), &self.params())?)
    }

    /// As [`insert`](Self::insert), answering the ids of the rows written (those a conflict
    /// skipped are not among them).
    pub(super) fn insert_returning_ids(
        &self,
        c: &mut impl GenericClient,
        on_conflict: &str,
    ) -> Result<Vec<String>, Fail> {
        if self.ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{} RETURNING id", Self::statement(on_conflict));
        c.query_typed(&sql, &self.params())?
            .iter()
            .map(|r| Ok(r.try_get::<_, String>(0)?))
            .collect()
    }

    fn statement(on_conflict: &str) -> String {
        format!(
            "INSERT INTO maturity.events (org_id, {EVENT_COLUMNS}, decision_id, view_bucket)
             SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int8[],
                 $6::text[], $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[],
                 $12::text[], $13::text[], $14::int8[], $15::int8[], $16::text[], $17::int8[])
             {on_conflict}"
        )
    }

    fn params(&self) -> [(&(dyn ToSql + Sync), Type); 17] {
        use Type as T;
        [
            p(&self.orgs, T::INT8_ARRAY),
            p(&self.ids, T::TEXT_ARRAY),
            p(&self.kinds, T::TEXT_ARRAY),
            p(&self.times, T::INT8_ARRAY),
            p(&self.time_ends, T::INT8_ARRAY),
            p(&self.teams, T::TEXT_ARRAY),
            p(&self.dashboards, T::TEXT_ARRAY),
            p(&self.panels, T::INT8_ARRAY),
            p(&self.users, T::TEXT_ARRAY),
            p(&self.texts, T::TEXT_ARRAY),
            p(&self.tags, T::TEXT_ARRAY),
            p(&self.data, T::TEXT_ARRAY),
            p(&self.sources, T::TEXT_ARRAY),
            p(&self.created, T::INT8_ARRAY),
            p(&self.updated, T::INT8_ARRAY),
            p(&self.decisions, T::TEXT_ARRAY),
            p(&self.buckets, T::INT8_ARRAY),
        ]
    }
}

/// Inserts an imported event, or overwrites the imported event of its id (keeping its
/// source and creation); an event of that id that was not imported is left alone.
/// Answers `Some(true)` when inserted, `Some(false)` when updated, `None` when left alone.
pub(super) fn upsert_imported(
    c: &mut impl GenericClient,
    org: OrgId,
    e: &Event,
) -> Result<Option<bool>, Fail> {
    let (tags, data) = (to_json(&e.tags), to_json(&e.data));
    let decision = e.decision_id();
    let kind = e.kind.as_str();
    let source = e.source.as_str();
    let row = c.query_typed_opt(
        &format!(
            "INSERT INTO maturity.events (org_id, {EVENT_COLUMNS}, decision_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (org_id, id) DO UPDATE SET kind = excluded.kind, time = excluded.time,
                 time_end = excluded.time_end, team = excluded.team,
                 dashboard_uid = excluded.dashboard_uid, panel_id = excluded.panel_id,
                 user_login = excluded.user_login, text = excluded.text, tags = excluded.tags,
                 data = excluded.data, updated_at = excluded.updated_at,
                 decision_id = excluded.decision_id
             WHERE events.source = 'grafana'
             RETURNING (xmax = 0)"
        ),
        &[
            p(&org, Type::INT8),
            p(&e.id, Type::TEXT),
            p(&kind, Type::TEXT),
            p(&e.time, Type::INT8),
            p(&e.time_end, Type::INT8),
            p(&e.team, Type::TEXT),
            p(&e.dashboard_uid, Type::TEXT),
            p(&e.panel_id, Type::INT8),
            p(&e.user, Type::TEXT),
            p(&e.text, Type::TEXT),
            p(&tags, Type::TEXT),
            p(&data, Type::TEXT),
            p(&source, Type::TEXT),
            p(&e.created_at, Type::INT8),
            p(&e.updated_at, Type::INT8),
            p(&decision, Type::TEXT),
        ],
    )?;
    // `xmax = 0` holds for a row this statement inserted, not for one it updated.
    Ok(match row {
        Some(r) => Some(r.try_get::<_, bool>(0)?),
        None => None,
    })
}

/// The team of target `id`, `NotFound` unless it exists; the row stays share-locked to the
/// end of the transaction so a concurrent delete cannot leave these actuals behind.
pub(super) fn target_team(
    c: &mut impl GenericClient,
    org: OrgId,
    id: &str,
) -> Result<String, Fail> {
    let found = c.query_typed(
        "SELECT team FROM maturity.targets WHERE org_id = $1 AND id = $2 FOR SHARE",
        &[p(&org, Type::INT8), p(&id, Type::TEXT)],
    )?;
    match found.first() {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(Fail::Store(StoreError::NotFound(format!("target {id:?}")))),
    }
}

/// Upserts actuals in one statement. An actual at an existing time replaces its value (and,
/// with `source`, its source; without, the stored source stays, as in SQLite). Of several
/// at one time in the batch the last wins, as it would written one by one.
pub(super) fn upsert_actuals(
    c: &mut impl GenericClient,
    org: OrgId,
    id: &str,
    actuals: &[Actual],
    source: Option<Source>,
) -> Result<(), Fail> {
    if actuals.is_empty() {
        return Ok(());
    }
    let last: BTreeMap<i64, f64> = actuals.iter().map(|a| (a.time, a.value)).collect();
    let times: Vec<i64> = last.keys().copied().collect();
    let values: Vec<f64> = last.values().copied().collect();
    match source {
        None => c.execute_typed(
            "INSERT INTO maturity.actuals (org_id, target_id, time, value)
             SELECT $1, $2, a.t, a.v FROM unnest($3::int8[], $4::float8[]) AS a(t, v)
             ON CONFLICT (org_id, target_id, time) DO UPDATE SET value = excluded.value",
            &[
                p(&org, Type::INT8),
                p(&id, Type::TEXT),
                p(&times, Type::INT8_ARRAY),
                p(&values, Type::FLOAT8_ARRAY),
            ],
        )?,
        Some(source) => c.execute_typed(
            "INSERT INTO maturity.actuals (org_id, target_id, time, value, source)
             SELECT $1, $2, a.t, a.v, $5 FROM unnest($3::int8[], $4::float8[]) AS a(t, v)
             ON CONFLICT (org_id, target_id, time)
             DO UPDATE SET value = excluded.value, source = excluded.source",
            &[
                p(&org, Type::INT8),
                p(&id, Type::TEXT),
                p(&times, Type::INT8_ARRAY),
                p(&values, Type::FLOAT8_ARRAY),
                p(&source.as_str(), Type::TEXT),
            ],
        )?,
    };
    Ok(())
}
