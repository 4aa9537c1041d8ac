//! Query fields as data: every query type declares its fields as [`Field`] descriptors (name,
//! JSON type, title, description, enum values, default, bounds, required), and its decode
//! reads the query's loose JSON only through them ([`Fields`]). The JSON Schema of
//! [`super::schema`] is written from the same descriptors, so the two cannot disagree.

use std::cell::Cell;

use serde_json::{Map, Value};

use crate::app::input::{opt_bool, opt_integer, opt_string};
use crate::app::limits::{check_list, MAX_LIST_ITEMS};
use crate::app::queries::TeamSelector;
use crate::engine::targets::{FollowUpStatus, TargetStatus};
use crate::model::{type_name, EventKind, Invalid};

/// A closed set of wire names (an enum of the model) that a query field may take.
pub trait WireEnum: Copy + Sized + 'static {
    /// What one value is called in an error message (`kind`, `status`).
    const NOUN: &'static str;
    /// Every value, in the order the schema lists them.
    const ALL: &'static [Self];
    /// The wire name of a value.
    fn wire_name(self) -> &'static str;
    /// Parses a wire name (an enum may accept more spellings than it lists).
    fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.wire_name() == s)
    }
}

/// The wire names of an enum, in its order: the `enum` of the schema.
pub fn wire_names<E: WireEnum>() -> Vec<&'static str> {
    E::ALL.iter().map(|v| v.wire_name()).collect()
}

impl WireEnum for EventKind {
    const NOUN: &'static str = "kind";
    const ALL: &'static [Self] = &EventKind::ALL;
    fn wire_name(self) -> &'static str {
        self.as_str()
    }
    fn from_wire(s: &str) -> Option<Self> {
        EventKind::parse(s)
    }
}

impl WireEnum for TargetStatus {
    const NOUN: &'static str = "status";
    const ALL: &'static [Self] = &TargetStatus::ALL;
    fn wire_name(self) -> &'static str {
        self.as_str()
    }
}

impl WireEnum for FollowUpStatus {
    const NOUN: &'static str = "status";
    const ALL: &'static [Self] = &FollowUpStatus::ALL;
    fn wire_name(self) -> &'static str {
        self.as_str()
    }
}

/// The JSON type of a field, with what the schema says of it beyond the type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `team`: one id, a list of ids, or all teams (the schema's `TeamSelector`).
    Team,
    /// A string; an empty one counts as absent.
    Text,
    /// `true` or `false`.
    Bool {
        /// The value when absent.
        default: bool,
    },
    /// An integer from `minimum` to `maximum` (a string of digits is taken too).
    Integer {
        /// The least value accepted.
        minimum: i64,
        /// The greatest value accepted.
        maximum: i64,
        /// The value when absent.
        default: i64,
    },
    /// One wire name of an enum; an empty string counts as absent.
    Enum {
        /// The enum's wire names ([`wire_names`]).
        values: fn() -> Vec<&'static str>,
        /// The value when absent, if there is one.
        default: Option<&'static str>,
    },
    /// A list of strings (one comma-joined string is taken too).
    Strings,
    /// A list of wire names of an enum (one comma-joined string is taken too).
    EnumList {
        /// The enum's wire names ([`wire_names`]).
        values: fn() -> Vec<&'static str>,
    },
}

impl Kind {
    /// One value of the enum `E`, with an optional default (one of `E`'s wire names).
    pub const fn one_of<E: WireEnum>(default: Option<&'static str>) -> Kind {
        Kind::Enum {
            values: wire_names::<E>,
            default,
        }
    }

    /// A list of values of the enum `E`.
    pub const fn list_of<E: WireEnum>() -> Kind {
        Kind::EnumList {
            values: wire_names::<E>,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Kind::Team => "a team selector",
            Kind::Text => "a string",
            Kind::Bool { .. } => "a boolean",
            Kind::Integer { .. } => "an integer",
            Kind::Enum { .. } => "one enum value",
            Kind::Strings => "a list of strings",
            Kind::EnumList { .. } => "a list of enum values",
        }
    }
}

/// One field of a query type: what the decoder reads and the schema describes.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON key.
    pub name: &'static str,
    /// Older spellings read when `name` is absent, in order; the schema leaves them out,
    /// as no editor should write them.
    pub aliases: &'static [&'static str],
    /// A short label: the editor's (the schema's `title`).
    pub title: &'static str,
    /// What the field does, in a sentence.
    pub description: &'static str,
    /// Its JSON type, default and bounds.
    pub kind: Kind,
    /// Whether a query without it is malformed.
    pub required: bool,
}

