//! The `maturity` command-line tool (SPEC §7): a thin edge over [`crate::app`] that works
//! on the plugin's store (an SQLite file or a PostgreSQL database) without Grafana. It owns
//! the flags, the choice of the store, the reading of a settings file, and the printing of
//! results; every read and write goes through the same use cases as the plugin's resource API.
//!
//! # PostgreSQL
//! `--db postgres://…` (or `postgresql://`) works for every command; with a settings file that
//! says `storage: postgres` and no `--db`, the URL comes from `MATURITY_POSTGRES_URL` (it is a
//! secret, kept out of jsonData and of `ps`). Printed URLs never show the password.
//! `maturity copy --from A --to B` moves an org between any two stores (issue 14).
//!
//! - [`report`]: the readable table of `maturity report`.
//! - [`demo`]: the demo data set of `maturity demo`.
//!
//! # Store path
//! The tool finds the store the plugin uses on the same host, by the plugin's own rules
//! ([`crate::settings`], shared with the plugin): `--db PATH`; the settings file's
//! `databasePath`; `GF_PLUGIN_DATABASE_PATH`; `$GF_PATHS_DATA/datadriven-maturity/maturity.db`;
//! `datadriven-maturity/maturity.db` beside Grafana's plugins folder (found from this tool's
//! own folder when it sits in the plugin's folder, else from `GF_PATHS_PLUGINS`, else from the
//! usual install places whose plugins folder holds the plugin); else
//! `./datadriven-maturity/maturity.db` in the current folder, so that a newcomer who runs
//! `maturity demo` then `maturity report` in one folder sees the same store. Every command
//! that opens a store says which file and which rule; `maturity where` prints the choice and
//! every rule it looked at first, and a missing store is reported the same way.
//!
//! # What it does not import
//! The tool never imports [`crate::plugin`] (tests/cli_purity.rs): `query-schema` prints
//! what the function the binary hands to [`main_with`] writes.
//!
//! # Exit codes
//! 0 when the command did what it says (an import with rejected lines included: they are
//! printed); 2 for every error, each reported as one line on stderr: a bad flag value, an
//! unparsable time, a missing file, a store that cannot be used (another application's
//! SQLite file, a newer schema), an unknown team. A reader that closes the output early
//! (`maturity export | head`) ends the command quietly.

pub mod demo;
pub mod report;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::app::queries::TeamSelector;
use crate::app::transfer::{ImportError, ImportReport};
use crate::app::{system_clock, App, AppError, AppSettings, Caller, Clock, Role};
use crate::model::OrgId;
use crate::model::{format_time, parse_time_str, type_name, EpochMs};
use crate::settings::{
    check_store_path, is_postgres_url, locate_for_tool, redact_postgres_url, rule_field, JsonData,
    PathEnv, PathRule, Secret, Storage, StorageKind, StoreChoice, ENV_POSTGRES_URL,
};
use crate::store::sqlite::read_schema_version;
use crate::store::{open_store, Store};

/// The exit code of every error (clap's usage errors use it too).
pub const EXIT_ERROR: u8 = 2;

/// 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write.
const LATEST_TIME: EpochMs = 253_402_300_799_999;

/// The login the tool acts as for exports, imports and reports (role Admin).
pub const CLI_LOGIN: &str = "cli";

/// Lines of NDJSON handed to one `App::import` call: the input is streamed in chunks of
/// this many lines, so an import of any size needs memory for one chunk only.
const IMPORT_CHUNK_LINES: usize = 5_000;

