//! The engine is pure (ARCHITECTURE.md): the non-test code under `src/engine` names no
//! I/O, async, SQL or SDK crate and never reads the clock.
//!
//! Test code may do anything, so each file is cut at its first `#[cfg(test)]`, and files
//! that a `#[cfg(test)]` module declaration pulls in (`mod property_tests;`,
//! `#[path = "ladder_tests.rs"] mod tests;`) are skipped whole.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Crates the engine must not name.
const CRATES: [&str; 9] = [
    "tokio",
    "reqwest",
    "rusqlite",
    "postgres",
    "tokio_postgres",
    "sqlx",
    "hyper",
    "tonic",
    "grafana_plugin_sdk",
];

/// Paths and calls the engine must not use: file system, network, environment,
/// processes, and every way of reading the clock.
const PATHS: [&str; 12] = [
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "SystemTime",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "now_utc",
    "now_local",
    "chrono::Utc",
    "tracing::",
];

fn engine_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine")
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
    if src.trim_start().starts_with("#![cfg(test)]") {
        return "";
    }
    match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `code` as a whole identifier.
fn names_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// What a piece of non-test code names that it must not.
fn violations(code: &str) -> Vec<String> {
    let code = strip_comments(code);
    let mut found: Vec<String> = CRATES
        .iter()
        .filter(|c| names_word(&code, c))
        .map(|c| format!("names crate `{c}`"))
        .collect();
    found.extend(
        PATHS
            .iter()
            .filter(|p| code.contains(*p))
            .map(|p| format!("uses `{p}`")),
    );
    found
}

/// File names that `#[cfg(test)]` module declarations pull in.
fn test_only_files(sources: &[(String, String)]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (_, src) in sources {
        let lines: Vec<&str> = src.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if *line != "#[cfg(test)]" {
                continue;
            }
            let mut path_attr = None;
            for next in lines.iter().skip(i + 1).take(3) {
                if let Some(p) = next
                    .strip_prefix("#[path = \"")
                    .and_then(|p| p.strip_suffix("\"]"))
                {
                    path_attr = Some(p.to_string());
                    continue;
                }
                let decl = next
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ");
                if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
                    names.insert(path_attr.take().unwrap_or_else(|| format!("{name}.rs")));
                }
                break;
            }
        }
    }
    names
}

fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(engine_dir()).expect("src/engine is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let src = std::fs::read_to_string(&path).expect("an engine source file");
            out.push((name, src));
        }
    }
    out.sort();
    out
}

#[test]
fn the_engine_names_no_io_async_sql_or_sdk_crate_and_reads_no_clock() {
    let sources = sources();
    assert!(
        sources.iter().any(|(n, _)| n == "ladder.rs"),
        "expected the engine's sources in {}",
        engine_dir().display()
    );
    let test_only = test_only_files(&sources);
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, src) in &sources {
        if test_only.contains(name) {
            continue;
        }
        checked += 1;
        for v in violations(non_test_part(src)) {
            problems.push(format!("src/engine/{name}: {v}"));
        }
    }
    assert!(checked >= 3, "only {checked} files checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn test_only_files_are_only_pulled_in_by_test_modules() {
    let sources = sources();
    let test_only = test_only_files(&sources);
    // Every file named like a test helper must be declared under #[cfg(test)].
    for (name, _) in &sources {
        if name.ends_with("_tests.rs") || name == "test_support.rs" {
            assert!(
                test_only.contains(name),
                "{name} looks test-only but is not declared under #[cfg(test)]"
            );
        }
    }
}

#[test]
fn the_checker_itself_finds_what_it_looks_for() {
    assert!(!violations("use tokio::sync::Mutex;").is_empty());
    assert!(!violations("let t = std::time::SystemTime::now();").is_empty());
    assert!(!violations("let f = std::fs::read(\"x\");").is_empty());
    assert!(!violations("grafana_plugin_sdk::backend::x()").is_empty());
    assert!(!violations("let i = Instant::now();").is_empty());
    assert!(violations("// tokio is not used here\nlet tokio_free = 1;").is_empty());
    assert!(violations("/* std::fs */ let x = 1;").is_empty());
    assert_eq!(
        non_test_part("fn a() {}\n#[cfg(test)]\nmod tests { use std::fs; }"),
        "fn a() {}\n"
    );
    let decl = vec![(
        "mod.rs".to_string(),
        "#[cfg(test)]\nmod property_tests;\n#[cfg(test)]\n#[path = \"x_tests.rs\"]\nmod tests;\n"
            .to_string(),
    )];
    let names = test_only_files(&decl);
    assert!(names.contains("property_tests.rs") && names.contains("x_tests.rs"));
}
