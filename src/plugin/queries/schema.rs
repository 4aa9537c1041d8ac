//! The JSON Schema (draft-07) of every query, written from the registry and its field
//! descriptors: the frontend generates its query types from it and its editor renders each
//! type's fields in the schema's order (`frontend/src/datasource/query.schema.json`, printed
//! by `maturity query-schema`). Keys are written in a fixed order, fields in the order their
//! query type declares them.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use super::fields::{Field, Kind, TEAM};
use super::{QueryDef, QUERY_TYPES};

/// The name of the shared definition of `team`.
pub const TEAM_SELECTOR: &str = "TeamSelector";

/// The JSON Schema of a query of this datasource: one definition per query type.
pub fn query_schema() -> Value {
    serde_json::to_value(document()).unwrap_or_default()
}

/// [`query_schema`] as the committed file holds it: pretty, keys in the schema's order, one
/// final newline.
pub fn query_schema_text() -> String {
    serde_json::to_string_pretty(&document()).unwrap_or_default() + "\n"
}

/// A JSON object whose keys keep the order they were given in.
struct Ordered<T>(Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Document {
    #[serde(rename = "$schema")]
    schema: &'static str,
    title: &'static str,
    description: &'static str,
    #[serde(rename = "oneOf")]
    one_of: Vec<Property>,
    definitions: Ordered<Definition>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Definition {
    Query(QueryDefinition),
    Shared(Property),
}

#[derive(Serialize)]
struct QueryDefinition {
    #[serde(rename = "type")]
    ty: &'static str,
    title: String,
    description: &'static str,
    #[serde(rename = "x-alertable", skip_serializing_if = "is_false")]
    alertable: bool,
    #[serde(rename = "x-frame")]
    frame: &'static str,
    properties: Ordered<Property>,
    required: Vec<&'static str>,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// One schema of a value, with the keywords this schema uses, in this order.
#[derive(Serialize, Default)]
struct Property {
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(rename = "const", skip_serializing_if = "Option::is_none")]
    constant: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    values: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Box<Property>>,
    #[serde(rename = "anyOf", skip_serializing_if = "Option::is_none")]
    any_of: Option<Vec<Property>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<Value>,
}

fn typed(ty: &'static str) -> Property {
    Property {
        ty: Some(ty),
        ..Property::default()
    }
}

fn array_of(items: Property) -> Property {
    Property {
        items: Some(Box::new(items)),
        ..typed("array")
    }
}

fn reference(definition: &str) -> Property {
    Property {
        reference: Some(format!("#/definitions/{definition}")),
        ..Property::default()
    }
}

fn document() -> Document {
    let mut definitions = vec![(
        TEAM_SELECTOR.to_string(),
        Definition::Shared(Property {
            title: Some(TEAM_SELECTOR),
            description: Some(TEAM.description),
            any_of: Some(vec![typed("string"), array_of(typed("string"))]),
            ..Property::default()
        }),
    )];
    definitions.extend(
        QUERY_TYPES
            .iter()
            .map(|def| (def.definition_name(), Definition::Query(definition(def)))),
    );
    Document {
        schema: "http://json-schema.org/draft-07/schema#",
        title: "MaturityQuery",
        description: "A query of the Data-Driven Maturity datasource (SPEC §4): queryType names its type, the other fields are that type's own. Grafana adds refId, datasource, hide and the like; the backend ignores keys it does not know. Written by `maturity query-schema`: do not edit.",
        one_of: QUERY_TYPES
            .iter()
            .map(|d| reference(&d.definition_name()))
            .collect(),
        definitions: Ordered(definitions),
    }
}

fn definition(def: &QueryDef) -> QueryDefinition {
    let mut properties = vec![(
        "queryType".to_string(),
        Property {
            constant: Some(def.query_type),
            ..typed("string")
        },
    )];
    properties.extend(def.fields.iter().map(|f| (f.name.to_string(), property(f))));
    let mut required = vec!["queryType"];
    required.extend(def.fields.iter().filter(|f| f.required).map(|f| f.name));
    QueryDefinition {
        ty: "object",
        title: def.definition_name(),
        description: def.description,
        alertable: def.alertable,
        frame: def.frame,
        properties: Ordered(properties),
        required,
    }
}

/// The schema of one field. Its aliases are older spellings the decoder still reads but no
/// editor should write, so they are left out.
fn property(f: &Field) -> Property {
    let p = match f.kind {
        // A bare reference, so the generated TypeScript shares the one `TeamSelector` type.
        Kind::Team => return reference(TEAM_SELECTOR),
        Kind::Text => typed("string"),
        Kind::Bool { default } => Property {
            default: Some(json!(default)),
            ..typed("boolean")
        },
        Kind::Integer {
            minimum,
            maximum,
            default,
        } => Property {
            minimum: Some(minimum),
            maximum: Some(maximum),
            default: Some(json!(default)),
            ..typed("integer")
        },
        Kind::Enum { values, default } => Property {
            values: Some(values()),
            default: default.map(|d| json!(d)),
            ..typed("string")
        },
        Kind::Strings => array_of(typed("string")),
        Kind::EnumList { values } => array_of(Property {
            values: Some(values()),
            ..typed("string")
        }),
    };
    Property {
        title: Some(f.title),
        description: Some(f.description),
        ..p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_and_the_value_are_one_schema_with_fields_in_declared_order() {
        let parsed: Value = serde_json::from_str(&query_schema_text()).expect("json");
        assert_eq!(parsed, query_schema());
        let text = query_schema_text();
        let events = text.find("\"EventsQuery\": {").expect("events");
        let at = |key: &str| events + text[events..].find(key).expect(key);
        assert!(at("\"queryType\"") < at("\"team\""));
        assert!(at("\"team\"") < at("\"kinds\""));
        assert!(at("\"kinds\"") < at("\"limit\""));
    }

    #[test]
    fn alertable_types_are_marked() {
        let schema = query_schema();
        let alertable: Vec<&str> = QUERY_TYPES
            .iter()
            .filter(|d| schema["definitions"][d.definition_name()]["x-alertable"] == true)
            .map(|d| d.query_type)
            .collect();
        assert_eq!(
            alertable,
            [
                "reviewLapse",
                "maturity",
                "followUpsOverdue",
                "verificationDue"
            ]
        );
    }
}
