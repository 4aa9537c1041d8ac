//! Datasource settings in two steps: the loose wire JSON (`jsonData`, `secureJsonData`) as
//! the frontend writes it, converted once into validated settings, with the store path
//! resolved by the rules of SPEC §2. Secrets never show in `Debug`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::app::input::{opt_bool, opt_integer, opt_string};
use crate::app::AppSettings;
use crate::engine::MaturitySettings;
use crate::model::{type_name, Invalid};

/// The environment variable Grafana sets from `[plugin.datadriven-maturity-datasource] database_path`.
pub const ENV_DATABASE_PATH: &str = "GF_PLUGIN_DATABASE_PATH";
/// Grafana's data folder, when Grafana forwards it.
pub const ENV_PATHS_DATA: &str = "GF_PATHS_DATA";
/// Our folder inside Grafana's data folder.
pub const DATA_FOLDER: &str = "datadriven-maturity";
/// The store's file name.
pub const DATABASE_FILE: &str = "maturity.db";

/// A secret string that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
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

/// Which rule of SPEC §2 chose the store path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRule {
    /// `jsonData.databasePath`.
    JsonData,
    /// `GF_PLUGIN_DATABASE_PATH`.
    PluginEnv,
    /// `$GF_PATHS_DATA/datadriven-maturity/maturity.db`.
    GrafanaDataEnv,
    /// Beside Grafana's plugins folder, found from the executable's path.
    BesidePluginsFolder,
}

impl PathRule {
    /// For CheckHealth.
    pub fn describe(self) -> &'static str {
        match self {
            PathRule::JsonData => "jsonData.databasePath",
            PathRule::PluginEnv => {
                "GF_PLUGIN_DATABASE_PATH ([plugin.datadriven-maturity-datasource] database_path)"
            }
            PathRule::GrafanaDataEnv => "GF_PATHS_DATA (Grafana's data folder)",
            PathRule::BesidePluginsFolder => "the folder that holds Grafana's plugins folder",
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

/// Validated datasource settings.
#[derive(Debug, Clone)]
pub struct DatasourceSettings {
    /// Where the store lives.
    pub storage: Storage,
    /// What the use cases need.
    pub app: AppSettings,
    /// Length of a passive-view session bucket in minutes.
    pub view_session_minutes: i64,
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
    /// The running executable.
    pub executable: Option<PathBuf>,
}

impl PathEnv {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        let non_empty = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            plugin_database_path: non_empty(ENV_DATABASE_PATH),
            grafana_data: non_empty(ENV_PATHS_DATA),
            executable: std::env::current_exe().ok(),
        }
    }
}

/// Resolves the SQLite path: the first rule of SPEC §2 that is set.
pub fn resolve_path(
    json_path: Option<&str>,
    env: &PathEnv,
) -> Result<(PathBuf, PathRule), Invalid> {
    if let Some(p) = json_path.filter(|p| !p.trim().is_empty()) {
        return Ok((PathBuf::from(p), PathRule::JsonData));
    }
    if let Some(p) = &env.plugin_database_path {
        return Ok((PathBuf::from(p), PathRule::PluginEnv));
    }
    if let Some(d) = &env.grafana_data {
        return Ok((
            Path::new(d).join(DATA_FOLDER).join(DATABASE_FILE),
            PathRule::GrafanaDataEnv,
        ));
    }
    // <data>/plugins/<plugin folder>/gpx_maturity_*: never the plugin's own folder, which an
    // upgrade replaces, but the folder that holds the plugins folder.
    let holder = env
        .executable
        .as_deref()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .and_then(Path::parent);
    match holder {
        Some(h) => Ok((h.join(DATA_FOLDER).join(DATABASE_FILE), PathRule::BesidePluginsFolder)),
        None => Err(Invalid::new(
            "databasePath",
            "cannot find a place for the store: set jsonData.databasePath or GF_PLUGIN_DATABASE_PATH",
        )),
    }
}

/// Parses `jsonData` bytes and the decrypted `secureJsonData` into validated settings.
pub fn parse(
    json_data: &Value,
    secure: &Map<String, Value>,
    env: &PathEnv,
) -> Result<DatasourceSettings, Invalid> {
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
    let storage_kind = opt_string(o, "storage", "storage")?.unwrap_or_else(|| "sqlite".into());
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
    let storage = match storage_kind.as_str() {
        "sqlite" | "" => {
            let (path, rule) = resolve_path(
                opt_string(o, "databasePath", "databasePath")?.as_deref(),
                env,
            )?;
            Storage::Sqlite { path, rule }
        }
        "postgres" => {
            let url = secret("postgresUrl")?;
            if url.expose().trim().is_empty() {
                return Err(Invalid::new(
                    "postgresUrl",
                    "storage is postgres but secureJsonData.postgresUrl is empty",
                ));
            }
            Storage::Postgres { url }
        }
        other => {
            return Err(Invalid::new(
                "storage",
                format!("unknown storage {other:?}; one of sqlite, postgres"),
            ))
        }
    };
    let view_session_minutes =
        opt_integer(o, "viewSessionMinutes", "viewSessionMinutes")?.unwrap_or(30);
    if !(1..=10_080).contains(&view_session_minutes) {
        return Err(Invalid::new(
            "viewSessionMinutes",
            format!(
                "must be a whole number of minutes from 1 to 10080, got {view_session_minutes}"
            ),
        ));
    }
    let maturity = MaturitySettings::from_json(o.get("maturity"))?;
    Ok(DatasourceSettings {
        storage,
        app: AppSettings {
            viewers_can_annotate: opt_bool(o, "viewersCanAnnotate", "viewersCanAnnotate")?
                .unwrap_or(true),
            maturity,
        },
        view_session_minutes,
        grafana_url: opt_string(o, "grafanaUrl", "grafanaUrl")?.filter(|u| !u.trim().is_empty()),
        service_account_token: secret("serviceAccountToken")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> PathEnv {
        PathEnv {
            plugin_database_path: None,
            grafana_data: None,
            executable: Some(PathBuf::from(
                "/var/lib/grafana/plugins/datadriven-maturity-datasource/gpx_maturity_linux_amd64",
            )),
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
    fn defaults_apply_to_empty_json_data() {
        let s = parse(&json!({}), &Map::new(), &env()).expect("settings");
        assert!(s.app.viewers_can_annotate);
        assert_eq!(s.view_session_minutes, 30);
        assert!(matches!(
            s.storage,
            Storage::Sqlite {
                rule: PathRule::BesidePluginsFolder,
                ..
            }
        ));
    }

    #[test]
    fn invalid_settings_name_their_field() {
        let bad = |j: Value| parse(&j, &Map::new(), &env()).expect_err("invalid").field;
        assert_eq!(bad(json!({"storage": "mysql"})), "storage");
        assert_eq!(bad(json!({"storage": "postgres"})), "postgresUrl");
        assert_eq!(bad(json!({"viewSessionMinutes": 0})), "viewSessionMinutes");
        assert_eq!(
            bad(json!({"viewersCanAnnotate": "yes"})),
            "viewersCanAnnotate"
        );
        assert_eq!(bad(json!({"databasePath": 5})), "databasePath");
        assert_eq!(bad(json!([])), "jsonData");
        assert!(bad(json!({"maturity": {"reviewRatio": 2}})).contains("reviewRatio"));
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
}
