//! The Grafana sync (SPEC §9, issue 12): evidence taken from Grafana itself rather than fed
//! by hand. One run, for one datasource's org:
//!
//! 1. **Annotations** tagged `review`, `decision`, `question`, `outcome` or `metric-change`
//!    in the import window (two ladder windows back from now) become events with
//!    `source: grafana` and id `grafana:<annotation id>` ([`map_annotation`]). Importing again
//!    changes nothing; an annotation edited in Grafana updates its event; one deleted in
//!    Grafana (or no longer mapping to a team) inside the window is removed — only when every
//!    page of the window was read. Data keys added in the plugin (a `query`, a
//!    `suggestedOutcome`) survive an edit in Grafana.
//! 2. **Dashboard versions** of each team's dashboards newer than the datasource's cursor
//!    become `metric_change` events `grafana-dash:<uid>:<version>` with the version's
//!    message as text.
//! 3. **Live actuals**: each unverified target whose `query` is `{datasourceUid, model}` is
//!    evaluated over the last `actualsIntervalMinutes` (at least an hour) and the last value
//!    of its first numeric field is stored as an actual at the run's time with
//!    `source: grafana`; a failure is kept as the target's `lastError` `{at, message, fault}`
//!    until the next success.
//! 4. **Suggested outcomes** for due decisions with a query and an expected direction
//!    (arithmetic in [`engine::suggest`](crate::engine::suggest)).
//!
//! Nothing here schedules or locks: the plugin runs one sync at a time per datasource.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::input;
use super::{App, AppError, AppResult, Caller, Role};
use crate::engine::suggest::{self, SuggestedOutcome};
use crate::grafana::annotations::Annotation;
use crate::grafana::dsquery::{last_value, mean, LiveQuery};
use crate::grafana::{GrafanaClient, GrafanaError};
use crate::model::{
    validate_object_id, Actual, EpochMs, Event, EventKind, Invalid, Source, Target, Team,
};
use crate::model::{EventFilter, OrgId};

/// The tags that name a kind, in the order they are looked for.
pub const KIND_TAGS: [&str; 5] = ["review", "decision", "question", "outcome", "metric-change"];
/// The id prefix of imported annotations (`grafana:<annotation id>`).
pub const ANNOTATION_PREFIX: &str = "grafana:";
/// The id prefix of imported dashboard versions (`grafana-dash:<uid>:<version>`).
pub const VERSION_PREFIX: &str = "grafana-dash:";
/// The shortest range a live actual's query is evaluated over.
const MIN_ACTUAL_RANGE_MS: i64 = 3_600_000;
/// The most decisions one run looks at for suggestions.
const MAX_DECISIONS: usize = 5000;

/// A datasource's way to Grafana, as a sync run needs it.
#[derive(Debug, Clone)]
pub struct GrafanaSync {
    /// The client, with the datasource's URL and token.
    pub client: GrafanaClient,
    /// The org the datasource belongs to: everything is read and written there.
    pub org: OrgId,
    /// The datasource uid: cursors are kept per datasource.
    pub scope: String,
    /// `actualsIntervalMinutes` in ms.
    pub interval_ms: i64,
}

impl GrafanaSync {
    /// The key of one of this datasource's cursors.
    pub fn key(&self, what: &str) -> String {
        format!("ds/{}/{what}", self.scope)
    }
}

/// The key of a target's last error.
pub fn target_error_key(id: &str) -> String {
    format!("target/{id}/lastError")
}

/// The key of a decision's last error (its query could not be evaluated).
pub fn decision_error_key(id: &str) -> String {
    format!("decision/{id}/lastError")
}

/// What one part of a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// New events, actuals or suggestions.
    pub stored: usize,
    /// Events changed in Grafana and updated here.
    pub updated: usize,
    /// Events deleted in Grafana and removed here.
    pub removed: usize,
    /// Events already up to date.
    pub unchanged: usize,
    /// Items that map to nothing (see `skipped`).
    pub skipped: usize,
}

/// An annotation (or version) that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// `annotation` or `dashboardVersion`.
    pub what: &'static str,
    /// Grafana's id of it (annotation id, `<uid>:<version>`).
    pub id: String,
    /// Why, in words.
    pub reason: String,
}

