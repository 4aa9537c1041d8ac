//! `cargo bench --bench budget [-- SECTION…]`: the performance budget of issue 6, each figure
//! measured through gRPC against the running release binary next to its floor, in the same
//! run, and reported as a ratio. Sections: `memory` (handshake, idle and serving memory on
//! store A, every query type once), `events`, `throughput` (issue 15: `events` from 1, 2, 4,
//! 8 clients), `history`, `maturity` (cold against the evidence rows; since issue 15 also
//! warm on stores B and A, and after one team's write), `ingest`, `passive`.
//!
//! Stores: A = 1,000,000 events over 2 years for 500 teams; B = 500 teams × 26 weeks ×
//! ≈ 20 events. Both are cached under `target/bench-stores/` (see `common/stores.rs`).
//! Timing: warm-up runs first, then many runs interleaved with the floor; median and p90.
//! Results are printed and written to `target/bench-results/budget.md`.
//!
//! `MATURITY_BENCH_STORE=postgres` (under `scripts/with-postgres`) runs the same sections on
//! PostgreSQL (issue 14): the stores are generated into databases of that server, the plugin
//! gets the PostgreSQL settings, and the floors are the same SELECTs and INSERTs with the
//! blocking `postgres` client; results go to `target/bench-results/budget-postgres.md`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::stores::{self, Generated, Weekly, Wide, END, HOT_DASHBOARD};
use common::{
    every_query, fmt_ms, frame_rows, measure_pair, pg, query, Backend, CacheCounts, Client, Plan,
    Plugin, Stats, StoreAt,
};
use grafana_plugin_sdk::pluginv2::DataQuery;
use maturity::model::{Event, DAY_MS};
use maturity::settings::{Secret, Storage};
use maturity::store::sqlite::SqliteStore;
use maturity::store::{open_store, Store};
use rand::SeedableRng;
use rusqlite::{params, Connection};
use serde_json::json;

/// Store A: 1,000,000 events over 2 years, 500 teams (5,000 of them on the hot dashboard).
const A: Wide = Wide {
    events: 1_000_000,
    teams: 500,
    days: 730,
    hot: 5_000,
    seed: 1,
};

/// Store B: 500 teams with 26 weeks of evidence, ≈ 20 events per team per week.
const B: Weekly = Weekly {
    teams: 500,
    weeks: 26,
    per_week: 20,
    seed: 2,
};

const EVENT_COLUMNS: &str = "id, kind, time, time_end, team, dashboard_uid, panel_id, \
                             user_login, text, tags, data, source, created_at, updated_at";

/// The team whose history and single evaluation are measured.
const TEAM: &str = "team-007";

struct Row {
    figure: String,
    measured: String,
    floor: String,
    ratio: String,
    budget: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        figure: impl Into<String>,
        measured: impl Into<String>,
        floor: impl Into<String>,
        ratio: impl Into<String>,
        budget: impl Into<String>,
        met: Option<bool>,
    ) {
        let row = Row {
            figure: figure.into(),
            measured: measured.into(),
            floor: floor.into(),
            ratio: ratio.into(),
            budget: budget.into(),
            met,
        };
        println!(
            "  => {} | {} | floor {} | ratio {} | budget {} | {}",
            row.figure,
            row.measured,
            row.floor,
            row.ratio,
            row.budget,
            met_str(row.met)
        );
        self.rows.push(row);
    }

    fn note(&mut self, s: impl Into<String>) {
        let s = s.into();
        println!("  note: {s}");
        self.notes.push(s);
    }
}

fn met_str(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "—",
    }
}

