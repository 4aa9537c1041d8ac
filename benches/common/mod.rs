//! What the benchmarks share: a host that starts the built `gpx_maturity` the way Grafana
//! does and talks pluginv2 gRPC to it, generated stores (cached under
//! `target/bench-stores/`), robust timing (median and percentiles of many runs) and the
//! plugin's memory read from `/proc`.
//!
//! The store under test is SQLite unless `MATURITY_BENCH_STORE=postgres` (issue 14; run
//! under `scripts/with-postgres`): then every generated store is a PostgreSQL database on
//! that server, the plugin is given the PostgreSQL settings, and the floors read and write
//! PostgreSQL with the blocking `postgres` client.
//!
//! Nothing here asserts a time: the benchmarks report, they never fail on a figure.
#![allow(dead_code)]

pub mod pg;
pub mod stores;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};
use grafana_plugin_sdk::pluginv2::{
    data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient, CallResourceRequest, CollectMetricsRequest, DataQuery,
    DataSourceInstanceSettings, PluginContext, QueryDataRequest, QueryDataResponse, TimeRange,
    User,
};
use serde_json::{json, Value};
use tonic::transport::Channel;

/// The plugin binary: `MATURITY_PLUGIN_BIN`, else the one cargo built for this bench run
/// (`target/release/gpx_maturity`: benches build in the release-derived `bench` profile).
pub fn plugin_bin() -> PathBuf {
    std::env::var_os("MATURITY_PLUGIN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gpx_maturity")))
}

/// Where results and cached stores go: cargo's target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

const MAX_MSG: usize = 256 << 20;

/// Which store the benchmarks run on (`MATURITY_BENCH_STORE`: `sqlite`, the default, or
/// `postgres`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_env() -> Backend {
        match std::env::var("MATURITY_BENCH_STORE").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => panic!("MATURITY_BENCH_STORE={other:?}: one of sqlite, postgres"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// `stem.md` for SQLite (the file names of issue 6), `stem-postgres.md` for PostgreSQL.
    pub fn results_file(self, stem: &str) -> String {
        match self {
            Backend::Sqlite => format!("{stem}.md"),
            Backend::Postgres => format!("{stem}-postgres.md"),
        }
    }
}

/// Where a store lives: an SQLite file or a PostgreSQL database (its URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAt {
    Sqlite(PathBuf),
    Postgres(String),
}

/// gRPC clients on one connection (one HTTP/2 channel), with the store they address.
#[derive(Clone)]
pub struct Client {
    pub data: DataClient<Channel>,
    pub resource: ResourceClient<Channel>,
    pub diagnostics: DiagnosticsClient<Channel>,
    pub db: StoreAt,
}

/// The evaluation cache's counters (`maturity_evaluation_cache_total`, issue 15) as
/// CollectMetrics reports them: team evaluations served from the cache and computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl std::ops::Sub for CacheCounts {
    type Output = CacheCounts;
    fn sub(self, earlier: CacheCounts) -> CacheCounts {
        CacheCounts {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
        }
    }
}

impl std::fmt::Display for CacheCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} hits, {} misses", self.hits, self.misses)
    }
}

/// A running plugin process.
pub struct Plugin {
    pub child: Child,
    pub pid: u32,
    pub addr: String,
    /// From spawn to the go-plugin handshake line on stdout.
    pub handshake: Duration,
    pub client: Client,
}

impl Plugin {
    /// Starts the plugin as Grafana does; its requests will address the store at `db`.
    pub async fn start(db: &StoreAt) -> Plugin {
        let mut cmd = Command::new(plugin_bin());
        cmd.env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .env_remove("GF_PLUGIN_DATABASE_PATH")
            .env_remove("GF_PATHS_DATA")
            .env_remove("MATURITY_TEST_NOW_MS")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let spawned = Instant::now();
        let mut child = cmd.spawn().expect("start the plugin binary");
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
            .expect("handshake line within 20 s");
        let handshake = seen - spawned;
        let parts: Vec<&str> = line.trim().split('|').collect();
        assert_eq!(parts.len(), 5, "handshake {line:?}");
        let addr = parts[3].to_string();
        assert!(addr.starts_with("127.0.0.1:"), "plugin listens on {addr}");
        let pid = child.id();
        let client = Client::connect(&addr, db).await;
        Plugin {
            child,
            pid,
            addr,
            handshake,
            client,
        }
    }

    /// A new connection to the same plugin (a concurrent client of its own).
    pub async fn connect(&self) -> Client {
        Client::connect(&self.addr, &self.client.db).await
    }