impl Field {
    /// An optional field with no other spelling.
    pub const fn new(
        name: &'static str,
        kind: Kind,
        title: &'static str,
        description: &'static str,
    ) -> Field {
        Field {
            name,
            aliases: &[],
            title,
            description,
            kind,
            required: false,
        }
    }

    /// The same field, also read under these keys when `name` is absent.
    pub const fn with_aliases(self, aliases: &'static [&'static str]) -> Field {
        Field { aliases, ..self }
    }

    /// The same field, required.
    pub const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }
}

/// `team`, shared by almost every query type.
pub const TEAM: Field = Field::new(
    "team",
    Kind::Team,
    "Team",
    "one team id, a list of ids (multi-value variable), or absent / \"*\" / \"$__all\" for all teams",
);

/// The fields of one query as its decode reads them: only through the descriptors the query
/// type declares. It remembers which it read, so a test can check that decode reads every
/// declared field (and a descriptor that is not declared is refused).
#[derive(Debug)]
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    declared: &'static [Field],
    read: Cell<u64>,
}

impl<'a> Fields<'a> {
    /// The fields of `obj`, of a query type that declares `declared` (at most 64).
    pub fn new(obj: &'a Map<String, Value>, declared: &'static [Field]) -> Self {
        Self {
            obj,
            declared,
            read: Cell::new(0),
        }
    }

    /// The declared fields that decode has not read (empty after a successful decode).
    pub fn unread(&self) -> Vec<&'static str> {
        let read = self.read.get();
        self.declared
            .iter()
            .enumerate()
            .filter(|(i, _)| read & (1u64 << i) == 0)
            .map(|(_, f)| f.name)
            .collect()
    }

    /// Marks `field` read; refuses one that is not declared or not of the kind asked for
    /// (both are bugs of this plugin, which the registry's tests catch).
    fn mark(&self, field: &Field, kind_ok: bool) -> Result<(), Invalid> {
        let Some(i) = self.declared.iter().position(|d| d.name == field.name) else {
            return Err(Invalid::new(
                field.name,
                "is read but not declared by this query type (a bug in the plugin)",
            ));
        };
        if !kind_ok {
            return Err(Invalid::new(
                field.name,
                format!(
                    "is declared as {} but read otherwise (a bug in the plugin)",
                    field.kind.describe()
                ),
            ));
        }
        if i < 64 {
            self.read.set(self.read.get() | (1u64 << i));
        }
        Ok(())
    }

    /// Every spelling of `field` (its name, then its aliases) with the value it has, if any;
    /// each present spelling is type-checked by `read`, the first one present wins.
    fn first<T>(
        &self,
        field: &Field,
        read: impl Fn(&str) -> Result<Option<T>, Invalid>,
    ) -> Result<Option<T>, Invalid> {
        let mut found = None;
        for key in std::iter::once(&field.name).chain(field.aliases) {
            let value = read(key)?;
            if found.is_none() {
                found = value;
            }
        }
        Ok(found)
    }

    fn absent_if_required(&self, field: &Field) -> Result<(), Invalid> {
        if field.required {
            Err(Invalid::new(field.name, "is required"))
        } else {
            Ok(())
        }
    }

    /// [`TEAM`]: which teams the query is about.
    pub fn team(&self) -> Result<TeamSelector, Invalid> {
        self.mark(&TEAM, true)?;
        team_selector(self.obj)
    }

    /// A [`Kind::Text`] field; an empty string counts as absent.
    pub fn text(&self, field: &Field) -> Result<Option<String>, Invalid> {
        self.mark(field, matches!(field.kind, Kind::Text))?;
        let value = self.first(field, |key| opt_string(self.obj, key, key))?;
        let value = value.filter(|s| !s.is_empty());
        if value.is_none() {
            self.absent_if_required(field)?;
        }
        Ok(value)
    }

    /// A [`Kind::Bool`] field, or its default.
    pub fn boolean(&self, field: &Field) -> Result<bool, Invalid> {
        let default = match field.kind {
            Kind::Bool { default } => Some(default),
            _ => None,
        };
        self.mark(field, default.is_some())?;
        match self.first(field, |key| opt_bool(self.obj, key, key))? {
            Some(b) => Ok(b),
            None => {
                self.absent_if_required(field)?;
                Ok(default.unwrap_or_default())
            }
        }
    }

    /// A [`Kind::Integer`] field, or its default; outside its bounds it is an error.
    pub fn integer(&self, field: &Field) -> Result<i64, Invalid> {
        let (minimum, maximum, default) = match field.kind {
            Kind::Integer {
                minimum,
                maximum,
                default,
            } => (minimum, maximum, default),
            _ => (i64::MIN, i64::MAX, 0),
        };
        self.mark(field, matches!(field.kind, Kind::Integer { .. }))?;
        let value = match self.first(field, |key| opt_integer(self.obj, key, key))? {
            Some(v) => v,
            None => {
                self.absent_if_required(field)?;
                default
            }
        };
        if value < minimum || value > maximum {
            return Err(Invalid::new(
                field.name,
                format!("must be from {minimum} to {maximum}, got {value}"),
            ));
        }
        Ok(value)
    }

    /// A [`Kind::Enum`] field as `E`, or its default when it has one; an empty string
    /// counts as absent.
    pub fn one_of<E: WireEnum>(&self, field: &Field) -> Result<Option<E>, Invalid> {
        let default = match field.kind {
            Kind::Enum { default, .. } => default,
            _ => None,
        };
        self.mark(field, matches!(field.kind, Kind::Enum { .. }))?;
        let given = self
            .first(field, |key| opt_string(self.obj, key, key))?
            .filter(|s| !s.is_empty());
        let name = match given {
            Some(s) => s,
            None => {
                self.absent_if_required(field)?;
                match default {
                    Some(d) => d.to_string(),
                    None => return Ok(None),
                }
            }
        };
        parse_enum(field.name, &name).map(Some)
    }

    /// A [`Kind::Enum`] field that declares a default, as `E`.
    pub fn one_of_or_default<E: WireEnum>(&self, field: &Field) -> Result<E, Invalid> {
        self.one_of(field)?.ok_or_else(|| {
            Invalid::new(
                field.name,
                "is read with its default but declares none (a bug in the plugin)",
            )
        })
    }

    /// A [`Kind::Strings`] field (empty when absent).
    pub fn strings(&self, field: &Field) -> Result<Vec<String>, Invalid> {
        self.mark(field, matches!(field.kind, Kind::Strings))?;
        self.list(field)
    }

    /// A [`Kind::EnumList`] field as values of `E` (empty when absent).
    pub fn list_of<E: WireEnum>(&self, field: &Field) -> Result<Vec<E>, Invalid> {
        self.mark(field, matches!(field.kind, Kind::EnumList { .. }))?;
        self.list(field)?
            .iter()
            .map(|s| parse_enum(field.name, s))
            .collect()
    }

    fn list(&self, field: &Field) -> Result<Vec<String>, Invalid> {
        let value = self.first(field, |key| match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => strings(key, v).map(Some),
        })?;
        match value {
            Some(v) => Ok(v),
            None => {
                self.absent_if_required(field)?;
                Ok(Vec::new())
            }
        }
    }
}