/// Steps through every row and looks at every column (text and blobs by length, numbers
/// by value): the least any reader of these rows pays. Returns the number of rows.
fn read_rows(conn: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> usize {
    use rusqlite::types::ValueRef;
    let mut stmt = conn.prepare_cached(sql).expect("prepare");
    let n = stmt.column_count();
    let mut rows = stmt.query(args).expect("query");
    let (mut count, mut check) = (0usize, 0i64);
    while let Some(r) = rows.next().expect("row") {
        count += 1;
        for i in 0..n {
            check = check.wrapping_add(match r.get_ref(i).expect("column") {
                ValueRef::Null => 0,
                ValueRef::Integer(v) => v,
                ValueRef::Real(v) => v as i64,
                ValueRef::Text(t) | ValueRef::Blob(t) => t.len() as i64,
            });
        }
    }
    std::hint::black_box(check);
    count
}

/// Copies every column of every row into an owned value (a looser floor).
fn read_rows_owned(conn: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> usize {
    let mut stmt = conn.prepare_cached(sql).expect("prepare");
    let n = stmt.column_count();
    let mut rows = stmt.query(args).expect("query");
    let mut out: Vec<Vec<rusqlite::types::Value>> = Vec::new();
    while let Some(r) = rows.next().expect("row") {
        out.push((0..n).map(|i| r.get(i).expect("column")).collect());
    }
    std::hint::black_box(&out);
    out.len()
}

fn ratio(product: f64, floor: f64) -> f64 {
    product / floor
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    let load_before = common::load_average();
    println!("machine: {}", common::machine());
    println!("load average before: {load_before}");
    println!("plugin binary: {}", common::plugin_bin().display());
    let backend = Backend::from_env();
    println!("store: {}", backend.name());
    let mut report = Report::default();
    if backend == Backend::Postgres {
        report.note(format!(
            "store: PostgreSQL {} (scripts/with-postgres: a throwaway server on 127.0.0.1, fsync on)",
            pg::server_version()
        ));
    }

    let need_a = ["memory", "events", "history", "maturity", "throughput"]
        .iter()
        .any(|s| common::wanted(s));
    let need_b = ["maturity", "history", "passive"]
        .iter()
        .any(|s| common::wanted(s));
    let a = need_a.then(|| {
        println!("store A: generating or reusing …");
        let g = stores::wide(A);
        println!("store A: {}", g.describe());
        g
    });
    let b = need_b.then(|| {
        println!("store B: generating or reusing …");
        let g = stores::weekly(B);
        println!("store B: {}", g.describe());
        g
    });
    if let Some(a) = &a {
        report.note(format!("store A: {}", a.describe()));
    }
    if let Some(b) = &b {
        report.note(format!("store B: {}", b.describe()));
    }

    if let Some(a) = &a {
        if common::wanted("memory") {
            handshake_and_idle(&mut report, a).await;
        }
        let mut plugin = Plugin::start(&a.at).await;
        let first = Instant::now();
        plugin
            .client
            .query(
                plugin.client.ctx(None),
                &[],
                vec![query("A", "teams", json!({}), END - DAY_MS, END)],
            )
            .await
            .expect("first query");
        report.note(format!(
            "store A: the first request (opens the store) answered in {}",
            fmt_ms(first.elapsed().as_secs_f64() * 1e3)
        ));
        if common::wanted("events") {
            match &a.at {
                StoreAt::Sqlite(path) => events_query(&mut report, &mut plugin.client, path).await,
                StoreAt::Postgres(url) => {
                    events_query_pg(&mut report, &mut plugin.client, url).await
                }
            }
        }
        if common::wanted("throughput") {
            events_throughput(&mut report, &plugin).await;
        }
        if common::wanted("history") {
            history(&mut report, &mut plugin.client, "A").await;
        }
        if common::wanted("maturity") {
            maturity_cache_a(&mut report, &mut plugin.client).await;
        }
        if common::wanted("memory") {
            serving_memory(&mut report, &plugin).await;
        }
        plugin.stop();
    }
    if let Some(b) = &b {
        if common::wanted("maturity") || common::wanted("history") {
            let mut plugin = Plugin::start(&b.at).await;
            if common::wanted("maturity") {
                match &b.at {
                    StoreAt::Sqlite(path) => {
                        maturity_all(&mut report, &mut plugin.client, path).await
                    }
                    StoreAt::Postgres(url) => {
                        maturity_all_pg(&mut report, &mut plugin.client, url).await
                    }
                }
                maturity_cache_b(&mut report, &mut plugin.client).await;
            }
            if common::wanted("history") {
                history(&mut report, &mut plugin.client, "B").await;
            }
            plugin.stop();
        }
        if common::wanted("maturity") {
            after_write(&mut report, b).await;
        }
        if common::wanted("passive") {
            passive(&mut report, b).await;
        }
    }
    if common::wanted("ingest") {
        match backend {
            Backend::Sqlite => ingest(&mut report).await,
            Backend::Postgres => ingest_pg(&mut report).await,
        }
    }

    let load_after = common::load_average();
    println!("load average after: {load_after}");
    write_report(
        &report,
        &load_before,
        &load_after,
        started.elapsed(),
        backend,
    );
}

/// Handshake latency on store A (spawn → handshake line), over several starts, and the
/// idle memory of a fresh process.
async fn handshake_and_idle(report: &mut Report, a: &Generated) {
    println!("== memory: handshake and idle");
    let mut times = Vec::new();
    let mut idle = None;
    for i in 0..10 {
        let plugin = Plugin::start(&a.at).await;
        times.push(plugin.handshake);
        if i == 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            idle = Some(plugin.mem());
        }
        plugin.stop();
    }
    let s = common::stats(&times);
    report.row(
        "handshake on store A (spawn → handshake line), 10 starts",
        format!("median {}, max {}", fmt_ms(s.median), fmt_ms(s.max)),
        "—",
        "—",
        "≤ 100 ms",
        Some(s.max <= 100.0),
    );
    let idle = idle.unwrap_or_default();
    report.row(
        "resident memory idle (1 s after start, no request yet)",
        format!(
            "VmRSS {:.1} MiB (VmHWM {:.1} MiB)",
            idle.rss_mib(),
            idle.hwm_mib()
        ),
        "—",
        "—",
        "< 20 MiB",
        Some(idle.rss_mib() < 20.0),
    );
}

/// Runs every query type once on store A (timed once, for the record), then reads the
/// plugin's memory.
async fn serving_memory(report: &mut Report, plugin: &Plugin) {
    println!("== memory: every query type once on store A");
    let mut client = plugin.client.clone();
    let mut times = Vec::new();
    for (name, q) in every_query(TEAM, &stores::dashboard(7, 'a'), END) {
        let t = Instant::now();
        client
            .query(client.ctx(Some(("viewer", "Viewer"))), &[], vec![q])
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!("  {name}: {}", fmt_ms(ms));
        times.push(format!("{name} {}", fmt_ms(ms)));
    }
    // `maturity` for all 500 teams of store A (12 weeks ≈ 115,000 events in the window).
    let t = Instant::now();
    client
        .query(
            client.ctx(None),
            &[],
            vec![query("A", "maturity", json!({}), END - DAY_MS, END)],
        )
        .await
        .expect("maturity all teams on A");
    report.note(format!(
        "every query type once on store A (team {TEAM}, all teams where the query has no team): {}; \
         maturity for all 500 teams of A again: {}",
        times.join(", "),
        fmt_ms(t.elapsed().as_secs_f64() * 1e3)
    ));
    let m = plugin.mem();
    report.row(
        "resident memory serving store A (after every benchmark and query type above)",
        format!("VmRSS {:.1} MiB, VmHWM {:.1} MiB", m.rss_mib(), m.hwm_mib()),
        "—",
        "—",
        "< 100 MiB",
        Some(m.hwm_mib() < 100.0),
    );
}

/// `events`: 1,000 events of one dashboard in a 7-day range vs the same SELECT.
async fn events_query(report: &mut Report, client: &mut Client, db: &Path) {
    println!("== events: 1,000 events of one dashboard, 7 days");
    let conn = Connection::open(db).expect("open A directly");
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE org_id = ?1 AND dashboard_uid = ?2 \
         AND time >= ?3 AND time <= ?4 ORDER BY time DESC, id DESC LIMIT ?5 OFFSET ?6"
    );
    let (from, to) = (END - 7 * DAY_MS, END);
    let args = |limit: i64| -> Vec<Box<dyn rusqlite::ToSql>> {
        vec![
            Box::new(1i64),
            Box::new(HOT_DASHBOARD),
            Box::new(from),
            Box::new(to),
            Box::new(limit),
            Box::new(0i64),
        ]
    };
    let boxed = args(1000);
    let refs: Vec<&dyn rusqlite::ToSql> = boxed.iter().map(|b| b.as_ref()).collect();
    let q = || {
        query(
            "A",
            "events",
            json!({"dashboardUid": HOT_DASHBOARD}),
            from,
            to,
        )
    };
    let in_range = read_rows(
        &conn,
        &sql,
        &args(100_000).iter().map(|b| b.as_ref()).collect::<Vec<_>>(),
    );
    let resp = client
        .query(client.ctx(None), &[], vec![q()])
        .await
        .expect("events query");
    let rows = frame_rows(&resp, "A");
    assert_eq!(read_rows(&conn, &sql, &refs), 1000);
    assert_eq!(rows, vec![1000], "the events query answers 1,000 rows");
    println!("  {in_range} events of {HOT_DASHBOARD} in range; both read 1,000");
    let ctx = client.ctx(None);
    let mut c = client.clone();
    let (floor, product) = measure_pair(
        Plan::new(20, 300, 100, 30),
        async || {
            read_rows(&conn, &sql, &refs);
        },
        async || {
            c.query(ctx.clone(), &[], vec![q()]).await.expect("events");
        },
    )
    .await;
    let r = ratio(product.median, floor.median);
    report.row(
        format!(
            "`events` query, 1,000 events of one dashboard in 7 days (store A), n={}",
            product.n
        ),
        product.short(),
        format!(
            "the same SELECT via rusqlite in the bench process, every column looked at: {}",
            floor.short()
        ),
        format!("{r:.2}×"),
        "≤ 1.5× (issue 15; issue 6: ≤ 3×)",
        Some(r <= 1.5),
    );
}

/// `maturityHistory` for one team over 365 days vs one `maturity` query for that team.
async fn history(report: &mut Report, client: &mut Client, store: &str) {
    println!("== history: {TEAM} over 365 days on store {store}");
    let hist = || {
        query(
            "H",
            "maturityHistory",
            json!({"team": TEAM}),
            END - 365 * DAY_MS,
            END,
        )
    };
    let one = || query("M", "maturity", json!({"team": TEAM}), END - DAY_MS, END);
    let resp = client
        .query(client.ctx(None), &[], vec![hist()])
        .await
        .expect("history");
    assert_eq!(frame_rows(&resp, "H"), vec![366], "366 daily steps");
    let ctx = client.ctx(None);
    let (mut c1, mut c2) = (client.clone(), client.clone());
    // The floor stays what it was before the evaluation cache (issue 15): one team's
    // evaluation computed, on a new instance (an empty cache) each time.
    let (single, product) = measure_pair(
        Plan::new(10, 200, 50, 30),
        async || {
            let cold = c1.ctx_of(None, "bench-history-floor", next_instance());
            c1.query(cold, &[], vec![one()]).await.expect("maturity");
        },
        async || {
            c2.query(ctx.clone(), &[], vec![hist()])
                .await
                .expect("history");
        },
    )
    .await;
    let r = ratio(product.median, single.median);
    report.row(
        format!(
            "`maturityHistory`, {TEAM}, 365 daily steps (store {store}), n={}",
            product.n
        ),
        product.short(),
        format!(
            "one `maturity` query for {TEAM} through gRPC (cold: a new instance each): {}",
            single.short()
        ),
        format!("{r:.2}×"),
        "≤ 10×",
        Some(r <= 10.0),
    );
}