/// A part of a run that failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// `annotations`, `dashboard`, `target` or `decision`.
    pub what: &'static str,
    /// The dashboard uid, target id or decision id (empty for the annotation listing).
    pub id: String,
    /// Whose fault: `token`, `network`, `grafana`, `query`, or `plugin` (the store).
    pub fault: &'static str,
    /// What went wrong (never the token).
    pub message: String,
}

/// What a run stored, updated, removed and what failed (the answer of `POST /sync`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// When the run started (epoch ms).
    pub at: EpochMs,
    /// Totals over every part.
    pub stored: usize,
    /// Totals over every part.
    pub updated: usize,
    /// Totals over every part.
    pub removed: usize,
    /// Imported annotations.
    pub annotations: Counts,
    /// Imported dashboard versions.
    pub dashboard_versions: Counts,
    /// Live actuals.
    pub actuals: Counts,
    /// Suggested outcomes.
    pub suggestions: Counts,
    /// What was not imported, and why.
    pub skipped: Vec<Skipped>,
    /// What failed.
    pub failed: Vec<Failure>,
}

impl SyncReport {
    fn fail(&mut self, what: &'static str, id: &str, e: &GrafanaError) {
        self.failed.push(Failure {
            what,
            id: id.to_string(),
            fault: e.fault().as_str(),
            message: e.to_string(),
        });
    }

    fn total(&mut self) {
        let parts = [
            self.annotations,
            self.dashboard_versions,
            self.actuals,
            self.suggestions,
        ];
        self.stored = parts.iter().map(|c| c.stored).sum();
        self.updated = parts.iter().map(|c| c.updated).sum();
        self.removed = parts.iter().map(|c| c.removed).sum();
    }

    /// One line for people (CheckHealth, logs).
    pub fn summary(&self) -> String {
        format!(
            "stored {}, updated {}, removed {}, skipped {}, failed {}",
            self.stored,
            self.updated,
            self.removed,
            self.skipped.len(),
            self.failed.len()
        )
    }
}

/// A failure kept on a target or decision: `{at, message, fault}`.
pub fn last_error(at: EpochMs, e: &GrafanaError) -> Value {
    json!({"at": at, "message": e.to_string(), "fault": e.fault().as_str()})
}

/// The kind an annotation's tags name: the first tag that names one.
pub fn kind_of(tags: &[String]) -> Option<EventKind> {
    tags.iter().find_map(|t| {
        KIND_TAGS
            .contains(&t.as_str())
            .then(|| EventKind::parse(t))
            .flatten()
    })
}

/// Maps an annotation to its event (SPEC §9), or says why it maps to none. The team is the
/// one whose `dashboards` hold the annotation's dashboard (when several do, the one a
/// `team:<id>` tag names, else the first by id), else the team a `team:<id>` tag names. An
/// outcome names its decision by `decision:<id>` and its result by `result:<result>`.
pub fn map_annotation(a: &Annotation, teams: &[Team], now: EpochMs) -> Result<Event, String> {
    let kind = kind_of(&a.tags).ok_or("no tag names a kind")?;
    let tagged = a
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("team:"))
        .map(str::trim);
    let holders: Vec<&Team> = match &a.dashboard_uid {
        Some(d) => teams.iter().filter(|t| t.dashboards.contains(d)).collect(),
        None => Vec::new(),
    };
    let team = match holders.as_slice() {
        [] => match tagged {
            Some(id) if teams.iter().any(|t| t.id == id) => id.to_string(),
            Some(id) => {
                return Err(format!(
                    "its tag team:{id} names no team of this organisation"
                ))
            }
            None => {
                return Err(match &a.dashboard_uid {
                    Some(d) => {
                        format!("no team lists its dashboard {d} and no team:<id> tag names one")
                    }
                    None => "it is on no dashboard and no team:<id> tag names a team".into(),
                })
            }
        },
        [one] => one.id.clone(),
        several => tagged
            .and_then(|id| several.iter().find(|t| t.id == id))
            .unwrap_or(&several[0])
            .id
            .clone(),
    };
    let mut data = Map::new();
    if kind == EventKind::Outcome {
        let value_of = |prefix: &str| {
            a.tags
                .iter()
                .find_map(|t| t.strip_prefix(prefix))
                .map(|v| v.trim().to_string())
        };
        let decision = value_of("decision:")
            .ok_or("an outcome needs a decision:<id> tag naming its decision")?;
        let result = value_of("result:")
            .ok_or("an outcome needs a result:<confirmed|not_confirmed|inconclusive> tag")?;
        data.insert("decisionId".into(), Value::from(decision));
        data.insert("result".into(), Value::from(result));
    }
    let data = input::event_data(kind, data, "tags → data.").map_err(|e| e.to_string())?;
    let id = format!("{ANNOTATION_PREFIX}{}", a.id);
    Ok(Event {
        id,
        kind,
        time: a.time,
        time_end: a.time_end,
        team: Some(team),
        dashboard_uid: a.dashboard_uid.clone(),
        panel_id: a.panel_id,
        user: if a.login.is_empty() {
            "grafana".into()
        } else {
            a.login.clone()
        },
        text: a.text.clone(),
        tags: a.tags.clone(),
        data,
        source: Source::Grafana,
        created_at: now,
        updated_at: now,
    })
}

