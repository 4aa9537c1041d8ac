//! `cargo bench --bench peer`: the Go-SDK peer comparison of issue 15. A Go datasource on
//! `grafana-plugin-sdk-go` (`benches/peer/`, a benchmark peer, not product) answers the same
//! `events` query on the same store A as `gpx_maturity`; this bench builds it (`go build`
//! into `target/bench-peer/`), starts both, checks that they answer the same rows (the same
//! ids in the same order, and the same values in every field: the bench fails otherwise),
//! then measures both in the same run, alternating between them so that machine noise hits
//! both: idle memory after start, the issue-6 `events` query's latency (1,000 events of one
//! dashboard, 7 days), throughput from 1/2/4/8 concurrent clients, and the peak memory after
//! the run. Results, with ratios ours / peer, go to `target/bench-results/peer.md`.
//!
//! `MATURITY_BENCH_STORE=postgres scripts/with-postgres cargo bench --bench peer` runs the same
//! on PostgreSQL (store A generated into a database of that server; both plugins given the same
//! URL) and writes `peer-postgres.md`.
//!
//! Knobs: `PEER_SECS` (seconds per throughput step, default 5), `PEER_LATENCY_SECS` (the most
//! time the latency measurement takes, default 20), `PEER_IDLE_STARTS` (starts of each for
//! the idle memory, default 3), `MATURITY_PEER_BIN` (a prebuilt peer: no `go build`),
//! `MATURITY_BENCH_COMMIT` (the commit to report, for a tree exported without `.git`).
//!
//! Transport: Grafana reaches a Go plugin over go-plugin's Unix socket, ours over TCP (our
//! handshake names 127.0.0.1). This bench's gRPC client (tonic) speaks TCP only, so the peer
//! is started with `MATURITY_PEER_TCP=1`: the same instance-managed handlers, the SDK's
//! default middlewares and gRPC options, served by the SDK's standalone server on 127.0.0.1.
//! Both are measured over TCP loopback.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::stores::{self, Wide, END, HOT_DASHBOARD};
use common::{fmt_ms, measure_pair, pg, query, Backend, Client, Mem, Plan, Plugin, StoreAt};
use grafana_plugin_sdk::arrow2::array::{get_display, Array, PrimitiveArray, Utf8Array};
use grafana_plugin_sdk::arrow2::datatypes::{DataType, TimeUnit};
use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};
use grafana_plugin_sdk::pluginv2::{
    data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient, DataQuery, QueryDataResponse,
};
use maturity::model::DAY_MS;
use serde_json::{json, Value};
use tonic::transport::Channel;

/// Store A of `benches/budget.rs` (the same parameters, so the same cached file): 1,000,000
/// events over 2 years for 500 teams, 5,000 of them on the hot dashboard.
const A: Wide = Wide {
    events: 1_000_000,
    teams: 500,
    days: 730,
    hot: 5_000,
    seed: 1,
};

const MAX_MSG: usize = 256 << 20;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peer")
}

/// `MATURITY_PEER_BIN`, else `go build` of `benches/peer` into `target/bench-peer/`.
fn build_peer() -> PathBuf {
    if let Some(bin) = std::env::var_os("MATURITY_PEER_BIN") {
        return PathBuf::from(bin);
    }
    let bin = common::target_dir().join("bench-peer/gpx_maturity_peer");
    let started = Instant::now();
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(peer_dir())
        .env("CGO_ENABLED", "1")
        .status()
        .expect("run `go build` (Go must be installed)");
    assert!(status.success(), "go build of benches/peer failed");
    println!(
        "peer: built {} in {:.1} s",
        bin.display(),
        started.elapsed().as_secs_f64()
    );
    bin
}

/// A command's first line of output (for the report), or "unknown".
fn output_of(cmd: &str, args: &[&str], dir: &Path) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::trim).map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

