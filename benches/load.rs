//! `cargo bench --bench load`: 8 concurrent clients, each on its own gRPC connection to
//! the release binary, mixing writes and every query type for 60 s on a 100,000-event
//! store (a copy of a cached generated store). Reports errors (there must be none), p50
//! and p99 per operation, and the plugin's resident memory sampled every 250 ms.
//!
//! Bounded in time (`LOAD_SECS`, default 60) and in count (at most 1,000,000 operations a
//! client); talks to 127.0.0.1 only. Results are printed and written to
//! `target/bench-results/load.md`.
//!
//! `MATURITY_BENCH_STORE=postgres` (under `scripts/with-postgres`) runs it on PostgreSQL
//! (issue 14): the load store is generated into a database of that server and copied for
//! the run; results go to `target/bench-results/load-postgres.md`.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::stores::{self, Wide, END};
use common::{every_query, fmt_ms, pg, query, Backend, Client, Plugin, StoreAt};
use maturity::model::DAY_MS;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// The load store: 100,000 events over a year for 100 teams.
const L: Wide = Wide {
    events: 100_000,
    teams: 100,
    days: 365,
    hot: 2_000,
    seed: 3,
};

const CLIENTS: usize = 8;
const MAX_OPS_PER_CLIENT: usize = 1_000_000;

/// Every operation of the mix, with its weight (how many tickets it has in a client's draw).
const OPS: &[(&str, u32)] = &[
    // Queries: every query type of SPEC §4.1.
    ("q events", 3),
    ("q teams", 2),
    ("q reviewActivity", 2),
    ("q reviewLapse", 2),
    ("q maturity", 2),
    ("q criteria", 2),
    ("q maturityHistory", 2),
    ("q levelChanges", 1),
    ("q targets", 2),
    ("q targetSeries", 2),
    ("q followUps", 2),
    ("q followUpsOverdue", 1),
    ("q verificationDue", 1),
    // A dashboard panel's query that records a passive view (distinct user each time).
    ("q events + passive view", 3),
    // Writes.
    ("POST /events (1 review)", 3),
    ("POST /events (batch of 50)", 2),
    ("POST /targets/{id}/actuals", 1),
    // Resource reads.
    ("GET /maturity?team=", 2),
    ("GET /events?team=&limit=100", 2),
    ("GET /targets?team=", 1),
];

#[derive(Default)]
struct Tally {
    times: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<&'static str, usize>,
    messages: Vec<String>,
}

/// The mix, or only the operations named in `LOAD_ONLY` (comma-separated), for diagnosis.
fn mix() -> Vec<(&'static str, u32)> {
    let only = std::env::var("LOAD_ONLY").unwrap_or_default();
    let names: Vec<&str> = only
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    OPS.iter()
        .copied()
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .collect()
}

fn draw(rng: &mut StdRng, mix: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total.max(1));
    for (name, w) in mix {
        if pick < *w {
            return name;
        }
        pick -= w;
    }
    OPS[0].0
}

