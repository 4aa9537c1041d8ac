//! The JSON Schema of every query (`maturity::query_schema()`) is what the frontend's query
//! types are generated from: the committed `frontend/src/datasource/query.schema.json` must
//! equal it, and every query the schema describes must decode. Rewriting the file is
//! opt-in: `UPDATE_SCHEMA=1 cargo test --test query_schema`.

use std::path::PathBuf;

use maturity::plugin::queries::{self, QUERY_TYPES};
use serde_json::{json, Map, Value};

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("frontend/src/datasource/query.schema.json")
}

#[test]
fn the_committed_schema_file_is_the_query_schema() {
    let path = schema_path();
    let got = maturity::query_schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("create folder");
        std::fs::write(&path, &got).expect("write schema");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no schema at {}; run UPDATE_SCHEMA=1 cargo test --test query_schema once and review it",
            path.display()
        )
    });
    assert_eq!(
        serde_json::from_str::<Value>(&want).ok(),
        Some(maturity::query_schema()),
        "{} is not the JSON of maturity::query_schema()",
        path.display()
    );
    assert!(
        got == want,
        "{} differs from maturity::query_schema(); regenerate it with \
         UPDATE_SCHEMA=1 cargo test --test query_schema (or `maturity query-schema > {}`) \
         and review the diff",
        path.display(),
        path.display()
    );
}

/// Every query-type definition of the schema, by its `queryType`.
fn definitions() -> Vec<(String, Value)> {
    let schema = maturity::query_schema();
    schema["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .map(|r| {
            let name = r["$ref"]
                .as_str()
                .and_then(|s| s.strip_prefix("#/definitions/"))
                .expect("a local $ref");
            let def = schema["definitions"][name].clone();
            let qt = def["properties"]["queryType"]["const"]
                .as_str()
                .expect("queryType const")
                .to_string();
            (qt, def)
        })
        .collect()
}