    /// Resident memory of the plugin process now.
    pub fn mem(&self) -> Mem {
        mem_of(self.pid)
    }

    /// Stops the plugin (SIGKILL; benches never need a graceful stop).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Client {
    async fn connect(addr: &str, db: &StoreAt) -> Client {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .tcp_nodelay(true)
            .connect()
            .await
            .expect("connect");
        Client {
            data: DataClient::new(channel.clone())
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
            resource: ResourceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
            diagnostics: DiagnosticsClient::new(channel).max_decoding_message_size(MAX_MSG),
            db: db.clone(),
        }
    }

    /// A request context for org 1 and a user (`None` = Grafana itself asking).
    pub fn ctx(&self, user: Option<(&str, &str)>) -> PluginContext {
        self.ctx_of(user, "bench-ds", 1)
    }

    /// A request context for datasource `uid` with settings saved at `updated_ms`: the plugin
    /// keeps one instance (and one evaluation cache) per (org, uid), and builds a new one —
    /// with an empty cache, on the same store handle — whenever `lastUpdatedMS` changes.
    pub fn ctx_of(&self, user: Option<(&str, &str)>, uid: &str, updated_ms: i64) -> PluginContext {
        let (json_data, secure) = match &self.db {
            StoreAt::Sqlite(path) => (
                json!({"databasePath": path.to_string_lossy()}),
                HashMap::new(),
            ),
            StoreAt::Postgres(url) => (
                json!({"storage": "postgres"}),
                HashMap::from([("postgresUrl".to_string(), url.clone())]),
            ),
        };
        PluginContext {
            org_id: 1,
            plugin_id: "datadriven-maturity-datasource".into(),
            user: user.map(|(login, role)| User {
                login: login.into(),
                name: login.into(),
                email: format!("{login}@example.com"),
                role: role.into(),
            }),
            app_instance_settings: None,
            data_source_instance_settings: Some(DataSourceInstanceSettings {
                id: 1,
                name: "Maturity".into(),
                url: String::new(),
                user: String::new(),
                database: String::new(),
                basic_auth_enabled: false,
                basic_auth_user: String::new(),
                json_data: serde_json::to_vec(&json_data).expect("json"),
                decrypted_secure_json_data: secure,
                last_updated_ms: updated_ms,
                uid: uid.into(),
            }),
        }
    }

    /// CollectMetrics: the Prometheus text.
    pub async fn metrics(&mut self) -> String {
        let m = self
            .diagnostics
            .collect_metrics(CollectMetricsRequest {
                plugin_context: None,
            })
            .await
            .expect("CollectMetrics")
            .into_inner();
        String::from_utf8(m.metrics.expect("metrics payload").prometheus).expect("utf8")
    }

    /// The process's counters of the kept per-team inputs of `reviewLapse` and `followUps`
    /// (`maturity_team_inputs_cache_total`), both queries together, from CollectMetrics.
    pub async fn team_inputs_counts(&mut self) -> CacheCounts {
        self.counter_sums("maturity_team_inputs_cache_total").await
    }

    /// Teams computed again from kept evidence (hits) or from a read (misses), from
    /// CollectMetrics' `maturity_kept_evidence_total`.
    pub async fn kept_evidence_counts(&mut self) -> CacheCounts {
        self.counter_sums("maturity_kept_evidence_total").await
    }