/// `maturity`: the Data-Driven Maturity store from a shell.
#[derive(Debug, Parser)]
#[command(
    name = "maturity",
    version,
    about = "Data-Driven Maturity from a shell: the plugin's store without Grafana",
    long_about = "Data-Driven Maturity from a shell: works on the plugin's SQLite store without Grafana.\n\n\
        The store is the one the plugin uses on this host, by the plugin's rules: the first that is set of \
        --db PATH; the settings file's databasePath; GF_PLUGIN_DATABASE_PATH; \
        $GF_PATHS_DATA/datadriven-maturity/maturity.db; datadriven-maturity/maturity.db beside Grafana's \
        plugins folder (this tool's own plugin folder, GF_PATHS_PLUGINS, or a usual Grafana install that \
        holds the plugin); else ./datadriven-maturity/maturity.db. `maturity where` shows the choice.\n\n\
        Start with `maturity demo`, then `maturity report`."
)]
pub struct Cli {
    /// The store to use: an SQLite file, or a PostgreSQL URL `postgres://user@host/db`
    /// (default: the plugin's store on this host; `maturity where`).
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// The Grafana organisation whose data to read and write.
    #[arg(long, global = true, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub org: i64,
    /// A JSON file shaped like the datasource's jsonData: its `maturity` object sets the
    /// thresholds of the ladder (other keys are accepted; most do not matter here).
    #[arg(long, global = true, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of SPEC §7.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store if needed and upgrade its schema, printing the version before and after.
    Migrate,
    /// Write all of the org's data as NDJSON (teams, targets, events).
    Export {
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Read NDJSON (as written by export) into the store; ids that exist are skipped.
    Import {
        /// The file to read; `-` or nothing reads stdin.
        #[arg(value_name = "FILE|-")]
        file: Option<PathBuf>,
    },
    /// Each team's level, score, criteria and blockers (SPEC §5).
    Report {
        /// Only this team.
        #[arg(long, value_name = "ID")]
        team: Option<String>,
        /// The instant to evaluate at: epoch milliseconds or RFC 3339 (default: now).
        #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
        at: Option<String>,
        /// Print exactly the JSON array that GET /maturity answers.
        #[arg(long)]
        json: bool,
    },
    /// Write a realistic demo data set (eight teams, six months) into the store.
    Demo {
        /// The demo's "now": its history is the 26 weeks before it (default: now).
        #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
        now: Option<String>,
        /// Seed of the pseudo-random texts, times and values (same seed and now, same data).
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
    },
    /// Print the JSON Schema (draft-07) of every query type: the frontend's
    /// src/datasource/query.schema.json. Needs no store.
    QuerySchema,
    /// Print which store the other commands would use, the rule that chose it and every
    /// rule looked at first. Opens nothing.
    Where,
    /// Copy the org's teams, targets and events from one store to another (SQLite to
    /// PostgreSQL when a team outgrows one Grafana replica); ids already in the destination
    /// are skipped, so a copy can be run again.
    Copy {
        /// The store to read: an SQLite file or a PostgreSQL URL.
        #[arg(long, value_name = "PATH|URL")]
        from: PathBuf,
        /// The store to write (created or migrated when needed).
        #[arg(long, value_name = "PATH|URL")]
        to: PathBuf,
    },
}

/// Why a command stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    /// An error for the user: printed as one line on stderr, exit code 2.
    Failed(String),
    /// The reader of our output went away: stop quietly.
    BrokenPipe,
}

impl CliError {
    fn new(message: impl Into<String>) -> Self {
        CliError::Failed(message.into())
    }
}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        CliError::Failed(e.to_string())
    }
}

fn io_out(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        CliError::new(format!("cannot write the output: {e}"))
    }
}

/// Writes `text` to stdout (a broken pipe ends the command quietly).
fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(io_out)?;
    out.flush().map_err(io_out)
}

/// A note on stderr (never fails the command).
fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Writes the JSON Schema of every query type (`maturity query-schema`). The schema is the
/// plugin's (its query registry); the binary hands the writer in, so that this edge never
/// imports the plugin's.
pub type SchemaWriter = fn() -> String;

/// Parses `args` (the program name first), runs the command and gives the exit code.
pub fn main_with<I, T>(args: I, query_schema: SchemaWriter) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_ERROR));
        }
    };
    match run(cli, system_clock(), &PathEnv::from_process(), query_schema) {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Failed(message)) => {
            note(&format!("maturity: {message}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Reads a settings file: a JSON object shaped like the datasource's `jsonData` (or a whole
/// datasource object as Grafana's API returns it, whose `jsonData` is then used), parsed by
/// the plugin's own parser.
pub fn read_settings(path: &Path) -> Result<JsonData, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(format!(
            "cannot read the settings file {}: {e}",
            path.display()
        ))
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::new(format!(
            "the settings file {} is not JSON: {e}",
            path.display()
        ))
    })?;
    parse_settings(&value)
        .map_err(|e| CliError::new(format!("the settings file {}: {e}", path.display())))
}

/// Parses the JSON of a settings file (see [`read_settings`]).
pub fn parse_settings(value: &Value) -> Result<JsonData, String> {
    let o = value.as_object().ok_or_else(|| {
        format!(
            "expected a JSON object shaped like jsonData, got {}",
            type_name(value)
        )
    })?;
    let json_data = match o.get("jsonData") {
        Some(inner @ Value::Object(_)) => inner,
        _ => value,
    };
    JsonData::parse(json_data).map_err(|e| e.to_string())
}