/// Whether two events say the same (their bookkeeping times aside).
fn same_content(a: &Event, b: &Event) -> bool {
    a.kind == b.kind
        && a.time == b.time
        && a.time_end == b.time_end
        && a.team == b.team
        && a.dashboard_uid == b.dashboard_uid
        && a.panel_id == b.panel_id
        && a.user == b.user
        && a.text == b.text
        && a.tags == b.tags
        && a.data == b.data
}

impl App {
    /// Only an Editor may run the sync or refresh a target on demand.
    pub fn check_sync_allowed(&self, caller: &Caller, what: &str) -> AppResult<()> {
        caller.check_write(Role::Editor, what)
    }

    /// One run of the whole sync; every part runs even when another fails.
    pub async fn run_sync(&self, sync: &GrafanaSync) -> SyncReport {
        let now = self.now();
        let mut report = SyncReport {
            at: now,
            ..SyncReport::default()
        };
        let from = now.saturating_sub(self.settings().maturity.window_ms().saturating_mul(2));
        let teams = match self
            .with_store({
                let org = sync.org;
                move |s| Ok(s.list_teams(org)?)
            })
            .await
        {
            Ok(t) => t,
            Err(e) => {
                report.failed.push(internal("teams", "", &e));
                return report;
            }
        };
        if let Err(e) = self
            .import_annotations(sync, &teams, from, now, &mut report)
            .await
        {
            report.failed.push(internal("annotations", "", &e));
        }
        if let Err(e) = self
            .import_versions(sync, &teams, from, now, &mut report)
            .await
        {
            report.failed.push(internal("dashboard", "", &e));
        }
        if let Err(e) = self.live_actuals(sync, now, &mut report).await {
            report.failed.push(internal("target", "", &e));
        }
        if let Err(e) = self.suggest_outcomes(sync, from, now, &mut report).await {
            report.failed.push(internal("decision", "", &e));
        }
        report.total();
        let (org, key, summary) = (sync.org, sync.key("lastRun"), report_summary(&report));
        if let Err(e) = self
            .with_store(move |s| Ok(s.set_sync_value(org, &key, Some(&summary))?))
            .await
        {
            report.failed.push(internal("cursor", "lastRun", &e));
        }
        report
    }

    /// Takes this datasource's turn for a scheduled run, for one interval: replicas of
    /// Grafana sharing a store each run the schedule, and the one holding the lease does the
    /// run (its writes are idempotent anyway; the lease saves the others the calls to
    /// Grafana). A holder that stops lets the lease expire, and another replica takes it at
    /// its next tick.
    pub async fn claim_sync_turn(&self, sync: &GrafanaSync, holder: &str) -> AppResult<bool> {
        let (org, key, holder) = (sync.org, sync.key("lease"), holder.to_string());
        let now = self.now();
        let until = now.saturating_add(sync.interval_ms.max(1));
        self.with_store(move |s| Ok(s.claim_lease(org, &key, &holder, now, until)?))
            .await
    }

    /// When this datasource's last run started, if it ever ran (the scheduler's cursor).
    pub async fn last_sync(&self, sync: &GrafanaSync) -> AppResult<Option<Value>> {
        let (org, key) = (sync.org, sync.key("lastRun"));
        self.with_store(move |s| Ok(s.sync_value(org, &key)?)).await
    }

