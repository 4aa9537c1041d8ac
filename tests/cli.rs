//! The `maturity` command-line tool, run as a person would run it: migrate, export and
//! import, report (table and JSON), the demo, and the errors a user can make.
//!
//! The binary is cargo's build, or `MATURITY_CLI_BIN` when set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// 2026-06-01T00:00:00Z.
const AT: i64 = 1_780_272_000_000;
const AT_TEXT: &str = "2026-06-01T00:00:00Z";
const DAY: i64 = 86_400_000;

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

impl Out {
    fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// A user error: exit code 2 and one line on stderr saying what is wrong.
    fn user_error(self, mentions: &str) -> Out {
        assert_eq!(
            self.code, 2,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line: {}",
            self.stderr
        );
        assert!(
            self.stderr.contains(mentions),
            "{:?} should mention {mentions:?}",
            self.stderr
        );
        self
    }
}

/// The environment variables that choose a store (SPEC §2 and Grafana's paths).
const STORE_ENV: [&str; 4] = [
    "GF_PLUGIN_DATABASE_PATH",
    "GF_PATHS_DATA",
    "GF_PATHS_PLUGINS",
    "GF_PATHS_HOME",
];

/// Runs the tool in `dir` with none of the environment that chooses a store.
fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    run_as(&cli_bin(), dir, args, stdin, &[])
}

/// Runs the binary `exe` in `dir` with only `env` of the environment that chooses a store.
fn run_as(exe: &Path, dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("MATURITY_TEST_NOW_MS");
    for k in STORE_ENV {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("start maturity");
    if let Some(text) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for maturity");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn db(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Out {
        run_in(self.0.path(), args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Out {
        run_in(self.0.path(), args, Some(stdin))
    }
}

fn line(kind: &str, value: Value) -> String {
    json!({"type": kind, "value": value}).to_string()
}

/// A small org: `payments` with a question, a review, a view by its member, a decision
/// and its outcome, a metric change and a verified target; `search` with nothing.
/// At `AT`, payments passes levels 1–3 and criterion 6 (level 3, score 4).
fn small_ndjson() -> String {
    [
        line("team", json!({"id": "payments", "name": "Payments", "dashboards": ["slo-payments"],
                             "members": ["alice"], "cadenceDays": 7, "createdAt": AT - 100 * DAY})),
        line("team", json!({"id": "search", "name": "Search", "dashboards": ["search-quality"],
                             "members": [], "createdAt": AT - 100 * DAY})),
        line("target", json!({"id": "t1", "team": "payments", "name": "Checkout latency", "direction": "decrease",
                               "baseline": 10, "target": 8, "startAt": AT - 60 * DAY, "deadline": AT - 20 * DAY,
                               "actuals": [{"time": AT - 30 * DAY, "value": 9}],
                               "verification": {"verdict": "met", "learnings": "caching", "verifiedAt": AT - 10 * DAY,
                                                "verifiedBy": "alice"},
                               "createdAt": AT - 60 * DAY})),
        line("event", json!({"id": "q1", "kind": "question", "time": AT - 3 * DAY, "team": "payments", "user": "alice",
                              "text": "why the spike?"})),
        line("event", json!({"id": "r1", "kind": "review", "time": AT - 5 * DAY, "team": "payments", "user": "alice"})),
        line("event", json!({"id": "v1", "kind": "view", "time": AT - 12 * DAY, "dashboardUid": "slo-payments",
                              "user": "alice", "source": "passive"})),
        line("event", json!({"id": "d1", "kind": "decision", "time": AT - 5 * DAY, "team": "payments", "user": "alice",
                              "text": "add a cache"})),
        line("event", json!({"id": "o1", "kind": "outcome", "time": AT - DAY, "team": "payments", "user": "alice",
                              "data": {"decisionId": "d1", "result": "confirmed"}})),
        line("event", json!({"id": "mc1", "kind": "metric_change", "time": AT - 2 * DAY, "team": "payments",
                              "user": "alice", "data": {"change": "added"}})),
    ]
    .join("\n")
        + "\n"
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn levels(report: &Value) -> BTreeMap<String, (u64, u64)> {
    report
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["team"].as_str().expect("team").to_string(),
                (
                    e["level"].as_u64().expect("level"),
                    e["score"].as_u64().expect("score"),
                ),
            )
        })
        .collect()
}