/// Where the commands work: an SQLite file found by the plugin's rules, or a PostgreSQL
/// database.
#[derive(Debug, Clone)]
pub enum Place {
    /// An SQLite file and the rule that chose it.
    File(StoreChoice),
    /// A PostgreSQL database (the URL is a secret).
    Postgres(Secret),
}

impl Place {
    /// The store's place as the store layer takes it.
    pub fn storage(&self) -> Storage {
        match self {
            Place::File(choice) => Storage::Sqlite {
                path: choice.path.clone(),
                rule: choice.rule,
            },
            Place::Postgres(url) => Storage::Postgres { url: url.clone() },
        }
    }

    /// For people: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Place::File(choice) => choice.path.display().to_string(),
            Place::Postgres(url) => redact_postgres_url(url.expose()),
        }
    }

    /// Why this store.
    pub fn reason(&self) -> String {
        match self {
            Place::File(choice) => choice.reason(),
            Place::Postgres(_) => "--db".to_string(),
        }
    }
}

/// Reads a `--from`/`--to`/`--db` value: a PostgreSQL URL, or a file path checked as the
/// plugin checks `databasePath`.
fn place_of(value: &Path, flag: &str) -> Result<Place, CliError> {
    if let Some(url) = value.to_str().filter(|v| is_postgres_url(v)) {
        return Ok(Place::Postgres(Secret::new(url)));
    }
    check_store_path(value, flag).map_err(|e| CliError::new(e.to_string()))?;
    Ok(Place::File(locate_for_tool(
        Some(value),
        None,
        &PathEnv::default(),
    )))
}

/// The store and the rule that chose it (see the module doc).
pub fn store_place(
    db: Option<&Path>,
    settings: &JsonData,
    env: &PathEnv,
) -> Result<Place, CliError> {
    if let Some(url) = db.and_then(Path::to_str).filter(|v| is_postgres_url(v)) {
        return Ok(Place::Postgres(Secret::new(url)));
    }
    if db.is_none() && settings.storage == StorageKind::Postgres {
        return match &env.postgres_url {
            Some(url) if is_postgres_url(url) => Ok(Place::Postgres(Secret::new(url.clone()))),
            Some(_) => Err(CliError::new(format!(
                "{ENV_POSTGRES_URL} must be a postgres:// URL"
            ))),
            None => Err(CliError::new(format!(
                "the settings file says storage is postgres: give --db postgres://user@host/database, or set {ENV_POSTGRES_URL}"
            ))),
        };
    }
    store_path(db, settings, env).map(Place::File)
}

/// The store file and the rule that chose it (see the module doc).
pub fn store_path(
    db: Option<&Path>,
    settings: &JsonData,
    env: &PathEnv,
) -> Result<StoreChoice, CliError> {
    let choice = locate_for_tool(db, settings.database_path.as_deref(), env);
    check_store_path(&choice.path, rule_field(choice.rule))
        .map_err(|e| CliError::new(e.to_string()))?;
    Ok(choice)
}

/// What every command starts from: settings, the store's place, the org, the clock.
struct Context {
    settings: AppSettings,
    place: Place,
    org: OrgId,
    clock: Clock,
}

impl Context {
    fn admin(&self) -> Caller {
        Caller {
            org: self.org,
            user: Some((CLI_LOGIN.to_string(), Role::Admin)),
        }
    }

    fn where_(&self) -> String {
        format!("{} (org {})", self.place.display(), self.org)
    }

    /// Opens (creating if needed) and migrates the store, as the plugin does at start-up.
    async fn open(&self) -> Result<Arc<dyn Store>, CliError> {
        open_place(&self.place).await
    }

    /// Opens a store that must exist already (reading commands never create a file).
    async fn open_existing(&self) -> Result<Arc<dyn Store>, CliError> {
        if let Place::File(choice) = &self.place {
            if !choice.path.exists() {
                return Err(CliError::new(format!(
                    "no store at {} (chosen by {}); give --db PATH (or --settings with the datasource's jsonData), or create one with `maturity demo` or `maturity import`",
                    choice.path.display(),
                    choice.explain()
                )));
            }
        }
        self.open().await
    }