    async fn import_annotations(
        &self,
        sync: &GrafanaSync,
        teams: &[Team],
        from: EpochMs,
        now: EpochMs,
        report: &mut SyncReport,
    ) -> AppResult<()> {
        let listing = match sync.client.annotations(from, now, &KIND_TAGS).await {
            Ok(l) => l,
            Err(e) => {
                report.fail("annotations", "", &e);
                return Ok(());
            }
        };
        let mut mapped: Vec<Event> = Vec::new();
        for a in &listing.annotations {
            match map_annotation(a, teams, now) {
                Ok(e) => mapped.push(e),
                Err(reason) => {
                    report.annotations.skipped += 1;
                    report.skipped.push(Skipped {
                        what: "annotation",
                        id: a.id.to_string(),
                        reason,
                    });
                }
            }
        }
        // Decisions first, so that an outcome may name a decision of the same import.
        mapped.sort_by_key(|e| (e.kind == EventKind::Outcome, e.time));
        let earliest = listing
            .annotations
            .iter()
            .map(|a| a.time)
            .min()
            .unwrap_or(from)
            .min(from);
        let org = sync.org;
        let named: Vec<String> = mapped
            .iter()
            .filter_map(|e| e.decision_id().map(String::from))
            .collect();
        let (existing, known) = self
            .with_store(move |s| {
                Ok((
                    s.imported_events(org, ANNOTATION_PREFIX, earliest, now)?,
                    s.existing_decisions(org, &named)?,
                ))
            })
            .await?;
        let existing: HashMap<String, Event> =
            existing.into_iter().map(|e| (e.id.clone(), e)).collect();
        let mut decisions: HashSet<String> = known.into_iter().collect();
        let mut upserts: Vec<Event> = Vec::new();
        let mut kept: HashSet<String> = HashSet::new();
        for mut e in mapped {
            if let Some(d) = e.decision_id().filter(|d| !decisions.contains(*d)) {
                report.annotations.skipped += 1;
                report.skipped.push(Skipped {
                    what: "annotation",
                    id: e.id.trim_start_matches(ANNOTATION_PREFIX).to_string(),
                    reason: format!("its decision:{d} tag names no decision of this organisation"),
                });
                continue;
            }
            if e.kind == EventKind::Decision {
                decisions.insert(e.id.clone());
            }
            kept.insert(e.id.clone());
            match existing.get(&e.id) {
                Some(old) => {
                    // Keys added here (a query, a suggestion) survive an edit in Grafana.
                    let mut data = old.data.clone();
                    data.extend(std::mem::take(&mut e.data));
                    e.data = data;
                    if same_content(old, &e) {
                        report.annotations.unchanged += 1;
                        continue;
                    }
                    e.created_at = old.created_at;
                    upserts.push(e);
                }
                None => upserts.push(e),
            }
        }
        let listed: HashSet<String> = listing
            .annotations
            .iter()
            .map(|a| format!("{ANNOTATION_PREFIX}{}", a.id))
            .collect();
        let removals: Vec<String> = existing
            .keys()
            .filter(|id| !kept.contains(*id) && (listing.complete || listed.contains(*id)))
            .cloned()
            .collect();
        let written = self
            .with_store(move |s| Ok(s.write_imported(org, &upserts, &removals)?))
            .await?;
        report.annotations.stored += written.inserted;
        report.annotations.updated += written.updated;
        report.annotations.removed += written.removed;
        for id in written.refused {
            report.annotations.skipped += 1;
            report.skipped.push(Skipped {
                what: "annotation",
                id: id.trim_start_matches(ANNOTATION_PREFIX).to_string(),
                reason: format!("the id {id} is taken by an event recorded in the plugin"),
            });
        }
        Ok(())
    }