/// `maturity` for all 500 teams of store B vs reading the same evidence rows from SQLite.
async fn maturity_all(report: &mut Report, client: &mut Client, db: &Path) {
    println!("== maturity: all 500 teams of store B");
    let conn = Connection::open(db).expect("open B directly");
    let window = 12 * 7 * DAY_MS;
    let (from, to) = (END - window, END);
    // The rows `SqliteStore::evidence` hands the engine for every team at T = END: events
    // of the window, every decision before T and the outcomes naming them (every non-view
    // event of these stores has a team; every view is of a team's dashboard), teams,
    // targets and actuals — read with one SELECT per table. The events are over half of
    // the table, so a plain table scan (NOT INDEXED) is the cheapest way to read them.
    let events_sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events NOT INDEXED WHERE org_id = ?1 AND time < ?2 \
         AND (time >= ?3 OR kind IN ('decision', 'outcome'))"
    );
    let floor_read = || {
        read_rows(
            &conn,
            "SELECT id, name, dashboards, members, cadence_days, created_at FROM teams WHERE org_id = ?1 ORDER BY id",
            &[&1i64],
        ) + read_rows(&conn, &events_sql, &[&1i64, &to, &from])
            + read_rows(
                &conn,
                "SELECT id, team, name, unit, direction, baseline, target, start_at, deadline, query, verification, created_at \
                 FROM targets WHERE org_id = ?1 ORDER BY team, id",
                &[&1i64],
            )
            + read_rows(
                &conn,
                "SELECT target_id, time, value FROM actuals WHERE org_id = ?1 ORDER BY target_id, time",
                &[&1i64],
            )
    };
    let floor_events = read_rows(&conn, &events_sql, &[&1i64, &to, &from]);
    // The same rows as the product reads: checked against the store itself.
    let store = SqliteStore::open(db).expect("open B as a store");
    let t = Instant::now();
    let ev = store.evidence(1, &[], from, to).expect("evidence");
    let evidence_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(
        ev.events.len(),
        floor_events,
        "the floor reads the evidence rows"
    );
    assert_eq!(ev.teams.len(), 500);
    println!(
        "  evidence: {} teams, {} events, {} targets; SqliteStore::evidence in-process {}",
        ev.teams.len(),
        ev.events.len(),
        ev.targets.len(),
        fmt_ms(evidence_ms)
    );
    drop(ev);
    let q = || query("M", "maturity", json!({}), END - DAY_MS, END);
    let resp = client
        .query(client.ctx(None), &[], vec![q()])
        .await
        .expect("maturity");
    assert_eq!(frame_rows(&resp, "M"), vec![500]);
    let plan = Plan::new(3, 40, 10, 60);
    let mut c = client.clone();
    let counts_before = client.cache_counts().await;
    let (floor, product) = measure_pair(
        plan,
        async || {
            floor_read();
        },
        async || {
            let ctx = c.ctx_of(None, COLD_UID, next_instance());
            c.query(ctx, &[], vec![q()]).await.expect("maturity");
        },
    )
    .await;
    let cold_counts = client.cache_counts().await - counts_before;
    let cold_check = check_cold(cold_counts, plan.warmup + product.n, 500);
    // For the record: the product's own store read, in this process.
    let mut in_process = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(store.evidence(1, &[], from, to).expect("evidence"));
        in_process.push(t.elapsed());
    }
    let in_process = common::stats(&in_process);
    // And a looser floor: the same rows copied into owned values, as a generic client would.
    let mut owned = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        read_rows_owned(&conn, &events_sql, &[&1i64, &to, &from]);
        owned.push(t.elapsed());
    }
    let owned = common::stats(&owned);
    report.note(format!(
        "store B evidence at T: {floor_events} events for 500 teams; `SqliteStore::evidence` for \
         all 500 teams in one read (in the bench process) median {}; the event rows copied into \
         owned `rusqlite::types::Value`s median {} (against that looser floor the `maturity` \
         query is {:.2}×)",
        fmt_ms(in_process.median),
        fmt_ms(owned.median),
        product.median / owned.median
    ));
    let r = ratio(product.median, floor.median);
    report.row(
        format!(
            "`maturity` query, all 500 teams (store B), **cold**: a new plugin instance (an empty evaluation cache) for every call; {cold_check}; n={}",
            product.n
        ),
        product.short(),
        format!(
            "the same evidence rows via rusqlite, one SELECT per table (events by table scan), every column looked at: {}",
            floor.short()
        ),
        format!("{r:.2}×"),
        "≤ 1.5× (issue 15; issue 6: ≤ 3×)",
        Some(r <= 1.5),
    );
}

const INSERT: &str = "INSERT INTO events (org_id, id, kind, time, time_end, team, dashboard_uid, \
    panel_id, user_login, text, tags, data, source, created_at, updated_at, decision_id, view_bucket) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/// A fresh store with store B's 500 teams (no events).
fn fresh_store_with_teams(dir: &Path, name: &str) -> std::path::PathBuf {
    let db = dir.join(name);
    let store = SqliteStore::open(&db).expect("fresh store");
    for t in 0..500 {
        store
            .create_team(
                1,
                &maturity::model::Team {
                    id: stores::team_id(t),
                    name: format!("Team {t}"),
                    dashboards: vec![stores::dashboard(t, 'a'), stores::dashboard(t, 'b')],
                    members: (0..5).map(|k| stores::member(t, k)).collect(),
                    cadence_days: 7,
                    created_at: END,
                },
            )
            .expect("team");
    }
    db
}