    fn app(&self, store: Arc<dyn Store>, clock: Clock) -> App {
        App::new(store, self.settings.clone(), clock)
    }
}

/// Opens a store off the async thread (the PostgreSQL client blocks; it must not run on a
/// runtime's own thread).
async fn open_place(place: &Place) -> Result<Arc<dyn Store>, CliError> {
    let storage = place.storage();
    tokio::task::spawn_blocking(move || open_store(&storage))
        .await
        .map_err(|e| CliError::new(format!("opening the store failed: {e}")))?
        .map_err(store_error)
}

/// Runs a parsed command line with the clock, the environment and the schema writer
/// handed in.
pub fn run(
    cli: Cli,
    clock: Clock,
    env: &PathEnv,
    query_schema: SchemaWriter,
) -> Result<(), CliError> {
    if let Command::QuerySchema = cli.command {
        return print(&query_schema());
    }
    let file_settings = match &cli.settings {
        Some(p) => read_settings(p)?,
        None => JsonData::default(),
    };
    if let Command::Copy { from, to } = &cli.command {
        let (from, to) = (place_of(from, "--from")?, place_of(to, "--to")?);
        let runtime = runtime()?;
        return runtime.block_on(copy(&from, &to, cli.org, file_settings.app, clock));
    }
    let place = store_place(cli.db.as_deref(), &file_settings, env)?;
    if let Command::Where = cli.command {
        return print(&where_text(&place));
    }
    let ctx = Context {
        settings: file_settings.app,
        place,
        org: cli.org,
        clock,
    };
    let runtime = runtime()?;
    match cli.command {
        Command::Migrate => runtime.block_on(migrate(&ctx)),
        Command::Export { out } => runtime.block_on(export(&ctx, out.as_deref())),
        Command::Import { file } => runtime.block_on(import(&ctx, file.as_deref())),
        Command::Report { team, at, json } => {
            runtime.block_on(report_cmd(&ctx, team, at.as_deref(), json))
        }
        Command::Demo { now, seed } => runtime.block_on(demo_cmd(&ctx, now.as_deref(), seed)),
        Command::QuerySchema => print(&query_schema()),
        Command::Where => print(&where_text(&ctx.place)),
        Command::Copy { .. } => Ok(()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
}

/// What `maturity where` prints: the file, whether it exists, the rule, what came before
/// (or the PostgreSQL URL without its password).
fn where_text(place: &Place) -> String {
    let choice = match place {
        Place::File(choice) => choice,
        Place::Postgres(_) => {
            return format!(
                "store: PostgreSQL, {}\nchosen by: {}\n",
                place.display(),
                place.reason()
            )
        }
    };
    let state = match std::fs::metadata(&choice.path) {
        Ok(m) if m.is_file() => "exists",
        Ok(_) => "is not a file",
        Err(_) => "does not exist yet",
    };
    let mut text = format!(
        "store: {} ({state})\nchosen by: {}\n",
        choice.path.display(),
        choice.reason()
    );
    if !choice.passed_over.is_empty() {
        text.push_str("looked first at:\n");
        for p in &choice.passed_over {
            text.push_str(&format!("  {p}\n"));
        }
    }
    if choice.rule == PathRule::CurrentFolder {
        text.push_str(
            "Grafana's store was not found: give --db PATH, or --settings with the datasource's jsonData, or set GF_PATHS_DATA or GF_PATHS_PLUGINS as Grafana has them.\n",
        );
    }
    text
}

/// A store that cannot be used, in the words of this tool (whose path flag is `--db`).
fn store_error(e: crate::store::StoreError) -> CliError {
    CliError::new(e.to_string().replace("jsonData.databasePath", "--db"))
}

fn parse_time_flag(flag: &str, value: &str) -> Result<EpochMs, CliError> {
    parse_time_str(flag, value).map_err(|e| CliError::new(e.to_string()))
}

async fn migrate(ctx: &Context) -> Result<(), CliError> {
    let before = match &ctx.place {
        Place::File(choice) if choice.path.exists() => {
            Some(read_schema_version(&choice.path).map_err(store_error)?)
        }
        Place::File(_) => None,
        Place::Postgres(_) => None,
    };
    let store = ctx.open().await?;
    let after = store.schema_version();
    let what = match before {
        // A database server's schema is migrated under its own lock as it opens; what it
        // held before is not ours to read without taking that lock too.
        None if matches!(ctx.place, Place::Postgres(_)) => {
            format!("{}: schema version {after}, current", store.describe())
        }
        None => format!("created a new store, schema version {after}"),
        Some(b) if b == after => format!("schema version {after}, already current; nothing to do"),
        Some(b) => format!("schema version {b} → {after}"),
    };
    print(&format!(
        "store: {} (chosen by {})\n{what}\n",
        ctx.place.display(),
        ctx.place.reason()
    ))
}

/// `maturity copy`: the source's export, streamed into the destination's import a chunk of
/// lines at a time (teams and targets come first in an export, so every event finds them).
async fn copy(
    from: &Place,
    to: &Place,
    org: OrgId,
    settings: AppSettings,
    clock: Clock,
) -> Result<(), CliError> {
    if from.storage() == to.storage() {
        return Err(CliError::new("--from and --to name the same store"));
    }
    if let Place::File(choice) = from {
        if !choice.path.exists() {
            return Err(CliError::new(format!(
                "no store at {} (--from)",
                choice.path.display()
            )));
        }
    }
    let source = App::new(open_place(from).await?, settings.clone(), clock.clone());
    let destination = App::new(open_place(to).await?, settings, clock);
    let caller = Caller {
        org,
        user: Some((CLI_LOGIN.to_string(), Role::Admin)),
    };
    let mut chunks = source.export_chunks(&caller, 1 << 20)?;
    let mut total = ImportReport::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut lines_before = 0usize;
    let mut finished = false;
    while !finished {
        match chunks.recv().await {
            Some(chunk) => pending.extend(chunk?),
            None => finished = true,
        }
        // Import whole lines only; a chunk may end inside one.
        let cut = if finished {
            pending.len()
        } else {
            match pending.iter().rposition(|b| *b == b'\n') {
                Some(i)
                    if pending.iter().filter(|b| **b == b'\n').count() >= IMPORT_CHUNK_LINES
                        || pending.len() > (8 << 20) =>
                {
                    i + 1
                }
                _ => continue,
            }
        };
        let rest = pending.split_off(cut);
        let text = String::from_utf8(std::mem::replace(&mut pending, rest)).map_err(|e| {
            CliError::new(format!(
                "the export of {} is not UTF-8: {e}",
                from.display()
            ))
        })?;
        let report = destination.import(&caller, &text).await?;
        total.created += report.created;
        total.skipped += report.skipped;
        total.rejected += report.rejected;
        total
            .errors
            .extend(report.errors.into_iter().map(|e| ImportError {
                line: e.line + lines_before,
                reason: e.reason,
            }));
        lines_before += text.lines().count();
    }
    let mut text = format!(
        "copied org {org} from {} to {}: {} lines read, {} created, {} skipped (already there), {} rejected\n",
        from.display(),
        to.display(),
        lines_before,
        total.created,
        total.skipped,
        total.rejected
    );
    for e in &total.errors {
        text.push_str(&format!("  line {}: {}\n", e.line, e.reason));
    }
    print(&text)?;
    if total.rejected > 0 {
        return Err(CliError::new(format!(
            "{} lines were not copied (listed above)",
            total.rejected
        )));
    }
    Ok(())
}

async fn export(ctx: &Context, out: Option<&Path>) -> Result<(), CliError> {
    let store = ctx.open_existing().await?;
    let app = ctx.app(store, ctx.clock.clone());
    let ndjson = app.export(&ctx.admin()).await?;
    match out {
        None => print(&ndjson),
        Some(file) => {
            std::fs::write(file, ndjson.as_bytes())
                .map_err(|e| CliError::new(format!("cannot write {}: {e}", file.display())))?;
            note(&format!(
                "exported {} lines from {} to {}",
                ndjson.lines().count(),
                ctx.where_(),
                file.display()
            ));
            Ok(())
        }
    }
}

/// The input of `maturity import`: a file, or stdin.
fn open_input(file: Option<&Path>) -> Result<(String, Box<dyn BufRead>), CliError> {
    match file {
        Some(p) if p != Path::new("-") => {
            let f = std::fs::File::open(p)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", p.display())))?;
            if f.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(CliError::new(format!(
                    "cannot read {}: it is a folder",
                    p.display()
                )));
            }
            Ok((
                p.display().to_string(),
                Box::new(std::io::BufReader::new(f)),
            ))
        }
        given => {
            let stdin = std::io::stdin();
            if given.is_none() && stdin.is_terminal() {
                return Err(CliError::new(
                    "nothing to import: give a FILE, or pipe NDJSON into `maturity import -`",
                ));
            }
            Ok(("stdin".to_string(), Box::new(stdin.lock())))
        }
    }
}

async fn import(ctx: &Context, file: Option<&Path>) -> Result<(), CliError> {
    let (name, mut input) = open_input(file)?;
    let store = ctx.open().await?;
    let app = ctx.app(store, ctx.clock.clone());
    let caller = ctx.admin();
    let mut total = ImportReport::default();
    let mut chunk = String::new();
    let mut chunk_first_line = 1usize;
    let mut lines_in_chunk = 0usize;
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| CliError::new(format!("cannot read {name}: {e}")))?;
        if n > 0 {
            line_no += 1;
            lines_in_chunk += 1;
            match std::str::from_utf8(&buf) {
                Ok(text) => {
                    chunk.push_str(text.trim_end_matches(['\n', '\r']));
                }
                Err(_) => {
                    total.rejected += 1;
                    total.errors.push(ImportError {
                        line: line_no,
                        reason: "line: not UTF-8 text".into(),
                    });
                }
            }
            // Every line keeps its place, so the import's line numbers stay ours.
            chunk.push('\n');
        }
        if (n == 0 && lines_in_chunk > 0) || lines_in_chunk >= IMPORT_CHUNK_LINES {
            let report = app.import(&caller, &chunk).await?;
            total.created += report.created;
            total.skipped += report.skipped;
            total.rejected += report.rejected;
            total
                .errors
                .extend(report.errors.into_iter().map(|e| ImportError {
                    line: e.line + chunk_first_line - 1,
                    reason: e.reason,
                }));
            chunk.clear();
            chunk_first_line = line_no + 1;
            lines_in_chunk = 0;
        }
        if n == 0 {
            break;
        }
    }
    total.errors.sort_by_key(|e| e.line);
    let mut text = format!(
        "imported {name} into {}: {} created, {} skipped, {} rejected\n",
        ctx.where_(),
        total.created,
        total.skipped,
        total.rejected
    );
    for e in &total.errors {
        text.push_str(&format!("  line {}: {}\n", e.line, e.reason));
    }
    print(&text)
}

