//! The command-line tool never imports the plugin edge (ARCHITECTURE.md): the non-test code
//! under `src/cli`, and the settings module it shares with the plugin (`src/settings.rs`),
//! name neither `crate::plugin` (however it is spelled: `super::super::plugin`, a grouped
//! `use crate::{…, plugin}`), nor what the crate root re-exports from it (such as
//! `crate::query_schema_text`), nor the gRPC crates the plugin edge is built on. The
//! `maturity` binary (`src/bin/maturity.rs`) is the composition root that may wire both.
//!
//! Test code may do anything, so each file is cut at its first `#[cfg(test)]`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Crates of the plugin's gRPC edge.
const CRATES: [&str; 4] = ["grafana_plugin_sdk", "tonic", "tonic_health", "prost"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The code without `//` and `/* */` comments (the docs may name what the code must not).
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
    }
    out
}

/// The part of a file that is compiled outside tests.
fn non_test_part(src: &str) -> &str {
    match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Byte offsets where `word` occurs in `code` as a whole identifier.
fn word_at(code: &str, word: &str) -> Vec<usize> {
    code.match_indices(word)
        .filter(|(i, _)| {
            let before = code[..*i].chars().next_back();
            let after = code[i + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| i)
        .collect()
}

/// What the crate root re-exports from `plugin` (`pub use plugin::queries::{a, b};`).
fn reexported_from_plugin(lib_rs: &str) -> BTreeSet<String> {
    let code = strip_comments(lib_rs);
    let mut names = BTreeSet::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let Some(path) = stmt
            .strip_prefix("pub use plugin::")
            .or_else(|| stmt.strip_prefix("pub use crate::plugin::"))
            .or_else(|| stmt.strip_prefix("pub use self::plugin::"))
        else {
            continue;
        };
        let tail = match path.find('{') {
            Some(i) => path[i + 1..].trim_end_matches('}').to_string(),
            None => path.rsplit("::").next().unwrap_or_default().to_string(),
        };
        for item in tail.split(',') {
            // `a as b` exports `b`.
            if let Some(name) = item.split_whitespace().last() {
                if !name.is_empty() && name != "*" {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

/// What a piece of non-test code names that it must not.
fn violations(code: &str, reexports: &BTreeSet<String>) -> Vec<String> {
    let code = strip_comments(code);
    let mut found = Vec::new();
    for i in word_at(&code, "plugin") {
        let before = code[..i].trim_end();
        let after = code[i + "plugin".len()..].trim_start();
        let in_group = before.ends_with('{') || before.ends_with(',');
        let group_of_path = in_group
            && before
                .rfind('{')
                .is_some_and(|b| code[..b].trim_end().ends_with("::"));
        if before.ends_with("::") || after.starts_with("::") || group_of_path {
            let line = code[..i].matches('\n').count() + 1;
            found.push(format!("names the plugin module (line {line})"));
        }
    }
    for name in reexports {
        for prefix in ["crate::", "maturity::"] {
            if code.contains(&format!("{prefix}{name}"))
                && word_at(&code, name)
                    .iter()
                    .any(|&i| code[..i].ends_with(prefix))
            {
                found.push(format!(
                    "uses `{prefix}{name}`, which the crate root re-exports from the plugin"
                ));
            }
        }
    }
    for c in CRATES {
        if !word_at(&code, c).is_empty() {
            found.push(format!("names crate `{c}`"));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_cli_and_the_shared_settings_never_import_the_plugin_edge() {
    let root = root();
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs");
    let reexports = reexported_from_plugin(&lib);
    let mut files = Vec::new();
    rust_files(&root.join("src/cli"), &mut files);
    files.push(root.join("src/settings.rs"));
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("src/cli/mod.rs")),
        "expected the tool's sources in src/cli: {files:?}"
    );
    let mut problems = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("a source file");
        for v in violations(non_test_part(&src), &reexports) {
            problems.push(format!(
                "{}: {v}",
                f.strip_prefix(&root).unwrap_or(f).display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_itself_finds_what_it_looks_for() {
    let reexports = reexported_from_plugin(
        "//! doc\npub mod plugin;\npub use plugin::queries::{query_schema, query_schema_text};\npub use plugin::x::Thing as Other;\n",
    );
    assert_eq!(
        reexports.iter().map(String::as_str).collect::<Vec<_>>(),
        ["Other", "query_schema", "query_schema_text"]
    );
    let bad = |code: &str| !violations(code, &reexports).is_empty();
    assert!(bad("use crate::plugin::settings::PathEnv;"));
    assert!(bad("use super::super::plugin::settings;"));
    assert!(bad("use crate::{app::App, plugin::settings};"));
    assert!(bad("use crate::{app, plugin};"));
    assert!(bad("use crate::{\n    app,\n    plugin as edge,\n};"));
    assert!(bad("let s = crate::query_schema_text();"));
    assert!(bad("let s = maturity::query_schema();"));
    assert!(bad("use grafana_plugin_sdk::backend;"));
    // Words and comments are not imports.
    assert!(!bad(
        "// crate::plugin is not imported\nlet text = \"the plugin's store\";"
    ));
    assert!(!bad("let plugin_id = PLUGIN_ID; let s = query_schema();"));
    assert!(!bad("use crate::settings::{locate_for_tool, PLUGIN_ID};"));
}