/// `POST /events` in batches of 1,000 vs the same inserts with rusqlite (one transaction
/// per 1,000, WAL, synchronous=FULL).
async fn ingest(report: &mut Report) {
    println!("== ingest: POST /events in batches of 1,000");
    let dir = tempfile::Builder::new()
        .prefix("maturity-bench-ingest-")
        .tempdir_in(common::target_dir())
        .expect("tempdir");
    let product_db = fresh_store_with_teams(dir.path(), "product.db");
    let floor_db = fresh_store_with_teams(dir.path(), "floor.db");
    let plan = Plan::new(3, 40, 40, 600);
    let batches = plan.warmup + plan.n;
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let events: Vec<Vec<Event>> = (0..batches)
        .map(|b| stores::api_batch(&mut rng, b, 1000, 500))
        .collect();
    let bodies: Vec<Vec<u8>> = events
        .iter()
        .map(|batch| {
            serde_json::to_vec(&batch.iter().map(stores::api_json).collect::<Vec<_>>())
                .expect("json")
        })
        .collect();
    let rows: Vec<Vec<(Event, String, String)>> = events
        .into_iter()
        .map(|batch| {
            batch
                .into_iter()
                .map(|e| {
                    let tags = serde_json::to_string(&e.tags).expect("tags");
                    let data = serde_json::to_string(&e.data).expect("data");
                    (e, tags, data)
                })
                .collect()
        })
        .collect();
    let mut conn = Connection::open(&floor_db).expect("floor connection");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    let plugin = Plugin::start(&StoreAt::Sqlite(product_db.clone())).await;
    let mut client = plugin.client.clone();
    let ctx = client.ctx(Some(("editor", "Editor")));
    let mut bodies = bodies.into_iter();
    let mut rows = rows.into_iter();
    let now = END;
    let (floor, product) = measure_pair(
        plan,
        async || {
            let batch = rows.next().expect("a floor batch");
            let tx = conn.transaction().expect("tx");
            {
                let mut stmt = tx.prepare_cached(INSERT).expect("prepare");
                for (e, tags, data) in &batch {
                    stmt.execute(params![
                        1i64,
                        e.id,
                        e.kind.as_str(),
                        e.time,
                        e.time_end,
                        e.team,
                        e.dashboard_uid,
                        e.panel_id,
                        "editor",
                        e.text,
                        tags,
                        data,
                        "api",
                        now,
                        now,
                        e.decision_id(),
                        None::<i64>,
                    ])
                    .expect("insert");
                }
            }
            tx.commit().expect("commit");
        },
        async || {
            let body = bodies.next().expect("a product batch");
            client
                .call_ok(ctx.clone(), "POST", "events", body, 201)
                .await
                .expect("POST /events");
        },
    )
    .await;
    let stored = SqliteStore::open(&product_db)
        .expect("reopen")
        .counts(1)
        .expect("counts")
        .events;
    assert_eq!(stored as usize, batches * 1000, "every posted event stored");
    plugin.stop();
    let rate = |s: &Stats| 1000.0 / (s.median / 1e3);
    let total = |s: &Stats| 1000.0 / (s.mean / 1e3);
    report.row(
        format!(
            "ingest, `POST /events` batches of 1,000 (fresh store, 500 teams), {} batches",
            product.n
        ),
        format!(
            "{:.0} events/s (median batch {}, mean-rate {:.0}/s)",
            rate(&product),
            fmt_ms(product.median),
            total(&product)
        ),
        format!(
            "rusqlite, 1 tx per 1,000, WAL, synchronous=FULL: {:.0} events/s (median batch {})",
            rate(&floor),
            fmt_ms(floor.median)
        ),
        format!("{:.2}× the floor's time", product.median / floor.median),
        "≥ 20,000 events/s",
        Some(rate(&product) >= 20_000.0),
    );
}

/// The cost of handing a job to tokio's blocking pool and getting its answer back (every
/// PostgreSQL floor pays it once a run; it is in the floor's time, so ratios are a little
/// lower than with a floor on the calling thread).
async fn hop_cost(pgc: &pg::Shared) -> Stats {
    let mut times = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        pgc.run(|_| ()).await;
        times.push(t.elapsed());
    }
    common::stats(&times[50..])
}

/// `events` on PostgreSQL: the same 1,000 events vs the same SELECT with the blocking
/// `postgres` client (prepared once), every column looked at.
async fn events_query_pg(report: &mut Report, client: &mut Client, url: &str) {
    println!("== events: 1,000 events of one dashboard, 7 days (PostgreSQL)");
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1 AND dashboard_uid = $2 \
         AND time >= $3 AND time <= $4 ORDER BY time DESC, id DESC LIMIT $5 OFFSET $6"
    );
    let (from, to) = (END - 7 * DAY_MS, END);
    let pgc = pg::Shared::connect(url);
    let stmt = pgc.run(move |c| c.prepare(&sql).expect("prepare")).await;
    let read = |limit: i64| {
        let stmt = stmt.clone();
        pgc.run(move |c| {
            pg::read_rows(
                c,
                &stmt,
                &[&1i64, &HOT_DASHBOARD, &from, &to, &limit, &0i64],
            )
        })
    };
    let q = || {
        query(
            "A",
            "events",
            json!({"dashboardUid": HOT_DASHBOARD}),
            from,
            to,
        )
    };
    let in_range = read(100_000).await;
    let resp = client
        .query(client.ctx(None), &[], vec![q()])
        .await
        .expect("events query");
    assert_eq!(read(1000).await, 1000);
    assert_eq!(
        frame_rows(&resp, "A"),
        vec![1000],
        "the events query answers 1,000 rows"
    );
    println!("  {in_range} events of {HOT_DASHBOARD} in range; both read 1,000");
    let hop = hop_cost(&pgc).await;
    let ctx = client.ctx(None);
    let mut c = client.clone();
    let (floor, product) = measure_pair(
        Plan::new(20, 300, 100, 30),
        async || {
            read(1000).await;
        },
        async || {
            c.query(ctx.clone(), &[], vec![q()]).await.expect("events");
        },
    )
    .await;
    let r = ratio(product.median, floor.median);
    report.row(
        format!(
            "`events` query, 1,000 events of one dashboard in 7 days (store A), n={}",
            product.n
        ),
        product.short(),
        format!(
            "the same SELECT via the blocking `postgres` client in the bench process (prepared), every column looked at: {}",
            floor.short()
        ),
        format!("{r:.2}×"),
        "≤ 1.5× (issue 15; issue 6: ≤ 3×)",
        Some(r <= 1.5),
    );
    report.note(format!(
        "PostgreSQL floors run on tokio's blocking pool; handing a job there and back costs \
         median {} (in the floor's time)",
        fmt_ms(hop.median)
    ));
    pgc.close();
}

