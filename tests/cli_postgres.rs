//! The command-line tool on PostgreSQL (issue 14): every command with `--db postgres://…`,
//! `maturity copy` between stores in both directions, and the errors an admin can make.
//! The SQLite-to-SQLite copy runs everywhere; the PostgreSQL half needs the server of
//! `scripts/with-postgres` (see tests/common/postgres.rs).

#[path = "common/postgres.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// 2026-06-01T00:00:00Z, the demo's "now" and the report's instant.
const AT_TEXT: &str = "2026-06-01T00:00:00Z";

fn cli_bin() -> PathBuf {
    std::env::var_os("MATURITY_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_maturity")))
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(cli_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("GF_PLUGIN_DATABASE_PATH")
        .env_remove("GF_PATHS_DATA")
        .env_remove("GF_PATHS_PLUGINS")
        .env_remove("MATURITY_POSTGRES_URL")
        .output()
        .expect("run the tool");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    out.stdout
}

fn report(dir: &Path, db: &str) -> Value {
    serde_json::from_str(&ok(dir, &["--db", db, "report", "--json", "--at", AT_TEXT]))
        .expect("report JSON")
}

fn export(dir: &Path, db: &str) -> String {
    ok(dir, &["--db", db, "export"])
}

/// The demo written into `a.db`, copied to `dest` and back to `b.db`: the same export and
/// the same report at every step, and a second copy skips every line.
fn copy_round_trip(dir: &Path, dest: &str) {
    let a = dir.join("a.db").to_string_lossy().into_owned();
    let b = dir.join("b.db").to_string_lossy().into_owned();
    ok(dir, &["--db", &a, "demo", "--now", AT_TEXT]);
    let exported = export(dir, &a);
    let lines = exported.lines().count();
    assert!(lines > 100, "the demo has {lines} lines");

    let first = ok(dir, &["copy", "--from", &a, "--to", dest]);
    assert!(
        first.contains(&format!("{lines} lines read, {lines} created, 0 skipped")),
        "{first}"
    );
    assert_eq!(
        export(dir, dest),
        exported,
        "the copy exports what the source does"
    );
    assert_eq!(report(dir, dest), report(dir, &a));

    let again = ok(dir, &["copy", "--from", &a, "--to", dest]);
    assert!(
        again.contains(&format!("0 created, {lines} skipped")),
        "{again}"
    );

    ok(dir, &["copy", "--from", dest, "--to", &b]);
    assert_eq!(export(dir, &b), exported, "and back again");
}

#[test]
fn copy_moves_an_org_between_sqlite_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("copy.db").to_string_lossy().into_owned();
    copy_round_trip(dir.path(), &dest);
}

#[test]
fn copy_moves_an_org_from_sqlite_to_postgres_and_back() {
    let Some(url) = pg::fresh_database("cli_copy") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    copy_round_trip(dir.path(), &url);
}

#[test]
fn every_command_works_with_a_postgres_url() {
    let Some(url) = pg::fresh_database("cli_commands") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = ok(dir.path(), &["--db", &url, "migrate"]);
    assert!(migrated.contains("schema version"), "{migrated}");
    let demo = ok(dir.path(), &["--db", &url, "demo", "--now", AT_TEXT]);
    assert!(demo.contains("Wrote the demo data"), "{demo}");
    let table = ok(dir.path(), &["--db", &url, "report", "--at", AT_TEXT]);
    assert!(table.contains("search"), "{table}");
    let exported = export(dir.path(), &url);
    // Another org of the same database: import what org 1 exported, report the same levels.
    let file = dir.path().join("org1.ndjson");
    std::fs::write(&file, &exported).expect("write");
    let imported = ok(
        dir.path(),
        &[
            "--db",
            &url,
            "--org",
            "2",
            "import",
            &file.to_string_lossy(),
        ],
    );
    assert!(imported.contains("0 rejected"), "{imported}");
    let levels = |org: &str| -> Value {
        serde_json::from_str(&ok(
            dir.path(),
            &[
                "--db", &url, "--org", org, "report", "--json", "--at", AT_TEXT,
            ],
        ))
        .expect("json")
    };
    assert_eq!(levels("2"), levels("1"));
    let place = ok(dir.path(), &["--db", &url, "where"]);
    assert!(place.contains("PostgreSQL"), "{place}");
}

#[test]
fn a_password_in_the_url_is_never_printed() {
    let Some(url) = pg::fresh_database("cli_password") else {
        return;
    };
    // The test server trusts local connections, so any password is accepted and stays secret.
    let with_password = url.replacen("postgres@", "postgres:hunter2secret@", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["--db", with_password.as_str(), "where"],
        vec!["--db", with_password.as_str(), "migrate"],
        vec!["--db", with_password.as_str(), "demo", "--now", AT_TEXT],
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            !out.stdout.contains("hunter2secret") && !out.stderr.contains("hunter2secret"),
            "{args:?} printed the password: {}{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn admin_errors_are_one_line_and_keep_the_password_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on port 1.
    let out = run(
        dir.path(),
        &[
            "--db",
            "postgres://app:hunter2secret@127.0.0.1:1/maturity",
            "report",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);

    let a = dir.path().join("a.db").to_string_lossy().into_owned();
    let out = run(dir.path(), &["copy", "--from", &a, "--to", &a]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("same store"), "{}", out.stderr);
    let out = run(dir.path(), &["copy", "--from", &a, "--to", "b.db"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no store at"), "{}", out.stderr);
}