// ---- migrate ----

#[test]
fn migrate_creates_a_new_store_then_finds_it_current() {
    let d = Dir::new();
    let db = d.db("new/maturity.db");
    let out = d.run(&["migrate", "--db", &db]).ok();
    assert!(
        out.stdout.contains("created a new store, schema version"),
        "{}",
        out.stdout
    );
    assert!(Path::new(&db).exists());
    let out = d.run(&["--db", &db, "migrate"]).ok();
    assert!(out.stdout.contains("already current"), "{}", out.stdout);
}

#[test]
fn migrate_upgrades_an_empty_file_from_version_0() {
    let d = Dir::new();
    let db = d.db("empty.db");
    std::fs::write(&db, b"").expect("empty file");
    let out = d.run(&["migrate", "--db", &db]).ok();
    assert!(out.stdout.contains("schema version 0 → "), "{}", out.stdout);
}

#[test]
fn migrate_refuses_another_applications_sqlite_file_and_leaves_it_untouched() {
    let d = Dir::new();
    let db = d.db("grafana.db");
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch("CREATE TABLE dashboard (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO dashboard (title) VALUES ('home');")
            .expect("foreign schema");
    }
    let before = std::fs::read(&db).expect("read");
    d.run(&["migrate", "--db", &db])
        .user_error("another application");
    d.run(&["report", "--db", &db])
        .user_error("another application");
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "the foreign file must not change"
    );
    let conn = rusqlite::Connection::open(&db).expect("reopen");
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .expect("count");
    assert_eq!(tables, 1);
}

#[test]
fn migrate_refuses_a_newer_schema_and_leaves_it_untouched() {
    let d = Dir::new();
    let db = d.db("future.db");
    d.run(&["migrate", "--db", &db]).ok();
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.pragma_update(None, "user_version", 999)
            .expect("bump version");
    }
    let before = std::fs::read(&db).expect("read");
    d.run(&["migrate", "--db", &db]).user_error("newer");
    assert_eq!(std::fs::read(&db).expect("read"), before);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused() {
    let d = Dir::new();
    let db = d.db("notes.txt");
    std::fs::write(&db, "these are my notes, not a database ".repeat(50)).expect("write");
    d.run(&["migrate", "--db", &db]).user_error("notes.txt");
}

// ---- export / import ----