/// `maturity` for all 500 teams of store B on PostgreSQL vs the same evidence rows read
/// with the blocking client, one SELECT per table, the events by a sequential scan.
async fn maturity_all_pg(report: &mut Report, client: &mut Client, url: &str) {
    println!("== maturity: all 500 teams of store B (PostgreSQL)");
    let window = 12 * 7 * DAY_MS;
    let (from, to) = (END - window, END);
    let events_sql = format!(
        "SELECT {EVENT_COLUMNS} FROM maturity.events WHERE org_id = $1 AND time < $2 \
         AND (time >= $3 OR kind IN ('decision', 'outcome'))"
    );
    let pgc = pg::Shared::connect(url);
    // The events are over half of the table: a sequential scan is the cheapest way, as
    // SQLite's NOT INDEXED (index scans off for this connection only).
    let (stmts, plan) = pgc
        .run(move |c| {
            c.batch_execute(
                "SET enable_indexscan = off; SET enable_bitmapscan = off; \
                 SET enable_indexonlyscan = off",
            )
            .expect("set");
            let plan: Vec<String> = c
                .query(
                    &format!("EXPLAIN {events_sql}"),
                    &[&1i64, &to, &from],
                )
                .expect("explain")
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect();
            let stmts = [
                "SELECT id, name, dashboards, members, cadence_days, created_at FROM maturity.teams \
                 WHERE org_id = $1 ORDER BY id"
                    .to_string(),
                events_sql,
                "SELECT id, team, name, unit, direction, baseline, target, start_at, deadline, query, \
                 verification, created_at FROM maturity.targets WHERE org_id = $1 ORDER BY team, id"
                    .to_string(),
                "SELECT target_id, time, value FROM maturity.actuals WHERE org_id = $1 \
                 ORDER BY target_id, time"
                    .to_string(),
            ]
            .map(|sql| c.prepare(&sql).expect("prepare"));
            (stmts, plan)
        })
        .await;
    println!("  floor's event read: {}", plan.join(" / "));
    let floor_read = || {
        let stmts = stmts.clone();
        pgc.run(move |c| {
            let (teams, events, targets, actuals) = (
                pg::read_rows(c, &stmts[0], &[&1i64]),
                pg::read_rows(c, &stmts[1], &[&1i64, &to, &from]),
                pg::read_rows(c, &stmts[2], &[&1i64]),
                pg::read_rows(c, &stmts[3], &[&1i64]),
            );
            (teams, events, targets, actuals)
        })
    };
    let (_, floor_events, _, _) = floor_read().await;
    // The same rows as the product reads: checked against the store itself, and its own
    // read timed in this process.
    let store_url = url.to_string();
    let (count, teams, in_process) = pg::blocking(move || {
        let store = open_store(&Storage::Postgres {
            url: Secret::new(store_url),
        })
        .expect("open B as a store");
        let ev = store.evidence(1, &[], from, to).expect("evidence");
        let (count, teams) = (ev.events.len(), ev.teams.len());
        drop(ev);
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(store.evidence(1, &[], from, to).expect("evidence"));
            times.push(t.elapsed());
        }
        (count, teams, common::stats(&times))
    });
    assert_eq!(count, floor_events, "the floor reads the evidence rows");
    assert_eq!(teams, 500);
    println!(
        "  evidence: {teams} teams, {count} events; PostgresStore::evidence in-process {}",
        fmt_ms(in_process.median)
    );
    let q = || query("M", "maturity", json!({}), END - DAY_MS, END);
    let resp = client
        .query(client.ctx(None), &[], vec![q()])
        .await
        .expect("maturity");
    assert_eq!(frame_rows(&resp, "M"), vec![500]);
    let pair_plan = Plan::new(3, 40, 10, 60);
    let mut c = client.clone();
    let counts_before = client.cache_counts().await;
    let (floor, product) = measure_pair(
        pair_plan,
        async || {
            floor_read().await;
        },
        async || {
            let ctx = c.ctx_of(None, COLD_UID, next_instance());
            c.query(ctx, &[], vec![q()]).await.expect("maturity");
        },
    )
    .await;
    let cold_counts = client.cache_counts().await - counts_before;
    let cold_check = check_cold(cold_counts, pair_plan.warmup + product.n, 500);
    report.note(format!(
        "store B evidence at T: {floor_events} events for 500 teams; `PostgresStore::evidence` \
         for all 500 teams in one read (in the bench process) median {}; the floor's event read: \
         {}",
        fmt_ms(in_process.median),
        plan.first().map(String::as_str).unwrap_or("?")
    ));
    let r = ratio(product.median, floor.median);
    report.row(
        format!(
            "`maturity` query, all 500 teams (store B), **cold**: a new plugin instance (an empty evaluation cache) for every call; {cold_check}; n={}",
            product.n
        ),
        product.short(),
        format!(
            "the same evidence rows via the blocking `postgres` client, one SELECT per table (events by sequential scan), every column looked at: {}",
            floor.short()
        ),
        format!("{r:.2}×"),
        "≤ 1.5× (issue 15; issue 6: ≤ 3×)",
        Some(r <= 1.5),
    );
    pgc.close();
}

const INSERT_PG: &str = "INSERT INTO maturity.events (org_id, id, kind, time, time_end, team, \
    dashboard_uid, panel_id, user_login, text, tags, data, source, created_at, updated_at, \
    decision_id, view_bucket) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/// The same rows as one statement over arrays (what `PostgresStore::insert_events` sends).
const INSERT_PG_UNNEST: &str = "INSERT INTO maturity.events (org_id, id, kind, time, time_end, \
    team, dashboard_uid, panel_id, user_login, text, tags, data, source, created_at, updated_at, \
    decision_id, view_bucket) \
    SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], \
    $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
    $14::int8[], $15::int8[], $16::text[], $17::int8[])";

/// A fresh PostgreSQL database with store B's 500 teams (no events); answers its URL.
fn fresh_pg_with_teams(name: &str) -> String {
    let url = pg::fresh_database(name);
    let store_url = url.clone();
    pg::blocking(move || {
        let store = open_store(&Storage::Postgres {
            url: Secret::new(store_url),
        })
        .expect("fresh store");
        for t in 0..500 {
            store
                .create_team(
                    1,
                    &maturity::model::Team {
                        id: stores::team_id(t),
                        name: format!("Team {t}"),
                        dashboards: vec![stores::dashboard(t, 'a'), stores::dashboard(t, 'b')],
                        members: (0..5).map(|k| stores::member(t, k)).collect(),
                        cadence_days: 7,
                        created_at: END,
                    },
                )
                .expect("team");
        }
    });
    url
}

type PgRow = (Event, String, String);