async fn evaluate(
    app: &App,
    ctx: &Context,
    team: Option<&str>,
    at: EpochMs,
) -> Result<Vec<crate::engine::Evaluation>, CliError> {
    let caller = ctx.admin();
    match team {
        None => Ok(app.maturity(&caller, &TeamSelector::All, at).await?),
        Some(id) => match app.maturity_of(&caller, id, at).await {
            Ok(e) => Ok(vec![e]),
            Err(AppError::NotFound(_)) => {
                let known: Vec<String> = app
                    .list_teams(&caller)
                    .await?
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                let known = if known.is_empty() {
                    "it has no teams".to_string()
                } else {
                    format!("its teams are {}", known.join(", "))
                };
                Err(CliError::new(format!(
                    "no team {id:?} in {}; {known}",
                    ctx.where_()
                )))
            }
            Err(e) => Err(e.into()),
        },
    }
}

async fn report_cmd(
    ctx: &Context,
    team: Option<String>,
    at: Option<&str>,
    json: bool,
) -> Result<(), CliError> {
    let at = match at {
        Some(s) => parse_time_flag("--at", s)?,
        None => (ctx.clock)(),
    };
    let store = ctx.open_existing().await?;
    let app = ctx.app(store, ctx.clock.clone());
    let evals = evaluate(&app, ctx, team.as_deref(), at).await?;
    if json {
        // Through serde_json::Value, as the resource API answers (same key order).
        let value = serde_json::to_value(&evals)
            .map_err(|e| CliError::new(format!("cannot encode the report: {e}")))?;
        return print(&format!("{value}\n"));
    }
    if evals.is_empty() {
        return print(&format!(
            "no teams in {}; create some in Grafana, `maturity import` them, or try `maturity demo`\n",
            ctx.where_()
        ));
    }
    print(&format!(
        "{} at {}\n\n{}",
        ctx.where_(),
        format_time(at),
        report::full(&evals)
    ))
}