fn parse_enum<E: WireEnum>(field: &str, s: &str) -> Result<E, Invalid> {
    E::from_wire(s).ok_or_else(|| {
        Invalid::new(
            field,
            format!(
                "unknown {} {s:?}; one of {}",
                E::NOUN,
                wire_names::<E>().join(", ")
            ),
        )
    })
}

/// A list of at most [`MAX_LIST_ITEMS`] strings: an array of strings, or one comma-joined
/// string.
fn strings(key: &str, v: &Value) -> Result<Vec<String>, Invalid> {
    match v {
        Value::String(s) => {
            let items: Vec<String> = s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            check_list(key, items.len(), MAX_LIST_ITEMS)?;
            Ok(items)
        }
        Value::Array(items) => check_list(key, items.len(), MAX_LIST_ITEMS).and_then(|()| {
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .ok_or_else(|| Invalid::new(key, "expected a list of strings"))
                })
                .collect()
        }),
        v => Err(Invalid::new(
            key,
            format!("expected a list of strings, got {}", type_name(v)),
        )),
    }
}

fn is_all(s: &str) -> bool {
    matches!(s.trim(), "" | "*" | "$__all" | "All")
}

/// Reads `team`: one id, an array of ids, a `{a,b}` multi-value, or absent / `*` / `$__all`.
pub fn team_selector(o: &Map<String, Value>) -> Result<TeamSelector, Invalid> {
    let ids: Vec<String> = match o.get(TEAM.name) {
        None | Some(Value::Null) => return Ok(TeamSelector::All),
        Some(Value::String(s)) => {
            let s = s.trim();
            let inner = s
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or(s);
            let ids: Vec<String> = inner.split(',').map(|p| p.trim().to_string()).collect();
            check_list("team", ids.len(), MAX_LIST_ITEMS)?;
            ids
        }
        Some(Value::Array(items)) => {
            check_list("team", items.len(), MAX_LIST_ITEMS).and_then(|()| {
                items
                    .iter()
                    .map(|i| {
                        i.as_str().map(String::from).ok_or_else(|| {
                            Invalid::new(
                                "team",
                                format!("expected team ids, found {}", type_name(i)),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()
            })?
        }
        Some(v) => {
            return Err(Invalid::new(
                "team",
                format!("expected a team id or a list of ids, got {}", type_name(v)),
            ))
        }
    };
    if ids.is_empty() || ids.iter().any(|i| is_all(i)) {
        return Ok(TeamSelector::All);
    }
    Ok(TeamSelector::Only(ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn team_takes_one_id_a_list_or_all() {
        let sel = |v: Value| team_selector(v.as_object().expect("object"));
        assert_eq!(sel(json!({})), Ok(TeamSelector::All));
        assert_eq!(sel(json!({"team": "*"})), Ok(TeamSelector::All));
        assert_eq!(sel(json!({"team": "$__all"})), Ok(TeamSelector::All));
        assert_eq!(
            sel(json!({"team": "p"})),
            Ok(TeamSelector::Only(vec!["p".into()]))
        );
        assert_eq!(
            sel(json!({"team": ["p", "q"]})),
            Ok(TeamSelector::Only(vec!["p".into(), "q".into()]))
        );
        assert_eq!(
            sel(json!({"team": "{p,q}"})),
            Ok(TeamSelector::Only(vec!["p".into(), "q".into()]))
        );
        assert!(sel(json!({"team": 5})).is_err());
    }

    const NAME: Field = Field::new("name", Kind::Text, "Name", "A name.");
    const OLD: Field = Field::new("name", Kind::Text, "Name", "A name.").with_aliases(&["nom"]);
    const FLAG: Field = Field::new("flag", Kind::Bool { default: true }, "Flag", "A flag.");
    const COUNT: Field = Field::new(
        "count",
        Kind::Integer {
            minimum: 1,
            maximum: 9,
            default: 3,
        },
        "Count",
        "A count.",
    );
    const STATUS: Field = Field::new(
        "status",
        Kind::one_of::<FollowUpStatus>(None),
        "Status",
        "A status.",
    );
    const NEEDED: Field = Field::new("needed", Kind::Text, "Needed", "Needed.").required();

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn a_field_is_read_only_through_a_declared_descriptor_of_its_kind() {
        static DECLARED: [Field; 1] = [NAME];
        let o = obj(json!({"name": "x", "flag": false}));
        let f = Fields::new(&o, &DECLARED);
        assert_eq!(f.unread(), vec!["name"]);
        assert_eq!(f.text(&NAME), Ok(Some("x".into())));
        assert!(f.unread().is_empty());
        assert!(f
            .boolean(&FLAG)
            .expect_err("undeclared")
            .message
            .contains("bug"));
        assert!(f
            .boolean(&NAME)
            .expect_err("wrong kind")
            .message
            .contains("bug"));
    }

    #[test]
    fn defaults_bounds_aliases_and_required_come_from_the_descriptor() {
        static DECLARED: [Field; 5] = [OLD, FLAG, COUNT, STATUS, NEEDED];
        let empty = Map::new();
        let f = Fields::new(&empty, &DECLARED);
        assert_eq!(f.text(&OLD), Ok(None));
        assert_eq!(f.boolean(&FLAG), Ok(true));
        assert_eq!(f.integer(&COUNT), Ok(3));
        assert_eq!(f.one_of::<FollowUpStatus>(&STATUS), Ok(None));
        assert_eq!(f.text(&NEEDED).expect_err("required").field, "needed");

        let o = obj(json!({"nom": "y", "count": "10", "status": "late"}));
        let f = Fields::new(&o, &DECLARED);
        assert_eq!(f.text(&OLD), Ok(Some("y".into())));
        assert_eq!(
            f.integer(&COUNT).expect_err("bound").message,
            "must be from 1 to 9, got 10"
        );
        assert_eq!(
            f.one_of::<FollowUpStatus>(&STATUS)
                .expect_err("unknown")
                .message,
            "unknown status \"late\"; one of open, overdue, done"
        );
        // Every spelling present is type-checked; the name wins over an alias.
        let o = obj(json!({"name": "a", "nom": 5}));
        assert_eq!(
            Fields::new(&o, &DECLARED)
                .text(&OLD)
                .expect_err("alias")
                .field,
            "nom"
        );
        let o = obj(json!({"name": "a", "nom": "b"}));
        assert_eq!(Fields::new(&o, &DECLARED).text(&OLD), Ok(Some("a".into())));
    }
}