    async fn import_versions(
        &self,
        sync: &GrafanaSync,
        teams: &[Team],
        from: EpochMs,
        now: EpochMs,
        report: &mut SyncReport,
    ) -> AppResult<()> {
        // Each dashboard once, for the first team (by id) that lists it.
        let mut owner: Vec<(String, String)> = Vec::new();
        for t in teams {
            for d in &t.dashboards {
                if !owner.iter().any(|(uid, _)| uid == d) {
                    owner.push((d.clone(), t.id.clone()));
                }
            }
        }
        let org = sync.org;
        for (uid, team) in owner {
            let key = sync.key(&format!("dashboard/{uid}/version"));
            let cursor_key = key.clone();
            let cursor = self
                .with_store(move |s| Ok(s.sync_value(org, &cursor_key)?))
                .await?
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let versions = match sync.client.dashboard_versions(&uid, cursor).await {
                Ok(v) => v,
                Err(e) => {
                    report.fail("dashboard", &uid, &e);
                    continue;
                }
            };
            let newest = versions.iter().map(|v| v.version).max().unwrap_or(cursor);
            let mut events = Vec::new();
            for v in versions
                .iter()
                .filter(|v| v.created >= from && v.created <= now)
            {
                let id = format!("{VERSION_PREFIX}{uid}:{}", v.version);
                if let Err(e) = validate_object_id("id", &id) {
                    report.dashboard_versions.skipped += 1;
                    report.skipped.push(Skipped {
                        what: "dashboardVersion",
                        id: format!("{uid}:{}", v.version),
                        reason: e.message,
                    });
                    continue;
                }
                let mut data = Map::new();
                data.insert(
                    "change".into(),
                    Value::from(if v.version <= 1 { "added" } else { "changed" }),
                );
                events.push(Event {
                    id,
                    kind: EventKind::MetricChange,
                    time: v.created,
                    time_end: None,
                    team: Some(team.clone()),
                    dashboard_uid: Some(uid.clone()),
                    panel_id: None,
                    user: if v.created_by.is_empty() {
                        "grafana".into()
                    } else {
                        v.created_by.clone()
                    },
                    text: if v.message.trim().is_empty() {
                        format!("Dashboard {uid} saved as version {}", v.version)
                    } else {
                        v.message.clone()
                    },
                    tags: vec!["metric-change".into(), "dashboard-version".into()],
                    data,
                    source: Source::Grafana,
                    created_at: now,
                    updated_at: now,
                });
            }
            let written = self
                .with_store(move |s| {
                    let w = s.write_imported(org, &events, &[])?;
                    s.set_sync_value(org, &key, Some(&Value::from(newest)))?;
                    Ok(w)
                })
                .await?;
            report.dashboard_versions.stored += written.inserted;
            report.dashboard_versions.updated += written.updated;
            report.dashboard_versions.skipped += written.refused.len();
        }
        Ok(())
    }

    async fn live_actuals(
        &self,
        sync: &GrafanaSync,
        now: EpochMs,
        report: &mut SyncReport,
    ) -> AppResult<()> {
        let org = sync.org;
        let targets = self
            .with_store(move |s| Ok(s.list_targets(org, &[])?))
            .await?;
        for t in targets {
            let Some(query) = t.query.as_ref().and_then(LiveQuery::from_json) else {
                continue;
            };
            if t.verification.is_some() || t.start_at > now {
                continue;
            }
            match self.measure(sync, &t, query, now).await? {
                Ok(_) => report.actuals.stored += 1,
                Err(e) => report.fail("target", &t.id, &e),
            }
        }
        Ok(())
    }

    /// Evaluates a target's query now and stores the actual, or keeps the failure.
    async fn measure(
        &self,
        sync: &GrafanaSync,
        target: &Target,
        query: Result<LiveQuery, String>,
        now: EpochMs,
    ) -> AppResult<Result<Actual, GrafanaError>> {
        let range = sync.interval_ms.max(MIN_ACTUAL_RANGE_MS);
        let measured = match query {
            Err(message) => Err(GrafanaError::Query {
                status: None,
                message,
            }),
            Ok(q) => sync
                .client
                .query_numbers(&q, now.saturating_sub(range), now)
                .await
                .and_then(|n| {
                    last_value(&n.values).ok_or(GrafanaError::NoData {
                        detail: String::new(),
                    })
                }),
        };
        let (org, id, key) = (sync.org, target.id.clone(), target_error_key(&target.id));
        match measured {
            Ok(value) => {
                let actual = Actual { time: now, value };
                self.with_store(move |s| {
                    s.add_actuals_from(org, &id, &[actual], Source::Grafana)?;
                    s.set_sync_value(org, &key, None)?;
                    Ok(())
                })
                .await?;
                Ok(Ok(actual))
            }
            Err(e) => {
                tracing::warn!(target_id = %target.id, fault = e.fault().as_str(), error = %e, "live actual failed");
                let err = last_error(now, &e);
                self.with_store(move |s| Ok(s.set_sync_value(org, &key, Some(&err))?))
                    .await?;
                Ok(Err(e))
            }
        }
    }

