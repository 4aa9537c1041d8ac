//! The Grafana sync's schedule (issue 12): one per datasource instance that has a service
//! account token, every `actualsIntervalMinutes`.
//!
//! - **Resumable**: the first run of a new instance (after a restart, or a settings change)
//!   waits for what is left of the interval since the last run recorded in the store (at
//!   least [`FIRST_DELAY`], so that the first request is not slowed).
//! - **Never twice at once in one process**: every run of a datasource — scheduled, or
//!   `POST /sync` — holds that datasource's lock, shared by every instance built for it.
//! - **Once per cluster**: Grafana replicas sharing a store (PostgreSQL, issue 14) each run
//!   the schedule; before a scheduled run a replica takes the datasource's lease in the store
//!   for one interval ([`crate::app::App::claim_sync_turn`]), and skips the run when another
//!   replica holds it. `POST /sync` always runs (its writes are idempotent).
//! - **Stops with its instance**: the task is aborted when the instance is dropped (replaced
//!   after a settings change, or the plugin stops); a store write under way finishes, as it
//!   runs on the blocking pool.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::app::sync::{GrafanaSync, SyncReport};
use crate::app::{new_id, App};
use crate::model::EpochMs;

/// The shortest wait before a new instance's first run.
pub const FIRST_DELAY: Duration = Duration::from_secs(2);

/// Runs the sync of one datasource, one run at a time.
#[derive(Debug)]
pub struct SyncRunner {
    app: App,
    sync: GrafanaSync,
    lock: Arc<Mutex<()>>,
}

impl SyncRunner {
    /// A runner over `app` holding `lock` (the datasource's, shared by its instances).
    pub fn new(app: App, sync: GrafanaSync, lock: Arc<Mutex<()>>) -> Self {
        Self { app, sync, lock }
    }

    /// The datasource's way to Grafana.
    pub fn sync(&self) -> &GrafanaSync {
        &self.sync
    }

    /// Runs the sync now, after any run of the same datasource under way.
    pub async fn run_now(&self) -> SyncReport {
        let _one_at_a_time = self.lock.lock().await;
        let report = self.app.run_sync(&self.sync).await;
        if report.failed.is_empty() {
            tracing::info!(datasource = %self.sync.scope, org = self.sync.org, summary = %report.summary(), "Grafana sync");
        } else {
            for f in &report.failed {
                tracing::warn!(datasource = %self.sync.scope, org = self.sync.org, what = f.what, id = %f.id, fault = f.fault, error = %f.message, "Grafana sync: part failed");
            }
        }
        report
    }

    /// Whether this process may do the next scheduled run: it holds (or took) the
    /// datasource's lease. A store that cannot be asked means no run (it could not be
    /// written either); the next tick asks again.
    pub async fn claim_turn(&self) -> bool {
        match self.app.claim_sync_turn(&self.sync, replica_id()).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::debug!(datasource = %self.sync.scope, org = self.sync.org, "Grafana sync: another replica holds this run");
                false
            }
            Err(e) => {
                tracing::warn!(datasource = %self.sync.scope, org = self.sync.org, error = %e, "Grafana sync: cannot take the run's lease");
                false
            }
        }
    }

    /// How long to wait before the first run: what is left of `interval` since the last
    /// run recorded in the store, at least [`FIRST_DELAY`].
    pub async fn first_wait(&self, interval: Duration) -> Duration {
        let last: Option<EpochMs> = match self.app.last_sync(&self.sync).await {
            Ok(v) => v.and_then(|v| v.get("at").and_then(serde_json::Value::as_i64)),
            Err(_) => None,
        };
        first_wait(last, self.app.now(), interval)
    }
}

/// This process's name as a lease holder: one per process, so the instances a settings
/// change replaces keep the lease their predecessor took.
fn replica_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| new_id("replica"))
}

/// The wait before a first run, from the last run's start (`None`: never ran).
pub fn first_wait(last: Option<EpochMs>, now: EpochMs, interval: Duration) -> Duration {
    let left = match last {
        None => Duration::ZERO,
        Some(at) => {
            let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
            let ms = at.saturating_add(interval_ms).saturating_sub(now);
            Duration::from_millis(u64::try_from(ms.clamp(0, interval_ms)).unwrap_or(0))
        }
    };
    left.max(FIRST_DELAY).min(interval.max(FIRST_DELAY))
}

/// A running schedule; dropping it stops it.
#[derive(Debug)]
pub struct Schedule {
    task: JoinHandle<()>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the schedule of `runner` on the current runtime: a first run after
/// [`SyncRunner::first_wait`], then one every `interval`.
pub fn start(runner: Arc<SyncRunner>, interval: Duration) -> Schedule {
    let task = tokio::spawn(async move {
        let mut wait = runner.first_wait(interval).await;
        loop {
            tokio::time::sleep(wait).await;
            if runner.claim_turn().await {
                runner.run_now().await;
            }
            wait = interval;
        }
    });
    Schedule { task }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_first_run_resumes_the_interval_of_the_last_one() {
        // Never ran: soon.
        assert_eq!(first_wait(None, 10_000_000, HOUR), FIRST_DELAY);
        // Ran 20 minutes ago: 40 minutes later.
        assert_eq!(
            first_wait(Some(10_000_000 - 1_200_000), 10_000_000, HOUR),
            Duration::from_secs(2400)
        );
        // Ran long ago, or just now with a clock that went back: soon, at most an interval.
        assert_eq!(first_wait(Some(0), 10_000_000, HOUR), FIRST_DELAY);
        assert_eq!(first_wait(Some(20_000_000), 10_000_000, HOUR), HOUR);
    }
}
