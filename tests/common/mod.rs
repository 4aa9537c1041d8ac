//! The test host: starts the built `gpx_maturity` the way Grafana does (go-plugin handshake
//! on stdout) and talks pluginv2 gRPC to it with the SDK's client stubs.
#![allow(dead_code)]

pub mod postgres;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use grafana_plugin_sdk::arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use grafana_plugin_sdk::arrow2::datatypes::DataType;
use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};
use grafana_plugin_sdk::pluginv2::{
    data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient, CallResourceRequest, CheckHealthRequest, CheckHealthResponse,
    DataQuery, DataSourceInstanceSettings, PluginContext, QueryDataRequest, QueryDataResponse,
    TimeRange, User,
};
use serde_json::{json, Value};
use tonic::transport::Channel;

/// The binary under test: `MATURITY_PLUGIN_BIN`, else the one cargo built for this test run.
pub fn plugin_bin() -> PathBuf {
    std::env::var_os("MATURITY_PLUGIN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gpx_maturity")))
}

/// The command-line tool under test: `MATURITY_CLI_BIN`, else cargo's build.
pub fn cli_bin() -> PathBuf {
    std::env::var_os("MATURITY_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_maturity")))
}

/// A running plugin (the built binary, or the same server in this process with a clock the
/// test hands in) and clients connected to it.
pub struct Plugin {
    /// The plugin process; `None` when the server runs in-process ([`Plugin::start_at`]).
    pub child: Option<Child>,
    in_process: Option<InProcess>,
    pub addr: String,
    pub data: DataClient<Channel>,
    pub resource: ResourceClient<Channel>,
    pub diagnostics: DiagnosticsClient<Channel>,
    /// The store file every context built by [`Plugin::ctx`] points at.
    pub db: PathBuf,
    /// `jsonData` of the datasource (with `databasePath` set to `db`).
    pub json_data: Value,
    /// `lastUpdatedMS` of the datasource settings.
    pub updated_ms: i64,
    pub uid: String,
    /// Decrypted `secureJsonData` (a service account token, issue 12).
    pub secure: HashMap<String, String>,
}

const MAX_MSG: usize = 256 << 20;

impl Plugin {
    /// Starts the plugin with a store at `db` and extra environment.
    pub async fn start(db: &Path, env: &[(&str, &str)]) -> Plugin {
        Plugin::start_with_stderr(db, env, Stdio::null()).await
    }

    /// Starts the plugin with its standard error (its log) sent to `stderr`.
    pub async fn start_with_stderr(db: &Path, env: &[(&str, &str)], stderr: Stdio) -> Plugin {
        let mut cmd = Plugin::command();
        cmd.stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Plugin::start_command(db, cmd).await
    }