async fn demo_cmd(ctx: &Context, now: Option<&str>, seed: u64) -> Result<(), CliError> {
    let now_given = now.is_some();
    let now = match now {
        Some(s) => parse_time_flag("--now", s)?,
        None => (ctx.clock)(),
    };
    // Its history must fit between 1970 and the year 9999 (RFC 3339's range).
    let earliest = (i64::from(demo::HISTORY_WEEKS) + 1) * demo::WEEK;
    if !(earliest..=LATEST_TIME).contains(&now) {
        return Err(CliError::new(format!(
            "--now must lie between {} and {}",
            format_time(earliest),
            format_time(LATEST_TIME)
        )));
    }
    let store = ctx.open().await?;
    // The demo pretends to run at `now`: what the store stamps (createdAt) is `now` too,
    // so that the same seed and now give the same data, byte for byte.
    let fixed: Clock = Arc::new(move || now);
    let app = ctx.app(store, fixed);
    let plan = demo::plan(seed, now);
    let outcome = demo::write(&app, ctx.org, &plan).await?;
    let mut text = String::new();
    match outcome {
        demo::Written::Fresh(counts) => text.push_str(&format!(
            "Wrote the demo data into {} (chosen by {}), org {}, seed {seed}:\n\
             {} teams, {} targets and {} events over the 26 weeks before {}.\n\n",
            ctx.place.display(),
            ctx.place.reason(),
            ctx.org,
            counts.teams,
            counts.targets,
            counts.events,
            format_time(now)
        )),
        demo::Written::AlreadyThere { seed: old_seed, now: old_now } => text.push_str(&format!(
            "The demo data is already in {} (written with seed {old_seed} for {}); nothing was written.\n\
             Use another --db or --org to write it again.\n\n",
            ctx.where_(),
            format_time(old_now)
        )),
    }
    let mut evals = evaluate(&app, ctx, None, now).await?;
    // The ladder from the top, so the spread of levels reads at a glance.
    evals.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.team.cmp(&b.team)));
    text.push_str(&format!("Maturity at {}:\n\n", format_time(now)));
    text.push_str(&report::summary(&evals));
    let db = match &ctx.place {
        Place::File(choice) if choice.rule == PathRule::CommandLine => {
            format!(" --db {}", choice.path.display())
        }
        Place::File(_) => String::new(),
        Place::Postgres(_) => format!(" --db '{}'", ctx.place.display()),
    };
    let at = if !now_given {
        String::new()
    } else {
        format!(" --at {}", format_time(now))
    };
    text.push_str(&format!(
        "\nNext: `maturity{db} report --team search{at}` explains a team's criteria and blockers; \
         `--json` gives what GET /maturity answers.\n"
    ));
    print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(plugin: Option<&str>, data: Option<&str>) -> PathEnv {
        PathEnv {
            plugin_database_path: plugin.map(String::from),
            grafana_data: data.map(String::from),
            executable: Some(PathBuf::from("/opt/bin/maturity")),
            ..PathEnv::default()
        }
    }

    #[test]
    fn the_store_path_follows_the_plugin_rules_then_the_current_folder() {
        let none = JsonData::default();
        let c = store_path(None, &none, &env(None, None)).expect("default");
        assert_eq!(c.path, Path::new("datadriven-maturity").join("maturity.db"));
        assert!(c.reason().contains("current folder"), "{}", c.reason());
        let c = store_path(None, &none, &env(None, Some("/var/lib/grafana"))).expect("data");
        assert_eq!(
            c.path,
            PathBuf::from("/var/lib/grafana/datadriven-maturity/maturity.db")
        );
        let c = store_path(None, &none, &env(Some("/x.db"), Some("/d"))).expect("plugin env");
        assert_eq!(c.path, PathBuf::from("/x.db"));
        let file = parse_settings(&json!({"databasePath": "/json.db"})).expect("settings");
        assert_eq!(
            store_path(None, &file, &env(Some("/x.db"), None))
                .expect("json")
                .path,
            PathBuf::from("/json.db")
        );
        assert_eq!(
            store_path(
                Some(Path::new("/flag.db")),
                &file,
                &env(Some("/x.db"), None)
            )
            .expect("flag")
            .path,
            PathBuf::from("/flag.db")
        );
    }

    #[test]
    fn where_says_which_rule_chose_the_store_and_what_came_before() {
        let c = store_path(None, &JsonData::default(), &env(None, Some("/srv/g"))).expect("data");
        let text = where_text(&Place::File(c.clone()));
        assert!(
            text.starts_with(
                "store: /srv/g/datadriven-maturity/maturity.db (does not exist yet)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("chosen by: GF_PATHS_DATA (Grafana's data folder): GF_PATHS_DATA=/srv/g"),
            "{text}"
        );
        assert!(
            text.contains("  GF_PLUGIN_DATABASE_PATH (not set)"),
            "{text}"
        );
        let c = store_path(None, &JsonData::default(), &env(None, None)).expect("cwd");
        assert!(where_text(&Place::File(c.clone())).contains("Grafana's store was not found"));
    }

    #[test]
    fn a_store_must_be_a_file_path() {
        let none = JsonData::default();
        let err =
            store_path(Some(Path::new(":memory:")), &none, &env(None, None)).expect_err("memory");
        assert!(
            matches!(&err, CliError::Failed(m) if m.starts_with("--db: ") && m.contains("in-memory")),
            "{err:?}"
        );
        assert!(store_path(None, &none, &env(Some("file:x.db"), None)).is_err());
    }

    #[test]
    fn postgres_settings_take_the_url_from_db_or_the_environment() {
        let pg = parse_settings(&json!({"storage": "postgres"})).expect("parse");
        let err = store_place(None, &pg, &env(None, None)).expect_err("no url");
        assert!(
            matches!(&err, CliError::Failed(m) if m.contains("--db postgres://") && m.contains(ENV_POSTGRES_URL)),
            "{err:?}"
        );
        let mut with_url = env(None, None);
        with_url.postgres_url = Some("postgres://app:pw@db/m".into());
        let place = store_place(None, &pg, &with_url).expect("from the environment");
        assert!(matches!(&place, Place::Postgres(u) if u.expose() == "postgres://app:pw@db/m"));
        assert_eq!(place.display(), "postgres://app:***@db/m");
        assert!(matches!(
            store_place(
                Some(Path::new("postgresql://db/m")),
                &JsonData::default(),
                &env(None, None)
            ),
            Ok(Place::Postgres(_))
        ));
        assert!(matches!(
            store_place(Some(Path::new("/a.db")), &pg, &env(None, None)),
            Ok(Place::File(_))
        ));
        let text = where_text(&place);
        assert!(
            text.contains("PostgreSQL") && !text.contains("pw"),
            "{text}"
        );
    }

    #[test]
    fn settings_files_take_json_data_or_a_whole_datasource() {
        let s = parse_settings(&json!({"maturity": {"windowWeeks": 8}, "viewersCanAnnotate": false, "viewSessionMinutes": 5}))
            .expect("jsonData");
        assert_eq!(s.app.maturity.window_weeks, 8);
        assert!(!s.app.viewers_can_annotate);
        let s =
            parse_settings(&json!({"name": "ds", "jsonData": {"maturity": {"reviewRatio": 0.5}}}))
                .expect("datasource");
        assert_eq!(s.app.maturity.review_ratio, 0.5);
        let err = parse_settings(&json!({"maturity": {"reviewRatio": 2}})).expect_err("ratio");
        assert!(err.contains("reviewRatio"), "{err}");
        assert!(parse_settings(&json!([1])).is_err());
        assert!(parse_settings(&json!({"storage": "mysql"})).is_err());
        // The plugin's parser: what the datasource would refuse, the tool refuses too.
        let err = parse_settings(&json!({"viewSessionMinutes": 0})).expect_err("minutes");
        assert!(err.contains("viewSessionMinutes"), "{err}");
    }

    #[test]
    fn flags_parse_and_bad_values_are_usage_errors() {
        let cli =
            Cli::try_parse_from(["maturity", "--org", "3", "report", "--team", "a", "--json"])
                .expect("parse");
        assert_eq!(cli.org, 3);
        assert!(matches!(cli.command, Command::Report { json: true, .. }));
        // Global flags may also follow the command.
        let cli =
            Cli::try_parse_from(["maturity", "export", "--db", "/x.db"]).expect("global after");
        assert_eq!(cli.db, Some(PathBuf::from("/x.db")));
        for bad in [
            vec!["maturity", "--org", "0", "migrate"],
            vec!["maturity", "--org", "x", "migrate"],
            vec!["maturity", "demo", "--seed", "-1"],
            vec!["maturity", "frobnicate"],
        ] {
            let e = Cli::try_parse_from(bad.clone()).expect_err("usage error");
            assert_eq!(e.exit_code(), i32::from(EXIT_ERROR), "{bad:?}");
        }
    }
}
