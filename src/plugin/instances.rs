//! One instance per (org, datasource uid), rebuilt when the settings' `lastUpdatedMS`
//! changes and built once even when the first requests arrive together; one store handle
//! (and one passive-view writer) per store, SQLite file or PostgreSQL database, opened
//! through `store::open_store`. An instance with a service account token runs the Grafana
//! sync on its schedule ([`super::scheduler`]); the schedule stops when the instance is
//! replaced, and one lock per (org, datasource uid) keeps two runs of a datasource apart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::scheduler::{self, Schedule, SyncRunner};
use crate::app::sync::GrafanaSync;
use crate::app::views::ViewRecorder;
use crate::app::write_order::StoreWrites;
use crate::app::{App, AppError, Caller, Clock, Role};
use crate::grafana::{GrafanaClient, GrafanaConfig};
use crate::model::Invalid;
use crate::settings::{self, DatasourceSettings, PathEnv, Storage};
use crate::store::{open_store, Store};

/// What every request tells about its context, whichever gRPC service it came through.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Org id.
    pub org: i64,
    /// Login and Grafana role name, when a user asked.
    pub user: Option<(String, String)>,
    /// The datasource instance, if the request targets one.
    pub datasource: Option<DatasourceRef>,
}

/// The datasource part of a request's context.
#[derive(Clone)]
pub struct DatasourceRef {
    /// Datasource uid.
    pub uid: String,
    /// `jsonData`.
    pub json_data: Value,
    /// Decrypted `secureJsonData`.
    pub secure: Map<String, Value>,
    /// `lastUpdatedMS`.
    pub updated_ms: i64,
}

impl std::fmt::Debug for DatasourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasourceRef")
            .field("uid", &self.uid)
            .field("json_data", &self.json_data)
            .field("updated_ms", &self.updated_ms)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    /// Reads the raw protobuf context (resources, health).
    pub fn from_proto(
        ctx: Option<&grafana_plugin_sdk::pluginv2::PluginContext>,
    ) -> Result<Self, AppError> {
        let ctx = ctx.ok_or_else(|| {
            Invalid::new("pluginContext", "the request carries no plugin context")
        })?;
        let datasource = match &ctx.data_source_instance_settings {
            None => None,
            Some(ds) => {
                let json_data = if ds.json_data.is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_slice(&ds.json_data).map_err(|e| {
                        Invalid::new(
                            "jsonData",
                            format!("the datasource settings are not JSON: {e}"),
                        )
                    })?
                };
                Some(DatasourceRef {
                    uid: ds.uid.clone(),
                    json_data,
                    secure: ds
                        .decrypted_secure_json_data
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                    updated_ms: ds.last_updated_ms,
                })
            }
        };
        Ok(Self {
            org: ctx.org_id,
            user: ctx.user.as_ref().map(|u| (u.login.clone(), u.role.clone())),
            datasource,
        })
    }

    /// The caller as the use cases see it.
    pub fn caller(&self) -> Caller {
        Caller {
            org: self.org,
            user: self
                .user
                .as_ref()
                .map(|(login, role)| (login.clone(), Role::parse(role))),
        }
    }
}

/// A datasource instance: its settings and the use cases over its store.
#[derive(Debug)]
pub struct Instance {
    /// Validated settings.
    pub settings: DatasourceSettings,
    /// Use cases.
    pub app: App,
    /// The store's passive-view writer.
    pub views: Arc<ViewRecorder>,
    /// The Grafana sync, when a service account token is set.
    pub sync: Option<Arc<SyncRunner>>,
    /// Its schedule; dropped (and so stopped) with the instance.
    _schedule: Option<Schedule>,
}

#[derive(Clone)]
struct StoreHandle {
    store: Arc<dyn Store>,
    views: Arc<ViewRecorder>,
    /// The store's writes in this process, shared by its datasources and view writer.
    writes: Arc<StoreWrites>,
}

type InstanceCell = Arc<OnceCell<Arc<Instance>>>;

/// One datasource's sync lock, shared by every instance built for it.
type SyncLock = Arc<tokio::sync::Mutex<()>>;

/// The cache of instances and store handles.
pub struct Instances {
    env: PathEnv,
    clock: Clock,
    instances: Mutex<HashMap<(i64, String), (i64, InstanceCell)>>,
    /// One handle per store, keyed by [`store_key`]: datasources on one store share it.
    stores: Mutex<HashMap<String, Arc<OnceCell<StoreHandle>>>>,
    sync_locks: Mutex<HashMap<(i64, String), SyncLock>>,
}

impl std::fmt::Debug for Instances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instances").finish_non_exhaustive()
    }
}

