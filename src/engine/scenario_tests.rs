//! The scenario files of SPEC §8, evaluated by the engine directly: every expected level,
//! score and `passed` must hold, whatever the order of the evidence (test-only). The
//! repository's own `tests/scenarios` always run; `../shared/scenarios` as well when that
//! folder is present beside the repository.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::engine::{evaluate, history, MaturitySettings};
use crate::model::{
    derive_verdict, parse_time, Actual, Direction, EpochMs, Event, EventKind, Source, Target, Team,
    Verdict, Verification,
};

/// The repository's scenario folder (required), then the shared one when present.
fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("tests/scenarios")];
    let shared = root.join("../shared/scenarios");
    if shared.is_dir() {
        dirs.push(shared);
    }
    dirs
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn time_of(v: &Value, key: &str) -> Result<Option<EpochMs>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(t) => parse_time(key, t).map(Some).map_err(|e| e.to_string()),
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn team_of(v: &Value) -> Result<Team, String> {
    Ok(Team {
        id: str_of(v, "id").ok_or("team without id")?,
        name: str_of(v, "name").unwrap_or_default(),
        dashboards: strings(v, "dashboards"),
        members: strings(v, "members"),
        cadence_days: v
            .get("cadenceDays")
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(7),
        created_at: 0,
    })
}

fn event_of(i: usize, v: &Value) -> Result<Event, String> {
    let kind_name = str_of(v, "kind").ok_or("event without kind")?;
    let kind = EventKind::parse(&kind_name).ok_or(format!("unknown kind {kind_name}"))?;
    let mut data: Map<String, Value> = v
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Times inside data are stored normalised to epoch ms, as the API does.
    if let Some(t) = data.get("followUpAt") {
        let ms = parse_time("data.followUpAt", t).map_err(|e| e.to_string())?;
        data.insert("followUpAt".into(), Value::from(ms));
    }
    Ok(Event {
        id: str_of(v, "id").unwrap_or_else(|| format!("scenario-event-{i}")),
        kind,
        time: time_of(v, "time")?.ok_or("event without time")?,
        time_end: time_of(v, "timeEnd")?,
        team: str_of(v, "team"),
        dashboard_uid: str_of(v, "dashboardUid"),
        panel_id: v.get("panelId").and_then(Value::as_i64),
        user: str_of(v, "user").unwrap_or_default(),
        text: str_of(v, "text").unwrap_or_default(),
        tags: strings(v, "tags"),
        data,
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    })
}

fn target_of(v: &Value, at: EpochMs) -> Result<Target, String> {
    let direction = str_of(v, "direction")
        .and_then(|d| Direction::parse(&d))
        .ok_or("target without direction")?;
    let mut actuals = Vec::new();
    for a in v
        .get("actuals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        actuals.push(Actual {
            time: time_of(a, "time")?.ok_or("actual without time")?,
            value: a
                .get("value")
                .and_then(Value::as_f64)
                .ok_or("actual without value")?,
        });
    }
    actuals.sort_by_key(|a| a.time);
    let target = v.get("target").and_then(Value::as_f64);
    let verification = match v.get("verification") {
        None | Some(Value::Null) => None,
        Some(ver) => Some(Verification {
            verdict: match str_of(ver, "verdict") {
                Some(s) => Verdict::parse(&s).ok_or(format!("bad verdict {s}"))?,
                None => derive_verdict(direction, target, actuals.last().map(|a| a.value)),
            },
            actual: ver.get("actual").and_then(Value::as_f64),
            learnings: str_of(ver, "learnings").unwrap_or_default(),
            verified_at: time_of(ver, "verifiedAt")?.unwrap_or(at),
            verified_by: String::new(),
        }),
    };
    Ok(Target {
        id: str_of(v, "id").ok_or("target without id")?,
        team: str_of(v, "team").ok_or("target without team")?,
        name: str_of(v, "name").unwrap_or_default(),
        unit: str_of(v, "unit"),
        direction,
        baseline: v.get("baseline").and_then(Value::as_f64),
        target,
        start_at: time_of(v, "startAt")?.unwrap_or(at),
        deadline: time_of(v, "deadline")?,
        query: v.get("query").cloned(),
        actuals,
        verification,
        created_at: 0,
    })
}

/// Runs one scenario; returns the mismatches.
fn run(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let at = time_of(&v, "at")?.ok_or("scenario without at")?;
    let settings = MaturitySettings::from_json(v.get("settings").and_then(|s| s.get("maturity")))
        .map_err(|e| e.to_string())?;
    let list = |key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let teams = list("teams")
        .iter()
        .map(team_of)
        .collect::<Result<Vec<_>, _>>()?;
    let events = list("events")
        .iter()
        .enumerate()
        .map(|(i, e)| event_of(i, e))
        .collect::<Result<Vec<_>, _>>()?;
    let targets = list("targets")
        .iter()
        .map(|t| target_of(t, at))
        .collect::<Result<Vec<_>, _>>()?;
    let mut wrong = Vec::new();
    let expect = v
        .get("expect")
        .and_then(Value::as_object)
        .ok_or("scenario without expect")?;
    for (team_id, exp) in expect {
        let team = teams
            .iter()
            .find(|t| &t.id == team_id)
            .ok_or(format!("expect names unknown team {team_id}"))?;
        let e = evaluate(&settings, team, &events, &targets, at);
        // history at the same instant must agree (and the shuffled input too)
        let h = history(&settings, team, &events, &targets, &[at]);
        if h.first() != Some(&e) {
            wrong.push(format!("{team_id}: history differs from evaluate"));
        }
        let mut reversed = events.clone();
        reversed.reverse();
        if evaluate(&settings, team, &reversed, &targets, at) != e {
            wrong.push(format!("{team_id}: input order changed the answer"));
        }
        if let Some(level) = exp.get("level").and_then(Value::as_u64) {
            if u64::from(e.level) != level {
                wrong.push(format!(
                    "{team_id}: level {} expected {level}; blockers {:?}",
                    e.level, e.blockers
                ));
            }
        }
        if let Some(score) = exp.get("score").and_then(Value::as_u64) {
            if u64::from(e.score) != score {
                wrong.push(format!("{team_id}: score {} expected {score}", e.score));
            }
        }
        for (id, passed) in exp
            .get("passed")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let got = e.criterion(id).map(|c| (c.passed, c.detail.clone()));
            match got {
                Some((p, detail)) if Some(p) != passed.as_bool() => wrong.push(format!(
                    "{team_id}: {id} passed={p}, expected {passed} ({detail})"
                )),
                None => wrong.push(format!("{team_id}: no criterion {id}")),
                _ => {}
            }
        }
    }
    Ok(wrong)
}

#[test]
fn every_scenario_file_gives_its_expected_answer() {
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in scenario_dirs() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read the scenario folder {}: {e}", dir.display()));
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        assert!(!found.is_empty(), "no scenario in {}", dir.display());
        found.sort();
        paths.extend(found);
    }
    let mut failures = Vec::new();
    for p in &paths {
        match run(p) {
            Ok(wrong) => {
                failures.extend(wrong.into_iter().map(|w| format!("{}: {w}", p.display())))
            }
            Err(e) => failures.push(format!("{}: cannot run: {e}", p.display())),
        }
    }
    println!("{} scenario files checked", paths.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
