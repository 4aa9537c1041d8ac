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

/// go-plugin's magic cookie, which Grafana sets when it starts a datasource plugin.
const MAGIC_COOKIE_KEY: &str = "grafana_plugin_type";
const MAGIC_COOKIE_VALUE: &str = "datasource";

/// glibc gives each thread that allocates an arena of its own (up to eight per core) and
/// keeps what is freed there; with the store's reader threads and the blocking pool, most of
/// the resident size under concurrent queries was that retention. Two arenas per core bound
/// it (`cargo bench --bench load`: peak VmRSS 220 -> 103 MiB) without the lock contention
/// that two in all cost the parallel evidence reads.
///
/// Blocks of 64 KiB and more (a batch of evidence, a frame's columns) are mapped on their
/// own and go back to the system when freed, instead of staying in an arena between smaller
/// blocks (issue 15: peak VmRSS under the load test 108 -> 83 MiB, throughput unchanged).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = libc::c_int::try_from(2 * cores).unwrap_or(2).clamp(2, 16);
    // SAFETY: mallopt only tunes the allocator; it runs before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "gpx_maturity is the Data-Driven Maturity backend that Grafana starts; it is not meant to be run by hand.\n\
             To work with the store from a shell, use the `maturity` command-line tool (`maturity --help`)."
        );
        return ExitCode::from(1);
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(backend::layer())
        .with(filter)
        .init();
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
