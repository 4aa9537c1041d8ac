//! The use cases: check who may do what, validate commands, write them to the store, load
//! evidence and hand it to the engine. Knows nothing of gRPC, frames or HTTP.

pub mod agenda;
pub mod cache;
pub mod input;
pub mod kept;
pub mod limits;
pub mod loops;
pub mod queries;
pub mod sync;
pub mod transfer;
pub mod views;
pub mod write_order;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::engine::MaturitySettings;
use crate::model::{
    derive_verdict, EpochMs, Event, EventKind, Invalid, Source, Target, Team, Verification,
};
use crate::model::{EventFilter, OrgId};
use crate::store::{ListedEvents, Store, StoreError};

/// The most events `GET /events` answers in one page.
pub const MAX_EVENT_PAGE: usize = 5000;
/// The most events one `POST /events` may carry.
pub const MAX_BATCH: usize = 1000;

/// A Grafana role, in increasing power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Grafana's `None` role: reads nothing.
    None,
    /// Viewer.
    Viewer,
    /// Editor.
    Editor,
    /// Admin.
    Admin,
}

impl Role {
    /// Parses Grafana's role name; anything unknown is treated as `None` (fail closed).
    pub fn parse(s: &str) -> Role {
        match s {
            "Admin" => Role::Admin,
            "Editor" => Role::Editor,
            "Viewer" => Role::Viewer,
            _ => Role::None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::None => "None",
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
        }
    }
}

/// Who is asking: the org and, unless Grafana itself asks (alerting), the user.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Org of the request: every read and write is scoped by it.
    pub org: OrgId,
    /// Login and role; `None` for Grafana-internal requests, which may read but not write.
    pub user: Option<(String, Role)>,
}

impl Caller {
    fn login(&self) -> &str {
        self.user.as_ref().map(|(l, _)| l.as_str()).unwrap_or("")
    }

    fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|(_, r)| *r)
    }

    /// Reads are open to Viewers and to Grafana itself; not to the `None` role.
    pub fn check_read(&self) -> Result<(), AppError> {
        match self.role() {
            Some(Role::None) => Err(AppError::Forbidden(
                "your Grafana role in this organisation (None) may not read this data source"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Writes need a user with at least `least`.
    pub fn check_write(&self, least: Role, what: &str) -> Result<(), AppError> {
        match self.role() {
            None => Err(AppError::Forbidden(format!(
                "{what} needs a signed-in user; requests without a user may only read"
            ))),
            Some(r) if r < least => Err(AppError::Forbidden(format!(
                "{what} needs the {} role or higher; you are {}",
                least.name(),
                r.name()
            ))),
            Some(_) => Ok(()),
        }
    }
}

/// Errors of the use cases, mapped to statuses only at the edge.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; names the field.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id in this org.
    #[error("{0}")]
    NotFound(String),
    /// An id is taken or a reference blocks the change.
    #[error("{0}")]
    Conflict(String),
    /// The body is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// Our fault or the database's.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Unusable(m) => AppError::Internal(m),
            StoreError::Database(m) => AppError::Internal(format!("the store failed: {m}")),
        }
    }
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

/// The settings the use cases need (already validated).
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Whether Viewers may record reviews, questions, decisions and outcomes.
    pub viewers_can_annotate: bool,
    /// The ladder's thresholds.
    pub maturity: MaturitySettings,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            viewers_can_annotate: true,
            maturity: MaturitySettings::default(),
        }
    }
}

/// A source of "now" in epoch ms: the real clock in production, fixed in tests.
pub type Clock = Arc<dyn Fn() -> EpochMs + Send + Sync>;

/// The real clock. Nothing in the environment can change it (issue 11: go-plugin hands
/// Grafana's environment on, so a variable read here would freeze every score in
/// production); tests hand their own [`Clock`] to the server they start in-process.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Where a write comes from: the API, where the server owns `createdAt`, `verifiedBy` and
/// the limits of one request, or an import, whose lines (an export's) keep what the API
/// stored then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A request to the resource API (or the tool acting as one).
    Api,
    /// A line of `POST /import` or `maturity import`.
    Import,
}