impl Instances {
    /// An empty cache.
    pub fn new(env: PathEnv, clock: Clock) -> Self {
        Self {
            env,
            clock,
            instances: Mutex::new(HashMap::new()),
            stores: Mutex::new(HashMap::new()),
            sync_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The instance for the request's datasource, built on first use.
    pub async fn get(&self, ctx: &RequestContext) -> Result<Arc<Instance>, AppError> {
        let ds = ctx.datasource.as_ref().ok_or_else(|| {
            Invalid::new(
                "datasource",
                "the request carries no datasource settings; call this plugin through a configured data source",
            )
        })?;
        let key = (ctx.org, ds.uid.clone());
        let cell = {
            let mut map = self.instances.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&key) {
                Some((updated, cell)) if *updated == ds.updated_ms => cell.clone(),
                _ => {
                    let cell: InstanceCell = Arc::new(OnceCell::new());
                    map.insert(key, (ds.updated_ms, cell.clone()));
                    cell
                }
            }
        };
        let instance = cell.get_or_try_init(|| self.build(ctx.org, ds)).await?;
        Ok(instance.clone())
    }

    async fn build(&self, org: i64, ds: &DatasourceRef) -> Result<Arc<Instance>, AppError> {
        let settings = settings::parse(&ds.json_data, &ds.secure, &self.env).map_err(|i| {
            AppError::Invalid(Invalid::new(
                i.field.clone(),
                format!("invalid datasource settings: {}", i.message),
            ))
        })?;
        let handle = self.store(&settings.storage).await?;
        let app = App::sharing(
            handle.store,
            handle.writes,
            settings.app.clone(),
            self.clock.clone(),
        );
        let sync = self.grafana_sync(org, ds, &settings, &app)?;
        let interval =
            std::time::Duration::from_secs(60 * settings.actuals_interval_minutes.unsigned_abs());
        let schedule = sync
            .as_ref()
            .map(|runner| scheduler::start(runner.clone(), interval));
        Ok(Arc::new(Instance {
            settings,
            app,
            views: handle.views,
            sync,
            _schedule: schedule,
        }))
    }

    /// The datasource's sync runner, when it has a service account token.
    fn grafana_sync(
        &self,
        org: i64,
        ds: &DatasourceRef,
        settings: &DatasourceSettings,
        app: &App,
    ) -> Result<Option<Arc<SyncRunner>>, AppError> {
        if settings.service_account_token.expose().trim().is_empty() {
            return Ok(None);
        }
        let url = GrafanaConfig::resolve_url(
            settings.grafana_url.as_deref(),
            self.env.grafana_app_url.as_deref(),
        );
        let client = GrafanaClient::new(GrafanaConfig::new(
            url,
            settings.service_account_token.clone(),
        ))
        .map_err(|m| Invalid::new("grafanaUrl", m))?;
        let lock = {
            let mut locks = self.sync_locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry((org, ds.uid.clone())).or_default().clone()
        };
        let sync = GrafanaSync {
            client,
            org,
            scope: ds.uid.clone(),
            interval_ms: settings.actuals_interval_minutes.saturating_mul(60_000),
        };
        Ok(Some(Arc::new(SyncRunner::new(app.clone(), sync, lock))))
    }

    async fn store(&self, storage: &Storage) -> Result<StoreHandle, AppError> {
        let cell = {
            let mut map = self.stores.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(store_key(storage))
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        let clock = self.clock.clone();
        let storage = storage.clone();
        // A failed open is not cached: the next request tries again (a database server that
        // was down at start-up is picked up as soon as it answers).
        let handle = cell
            .get_or_try_init(|| async move {
                let store = tokio::task::spawn_blocking(move || open_store(&storage))
                    .await
                    .map_err(|e| AppError::Internal(format!("opening the store failed: {e}")))?
                    .map_err(AppError::from)?;
                let writes = Arc::new(StoreWrites::default());
                let views = Arc::new(ViewRecorder::start(store.clone(), writes.clone(), clock));
                Ok::<_, AppError>(StoreHandle {
                    store,
                    views,
                    writes,
                })
            })
            .await?;
        Ok(handle.clone())
    }

    /// Every open store with its view writer (for metrics and for flushing at shutdown).
    pub fn open_stores(&self) -> Vec<(Arc<dyn Store>, Arc<ViewRecorder>)> {
        let map = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        map.values()
            .filter_map(|c| c.get().map(|h| (h.store.clone(), h.views.clone())))
            .collect()
    }

    /// Writes every pending passive view (Grafana is stopping the plugin).
    pub async fn flush(&self) {
        for (_, views) in self.open_stores() {
            views.flush().await;
        }
    }
}

/// The identity of a store, for sharing one handle (one pool, one view writer) between the
/// datasources that use it. Held in memory only: it carries the connection string.
fn store_key(storage: &Storage) -> String {
    match storage {
        Storage::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
        Storage::Postgres { url } => format!("postgres:{}", url.expose()),
    }
}
