//! Datasource settings and the store path rules (SPEC §2, §6): one parser and one set of
//! rules for the plugin and the `maturity` tool.
//!
//! Settings come in two steps. [`JsonData::parse`] reads the loose `jsonData` JSON as the
//! frontend (or provisioning, or the tool's `--settings` file) writes it into validated
//! values: a wrong type or range is an [`Invalid`] naming its field, unknown keys are
//! ignored. [`parse`] then adds what only the plugin has, the decrypted `secureJsonData`,
//! and resolves where the store lives. Secrets never show in `Debug`.
//!
//! # Where the store lives
//! The plugin takes the first rule that is set ([`resolve_path`]):
//! 1. `jsonData.databasePath`;
//! 2. `GF_PLUGIN_DATABASE_PATH` (Grafana's `[plugin.datadriven-maturity-datasource]
//!    database_path`);
//! 3. `$GF_PATHS_DATA/datadriven-maturity/maturity.db`;
//! 4. `datadriven-maturity/maturity.db` in the folder that holds Grafana's plugins folder,
//!    found from the plugin's own executable (`<plugins>/<plugin folder>/gpx_maturity_*`).
//!
//! The tool ([`locate_for_tool`]) takes `--db` first, then the same rules in the same order
//! (rule 1 is its `--settings` file's `databasePath`). For rule 4 it finds Grafana's plugins
//! folder from its own executable when that sits in the plugin's folder (beside a
//! `plugin.json` with our id, exactly the plugin's rule), else from `GF_PATHS_PLUGINS`, else
//! from the usual places of a Grafana install whose plugins folder holds this plugin. When
//! none applies it falls back to `datadriven-maturity/maturity.db` in the current folder. Its
//! answer says which rule chose the file and why each earlier one did not
//! ([`StoreChoice::explain`]).
//!
//! Whatever the rule, the store is a file path: an SQLite URI or an in-memory database is
//! refused, naming the setting that gave it ([`check_store_path`]).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::app::input::{opt_bool, opt_integer, opt_string};
use crate::app::AppSettings;
use crate::engine::MaturitySettings;
use crate::model::{type_name, Invalid};

/// The plugin's id, as its `plugin.json` names it.
pub const PLUGIN_ID: &str = "datadriven-maturity-datasource";
/// The environment variable Grafana sets from `[plugin.datadriven-maturity-datasource] database_path`.
pub const ENV_DATABASE_PATH: &str = "GF_PLUGIN_DATABASE_PATH";
/// Grafana's data folder, when Grafana forwards it.
pub const ENV_PATHS_DATA: &str = "GF_PATHS_DATA";
/// Grafana's plugins folder (`[paths] plugins`), when set in the environment.
pub const ENV_PATHS_PLUGINS: &str = "GF_PATHS_PLUGINS";
/// Grafana's home folder (`[paths] home`), whose `data/plugins` a tarball install uses.
pub const ENV_PATHS_HOME: &str = "GF_PATHS_HOME";
/// The PostgreSQL store's URL for the command-line tool, when a settings file says
/// `storage: postgres` (the URL is a secret: it is not in jsonData, and a flag shows in `ps`).
pub const ENV_POSTGRES_URL: &str = "MATURITY_POSTGRES_URL";
/// Grafana's root URL, which Grafana forwards to its plugins.
pub const ENV_APP_URL: &str = "GF_APP_URL";
/// Our folder inside Grafana's data folder.
pub const DATA_FOLDER: &str = "datadriven-maturity";
/// The store's file name.
pub const DATABASE_FILE: &str = "maturity.db";

/// Longest `viewSessionMinutes` and `actualsIntervalMinutes`: one week.
const MAX_MINUTES: i64 = 10_080;

/// A secret string that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("<empty>")
        } else {
            f.write_str("<redacted>")
        }
    }
}

/// `jsonData.storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// One SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server (`secureJsonData.postgresUrl`).
    Postgres,
}

/// `jsonData`, validated: every key of SPEC §6 with its default applied.
#[derive(Debug, Clone)]
pub struct JsonData {
    /// `storage` (`sqlite`).
    pub storage: StorageKind,
    /// `databasePath`, when set and not blank.
    pub database_path: Option<String>,
    /// `viewersCanAnnotate` (true) and `maturity` (the ladder's thresholds).
    pub app: AppSettings,
    /// `viewSessionMinutes` (30): the length of a passive-view session bucket.
    pub view_session_minutes: i64,
    /// `actualsIntervalMinutes` (60): how often live actuals and imports run.
    pub actuals_interval_minutes: i64,
    /// `grafanaUrl`, when set and not blank.
    pub grafana_url: Option<String>,
}