/// Makes a fresh server-side id.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The use cases over one store with one datasource's settings.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    settings: AppSettings,
    clock: Clock,
    /// Evaluations served again while they stay true (issue 15); shared by the clones.
    evaluations: Arc<cache::EvaluationCache>,
    /// The levels of the `maturity` query (counted with the evaluations).
    levels: Arc<cache::TeamCache<crate::engine::LevelPoint>>,
    /// Each team's review times for `reviewLapse` (issue 15).
    review_times: Arc<cache::TeamCache<Arc<crate::engine::ReviewTimes>>>,
    /// Each team's decisions and their outcomes for `followUps` (issue 15).
    decisions: Arc<cache::TeamCache<Arc<crate::engine::targets::DecisionLog>>>,
    /// Each team's evidence and each org's team list, kept and taken forward by this
    /// process's writes to the store (issue 15); the writes follow it while this app lives.
    follower: Arc<write_order::Follower>,
    /// The store's writes in this process, in order (shared with the view writer and every
    /// other datasource on the store).
    writes: Arc<write_order::StoreWrites>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.store.describe())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("store task failed: {e}")))?
}

impl App {
    /// Use cases over `store`, the only user of it in this process.
    pub fn new(store: Arc<dyn Store>, settings: AppSettings, clock: Clock) -> Self {
        Self::sharing(store, Arc::default(), settings, clock)
    }

    /// Use cases over `store`, whose writes in this process (by other datasources on it and
    /// its view writer) go through `writes`.
    pub fn sharing(
        store: Arc<dyn Store>,
        writes: Arc<write_order::StoreWrites>,
        settings: AppSettings,
        clock: Clock,
    ) -> Self {
        let follower = Arc::new(write_order::Follower::default());
        writes.follow(&follower);
        Self {
            store,
            settings,
            clock,
            evaluations: Arc::new(cache::TeamCache::new(&cache::EVALUATIONS)),
            levels: Arc::new(cache::TeamCache::new(&cache::EVALUATIONS)),
            review_times: Arc::new(cache::TeamCache::new(&cache::REVIEW_TIMES)),
            decisions: Arc::new(cache::TeamCache::new(&cache::DECISIONS)),
            follower,
            writes,
        }
    }

    /// The store's writes in this process, for a view writer to take its views forward.
    pub fn writes(&self) -> Arc<write_order::StoreWrites> {
        self.writes.clone()
    }

    /// How the evaluation cache has done so far.
    pub fn evaluation_cache_stats(&self) -> cache::CacheStats {
        let (a, b) = (self.evaluations.stats(), self.levels.stats());
        cache::CacheStats {
            hits: a.hits + b.hits,
            misses: a.misses + b.misses,
        }
    }

    /// How the caches of review times and decisions have done so far, together.
    pub fn team_inputs_cache_stats(&self) -> cache::CacheStats {
        let (a, b) = (self.review_times.stats(), self.decisions.stats());
        cache::CacheStats {
            hits: a.hits + b.hits,
            misses: a.misses + b.misses,
        }
    }

