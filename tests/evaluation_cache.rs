//! The caches of issue 15 against the uncached engine: random writes (through a second
//! store handle, as another replica would write, or through the app, whose writes its kept
//! evidence takes in), random instants moving forward and sometimes back, and cached
//! `maturity`, `reviewLapse` and `followUps` reads; every answer must equal a fresh
//! computation over freshly read evidence. Run on SQLite, and on PostgreSQL when the server of
//! `scripts/with-postgres` is there.

#[path = "common/postgres.rs"]
mod pg;

use std::sync::Arc;

use maturity::app::queries::TeamSelector;
use maturity::app::views::ViewRecorder;
use maturity::app::{App, AppSettings, Caller, Role};
use maturity::engine;
use maturity::model::{
    Direction, Event, EventKind, PendingView, Source, Target, Team, Verdict, Verification, DAY_MS,
};
use maturity::settings::{PathRule, Secret, Storage};
use maturity::store::{open_store, Store};
use proptest::prelude::*;
use serde_json::{json, Map};

const T0: i64 = 1_780_272_000_000; // 2026-06-01T00:00:00Z

#[derive(Debug, Clone)]
enum Op {
    /// An event: kind, team index (None: on a dashboard only), dashboard index, time offset
    /// from the current instant in hours (may be in the future), and whether the app writes
    /// it (else the second handle).
    Event(u8, Option<u8>, u8, i64, bool),
    /// An outcome of the n-th decision written so far, with a result; app or second handle.
    Outcome(usize, u8, i64, bool),
    /// Events written by the app in one batch (as `Event`), then, when the batch holds a
    /// decision of a team, an outcome of it.
    Batch(Vec<(u8, Option<u8>, u8, i64)>),
    /// A target of a team: start and deadline offsets in days, and whether it is verified.
    Target(u8, i64, i64, bool),
    /// An actual of the n-th target written so far, this many hours from the current
    /// instant; through the app (whose kept evidence takes the target forward) or the second
    /// handle.
    Actual(usize, i64, bool),
    /// A team's cadence and dashboards change.
    Redefine(u8, u8),
    /// The n-th event written so far is deleted.
    Delete(usize),
    /// A passive view of a dashboard by one of a few users, this many hours from the
    /// current instant, written by the store's view writer (its session may be stored).
    View(u8, u8, i64),
    /// Move the instant by this many hours (negative: ask about the past) and read.
    Read(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, proptest::option::of(0u8..3), 0u8..4, -24i64 * 100..24 * 3, any::<bool>())
            .prop_map(|(k, t, d, h, app)| Op::Event(k, t, d, h, app)),
        1 => (0usize..40, 0u8..3, -24i64 * 20..24, any::<bool>())
            .prop_map(|(n, r, h, app)| Op::Outcome(n, r, h, app)),
        1 => proptest::collection::vec(
                (0u8..6, proptest::option::of(0u8..3), 0u8..4, -24i64 * 100..24 * 3), 1..6)
            .prop_map(Op::Batch),
        1 => (0u8..3, -60i64..10, -10i64..60, any::<bool>()).prop_map(|(t, s, d, v)| Op::Target(t, s, d, v)),
        1 => (0usize..10, -24i64 * 30..24, any::<bool>()).prop_map(|(n, h, app)| Op::Actual(n, h, app)),
        1 => (0u8..3, 0u8..3).prop_map(|(t, c)| Op::Redefine(t, c)),
        1 => (0usize..40).prop_map(Op::Delete),
        2 => (0u8..4, 0u8..3, -24i64 * 20..2).prop_map(|(d, u, h)| Op::View(d, u, h)),
        5 => (-24i64 * 3..24 * 10).prop_map(Op::Read),
    ]
}

fn team(i: u8, variant: u8) -> Team {
    Team {
        id: format!("team-{i}"),
        name: format!("Team {i}"),
        dashboards: (0..=variant.min(1))
            .map(|d| format!("dash-{}", (i + d) % 4))
            .collect(),
        members: vec![],
        cadence_days: [7, 14, 3][usize::from(variant % 3)],
        created_at: 0,
    }
}

fn event(id: String, kind: EventKind, time: i64, team: Option<String>, dash: String) -> Event {
    Event {
        id,
        kind,
        time,
        time_end: None,
        team,
        dashboard_uid: Some(dash),
        panel_id: None,
        user: "alice".into(),
        text: "t".into(),
        tags: vec![],
        data: Map::new(),
        source: Source::Api,
        created_at: 0,
        updated_at: 0,
    }
}