    /// The command that starts the plugin binary as Grafana does (a test may add to it,
    /// e.g. run it as another user).
    pub fn command() -> Command {
        let mut cmd = Command::new(plugin_bin());
        cmd.env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .env_remove("GF_PLUGIN_DATABASE_PATH")
            .env_remove("GF_PATHS_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    }

    /// Starts the plugin with `cmd` (see [`Plugin::command`]) and a store at `db`.
    pub async fn start_command(db: &Path, mut cmd: Command) -> Plugin {
        let mut child = cmd.spawn().expect("start the plugin binary");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the plugin never blocks on a full pipe.
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("handshake line within 20 s");
        let parts: Vec<&str> = line.trim().split('|').collect();
        assert_eq!(parts.len(), 5, "handshake {line:?}");
        assert_eq!(parts[0], "1", "core protocol version");
        assert_eq!(parts[1], "2", "app protocol version");
        assert_eq!(parts[2], "tcp");
        assert_eq!(parts[4], "grpc");
        let addr = parts[3].to_string();
        Plugin::connected(Some(child), None, addr, db).await
    }

    async fn connected(
        child: Option<Child>,
        in_process: Option<InProcess>,
        addr: String,
        db: &Path,
    ) -> Plugin {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        Plugin {
            child,
            in_process,
            data: DataClient::new(channel.clone())
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
            resource: ResourceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MSG)
                .max_encoding_message_size(MAX_MSG),
            diagnostics: DiagnosticsClient::new(channel.clone()).max_decoding_message_size(MAX_MSG),
            addr,
            db: db.to_path_buf(),
            json_data: json!({"databasePath": db.to_string_lossy()}),
            updated_ms: 1,
            uid: "maturity-ds".into(),
            secure: HashMap::new(),
        }
    }

    /// A context for `org` and a user (`None` = Grafana itself asking).
    pub fn ctx(&self, org: i64, user: Option<(&str, &str)>) -> PluginContext {
        PluginContext {
            org_id: org,
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
                json_data: serde_json::to_vec(&self.json_data).expect("json"),
                decrypted_secure_json_data: self.secure.clone(),
                last_updated_ms: self.updated_ms,
                uid: self.uid.clone(),
            }),
        }
    }

    pub fn admin(&self, org: i64) -> PluginContext {
        self.ctx(org, Some(("admin", "Admin")))
    }

    pub fn editor(&self, org: i64) -> PluginContext {
        self.ctx(org, Some(("editor", "Editor")))
    }

    pub fn viewer(&self, org: i64) -> PluginContext {
        self.ctx(org, Some(("viewer", "Viewer")))
    }

    /// Changes `jsonData` (and `lastUpdatedMS`, as Grafana does, so the instance is rebuilt).
    /// The storage choice stays: `databasePath` = `db` on SQLite, `storage: postgres` (and
    /// no path) after [`Plugin::use_postgres`], unless `json_data` names a storage itself.
    pub fn set_json_data(&mut self, json_data: Value) {
        self.json_data = self.with_storage(json_data);
        self.updated_ms += 1;
    }

    /// `json_data` with this plugin's storage choice: a `storage` it names itself wins, else
    /// the current one; SQLite gets `databasePath` = `db`, PostgreSQL no path.
    pub fn with_storage(&self, mut json_data: Value) -> Value {
        if !json_data.is_object() {
            json_data = json!({});
        }
        if json_data.get("storage").is_none() {
            if let Some(storage) = self.json_data.get("storage") {
                json_data["storage"] = storage.clone();
            }
        }
        if json_data["storage"] == "postgres" {
            if let Some(o) = json_data.as_object_mut() {
                o.remove("databasePath");
            }
        } else {
            json_data["databasePath"] = json!(self.db.to_string_lossy());
        }
        json_data
    }

    /// Points every later context at a PostgreSQL database (issue 14): `jsonData.storage =
    /// "postgres"` (other settings kept, no `databasePath`), `secureJsonData.postgresUrl =
    /// url`, and a new `lastUpdatedMS` so the instance is rebuilt.
    pub fn use_postgres(&mut self, url: &str) {
        let mut json_data = self.json_data.clone();
        json_data["storage"] = json!("postgres");
        self.secure.insert("postgresUrl".into(), url.to_string());
        self.set_json_data(json_data);
    }

    /// Whether contexts point at PostgreSQL ([`Plugin::use_postgres`]).
    pub fn on_postgres(&self) -> bool {
        self.json_data["storage"] == "postgres"
    }

    /// Calls a resource as Grafana does: `path` without slash or query, `url` with the query.
    pub async fn call_raw(
        &mut self,
        ctx: PluginContext,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> (u16, Vec<u8>, String) {
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
            .expect("call_resource")
            .into_inner();
        let mut status = 0;
        let mut out = Vec::new();
        let mut content_type = String::new();
        while let Some(msg) = stream.message().await.expect("stream") {
            if msg.code != 0 {
                status = msg.code as u16;
            }
            if let Some(ct) = msg.headers.get("Content-Type") {
                content_type = ct.values.join(",");
            }
            out.extend_from_slice(&msg.body);
        }
        (status, out, content_type)
    }

    /// Calls a resource with a JSON body and parses the JSON answer.
    pub async fn call(
        &mut self,
        ctx: PluginContext,
        method: &str,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).expect("json"))
            .unwrap_or_default();
        let (status, out, _) = self.call_raw(ctx, method, path_and_query, bytes).await;
        let v = if out.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out)
                .unwrap_or(Value::String(String::from_utf8_lossy(&out).into()))
        };
        (status, v)
    }

    /// Calls and asserts the status, returning the body.
    pub async fn ok(
        &mut self,
        ctx: PluginContext,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let (status, v) = self.call(ctx, method, path, body).await;
        assert_eq!(status, want, "{method} {path} answered {v}");
        v
    }

    pub async fn query(
        &mut self,
        ctx: PluginContext,
        headers: &[(&str, &str)],
        queries: Vec<DataQuery>,
    ) -> QueryDataResponse {
        let req = QueryDataRequest {
            plugin_context: Some(ctx),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            queries,
        };
        self.data
            .query_data(req)
            .await
            .expect("query_data")
            .into_inner()
    }

    pub async fn health(&mut self, ctx: PluginContext) -> CheckHealthResponse {
        self.diagnostics
            .check_health(CheckHealthRequest {
                plugin_context: Some(ctx),
                headers: HashMap::new(),
            })
            .await
            .expect("check_health")
            .into_inner()
    }

    /// SIGKILL: no chance to flush (in-process: the server stops).
    pub fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(server) = self.in_process.take() {
            server.stop();
        }
    }

    /// Stops the way Grafana does: go-plugin's controller Shutdown, then wait for the exit.
    pub async fn shutdown(&mut self) -> std::process::ExitStatus {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.expect("ready");
        let path = http::uri::PathAndQuery::from_static("/plugin.GRPCController/Shutdown");
        let codec: tonic::codec::ProstCodec<Empty, Empty> = tonic::codec::ProstCodec::default();
        let _ = grpc.unary(tonic::Request::new(Empty {}), path, codec).await;
        let child = self
            .child
            .as_mut()
            .expect("shutdown is for a plugin process");
        for _ in 0..100 {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the plugin did not exit within 5 s of Shutdown");
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The plugin's server running in this test process, on a runtime of its own.
struct InProcess {
    stop: std::sync::Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    /// Asks the server to stop; it ends (writing pending views) once this test's clients,
    /// which hold its connection, are gone.
    fn stop(self) {
        self.stop.notify_one();
        drop(self.thread);
    }
}

impl Plugin {
    /// Starts the plugin's gRPC server in this process with a clock fixed at `now_ms`: the
    /// way a test moves time, since the shipped binary only ever reads the real clock
    /// (issue 11). Everything else is the binary's: the same server, instances and store.
    pub async fn start_at(db: &Path, now_ms: i64) -> Plugin {
        use maturity::plugin::instances::Instances;
        use maturity::plugin::metrics::Metrics;
        use maturity::plugin::settings::PathEnv;
        use maturity::plugin::{server, PluginState};
        use std::sync::Arc;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let state = Arc::new(PluginState {
                    instances: Instances::new(PathEnv::default(), Arc::new(move || now_ms)),
                    metrics: Metrics::new().expect("metrics"),
                });
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = server::serve(state, listener, stopped).await;
            });
        });
        let server = InProcess {
            stop,
            thread: Some(thread),
        };
        Plugin::connected(None, Some(server), addr, db).await
    }
}