    /// How the kept evidence has done so far: teams computed again from it (hits) or from
    /// a read (misses).
    pub fn kept_evidence_stats(&self) -> cache::CacheStats {
        self.follower.kept.stats()
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The settings in force.
    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> EpochMs {
        (self.clock)()
    }

    /// Runs `f` on the store off the async threads.
    pub async fn with_store<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&dyn Store) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        blocking(move || f(store.as_ref())).await
    }

    // ---- teams ----

    /// `GET /teams`.
    pub async fn list_teams(&self, caller: &Caller) -> AppResult<Vec<Team>> {
        caller.check_read()?;
        let org = caller.org;
        self.with_store(move |s| Ok(s.list_teams(org)?)).await
    }

    /// `GET /teams/{id}`.
    pub async fn get_team(&self, caller: &Caller, id: &str) -> AppResult<Team> {
        caller.check_read()?;
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.get_team(org, &id)?)).await
    }

    /// `POST /teams`. `createdAt` is the server's (a body's is ignored).
    pub async fn create_team(&self, caller: &Caller, body: &Value) -> AppResult<Team> {
        self.create_team_from(caller, body, Origin::Api).await
    }

    /// Creates a team; an import keeps the line's `createdAt`.
    pub async fn create_team_from(
        &self,
        caller: &Caller,
        body: &Value,
        origin: Origin,
    ) -> AppResult<Team> {
        caller.check_write(Role::Editor, "creating a team")?;
        let input = input::team(body, None)?;
        let now = self.now();
        let team = Team {
            created_at: match origin {
                Origin::Import => input.created_at.unwrap_or(now),
                Origin::Api => now,
            },
            id: input.id,
            name: input.name,
            dashboards: input.dashboards,
            members: input.members,
            cadence_days: input.cadence_days,
        };
        let (org, t) = (caller.org, team.clone());
        self.with_store(move |s| Ok(s.create_team(org, &t)?))
            .await?;
        Ok(team)
    }

    /// `PUT /teams/{id}`.
    pub async fn replace_team(&self, caller: &Caller, id: &str, body: &Value) -> AppResult<Team> {
        caller.check_write(Role::Editor, "changing a team")?;
        let input = input::team(body, Some(id))?;
        let team = Team {
            created_at: 0,
            id: input.id,
            name: input.name,
            dashboards: input.dashboards,
            members: input.members,
            cadence_days: input.cadence_days,
        };
        let org = caller.org;
        self.with_store(move |s| Ok(s.replace_team(org, &team)?))
            .await
    }

    /// `DELETE /teams/{id}`.
    pub async fn delete_team(&self, caller: &Caller, id: &str, cascade: bool) -> AppResult<()> {
        caller.check_write(Role::Admin, "deleting a team")?;
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.delete_team(org, &id, cascade)?))
            .await
    }

    // ---- events ----

    /// `POST /events` (and `/annotations`): one event or an array of up to 1000, all or none.
    pub async fn record_events(
        &self,
        caller: &Caller,
        body: &Value,
        source: Source,
    ) -> AppResult<Vec<Event>> {
        let (items, batch) = match body {
            Value::Array(items) => (items.as_slice(), true),
            other => (std::slice::from_ref(other), false),
        };
        if items.len() > MAX_BATCH {
            return Err(AppError::TooLarge(format!(
                "a batch holds at most {MAX_BATCH} events; this one has {}",
                items.len()
            )));
        }
        if items.is_empty() {
            return Err(Invalid::new(
                "body",
                "an empty array records nothing; send at least one event",
            )
            .into());
        }
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = if batch {
                format!("[{i}].")
            } else {
                String::new()
            };
            inputs.push(input::event(item, &at)?);
        }
        let least = inputs
            .iter()
            .map(|e| self.least_role_to_record(e.kind))
            .max()
            .unwrap_or(Role::Editor);
        caller.check_write(least, "recording this kind of event")?;
        let now = self.now();
        let user = caller.login().to_string();
        let events: Vec<Event> = inputs
            .into_iter()
            .map(|i| Event {
                id: i.id.unwrap_or_else(|| new_id("ev")),
                kind: i.kind,
                time: i.time.unwrap_or(now),
                time_end: i.time_end,
                team: i.team,
                dashboard_uid: i.dashboard_uid,
                panel_id: i.panel_id,
                user: user.clone(),
                text: i.text,
                tags: i.tags,
                data: i.data,
                source,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let org = caller.org;
        let to_store = events.clone();
        // One write at a time from the store's write to the kept evidence (SQLite has one
        // writer anyway): steps taken in the order they were written each start where the
        // last ended, where out of order they would miss and leave the teams to be read.
        let writes = self.writes.clone();
        self.with_store(move |s| {
            writes.write(|in_order| {
                let step = insert_checked(s, org, &to_store, batch, Decisions::Checked)?;
                in_order.advance(org, &step, &to_store);
                Ok(())
            })
        })
        .await?;
        Ok(events)
    }

    /// The least role that may record an event of `kind` (SPEC §3.2): Viewer for the kinds
    /// a Viewer may record, unless `viewersCanAnnotate` is false; Editor for the rest.
    fn least_role_to_record(&self, kind: EventKind) -> Role {
        if kind.viewer_may_record() && self.settings.viewers_can_annotate {
            Role::Viewer
        } else {
            Role::Editor
        }
    }

    /// Whether the caller wrote `event` and may still record its kind: only then does being
    /// its author stand in for the role editing or deleting another's event needs (issue 11:
    /// a Viewer could edit their own review after `viewersCanAnnotate` was turned off).
    fn is_author_who_may_record(&self, caller: &Caller, event: &Event) -> bool {
        let is_author = !caller.login().is_empty() && caller.login() == event.user;
        is_author
            && caller
                .role()
                .is_some_and(|r| r >= self.least_role_to_record(event.kind))
    }

    /// `GET /events`.
    pub async fn list_events(&self, caller: &Caller, filter: EventFilter) -> AppResult<Vec<Event>> {
        caller.check_read()?;
        let org = caller.org;
        self.with_store(move |s| Ok(s.list_events(org, &filter)?))
            .await
    }

    /// The `events` query: the events of `filter`, each handed to `into` as the store reads
    /// it (see [`Store::visit_events`]); `into` back when all are in.
    pub async fn visit_events<S>(
        &self,
        caller: &Caller,
        filter: EventFilter,
        mut into: S,
    ) -> AppResult<S>
    where
        S: ListedEvents + Send + 'static,
    {
        caller.check_read()?;
        let org = caller.org;
        self.with_store(move |s| {
            s.visit_events(org, &filter, &mut into)?;
            Ok(into)
        })
        .await
    }

    /// `GET /events/{id}`.
    pub async fn get_event(&self, caller: &Caller, id: &str) -> AppResult<Event> {
        caller.check_read()?;
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.get_event(org, &id)?)).await
    }

    /// `PATCH /events/{id}`: the author or an Editor may edit; the kind cannot change.
    pub async fn patch_event(&self, caller: &Caller, id: &str, body: &Value) -> AppResult<Event> {
        caller.check_write(Role::Viewer, "editing an event")?;
        let patch = input::object("body", body)?.clone();
        let mut event = self.get_event(caller, id).await?;
        if self.is_author_who_may_record(caller, &event) {
            caller.check_write(self.least_role_to_record(event.kind), "editing this event")?;
        } else {
            caller.check_write(Role::Editor, "editing another user's event")?;
        }
        // Merge the patch over the stored event's wire form and validate the whole again,
        // so an edit can never store what a create would refuse.
        let mut merged = match serde_json::to_value(&event) {
            Ok(Value::Object(m)) => m,
            _ => return Err(AppError::Internal("cannot re-read the stored event".into())),
        };
        for (k, v) in patch {
            match k.as_str() {
                "id" | "user" | "source" | "createdAt" | "updatedAt" => {}
                "kind" if v.as_str() != Some(event.kind.as_str()) => {
                    return Err(Invalid::new(
                        "kind",
                        "the kind of an event cannot change; delete it and record a new one",
                    )
                    .into())
                }
                _ => {
                    merged.insert(k, v);
                }
            }
        }
        let checked = input::event(&Value::Object(merged), "")?;
        event.time = checked.time.unwrap_or(event.time);
        event.time_end = checked.time_end;
        event.team = checked.team;
        event.dashboard_uid = checked.dashboard_uid;
        event.panel_id = checked.panel_id;
        event.text = checked.text;
        event.tags = checked.tags;
        event.data = checked.data;
        event.updated_at = self.now();
        let (org, e) = (caller.org, event.clone());
        self.with_store(move |s| {
            check_references(s, org, std::slice::from_ref(&e), false, Decisions::Checked)?;
            Ok(s.update_event(org, &e)?)
        })
        .await?;
        Ok(event)
    }

    /// `DELETE /events/{id}`: the author or an Admin.
    pub async fn delete_event(&self, caller: &Caller, id: &str) -> AppResult<()> {
        caller.check_write(Role::Viewer, "deleting an event")?;
        let event = self.get_event(caller, id).await?;
        if !self.is_author_who_may_record(caller, &event) {
            caller.check_write(Role::Admin, "deleting another user's event")?;
        }
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.delete_event(org, &id)?))
            .await
    }

    // ---- targets ----

    /// `GET /targets`.
    pub async fn list_targets(
        &self,
        caller: &Caller,
        teams: Vec<String>,
    ) -> AppResult<Vec<Target>> {
        caller.check_read()?;
        let org = caller.org;
        self.with_store(move |s| Ok(s.list_targets(org, &teams)?))
            .await
    }

    /// `GET /targets/{id}`.
    pub async fn get_target(&self, caller: &Caller, id: &str) -> AppResult<Target> {
        caller.check_read()?;
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.get_target(org, &id)?)).await
    }

    /// `POST /targets` (may carry actuals and a verification inline). `createdAt` and
    /// `verifiedBy` are the server's.
    pub async fn create_target(&self, caller: &Caller, body: &Value) -> AppResult<Target> {
        self.create_target_from(caller, body, Origin::Api).await
    }

    /// Creates a target; an import keeps the line's `createdAt` and `verifiedBy` and takes
    /// all of an exported target's actuals.
    pub async fn create_target_from(
        &self,
        caller: &Caller,
        body: &Value,
        origin: Origin,
    ) -> AppResult<Target> {
        caller.check_write(Role::Editor, "creating a target")?;
        let i = input::target(body)?;
        if origin == Origin::Api {
            limits::check_list("actuals", i.actuals.len(), limits::MAX_ACTUALS)?;
        }
        let now = self.now();
        let start_at = i.start_at.unwrap_or(now);
        input::check_target_numbers(i.baseline, i.target, start_at, i.deadline)?;
        let mut actuals = i.actuals;
        actuals.sort_by_key(|a| a.time);
        actuals.dedup_by(|later, earlier| {
            // The last value given for a time wins, as it does when posted separately.
            if later.time == earlier.time {
                earlier.value = later.value;
                true
            } else {
                false
            }
        });
        let mut target = Target {
            id: i.id.unwrap_or_else(|| new_id("tg")),
            team: i.team,
            name: i.name,
            unit: i.unit,
            direction: i.direction,
            baseline: i.baseline,
            target: i.target,
            start_at,
            deadline: i.deadline,
            query: i.query,
            actuals,
            verification: None,
            created_at: match origin {
                Origin::Import => i.created_at.unwrap_or(now),
                Origin::Api => now,
            },
        };
        if let Some(v) = i.verification {
            target.verification = Some(self.make_verification(caller, &target, v, origin));
        }
        let (org, t) = (caller.org, target.clone());
        self.with_store(move |s| {
            require_team(s, org, &t.team, "team")?;
            Ok(s.create_target(org, &t)?)
        })
        .await?;
        Ok(target)
    }

    /// A verification as stored: `verifiedBy` is the request's user (SPEC §3.1), except
    /// that an import keeps the one its line carries.
    fn make_verification(
        &self,
        caller: &Caller,
        target: &Target,
        v: input::VerificationInput,
        origin: Origin,
    ) -> Verification {
        let last = v.actual.or_else(|| {
            target
                .actuals
                .iter()
                .max_by_key(|a| a.time)
                .map(|a| a.value)
        });
        Verification {
            verdict: v
                .verdict
                .unwrap_or_else(|| derive_verdict(target.direction, target.target, last)),
            actual: v.actual,
            learnings: v.learnings,
            verified_at: v.verified_at.unwrap_or_else(|| self.now()),
            verified_by: v
                .verified_by
                .filter(|_| origin == Origin::Import)
                .unwrap_or_else(|| caller.login().to_string()),
        }
    }

    /// `PATCH /targets/{id}`: edits the target's own fields; `null` clears an optional one.
    pub async fn patch_target(&self, caller: &Caller, id: &str, body: &Value) -> AppResult<Target> {
        caller.check_write(Role::Editor, "editing a target")?;
        let o = input::object("body", body)?;
        let mut t = self.get_target(caller, id).await?;
        for key in o.keys() {
            if !matches!(
                key.as_str(),
                "id" | "team"
                    | "name"
                    | "unit"
                    | "direction"
                    | "baseline"
                    | "target"
                    | "startAt"
                    | "deadline"
                    | "query"
            ) {
                return Err(Invalid::new(
                    key.clone(),
                    "cannot be edited here (actuals and verification have endpoints of their own)",
                )
                .into());
            }
        }
        if let Some(new_id) = input::opt_string(o, "id", "id")? {
            if new_id != t.id {
                return Err(Invalid::new("id", "the id of a target cannot change").into());
            }
        }
        if let Some(team) = input::opt_string(o, "team", "team")? {
            crate::model::validate_team_id("team", &team)?;
            t.team = team;
        }
        if let Some(name) = input::opt_string(o, "name", "name")? {
            if name.trim().is_empty() {
                return Err(Invalid::new("name", "must not be blank").into());
            }
            t.name = name;
        }
        if o.contains_key("unit") {
            t.unit = input::opt_string(o, "unit", "unit")?;
        }
        if let Some(d) = input::direction(o, "direction")? {
            t.direction = d;
        }
        if o.contains_key("baseline") {
            t.baseline = input::opt_number(o, "baseline", "baseline")?;
        }
        if o.contains_key("target") {
            t.target = input::opt_number(o, "target", "target")?;
        }
        if let Some(s) = input::opt_time(o, "startAt", "startAt")? {
            t.start_at = s;
        }
        if o.contains_key("deadline") {
            t.deadline = input::opt_time(o, "deadline", "deadline")?;
        }
        if o.contains_key("query") {
            t.query = o.get("query").filter(|q| !q.is_null()).cloned();
            if let Some(q) = &t.query {
                limits::check_depth("query", q)?;
            }
        }
        input::check_target_numbers(t.baseline, t.target, t.start_at, t.deadline)?;
        let (org, stored) = (caller.org, t.clone());
        self.with_store(move |s| {
            require_team(s, org, &stored.team, "team")?;
            Ok(s.update_target(org, &stored)?)
        })
        .await?;
        Ok(t)
    }

    /// `DELETE /targets/{id}`.
    pub async fn delete_target(&self, caller: &Caller, id: &str) -> AppResult<()> {
        caller.check_write(Role::Admin, "deleting a target")?;
        let (org, id) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.delete_target(org, &id)?))
            .await
    }

    /// `POST /targets/{id}/actuals`.
    pub async fn add_actuals(&self, caller: &Caller, id: &str, body: &Value) -> AppResult<Target> {
        caller.check_write(Role::Editor, "recording actuals")?;
        let actuals = input::actuals(body, "body")?;
        limits::check_list("body", actuals.len(), limits::MAX_ACTUALS)?;
        let (org, tid) = (caller.org, id.to_string());
        // In the store's write order, as event writes: the kept evidence takes the target
        // as written instead of reading its team again.
        let writes = self.writes.clone();
        self.with_store(move |s| {
            writes.write(|in_order| {
                let written = s.add_actuals(org, &tid, &actuals)?;
                in_order.advance_target(org, &written.step, &written.target);
                Ok(written.target)
            })
        })
        .await
    }

    /// `POST /targets/{id}/verification`.
    pub async fn verify_target(
        &self,
        caller: &Caller,
        id: &str,
        body: &Value,
    ) -> AppResult<Target> {
        caller.check_write(Role::Editor, "verifying a target")?;
        let v = input::verification(body, "")?;
        let mut target = self.get_target(caller, id).await?;
        let verification = self.make_verification(caller, &target, v, Origin::Api);
        target.verification = Some(verification.clone());
        let (org, tid) = (caller.org, id.to_string());
        self.with_store(move |s| Ok(s.set_verification(org, &tid, &verification)?))
            .await?;
        Ok(target)
    }
}