/// The version of a module the peer's go.mod requires.
fn peer_requires(module: &str) -> String {
    std::fs::read_to_string(peer_dir().join("go.mod"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{module} ")))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("unknown")
        .to_string()
}

/// Starts the Go peer as `common::Plugin::start` starts ours (Grafana's environment, the
/// go-plugin handshake line on stdout), over TCP (`MATURITY_PEER_TCP`, see the module doc).
async fn start_peer(bin: &Path, db: &StoreAt) -> Plugin {
    let mut cmd = Command::new(bin);
    cmd.env("grafana_plugin_type", "datasource")
        .env("PLUGIN_PROTOCOL_VERSIONS", "2")
        .env("MATURITY_PEER_TCP", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let spawned = Instant::now();
    let mut child = cmd.spawn().expect("start the peer binary");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, Instant::now()));
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    let (line, seen) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("peer handshake line within 20 s");
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parts.len(), 5, "peer handshake {line:?}");
    assert_eq!(parts[2], "tcp", "peer handshake {line:?}");
    let addr = parts[3].to_string();
    // The peer closes its probe listener and then serves on that port: wait until it accepts.
    let channel = {
        let mut tries = 0;
        loop {
            let endpoint = Channel::from_shared(format!("http://{addr}"))
                .expect("uri")
                .tcp_nodelay(true);
            match endpoint.connect().await {
                Ok(c) => break c,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("connect to the peer at {addr}: {e}"),
            }
        }
    };
    let client = Client {
        data: DataClient::new(channel.clone())
            .max_decoding_message_size(MAX_MSG)
            .max_encoding_message_size(MAX_MSG),
        resource: ResourceClient::new(channel.clone())
            .max_decoding_message_size(MAX_MSG)
            .max_encoding_message_size(MAX_MSG),
        diagnostics: DiagnosticsClient::new(channel).max_decoding_message_size(MAX_MSG),
        db: db.clone(),
    };
    let pid = child.id();
    Plugin {
        child,
        pid,
        addr,
        handshake: seen - spawned,
        client,
    }
}

/// The issue-6 `events` query: 1,000 events of the hot dashboard in 7 days.
fn events_query() -> DataQuery {
    query(
        "A",
        "events",
        json!({"dashboardUid": HOT_DASHBOARD}),
        END - 7 * DAY_MS,
        END,
    )
}

/// A decoded frame: field names, their Arrow types, and every value normalised to text
/// (times as epoch milliseconds, whatever the unit or zone; nulls as `null`).
struct Table {
    names: Vec<String>,
    types: Vec<String>,
    columns: Vec<Vec<String>>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.first().map(Vec::len).unwrap_or(0)
    }

    fn column(&self, name: &str) -> &[String] {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no field {name:?} in {:?}", self.names));
        &self.columns[i]
    }
}

fn cell(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "null".into();
    }
    match a.data_type() {
        DataType::Timestamp(unit, _) => {
            let v = a
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("timestamp array")
                .value(i);
            let ms = match unit {
                TimeUnit::Second => v * 1000,
                TimeUnit::Millisecond => v,
                TimeUnit::Microsecond => v / 1000,
                TimeUnit::Nanosecond => v / 1_000_000,
            };
            format!("t{ms}")
        }
        DataType::Utf8 => a
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()
            .expect("utf8")
            .value(i)
            .to_string(),
        DataType::LargeUtf8 => a
            .as_any()
            .downcast_ref::<Utf8Array<i64>>()
            .expect("large utf8")
            .value(i)
            .to_string(),
        _ => {
            let display = get_display(a, "null");
            let mut s = String::new();
            display(&mut s, i).expect("display");
            s
        }
    }
}

/// The one frame a refId answered, decoded with the SDK's arrow2.
fn table(resp: &QueryDataResponse, ref_id: &str) -> Table {
    let r = resp.responses.get(ref_id).expect("refId answered");
    assert!(r.error.is_empty(), "{ref_id}: {}", r.error);
    assert_eq!(r.frames.len(), 1, "{ref_id}: one frame");
    let mut cursor = std::io::Cursor::new(&r.frames[0][..]);
    let metadata = read_file_metadata(&mut cursor).expect("arrow metadata");
    let names: Vec<String> = metadata
        .schema
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let types: Vec<String> = metadata
        .schema
        .fields
        .iter()
        .map(|f| format!("{:?}", f.data_type))
        .collect();
    let mut columns = vec![Vec::new(); names.len()];
    for chunk in FileReader::new(cursor, metadata, None, None) {
        let chunk = chunk.expect("chunk");
        for (c, array) in chunk.arrays().iter().enumerate() {
            for i in 0..array.len() {
                columns[c].push(cell(array.as_ref(), i));
            }
        }
    }
    Table {
        names,
        types,
        columns,
    }
}

