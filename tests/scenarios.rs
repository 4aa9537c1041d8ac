//! Every scenario file of SPEC §8, loaded through the running binary as Grafana would load
//! it, gives its expected levels through every interface: the `maturity` and `criteria`
//! queries at T = at, `GET /maturity?at=`, and `maturity report --json` on the same store.
//! The folders are read at run time, so new files are covered without code changes: the
//! repository's own `tests/scenarios` always, then `MATURITY_SCENARIOS` when set, else
//! `../shared/scenarios` when it is present beside the repository.
//!
//! Every scenario also runs on PostgreSQL (issue 14; under `scripts/with-postgres`, else that
//! half is skipped with a line): one fresh database, one org per scenario as on SQLite, and
//! the whole decoded answers (GET /maturity body, every field of the maturity and criteria
//! frames) must equal SQLite's, not only the expected levels.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use grafana_plugin_sdk::pluginv2::DataQuery;
use serde_json::{json, Value};

/// The repository's own scenarios (always run; a missing or empty folder is a failure).
fn repository_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// The folders whose scenarios run: the repository's own, then `MATURITY_SCENARIOS` when
/// it is set (it must exist), else `../shared/scenarios` when that folder is present beside
/// the repository (its absence is not a failure: a clone stands alone).
fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![repository_dir()];
    match std::env::var_os("MATURITY_SCENARIOS") {
        Some(extra) => dirs.push(PathBuf::from(extra)),
        None => {
            let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/scenarios");
            if shared.is_dir() {
                dirs.push(shared);
            }
        }
    }
    dirs
}

/// Every `*.json` of a folder, sorted, named `<folder>/<file>` (file names may repeat
/// between folders).
fn scenarios_in(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the scenario folder {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = dir
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("read scenario");
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let file = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (format!("{parent}/{folder}/{file}"), v)
        })
        .collect()
}

fn scenarios() -> Vec<(String, Value)> {
    scenario_dirs()
        .iter()
        .flat_map(|d| scenarios_in(d))
        .collect()
}

/// Levels and criteria one interface reported: team → (level, criterion → passed).
type Answer = BTreeMap<String, (i64, BTreeMap<String, bool>)>;

fn check(name: &str, interface: &str, expect: &Value, got: &Answer) {
    let expect = expect.as_object().expect("expect is an object");
    for (team, want) in expect {
        let (level, passed) = got
            .get(team)
            .unwrap_or_else(|| panic!("{name} / {interface}: no answer for team {team}"));
        assert_eq!(
            Some(*level),
            want["level"].as_i64(),
            "{name} / {interface}: level of {team}"
        );
        if let Some(score) = want.get("score").and_then(Value::as_i64) {
            assert_eq!(
                passed.values().filter(|p| **p).count() as i64,
                score,
                "{name} / {interface}: score of {team}"
            );
        }
        for (criterion, want_passed) in want["passed"].as_object().into_iter().flatten() {
            assert_eq!(
                passed.get(criterion).copied(),
                want_passed.as_bool(),
                "{name} / {interface}: {team} {criterion}"
            );
        }
    }
}

fn from_evaluations(v: &Value) -> Answer {
    v.as_array()
        .expect("an array of evaluations")
        .iter()
        .map(|e| {
            let criteria = e["criteria"]
                .as_array()
                .expect("criteria")
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or_default().to_string(),
                        c["passed"].as_bool().unwrap_or(false),
                    )
                })
                .collect();
            (
                e["team"].as_str().unwrap_or_default().to_string(),
                (e["level"].as_i64().unwrap_or(-1), criteria),
            )
        })
        .collect()
}

