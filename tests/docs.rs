//! The product docs (`docs/`) agree with the code they describe: every query type of the
//! schema has its section and a JSON example that uses only its fields; every threshold is
//! documented with the default the code has; every criterion, `jsonData` key, resource
//! route and repository scenario is named; and nothing sends a reader outside the
//! repository for the product's contract.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc(name: &str) -> String {
    let path = root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The ```json blocks of a Markdown text.
fn json_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```json") => current = Some(String::new()),
            Some(block) if line.trim_start().starts_with("```") => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Keys Grafana adds to every query, which the backend ignores.
const GRAFANA_KEYS: [&str; 5] = ["refId", "datasource", "hide", "intervalMs", "maxDataPoints"];

#[test]
fn every_query_type_has_a_section_and_examples_that_use_only_its_fields() {
    let schema = maturity::query_schema();
    let md = doc("queries.md");
    let mut types = BTreeSet::new();
    for (name, def) in schema["definitions"].as_object().expect("definitions") {
        let Some(qt) = def["properties"]["queryType"]["const"].as_str() else {
            continue;
        };
        types.insert(qt.to_string());
        assert!(
            md.contains(&format!("### `{qt}`")),
            "docs/queries.md has no section for {qt} ({name})"
        );
        for field in def["properties"].as_object().expect("properties").keys() {
            assert!(
                md.contains(&format!("`{field}`")),
                "docs/queries.md does not name {qt}'s field {field}"
            );
        }
    }
    let mut examples = BTreeSet::new();
    let mut check = |q: &Value| {
        let qt = q["queryType"]
            .as_str()
            .expect("an example names its queryType");
        let def = schema["definitions"]
            .as_object()
            .and_then(|d| {
                d.values()
                    .find(|d| d["properties"]["queryType"]["const"] == qt)
            })
            .unwrap_or_else(|| panic!("docs/queries.md: unknown queryType {qt}"));
        for key in q.as_object().expect("object").keys() {
            assert!(
                def["properties"].get(key).is_some() || GRAFANA_KEYS.contains(&key.as_str()),
                "docs/queries.md: {qt} has no field {key}"
            );
        }
        examples.insert(qt.to_string());
    };
    for block in json_blocks(&md) {
        let v: Value = serde_json::from_str(&block).unwrap_or_else(|e| {
            panic!("docs/queries.md: a JSON example does not parse: {e}\n{block}")
        });
        match v.get("queries") {
            Some(Value::Array(qs)) => qs.iter().for_each(&mut check),
            _ => check(&v),
        }
    }
    assert_eq!(examples, types, "an example for every query type");
}

#[test]
fn every_threshold_is_documented_with_the_codes_default() {
    let defaults = serde_json::to_value(maturity::engine::MaturitySettings::default())
        .expect("settings serialise");
    let defaults = defaults.as_object().expect("object");
    assert!(defaults.len() >= 15, "{defaults:?}");
    for file in ["ladder.md", "settings.md"] {
        let md = doc(file);
        for (key, default) in defaults {
            let shown = match default.as_f64() {
                Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
                _ => default.to_string(),
            };
            let row = md
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&format!("`{key}` | {shown} |")));
            assert!(
                row.is_some(),
                "docs/{file}: no table row for `{key}` with its default {shown}"
            );
        }
    }
}

#[test]
fn the_ladder_names_every_criterion_in_order() {
    let md = doc("ladder.md");
    let mut last = 0;
    for (i, id) in maturity::engine::CRITERIA.iter().enumerate() {
        let heading = format!("### Level {} — `{id}`", i + 1);
        let at = md
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/ladder.md has no heading {heading:?}"));
        assert!(at > last, "{id} is out of order");
        last = at;
    }
}

#[test]
fn every_json_data_key_is_documented_and_read_by_the_parser() {
    let md = doc("settings.md");
    for key in [
        "databasePath",
        "storage",
        "viewersCanAnnotate",
        "viewSessionMinutes",
        "actualsIntervalMinutes",
        "grafanaUrl",
        "maturity",
    ] {
        assert!(
            md.contains(&format!("| `{key}` |")),
            "docs/settings.md: {key}"
        );
        // The parser reads the key: a value of a wrong type is an error naming it.
        let bad = serde_json::json!({ key: [1] });
        let err = maturity::settings::JsonData::parse(&bad).expect_err(key);
        assert!(err.field.starts_with(key), "{key}: {err}");
    }
    for key in ["postgresUrl", "serviceAccountToken"] {
        assert!(
            md.contains(&format!("| `{key}` |")),
            "docs/settings.md: {key}"
        );
        let mut secure = serde_json::Map::new();
        secure.insert(key.into(), Value::from(1));
        let storage = if key == "postgresUrl" {
            "postgres"
        } else {
            "sqlite"
        };
        let err = maturity::settings::parse(
            &serde_json::json!({"storage": storage, "databasePath": "/x.db"}),
            &secure,
            &maturity::settings::PathEnv::default(),
        )
        .expect_err(key);
        assert_eq!(err.field, key);
    }
}

#[test]
fn every_resource_route_is_documented() {
    let md = doc("resources.md");
    for route in maturity::plugin::resource::ROUTES {
        assert!(
            md.contains(&format!("`{route}")),
            "docs/resources.md: {route}"
        );
    }
}

#[test]
fn the_scenario_docs_list_every_repository_scenario_and_their_example_parses() {
    let md = doc("scenarios.md");
    let dir = root().join("tests/scenarios");
    for entry in std::fs::read_dir(&dir).expect("tests/scenarios") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") {
            assert!(
                md.contains(&format!("`{name}`")),
                "docs/scenarios.md: {name}"
            );
        }
    }
    let blocks = json_blocks(&md);
    let example: Value = serde_json::from_str(&blocks[0]).expect("the example parses");
    for key in [
        "name", "at", "settings", "teams", "events", "targets", "expect",
    ] {
        assert!(example.get(key).is_some(), "the example has {key}");
    }
}

#[test]
fn the_docs_stand_alone() {
    let dir = root().join("docs");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("docs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files += 1;
            let text = std::fs::read_to_string(&path).expect("doc");
            for outside in ["SPEC.md", "ARCHITECTURE.md", "../shared/SPEC", "seeds/"] {
                assert!(
                    !text.contains(outside),
                    "{} sends readers to {outside}",
                    path.display()
                );
            }
            // Links to other docs resolve.
            for (i, _) in text.match_indices("](") {
                let target = &text[i + 2..];
                let target = &target[..target.find(')').unwrap_or(0)];
                let file = target.split('#').next().unwrap_or_default();
                if file.ends_with(".md") && !file.contains("://") {
                    assert!(
                        Path::new(&dir).join(file).exists(),
                        "{}: broken link {target}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(files >= 5, "docs/ holds the five product docs");
}