    /// The `hit` and `miss` series of a counter, each summed over its other labels.
    async fn counter_sums(&mut self, name: &str) -> CacheCounts {
        let text = self.metrics().await;
        let sum = |result: &str| -> u64 {
            let label = format!("result=\"{result}\"");
            text.lines()
                .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&label))
                .filter_map(|l| l.rsplit(' ').next())
                .filter_map(|v| v.parse::<f64>().ok())
                .map(|v| v as u64)
                .sum()
        };
        CacheCounts {
            hits: sum("hit"),
            misses: sum("miss"),
        }
    }

    /// What the process's kept evidence takes (`maturity_kept_evidence_bytes`), in MiB.
    pub async fn kept_mib(&mut self) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix("maturity_kept_evidence_bytes "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / (1024.0 * 1024.0)
    }

    /// The process's evaluation cache counters, from CollectMetrics.
    pub async fn cache_counts(&mut self) -> CacheCounts {
        let text = self.metrics().await;
        let value = |result: &str| {
            let series = format!("maturity_evaluation_cache_total{{result=\"{result}\"}}");
            text.lines()
                .find(|l| l.starts_with(&series))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .map(|v| v as u64)
                .unwrap_or(0)
        };
        CacheCounts {
            hits: value("hit"),
            misses: value("miss"),
        }
    }

    /// QueryData; an error of any query is returned as `Err`.
    pub async fn query(
        &mut self,
        ctx: PluginContext,
        headers: &[(&str, &str)],
        queries: Vec<DataQuery>,
    ) -> Result<QueryDataResponse, String> {
        let req = QueryDataRequest {
            plugin_context: Some(ctx),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            queries,
        };
        let resp = self
            .data
            .query_data(req)
            .await
            .map_err(|s| format!("gRPC {s}"))?
            .into_inner();
        for (ref_id, r) in &resp.responses {
            if !r.error.is_empty() {
                return Err(format!("{ref_id}: {} ({})", r.error, r.status));
            }
        }
        Ok(resp)
    }

    /// CallResource as Grafana calls it (`path` without the query, `url` with it).
    pub async fn call(
        &mut self,
        ctx: PluginContext,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let path = path_and_query
            .split('?')
            .next()
            .unwrap_or("")
            .trim_start_matches('/')
            .to_string();
        let req = CallResourceRequest {
            plugin_context: Some(ctx),
            path,
            method: method.into(),
            url: path_and_query.trim_start_matches('/').to_string(),
            headers: HashMap::new(),
            body: body.into(),
        };
        let mut stream = self
            .resource
            .call_resource(req)
            .await
            .map_err(|s| format!("gRPC {s}"))?
            .into_inner();
        let mut status = 0;
        let mut out = Vec::new();
        while let Some(msg) = stream.message().await.map_err(|s| format!("gRPC {s}"))? {
            if msg.code != 0 {
                status = msg.code as u16;
            }
            out.extend_from_slice(&msg.body);
        }
        Ok((status, out))
    }

    /// A resource call that must answer `want`.
    pub async fn call_ok(
        &mut self,
        ctx: PluginContext,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        want: u16,
    ) -> Result<Vec<u8>, String> {
        let (status, out) = self.call(ctx, method, path_and_query, body).await?;
        if status != want {
            return Err(format!(
                "{method} {path_and_query}: {status} {}",
                String::from_utf8_lossy(&out[..out.len().min(300)])
            ));
        }
        Ok(out)
    }
}

/// A query with a time range and Grafana's usual interval (one minute).
pub fn query(ref_id: &str, query_type: &str, json: Value, from: i64, to: i64) -> DataQuery {
    DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1000,
        interval_ms: 60_000,
        time_range: Some(TimeRange {
            from_epoch_ms: from,
            to_epoch_ms: to,
        }),
        json: serde_json::to_vec(&json).expect("json"),
        query_type: query_type.into(),
    }
}

/// Rows of each frame of a response's refId (decoded with the SDK's arrow2).
pub fn frame_rows(resp: &QueryDataResponse, ref_id: &str) -> Vec<usize> {
    let r = resp.responses.get(ref_id).expect("refId answered");
    r.frames
        .iter()
        .map(|bytes| {
            let mut cursor = std::io::Cursor::new(&bytes[..]);
            let metadata = read_file_metadata(&mut cursor).expect("arrow metadata");
            FileReader::new(cursor, metadata, None, None)
                .map(|chunk| chunk.expect("chunk").len())
                .sum()
        })
        .collect()
}

/// Resident memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// VmRSS in KiB.
    pub rss_kib: u64,
    /// VmHWM (peak resident) in KiB.
    pub hwm_kib: u64,
    /// RssAnon (the heap and other private memory) in KiB.
    pub anon_kib: u64,
    /// RssFile (mapped files: the binary, libraries) in KiB.
    pub file_kib: u64,
    /// RssShmem (shared mappings: SQLite's WAL index) in KiB.
    pub shmem_kib: u64,
}

impl Mem {
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
    pub fn hwm_mib(&self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }
    /// What the resident size is made of: "anon A, file F, shmem S MiB".
    pub fn split(&self) -> String {
        let mib = |k: u64| k as f64 / 1024.0;
        format!(
            "anonymous {:.1}, file {:.1}, shared {:.1} MiB",
            mib(self.anon_kib),
            mib(self.file_kib),
            mib(self.shmem_kib)
        )
    }
}

pub fn mem_of(pid: u32) -> Mem {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Mem {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        anon_kib: field("RssAnon:"),
        file_kib: field("RssFile:"),
        shmem_kib: field("RssShmem:"),
    }
}