/// The repository's scenarios state every verdict and why: all seven criteria per team, a
/// level and a score that agree with them (the gate of SPEC §5), a reason per criterion,
/// and together they cover every level from 0 to 7.
#[test]
fn the_repositorys_scenarios_state_every_verdict_with_its_reason_and_cover_every_level() {
    const CRITERIA: [&str; 7] = [
        "adhoc_queries",
        "defined_targets",
        "looped_back",
        "regular_reviews",
        "regular_adjustments",
        "acting_on_metrics",
        "data_driven_projects",
    ];
    let mut levels = std::collections::BTreeSet::new();
    for (name, s) in scenarios_in(&repository_dir()) {
        assert!(
            s["about"].as_str().is_some_and(|a| !a.is_empty()),
            "{name}: says what it is about"
        );
        let teams: Vec<&str> = s["teams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["id"].as_str())
            .collect();
        let expect = s["expect"].as_object().expect("expect");
        assert_eq!(
            expect.keys().map(String::as_str).collect::<Vec<_>>().len(),
            teams.len(),
            "{name}: an expectation for every team"
        );
        for (team, want) in expect {
            assert!(teams.contains(&team.as_str()), "{name}: {team} is a team");
            let passed: Vec<bool> = CRITERIA
                .iter()
                .map(|c| {
                    want["passed"][c]
                        .as_bool()
                        .unwrap_or_else(|| panic!("{name}: {team} states {c}"))
                })
                .collect();
            for c in CRITERIA {
                assert!(
                    want["why"][c].as_str().is_some_and(|w| !w.is_empty()),
                    "{name}: {team} says why {c}"
                );
            }
            let gated = passed.iter().take_while(|p| **p).count() as i64;
            assert_eq!(want["level"].as_i64(), Some(gated), "{name}: {team} level");
            assert_eq!(
                want["score"].as_i64(),
                Some(passed.iter().filter(|p| **p).count() as i64),
                "{name}: {team} score"
            );
            levels.insert(gated);
        }
    }
    assert_eq!(
        levels.into_iter().collect::<Vec<_>>(),
        (0..=7).collect::<Vec<_>>(),
        "every level is some team's answer"
    );
}

/// A decoded field as compared between stores: name, labels, config present, nullable,
/// values.
type FieldDump = (String, BTreeMap<String, String>, bool, bool, Column);

fn dump(frame: &DecodedFrame) -> (String, String, Vec<FieldDump>) {
    (
        frame.name.clone(),
        frame.ref_id.clone(),
        frame
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    f.labels.clone(),
                    f.has_config,
                    f.nullable,
                    f.column.clone(),
                )
            })
            .collect(),
    )
}

/// Everything one store answered for a scenario, whole, so two stores can be compared.
#[derive(Debug, PartialEq)]
struct Answers {
    /// The body of `GET /maturity?at=`.
    rest: Value,
    /// The frames of the `maturity` query at T = at.
    maturity: Vec<(String, String, Vec<FieldDump>)>,
    /// The frames of the `criteria` query at T = at.
    criteria: Vec<(String, String, Vec<FieldDump>)>,
}

fn at_queries(at: i64) -> Vec<DataQuery> {
    vec![
        query("M", "maturity", json!({}), at - 86_400_000, at),
        query("C", "criteria", json!({}), at - 86_400_000, at),
    ]
}

/// Loads scenario `s` into `org` of `p`'s store and checks its expected levels through
/// `GET /maturity?at=` and the `maturity` and `criteria` queries; returns the whole answers.
async fn load_and_check(p: &mut Plugin, org: i64, name: &str, s: &Value) -> Answers {
    let at = ms(s["at"].as_str().expect("at"));
    load_scenario(p, org, s).await;
    let expect = &s["expect"];

    // GET /maturity?at=
    let rest = p
        .ok(
            p.viewer(org),
            "GET",
            &format!("maturity?at={at}"),
            None,
            200,
        )
        .await;
    check(name, "GET /maturity", expect, &from_evaluations(&rest));
    for e in rest.as_array().into_iter().flatten() {
        assert_eq!(e["at"], at, "{name}: at is echoed");
        assert_eq!(
            e["criteria"].as_array().map(Vec::len),
            Some(7),
            "{name}: seven criteria"
        );
        let failing = e["criteria"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["passed"] == false)
            .count();
        assert_eq!(
            e["blockers"].as_array().map(Vec::len),
            Some(failing),
            "{name}: one blocker per failing criterion"
        );
    }

    // The maturity and criteria queries at T = at.
    let resp = p.query(p.viewer(org), &[], at_queries(at)).await;
    let maturity = frames_of(&resp, "M").expect("maturity");
    let criteria = frames_of(&resp, "C").expect("criteria");
    let (m, c) = (&maturity[0], &criteria[0]);
    let mut answer = Answer::new();
    for (team, level) in m
        .field("team")
        .column
        .strs()
        .into_iter()
        .zip(m.field("level").column.nums())
    {
        answer.insert(team, (level as i64, BTreeMap::new()));
    }
    let teams = c.field("team").column.strs();
    let names = c.field("criterion").column.strs();
    let passed = c.field("passed").column.bools();
    for i in 0..teams.len() {
        if let Some((_, map)) = answer.get_mut(&teams[i]) {
            map.insert(names[i].clone(), passed[i]);
        }
    }
    check(name, "maturity + criteria queries", expect, &answer);
    Answers {
        rest,
        maturity: maturity.iter().map(dump).collect(),
        criteria: criteria.iter().map(dump).collect(),
    }
}