/// Asks both the same query and fails unless they answer the same frame: field names in
/// order, the same ids in the same order, and the same value in every field of every row.
async fn same_answer(ours: &mut Client, peer: &mut Client, label: &str, q: DataQuery) -> usize {
    let a = ours
        .query(ours.ctx(None), &[], vec![q.clone()])
        .await
        .unwrap_or_else(|e| panic!("{label}: ours: {e}"));
    let b = peer
        .query(peer.ctx(None), &[], vec![q.clone()])
        .await
        .unwrap_or_else(|e| panic!("{label}: peer: {e}"));
    let (a, b) = (table(&a, &q.ref_id), table(&b, &q.ref_id));
    assert_eq!(
        a.names, b.names,
        "{label}: the same fields in the same order"
    );
    assert_eq!(
        a.column("id"),
        b.column("id"),
        "{label}: the same ids in the same order"
    );
    for (i, name) in a.names.iter().enumerate() {
        if a.columns[i] != b.columns[i] {
            let row = (0..a.rows())
                .find(|&r| a.columns[i][r] != b.columns[i][r])
                .unwrap_or(0);
            panic!(
                "{label}: field {name} differs at row {row} (id {}): ours {:?}, peer {:?}",
                a.column("id")[row],
                a.columns[i][row],
                b.columns[i][row]
            );
        }
    }
    println!("  check {label}: {} rows, the same in both", a.rows());
    a.rows()
}

/// The answers compared before anything is measured: the measured query and variants that
/// exercise every filter of the query model.
async fn check(ours: &mut Client, peer: &mut Client) -> Vec<String> {
    println!("== check: the same rows from both");
    let day = DAY_MS;
    let q = |json: Value, days: i64| query("C", "events", json, END - days * day, END);
    let cases: Vec<(&str, DataQuery, Option<usize>)> = vec![
        (
            "the measured query (hot dashboard, 7 days)",
            events_query(),
            Some(1000),
        ),
        ("every event, 7 days (default limit)", q(json!({}), 7), None),
        (
            "team-001, kinds review+decision, 180 days",
            q(
                json!({"team": "team-001", "kinds": ["review", "decision"]}),
                180,
            ),
            None,
        ),
        (
            "teams {team-002,team-003}, kinds \"question, metric-change\", 365 days, limit 200",
            q(
                json!({"team": "{team-002,team-003}", "kinds": "question, metric-change", "limit": 200}),
                365,
            ),
            None,
        ),
        (
            "tags weekly+review, 30 days, limit 50",
            q(json!({"tags": ["weekly", "review"], "limit": 50}), 30),
            None,
        ),
        (
            "hot dashboard, kinds view, 28 days, limit 5000",
            q(
                json!({"dashboardUID": HOT_DASHBOARD, "kinds": ["view"], "limit": 5000}),
                28,
            ),
            None,
        ),
    ];
    let mut lines = Vec::new();
    for (label, query, want) in cases {
        let n = same_answer(ours, peer, label, query).await;
        if let Some(want) = want {
            assert_eq!(n, want, "{label}: {want} rows");
        }
        assert!(n > 0, "{label}: a check on no rows checks nothing");
        lines.push(format!("{label}: {n} rows"));
    }
    // The types, for the report (names and values are checked above).
    let a = ours
        .query(ours.ctx(None), &[], vec![events_query()])
        .await
        .expect("ours");
    let b = peer
        .query(peer.ctx(None), &[], vec![events_query()])
        .await
        .expect("peer");
    let (a, b) = (table(&a, "A"), table(&b, "A"));
    let types: Vec<String> = a
        .names
        .iter()
        .zip(a.types.iter().zip(&b.types))
        .filter(|(_, (x, y))| x != y)
        .map(|(n, (x, y))| format!("{n}: ours {x}, peer {y}"))
        .collect();
    lines.push(if types.is_empty() {
        "Arrow types: the same in every field".into()
    } else {
        format!("Arrow types that differ: {}", types.join("; "))
    });
    lines
}