impl Default for JsonData {
    fn default() -> Self {
        Self {
            storage: StorageKind::Sqlite,
            database_path: None,
            app: AppSettings::default(),
            view_session_minutes: 30,
            actuals_interval_minutes: 60,
            grafana_url: None,
        }
    }
}

impl JsonData {
    /// Reads `jsonData` (`null` is every default). Unknown keys are ignored, so that an older
    /// plugin accepts a newer frontend's settings.
    pub fn parse(json_data: &Value) -> Result<Self, Invalid> {
        let empty = Map::new();
        let o = match json_data {
            Value::Object(o) => o,
            Value::Null => &empty,
            other => {
                return Err(Invalid::new(
                    "jsonData",
                    format!("expected a JSON object, got {}", type_name(other)),
                ))
            }
        };
        let d = Self::default();
        let storage = match opt_string(o, "storage", "storage")?.as_deref() {
            None | Some("") | Some("sqlite") => StorageKind::Sqlite,
            Some("postgres") => StorageKind::Postgres,
            Some(other) => {
                return Err(Invalid::new(
                    "storage",
                    format!("unknown storage {other:?}; one of sqlite, postgres"),
                ))
            }
        };
        let minutes = |key: &str, default: i64| -> Result<i64, Invalid> {
            let v = opt_integer(o, key, key)?.unwrap_or(default);
            if (1..=MAX_MINUTES).contains(&v) {
                Ok(v)
            } else {
                Err(Invalid::new(
                    key,
                    format!("must be a whole number of minutes from 1 to {MAX_MINUTES}, got {v}"),
                ))
            }
        };
        Ok(Self {
            storage,
            database_path: opt_string(o, "databasePath", "databasePath")?
                .filter(|p| !p.trim().is_empty()),
            app: AppSettings {
                viewers_can_annotate: opt_bool(o, "viewersCanAnnotate", "viewersCanAnnotate")?
                    .unwrap_or(d.app.viewers_can_annotate),
                maturity: MaturitySettings::from_json(o.get("maturity"))?,
            },
            view_session_minutes: minutes("viewSessionMinutes", d.view_session_minutes)?,
            actuals_interval_minutes: minutes(
                "actualsIntervalMinutes",
                d.actuals_interval_minutes,
            )?,
            grafana_url: match opt_string(o, "grafanaUrl", "grafanaUrl")?
                .filter(|u| !u.trim().is_empty())
            {
                Some(u) => {
                    crate::grafana::check_url(&u).map_err(|m| Invalid::new("grafanaUrl", m))?;
                    Some(u.trim().to_string())
                }
                None => None,
            },
        })
    }
}

/// Which rule chose the store path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRule {
    /// `jsonData.databasePath` (for the tool: its settings file's `databasePath`).
    JsonData,
    /// `GF_PLUGIN_DATABASE_PATH`.
    PluginEnv,
    /// `$GF_PATHS_DATA/datadriven-maturity/maturity.db`.
    GrafanaDataEnv,
    /// Beside Grafana's plugins folder.
    BesidePluginsFolder,
    /// The tool's `--db` flag.
    CommandLine,
    /// The tool's last resort: `datadriven-maturity/maturity.db` in the current folder.
    CurrentFolder,
}

impl PathRule {
    /// For CheckHealth and the tool's messages.
    pub fn describe(self) -> &'static str {
        match self {
            PathRule::JsonData => "jsonData.databasePath",
            PathRule::PluginEnv => {
                "GF_PLUGIN_DATABASE_PATH ([plugin.datadriven-maturity-datasource] database_path)"
            }
            PathRule::GrafanaDataEnv => "GF_PATHS_DATA (Grafana's data folder)",
            PathRule::BesidePluginsFolder => "the folder that holds Grafana's plugins folder",
            PathRule::CommandLine => "--db",
            PathRule::CurrentFolder => "the default in the current folder",
        }
    }
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// An SQLite file, and the rule that chose it.
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Why this file.
        rule: PathRule,
    },
    /// A PostgreSQL server (for several Grafana replicas).
    Postgres {
        /// Connection string.
        url: Secret,
    },
}