/// The definition's properties besides `queryType`.
fn properties(def: &Value) -> Vec<(String, Value)> {
    def["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .filter(|(k, _)| k.as_str() != "queryType")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn query(qt: &str, fields: &[(&str, Value)]) -> Value {
    let mut o = Map::new();
    o.insert("queryType".into(), json!(qt));
    for (k, v) in fields {
        o.insert(k.to_string(), v.clone());
    }
    Value::Object(o)
}

fn decoded(q: &Value) -> String {
    match queries::decode("", q) {
        Ok(d) => format!("{d:?}"),
        Err(e) => panic!("{q} should decode: {e}"),
    }
}

fn rejected_field(q: &Value) -> String {
    match queries::decode("", q) {
        Ok(d) => panic!("{q} should not decode, got {d:?}"),
        Err(e) => e.field,
    }
}

/// Valid values of a property as the schema describes it.
fn examples(p: &Value) -> Vec<Value> {
    if p["$ref"] == "#/definitions/TeamSelector" {
        return vec![
            json!("payments"),
            json!(["payments", "search"]),
            json!("*"),
            json!("$__all"),
        ];
    }
    let mut out = Vec::new();
    if let Some(d) = p.get("default") {
        out.push(d.clone());
    }
    match p["type"].as_str().expect("a type") {
        "string" => match p["enum"].as_array() {
            Some(values) => out.extend(values.iter().cloned()),
            None => out.push(json!("x-1")),
        },
        "boolean" => out.extend([json!(true), json!(false)]),
        "integer" => out.extend([p["minimum"].clone(), p["maximum"].clone()]),
        "array" => match p["items"]["enum"].as_array() {
            Some(values) => {
                out.extend(values.iter().map(|v| json!([v])));
                out.push(json!(values));
            }
            None => out.push(json!(["a", "b"])),
        },
        other => panic!("a property of type {other} is not covered"),
    }
    out
}

#[test]
fn the_schema_names_every_registered_query_type_in_order() {
    let names: Vec<String> = definitions().into_iter().map(|(qt, _)| qt).collect();
    let registry: Vec<&str> = QUERY_TYPES.iter().map(|d| d.query_type).collect();
    assert_eq!(names, registry);
    for (qt, def) in definitions() {
        assert_eq!(def["type"], "object", "{qt}");
        assert_eq!(def["required"][0], "queryType", "{qt}");
        assert!(def["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(def["x-frame"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(def.get("additionalProperties").is_none(), "{qt}");
    }
}

#[test]
fn every_query_built_from_the_schema_decodes() {
    for (qt, def) in definitions() {
        let minimal = decoded(&query(&qt, &[]));
        // The schema's defaults are the decoder's.
        let defaults: Vec<(String, Value)> = properties(&def)
            .into_iter()
            .filter_map(|(k, p)| p.get("default").map(|d| (k, d.clone())))
            .collect();
        let defaults: Vec<(&str, Value)> = defaults
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        assert_eq!(
            decoded(&query(&qt, &defaults)),
            minimal,
            "{qt}: defaults {defaults:?}"
        );
        // Each value of each property, alone.
        for (k, p) in properties(&def) {
            for v in examples(&p) {
                decoded(&query(&qt, &[(&k, v)]));
            }
        }
        // Every property at once.
        let all: Vec<(String, Value)> = properties(&def)
            .into_iter()
            .map(|(k, p)| (k, examples(&p).remove(0)))
            .collect();
        let all: Vec<(&str, Value)> = all.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        decoded(&query(&qt, &all));
    }
}

#[test]
fn every_property_of_the_schema_is_read_and_checked_by_the_decoder() {
    for (qt, def) in definitions() {
        for (k, p) in properties(&def) {
            // A value of no type the schema allows is refused, naming that property.
            assert_eq!(
                rejected_field(&query(&qt, &[(&k, json!({"not": "valid"}))])),
                k,
                "{qt}.{k}"
            );
            if let Some(values) = p["enum"].as_array().or(p["items"]["enum"].as_array()) {
                assert!(!values.is_empty());
                let bad = if p["type"] == "array" {
                    json!(["no-such-value"])
                } else {
                    json!("no-such-value")
                };
                assert_eq!(rejected_field(&query(&qt, &[(&k, bad)])), k, "{qt}.{k}");
            }
            if p["type"] == "integer" {
                let below = p["minimum"].as_i64().expect("minimum") - 1;
                let above = p["maximum"].as_i64().expect("maximum") + 1;
                assert_eq!(rejected_field(&query(&qt, &[(&k, json!(below))])), k);
                assert_eq!(rejected_field(&query(&qt, &[(&k, json!(above))])), k);
            }
        }
    }
}

#[test]
fn keys_the_schema_does_not_name_are_ignored_by_every_query_type() {
    let extra = [
        ("refId", json!("A")),
        (
            "datasource",
            json!({"type": "datadriven-maturity", "uid": "ds"}),
        ),
        ("hide", json!(false)),
        ("intervalMs", json!(60_000)),
        ("maxDataPoints", json!(1_000)),
        ("somethingElse", json!([1, 2])),
    ];
    for (qt, _) in definitions() {
        assert_eq!(
            decoded(&query(&qt, &extra)),
            decoded(&query(&qt, &[])),
            "{qt}"
        );
    }
}

#[test]
fn enum_values_come_from_the_model() {
    let defs: Map<String, Value> = definitions().into_iter().collect();
    let kinds: Vec<&str> = maturity::model::EventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        defs["events"]["properties"]["kinds"]["items"]["enum"],
        json!(kinds)
    );
    let statuses: Vec<&str> = maturity::engine::targets::TargetStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        defs["targets"]["properties"]["status"]["enum"],
        json!(statuses)
    );
    let follow: Vec<&str> = maturity::engine::targets::FollowUpStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        defs["followUps"]["properties"]["status"]["enum"],
        json!(follow)
    );
    assert_eq!(
        defs["reviewLapse"]["properties"]["measure"]["enum"],
        json!(["hoursSinceReview", "hoursOverdue"])
    );
}