#[test]
fn export_and_import_move_an_org_between_stores_and_a_second_import_skips_everything() {
    let d = Dir::new();
    let (a, b) = (d.db("a.db"), d.db("b.db"));
    let input = small_ndjson()
        + "this is not json\n"
        + &line("event", json!({"id": "x1", "kind": "vote"}))
        + "\n";
    let out = d.run_with_stdin(&["import", "-", "--db", &a], &input).ok();
    assert!(
        out.stdout.contains("9 created, 0 skipped, 2 rejected"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("line 10: ") && out.stdout.contains("not JSON"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("line 11: ") && out.stdout.contains("vote"),
        "{}",
        out.stdout
    );

    let file = d.path("a.ndjson");
    d.run(&["export", "--db", &a, "--out", &file.display().to_string()])
        .ok();
    let exported = std::fs::read_to_string(&file).expect("export file");
    assert_eq!(exported.lines().count(), 9);
    assert_eq!(
        d.run(&["export", "--db", &a]).ok().stdout,
        exported,
        "stdout and --out agree"
    );

    let out = d
        .run(&["import", &file.display().to_string(), "--db", &b])
        .ok();
    assert!(
        out.stdout.contains("9 created, 0 skipped, 0 rejected"),
        "{}",
        out.stdout
    );
    assert_eq!(
        d.run(&["export", "--db", &b]).ok().stdout,
        exported,
        "the copy exports the same lines"
    );

    let out = d
        .run(&["import", &file.display().to_string(), "--db", &b])
        .ok();
    assert!(
        out.stdout.contains("0 created, 9 skipped, 0 rejected"),
        "{}",
        out.stdout
    );
    assert_eq!(d.run(&["export", "--db", &b]).ok().stdout, exported);
}

#[test]
fn a_large_import_streams_in_chunks_and_keeps_line_numbers() {
    let d = Dir::new();
    let db = d.db("large.db");
    let mut text = line("team", json!({"id": "p", "name": "P"})) + "\n";
    let note = |n: usize| {
        line(
            "event",
            json!({"id": format!("n{n}"), "kind": "note", "time": AT - DAY, "team": "p"}),
        ) + "\n"
    };
    for n in 2..=4999 {
        text += &note(n);
    }
    // A decision at the end of one chunk, its outcome at the start of the next.
    text += &(line(
        "event",
        json!({"id": "d1", "kind": "decision", "time": AT - 20 * DAY, "team": "p"}),
    ) + "\n");
    text += &(line(
        "event",
        json!({"id": "o1", "kind": "outcome", "time": AT - DAY, "team": "p",
                                    "data": {"decisionId": "d1", "result": "confirmed"}}),
    ) + "\n");
    for n in 5002..=6000 {
        text += &note(n);
    }
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"{\"type\": \"event\", \"value\": \"\xff\xfe\"}\n");
    bytes.extend_from_slice(line("event", json!({"id": "x", "kind": "vote"})).as_bytes());
    let file = d.path("large.ndjson");
    std::fs::write(&file, bytes).expect("write");
    let out = d
        .run(&["import", &file.display().to_string(), "--db", &db])
        .ok();
    assert!(
        out.stdout.contains("6000 created, 0 skipped, 2 rejected"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("line 6001: ") && out.stdout.contains("UTF-8"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("line 6002: ") && out.stdout.contains("vote"),
        "{}",
        out.stdout
    );
    let exported = d.run(&["export", "--db", &db]).ok().stdout;
    assert_eq!(exported.lines().count(), 6000);
    assert!(exported.contains("\"decisionId\":\"d1\""));
}

#[test]
fn orgs_are_kept_apart() {
    let d = Dir::new();
    let db = d.db("orgs.db");
    d.run_with_stdin(&["import", "--org", "2", "--db", &db], &small_ndjson())
        .ok();
    assert_eq!(
        d.run(&["export", "--db", &db]).ok().stdout,
        "",
        "org 1 holds nothing"
    );
    assert_eq!(
        d.run(&["export", "--db", &db, "--org", "2"])
            .ok()
            .stdout
            .lines()
            .count(),
        9
    );
    let report = parse_json(&d.run(&["report", "--json", "--db", &db]).ok().stdout);
    assert_eq!(report, json!([]));
}

// ---- report ----

#[test]
fn report_json_has_the_shape_of_get_maturity() {
    let d = Dir::new();
    let db = d.db("small.db");
    d.run_with_stdin(&["import", "--db", &db], &small_ndjson())
        .ok();
    let report = parse_json(
        &d.run(&["report", "--json", "--at", AT_TEXT, "--db", &db])
            .ok()
            .stdout,
    );
    let teams = report.as_array().expect("array");
    assert_eq!(teams.len(), 2);
    for t in teams {
        assert_eq!(
            keys(t),
            BTreeSet::from(["team", "level", "score", "at", "criteria", "blockers"])
        );
        assert_eq!(t["at"], json!(AT));
        let criteria = t["criteria"].as_array().expect("criteria");
        let ids: Vec<&str> = criteria
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            ids,
            [
                "adhoc_queries",
                "defined_targets",
                "looped_back",
                "regular_reviews",
                "regular_adjustments",
                "acting_on_metrics",
                "data_driven_projects"
            ]
        );
        for (i, c) in criteria.iter().enumerate() {
            assert_eq!(
                keys(c),
                BTreeSet::from([
                    "id",
                    "level",
                    "passed",
                    "value",
                    "threshold",
                    "detail",
                    "evidence"
                ])
            );
            assert_eq!(c["level"], json!(i + 1));
            assert!(
                c["passed"].is_boolean() && c["value"].is_number() && c["threshold"].is_number()
            );
            assert!(c["detail"].is_string());
            assert!(c["evidence"]
                .as_array()
                .expect("evidence")
                .iter()
                .all(Value::is_string));
        }
        let failing: Vec<&Value> = criteria
            .iter()
            .filter(|c| c["passed"] == json!(false))
            .map(|c| &c["detail"])
            .collect();
        let blockers: Vec<&Value> = t["blockers"].as_array().expect("blockers").iter().collect();
        assert_eq!(
            blockers, failing,
            "one blocker per failing criterion, in ladder order"
        );
    }
    let got = levels(&report);
    assert_eq!(
        got["payments"],
        (3, 4),
        "questions, a defined and verified target, decisions acted on"
    );
    assert_eq!(got["search"], (0, 0));
    let payments = &teams[0];
    assert_eq!(payments["criteria"][0]["evidence"], json!(["q1"]));

    // One team: the same object, still in an array (as GET /maturity?team=).
    let one = parse_json(
        &d.run(&[
            "report",
            "--json",
            "--team",
            "payments",
            "--at",
            &AT.to_string(),
            "--db",
            &db,
        ])
        .ok()
        .stdout,
    );
    assert_eq!(one, json!([payments]));
}

#[test]
fn report_prints_a_table_then_each_teams_criteria() {
    let d = Dir::new();
    let db = d.db("small.db");
    d.run_with_stdin(&["import", "--db", &db], &small_ndjson())
        .ok();
    let out = d.run(&["report", "--at", AT_TEXT, "--db", &db]).ok().stdout;
    let header = out.lines().find(|l| l.starts_with("TEAM")).expect("header");
    assert!(
        header.contains("LEVEL") && header.contains("SCORE") && header.contains("NEXT BLOCKER"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("payments "))
        .expect("payments row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..3], ["payments", "3", "4"], "{row}");
    assert!(
        row.contains("reviewed in 2 of 12 weeks"),
        "the next blocker: {row}"
    );
    assert!(out.contains("✓ L1 adhoc_queries"), "{out}");
    assert!(out.contains("✗ L4 regular_reviews"), "{out}");
    assert!(out.contains("✓ L6 acting_on_metrics"), "{out}");
}

#[test]
fn report_thresholds_come_from_the_settings_file() {
    let d = Dir::new();
    let db = d.db("small.db");
    d.run_with_stdin(&["import", "--db", &db], &small_ndjson())
        .ok();
    let settings = d.path("jsonData.json");
    std::fs::write(
        &settings,
        json!({"maturity": {"reviewRatio": 0.1}, "viewersCanAnnotate": false}).to_string(),
    )
    .expect("settings");
    let args = [
        "report",
        "--json",
        "--at",
        AT_TEXT,
        "--db",
        &db,
        "--settings",
    ];
    let report = parse_json(
        &d.run(&[&args[..], &[settings.to_str().expect("path")]].concat())
            .ok()
            .stdout,
    );
    assert_eq!(
        levels(&report)["payments"],
        (4, 5),
        "2 reviewed weeks of 12 reach a ratio of 0.1"
    );

    std::fs::write(&settings, r#"{"maturity": {"reviewRatio": 2}}"#).expect("settings");
    d.run(&[&args[..], &[settings.to_str().expect("path")]].concat())
        .user_error("reviewRatio");
    std::fs::write(&settings, "{not json").expect("settings");
    d.run(&[&args[..], &[settings.to_str().expect("path")]].concat())
        .user_error("not JSON");
    d.run(&[&args[..], &["missing.json"]].concat())
        .user_error("missing.json");
}

#[test]
fn report_of_an_unknown_team_is_an_error_naming_the_known_ones() {
    let d = Dir::new();
    let db = d.db("small.db");
    d.run_with_stdin(&["import", "--db", &db], &small_ndjson())
        .ok();
    let out = d
        .run(&["report", "--team", "nope", "--db", &db])
        .user_error("\"nope\"");
    assert!(out.stderr.contains("payments, search"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    d.run(&["report", "--team", "nope", "--json", "--db", &db])
        .user_error("\"nope\"");
}

// ---- user errors ----

#[test]
fn user_errors_exit_2_with_one_line_each() {
    let d = Dir::new();
    let db = d.db("small.db");
    d.run_with_stdin(&["import", "--db", &db], &small_ndjson())
        .ok();
    d.run(&["report", "--at", "yesterday", "--db", &db])
        .user_error("--at");
    d.run(&["demo", "--now", "soon", "--db", &d.db("demo.db")])
        .user_error("--now");
    d.run(&[
        "demo",
        "--now",
        "-9223372036854775808",
        "--db",
        &d.db("demo.db"),
    ])
    .user_error("--now");
    d.run(&[
        "report",
        "--at",
        "-9223372036854775808",
        "--json",
        "--db",
        &db,
    ])
    .ok();
    d.run(&["import", "missing.ndjson", "--db", &db])
        .user_error("missing.ndjson");
    d.run(&["report", "--db", &d.db("absent.db")])
        .user_error("no store");
    d.run(&["export", "--db", &d.db("absent.db")])
        .user_error("no store");
    assert!(
        !d.path("absent.db").exists(),
        "reading commands create no store"
    );
    let empty = d.run(&["import", "--db", &db]).ok();
    assert!(
        empty.stdout.contains("0 created, 0 skipped, 0 rejected"),
        "{}",
        empty.stdout
    );
    for usage in [
        vec!["--org", "0", "migrate"],
        vec!["--org", "two", "migrate"],
        vec!["frobnicate"],
        vec![],
    ] {
        let out = d.run(&usage);
        assert_eq!(out.code, 2, "{usage:?}: {}", out.stderr);
        assert!(
            !out.stderr.is_empty() && !out.stderr.contains("panicked"),
            "{}",
            out.stderr
        );
    }
    let help = d.run(&["--help"]).ok();
    for command in ["migrate", "export", "import", "report", "demo"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
}

// ---- finding the plugin's store ----

/// A Grafana data folder whose plugins folder holds this plugin (in a folder not named
/// after its id, as an archive unpacked by hand may be).
fn grafana_data_folder(d: &Dir) -> (PathBuf, PathBuf) {
    let data = d.path("grafana");
    let plugin = data.join("plugins").join("ddm");
    std::fs::create_dir_all(&plugin).expect("plugin folder");
    std::fs::write(
        plugin.join("plugin.json"),
        r#"{"id": "datadriven-maturity-datasource", "type": "datasource", "backend": true}"#,
    )
    .expect("plugin.json");
    (data, plugin)
}

#[test]
fn without_db_the_tool_run_from_the_plugins_folder_uses_the_plugins_store() {
    let d = Dir::new();
    let (data, plugin) = grafana_data_folder(&d);
    let exe = plugin.join("maturity");
    std::fs::copy(cli_bin(), &exe).expect("copy the tool into the plugin folder");
    let elsewhere = d.path("somewhere-else");
    std::fs::create_dir_all(&elsewhere).expect("cwd");
    let out = run_as(&exe, &elsewhere, &["migrate"], None, &[]).ok();
    // The plugin's last rule (src/settings.rs): beside Grafana's plugins folder, never in
    // the plugin's own folder.
    let store = data.join("datadriven-maturity").join("maturity.db");
    assert!(store.exists(), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "store: {} (chosen by the folder that holds Grafana's plugins folder: this tool runs from the plugin's folder {})",
            store.display(),
            plugin.display()
        )),
        "{}",
        out.stdout
    );
    assert!(!elsewhere.join("datadriven-maturity").exists());
}

#[test]
fn without_db_the_tool_follows_grafanas_environment_as_the_plugin_does() {
    let d = Dir::new();
    let (data, _) = grafana_data_folder(&d);
    let plugins = data.join("plugins").display().to_string();
    let out = run_as(
        &cli_bin(),
        d.0.path(),
        &["migrate"],
        None,
        &[("GF_PATHS_PLUGINS", &plugins)],
    )
    .ok();
    assert!(
        data.join("datadriven-maturity/maturity.db").exists(),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("GF_PATHS_PLUGINS={plugins}")),
        "{}",
        out.stdout
    );
    // GF_PATHS_DATA comes first, GF_PLUGIN_DATABASE_PATH before it.
    let gdata = d.db("gdata");
    let out = run_as(
        &cli_bin(),
        d.0.path(),
        &["where"],
        None,
        &[("GF_PATHS_PLUGINS", &plugins), ("GF_PATHS_DATA", &gdata)],
    )
    .ok();
    assert!(
        out.stdout.starts_with(&format!(
            "store: {gdata}/datadriven-maturity/maturity.db (does not exist yet)\nchosen by: GF_PATHS_DATA (Grafana's data folder): GF_PATHS_DATA={gdata}\nlooked first at:\n"
        )),
        "{}",
        out.stdout
    );
    let env_db = d.db("env.db");
    let out = run_as(
        &cli_bin(),
        d.0.path(),
        &["where"],
        None,
        &[
            ("GF_PLUGIN_DATABASE_PATH", &env_db),
            ("GF_PATHS_DATA", &gdata),
        ],
    )
    .ok();
    assert!(
        out.stdout.starts_with(&format!(
            "store: {env_db} (does not exist yet)\nchosen by: GF_PLUGIN_DATABASE_PATH"
        )),
        "{}",
        out.stdout
    );
    assert!(
        !Path::new(&gdata).exists() && !Path::new(&env_db).exists(),
        "where opens nothing"
    );
}

#[test]
fn with_no_store_found_the_tool_says_where_it_looked() {
    let d = Dir::new();
    let out = d.run(&["where"]).ok();
    for looked in [
        "store: datadriven-maturity/maturity.db (does not exist yet)",
        "chosen by: the default in the current folder",
        "  the settings file's databasePath (not set)",
        "  GF_PLUGIN_DATABASE_PATH (not set)",
        "  GF_PATHS_DATA (not set)",
        "  GF_PATHS_PLUGINS (not set)",
        "Grafana's store was not found",
    ] {
        assert!(out.stdout.contains(looked), "{looked:?} in {}", out.stdout);
    }
    let err = d
        .run(&["report"])
        .user_error("no store at datadriven-maturity/maturity.db");
    assert!(
        err.stderr.contains("looked first at: the settings file's databasePath (not set); GF_PLUGIN_DATABASE_PATH (not set)"),
        "{}",
        err.stderr
    );
}

// ---- demo ----

/// The spread the demo is designed for (see src/cli/demo.rs): team → (level, score).
fn designed() -> BTreeMap<String, (u64, u64)> {
    [
        ("checkout", (7, 7)),
        ("payments", (6, 6)),
        ("platform", (5, 5)),
        ("mobile", (4, 5)),
        ("growth", (3, 5)),
        ("identity", (2, 3)),
        ("search", (1, 4)),
        ("onboarding", (0, 1)),
    ]
    .into_iter()
    .map(|(t, ls)| (t.to_string(), ls))
    .collect()
}

#[test]
fn the_demo_puts_teams_at_every_level_of_the_ladder_whatever_the_seed_and_now() {
    let d = Dir::new();
    for (i, (seed, now)) in [
        (1_u64, AT),
        (7, AT + 3 * DAY + 5 * 3_600_000 + 17),
        (12_345, 1_700_000_000_000),
    ]
    .into_iter()
    .enumerate()
    {
        let db = d.db(&format!("demo{i}.db"));
        let (seed, now) = (seed.to_string(), now.to_string());
        let out = d
            .run(&["demo", "--db", &db, "--seed", &seed, "--now", &now])
            .ok();
        assert!(out.stdout.contains("Wrote the demo data"), "{}", out.stdout);
        let got = levels(&parse_json(
            &d.run(&["report", "--json", "--db", &db, "--at", &now])
                .ok()
                .stdout,
        ));
        assert!(got.len() >= 6, "{got:?}");
        let distinct: BTreeSet<u64> = got.values().map(|(l, _)| *l).collect();
        assert!(distinct.len() >= 5, "{got:?}");
        assert_eq!(got["checkout"].0, 7);
        assert_eq!(got, designed(), "seed {seed}, now {now}");
    }
}

#[test]
fn the_demo_runs_for_a_newcomer_in_the_current_folder_with_the_real_clock() {
    let d = Dir::new();
    let out = d.run(&["demo"]).ok();
    assert!(
        d.path("datadriven-maturity/maturity.db").exists(),
        "{}",
        out.stdout
    );
    // The summary table shows the ladder from the top.
    let rows: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("TEAM"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 8, "{}", out.stdout);
    assert!(
        rows[0].starts_with("checkout ") && rows[7].starts_with("onboarding "),
        "{rows:?}"
    );
    let got = levels(&parse_json(&d.run(&["report", "--json"]).ok().stdout));
    assert_eq!(got, designed());
    let table = d.run(&["report", "--team", "search"]).ok().stdout;
    assert!(
        table.contains("✗ L2 defined_targets") && table.contains("✓ L6 acting_on_metrics"),
        "{table}"
    );
}

#[test]
fn the_demo_is_deterministic_for_a_seed_and_now() {
    let d = Dir::new();
    let export = |name: &str, seed: &str| {
        let db = d.db(name);
        d.run(&["demo", "--db", &db, "--seed", seed, "--now", AT_TEXT])
            .ok();
        d.run(&["export", "--db", &db]).ok().stdout
    };
    let first = export("one.db", "42");
    assert_eq!(
        export("two.db", "42"),
        first,
        "same seed and now, same lines"
    );
    assert_ne!(export("three.db", "43"), first, "another seed, other data");
    let lines: Vec<Value> = first.lines().map(parse_json).collect();
    let count = |kind: &str| lines.iter().filter(|l| l["type"] == json!(kind)).count();
    assert_eq!(count("team"), 8);
    assert!(count("target") >= 8, "{}", count("target"));
    assert!(count("event") > 500, "{}", count("event"));
    let event_kinds: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["type"] == json!("event"))
        .map(|l| l["value"]["kind"].as_str().expect("kind"))
        .collect();
    for kind in [
        "view",
        "review",
        "question",
        "decision",
        "outcome",
        "metric_change",
    ] {
        assert!(
            event_kinds.contains(kind),
            "{kind} missing: {event_kinds:?}"
        );
    }
    let six_months_ago = AT - 26 * 7 * DAY;
    assert!(lines
        .iter()
        .filter(|l| l["type"] == json!("event"))
        .all(|l| (six_months_ago..=AT).contains(&l["value"]["time"].as_i64().expect("time"))));
    let users: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["type"] == json!("event"))
        .map(|l| l["value"]["user"].as_str().expect("user"))
        .collect();
    assert!(
        users.len() > 10,
        "events recorded by the members themselves: {users:?}"
    );
}

#[test]
fn a_second_demo_run_writes_nothing_and_says_so() {
    let d = Dir::new();
    let db = d.db("again.db");
    d.run(&["demo", "--db", &db, "--now", AT_TEXT]).ok();
    let before = d.run(&["export", "--db", &db]).ok().stdout;
    let out = d
        .run(&["demo", "--db", &db, "--now", AT_TEXT, "--seed", "5"])
        .ok();
    assert!(out.stdout.contains("already"), "{}", out.stdout);
    assert!(
        out.stdout.contains("checkout"),
        "the report still shows: {}",
        out.stdout
    );
    assert_eq!(d.run(&["export", "--db", &db]).ok().stdout, before);
    // Another org of the same store takes a fresh copy.
    d.run(&["demo", "--db", &db, "--now", AT_TEXT, "--org", "2"])
        .ok();
    assert_eq!(
        d.run(&["export", "--db", &db, "--org", "2"])
            .ok()
            .stdout
            .lines()
            .count(),
        before.lines().count()
    );
}

#[test]
fn the_demo_never_mixes_with_a_team_it_did_not_write() {
    let d = Dir::new();
    let db = d.db("mine.db");
    let mine = line(
        "team",
        json!({"id": "checkout", "name": "Our own checkout team"}),
    ) + "\n";
    d.run_with_stdin(&["import", "--db", &db], &mine).ok();
    d.run(&["demo", "--db", &db]).user_error("checkout");
    assert_eq!(
        d.run(&["export", "--db", &db]).ok().stdout.lines().count(),
        1
    );
}

#[test]
fn query_schema_prints_the_committed_schema_and_needs_no_store() {
    let dir = Dir::new();
    let out = dir.run(&["query-schema"]).ok();
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/src/datasource/query.schema.json"),
    )
    .expect("the committed schema");
    assert_eq!(out.stdout, committed);
    assert_eq!(parse_json(&out.stdout), maturity::query_schema());
    assert!(
        std::fs::read_dir(dir.0.path())
            .expect("dir")
            .next()
            .is_none(),
        "query-schema creates no store"
    );
    // Even a settings file that names a Postgres store does not stop it.
    std::fs::write(dir.path("pg.json"), r#"{"storage": "postgres"}"#).expect("settings");
    dir.run(&[
        "query-schema",
        "--settings",
        &dir.path("pg.json").display().to_string(),
    ])
    .ok();
}