/// Closed-loop clients on their own connections for `secs` seconds after 1 s of warm-up:
/// requests per second, latency median and p90, the plugin's CPU (cores).
async fn run_step(plugin: &Plugin, clients: usize, secs: u64) -> (f64, common::Stats, f64) {
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
                c.query(ctx.clone(), &[], vec![events_query()])
                    .await
                    .expect("events");
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
    let p0 = common::cpu_seconds(&plugin.pid.to_string());
    tokio::time::sleep_until(to.into()).await;
    let p1 = common::cpu_seconds(&plugin.pid.to_string());
    let (mut done, mut lat) = (0usize, Vec::new());
    for t in tasks {
        let (d, l) = t.await.expect("client");
        done += d;
        lat.extend(l);
    }
    (
        done as f64 / secs as f64,
        common::stats(&lat),
        (p1 - p0) / secs as f64,
    )
}

/// Per client count: the mean rate and CPU of the two passes (1→8, then 8→1).
#[derive(Default)]
struct Throughput {
    rate: BTreeMap<usize, Vec<f64>>,
    cpu: BTreeMap<usize, Vec<f64>>,
}

impl Throughput {
    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }
    fn rate(&self, c: usize) -> f64 {
        Self::mean(&self.rate[&c])
    }
    /// Plugin CPU per request, in milliseconds.
    fn cpu_ms_per_request(&self, c: usize) -> f64 {
        Self::mean(&self.cpu[&c]) / self.rate(c) * 1e3
    }
}

struct Row {
    figure: String,
    ours: String,
    peer: String,
    ratio: String,
    ahead: &'static str,
}

fn row(
    rows: &mut Vec<Row>,
    figure: impl Into<String>,
    ours: f64,
    peer: f64,
    fmt: impl Fn(f64) -> String,
    lower_is_better: bool,
) {
    let ratio = ours / peer;
    let ahead = match (lower_is_better, ratio) {
        (_, r) if (r - 1.0).abs() < 0.02 => "even (within 2 %)",
        (true, r) if r < 1.0 => "ours",
        (false, r) if r > 1.0 => "ours",
        _ => "peer",
    };
    let r = Row {
        figure: figure.into(),
        ours: fmt(ours),
        peer: fmt(peer),
        ratio: format!("{ratio:.2}×"),
        ahead,
    };
    println!(
        "  => {} | ours {} | peer {} | {} | ahead: {}",
        r.figure, r.ours, r.peer, r.ratio, r.ahead
    );
    rows.push(r);
}

