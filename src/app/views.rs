//! Passive review evidence (SPEC §4.4): views are queued off the request path and written
//! in batches by a background task, at most 500 ms after the query that saw them, and taken
//! into the evidence the store's datasources keep (issue 15).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::write_order::StoreWrites;
use super::{new_id, Clock};
use crate::model::PendingView;
use crate::store::Store;

/// How long a view may wait before it is written: well inside the 500 ms of SPEC §4.4.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Views queued beyond this are dropped (and counted) rather than slowing queries.
const QUEUE_CAPACITY: usize = 10_000;

enum Command {
    View(PendingView),
    Flush(oneshot::Sender<()>),
}

/// The queue of one store's pending views and the task that writes them.
pub struct ViewRecorder {
    tx: mpsc::Sender<Command>,
    dropped: AtomicU64,
    written: Arc<AtomicU64>,
}

impl std::fmt::Debug for ViewRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewRecorder").finish_non_exhaustive()
    }
}

impl ViewRecorder {
    /// Starts the writer task for `store` on the current runtime; its writes go through
    /// `writes`, in order with the store's other writes in this process.
    pub fn start(store: Arc<dyn Store>, writes: Arc<StoreWrites>, clock: Clock) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let written = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(store, writes, clock, rx, written.clone()));
        Self {
            tx,
            dropped: AtomicU64::new(0),
            written,
        }
    }

    /// Queues a view without waiting; a full queue drops it rather than slow the query.
    pub fn record(&self, view: PendingView) {
        if self.tx.try_send(Command::View(view)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a view that is not recorded (its dashboard uid is too long to be one).
    pub fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes everything queued so far and waits until it is stored.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Views dropped because the queue was full or their dashboard uid was too long.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Views written as new events.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

type SessionKey = (i64, String, String, i64);

async fn run(
    store: Arc<dyn Store>,
    writes: Arc<StoreWrites>,
    clock: Clock,
    mut rx: mpsc::Receiver<Command>,
    written: Arc<AtomicU64>,
) {
    // Sessions already written by this process: repeated panels of one dashboard load need
    // not reach the store at all. The store's unique index stays the real guarantee.
    let mut recent: HashSet<SessionKey> = HashSet::new();
    while let Some(first) = rx.recv().await {
        let mut batch: Vec<PendingView> = Vec::new();
        let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
        let take = |cmd: Command,
                    batch: &mut Vec<PendingView>,
                    acks: &mut Vec<oneshot::Sender<()>>| match cmd {
            Command::View(v) => batch.push(v),
            Command::Flush(a) => acks.push(a),
        };
        take(first, &mut batch, &mut acks);
        if acks.is_empty() {
            let deadline = tokio::time::sleep(FLUSH_EVERY);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    cmd = rx.recv() => match cmd {
                        Some(c) => {
                            let is_flush = matches!(c, Command::Flush(_));
                            take(c, &mut batch, &mut acks);
                            if is_flush || batch.len() >= 1000 { break; }
                        }
                        None => break,
                    }
                }
            }
        } else {
            while let Ok(c) = rx.try_recv() {
                take(c, &mut batch, &mut acks);
            }
        }
        if recent.len() > 100_000 {
            recent.clear();
        }
        batch.retain(|v| {
            recent.insert((
                v.org,
                v.user.clone(),
                v.dashboard_uid.clone(),
                v.session_bucket,
            ))
        });
        if !batch.is_empty() {
            let (store, writes) = (store.clone(), writes.clone());
            let now = clock();
            let to_write = batch.clone();
            let result = tokio::task::spawn_blocking(move || {
                let mut make_id = || new_id("view");
                writes.write(|in_order| {
                    let written = store.insert_views(&to_write, &mut make_id, now)?;
                    // A view changes only the teams of its dashboard: taken forward, they
                    // are computed again from memory instead of read again.
                    for w in &written {
                        in_order.advance(w.org, &w.step, &w.events);
                    }
                    Ok::<usize, crate::store::StoreError>(
                        written.iter().map(|w| w.events.len()).sum(),
                    )
                })
            })
            .await;
            match result {
                Ok(Ok(n)) => {
                    written.fetch_add(n as u64, Ordering::Relaxed);
                }
                Ok(Err(e)) => {
                    for v in &batch {
                        recent.remove(&(
                            v.org,
                            v.user.clone(),
                            v.dashboard_uid.clone(),
                            v.session_bucket,
                        ));
                    }
                    tracing::warn!(error = %e, views = batch.len(), "could not write passive views");
                }
                Err(e) => tracing::warn!(error = %e, "passive view writer failed"),
            }
        }
        for a in acks {
            let _ = a.send(());
        }
    }
}