/// `POST /events` in batches of 1,000 on PostgreSQL vs the same rows inserted with the
/// blocking client: one transaction per 1,000, one prepared INSERT (a round trip a row).
/// Then, for the record, the same kind of batches as one INSERT over arrays per transaction.
async fn ingest_pg(report: &mut Report) {
    println!("== ingest: POST /events in batches of 1,000 (PostgreSQL)");
    let product_db = fresh_pg_with_teams("bench_ingest_product");
    let floor_db = fresh_pg_with_teams("bench_ingest_floor");
    let plan = Plan::new(3, 40, 40, 600);
    let batches = plan.warmup + plan.n;
    let extra = 20;
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let events: Vec<Vec<Event>> = (0..batches + extra)
        .map(|b| stores::api_batch(&mut rng, b, 1000, 500))
        .collect();
    let bodies: Vec<Vec<u8>> = events
        .iter()
        .map(|batch| {
            serde_json::to_vec(&batch.iter().map(stores::api_json).collect::<Vec<_>>())
                .expect("json")
        })
        .collect();
    let mut rows: Vec<Vec<PgRow>> = events
        .into_iter()
        .map(|batch| {
            batch
                .into_iter()
                .map(|e| {
                    let tags = serde_json::to_string(&e.tags).expect("tags");
                    let data = serde_json::to_string(&e.data).expect("data");
                    (e, tags, data)
                })
                .collect()
        })
        .collect();
    let unnest_rows = rows.split_off(batches);
    let pgc = pg::Shared::connect(&floor_db);
    let (stmt, unnest) = pgc
        .run(|c| {
            (
                c.prepare(INSERT_PG).expect("prepare"),
                c.prepare(INSERT_PG_UNNEST).expect("prepare"),
            )
        })
        .await;
    let plugin = Plugin::start(&StoreAt::Postgres(product_db.clone())).await;
    let mut client = plugin.client.clone();
    let ctx = client.ctx(Some(("editor", "Editor")));
    let mut bodies = bodies.into_iter();
    let mut rows = rows.into_iter();
    let now = END;
    let (floor, product) = measure_pair(
        plan,
        async || {
            let batch = rows.next().expect("a floor batch");
            let stmt = stmt.clone();
            pgc.run(move |c| {
                let mut tx = c.transaction().expect("tx");
                for (e, tags, data) in &batch {
                    tx.execute(
                        &stmt,
                        &[
                            &1i64,
                            &e.id,
                            &e.kind.as_str(),
                            &e.time,
                            &e.time_end,
                            &e.team,
                            &e.dashboard_uid,
                            &e.panel_id,
                            &"editor",
                            &e.text,
                            tags,
                            data,
                            &"api",
                            &now,
                            &now,
                            &e.decision_id(),
                            &None::<i64>,
                        ],
                    )
                    .expect("insert");
                }
                tx.commit().expect("commit");
            })
            .await;
        },
        async || {
            let body = bodies.next().expect("a product batch");
            client
                .call_ok(ctx.clone(), "POST", "events", body, 201)
                .await
                .expect("POST /events");
        },
    )
    .await;
    plugin.stop();
    // For the record: the same kind of batch as one statement over arrays, per transaction.
    let mut unnest_times = Vec::new();
    for batch in unnest_rows {
        let unnest = unnest.clone();
        let t = Instant::now();
        pgc.run(move |c| {
            let n = batch.len();
            let orgs = vec![1i64; n];
            let ids: Vec<&str> = batch.iter().map(|(e, _, _)| e.id.as_str()).collect();
            let kinds: Vec<&str> = batch.iter().map(|(e, _, _)| e.kind.as_str()).collect();
            let times: Vec<i64> = batch.iter().map(|(e, _, _)| e.time).collect();
            let ends: Vec<Option<i64>> = batch.iter().map(|(e, _, _)| e.time_end).collect();
            let teams: Vec<Option<&str>> =
                batch.iter().map(|(e, _, _)| e.team.as_deref()).collect();
            let dashes: Vec<Option<&str>> = batch
                .iter()
                .map(|(e, _, _)| e.dashboard_uid.as_deref())
                .collect();
            let panels: Vec<Option<i64>> = batch.iter().map(|(e, _, _)| e.panel_id).collect();
            let users = vec!["editor"; n];
            let texts: Vec<&str> = batch.iter().map(|(e, _, _)| e.text.as_str()).collect();
            let tags: Vec<&str> = batch.iter().map(|(_, t, _)| t.as_str()).collect();
            let data: Vec<&str> = batch.iter().map(|(_, _, d)| d.as_str()).collect();
            let sources = vec!["api"; n];
            let stamps = vec![now; n];
            let decisions: Vec<Option<&str>> =
                batch.iter().map(|(e, _, _)| e.decision_id()).collect();
            let buckets = vec![None::<i64>; n];
            let mut tx = c.transaction().expect("tx");
            tx.execute(
                &unnest,
                &[
                    &orgs, &ids, &kinds, &times, &ends, &teams, &dashes, &panels, &users, &texts,
                    &tags, &data, &sources, &stamps, &stamps, &decisions, &buckets,
                ],
            )
            .expect("insert");
            tx.commit().expect("commit");
        })
        .await;
        unnest_times.push(t.elapsed());
    }
    let unnest = common::stats(&unnest_times);
    let (stored, floor_stored) = {
        let (p, f) = (product_db.clone(), floor_db.clone());
        pg::blocking(move || {
            let count = |url: &str| -> i64 {
                pg::connect(url)
                    .query_one("SELECT count(*) FROM maturity.events", &[])
                    .expect("count")
                    .get(0)
            };
            (count(&p), count(&f))
        })
    };
    assert_eq!(stored as usize, batches * 1000, "every posted event stored");
    assert_eq!(floor_stored as usize, (batches + extra) * 1000);
    pgc.close();
    let rate = |s: &Stats| 1000.0 / (s.median / 1e3);
    let total = |s: &Stats| 1000.0 / (s.mean / 1e3);
    report.note(format!(
        "ingest on PostgreSQL, for the record: the same kind of batch as one INSERT … SELECT \
         FROM unnest(arrays) per transaction (as the store sends it), {} batches after the \
         interleaved run: {:.0} events/s (median batch {})",
        unnest.n,
        rate(&unnest),
        fmt_ms(unnest.median)
    ));
    report.row(
        format!(
            "ingest, `POST /events` batches of 1,000 (fresh store, 500 teams), {} batches",
            product.n
        ),
        format!(
            "{:.0} events/s (median batch {}, mean-rate {:.0}/s)",
            rate(&product),
            fmt_ms(product.median),
            total(&product)
        ),
        format!(
            "blocking `postgres` client, 1 tx per 1,000, one prepared INSERT a row, synchronous_commit on: {:.0} events/s (median batch {})",
            rate(&floor),
            fmt_ms(floor.median)
        ),
        format!("{:.2}× the floor's time", product.median / floor.median),
        "≥ 20,000 events/s",
        Some(rate(&product) >= 20_000.0),
    );
}

/// Passive view capture: the same query with and without `http_X-Dashboard-Uid` (and a
/// user), distinct users (a view written per query) and one user (the dedup path).
async fn passive(report: &mut Report, b: &Generated) {
    println!("== passive view capture (a copy of store B)");
    let (_dir, db) = common::scratch(&b.at, "bench_passive");
    let plugin = Plugin::start(&db).await;
    let dash = stores::dashboard(7, 'a');
    let riders: Vec<(&str, DataQuery)> = vec![
        (
            "`events` annotations of a team dashboard, 7 days",
            query(
                "A",
                "events",
                json!({"dashboardUid": dash}),
                END - 7 * DAY_MS,
                END,
            ),
        ),
        (
            "`teams` (the cheapest query)",
            query("A", "teams", json!({}), END - DAY_MS, END),
        ),
    ];
    let headers = [
        ("http_X-Dashboard-Uid", dash.as_str()),
        ("http_X-Panel-Id", "2"),
    ];
    let mut user_no = 0usize;
    for (label, q) in riders {
        for distinct in [true, false] {
            let mut c1 = plugin.client.clone();
            let mut c2 = plugin.client.clone();
            let plan = Plan::new(100, 1500, 1500, 120);
            let before = user_no;
            let same_user = format!("same-{}", label.len());
            let (without, with) = measure_pair(
                plan,
                async || {
                    let ctx = c1.ctx(Some(("viewer", "Viewer")));
                    c1.query(ctx, &[], vec![q.clone()]).await.expect("query");
                },
                async || {
                    let login = if distinct {
                        user_no += 1;
                        format!("pv-{user_no}")
                    } else {
                        same_user.clone()
                    };
                    let ctx = c2.ctx(Some((&login, "Viewer")));
                    c2.query(ctx, &headers, vec![q.clone()])
                        .await
                        .expect("query");
                },
            )
            .await;
            tokio::time::sleep(Duration::from_millis(800)).await;
            let written = views_written(&db, distinct, before as i64, &same_user);
            let asked = if distinct {
                user_no - before
            } else {
                plan.warmup + with.n
            };
            let med = with.median / without.median - 1.0;
            let mean = with.mean / without.mean - 1.0;
            report.row(
                format!(
                    "passive view capture on {label}, {} (n={}; views written: {written} for {asked} queries)",
                    if distinct { "a distinct user per query: a view written each" } else { "one user: the dedup path" },
                    with.n,
                ),
                format!("with header: {} (mean {})", with.short(), fmt_ms(with.mean)),
                format!("without: {} (mean {})", without.short(), fmt_ms(without.mean)),
                format!("+{:.1}% median, +{:.1}% mean", med * 100.0, mean * 100.0),
                "< +10%",
                Some(med < 0.10 && mean < 0.10),
            );
        }
    }
    plugin.stop();
}