fn mib(v: f64) -> String {
    format!("{v:.1} MiB")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let load_before = common::load_average();
    // `MATURITY_BENCH_COMMIT` names the commit of a tree exported without `.git`.
    let mut commit = std::env::var("MATURITY_BENCH_COMMIT")
        .unwrap_or_else(|_| output_of("git", &["rev-parse", "--short", "HEAD"], &root));
    // Others may be editing the product: say when the binary was built from a changed tree.
    let dirty = Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--",
            "src",
            "Cargo.toml",
            "Cargo.lock",
        ])
        .current_dir(&root)
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        commit.push_str(" (with uncommitted changes under src/ or Cargo.*)");
    }
    println!("machine: {}", common::machine());
    println!("load average before: {load_before}");
    println!("commit: {commit}");
    let backend = Backend::from_env();
    println!("store: {}", backend.name());
    let step_secs = env_u64("PEER_SECS", 5);
    let latency_secs = env_u64("PEER_LATENCY_SECS", 20);
    let idle_starts = env_u64("PEER_IDLE_STARTS", 3) as usize;

    let peer_bin = build_peer();
    let go_version = output_of("go", &["version"], &root);
    let ours_bin = common::plugin_bin();
    println!("ours: {}", ours_bin.display());
    let mut notes = vec![
        format!("commit {commit}; ours: {}", ours_bin.display()),
        format!(
            "peer: {} ({go_version}; grafana-plugin-sdk-go {}, mattn/go-sqlite3 {}, jackc/pgx/v5 {})",
            peer_bin.display(),
            peer_requires("github.com/grafana/grafana-plugin-sdk-go"),
            peer_requires("github.com/mattn/go-sqlite3"),
            peer_requires("github.com/jackc/pgx/v5"),
        ),
        format!(
            "SQLite: ours {} (bundled by rusqlite); the peer's is bundled by mattn/go-sqlite3 {} \
             (v1.14.24 bundles 3.46.1: chosen for the same query planner, see benches/peer/README.md)",
            rusqlite::version(),
            peer_requires("github.com/mattn/go-sqlite3"),
        ),
    ];
    if backend == Backend::Postgres {
        notes.push(format!(
            "store: PostgreSQL {} (scripts/with-postgres: a throwaway server on 127.0.0.1)",
            pg::server_version()
        ));
    }
    println!("store A: generating or reusing …");
    let a = stores::wide(A);
    println!("store A: {}", a.describe());
    notes.push(format!("store A: {}", a.describe()));
    let mut rows = Vec::new();

    // Idle memory and handshake: fresh processes, started in turn, nothing asked yet.
    println!("== idle: {idle_starts} starts of each");
    let (mut idle_ours, mut idle_peer, mut hs_ours, mut hs_peer) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..idle_starts {
        let (o, p) = if i % 2 == 0 {
            let o = Plugin::start(&a.at).await;
            (o, start_peer(&peer_bin, &a.at).await)
        } else {
            let p = start_peer(&peer_bin, &a.at).await;
            (Plugin::start(&a.at).await, p)
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        idle_ours.push(o.mem().rss_mib());
        idle_peer.push(p.mem().rss_mib());
        hs_ours.push(o.handshake.as_secs_f64() * 1e3);
        hs_peer.push(p.handshake.as_secs_f64() * 1e3);
        o.stop();
        p.stop();
    }
    row(
        &mut rows,
        format!("idle RSS 1 s after start, no request yet (median of {idle_starts} starts)"),
        median(idle_ours),
        median(idle_peer),
        mib,
        true,
    );
    row(
        &mut rows,
        format!("spawn to handshake line (median of {idle_starts} starts)"),
        median(hs_ours),
        median(hs_peer),
        fmt_ms,
        true,
    );

    // The processes measured from here on.
    let mut ours = Plugin::start(&a.at).await;
    let mut peer = start_peer(&peer_bin, &a.at).await;
    let first = |p: &Plugin| {
        let mut c = p.client.clone();
        async move {
            let t = Instant::now();
            c.query(c.ctx(None), &[], vec![events_query()])
                .await
                .expect("first query");
            t.elapsed().as_secs_f64() * 1e3
        }
    };
    let (first_ours, first_peer) = (first(&ours).await, first(&peer).await);
    notes.push(format!(
        "the first `events` query (opens the store): ours {}, peer {}",
        fmt_ms(first_ours),
        fmt_ms(first_peer)
    ));
    let checked = check(&mut ours.client, &mut peer.client).await;
    notes.push(format!(
        "checked before measuring, every field of every row equal (ids in the same order): {}",
        checked.join("; ")
    ));
    let (mem_ours_ready, mem_peer_ready) = (ours.mem(), peer.mem());

    // Latency, interleaved (peer, ours, ours, peer, …).
    println!("== latency: the events query, interleaved");
    let (mut co, mut cp) = (ours.client.clone(), peer.client.clone());
    let (ctx_o, ctx_p) = (co.ctx(None), cp.ctx(None));
    let (lat_peer, lat_ours) = measure_pair(
        Plan::new(20, 2000, 200, latency_secs),
        async || {
            cp.query(ctx_p.clone(), &[], vec![events_query()])
                .await
                .expect("peer events");
        },
        async || {
            co.query(ctx_o.clone(), &[], vec![events_query()])
                .await
                .expect("our events");
        },
    )
    .await;
    row(
        &mut rows,
        format!(
            "`events` latency, median (1,000 of 1M events, 7 days; one client, n={})",
            lat_ours.n
        ),
        lat_ours.median,
        lat_peer.median,
        fmt_ms,
        true,
    );
    row(
        &mut rows,
        "`events` latency, p90",
        lat_ours.p90,
        lat_peer.p90,
        fmt_ms,
        true,
    );

    // Throughput: steps 1→8 then 8→1; in each step both run in turn, which first alternating.
    println!("== throughput: 1, 2, 4, 8 clients, {step_secs} s a step");
    let (mut tp_ours, mut tp_peer) = (Throughput::default(), Throughput::default());
    let mut lines = Vec::new();
    for (i, clients) in [1usize, 2, 4, 8, 8, 4, 2, 1].into_iter().enumerate() {
        let order: [(&str, &Plugin); 2] = if i % 2 == 0 {
            [("ours", &ours), ("peer", &peer)]
        } else {
            [("peer", &peer), ("ours", &ours)]
        };
        for (who, p) in order {
            let (rate, s, cpu) = run_step(p, clients, step_secs).await;
            let line = format!(
                "{who} {clients} client(s): {rate:.0} req/s, median {} p90 {}, plugin CPU {cpu:.2} cores",
                fmt_ms(s.median),
                fmt_ms(s.p90)
            );
            println!("  {line}");
            lines.push(line);
            let tp = if who == "ours" {
                &mut tp_ours
            } else {
                &mut tp_peer
            };
            tp.rate.entry(clients).or_default().push(rate);
            tp.cpu.entry(clients).or_default().push(cpu);
        }
    }
    let req_s = |v: f64| format!("{v:.0} req/s");
    let cpu_ms = |v: f64| format!("{v:.2} ms");
    for c in [1usize, 2, 4, 8] {
        row(
            &mut rows,
            format!("`events` throughput, {c} client(s) (mean of the 1→8 and 8→1 passes)"),
            tp_ours.rate(c),
            tp_peer.rate(c),
            req_s,
            false,
        );
    }
    for c in [1usize, 8] {
        row(
            &mut rows,
            format!("plugin CPU per request at {c} client(s)"),
            tp_ours.cpu_ms_per_request(c),
            tp_peer.cpu_ms_per_request(c),
            cpu_ms,
            true,
        );
    }
    notes.push(format!(
        "throughput steps ({step_secs} s each after 1 s of warm-up; the bench's clients run in the bench process on the same 2 cores): {}",
        lines.join("; ")
    ));

    let (end_ours, end_peer): (Mem, Mem) = (ours.mem(), peer.mem());
    row(
        &mut rows,
        "RSS after the check, before latency and throughput",
        mem_ours_ready.rss_mib(),
        mem_peer_ready.rss_mib(),
        mib,
        true,
    );
    row(
        &mut rows,
        "peak RSS (VmHWM) after the run",
        end_ours.hwm_mib(),
        end_peer.hwm_mib(),
        mib,
        true,
    );
    row(
        &mut rows,
        "RSS after the run",
        end_ours.rss_mib(),
        end_peer.rss_mib(),
        mib,
        true,
    );
    ours.stop();
    peer.stop();

    let load_after = common::load_average();
    let took = started.elapsed();
    let mut md = format!(
        "Store: {}. Machine: {}. Load average (1/5/15 min) before: {load_before}; after: {load_after}. \
         Commit {commit}. Run took {:.0} s.\n\n\
         | figure | ours (gpx_maturity) | Go-SDK peer | ours / peer | ahead |\n|---|---|---|---|---|\n",
        backend.name(),
        common::machine(),
        took.as_secs_f64()
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.figure, r.ours, r.peer, r.ratio, r.ahead
        ));
    }
    md.push('\n');
    for n in &notes {
        md.push_str(&format!("- {n}\n"));
    }
    let dir = common::target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).expect("results dir");
    let path = dir.join(backend.results_file("peer"));
    std::fs::write(&path, &md).expect("write results");
    println!("\n{md}\nwritten to {}", path.display());
}