    /// `POST /targets/{id}/refresh`: evaluates the target's query now (Editor).
    pub async fn refresh_target(
        &self,
        caller: &Caller,
        sync: &GrafanaSync,
        id: &str,
    ) -> AppResult<()> {
        self.check_sync_allowed(caller, "refreshing a target's actuals")?;
        let target = self.get_target(caller, id).await?;
        let query = match target.query.as_ref().map(LiveQuery::from_json) {
            Some(Some(q)) => q,
            _ => {
                return Err(Invalid::new(
                    "query",
                    format!(
                        "target {id:?} has no query of the form {{\"datasourceUid\": …, \"model\": {{…}}}} to evaluate"
                    ),
                )
                .into())
            }
        };
        let _ = self.measure(sync, &target, query, self.now()).await?;
        Ok(())
    }

    async fn suggest_outcomes(
        &self,
        sync: &GrafanaSync,
        from: EpochMs,
        now: EpochMs,
        report: &mut SyncReport,
    ) -> AppResult<()> {
        let org = sync.org;
        let filter = |kind: EventKind| EventFilter {
            kinds: vec![kind],
            from: Some(from),
            to: Some(now),
            limit: MAX_DECISIONS,
            ..EventFilter::default()
        };
        let (decisions, outcomes) = {
            let (fd, fo) = (filter(EventKind::Decision), filter(EventKind::Outcome));
            self.with_store(move |s| Ok((s.list_events(org, &fd)?, s.list_events(org, &fo)?)))
                .await?
        };
        let answered: HashSet<&str> = outcomes.iter().filter_map(|o| o.decision_id()).collect();
        let settings = self.settings().maturity.clone();
        for d in &decisions {
            if !suggest::wants_suggestion(&settings, d, answered.contains(d.id.as_str()), now) {
                continue;
            }
            let Some(expect) = suggest::expectation(d) else {
                continue;
            };
            let key = decision_error_key(&d.id);
            let query = match d.data.get("query").and_then(LiveQuery::from_json) {
                Some(Ok(q)) => q,
                Some(Err(message)) => {
                    let e = GrafanaError::Query {
                        status: None,
                        message,
                    };
                    self.keep_error(org, key, now, &e).await?;
                    report.fail("decision", &d.id, &e);
                    continue;
                }
                None => continue,
            };
            let (before, after) = suggest::periods(&settings, d);
            let mut means = [None, None];
            let mut failed = None;
            for (i, (a, b)) in [before, after].into_iter().enumerate() {
                match sync.client.query_numbers(&query, a, b).await {
                    Ok(n) => means[i] = mean(&n.values),
                    Err(GrafanaError::NoData { .. }) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failed {
                self.keep_error(org, key, now, &e).await?;
                report.fail("decision", &d.id, &e);
                continue;
            }
            let suggestion = SuggestedOutcome {
                result: suggest::judge(expect, means[0], means[1]),
                before: means[0],
                after: means[1],
                evaluated_at: Some(now),
            };
            let id = d.id.clone();
            self.with_store(move |s| {
                let mut e = s.get_event(org, &id)?;
                e.data
                    .insert("suggestedOutcome".into(), suggestion.to_json());
                e.updated_at = now;
                s.update_event(org, &e)?;
                s.set_sync_value(org, &key, None)?;
                Ok(())
            })
            .await?;
            report.suggestions.stored += 1;
        }
        Ok(())
    }

    async fn keep_error(
        &self,
        org: OrgId,
        key: String,
        now: EpochMs,
        e: &GrafanaError,
    ) -> AppResult<()> {
        let err = last_error(now, e);
        self.with_store(move |s| Ok(s.set_sync_value(org, &key, Some(&err))?))
            .await
    }

    /// Each target's last error (`target id → {at, message, fault}`), for the targets query,
    /// `GET /targets` and CheckHealth.
    pub async fn target_errors(&self, org: OrgId) -> AppResult<HashMap<String, Value>> {
        let rows = self
            .with_store(move |s| Ok(s.sync_values(org, "target/")?))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("target/")
                    .and_then(|rest| rest.strip_suffix("/lastError"))
                    .map(|id| (id.to_string(), v))
            })
            .collect())
    }
}

/// What a run leaves as its cursor: when it ran and what it did.
fn report_summary(r: &SyncReport) -> Value {
    json!({
        "at": r.at,
        "stored": r.stored,
        "updated": r.updated,
        "removed": r.removed,
        "failed": r.failed.len(),
        "summary": r.summary(),
    })
}