/// Passive views written by the users of one passive run: `pv-N` with N > `before`
/// (distinct users) or `same_user`.
fn views_written(db: &StoreAt, distinct: bool, before: i64, same_user: &str) -> i64 {
    match db {
        StoreAt::Sqlite(path) => {
            let conn = Connection::open(path).expect("open copy");
            if distinct {
                conn.query_row(
                    "SELECT count(*) FROM events WHERE source = 'passive' AND user_login LIKE 'pv-%' \
                     AND CAST(substr(user_login, 4) AS INTEGER) > ?1",
                    [before],
                    |r| r.get(0),
                )
                .expect("count")
            } else {
                conn.query_row(
                    "SELECT count(*) FROM events WHERE source = 'passive' AND user_login = ?1",
                    [same_user],
                    |r| r.get(0),
                )
                .expect("count")
            }
        }
        StoreAt::Postgres(url) => pg::blocking(|| {
            let mut c = pg::connect(url);
            let row = if distinct {
                c.query_one(
                    "SELECT count(*) FROM maturity.events WHERE source = 'passive' \
                     AND user_login LIKE 'pv-%' AND CAST(substr(user_login, 4) AS BIGINT) > $1",
                    &[&before],
                )
            } else {
                c.query_one(
                    "SELECT count(*) FROM maturity.events WHERE source = 'passive' \
                     AND user_login = $1",
                    &[&same_user],
                )
            };
            row.expect("count").get(0)
        }),
    }
}

/// The datasource uid whose instance is replaced before every cold `maturity` call.
const COLD_UID: &str = "bench-cold";

/// A `lastUpdatedMS` never used before in this run: a request carrying it makes the plugin
/// build a new instance of its datasource uid, with a new, empty evaluation cache (on the
/// same store handle: no store is opened again).
fn next_instance() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_000_000);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Checks that `calls` cold `maturity` calls over `teams` teams computed every evaluation
/// (CollectMetrics' `maturity_evaluation_cache_total`), and says so for the report.
fn check_cold(counts: CacheCounts, calls: usize, teams: usize) -> String {
    let want = (calls * teams) as u64;
    if counts.hits == 0 && counts.misses == want {
        format!("checked: {calls} calls × {teams} teams = {want} misses, 0 hits")
    } else {
        println!("  WARNING: cold calls were served from the cache: {counts}, want {want} misses");
        format!("**check failed**: {counts} over {calls} calls × {teams} teams (want {want} misses, 0 hits)")
    }
}

/// `maturity` for every team at `at` (Grafana's range ends there).
fn maturity_at(at: i64) -> DataQuery {
    query("M", "maturity", json!({}), at - DAY_MS, at)
}

/// Cold and warm `maturity` calls of all teams at `END`, interleaved: `rounds` rounds of one
/// cold call (a new instance) and `per_round` warm calls on instance `warm_uid` (filled by
/// one call first). The cache counters' change over the rounds is checked against exactly
/// `rounds × teams` misses and `rounds × per_round × teams` hits.
struct ColdWarm {
    cold: Stats,
    warm: Stats,
    counts: CacheCounts,
    want: CacheCounts,
}

impl ColdWarm {
    fn check(&self) -> String {
        if self.counts == self.want {
            format!("checked: {} (every warm call served every team from the cache, every cold call computed every team)", self.counts)
        } else {
            println!(
                "  WARNING: cache counts {}, want {}",
                self.counts, self.want
            );
            format!("**check failed**: {}, want {}", self.counts, self.want)
        }
    }
}

async fn cold_warm_rounds(
    client: &mut Client,
    teams: usize,
    rounds: usize,
    per_round: usize,
    warm_uid: &str,
) -> ColdWarm {
    let warm_ctx = client.ctx_of(None, warm_uid, 1);
    for _ in 0..3 {
        let resp = client
            .query(warm_ctx.clone(), &[], vec![maturity_at(END)])
            .await
            .expect("maturity, filling the cache");
        assert_eq!(frame_rows(&resp, "M"), vec![teams]);
    }
    let before = client.cache_counts().await;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let cold_ctx = client.ctx_of(None, COLD_UID, next_instance());
        let cold_first = r % 2 == 0;
        if cold_first {
            let t = Instant::now();
            client
                .query(cold_ctx.clone(), &[], vec![maturity_at(END)])
                .await
                .expect("cold");
            cold.push(t.elapsed());
        }
        for _ in 0..per_round {
            let t = Instant::now();
            client
                .query(warm_ctx.clone(), &[], vec![maturity_at(END)])
                .await
                .expect("warm");
            warm.push(t.elapsed());
        }
        if !cold_first {
            let t = Instant::now();
            client
                .query(cold_ctx, &[], vec![maturity_at(END)])
                .await
                .expect("cold");
            cold.push(t.elapsed());
        }
    }
    let counts = client.cache_counts().await - before;
    ColdWarm {
        cold: common::stats(&cold),
        warm: common::stats(&warm),
        counts,
        want: CacheCounts {
            hits: (rounds * per_round * teams) as u64,
            misses: (rounds * teams) as u64,
        },
    }
}

/// The warm `maturity` rows of one store (and the ratio warm/cold of the same rounds).
fn report_warm(report: &mut Report, store: &str, cw: &ColdWarm, budget_ms: Option<f64>) {
    let r = cw.warm.median / cw.cold.median;
    let (budget, met) = match budget_ms {
        Some(ms) => (
            format!("≤ {ms} ms and ≤ 0.05× cold"),
            cw.warm.median <= ms && r <= 0.05,
        ),
        None => ("≤ 0.05× cold".to_string(), r <= 0.05),
    };
    report.row(
        format!(
            "`maturity` query, all 500 teams ({store}), **warm**: the same query again, nothing changed, same instant; {}; n={}",
            cw.check(),
            cw.warm.n
        ),
        format!("{} (mean {})", cw.warm.short(), fmt_ms(cw.warm.mean)),
        format!(
            "the same query cold (a new instance each), interleaved: {} n={}",
            cw.cold.short(),
            cw.cold.n
        ),
        format!("{r:.4}× cold"),
        budget,
        Some(met && cw.counts == cw.want),
    );
}

/// Warm calls as alerting makes them: the instant moves on by a minute each call, on the
/// instance `warm_uid` filled at `END`. Teams whose evaluation may have changed by then (an
/// event left the window, a deadline passed: the engine's `stable_until`) are computed again.
async fn advancing(report: &mut Report, client: &mut Client, store: &str, warm_uid: &str) {
    let ctx = client.ctx_of(None, warm_uid, 1);
    let (mut times, mut misses, mut calls_missing) = (Vec::new(), 0u64, 0usize);
    let mut hits = 0u64;
    let calls = 60;
    for k in 1..=calls {
        let before = client.cache_counts().await;
        let t = Instant::now();
        client
            .query(ctx.clone(), &[], vec![maturity_at(END + k * 60_000)])
            .await
            .expect("maturity, a minute later");
        times.push(t.elapsed());
        let d = client.cache_counts().await - before;
        misses += d.misses;
        hits += d.hits;
        calls_missing += usize::from(d.misses > 0);
    }
    let s = common::stats(&times);
    report.row(
        format!(
            "`maturity` query, all 500 teams ({store}), warm as alerting asks: {calls} calls, the instant 1 minute later each time (`END` + 1 … {calls} min)"
        ),
        format!("{} (mean {}, max {})", s.short(), fmt_ms(s.mean), fmt_ms(s.max)),
        format!(
            "cache over the {calls} calls: {hits} hits, {misses} misses; {calls_missing} of {calls} calls computed at least one team"
        ),
        "—",
        "—",
        None,
    );
}

/// The `maturity` section's cache figures on store B (the plugin already serving B).
async fn maturity_cache_b(report: &mut Report, client: &mut Client) {
    println!("== maturity: warm, store B");
    let cw = cold_warm_rounds(client, 500, 20, 10, "bench-warm-b").await;
    report_warm(report, "store B", &cw, None);
    advancing(report, client, "store B", "bench-warm-b").await;
}