/// The API's JSON for `e` (what `POST /events` takes).
fn api_json(e: &Event) -> serde_json::Value {
    json!({
        "id": e.id,
        "kind": e.kind.as_str(),
        "time": e.time,
        "team": e.team,
        "dashboardUid": e.dashboard_uid,
        "text": e.text,
        "data": e.data,
    })
}

const KINDS: [EventKind; 6] = [
    EventKind::Question,
    EventKind::Review,
    EventKind::Decision,
    EventKind::MetricChange,
    EventKind::View,
    EventKind::Note,
];

/// A random event of `KINDS[k]` (a decision falls due 5 days on when `h` is even).
fn random_event(id: String, k: u8, t: Option<u8>, d: u8, time: i64, h: i64) -> Event {
    let kind = KINDS[usize::from(k)];
    let team = t.map(|t| format!("team-{t}"));
    let mut e = event(id, kind, time, team, format!("dash-{d}"));
    if kind == EventKind::Decision && h % 2 == 0 {
        e.data
            .insert("followUpAt".into(), json!(time + 24 * 5 * 3_600_000));
    }
    e
}

/// An outcome of `decision` (of `team`) with the `r`-th result.
fn outcome(id: String, decision: &str, team: String, r: u8, time: i64) -> Event {
    let mut e = event(id, EventKind::Outcome, time, Some(team), "dash-0".into());
    e.data.insert("decisionId".into(), json!(decision));
    e.data.insert(
        "result".into(),
        json!(["confirmed", "not_confirmed", "inconclusive"][usize::from(r)]),
    );
    e
}