/// Summary of many timings, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let n = ms.len();
    Stats {
        n,
        median: if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        },
        p90: pct(&ms, 90.0),
        p99: pct(&ms, 99.0),
        mean: if n == 0 {
            f64::NAN
        } else {
            ms.iter().sum::<f64>() / n as f64
        },
        min: ms.first().copied().unwrap_or(f64::NAN),
        max: ms.last().copied().unwrap_or(f64::NAN),
    }
}

/// Formats milliseconds with sensible precision.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

impl Stats {
    /// "median (p90)".
    pub fn short(&self) -> String {
        format!("{} (p90 {})", fmt_ms(self.median), fmt_ms(self.p90))
    }
}

/// How many iterations a measurement takes: warm-up runs (not recorded), then up to `n`
/// recorded runs, stopping early once `max_time` has passed (but never before `min_n`).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub warmup: usize,
    pub n: usize,
    pub min_n: usize,
    pub max_time: Duration,
}

impl Plan {
    pub fn new(warmup: usize, n: usize, min_n: usize, max_secs: u64) -> Plan {
        Plan {
            warmup,
            n,
            min_n,
            max_time: Duration::from_secs(max_secs),
        }
    }
}

/// Measures a product call and its floor interleaved (floor, product, product, floor, …),
/// so that a change of machine load during the run touches both alike.
pub async fn measure_pair<F, P>(plan: Plan, mut floor: F, mut product: P) -> (Stats, Stats)
where
    F: AsyncFnMut(),
    P: AsyncFnMut(),
{
    for _ in 0..plan.warmup {
        floor().await;
        product().await;
    }
    let started = Instant::now();
    let (mut fs, mut ps) = (Vec::with_capacity(plan.n), Vec::with_capacity(plan.n));
    for i in 0..plan.n {
        if i >= plan.min_n && started.elapsed() > plan.max_time {
            break;
        }
        let floor_first = i % 2 == 0;
        if floor_first {
            let t = Instant::now();
            floor().await;
            fs.push(t.elapsed());
        }
        let t = Instant::now();
        product().await;
        ps.push(t.elapsed());
        if !floor_first {
            let t = Instant::now();
            floor().await;
            fs.push(t.elapsed());
        }
    }
    (stats(&fs), stats(&ps))
}

/// The machine, for the report: cores, memory, CPU model, load.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown")
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "{cores} cores (nproc), {:.1} GiB memory, CPU \"{model}\"",
        mem_kib as f64 / 1024.0 / 1024.0
    )
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Copies a cached store to a fresh temp folder, for runs that write.
pub fn scratch_copy(cached: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("maturity-bench-")
        .tempdir_in(target_dir())
        .expect("tempdir");
    let db = dir.path().join("maturity.db");
    std::fs::copy(cached, &db).expect("copy the cached store");
    (dir, db)
}

/// A copy of a generated store for a run that writes: a copied file in a temp folder
/// (removed with the guard), or a copied PostgreSQL database named `copy_name`.
pub fn scratch(at: &StoreAt, copy_name: &str) -> (Option<tempfile::TempDir>, StoreAt) {
    match at {
        StoreAt::Sqlite(path) => {
            let (dir, db) = scratch_copy(path);
            (Some(dir), StoreAt::Sqlite(db))
        }
        StoreAt::Postgres(url) => {
            let from = pg::database_name(url);
            (None, StoreAt::Postgres(pg::copy_database(&from, copy_name)))
        }
    }
}

/// Whether this run asked for `section` (all when no name was given after `--`).
pub fn wanted(section: &str) -> bool {
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    names.is_empty() || names.iter().any(|n| n == section)
}

/// One query of every query type of SPEC §4.1 for `team` and `dash`, asking at `at`.
pub fn every_query(team: &str, dash: &str, at: i64) -> Vec<(&'static str, DataQuery)> {
    const DAY: i64 = 86_400_000;
    let q =
        |qt: &'static str, json: Value, days: i64| (qt, query(qt, qt, json, at - days * DAY, at));
    vec![
        q("events", json!({"dashboardUid": dash}), 7),
        q("teams", json!({}), 1),
        q("reviewActivity", json!({"team": team}), 30),
        q("reviewLapse", json!({}), 1),
        q("maturity", json!({}), 1),
        q("criteria", json!({"team": team}), 1),
        q("maturityHistory", json!({"team": team}), 90),
        q("levelChanges", json!({"team": team}), 365),
        q("targets", json!({}), 1),
        q("targetSeries", json!({"team": team}), 180),
        q("followUps", json!({"team": team}), 30),
        q("followUpsOverdue", json!({}), 1),
        q("verificationDue", json!({}), 1),
    ]
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/<pid>/stat`
/// (`self` for the bench process).
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / clock_ticks()
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 when it cannot be asked).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}