/// Checks what events refer to (teams exist, outcomes name decisions of the org or earlier
/// in the same batch), then inserts them all or none.
fn insert_checked(
    s: &dyn Store,
    org: OrgId,
    events: &[Event],
    batch: bool,
    decisions: Decisions,
) -> AppResult<crate::model::VersionStep> {
    check_references(s, org, events, batch, decisions)?;
    Ok(s.insert_events(org, events)?)
}

/// Whether an outcome must name a decision that exists (SPEC §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decisions {
    /// The API: a decision of the org, or one earlier in the same batch.
    Checked,
    /// An import: the API checked when the outcome was recorded, and what it accepted then
    /// an export carries as it is — the decision may have been deleted since, or be timed
    /// after its outcome (export order is time order), so it is not checked again.
    Unchecked,
}

fn check_references(
    s: &dyn Store,
    org: OrgId,
    events: &[Event],
    batch: bool,
    decisions: Decisions,
) -> AppResult<()> {
    let field = |i: usize, name: &str| {
        if batch {
            format!("[{i}].{name}")
        } else {
            name.to_string()
        }
    };
    let teams: HashSet<String> = s.list_teams(org)?.into_iter().map(|t| t.id).collect();
    let mut seen_ids: HashMap<&str, usize> = HashMap::new();
    let mut decisions_in_batch: HashSet<&str> = HashSet::new();
    let wanted: Vec<String> = events
        .iter()
        .filter(|_| decisions == Decisions::Checked)
        .filter_map(|e| {
            e.decision_id()
                .filter(|_| e.kind == EventKind::Outcome)
                .map(String::from)
        })
        .collect();
    let stored: HashSet<String> = s.existing_decisions(org, &wanted)?.into_iter().collect();
    for (i, e) in events.iter().enumerate() {
        if let Some(first) = seen_ids.insert(e.id.as_str(), i) {
            return Err(Invalid::new(
                field(i, "id"),
                format!(
                    "id {:?} is given twice in this batch (also at [{first}])",
                    e.id
                ),
            )
            .into());
        }
        if let Some(team) = &e.team {
            if e.kind != EventKind::View && !teams.contains(team) {
                return Err(Invalid::new(
                    field(i, "team"),
                    format!("no team {team:?} in this organisation; create it first"),
                )
                .into());
            }
        }
        if e.kind == EventKind::Outcome && decisions == Decisions::Checked {
            let d = e.decision_id().unwrap_or_default();
            if !stored.contains(d) && !decisions_in_batch.contains(d) {
                return Err(Invalid::new(
                    field(i, "data.decisionId"),
                    format!("no decision {d:?} in this organisation (nor earlier in this batch)"),
                )
                .into());
            }
        }
        if e.kind == EventKind::Decision {
            decisions_in_batch.insert(e.id.as_str());
        }
    }
    Ok(())
}