/// Validated datasource settings: `jsonData`, `secureJsonData` and the store's place.
#[derive(Debug, Clone)]
pub struct DatasourceSettings {
    /// Where the store lives.
    pub storage: Storage,
    /// What the use cases need.
    pub app: AppSettings,
    /// Length of a passive-view session bucket in minutes.
    pub view_session_minutes: i64,
    /// How often live actuals and imports run, in minutes.
    pub actuals_interval_minutes: i64,
    /// Grafana's URL for calls back to its API.
    pub grafana_url: Option<String>,
    /// Token for calls back to Grafana's API.
    pub service_account_token: Secret,
}

/// What the environment tells about paths (handed in, so tests need no real environment).
#[derive(Debug, Clone, Default)]
pub struct PathEnv {
    /// `GF_PLUGIN_DATABASE_PATH`.
    pub plugin_database_path: Option<String>,
    /// `GF_PATHS_DATA`.
    pub grafana_data: Option<String>,
    /// `GF_PATHS_PLUGINS` (read by the tool only: the plugin knows its own folder).
    pub grafana_plugins: Option<String>,
    /// The running executable.
    pub executable: Option<PathBuf>,
    /// Plugins folders of the usual Grafana installs, where the tool looks for this plugin
    /// when nothing else tells it where Grafana is (see [`PathEnv::from_process`]).
    pub usual_plugins_folders: Vec<PathBuf>,
    /// `GF_APP_URL`: Grafana's own URL, when `jsonData.grafanaUrl` is not set (issue 12).
    pub grafana_app_url: Option<String>,
    /// `MATURITY_POSTGRES_URL` (read by the tool only; see [`ENV_POSTGRES_URL`]).
    pub postgres_url: Option<String>,
}

impl PathEnv {
    /// Reads the process environment. The usual plugins folders are those of Grafana's
    /// Linux packages and Docker image (`/var/lib/grafana/plugins`), Homebrew
    /// (`/opt/homebrew/var/lib/grafana/plugins`, `/usr/local/var/lib/grafana/plugins`), a
    /// tarball (`$GF_PATHS_HOME/data/plugins`) and the Windows installer
    /// (`C:\Program Files\GrafanaLabs\grafana\data\plugins`).
    pub fn from_process() -> Self {
        let non_empty = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let mut usual: Vec<PathBuf> = Vec::new();
        if let Some(home) = non_empty(ENV_PATHS_HOME) {
            usual.push(Path::new(&home).join("data").join("plugins"));
        }
        if cfg!(windows) {
            usual.push(PathBuf::from(
                r"C:\Program Files\GrafanaLabs\grafana\data\plugins",
            ));
        } else {
            usual.extend(
                [
                    "/var/lib/grafana/plugins",
                    "/opt/homebrew/var/lib/grafana/plugins",
                    "/usr/local/var/lib/grafana/plugins",
                ]
                .map(PathBuf::from),
            );
        }
        Self {
            plugin_database_path: non_empty(ENV_DATABASE_PATH),
            grafana_data: non_empty(ENV_PATHS_DATA),
            grafana_plugins: non_empty(ENV_PATHS_PLUGINS),
            executable: std::env::current_exe().ok(),
            usual_plugins_folders: usual,
            grafana_app_url: non_empty(ENV_APP_URL),
            postgres_url: non_empty(ENV_POSTGRES_URL),
        }
    }
}

/// Whether a `--db` value names a PostgreSQL database rather than an SQLite file.
pub fn is_postgres_url(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A PostgreSQL URL fit to print: the password (in the user part or a `password=`
/// parameter) replaced by `***`.
pub fn redact_postgres_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    // The user part ends at the last '@' before the path or the parameters.
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _password)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    if scheme.is_empty() {
        format!("{authority}{tail}")
    } else {
        format!("{scheme}://{authority}{tail}")
    }
}

/// `<folder>/datadriven-maturity/maturity.db`.
pub fn store_in(folder: &Path) -> PathBuf {
    folder.join(DATA_FOLDER).join(DATABASE_FILE)
}