/// `maturity report --json` of `org` at the scenario's `at`, on the store `db` (a path or,
/// once the tool takes one, a PostgreSQL URL).
fn cli_report(name: &str, db: &str, org: i64, settings: &Path, s: &Value) -> Value {
    let out = std::process::Command::new(cli_bin())
        .args([
            "--db",
            db,
            "--org",
            &org.to_string(),
            "--settings",
            &settings.to_string_lossy(),
        ])
        .args([
            "report",
            "--json",
            "--at",
            s["at"].as_str().unwrap_or_default(),
        ])
        .env_remove("GF_PLUGIN_DATABASE_PATH")
        .env_remove("GF_PATHS_DATA")
        .output()
        .expect("run maturity report");
    assert!(
        out.status.success(),
        "{name}: maturity report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report --json is JSON");
    check(
        name,
        "maturity report --json",
        &s["expect"],
        &from_evaluations(&report),
    );
    report
}

/// Whether the command-line tool takes a PostgreSQL URL as `--db` (issue 14 adds it).
fn cli_takes_postgres() -> bool {
    std::process::Command::new(cli_bin())
        .arg("--help")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("postgres://"))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_gives_its_expected_levels_through_every_interface() {
    let (dir, db) = temp_store();
    let mut p = Plugin::start(&db, &[]).await;
    let all = scenarios();
    let mut on_sqlite = Vec::new();
    for (index, (name, s)) in all.iter().enumerate() {
        // Each scenario gets an org of its own (ids repeat between scenarios) and a
        // datasource whose jsonData carries the scenario's settings.
        let org = index as i64 + 1;
        let answers = load_and_check(&mut p, org, name, s).await;

        // The command-line tool on the same store.
        let settings = dir.path().join(format!("settings-{org}.json"));
        std::fs::write(&settings, serde_json::to_vec(&s["settings"]).expect("json"))
            .expect("write settings");
        let report = cli_report(name, &db.to_string_lossy(), org, &settings, s);
        assert_eq!(
            report, answers.rest,
            "{name}: the report equals GET /maturity"
        );
        on_sqlite.push(answers);
    }

    // The same scenarios on PostgreSQL: one database, one org per scenario, as on SQLite.
    let Some(url) = fresh_postgres("scenarios").await else {
        return;
    };
    let started = std::time::Instant::now();
    let mut pg = Plugin::start(&db, &[]).await;
    pg.use_postgres(&url);
    let cli = cli_takes_postgres();
    for (index, ((name, s), sqlite)) in all.iter().zip(&on_sqlite).enumerate() {
        let org = index as i64 + 1;
        let answers = load_and_check(&mut pg, org, name, s).await;
        assert_eq!(
            answers.rest, sqlite.rest,
            "{name}: GET /maturity on PostgreSQL equals SQLite's"
        );
        assert_eq!(
            answers.maturity, sqlite.maturity,
            "{name}: the maturity query on PostgreSQL equals SQLite's"
        );
        assert_eq!(
            answers.criteria, sqlite.criteria,
            "{name}: the criteria query on PostgreSQL equals SQLite's"
        );
        if cli {
            let settings = dir.path().join(format!("settings-{org}.json"));
            let report = cli_report(name, &url, org, &settings, s);
            assert_eq!(
                report, sqlite.rest,
                "{name}: maturity report on PostgreSQL equals SQLite's GET /maturity"
            );
        }
    }
    println!(
        "{} scenarios on PostgreSQL ({}) identical to SQLite in {:.1} s",
        all.len(),
        if cli {
            "plugin and maturity report"
        } else {
            "plugin; maturity --db postgres:// not available yet"
        },
        started.elapsed().as_secs_f64()
    );
}