fn require_team(s: &dyn Store, org: OrgId, team: &str, field: &str) -> AppResult<()> {
    match s.get_team(org, team) {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(Invalid::new(
            field,
            format!("no team {team:?} in this organisation; create it first"),
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// An event in the shape of Grafana's own `/api/annotations`.
pub fn annotation_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "time": e.time,
        "timeEnd": e.time_end.unwrap_or(e.time),
        "text": e.text,
        "tags": e.tags,
        "dashboardUID": e.dashboard_uid,
        "panelId": e.panel_id,
        "login": e.user,
        "kind": e.kind.as_str(),
        "team": e.team,
        "data": e.data,
    })
}

/// Turns a Grafana-shaped annotation body into an event body: the kind is the first tag
/// that names one, else `note`.
pub fn annotation_to_event(body: &Value) -> AppResult<Value> {
    let o = input::object("body", body)?;
    let tags = input::opt_strings(o, "tags", "tags")?.unwrap_or_default();
    let kind = tags
        .iter()
        .find_map(|t| match t.as_str() {
            "review" | "decision" | "question" | "outcome" | "metric-change" => EventKind::parse(t),
            _ => None,
        })
        .unwrap_or(EventKind::Note);
    let mut event = Map::new();
    event.insert("kind".into(), Value::from(kind.as_str()));
    for (from, to) in [
        ("id", "id"),
        ("time", "time"),
        ("timeEnd", "timeEnd"),
        ("text", "text"),
        ("tags", "tags"),
        ("dashboardUID", "dashboardUid"),
        ("dashboardUid", "dashboardUid"),
        ("panelId", "panelId"),
        ("team", "team"),
        ("data", "data"),
    ] {
        if let Some(v) = o.get(from).filter(|v| !v.is_null()) {
            event.insert(to.into(), v.clone());
        }
    }
    // Grafana sends timeEnd == time for a point annotation.
    if event.get("timeEnd") == event.get("time") {
        event.remove("timeEnd");
    }
    Ok(Value::Object(event))
}