/// The store a rule chose, how, and what was looked at before.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreChoice {
    /// The file.
    pub path: PathBuf,
    /// The rule that chose it.
    pub rule: PathRule,
    /// How the rule found it, when there is more to say than the rule's name (the variable
    /// and its value, the plugin folder found).
    pub how: Option<String>,
    /// Each earlier rule, and why it did not apply.
    pub passed_over: Vec<String>,
}

impl StoreChoice {
    fn new(path: PathBuf, rule: PathRule, how: Option<String>, passed_over: Vec<String>) -> Self {
        Self {
            path,
            rule,
            how,
            passed_over,
        }
    }

    /// "GF_PATHS_DATA (Grafana's data folder): GF_PATHS_DATA=/srv/grafana": the rule, and how
    /// it found the file.
    pub fn reason(&self) -> String {
        match &self.how {
            Some(how) => format!("{}: {how}", self.rule.describe()),
            None => self.rule.describe().to_string(),
        }
    }

    /// The reason, then what was looked at before it, in one line.
    pub fn explain(&self) -> String {
        if self.passed_over.is_empty() {
            self.reason()
        } else {
            format!(
                "{}; looked first at: {}",
                self.reason(),
                self.passed_over.join("; ")
            )
        }
    }
}

/// Rules 1–3, shared by the plugin and the tool: the first that is set, or why none is.
fn first_rules(
    json_path: Option<&str>,
    json_rule_name: &str,
    env: &PathEnv,
) -> Result<StoreChoice, Vec<String>> {
    let mut passed = Vec::new();
    if let Some(p) = json_path.filter(|p| !p.trim().is_empty()) {
        return Ok(StoreChoice::new(
            PathBuf::from(p),
            PathRule::JsonData,
            None,
            passed,
        ));
    }
    passed.push(format!("{json_rule_name} (not set)"));
    if let Some(p) = &env.plugin_database_path {
        return Ok(StoreChoice::new(
            PathBuf::from(p),
            PathRule::PluginEnv,
            None,
            passed,
        ));
    }
    passed.push(format!("{ENV_DATABASE_PATH} (not set)"));
    if let Some(d) = &env.grafana_data {
        return Ok(StoreChoice::new(
            store_in(Path::new(d)),
            PathRule::GrafanaDataEnv,
            Some(format!("{ENV_PATHS_DATA}={d}")),
            passed,
        ));
    }
    passed.push(format!("{ENV_PATHS_DATA} (not set)"));
    Err(passed)
}

/// The folder that holds Grafana's plugins folder, for an executable inside a plugin's
/// folder (`<holder>/plugins/<plugin folder>/gpx_maturity_*`).
fn holder_of_plugin_executable(executable: &Path) -> Option<&Path> {
    executable.parent()?.parent()?.parent()
}

