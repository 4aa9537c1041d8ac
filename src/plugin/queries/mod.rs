//! One home per query type (SPEC §4.1): each file of this folder holds one type's fields (as
//! [`Field`] descriptors), its decode (loose JSON → a typed query), the call into its `app`
//! use case and its frame. [`QUERY_TYPES`] is the registry that names them all: QueryData
//! dispatches through it, and the JSON Schema the frontend's types come from
//! ([`query_schema`]) is written from it.
//!
//! Adding a query type is a new file here (its `DEF`, a typed query implementing [`Query`],
//! its frame), one line in the `registry!` list below, and its test.
//!
//! - [`fields`]: field descriptors and the reader every decode goes through.
//! - [`schema`]: the JSON Schema (draft-07) written from the descriptors.

pub mod fields;
pub mod schema;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use grafana_plugin_sdk::data::Frame;
use serde_json::{Map, Value};

use crate::app::input::opt_string;
use crate::app::{App, AppResult, Caller};
use crate::model::{type_name, EpochMs, Invalid};

pub use fields::{Field, Fields, Kind, WireEnum};
pub use schema::{query_schema, query_schema_text};

/// Declares the query type modules and [`QUERY_TYPES`] from one list.
macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every query type this backend answers, in the order errors and the schema list them.
        pub const QUERY_TYPES: &[QueryDef] = &[$($module::DEF),*];
    };
}

registry! {
    events,
    teams,
    review_activity,
    review_lapse,
    maturity,
    criteria,
    maturity_history,
    level_changes,
    targets,
    target_series,
    follow_ups,
    follow_ups_overdue,
    verification_due,
    review_agenda,
}

/// What the registry knows of a query type: its name, what it answers, its fields and how
/// to decode it.
#[derive(Debug, Clone, Copy)]
pub struct QueryDef {
    /// The `queryType` value.
    pub query_type: &'static str,
    /// What it answers, in one sentence (the schema's `description`).
    pub description: &'static str,
    /// The fields of its frame(s), for people (the schema's `x-frame`).
    pub frame: &'static str,
    /// Whether its frame is one of the alertable shapes of SPEC §4.3 (`x-alertable`).
    pub alertable: bool,
    /// Its fields besides `queryType`.
    pub fields: &'static [Field],
    /// Its decode (use [`decode_as`]).
    pub decode: fn(&Fields<'_>) -> Result<Box<dyn DecodedQuery>, Invalid>,
}

impl QueryDef {
    /// The schema's definition name: `reviewLapse` → `ReviewLapseQuery`.
    pub fn definition_name(&self) -> String {
        let mut chars = self.query_type.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase());
        first
            .into_iter()
            .chain(chars)
            .chain("Query".chars())
            .collect()
    }

    /// Decodes the fields of a query of this type.
    pub fn decode_fields(&self, fields: &Fields<'_>) -> Result<Box<dyn DecodedQuery>, Invalid> {
        (self.decode)(fields)
    }
}

/// The query type named `query_type`, if this backend answers it.
pub fn find(query_type: &str) -> Option<&'static QueryDef> {
    QUERY_TYPES.iter().find(|d| d.query_type == query_type)
}

/// What answering a query needs besides the query: the use cases, the caller and the range.
#[derive(Debug, Clone, Copy)]
pub struct QueryContext<'a> {
    /// The use cases.
    pub app: &'a App,
    /// Who asks.
    pub caller: &'a Caller,
    /// The range's start.
    pub from: EpochMs,
    /// The range's end, as given.
    pub to: EpochMs,
    /// The evaluation instant `T`: the range's end, capped at now.
    pub at: EpochMs,
    /// The query interval Grafana suggests.
    pub interval: Duration,
}

/// A typed query: decoded from its fields, answered with frames.
pub trait Query: fmt::Debug + Send + Sync + Sized + 'static {
    /// Reads the query from its fields (only through the type's declared descriptors).
    fn decode(fields: &Fields<'_>) -> Result<Self, Invalid>;

    /// Calls the use case and builds the frames.
    fn answer(&self, cx: &QueryContext<'_>) -> impl Future<Output = AppResult<Vec<Frame>>> + Send;
}

/// A decoded query of any type, ready to answer.
pub trait DecodedQuery: fmt::Debug + Send + Sync {
    /// Answers it.
    fn run<'a>(&'a self, cx: &'a QueryContext<'a>) -> BoxFuture<'a, AppResult<Vec<Frame>>>;
}

impl<Q: Query> DecodedQuery for Q {
    fn run<'a>(&'a self, cx: &'a QueryContext<'a>) -> BoxFuture<'a, AppResult<Vec<Frame>>> {
        Box::pin(<Q as Query>::answer(self, cx))
    }
}

/// The `decode` of a [`QueryDef`] whose typed query is `Q`.
pub fn decode_as<Q: Query>(fields: &Fields<'_>) -> Result<Box<dyn DecodedQuery>, Invalid> {
    Ok(Box::new(Q::decode(fields)?))
}