fn internal(what: &'static str, id: &str, e: &AppError) -> Failure {
    Failure {
        what,
        id: id.to_string(),
        // The store or the plugin itself, not Grafana.
        fault: "plugin",
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(id: &str, dashboards: &[&str]) -> Team {
        Team {
            id: id.into(),
            name: id.into(),
            dashboards: dashboards.iter().map(|d| d.to_string()).collect(),
            members: vec![],
            cadence_days: 7,
            created_at: 0,
        }
    }

    fn annotation(dashboard: Option<&str>, tags: &[&str]) -> Annotation {
        Annotation {
            id: 42,
            dashboard_uid: dashboard.map(String::from),
            panel_id: Some(3),
            time: 1000,
            time_end: None,
            text: "Decision: roll back the cache change".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            login: "alice".into(),
            updated: None,
        }
    }

    #[test]
    fn the_team_comes_from_the_dashboard_else_from_a_team_tag() {
        let teams = [
            team("payments", &["slo-pay"]),
            team("search", &["slo-search", "shared"]),
            team("web", &["shared"]),
        ];
        let e =
            map_annotation(&annotation(Some("slo-pay"), &["decision"]), &teams, 5).expect("mapped");
        assert_eq!(
            (e.id.as_str(), e.kind, e.team.as_deref()),
            ("grafana:42", EventKind::Decision, Some("payments"))
        );
        assert_eq!(
            (e.source, e.user.as_str(), e.panel_id),
            (Source::Grafana, "alice", Some(3))
        );
        // The dashboard wins over a tag naming another team.
        let e = map_annotation(
            &annotation(Some("slo-pay"), &["review", "team:search"]),
            &teams,
            5,
        )
        .expect("mapped");
        assert_eq!(e.team.as_deref(), Some("payments"));
        // A shared dashboard: the tag chooses among its teams, else the first by id.
        let e = map_annotation(
            &annotation(Some("shared"), &["question", "team:web"]),
            &teams,
            5,
        )
        .expect("mapped");
        assert_eq!(e.team.as_deref(), Some("web"));
        let e =
            map_annotation(&annotation(Some("shared"), &["question"]), &teams, 5).expect("mapped");
        assert_eq!(e.team.as_deref(), Some("search"));
        // No dashboard of a team: the tag.
        let e = map_annotation(
            &annotation(None, &["metric-change", "team:search"]),
            &teams,
            5,
        )
        .expect("mapped");
        assert_eq!(
            (e.kind, e.team.as_deref()),
            (EventKind::MetricChange, Some("search"))
        );
        // Nothing names a team, or the tag names none: skipped with the reason.
        let why = map_annotation(&annotation(Some("prom-only"), &["decision"]), &teams, 5)
            .expect_err("no team");
        assert!(why.contains("prom-only"), "{why}");
        let why = map_annotation(&annotation(None, &["decision", "team:nobody"]), &teams, 5)
            .expect_err("unknown team");
        assert!(why.contains("team:nobody"), "{why}");
        assert!(map_annotation(&annotation(Some("slo-pay"), &["deploy"]), &teams, 5).is_err());
    }

    #[test]
    fn an_outcome_names_its_decision_and_result_by_tags() {
        let teams = [team("payments", &["slo-pay"])];
        let e = map_annotation(
            &annotation(
                Some("slo-pay"),
                &["outcome", "decision:grafana:41", "result:not_confirmed"],
            ),
            &teams,
            5,
        )
        .expect("mapped");
        assert_eq!(e.decision_id(), Some("grafana:41"));
        assert_eq!(e.data["result"], "not_confirmed");
        let why = map_annotation(
            &annotation(Some("slo-pay"), &["outcome", "result:confirmed"]),
            &teams,
            5,
        )
        .expect_err("no decision");
        assert!(why.contains("decision:<id>"), "{why}");
        let why = map_annotation(
            &annotation(Some("slo-pay"), &["outcome", "decision:d1", "result:maybe"]),
            &teams,
            5,
        )
        .expect_err("bad result");
        assert!(why.contains("maybe"), "{why}");
    }

    #[test]
    fn the_first_tag_naming_a_kind_wins() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            kind_of(&tags(&["team:x", "question", "decision"])),
            Some(EventKind::Question)
        );
        assert_eq!(
            kind_of(&tags(&["metric-change"])),
            Some(EventKind::MetricChange)
        );
        assert_eq!(kind_of(&tags(&["metric_change", "view", "note"])), None);
    }
}
