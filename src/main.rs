//! `gpx_maturity`: the backend binary Grafana starts. Wires logging, the plugin state and
//! the gRPC server; stops gracefully on go-plugin's Shutdown, SIGTERM or SIGINT.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;
use std::sync::Arc;

use grafana_plugin_sdk::backend;
use maturity::app::system_clock;
use maturity::plugin::instances::Instances;
use maturity::plugin::metrics::Metrics;
use maturity::plugin::settings::PathEnv;
use maturity::plugin::{server, PluginState};
use tokio::sync::Notify;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// The plugin allocates through jemalloc on Linux, SQLite included (see `sqlite_memory`;
/// issue 15). The static musl build Grafana runs used musl's allocator, which under the load
/// test (`cargo bench --bench load` with `MATURITY_PLUGIN_BIN` set to it) held 278 MiB at its
/// peak against 112 MiB for the glibc build the benchmarks measured, at 20 % fewer operations
/// a second; with one allocator both builds behave as measured (81 and 88 MiB).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start: pages freed go back to the system within ~30 ms
/// (`dirty_decay_ms:30`), so the resident size follows the live memory instead of the
/// highest it ever was between bursts of queries; two arenas (each thread keeps its own cache
/// in front of them). Session 7 chose `0` (pages back at once) for the memory budget, when
/// the load test peaked at 84-88 MiB with it; with the plugin at 68-81 MiB (session 14, same
/// load): `0` 669 operations a second at VmHWM 79 MiB, `30` 730 at 88 MiB, `100` 775-901 at
/// 92-99 MiB (too near the 100 MiB budget), and a cold all-team `maturity` 1.98× its floor
/// with `0` against 1.76-1.80× with `30`: a quarter of an answer's work was faulting in
/// pages just given back. An operator can trade either way with `_RJEM_MALLOC_CONF` in the
/// plugin's environment.
#[cfg(target_os = "linux")]
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"narenas:2,dirty_decay_ms:30,muzzy_decay_ms:0\0";

/// SQLite's own allocations (page caches, statements, temporary b-trees) go to the same
/// jemalloc on Linux (issue 15): left with musl's allocator, the static build still held
/// 140 MiB at the load test's peak with Rust's allocations on jemalloc.
#[cfg(target_os = "linux")]
mod sqlite_memory {
    use std::os::raw::{c_int, c_void};

    use rusqlite::ffi;
    use tikv_jemalloc_sys as jemalloc;

    unsafe extern "C" fn allocate(size: c_int) -> *mut c_void {
        // SAFETY: jemalloc's malloc takes any size; SQLite never asks for a negative one.
        unsafe { jemalloc::malloc(usize::try_from(size).unwrap_or(0)) }
    }

    unsafe extern "C" fn free(block: *mut c_void) {
        // SAFETY: SQLite frees only what `allocate` or `reallocate` gave it.
        unsafe { jemalloc::free(block) }
    }

    unsafe extern "C" fn reallocate(block: *mut c_void, size: c_int) -> *mut c_void {
        // SAFETY: as `free`; the size as in `allocate`.
        unsafe { jemalloc::realloc(block, usize::try_from(size).unwrap_or(0)) }
    }

    unsafe extern "C" fn size_of(block: *mut c_void) -> c_int {
        if block.is_null() {
            return 0;
        }
        // SAFETY: a block jemalloc gave SQLite, still allocated.
        let size = unsafe { jemalloc::malloc_usable_size(block) };
        c_int::try_from(size).unwrap_or(c_int::MAX)
    }

    unsafe extern "C" fn round_up(size: c_int) -> c_int {
        size
    }

    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        ffi::SQLITE_OK
    }

    unsafe extern "C" fn shutdown(_: *mut c_void) {}

    /// Hands SQLite jemalloc's functions; must run before SQLite's first use. Whether
    /// SQLite took them.
    pub fn install() -> bool {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(allocate),
            xFree: Some(free),
            xRealloc: Some(reallocate),
            xSize: Some(size_of),
            xRoundup: Some(round_up),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to the methods, which SQLite copies
        // before returning; no connection exists yet (SQLite refuses otherwise).
        unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            ) == ffi::SQLITE_OK
        }
    }
}

/// go-plugin's magic cookie, which Grafana sets when it starts a datasource plugin.
const MAGIC_COOKIE_KEY: &str = "grafana_plugin_type";
const MAGIC_COOKIE_VALUE: &str = "datasource";

fn main() -> ExitCode {
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "gpx_maturity is the Data-Driven Maturity backend that Grafana starts; it is not meant to be run by hand.\n\
             To work with the store from a shell, use the `maturity` command-line tool (`maturity --help`)."
        );
        return ExitCode::from(1);
    }
    #[cfg(target_os = "linux")]
    let sqlite_on_jemalloc = sqlite_memory::install();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(backend::layer())
        .with(filter)
        .init();
    #[cfg(target_os = "linux")]
    if !sqlite_on_jemalloc {
        tracing::warn!("SQLite keeps the C library's allocator: it refused jemalloc's");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin stopped with an error");
            ExitCode::from(1)
        }
    }
}

async fn run() -> Result<(), String> {
    let metrics = Metrics::new().map_err(|e| format!("cannot register metrics: {e}"))?;
    let state = Arc::new(PluginState {
        instances: Instances::new(PathEnv::from_process(), system_clock()),
        metrics,
    });
    let range = server::port_range(
        std::env::var(server::ENV_MIN_PORT).ok().as_deref(),
        std::env::var(server::ENV_MAX_PORT).ok().as_deref(),
    )
    .map_err(|e| format!("cannot listen for Grafana: {e}"))?;
    let listener = server::listen(range)
        .await
        .map_err(|e| format!("cannot listen for Grafana: {e}"))?;
    let stop = Arc::new(Notify::new());
    tokio::spawn(stop_on_signal(stop.clone()));
    server::serve(state, listener, stop)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped; pending writes flushed");
    Ok(())
}

async fn stop_on_signal(stop: Arc<Notify>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    stop.notify_one();
}