async fn one(
    c: &mut Client,
    rng: &mut StdRng,
    client_no: usize,
    n: usize,
    op: &'static str,
) -> Result<(), String> {
    let t = rng.gen_range(0..L.teams);
    let team = stores::team_id(t);
    let dash = stores::dashboard(t, 'a');
    let viewer = c.ctx(Some((&stores::member(t, 1), "Viewer")));
    let editor = c.ctx(Some((&stores::member(t, 0), "Editor")));
    if let Some(qt) = op.strip_prefix("q ") {
        if qt == "events + passive view" {
            let login = format!("load-{client_no}-{n}");
            let ctx = c.ctx(Some((&login, "Viewer")));
            let headers = [
                ("http_X-Dashboard-Uid", dash.as_str()),
                ("http_X-Panel-Id", "3"),
            ];
            let q = query(
                "A",
                "events",
                json!({"dashboardUid": dash}),
                END - 7 * DAY_MS,
                END,
            );
            return c.query(ctx, &headers, vec![q]).await.map(|_| ());
        }
        let (_, q) = every_query(&team, &dash, END)
            .into_iter()
            .find(|(name, _)| *name == qt)
            .ok_or_else(|| format!("no query {qt}"))?;
        return c.query(viewer, &[], vec![q]).await.map(|_| ());
    }
    match op {
        "POST /events (1 review)" => {
            let body = json!({
                "kind": "review",
                "team": team,
                "dashboardUid": dash,
                "time": END - rng.gen_range(0..7 * DAY_MS),
                "text": "load test review",
            });
            c.call_ok(
                editor,
                "POST",
                "events",
                serde_json::to_vec(&body).expect("json"),
                201,
            )
            .await
            .map(|_| ())
        }
        "POST /events (batch of 50)" => {
            let batch = stores::api_batch(rng, client_no * MAX_OPS_PER_CLIENT + n, 50, L.teams);
            let body: Vec<_> = batch.iter().map(stores::api_json).collect();
            c.call_ok(
                editor,
                "POST",
                "events",
                serde_json::to_vec(&body).expect("json"),
                201,
            )
            .await
            .map(|_| ())
        }
        "POST /targets/{id}/actuals" => {
            let body = json!({"time": END - rng.gen_range(0..30) * DAY_MS, "value": rng.gen_range(280.0..420.0)});
            c.call_ok(
                editor,
                "POST",
                &format!("targets/{team}-latency/actuals"),
                serde_json::to_vec(&body).expect("json"),
                200,
            )
            .await
            .map(|_| ())
        }
        "GET /maturity?team=" => c
            .call_ok(
                viewer,
                "GET",
                &format!("maturity?team={team}&at={END}"),
                vec![],
                200,
            )
            .await
            .map(|_| ()),
        "GET /events?team=&limit=100" => c
            .call_ok(
                viewer,
                "GET",
                &format!("events?team={team}&limit=100"),
                vec![],
                200,
            )
            .await
            .map(|_| ()),
        "GET /targets?team=" => c
            .call_ok(viewer, "GET", &format!("targets?team={team}"), vec![], 200)
            .await
            .map(|_| ()),
        other => Err(format!("unknown op {other}")),
    }
}

/// Where `LOAD_TRACE` asks every operation to be written (seconds since the start, client,
/// operation, milliseconds), for diagnosis: when the slow ones happened.
type Trace = Option<Arc<(Instant, std::fs::File)>>;