/// Whether `folder` holds a `plugin.json` naming this plugin.
fn is_our_plugin_folder(folder: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Manifest {
        id: String,
    }
    std::fs::read(folder.join("plugin.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
        .is_some_and(|m| m.id == PLUGIN_ID)
}

/// This plugin's folder inside a plugins folder, if it is installed there: the folder named
/// after the plugin id first, else any folder whose `plugin.json` names it.
fn installed_in(plugins: &Path) -> Option<PathBuf> {
    let named = plugins.join(PLUGIN_ID);
    if is_our_plugin_folder(&named) {
        return Some(named);
    }
    std::fs::read_dir(plugins)
        .ok()?
        .filter_map(Result::ok)
        .take(10_000)
        .map(|e| e.path())
        .find(|p| p.is_dir() && is_our_plugin_folder(p))
}

/// The setting a rule read, for an error about the path it gave.
pub fn rule_field(rule: PathRule) -> &'static str {
    match rule {
        PathRule::JsonData => "databasePath",
        PathRule::PluginEnv => ENV_DATABASE_PATH,
        PathRule::GrafanaDataEnv => ENV_PATHS_DATA,
        PathRule::BesidePluginsFolder | PathRule::CurrentFolder => "databasePath",
        PathRule::CommandLine => "--db",
    }
}

/// A store is a file path (SPEC §9): not an SQLite URI (`file:…`, which SQLite would read
/// as options such as `mode=memory`), not an in-memory database (`:memory:`), not an empty
/// name (which SQLite takes for a temporary database). `field` names the setting in the
/// error.
pub fn check_store_path(path: &Path, field: &str) -> Result<(), Invalid> {
    let text = path.to_string_lossy();
    let refused = if text.trim().is_empty() {
        Some("is empty")
    } else if text == ":memory:" {
        Some("names an in-memory database")
    } else if text
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
    {
        Some("is an SQLite URI")
    } else {
        None
    };
    match refused {
        Some(why) => Err(Invalid::new(
            field,
            format!("{text:?} {why}; the store must be a file path, such as /var/lib/grafana/datadriven-maturity/maturity.db"),
        )),
        None => Ok(()),
    }
}

/// The plugin's rules of SPEC §2 (see the module doc): the first that is set. The path
/// must be a file path ([`check_store_path`]).
pub fn resolve_path(
    json_path: Option<&str>,
    env: &PathEnv,
) -> Result<(PathBuf, PathRule), Invalid> {
    if let Ok(c) = first_rules(json_path, "jsonData.databasePath", env) {
        check_store_path(&c.path, rule_field(c.rule))?;
        return Ok((c.path, c.rule));
    }
    // Never the plugin's own folder, which an upgrade replaces, but the folder that holds
    // the plugins folder.
    match env
        .executable
        .as_deref()
        .and_then(holder_of_plugin_executable)
    {
        Some(h) => Ok((store_in(h), PathRule::BesidePluginsFolder)),
        None => Err(Invalid::new(
            "databasePath",
            "cannot find a place for the store: set jsonData.databasePath or GF_PLUGIN_DATABASE_PATH",
        )),
    }
}

/// The tool's store: `--db`, then the plugin's rules in the plugin's order (see the module
/// doc), else `datadriven-maturity/maturity.db` in the current folder. `json_path` is the
/// `databasePath` of the tool's settings file. It never fails: the last rule always applies.
pub fn locate_for_tool(db: Option<&Path>, json_path: Option<&str>, env: &PathEnv) -> StoreChoice {
    if let Some(p) = db {
        return StoreChoice::new(p.to_path_buf(), PathRule::CommandLine, None, Vec::new());
    }
    let mut passed = match first_rules(json_path, "the settings file's databasePath", env) {
        Ok(choice) => return choice,
        Err(passed) => passed,
    };
    // Rule 4, from the tool's own executable when it sits in the plugin's folder.
    if let Some(exe) = env.executable.as_deref() {
        let folder = exe.parent().filter(|f| is_our_plugin_folder(f));
        if let (Some(folder), Some(holder)) = (folder, holder_of_plugin_executable(exe)) {
            return StoreChoice::new(
                store_in(holder),
                PathRule::BesidePluginsFolder,
                Some(format!(
                    "this tool runs from the plugin's folder {}",
                    folder.display()
                )),
                passed,
            );
        }
    }
    // … else from Grafana's plugins folder setting.
    if let Some(plugins) = &env.grafana_plugins {
        if let Some(holder) = Path::new(plugins).parent() {
            return StoreChoice::new(
                store_in(holder),
                PathRule::BesidePluginsFolder,
                Some(format!("{ENV_PATHS_PLUGINS}={plugins}")),
                passed,
            );
        }
    }
    passed.push(format!("{ENV_PATHS_PLUGINS} (not set)"));
    // … else from a usual Grafana install that has the plugin.
    for plugins in &env.usual_plugins_folders {
        if let (Some(folder), Some(holder)) = (installed_in(plugins), plugins.parent()) {
            return StoreChoice::new(
                store_in(holder),
                PathRule::BesidePluginsFolder,
                Some(format!(
                    "Grafana's plugins folder {} holds the plugin ({})",
                    plugins.display(),
                    folder.display()
                )),
                passed,
            );
        }
    }
    if !env.usual_plugins_folders.is_empty() {
        passed.push(format!(
            "no {PLUGIN_ID} in {}",
            env.usual_plugins_folders
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    StoreChoice::new(
        Path::new(DATA_FOLDER).join(DATABASE_FILE),
        PathRule::CurrentFolder,
        None,
        passed,
    )
}

/// Parses `jsonData` and the decrypted `secureJsonData` into validated settings, with the
/// store's place resolved by the plugin's rules.
pub fn parse(
    json_data: &Value,
    secure: &Map<String, Value>,
    env: &PathEnv,
) -> Result<DatasourceSettings, Invalid> {
    let j = JsonData::parse(json_data)?;
    let secret = |k: &str| -> Result<Secret, Invalid> {
        match secure.get(k) {
            None | Some(Value::Null) => Ok(Secret::default()),
            Some(Value::String(s)) => Ok(Secret(s.clone())),
            Some(v) => Err(Invalid::new(
                k,
                format!("expected a string, got {}", type_name(v)),
            )),
        }
    };
    let storage = match j.storage {
        StorageKind::Sqlite => {
            let (path, rule) = resolve_path(j.database_path.as_deref(), env)?;
            Storage::Sqlite { path, rule }
        }
        StorageKind::Postgres => {
            let url = secret("postgresUrl")?;
            if url.expose().trim().is_empty() {
                return Err(Invalid::new(
                    "postgresUrl",
                    "storage is postgres but secureJsonData.postgresUrl is empty",
                ));
            }
            Storage::Postgres { url }
        }
    };
    Ok(DatasourceSettings {
        storage,
        app: j.app,
        view_session_minutes: j.view_session_minutes,
        actuals_interval_minutes: j.actuals_interval_minutes,
        grafana_url: j.grafana_url,
        service_account_token: secret("serviceAccountToken")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> PathEnv {
        PathEnv {
            executable: Some(PathBuf::from(
                "/var/lib/grafana/plugins/datadriven-maturity-datasource/gpx_maturity_linux_amd64",
            )),
            ..PathEnv::default()
        }
    }

    #[test]
    fn the_path_comes_from_the_first_rule_that_is_set() {
        let mut e = env();
        assert_eq!(
            resolve_path(None, &e).expect("exe"),
            (
                PathBuf::from("/var/lib/grafana/datadriven-maturity/maturity.db"),
                PathRule::BesidePluginsFolder
            )
        );
        e.grafana_data = Some("/data".into());
        assert_eq!(
            resolve_path(None, &e).expect("data"),
            (
                PathBuf::from("/data/datadriven-maturity/maturity.db"),
                PathRule::GrafanaDataEnv
            )
        );
        e.plugin_database_path = Some("/env.db".into());
        assert_eq!(
            resolve_path(None, &e).expect("env"),
            (PathBuf::from("/env.db"), PathRule::PluginEnv)
        );
        assert_eq!(
            resolve_path(Some("/json.db"), &e).expect("json"),
            (PathBuf::from("/json.db"), PathRule::JsonData)
        );
        assert_eq!(
            resolve_path(Some("  "), &e).expect("blank").1,
            PathRule::PluginEnv
        );
    }

    #[test]
    fn the_plugin_never_looks_at_the_tools_extra_clues() {
        // GF_PATHS_PLUGINS and the usual install folders are the tool's ways of finding
        // what the plugin knows from its own executable.
        let e = PathEnv {
            grafana_plugins: Some("/elsewhere/plugins".into()),
            usual_plugins_folders: vec![PathBuf::from("/nowhere/plugins")],
            ..env()
        };
        assert_eq!(
            resolve_path(None, &e).expect("exe").0,
            PathBuf::from("/var/lib/grafana/datadriven-maturity/maturity.db")
        );
        let none = PathEnv::default();
        assert_eq!(
            resolve_path(None, &none).expect_err("no rule").field,
            "databasePath"
        );
    }

    #[test]
    fn a_store_is_a_file_path_never_a_uri_or_in_memory() {
        for bad in [
            ":memory:",
            "file:maturity.db?mode=memory",
            "FILE:/x.db",
            " ",
        ] {
            assert_eq!(
                resolve_path(Some(bad), &env())
                    .map_err(|e| e.field)
                    .err()
                    .as_deref(),
                // A blank databasePath is unset: the next rule applies.
                if bad.trim().is_empty() {
                    None
                } else {
                    Some("databasePath")
                },
                "{bad:?}"
            );
        }
        let e = PathEnv {
            plugin_database_path: Some(":memory:".into()),
            ..env()
        };
        assert_eq!(
            resolve_path(None, &e).expect_err("env").field,
            ENV_DATABASE_PATH
        );
        let e = PathEnv {
            grafana_data: Some("file:/data".into()),
            ..env()
        };
        assert_eq!(
            resolve_path(None, &e).expect_err("data").field,
            ENV_PATHS_DATA
        );
        assert!(check_store_path(Path::new("relative/file:x.db"), "databasePath").is_ok());
        assert!(check_store_path(Path::new("/var/lib/grafana/x.db"), "databasePath").is_ok());
        let msg = check_store_path(Path::new(":memory:"), "--db")
            .expect_err("memory")
            .message;
        assert!(msg.contains("in-memory"), "{msg}");
    }

    #[test]
    fn defaults_apply_to_empty_json_data() {
        let s = parse(&json!({}), &Map::new(), &env()).expect("settings");
        assert!(s.app.viewers_can_annotate);
        assert_eq!(s.view_session_minutes, 30);
        assert_eq!(s.actuals_interval_minutes, 60);
        assert!(matches!(
            s.storage,
            Storage::Sqlite {
                rule: PathRule::BesidePluginsFolder,
                ..
            }
        ));
        let j = JsonData::parse(&Value::Null).expect("null is every default");
        assert_eq!(j.storage, StorageKind::Sqlite);
        assert_eq!(j.database_path, None);
    }

    #[test]
    fn invalid_settings_name_their_field() {
        let bad = |j: Value| parse(&j, &Map::new(), &env()).expect_err("invalid").field;
        assert_eq!(bad(json!({"storage": "mysql"})), "storage");
        assert_eq!(bad(json!({"storage": "postgres"})), "postgresUrl");
        assert_eq!(bad(json!({"viewSessionMinutes": 0})), "viewSessionMinutes");
        assert_eq!(
            bad(json!({"actualsIntervalMinutes": 10_081})),
            "actualsIntervalMinutes"
        );
        assert_eq!(
            bad(json!({"viewersCanAnnotate": "yes"})),
            "viewersCanAnnotate"
        );
        assert_eq!(bad(json!({"databasePath": 5})), "databasePath");
        assert_eq!(bad(json!({"grafanaUrl": 5})), "grafanaUrl");
        assert_eq!(bad(json!({"grafanaUrl": "grafana:3000"})), "grafanaUrl");
        assert_eq!(bad(json!([])), "jsonData");
        assert!(bad(json!({"maturity": {"reviewRatio": 2}})).contains("reviewRatio"));
        let mut secure = Map::new();
        secure.insert("serviceAccountToken".into(), json!(7));
        assert_eq!(
            parse(&json!({}), &secure, &env()).expect_err("token").field,
            "serviceAccountToken"
        );
    }

    #[test]
    fn secrets_never_print() {
        let mut secure = Map::new();
        secure.insert("postgresUrl".into(), json!("postgres://u:hunter2@db/m"));
        secure.insert("serviceAccountToken".into(), json!("glsa_topsecret"));
        let s = parse(&json!({"storage": "postgres"}), &secure, &env()).expect("settings");
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("topsecret"),
            "{printed}"
        );
    }

    /// A Grafana data folder with a plugins folder holding this plugin (or another).
    fn grafana_install(id: &str, folder_name: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let plugin = dir.path().join("plugins").join(folder_name);
        std::fs::create_dir_all(&plugin).expect("plugin folder");
        std::fs::write(
            plugin.join("plugin.json"),
            format!(r#"{{"id": "{id}", "type": "datasource"}}"#),
        )
        .expect("plugin.json");
        dir
    }

    fn tool_env() -> PathEnv {
        PathEnv {
            executable: Some(PathBuf::from("/usr/local/bin/maturity")),
            ..PathEnv::default()
        }
    }

    #[test]
    fn the_tool_takes_db_then_the_plugins_rules_in_the_plugins_order() {
        let mut e = tool_env();
        e.grafana_data = Some("/data".into());
        e.plugin_database_path = Some("/env.db".into());
        let flag = locate_for_tool(Some(Path::new("/flag.db")), Some("/json.db"), &e);
        assert_eq!(
            (flag.path, flag.rule),
            (PathBuf::from("/flag.db"), PathRule::CommandLine)
        );
        let json = locate_for_tool(None, Some("/json.db"), &e);
        assert_eq!(
            (json.path, json.rule),
            (PathBuf::from("/json.db"), PathRule::JsonData)
        );
        let env_rule = locate_for_tool(None, None, &e);
        assert_eq!(
            (env_rule.path.clone(), env_rule.rule),
            (PathBuf::from("/env.db"), PathRule::PluginEnv)
        );
        assert_eq!(
            env_rule.passed_over,
            ["the settings file's databasePath (not set)"]
        );
        e.plugin_database_path = None;
        let data = locate_for_tool(None, None, &e);
        assert_eq!(
            (data.path.clone(), data.rule),
            (
                PathBuf::from("/data/datadriven-maturity/maturity.db"),
                PathRule::GrafanaDataEnv
            )
        );
        assert!(
            data.explain().contains("GF_PATHS_DATA=/data"),
            "{}",
            data.explain()
        );
        assert!(
            data.explain().contains("GF_PLUGIN_DATABASE_PATH (not set)"),
            "{}",
            data.explain()
        );
    }

    #[test]
    fn the_tool_finds_grafanas_plugins_folder_as_the_plugin_finds_it() {
        let grafana = grafana_install(PLUGIN_ID, "my-copy-of-the-plugin");
        let data = grafana.path();
        let plugins = data.join("plugins");
        let expected = store_in(data);

        // Run from the plugin's own folder: exactly the plugin's rule.
        let exe = plugins.join("my-copy-of-the-plugin").join("maturity");
        let e = PathEnv {
            executable: Some(exe.clone()),
            ..PathEnv::default()
        };
        let c = locate_for_tool(None, None, &e);
        assert_eq!(
            (c.path.clone(), c.rule),
            (expected.clone(), PathRule::BesidePluginsFolder)
        );
        assert_eq!(
            resolve_path(None, &e).expect("plugin").0,
            c.path,
            "the plugin at the same place picks the same file"
        );

        // GF_PATHS_PLUGINS.
        let e = PathEnv {
            grafana_plugins: Some(plugins.display().to_string()),
            ..tool_env()
        };
        let c = locate_for_tool(None, None, &e);
        assert_eq!(
            (c.path, c.rule),
            (expected.clone(), PathRule::BesidePluginsFolder)
        );

        // A usual install whose plugins folder holds the plugin (under any folder name);
        // one that does not hold it is passed over and named.
        let other = grafana_install("someone-elses-datasource", "other");
        let e = PathEnv {
            usual_plugins_folders: vec![other.path().join("plugins"), plugins.clone()],
            ..tool_env()
        };
        let c = locate_for_tool(None, None, &e);
        assert_eq!(
            (c.path.clone(), c.rule),
            (expected, PathRule::BesidePluginsFolder)
        );
        assert!(
            c.explain().contains(&plugins.display().to_string()),
            "{}",
            c.explain()
        );
    }

    #[test]
    fn with_no_clue_the_tool_uses_the_current_folder_and_says_where_it_looked() {
        let empty = tempfile::tempdir().expect("tempdir");
        let usual = empty.path().join("plugins");
        let e = PathEnv {
            usual_plugins_folders: vec![usual.clone()],
            ..tool_env()
        };
        let c = locate_for_tool(None, None, &e);
        assert_eq!(
            (c.path.clone(), c.rule),
            (
                Path::new("datadriven-maturity").join("maturity.db"),
                PathRule::CurrentFolder
            )
        );
        let explained = c.explain();
        for looked in [
            "the settings file's databasePath (not set)",
            "GF_PLUGIN_DATABASE_PATH (not set)",
            "GF_PATHS_DATA (not set)",
            "GF_PATHS_PLUGINS (not set)",
        ] {
            assert!(explained.contains(looked), "{explained}");
        }
        assert!(
            explained.contains(&format!("no {PLUGIN_ID} in {}", usual.display())),
            "{explained}"
        );
        // An executable that is not in a plugin folder is not taken for one.
        let e = PathEnv {
            executable: Some(empty.path().join("bin").join("maturity")),
            ..PathEnv::default()
        };
        assert_eq!(
            locate_for_tool(None, None, &e).rule,
            PathRule::CurrentFolder
        );
    }

    #[test]
    fn a_postgres_url_prints_without_its_password() {
        assert_eq!(
            redact_postgres_url(
                "postgres://app:s3cr%40t@db:5432/maturity?sslmode=require&password=x"
            ),
            "postgres://app:***@db:5432/maturity?sslmode=require&password=***"
        );
        assert_eq!(
            redact_postgres_url("postgresql://app@db/m"),
            "postgresql://app@db/m"
        );
        assert_eq!(redact_postgres_url("postgres://db"), "postgres://db");
        assert!(is_postgres_url("PostgreSQL://x") && !is_postgres_url("/var/m.db"));
    }
}