/// Applies `ops`, checking every read against the uncached engine.
fn check(storage: &Storage, ops: &[Op]) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let reader: Arc<dyn Store> = open_store(storage).expect("open");
    let writer: Arc<dyn Store> = open_store(storage).expect("second handle");
    let settings = AppSettings::default();
    let app = App::new(reader.clone(), settings.clone(), Arc::new(|| T0));
    let views = {
        let _in_runtime = runtime.enter();
        ViewRecorder::start(reader.clone(), app.writes(), Arc::new(|| T0))
    };
    let caller = Caller {
        org: 1,
        user: Some(("viewer".into(), Role::Viewer)),
    };
    let editor = Caller {
        org: 1,
        user: Some(("editor".into(), Role::Editor)),
    };
    for i in 0..3 {
        writer.create_team(1, &team(i, 0)).expect("team");
    }
    let mut at = T0;
    let mut written: Vec<String> = Vec::new();
    let mut decisions: Vec<(String, String)> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    let mut n = 0;
    for op in ops {
        n += 1;
        match op {
            Op::Event(k, t, d, h, via_app) => {
                let e = random_event(format!("e{n}"), *k, *t, *d, at + h * 3_600_000, *h);
                if e.kind == EventKind::Decision {
                    if let Some(team) = &e.team {
                        decisions.push((e.id.clone(), team.clone()));
                    }
                }
                written.push(e.id.clone());
                if *via_app {
                    runtime
                        .block_on(app.record_events(&editor, &api_json(&e), Source::Api))
                        .expect("event through the app");
                } else {
                    writer.insert_events(1, &[e]).expect("event");
                }
            }
            Op::Outcome(i, r, h, via_app) => {
                if decisions.is_empty() {
                    continue;
                }
                let (decision, team) = decisions[i % decisions.len()].clone();
                let e = outcome(format!("o{n}"), &decision, team, *r, at + h * 3_600_000);
                written.push(e.id.clone());
                if *via_app {
                    runtime
                        .block_on(app.record_events(&editor, &api_json(&e), Source::Api))
                        .expect("outcome through the app");
                } else {
                    writer.insert_events(1, &[e]).expect("outcome");
                }
            }
            Op::Batch(items) => {
                let mut batch: Vec<Event> = items
                    .iter()
                    .enumerate()
                    .map(|(j, (k, t, d, h))| {
                        random_event(format!("b{n}-{j}"), *k, *t, *d, at + h * 3_600_000, *h)
                    })
                    .collect();
                let decided = batch
                    .iter()
                    .find(|e| e.kind == EventKind::Decision && e.team.is_some())
                    .map(|e| (e.id.clone(), e.team.clone().unwrap_or_default()));
                if let Some((decision, team)) = decided {
                    batch.push(outcome(format!("b{n}-o"), &decision, team, 0, at));
                }
                for e in &batch {
                    if e.kind == EventKind::Decision {
                        if let Some(team) = &e.team {
                            decisions.push((e.id.clone(), team.clone()));
                        }
                    }
                    written.push(e.id.clone());
                }
                let body = serde_json::Value::Array(batch.iter().map(api_json).collect());
                runtime
                    .block_on(app.record_events(&editor, &body, Source::Api))
                    .expect("batch through the app");
            }
            Op::Target(t, start, deadline, verified) => {
                let target = Target {
                    id: format!("t{n}"),
                    team: format!("team-{t}"),
                    name: "Latency".into(),
                    unit: None,
                    direction: Direction::Decrease,
                    baseline: Some(10.0),
                    target: Some(8.0),
                    start_at: at + start * DAY_MS,
                    deadline: Some(at + deadline * DAY_MS),
                    query: None,
                    actuals: vec![],
                    verification: verified.then(|| Verification {
                        verdict: Verdict::Met,
                        actual: Some(8.0),
                        learnings: "l".into(),
                        verified_at: at + deadline * DAY_MS,
                        verified_by: "alice".into(),
                    }),
                    created_at: 0,
                };
                writer.create_target(1, &target).expect("target");
                targets.push(target.id);
            }
            Op::Actual(i, h, via_app) => {
                if targets.is_empty() {
                    continue;
                }
                let id = &targets[i % targets.len()];
                let (time, value) = (at + h * 3_600_000, n as f64);
                if *via_app {
                    let body = json!({"time": time, "value": value});
                    let target = runtime
                        .block_on(app.add_actuals(&editor, id, &body))
                        .expect("actual through the app");
                    prop_assert!(target
                        .actuals
                        .iter()
                        .any(|a| a.time == time && a.value == value));
                } else {
                    let actual = maturity::model::Actual { time, value };
                    writer.add_actuals(1, id, &[actual]).expect("actual");
                }
            }
            Op::Redefine(t, variant) => {
                writer
                    .replace_team(1, &team(*t, *variant))
                    .expect("redefine");
            }
            Op::Delete(i) => {
                if !written.is_empty() {
                    let id = written.remove(i % written.len());
                    writer.delete_event(1, &id).expect("delete");
                    decisions.retain(|(d, _)| *d != id);
                }
            }
            Op::View(d, u, h) => {
                let time = at + h * 3_600_000;
                views.record(PendingView {
                    org: 1,
                    user: format!("viewer-{u}"),
                    dashboard_uid: format!("dash-{d}"),
                    panel_id: None,
                    time,
                    session_bucket: time.div_euclid(30 * 60_000),
                });
                runtime.block_on(views.flush());
            }
            Op::Read(h) => {
                at += h * 3_600_000;
                let cached = runtime
                    .block_on(app.maturity(&caller, &TeamSelector::All, at))
                    .expect("cached read");
                let window = settings.maturity.window_ms();
                let fresh = writer.evidence(1, &[], at - window, at).expect("evidence");
                let expected: Vec<_> = fresh
                    .teams
                    .iter()
                    .map(|t| {
                        engine::evaluate(&settings.maturity, t, &fresh.events, &fresh.targets, at)
                    })
                    .collect();
                prop_assert_eq!(&cached, &expected, "at {} after {:?}", at, op);
                // `maturity`'s levels, from their own cache of level-only evaluations.
                let levels: Vec<(String, u8)> = runtime
                    .block_on(app.levels(&caller, &TeamSelector::All, at))
                    .expect("cached levels")
                    .into_iter()
                    .map(|(t, point)| (t.id, point.level))
                    .collect();
                let expected_levels: Vec<(String, u8)> =
                    expected.iter().map(|e| (e.team.clone(), e.level)).collect();
                prop_assert_eq!(&levels, &expected_levels, "levels at {} after {:?}", at, op);
                // A team's history and its changes, the recent part from kept evidence.
                let steps = engine::history_steps(at - 40 * DAY_MS, at, DAY_MS / 2);
                let one = TeamSelector::Only(vec!["team-0".into()]);
                let history = runtime
                    .block_on(app.maturity_history(&caller, &one, &steps))
                    .expect("history");
                let changes: Vec<_> = runtime
                    .block_on(app.level_changes(&caller, &one, &steps))
                    .expect("level changes")
                    .into_iter()
                    .map(|(_, c)| c)
                    .collect();
                let ranged = writer
                    .evidence(1, &["team-0".into()], steps[0] - window, at)
                    .expect("history evidence");
                let team0 = &ranged.teams[0];
                let (events, targets) = (&ranged.events, &ranged.targets);
                let m = &settings.maturity;
                prop_assert_eq!(
                    history,
                    vec![(
                        "team-0".to_string(),
                        engine::level_history(m, team0, events, targets, &steps)
                    )],
                    "history at {} after {:?}",
                    at,
                    op
                );
                prop_assert_eq!(
                    changes,
                    engine::level_changes_over(m, team0, events, targets, &steps),
                    "level changes at {} after {:?}",
                    at,
                    op
                );
                // `targets` from the kept targets, as the store lists them.
                let listed: Vec<Target> = runtime
                    .block_on(app.target_reports(&caller, &TeamSelector::All, None, at))
                    .expect("kept targets")
                    .into_iter()
                    .map(|r| r.target)
                    .collect();
                let stored = writer.list_targets(1, &[]).expect("stored targets");
                prop_assert_eq!(&listed, &stored, "targets at {} after {:?}", at, op);
                // `reviewLapse` from the kept review times, per team and per dashboard.
                for per_dashboard in [false, true] {
                    let cached = runtime
                        .block_on(app.review_lapse(&caller, &TeamSelector::All, per_dashboard, at))
                        .expect("cached lapse");
                    let cached: Vec<(String, String, f64)> = cached
                        .into_iter()
                        .map(|l| (l.team, l.dashboard, l.hours_since_review))
                        .collect();
                    let mut expected = Vec::new();
                    for t in &fresh.teams {
                        let hours = |d: Option<&str>| {
                            engine::hours_since_review(&settings.maturity, t, &fresh.events, at, d)
                        };
                        if per_dashboard {
                            for d in &t.dashboards {
                                expected.push((t.id.clone(), d.clone(), hours(Some(d))));
                            }
                        } else {
                            expected.push((t.id.clone(), String::new(), hours(None)));
                        }
                    }
                    prop_assert_eq!(&cached, &expected, "lapse at {} after {:?}", at, op);
                }
                // `followUps` from the kept decisions and outcomes.
                let cached: Vec<_> = runtime
                    .block_on(app.follow_ups(&caller, &TeamSelector::All, None, at))
                    .expect("cached follow-ups")
                    .into_iter()
                    .map(|f| (f.id, f.team, f.follow_up_at, f.status, f.result))
                    .collect();
                let decided = writer.evidence(1, &[], at, at).expect("decisions");
                let mut expected: Vec<_> =
                    engine::targets::follow_ups(&settings.maturity, &decided.events, at)
                        .into_iter()
                        .filter(|f| {
                            f.decision
                                .team
                                .as_deref()
                                .is_some_and(|t| decided.teams.iter().any(|x| x.id == t))
                        })
                        .map(|f| {
                            (
                                f.decision.id.clone(),
                                f.decision.team.clone().unwrap_or_default(),
                                f.follow_up_at,
                                f.status,
                                f.result,
                            )
                        })
                        .collect();
                expected.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
                prop_assert_eq!(&cached, &expected, "follow-ups at {} after {:?}", at, op);
                // `reviewActivity` of the last 30 days, from kept evidence where it reaches:
                // counted here from the store's own evidence of the range.
                let from = at - 30 * DAY_MS;
                let activity = runtime
                    .block_on(app.review_activity(&caller, &TeamSelector::All, from, at))
                    .expect("review activity");
                let ranged = writer
                    .evidence(1, &[], from, at)
                    .expect("activity evidence");
                let mut expected = Vec::new();
                for t in &ranged.teams {
                    let mut per_kind = [vec![0.0; 30], vec![0.0; 30], vec![0.0; 30], vec![0.0; 30]];
                    for e in ranged
                        .events
                        .iter()
                        .filter(|e| e.time >= from && e.time < at)
                    {
                        let slot = match e.kind {
                            EventKind::Review => 0,
                            EventKind::View => 1,
                            EventKind::Decision => 2,
                            EventKind::Question => 3,
                            _ => continue,
                        };
                        let counts = if e.kind == EventKind::View {
                            engine::counts_as_review_evidence(t, e)
                        } else {
                            e.team.as_deref() == Some(t.id.as_str())
                        };
                        if counts {
                            per_kind[slot][((e.time - from) / DAY_MS) as usize] += 1.0;
                        }
                    }
                    expected.push((t.id.clone(), per_kind));
                }
                let counted: Vec<_> = activity
                    .into_iter()
                    .map(|a| (a.team, [a.reviews, a.views, a.decisions, a.questions]))
                    .collect();
                prop_assert_eq!(&counted, &expected, "activity at {} after {:?}", at, op);
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("MATURITY_CACHE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn cached_answers_equal_fresh_evaluations_on_sqlite(ops in proptest::collection::vec(op(), 10..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::Sqlite { path: dir.path().join("m.db"), rule: PathRule::CommandLine };
        check(&storage, &ops)?;
    }
}

proptest! {
    // A fresh database per case costs a round trip to the server: fewer cases.
    #![proptest_config(ProptestConfig { cases: (cases() / 4).max(4), ..ProptestConfig::default() })]

    #[test]
    fn cached_answers_equal_fresh_evaluations_on_postgresql(ops in proptest::collection::vec(op(), 10..60)) {
        if let Some(url) = pg::fresh_database("cache") {
            check(&Storage::Postgres { url: Secret::new(url) }, &ops)?;
        }
    }
}

#[test]
fn a_repeated_query_is_served_from_the_cache_and_a_write_re_evaluates_only_its_team() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::Sqlite {
        path: dir.path().join("m.db"),
        rule: PathRule::CommandLine,
    };
    let store = open_store(&storage).expect("open");
    for i in 0..3 {
        store.create_team(1, &team(i, 0)).expect("team");
        store
            .insert_events(
                1,
                &[event(
                    format!("q{i}"),
                    EventKind::Question,
                    T0 - DAY_MS,
                    Some(format!("team-{i}")),
                    "dash-0".into(),
                )],
            )
            .expect("question");
    }
    let app = App::new(store.clone(), AppSettings::default(), Arc::new(|| T0));
    let caller = Caller {
        org: 1,
        user: Some(("viewer".into(), Role::Viewer)),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let read = |at: i64| {
        runtime
            .block_on(app.maturity(&caller, &TeamSelector::All, at))
            .expect("read")
    };
    let first = read(T0);
    assert_eq!(app.evaluation_cache_stats().misses, 3);
    // A minute later, as the next alert evaluation asks: nothing to compute.
    let again = read(T0 + 60_000);
    let stats = app.evaluation_cache_stats();
    assert_eq!((stats.hits, stats.misses), (3, 3));
    assert!(again
        .iter()
        .zip(&first)
        .all(|(a, b)| a.level == b.level && a.at == T0 + 60_000));
    // One team's write: only that team is evaluated again.
    store
        .insert_events(
            1,
            &[event(
                "q9".into(),
                EventKind::Question,
                T0,
                Some("team-1".into()),
                "dash-9".into(),
            )],
        )
        .expect("write");
    read(T0 + 120_000);
    let stats = app.evaluation_cache_stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (5, 4),
        "only team-1 was evaluated again"
    );
}

#[test]
fn kept_review_times_and_decisions_answer_for_later_instants_not_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::Sqlite {
        path: dir.path().join("m.db"),
        rule: PathRule::CommandLine,
    };
    let store = open_store(&storage).expect("open");
    store.create_team(1, &team(0, 0)).expect("team");
    let review = event(
        "r-old".into(),
        EventKind::Review,
        T0 - 80 * DAY_MS,
        Some("team-0".into()),
        "dash-0".into(),
    );
    let mut decision = event(
        "d1".into(),
        EventKind::Decision,
        T0 + DAY_MS,
        Some("team-0".into()),
        "dash-0".into(),
    );
    decision
        .data
        .insert("followUpAt".into(), json!(T0 + 3 * DAY_MS));
    store.insert_events(1, &[review, decision]).expect("events");
    let app = App::new(store.clone(), AppSettings::default(), Arc::new(|| T0));
    let caller = Caller {
        org: 1,
        user: Some(("viewer".into(), Role::Viewer)),
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let hours = |at: i64| {
        rt.block_on(app.review_lapse(&caller, &TeamSelector::All, false, at))
            .expect("lapse")[0]
            .hours_since_review
    };
    let window_hours = 12.0 * 168.0;
    // At T0 the review is in the window; 10 days later it has left it (read from T0 − W).
    assert_eq!(hours(T0), 80.0 * 24.0);
    assert_eq!(hours(T0 + 10 * DAY_MS), window_hours);
    // Five days before T0 it was in the window: the times kept from T0 − W on cannot say so.
    assert_eq!(hours(T0 - 5 * DAY_MS), 75.0 * 24.0);
    let overdue = |at: i64| {
        rt.block_on(app.follow_ups_overdue(&caller, &TeamSelector::All, at))
            .expect("overdue")
            .len()
    };
    // The decision is taken after T0: kept from a read at T0, it still falls due later.
    assert_eq!(overdue(T0), 0);
    assert_eq!(overdue(T0 + 4 * DAY_MS), 1);
    let outcome = {
        let mut o = event(
            "o1".into(),
            EventKind::Outcome,
            T0 + 5 * DAY_MS,
            Some("team-0".into()),
            "dash-0".into(),
        );
        o.data.insert("decisionId".into(), json!("d1"));
        o.data.insert("result".into(), json!("confirmed"));
        o
    };
    store.insert_events(1, &[outcome]).expect("outcome");
    assert_eq!(overdue(T0 + 6 * DAY_MS), 0, "the outcome's write is seen");
    // Served: the lapse 10 days on and the follow-ups 4 days on; computed: the first of
    // each, the lapse asked for an earlier instant, the follow-ups after the write.
    let inputs = app.team_inputs_cache_stats();
    assert_eq!((inputs.hits, inputs.misses), (2, 4), "{inputs:?}");
}

#[test]
fn the_apps_own_writes_are_taken_into_the_kept_evidence_and_another_handles_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::Sqlite {
        path: dir.path().join("m.db"),
        rule: PathRule::CommandLine,
    };
    let store = open_store(&storage).expect("open");
    let other = open_store(&storage).expect("second handle");
    for i in 0..3 {
        store.create_team(1, &team(i, 0)).expect("team");
        let question = random_event(format!("q{i}"), 0, Some(i), i, T0 - DAY_MS, 0);
        store.insert_events(1, &[question]).expect("question");
    }
    let settings = AppSettings::default();
    let app = App::new(store.clone(), settings.clone(), Arc::new(|| T0));
    let (viewer, editor) = (
        Caller {
            org: 1,
            user: Some(("viewer".into(), Role::Viewer)),
        },
        Caller {
            org: 1,
            user: Some(("editor".into(), Role::Editor)),
        },
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let check = |at: i64| {
        let cached = rt
            .block_on(app.maturity(&viewer, &TeamSelector::All, at))
            .expect("maturity");
        let fresh = other
            .evidence(1, &[], at - settings.maturity.window_ms(), at)
            .expect("evidence");
        for (c, t) in cached.iter().zip(&fresh.teams) {
            let expected =
                engine::evaluate(&settings.maturity, t, &fresh.events, &fresh.targets, at);
            assert_eq!(c, &expected, "{} at {at}", t.id);
        }
        let follow_ups: Vec<String> = rt
            .block_on(app.follow_ups(&viewer, &TeamSelector::All, None, at))
            .expect("follow-ups")
            .into_iter()
            .map(|f| f.id)
            .collect();
        follow_ups
    };
    check(T0);
    let kept = app.kept_evidence_stats();
    assert_eq!(
        (kept.hits, kept.misses),
        (0, 6),
        "all three read by `maturity`, then again by `followUps`, which keeps them (a team \
         is kept from its second read on)"
    );
    // One batch through the app: a review of team-0, a view of team-1's dashboard, a
    // decision of team-2 taken 200 days ago (before every window) and its outcome.
    let mut decision = random_event("d-old".into(), 2, Some(2), 2, T0 - 200 * DAY_MS, 0);
    decision.text = "Cache the lookups".into();
    let batch = [
        random_event("r1".into(), 1, Some(0), 0, T0 - 3_600_000, 1),
        random_event("v1".into(), 4, None, 1, T0 - 3_600_000, 1),
        decision,
        outcome("o1".into(), "d-old", "team-2".into(), 1, T0 - 3_600_000),
    ];
    let body = serde_json::Value::Array(batch.iter().map(api_json).collect());
    rt.block_on(app.record_events(&editor, &body, Source::Api))
        .expect("batch");
    let follow_ups = check(T0 + 60_000);
    assert_eq!(
        follow_ups,
        vec!["d-old".to_string()],
        "the old decision is there"
    );
    let kept = app.kept_evidence_stats();
    assert_eq!(
        (kept.hits, kept.misses),
        (6, 6),
        "the three written teams computed again from memory for both queries, none read"
    );
    // Another replica's write: its team is read again; the others stay kept.
    let question = random_event("q-other".into(), 0, Some(1), 1, T0, 0);
    other.insert_events(1, &[question]).expect("other write");
    check(T0 + 120_000);
    let kept = app.kept_evidence_stats();
    assert_eq!((kept.hits, kept.misses), (7, 7), "team-1 read again, once");
    // A passive view of team-2's dashboard from the store's view writer: taken into the
    // kept evidence too, so team-2 is computed again from memory for both queries.
    let views = {
        let _in_runtime = rt.enter();
        ViewRecorder::start(store.clone(), app.writes(), Arc::new(|| T0))
    };
    views.record(PendingView {
        org: 1,
        user: "carol".into(),
        dashboard_uid: "dash-2".into(),
        panel_id: None,
        time: T0 + 130_000,
        session_bucket: 1,
    });
    rt.block_on(views.flush());
    assert_eq!(views.written(), 1);
    check(T0 + 180_000);
    let kept = app.kept_evidence_stats();
    assert_eq!(
        (kept.hits, kept.misses),
        (9, 7),
        "team-2 from memory, twice"
    );
}

/// Queries that arrive together, as dashboards and alert rules refreshing after a write
/// do: each all-team query that misses computes its teams once between them (the later
/// ones wait their turn and find them cached), and, with more teams than the process lets
/// reads hold at once and history queries reading beside them, every query finishes.
#[test]
fn queries_that_arrive_together_compute_each_team_once_and_all_finish() {
    const TEAMS: u8 = 45;
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::Sqlite {
        path: dir.path().join("m.db"),
        rule: PathRule::CommandLine,
    };
    let store = open_store(&storage).expect("open");
    for i in 0..TEAMS {
        let t = team(i, 0);
        store.create_team(1, &t).expect("team");
        let events: Vec<Event> = (0..4)
            .map(|k| {
                let kind = [EventKind::Question, EventKind::Review, EventKind::Decision][k % 3];
                let time = T0 - (k as i64 + 1) * DAY_MS;
                event(
                    format!("e{i}-{k}"),
                    kind,
                    time,
                    Some(t.id.clone()),
                    "dash-0".into(),
                )
            })
            .collect();
        store.insert_events(1, &events).expect("events");
    }
    let app = Arc::new(App::new(
        store.clone(),
        AppSettings::default(),
        Arc::new(|| T0),
    ));
    let caller = Caller {
        org: 1,
        user: Some(("viewer".into(), Role::Viewer)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let steps: Vec<i64> = (0..30).map(|d| T0 - d * DAY_MS).rev().collect();
    let answers = runtime.block_on(async {
        let mut queries = tokio::task::JoinSet::new();
        for q in 0..24 {
            let (app, caller, steps) = (app.clone(), caller.clone(), steps.clone());
            queries.spawn(async move {
                let all = &TeamSelector::All;
                match q % 4 {
                    0 | 1 => app.maturity(&caller, all, T0).await.map(|e| e.len()),
                    2 => app
                        .follow_ups(&caller, all, None, T0)
                        .await
                        .map(|f| f.len()),
                    _ => app
                        .maturity_history(&caller, all, &steps)
                        .await
                        .map(|h| h.len()),
                }
            });
        }
        tokio::time::timeout(std::time::Duration::from_secs(120), queries.join_all())
            .await
            .expect("every query finishes")
    });
    assert_eq!(answers.len(), 24);
    assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
    let stats = app.evaluation_cache_stats();
    assert_eq!(
        stats.misses,
        u64::from(TEAMS),
        "each team evaluated once by twelve queries arriving together"
    );
    assert_eq!(stats.hits, 11 * u64::from(TEAMS));
}