async fn run_client(mut c: Client, client_no: usize, stop: Arc<AtomicBool>, trace: Trace) -> Tally {
    let mut rng = StdRng::seed_from_u64(100 + client_no as u64);
    let mut tally = Tally::default();
    let mix = mix();
    for n in 0..MAX_OPS_PER_CLIENT {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let op = draw(&mut rng, &mix);
        let t = Instant::now();
        let result = one(&mut c, &mut rng, client_no, n, op).await;
        let took = t.elapsed();
        if let Some(trace) = &trace {
            let line = format!(
                "{:.3},{client_no},{op},{:.3}\n",
                t.duration_since(trace.0).as_secs_f64(),
                took.as_secs_f64() * 1000.0
            );
            let _ = std::io::Write::write_all(&mut &trace.1, line.as_bytes());
        }
        match result {
            Ok(()) => tally.times.entry(op).or_default().push(took),
            Err(e) => {
                *tally.errors.entry(op).or_default() += 1;
                if tally.messages.len() < 5 {
                    tally.messages.push(format!("{op}: {e}"));
                }
            }
        }
    }
    tally
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
        .clamp(1, 600);
    let load_before = common::load_average();
    println!("machine: {}", common::machine());
    println!("load average before: {load_before}");
    let backend = Backend::from_env();
    println!("store: {}", backend.name());
    let store = stores::wide(L);
    println!("load store: {}", store.describe());
    let (_dir, db) = common::scratch(&store.at, "bench_load_run");
    let plugin = Plugin::start(&db).await;
    // Open the store before the clock starts (the first request opens it).
    plugin
        .connect()
        .await
        .query(
            plugin.client.ctx(None),
            &[],
            vec![query("A", "teams", json!({}), END - DAY_MS, END)],
        )
        .await
        .expect("first query");
    let start_mem = plugin.mem();
    let start_cache = plugin.client.clone().cache_counts().await;
    let start_inputs = plugin.client.clone().team_inputs_counts().await;
    let start_kept = plugin.client.clone().kept_evidence_counts().await;
    println!(
        "plugin after opening the store: VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        start_mem.rss_mib(),
        start_mem.hwm_mib()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let trace: Trace = std::env::var_os("LOAD_TRACE").map(|path| {
        let file = std::fs::File::create(&path).expect("LOAD_TRACE file");
        Arc::new((Instant::now(), file))
    });
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let c = plugin.connect().await;
        tasks.push(tokio::spawn(run_client(c, i, stop.clone(), trace.clone())));
    }
    let started = Instant::now();
    let pid = plugin.pid;
    let mut rss_max = 0u64;
    let mut at_peak = common::Mem::default();
    let mut timeline = Vec::new();
    let mut next_mark = Duration::from_secs(10);
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let m = common::mem_of(pid);
        if m.rss_kib > rss_max {
            (rss_max, at_peak) = (m.rss_kib, m);
        }
        if started.elapsed() >= next_mark {
            timeline.push(format!("{} s: {:.1} MiB", next_mark.as_secs(), m.rss_mib()));
            next_mark += Duration::from_secs(10);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for t in tasks {
        let tally = t.await.expect("client task");
        for (op, v) in tally.times {
            all.times.entry(op).or_default().extend(v);
        }
        for (op, n) in tally.errors {
            *all.errors.entry(op).or_default() += n;
        }
        all.messages.extend(tally.messages);
    }
    let elapsed = started.elapsed();
    let end_mem = plugin.mem();
    // The evaluation cache over the run (issue 15): team evaluations served and computed.
    let cache = plugin.client.clone().cache_counts().await - start_cache;
    let inputs = plugin.client.clone().team_inputs_counts().await - start_inputs;
    let kept = plugin.client.clone().kept_evidence_counts().await - start_kept;
    let kept_mib = plugin.client.clone().kept_mib().await;
    let stored = match &db {
        StoreAt::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("open copy");
            conn.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
                .expect("count")
        }
        StoreAt::Postgres(url) => pg::blocking(|| {
            pg::connect(url)
                .query_one("SELECT count(*) FROM maturity.events", &[])
                .expect("count")
                .get::<_, i64>(0)
        }),
    };
    plugin.stop();
    let load_after = common::load_average();

    let total_ops: usize = all.times.values().map(Vec::len).sum();
    let total_errors: usize = all.errors.values().sum();
    let mut md = String::new();
    md.push_str(&format!(
        "Store: {}. Machine: {}. Load average (1/5/15 min) before: {load_before}; after: {load_after}.\n\n\
         Plugin binary: `{}` (`MATURITY_PLUGIN_BIN` chooses another; the shipped one is the \
         static build of `scripts/build-backend`).\n\n\
         Store: a copy of {} (events at the end: {stored}). {CLIENTS} clients, each on its own \
         connection, for {:.1} s: {total_ops} operations ({:.0}/s), **{total_errors} errors**.\n\n",
        backend.name(),
        common::machine(),
        common::plugin_bin().display(),
        store.describe(),
        elapsed.as_secs_f64(),
        total_ops as f64 / elapsed.as_secs_f64(),
    ));
    md.push_str(
        "| operation | count | errors | p50 | p99 | max | p99 ≤ 50 ms (issue 15) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (op, _) in OPS {
        let times = all.times.get(op).cloned().unwrap_or_default();
        let s = common::stats(&times);
        md.push_str(&format!(
            "| {op} | {} | {} | {} | {} | {} | {} |\n",
            s.n,
            all.errors.get(op).copied().unwrap_or(0),
            fmt_ms(s.median),
            fmt_ms(s.p99),
            fmt_ms(s.max),
            if s.n == 0 {
                "—"
            } else if s.p99 <= 50.0 {
                "met"
            } else {
                "NOT met"
            },
        ));
    }
    md.push_str(&format!(
        "\nEvaluation cache over the run (CollectMetrics' `maturity_evaluation_cache_total`): \
         {cache}. Kept review times and decisions (`maturity_team_inputs_cache_total`, \
         `reviewLapse` and `followUps` together): {inputs}. Teams computed again from the \
         evidence kept and taken forward by the plugin's own writes (`maturity_kept_evidence_total`; \
         hits) or from a read (misses): {kept}; kept evidence at the end \
         (`maturity_kept_evidence_bytes`): {kept_mib:.1} MiB.\n"
    ));
    md.push_str(&format!(
        "\nPlugin memory: VmRSS {:.1} MiB before the load, peak sampled VmRSS {:.1} MiB (every \
         250 ms; {}), VmHWM {:.1} MiB at the end, VmRSS {:.1} MiB at the end. VmRSS every 10 s: {}.\n",
        start_mem.rss_mib(),
        rss_max as f64 / 1024.0,
        at_peak.split(),
        end_mem.hwm_mib(),
        end_mem.rss_mib(),
        timeline.join(", ")
    ));
    if !all.messages.is_empty() {
        md.push_str("\nFirst errors:\n");
        for m in &all.messages {
            md.push_str(&format!("- {m}\n"));
        }
    }
    let dir = common::target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join(backend.results_file("load"));
    std::fs::write(&path, &md).expect("write results");
    println!("\n{md}\nwritten to {}", path.display());
}