/// Decodes a query; `query_type` is the DataQuery's own field, else the JSON's `queryType`.
/// Keys no field declares (Grafana's `refId`, `datasource`, `hide`, ...) are ignored.
pub fn decode(query_type: &str, json: &Value) -> Result<Box<dyn DecodedQuery>, Invalid> {
    let empty = Map::new();
    let o = match json {
        Value::Object(o) => o,
        Value::Null => &empty,
        other => {
            return Err(Invalid::new(
                "query",
                format!("expected a JSON object, got {}", type_name(other)),
            ))
        }
    };
    let from_json = opt_string(o, "queryType", "queryType")?;
    let qt = if query_type.is_empty() {
        from_json.unwrap_or_default()
    } else {
        query_type.to_string()
    };
    let names = || {
        QUERY_TYPES
            .iter()
            .map(|d| d.query_type)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let def = match find(&qt) {
        Some(def) => def,
        None if qt.is_empty() => {
            return Err(Invalid::new(
                "queryType",
                format!("is required; one of {}", names()),
            ))
        }
        None => {
            return Err(Invalid::new(
                "queryType",
                format!("unknown queryType {qt:?}; one of {}", names()),
            ))
        }
    };
    def.decode_fields(&Fields::new(o, def.fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn debug(query_type: &str, v: Value) -> String {
        format!("{:?}", decode(query_type, &v).expect("decodes"))
    }

    #[test]
    fn unknown_or_missing_query_types_are_named() {
        assert_eq!(
            decode("", &json!({})).expect_err("missing").field,
            "queryType"
        );
        assert!(decode("vote", &json!({}))
            .expect_err("unknown")
            .message
            .contains("vote"));
        assert_eq!(debug("", json!({"queryType": "teams"})), "TeamsQuery");
        assert_eq!(
            decode("events", &json!({"limit": 0}))
                .expect_err("limit")
                .field,
            "limit"
        );
        assert_eq!(
            decode("reviewLapse", &json!({"measure": "days"}))
                .expect_err("m")
                .field,
            "measure"
        );
        assert_eq!(
            decode("events", &json!("x")).expect_err("shape").field,
            "query"
        );
        // The JSON's queryType must be a string even when the DataQuery names the type.
        assert_eq!(
            decode("teams", &json!({"queryType": 5}))
                .expect_err("type")
                .field,
            "queryType"
        );
    }

    #[test]
    fn the_registry_names_each_type_once_with_its_definition() {
        let mut names: Vec<_> = QUERY_TYPES.iter().map(|d| d.query_type).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), QUERY_TYPES.len());
        assert_eq!(
            find("reviewLapse").map(QueryDef::definition_name),
            Some("ReviewLapseQuery".to_string())
        );
        for def in QUERY_TYPES {
            assert!(def.fields.len() <= 64, "{}", def.query_type);
        }
    }

    #[test]
    fn every_file_of_this_folder_is_a_registered_query_type_that_says_so_first() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/plugin/queries");
        let mut stems: Vec<String> = std::fs::read_dir(&folder)
            .expect("queries folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
            .filter(|s| !matches!(s.as_str(), "mod" | "fields" | "schema"))
            .collect();
        stems.sort_unstable();
        let snake = |qt: &str| {
            qt.chars().fold(String::new(), |mut s, c| {
                if c.is_ascii_uppercase() {
                    s.push('_');
                }
                s.push(c.to_ascii_lowercase());
                s
            })
        };
        let mut registered: Vec<String> = QUERY_TYPES.iter().map(|d| snake(d.query_type)).collect();
        registered.sort_unstable();
        assert_eq!(
            stems, registered,
            "a file here is one registered query type"
        );
        for def in QUERY_TYPES {
            let file = folder.join(format!("{}.rs", snake(def.query_type)));
            let text = std::fs::read_to_string(&file).expect("source");
            assert!(
                text.starts_with(&format!("//! `{}`", def.query_type)),
                "{} opens with what it owns",
                file.display()
            );
        }
    }

    #[test]
    fn every_declared_field_is_read_by_its_decode() {
        let empty = Map::new();
        for def in QUERY_TYPES {
            let fields = Fields::new(&empty, def.fields);
            def.decode_fields(&fields)
                .unwrap_or_else(|e| panic!("{}: {e}", def.query_type));
            assert!(
                fields.unread().is_empty(),
                "{} declares fields its decode never reads: {:?}",
                def.query_type,
                fields.unread()
            );
        }
    }

    #[test]
    fn decode_ignores_the_keys_grafana_adds() {
        let grafana = json!({"refId": "A", "datasource": {"type": "x", "uid": "y"}, "hide": false,
            "intervalMs": 1000, "maxDataPoints": 100, "key": "Q-1", "editorMode": "builder"});
        for def in QUERY_TYPES {
            let mut q = grafana.clone();
            q["queryType"] = json!(def.query_type);
            assert_eq!(
                debug("", q),
                debug(def.query_type, json!({})),
                "{}",
                def.query_type
            );
        }
    }
}
