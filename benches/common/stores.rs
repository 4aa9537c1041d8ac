//! Generated stores, written directly through `SqliteStore` in big batches and cached under
//! `target/bench-stores/`: a file is reused when its name (which spells every parameter,
//! the generator's version and the schema version) matches, else built once. Runs that
//! write work on a copy, so a cached store never changes.
//!
//! Deterministic: the same parameters and seed give the same rows.
//!
//! With `MATURITY_BENCH_STORE=postgres` the same rows go, through the same `Store` verbs,
//! into a fresh PostgreSQL database per store (`bench_<name>`) on the server of
//! `scripts/with-postgres`, built anew in every run (a throwaway server keeps no cache),
//! then `VACUUM ANALYZE`d.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{pg, Backend, StoreAt};

use maturity::model::{
    Actual, Direction, EpochMs, Event, EventKind, Source, Target, Team, Verdict, Verification,
    DAY_MS,
};
use maturity::settings::{Secret, Storage};
use maturity::store::sqlite::{SqliteStore, SCHEMA_VERSION};
use maturity::store::{open_store, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

/// Bump when the generator changes what it writes (invalidates cached stores).
const GEN_VERSION: u32 = 1;

/// Every generated history ends here (2026-11-01T00:00:00Z), a fixed instant in the past,
/// so that a cached store means the same whenever it is used; queries ask at `END`.
pub const END: EpochMs = 1_793_491_200_000;

/// The dashboard that gets a burst of events in the last four weeks (owned by team 0), so
/// that a 7-day `events` query on it has well over 1,000 rows.
pub const HOT_DASHBOARD: &str = "dash-hot";

pub fn team_id(t: usize) -> String {
    format!("team-{t:03}")
}

pub fn dashboard(t: usize, which: char) -> String {
    format!("dash-{t:03}-{which}")
}

pub fn member(t: usize, k: usize) -> String {
    format!("u{t:03}-{k}")
}

const MEMBERS: usize = 5;

/// Events spread evenly over `days` for `teams` teams (stores A and the load store).
#[derive(Debug, Clone, Copy)]
pub struct Wide {
    pub events: usize,
    pub teams: usize,
    pub days: i64,
    /// Of `events`, how many land on [`HOT_DASHBOARD`] in the last 28 days.
    pub hot: usize,
    pub seed: u64,
}

/// Weekly evidence per team (store B): ≈ `per_week` events per team per week.
#[derive(Debug, Clone, Copy)]
pub struct Weekly {
    pub teams: usize,
    pub weeks: i64,
    pub per_week: usize,
    pub seed: u64,
}

/// A store ready to use.
#[derive(Debug, Clone)]
pub struct Generated {
    pub at: StoreAt,
    pub teams: usize,
    pub events: u64,
    pub targets: u64,
    pub bytes: u64,
    /// Time to build it, when this run built it (else it came from the cache).
    pub built_in: Option<Duration>,
}

impl Generated {
    pub fn describe(&self) -> String {
        let place = match &self.at {
            StoreAt::Sqlite(_) => String::new(),
            StoreAt::Postgres(url) => format!("PostgreSQL database {}, ", pg::database_name(url)),
        };
        format!(
            "{} events, {} teams, {} targets, {place}{:.0} MiB ({})",
            self.events,
            self.teams,
            self.targets,
            self.bytes as f64 / (1 << 20) as f64,
            match self.built_in {
                Some(d) => format!("built in {:.1} s", d.as_secs_f64()),
                None => "reused from the cache".into(),
            }
        )
    }
}

fn cache_dir() -> PathBuf {
    super::target_dir().join("bench-stores")
}

fn make_team(t: usize, created_at: EpochMs) -> Team {
    let mut dashboards = vec![dashboard(t, 'a'), dashboard(t, 'b')];
    if t == 0 {
        dashboards.push(HOT_DASHBOARD.into());
    }
    Team {
        id: team_id(t),
        name: format!("Team {t}"),
        dashboards,
        members: (0..MEMBERS).map(|k| member(t, k)).collect(),
        cadence_days: 7,
        created_at,
    }
}

#[allow(clippy::too_many_arguments)]
fn event(
    id: String,
    kind: EventKind,
    time: EpochMs,
    team: Option<String>,
    dashboard: Option<String>,
    user: String,
    text: String,
    tags: Vec<String>,
    data: Map<String, Value>,
) -> Event {
    Event {
        id,
        kind,
        time,
        time_end: None,
        team,
        dashboard_uid: dashboard,
        panel_id: None,
        user,
        text,
        tags,
        data,
        source: if kind == EventKind::View {
            Source::Passive
        } else {
            Source::Api
        },
        created_at: time,
        updated_at: time,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// One event of `kind` for team `t` at `time` (outcomes name `decision`).
pub fn team_event(
    rng: &mut StdRng,
    id: String,
    kind: EventKind,
    t: usize,
    time: EpochMs,
    dash: String,
    decision: Option<&str>,
) -> Event {
    let user = if rng.gen_bool(0.9) {
        member(t, rng.gen_range(0..MEMBERS))
    } else {
        format!("visitor-{}", rng.gen_range(0..50))
    };
    let team = Some(team_id(t));
    match kind {
        EventKind::View => event(
            id,
            kind,
            time,
            None,
            Some(dash),
            user,
            String::new(),
            vec![],
            Map::new(),
        ),
        EventKind::Review => event(
            id,
            kind,
            time,
            team,
            Some(dash.clone()),
            user,
            format!("weekly review of {dash}: p99 latency and error budget walked through"),
            vec!["review".into(), "weekly".into()],
            obj(json!({"attendees": [member(t, 0), member(t, 1), member(t, 2)]})),
        ),
        EventKind::Question => event(
            id,
            kind,
            time,
            team,
            Some(dash),
            user,
            "why did checkout errors rise after the deploy?".into(),
            vec!["question".into()],
            obj(json!({"query": {"expr": "sum(rate(http_requests_total{code=~\"5..\"}[5m]))"}})),
        ),
        EventKind::Decision => {
            let mut data = json!({"owner": member(t, 0), "expectedEffect": "p99 below 300 ms"});
            if rng.gen_bool(0.5) {
                data["followUpAt"] = json!(time + rng.gen_range(7..21) * DAY_MS);
            }
            event(
                id,
                kind,
                time,
                team,
                Some(dash),
                user,
                "roll back the connection pool change and add a saturation panel".into(),
                vec!["decision".into()],
                obj(data),
            )
        }
        EventKind::Outcome => {
            let result = ["confirmed", "not_confirmed", "inconclusive"][rng.gen_range(0..3)];
            event(
                id,
                kind,
                time,
                team,
                Some(dash),
                user,
                "p99 back under 300 ms for a week".into(),
                vec!["outcome".into()],
                obj(json!({
                    "decisionId": decision.unwrap_or_default(),
                    "result": result,
                })),
            )
        }
        EventKind::MetricChange => event(
            id,
            kind,
            time,
            team,
            Some(dash),
            user,
            "added a saturation panel for the DB pool".into(),
            vec!["metric-change".into()],
            obj(json!({"change": "added", "reason": "the last incident was invisible"})),
        ),
        EventKind::Note => event(
            id,
            kind,
            time,
            team,
            Some(dash),
            user,
            "deploy freeze over the holidays".into(),
            vec![],
            Map::new(),
        ),
    }
}

/// Three projects per team (one live, one verified met, one not yet defined), and for every
/// fourth team one missed without learnings.
fn targets_for(t: usize) -> Vec<Target> {
    let team = team_id(t);
    let weekly = |from: EpochMs, to: EpochMs, v0: f64, step: f64| -> Vec<Actual> {
        (0..)
            .map(|k| (from + k * 7 * DAY_MS, v0 + step * k as f64))
            .take_while(|(time, _)| *time < to)
            .map(|(time, value)| Actual { time, value })
            .collect()
    };
    let mut out = vec![
        Target {
            id: format!("{team}-latency"),
            team: team.clone(),
            name: "p99 latency".into(),
            unit: Some("ms".into()),
            direction: Direction::Decrease,
            baseline: Some(400.0),
            target: Some(300.0),
            start_at: END - 150 * DAY_MS,
            deadline: Some(END + 60 * DAY_MS),
            query: None,
            actuals: weekly(END - 150 * DAY_MS, END, 400.0, -3.0),
            verification: None,
            created_at: END - 150 * DAY_MS,
        },
        Target {
            id: format!("{team}-errors"),
            team: team.clone(),
            name: "availability".into(),
            unit: Some("%".into()),
            direction: Direction::Increase,
            baseline: Some(99.0),
            target: Some(99.9),
            start_at: END - 300 * DAY_MS,
            deadline: Some(END - 60 * DAY_MS),
            query: None,
            actuals: weekly(END - 300 * DAY_MS, END - 60 * DAY_MS, 99.0, 0.03),
            verification: Some(Verification {
                verdict: Verdict::Met,
                actual: Some(99.92),
                learnings: "kept the error budget by slowing releases".into(),
                verified_at: END - 50 * DAY_MS,
                verified_by: member(t, 0),
            }),
            created_at: END - 300 * DAY_MS,
        },
        Target {
            id: format!("{team}-cost"),
            team: team.clone(),
            name: "cloud cost".into(),
            unit: None,
            direction: Direction::Decrease,
            baseline: Some(12_000.0),
            target: None,
            start_at: END - 100 * DAY_MS,
            deadline: None,
            query: None,
            actuals: vec![],
            verification: None,
            created_at: END - 100 * DAY_MS,
        },
    ];
    if t % 4 == 3 {
        out.push(Target {
            id: format!("{team}-churn"),
            team,
            name: "churn".into(),
            unit: Some("%".into()),
            direction: Direction::Decrease,
            baseline: Some(5.0),
            target: Some(4.0),
            start_at: END - 200 * DAY_MS,
            deadline: Some(END - 30 * DAY_MS),
            query: None,
            actuals: weekly(END - 200 * DAY_MS, END - 30 * DAY_MS, 5.0, 0.0),
            verification: Some(Verification {
                verdict: Verdict::Missed,
                actual: Some(5.0),
                learnings: String::new(),
                verified_at: END - 20 * DAY_MS,
                verified_by: member(t, 0),
            }),
            created_at: END - 200 * DAY_MS,
        });
    }
    out
}

/// Builds (or reuses) a store through `build`, which fills a fresh store: an SQLite file
/// in the cache, or a PostgreSQL database of this run.
fn cached(name: String, teams: usize, build: impl FnOnce(&dyn Store) + Send) -> Generated {
    if Backend::from_env() == Backend::Postgres {
        return in_postgres(name, teams, build);
    }
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("cache dir");
    let path = dir.join(format!("{name}-g{GEN_VERSION}-s{SCHEMA_VERSION}.db"));
    let mut built_in = None;
    if !path.exists() {
        let started = Instant::now();
        let tmp = dir.join(format!("{name}.building-{}", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
        }
        {
            let store = SqliteStore::open(&tmp).expect("open a fresh store");
            build(&store as &dyn Store);
        }
        // The last connection closed: SQLite checkpointed and removed the WAL.
        std::fs::rename(&tmp, &path).expect("move the built store in place");
        built_in = Some(started.elapsed());
    }
    let store = SqliteStore::open(&path).expect("open the cached store");
    let counts = store.counts(1).expect("counts");
    let bytes = store.size_bytes();
    drop(store);
    Generated {
        at: StoreAt::Sqlite(path),
        teams,
        events: counts.events,
        targets: counts.targets,
        bytes,
        built_in,
    }
}

/// Builds a store into a fresh PostgreSQL database `bench_<name>` (on a plain thread: the
/// store's blocking client must not run on a tokio worker).
fn in_postgres(name: String, teams: usize, build: impl FnOnce(&dyn Store) + Send) -> Generated {
    let db = format!("bench_{}", name.replace('-', "_"));
    let url = pg::fresh_database(&db);
    let started = Instant::now();
    let (events, targets) = pg::blocking(|| {
        let store = open_store(&Storage::Postgres {
            url: Secret::new(url.clone()),
        })
        .expect("open a fresh PostgreSQL store");
        build(store.as_ref());
        let counts = store.counts(1).expect("counts");
        (counts.events, counts.targets)
    });
    let loaded = started.elapsed();
    pg::vacuum_analyze(&url);
    let built = started.elapsed();
    println!(
        "  {db}: loaded in {:.1} s, VACUUM ANALYZE {:.1} s",
        loaded.as_secs_f64(),
        (built - loaded).as_secs_f64()
    );
    Generated {
        bytes: pg::database_size(&db),
        at: StoreAt::Postgres(url),
        teams,
        events,
        targets,
        built_in: Some(built),
    }
}

fn flush(store: &dyn Store, batch: &mut Vec<Event>) {
    if !batch.is_empty() {
        store.insert_events(1, batch).expect("insert a batch");
        batch.clear();
    }
}

const BATCH: usize = 20_000;

/// Store A (and the load store): `events` events over `days` days for `teams` teams.
pub fn wide(spec: Wide) -> Generated {
    let name = format!(
        "wide-{}ev-{}t-{}d-hot{}-seed{}",
        spec.events, spec.teams, spec.days, spec.hot, spec.seed
    );
    cached(name, spec.teams, |store| {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let start = END - spec.days * DAY_MS;
        for t in 0..spec.teams {
            store
                .create_team(1, &make_team(t, start))
                .expect("create team");
        }
        let kinds = [
            (EventKind::View, 45),
            (EventKind::Review, 15),
            (EventKind::Question, 12),
            (EventKind::Decision, 8),
            (EventKind::Outcome, 6),
            (EventKind::MetricChange, 6),
            (EventKind::Note, 8),
        ];
        let total: u32 = kinds.iter().map(|(_, w)| w).sum();
        let spread = spec.events - spec.hot;
        let mut batch = Vec::with_capacity(BATCH);
        for t in 0..spec.teams {
            let n = spread / spec.teams + usize::from(t < spread % spec.teams);
            let mut times: Vec<EpochMs> = (0..n).map(|_| rng.gen_range(start..END)).collect();
            times.sort_unstable();
            let mut decisions: Vec<String> = Vec::new();
            for (i, time) in times.into_iter().enumerate() {
                let mut pick = rng.gen_range(0..total);
                let mut kind = EventKind::Note;
                for (k, w) in kinds {
                    if pick < w {
                        kind = k;
                        break;
                    }
                    pick -= w;
                }
                if kind == EventKind::Outcome && decisions.is_empty() {
                    kind = EventKind::Decision;
                }
                let id = format!("w{t:03}-{i:06}");
                let decision = (kind == EventKind::Outcome).then(|| {
                    let back = rng.gen_range(0..decisions.len().min(20));
                    decisions[decisions.len() - 1 - back].clone()
                });
                if kind == EventKind::Decision {
                    decisions.push(id.clone());
                }
                let d = dash(&mut rng, t);
                batch.push(team_event(
                    &mut rng,
                    id,
                    kind,
                    t,
                    time,
                    d,
                    decision.as_deref(),
                ));
                if batch.len() >= BATCH {
                    flush(store, &mut batch);
                }
            }
        }
        for i in 0..spec.hot {
            let time = rng.gen_range(END - 28 * DAY_MS..END);
            let kind = match rng.gen_range(0..10) {
                0 => EventKind::Review,
                1 => EventKind::Note,
                2 => EventKind::Question,
                _ => EventKind::View,
            };
            batch.push(team_event(
                &mut rng,
                format!("hot-{i:06}"),
                kind,
                0,
                time,
                HOT_DASHBOARD.into(),
                None,
            ));
            if batch.len() >= BATCH {
                flush(store, &mut batch);
            }
        }
        flush(store, &mut batch);
        for t in 0..spec.teams {
            for target in targets_for(t) {
                store.create_target(1, &target).expect("create target");
            }
        }
    })
}

/// Store B: `weeks` weeks of evidence per team, ≈ `per_week` events per team per week:
/// a review, views by members (and some visitors) of the team's dashboards, questions,
/// decisions (half with an explicit follow-up date), outcomes of most decisions once due,
/// a metric change most weeks; plus the projects of [`targets_for`].
pub fn weekly(spec: Weekly) -> Generated {
    let name = format!(
        "weekly-{}t-{}w-{}pw-seed{}",
        spec.teams, spec.weeks, spec.per_week, spec.seed
    );
    cached(name, spec.teams, |store| {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let start = END - spec.weeks * 7 * DAY_MS;
        for t in 0..spec.teams {
            store
                .create_team(1, &make_team(t, start))
                .expect("create team");
        }
        // The fixed part of a week: 1 review, 3 questions, 2 decisions, ~1.4 outcomes, ~0.6
        // metric changes; views fill the rest of `per_week`.
        let views = spec.per_week.saturating_sub(8).max(1);
        let mut batch = Vec::with_capacity(BATCH);
        for t in 0..spec.teams {
            let mut n = 0usize;
            let id = |n: &mut usize| {
                *n += 1;
                format!("b{t:03}-{n:05}")
            };
            let mut decisions: Vec<(String, EpochMs)> = Vec::new();
            for w in 0..spec.weeks {
                let week = start + w * 7 * DAY_MS;
                let at = |rng: &mut StdRng| week + rng.gen_range(0..7 * DAY_MS);
                // Every fifth team reviews only every other week or so.
                let review_p = if t % 5 == 4 { 0.5 } else { 0.95 };
                let mut plan: Vec<EventKind> = Vec::new();
                if rng.gen_bool(review_p) {
                    plan.push(EventKind::Review);
                }
                plan.extend(std::iter::repeat_n(
                    EventKind::View,
                    rng.gen_range(views - views / 3..=views + views / 3),
                ));
                plan.extend(std::iter::repeat_n(
                    EventKind::Question,
                    rng.gen_range(2..=4),
                ));
                plan.extend(std::iter::repeat_n(
                    EventKind::Decision,
                    rng.gen_range(1..=3),
                ));
                if rng.gen_bool(0.6) {
                    plan.push(EventKind::MetricChange);
                }
                for kind in plan {
                    let time = at(&mut rng);
                    let d = dash(&mut rng, t);
                    let e = team_event(&mut rng, id(&mut n), kind, t, time, d, None);
                    if kind == EventKind::Decision {
                        decisions.push((e.id.clone(), e.time));
                    }
                    batch.push(e);
                }
            }
            for (decision, time) in decisions {
                let when = time + rng.gen_range(10..20) * DAY_MS;
                if when < END && rng.gen_bool(0.7) {
                    let d = dash(&mut rng, t);
                    batch.push(team_event(
                        &mut rng,
                        id(&mut n),
                        EventKind::Outcome,
                        t,
                        when,
                        d,
                        Some(&decision),
                    ));
                }
            }
            if batch.len() >= BATCH {
                flush(store, &mut batch);
            }
        }
        flush(store, &mut batch);
        for t in 0..spec.teams {
            for target in targets_for(t) {
                store.create_target(1, &target).expect("create target");
            }
        }
    })
}

fn dash(rng: &mut StdRng, t: usize) -> String {
    dashboard(t, if rng.gen_bool(0.6) { 'a' } else { 'b' })
}

/// A batch of `size` events as an API client posts them (ids given, so that the direct
/// inserts of the floor write the very same rows): reviews, questions, decisions, outcomes
/// of decisions earlier in the batch, metric changes, views and notes over `teams` teams in
/// the 30 days before [`END`].
pub fn api_batch(rng: &mut StdRng, batch_no: usize, size: usize, teams: usize) -> Vec<Event> {
    let mut decisions: Vec<String> = Vec::new();
    (0..size)
        .map(|i| {
            let t = rng.gen_range(0..teams);
            let mut kind = match rng.gen_range(0..20) {
                0..=3 => EventKind::Review,
                4..=9 => EventKind::Question,
                10..=12 => EventKind::Decision,
                13..=14 => EventKind::Outcome,
                15..=16 => EventKind::MetricChange,
                17..=18 => EventKind::View,
                _ => EventKind::Note,
            };
            if kind == EventKind::Outcome && decisions.is_empty() {
                kind = EventKind::Decision;
            }
            let id = format!("ing-{batch_no:05}-{i:04}");
            let decision = (kind == EventKind::Outcome)
                .then(|| decisions[rng.gen_range(0..decisions.len())].clone());
            if kind == EventKind::Decision {
                decisions.push(id.clone());
            }
            let time = END - rng.gen_range(0..30 * DAY_MS);
            let d = dash(rng, t);
            team_event(rng, id, kind, t, time, d, decision.as_deref())
        })
        .collect()
}

/// The JSON an API client posts for `e` (the server sets user, source and timestamps).
pub fn api_json(e: &Event) -> Value {
    let mut v = json!({
        "id": e.id,
        "kind": e.kind.as_str(),
        "time": e.time,
        "text": e.text,
        "tags": e.tags,
        "data": e.data,
    });
    if let Some(t) = &e.team {
        v["team"] = json!(t);
    }
    if let Some(d) = &e.dashboard_uid {
        v["dashboardUid"] = json!(d);
    }
    v
}