#[derive(Clone, Copy, PartialEq, ::prost::Message)]
pub struct Empty {}

/// A query with a time range.
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

/// A decoded column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Str(Vec<Option<String>>),
    Num(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    /// Epoch ms.
    Time(Vec<Option<i64>>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Num(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Time(v) => v.len(),
        }
    }
    pub fn strs(&self) -> Vec<String> {
        match self {
            Column::Str(v) => v.iter().map(|s| s.clone().unwrap_or_default()).collect(),
            other => panic!("not a string column: {other:?}"),
        }
    }
    pub fn nums(&self) -> Vec<f64> {
        match self {
            Column::Num(v) => v.iter().map(|s| s.unwrap_or(f64::NAN)).collect(),
            other => panic!("not a number column: {other:?}"),
        }
    }
    pub fn times(&self) -> Vec<Option<i64>> {
        match self {
            Column::Time(v) => v.clone(),
            other => panic!("not a time column: {other:?}"),
        }
    }
    pub fn bools(&self) -> Vec<bool> {
        match self {
            Column::Bool(v) => v.iter().map(|b| b.unwrap_or(false)).collect(),
            other => panic!("not a bool column: {other:?}"),
        }
    }
}

/// A decoded field: name, labels, values.
#[derive(Debug, Clone)]
pub struct DecodedField {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub has_config: bool,
    pub nullable: bool,
    pub column: Column,
}

/// A decoded frame.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    pub name: String,
    pub ref_id: String,
    pub fields: Vec<DecodedField>,
}

impl DecodedFrame {
    pub fn field(&self, name: &str) -> &DecodedField {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name} in {:?}", self.names()))
    }
    pub fn names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }
    pub fn rows(&self) -> usize {
        self.fields.first().map(|f| f.column.len()).unwrap_or(0)
    }
}

/// Decodes an Arrow IPC file frame as Grafana's SDK writes it.
pub fn decode_frame(bytes: &[u8]) -> DecodedFrame {
    let mut cursor = std::io::Cursor::new(bytes);
    let metadata = read_file_metadata(&mut cursor).expect("arrow metadata");
    let schema = metadata.schema.clone();
    let reader = FileReader::new(cursor, metadata, None, None);
    let mut columns: Vec<Option<Column>> = vec![None; schema.fields.len()];
    for chunk in reader {
        let chunk = chunk.expect("chunk");
        for (i, array) in chunk.arrays().iter().enumerate() {
            columns[i] = Some(to_column(array.as_ref()));
        }
    }
    let fields = schema
        .fields
        .iter()
        .zip(columns)
        .map(|(f, c)| DecodedField {
            name: f.name.clone(),
            labels: f
                .metadata
                .get("labels")
                .map(|l| serde_json::from_str(l).expect("labels json"))
                .unwrap_or_default(),
            has_config: f.metadata.contains_key("config"),
            nullable: f.is_nullable,
            column: c.unwrap_or_else(|| empty_column(&f.data_type)),
        })
        .collect();
    DecodedFrame {
        name: schema.metadata.get("name").cloned().unwrap_or_default(),
        ref_id: schema.metadata.get("refId").cloned().unwrap_or_default(),
        fields,
    }
}