/// The `maturity` section on store A (1M events): warm against cold, interleaved.
async fn maturity_cache_a(report: &mut Report, client: &mut Client) {
    println!("== maturity: cold and warm, store A");
    let cw = cold_warm_rounds(client, 500, 8, 25, "bench-warm-a").await;
    report_warm(report, "store A, 1M events", &cw, Some(5.0));
}

/// After one team's write, the query again: only that team is computed. On a copy of
/// store B: `rounds` rounds of one `POST /events` (a question of one team) then the
/// `maturity` query for all 500 teams, its time and the cache counters' change.
async fn after_write(report: &mut Report, b: &Generated) {
    println!("== maturity: after one team's write (a copy of store B)");
    let (_dir, db) = common::scratch(&b.at, "bench_maturity_write");
    let plugin = Plugin::start(&db).await;
    let mut client = plugin.client.clone();
    let uid = "bench-write";
    let viewer = client.ctx_of(None, uid, 1);
    let editor = client.ctx_of(Some(("editor", "Editor")), uid, 1);
    for _ in 0..3 {
        client
            .query(viewer.clone(), &[], vec![maturity_at(END)])
            .await
            .expect("maturity, filling the cache");
    }
    let rounds = 20usize;
    let (mut times, mut warm_times, mut deltas) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let team = stores::team_id((r * 37) % 500);
        let body = json!({
            "kind": "question",
            "team": team,
            "text": "bench: one team's write",
            "time": END - 3_600_000,
        });
        client
            .call_ok(
                editor.clone(),
                "POST",
                "events",
                serde_json::to_vec(&body).expect("json"),
                201,
            )
            .await
            .expect("POST /events");
        let before = client.cache_counts().await;
        let t = Instant::now();
        let resp = client
            .query(viewer.clone(), &[], vec![maturity_at(END)])
            .await
            .expect("maturity after a write");
        times.push(t.elapsed());
        deltas.push(client.cache_counts().await - before);
        assert_eq!(frame_rows(&resp, "M"), vec![500]);
        // And once more with nothing changed (warm again, for comparison).
        let t = Instant::now();
        client
            .query(viewer.clone(), &[], vec![maturity_at(END)])
            .await
            .expect("maturity warm");
        warm_times.push(t.elapsed());
    }
    plugin.stop();
    let s = common::stats(&times);
    let w = common::stats(&warm_times);
    let all_one = deltas.iter().all(|d| d.misses == 1 && d.hits == 499);
    let misses: Vec<String> = deltas.iter().map(|d| d.misses.to_string()).collect();
    report.row(
        format!(
            "`maturity` query, all 500 teams (copy of store B), **after one team's write** (`POST /events`, one question of one team, then the query at the same instant), {rounds} rounds"
        ),
        format!("{} (mean {})", s.short(), fmt_ms(s.mean)),
        format!(
            "the same query again right after, nothing changed: {}; misses per query after a write (from CollectMetrics): {}",
            w.short(),
            misses.join(", ")
        ),
        format!("{:.2}× warm", s.median / w.median),
        "only that team re-evaluated: 1 miss, 499 hits",
        Some(all_one),
    );
}

/// `events` throughput (store A, 1,000 events of one dashboard, 7 days) from 1, 2, 4 and 8
/// concurrent clients, each on its own connection, `secs` seconds each after one second
/// of warm-up; twice (1→8, then 8→1), with the CPU the plugin and the bench used meanwhile.
async fn events_throughput(report: &mut Report, plugin: &Plugin) {
    println!("== throughput: events from 1, 2, 4, 8 clients");
    let secs = 5u64;
    let q = || {
        query(
            "A",
            "events",
            json!({"dashboardUid": HOT_DASHBOARD}),
            END - 7 * DAY_MS,
            END,
        )
    };
    let mut rates: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    let mut lines = Vec::new();
    for clients in [1usize, 2, 4, 8, 8, 4, 2, 1] {
        let mut conns = Vec::new();
        for _ in 0..clients {
            conns.push(plugin.connect().await);
        }
        let start = Instant::now();
        let (from, to) = (
            start + Duration::from_secs(1),
            start + Duration::from_secs(1 + secs),
        );
        let mut tasks = Vec::new();
        for mut c in conns {
            tasks.push(tokio::spawn(async move {
                let ctx = c.ctx(None);
                let (mut done, mut lat) = (0usize, Vec::new());
                loop {
                    let t = Instant::now();
                    if t >= to {
                        break;
                    }
                    c.query(ctx.clone(), &[], vec![q()]).await.expect("events");
                    let end = Instant::now();
                    if end >= from && end < to {
                        done += 1;
                        lat.push(end - t);
                    }
                }
                (done, lat)
            }));
        }
        tokio::time::sleep_until(from.into()).await;
        let (p0, b0) = (
            common::cpu_seconds(&plugin.pid.to_string()),
            common::cpu_seconds("self"),
        );
        tokio::time::sleep_until(to.into()).await;
        let (p1, b1) = (
            common::cpu_seconds(&plugin.pid.to_string()),
            common::cpu_seconds("self"),
        );
        let (mut done, mut lat) = (0usize, Vec::new());
        for t in tasks {
            let (d, l) = t.await.expect("client");
            done += d;
            lat.extend(l);
        }
        let rate = done as f64 / secs as f64;
        let s = common::stats(&lat);
        let line = format!(
            "{clients} client(s): {rate:.0} req/s, latency median {} p90 {}, plugin CPU {:.2} cores, bench CPU {:.2} cores",
            fmt_ms(s.median),
            fmt_ms(s.p90),
            (p1 - p0) / secs as f64,
            (b1 - b0) / secs as f64,
        );
        println!("  {line}");
        lines.push(line);
        rates.entry(clients).or_default().push(rate);
    }
    let mean = |c: usize| {
        let v = &rates[&c];
        v.iter().sum::<f64>() / v.len() as f64
    };
    let r = mean(8) / mean(1);
    report.row(
        format!(
            "`events` throughput (1,000 of 1M events, store A), 8 clients against 1, each on its own connection, {secs} s a step after 1 s warm-up, steps 1→8 then 8→1 (mean of the two)"
        ),
        format!(
            "{:.0} req/s at 8 (1: {:.0}, 2: {:.0}, 4: {:.0})",
            mean(8),
            mean(1),
            mean(2),
            mean(4)
        ),
        "one client's throughput",
        format!("{r:.2}×"),
        "≥ 1.8×",
        Some(r >= 1.8),
    );
    report.note(format!(
        "`events` throughput steps (the bench's 8 clients run in the bench process, on the same 2 cores): {}",
        lines.join("; ")
    ));
}

fn write_report(
    report: &Report,
    load_before: &str,
    load_after: &str,
    took: Duration,
    backend: Backend,
) {
    let mut md = String::new();
    md.push_str(&format!(
        "Store: {}. Machine: {}. Load average (1/5/15 min) before: {load_before}; after: {load_after}. \
         Run took {:.0} s.\n\n",
        backend.name(),
        common::machine(),
        took.as_secs_f64()
    ));
    md.push_str(
        "| figure | measured | floor | ratio | budget | met? |\n|---|---|---|---|---|---|\n",
    );
    for r in &report.rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.figure,
            r.measured,
            r.floor,
            r.ratio,
            r.budget,
            met_str(r.met)
        ));
    }
    if !report.notes.is_empty() {
        md.push('\n');
        for n in &report.notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    let dir = common::target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join(backend.results_file("budget"));
    std::fs::write(&path, &md).expect("write results");
    println!("\n{md}\nwritten to {}", path.display());
}