fn empty_column(t: &DataType) -> Column {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 => Column::Str(vec![]),
        DataType::Boolean => Column::Bool(vec![]),
        DataType::Timestamp(_, _) => Column::Time(vec![]),
        _ => Column::Num(vec![]),
    }
}

fn to_column(array: &dyn Array) -> Column {
    match array.data_type() {
        DataType::Utf8 => {
            let a = array
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .expect("utf8");
            Column::Str(a.iter().map(|s| s.map(String::from)).collect())
        }
        DataType::LargeUtf8 => {
            let a = array
                .as_any()
                .downcast_ref::<Utf8Array<i64>>()
                .expect("utf8");
            Column::Str(a.iter().map(|s| s.map(String::from)).collect())
        }
        DataType::Boolean => {
            let a = array.as_any().downcast_ref::<BooleanArray>().expect("bool");
            Column::Bool(a.iter().collect())
        }
        DataType::Float64 => {
            let a = array
                .as_any()
                .downcast_ref::<PrimitiveArray<f64>>()
                .expect("f64");
            Column::Num(a.iter().map(|v| v.copied()).collect())
        }
        DataType::Int64 => {
            let a = array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("i64");
            Column::Num(a.iter().map(|v| v.map(|x| *x as f64)).collect())
        }
        DataType::Timestamp(unit, _) => {
            let a = array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("ts");
            let div = match unit {
                grafana_plugin_sdk::arrow2::datatypes::TimeUnit::Nanosecond => 1_000_000,
                grafana_plugin_sdk::arrow2::datatypes::TimeUnit::Microsecond => 1_000,
                grafana_plugin_sdk::arrow2::datatypes::TimeUnit::Millisecond => 1,
                grafana_plugin_sdk::arrow2::datatypes::TimeUnit::Second => 1,
            };
            Column::Time(a.iter().map(|v| v.map(|x| *x / div)).collect())
        }
        other => panic!("unexpected arrow type {other:?}"),
    }
}

/// The frames of one refId, or its error.
pub fn frames_of(
    resp: &QueryDataResponse,
    ref_id: &str,
) -> Result<Vec<DecodedFrame>, (i32, String)> {
    let r = resp
        .responses
        .get(ref_id)
        .unwrap_or_else(|| panic!("no response for {ref_id}"));
    if !r.error.is_empty() {
        return Err((r.status, r.error.clone()));
    }
    Ok(r.frames.iter().map(|f| decode_frame(f)).collect())
}

/// Epoch ms of an RFC 3339 string.
pub fn ms(s: &str) -> i64 {
    maturity::model::parse_time_str("t", s).expect("time")
}

/// A fresh temp folder and a store path inside it.
pub fn temp_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("maturity.db");
    (dir, db)
}

/// Loads a SPEC §8 scenario into `org` as its test must: teams as Admin, targets (with
/// actuals and verification) as Editor, each event on its own as its `user` with role
/// Editor. The plugin's `jsonData` takes the scenario's settings.
pub async fn load_scenario(p: &mut Plugin, org: i64, s: &Value) {
    p.json_data = p.with_storage(s["settings"].clone());
    p.uid = format!("scenario-{org}");
    for team in s["teams"].as_array().into_iter().flatten() {
        p.ok(p.admin(org), "POST", "teams", Some(team.clone()), 201)
            .await;
    }
    for target in s["targets"].as_array().into_iter().flatten() {
        p.ok(p.editor(org), "POST", "targets", Some(target.clone()), 201)
            .await;
    }
    for event in s["events"].as_array().into_iter().flatten() {
        let user = event["user"].as_str().unwrap_or("editor").to_string();
        let (status, body) = p
            .call(
                p.ctx(org, Some((&user, "Editor"))),
                "POST",
                "events",
                Some(event.clone()),
            )
            .await;
        assert_eq!(status, 201, "event {event} answered {body}");
    }
}

/// A scenario file of `../shared/scenarios` (or `MATURITY_SCENARIOS`) by file name.
pub fn scenario(file: &str) -> Value {
    let dir = std::env::var_os("MATURITY_SCENARIOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/scenarios"));
    let text = std::fs::read_to_string(dir.join(file)).expect("scenario file");
    serde_json::from_str(&text).expect("scenario json")
}

/// [`postgres::fresh_database`] from async code (the blocking client must not run on a
/// runtime thread): a new PostgreSQL database's URL, or `None` (after a skip line) when no
/// server was started.
pub async fn fresh_postgres(hint: &str) -> Option<String> {
    let hint = hint.to_string();
    match tokio::task::spawn_blocking(move || postgres::fresh_database(&hint)).await {
        Ok(url) => url,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
