//! One store's writes in this process taken, one at a time and in the order they were
//! written, into what every datasource on the store keeps of its evidence (issue 15): the
//! event writes of `App::record_events`, the actuals of `App::add_actuals` and the passive
//! views of the view writer alike.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use super::cache::TeamLists;
use super::kept::KeptEvidence;
use crate::model::{Event, OrgId, Target, VersionStep};

/// What one datasource (one [`App`](super::App)) keeps that a write can take forward.
#[derive(Debug, Default)]
pub struct Follower {
    /// Its kept evidence.
    pub kept: KeptEvidence,
    /// Its kept team lists.
    pub team_lists: TeamLists,
}

impl Follower {
    fn advance(&self, org: OrgId, step: &VersionStep, events: &[Event]) {
        self.kept.advance(org, step, events);
        self.team_lists.advance(org, step);
    }

    fn advance_target(&self, org: OrgId, step: &VersionStep, target: &Target) {
        self.kept.advance_target(org, step, target);
        self.team_lists.advance(org, step);
    }
}

/// The writes of one store in this process and the followers they are taken into. Shared by
/// every datasource on the store and by its view writer.
#[derive(Debug, Default)]
pub struct StoreWrites {
    /// Held from a store write until its steps are taken: a step taken out of order would
    /// find the kept evidence one write behind, miss, and leave the team to be read again.
    order: Mutex<()>,
    followers: Mutex<Vec<Weak<Follower>>>,
    /// The writes that announced their commit, and how many of them were taken.
    commits: Arc<Commits>,
}

/// Writes that announced their commit (see [`crate::store::announce_commit`]) and how
/// many of them finished taking their steps, for [`StoreWrites::settled`].
#[derive(Debug, Default)]
struct Commits {
    progress: Mutex<Progress>,
    /// Signalled when a write that committed has taken its steps.
    taken: Condvar,
}

/// Writes are taken in order, so the first `taken` of the `committed` writes are taken.
#[derive(Debug, Default)]
struct Progress {
    committed: u64,
    taken: u64,
}

impl Commits {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The end of a write that announced its commit: counted as taken when dropped, after its
/// steps or by a panic, so that no [`StoreWrites::settled`] waits for it for ever.
struct Taken<'a> {
    commits: &'a Commits,
    announced: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if self.announced.get() {
            self.commits.progress().taken += 1;
            self.commits.taken.notify_all();
        }
    }
}

/// A write in progress, holding the order: only a write can take its steps forward.
pub struct InOrder<'a> {
    writes: &'a StoreWrites,
    _order: MutexGuard<'a, ()>,
}

impl InOrder<'_> {
    /// Takes a write of `events` in `org` that moved the versions by `step` into every
    /// follower of the store.
    pub fn advance(&self, org: OrgId, step: &VersionStep, events: &[Event]) {
        for follower in self.writes.live_followers() {
            follower.advance(org, step, events);
        }
    }

    /// Takes a write of `target`'s actuals in `org` that moved its team's version by `step`
    /// into every follower of the store.
    pub fn advance_target(&self, org: OrgId, step: &VersionStep, target: &Target) {
        for follower in self.writes.live_followers() {
            follower.advance_target(org, step, target);
        }
    }
}

impl StoreWrites {
    /// Registers `follower`: the store's writes are taken into it while it lives.
    pub fn follow(&self, follower: &Arc<Follower>) {
        let mut followers = self.followers.lock().unwrap_or_else(|p| p.into_inner());
        followers.retain(|f| f.strong_count() > 0);
        followers.push(Arc::downgrade(follower));
    }

    /// Runs a blocking store `write` holding the store's write order; the write takes its
    /// steps forward through the [`InOrder`] it is given, before the next write starts.
    pub fn write<T>(&self, write: impl FnOnce(&InOrder<'_>) -> T) -> T {
        let order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let announced = std::rc::Rc::new(std::cell::Cell::new(false));
        let listener = {
            let (commits, announced) = (self.commits.clone(), announced.clone());
            // Once per write, however many times its store announces (a retried commit).
            Box::new(move || {
                if !announced.replace(true) {
                    commits.progress().committed += 1;
                }
            })
        };
        let _taken = Taken {
            commits: &self.commits,
            announced,
        };
        crate::store::listening_for_commits(listener, || {
            write(&InOrder {
                writes: self,
                _order: order,
            })
        })
    }

    /// Returns once every write that committed before the call has been taken into the
    /// followers. A query whose versions are newer than its kept evidence calls this before
    /// reading the teams again: the versions may have come from a write still on its way.
    /// It waits for the writes that announced their commit before the call (a store
    /// announces right before it commits, so every write whose versions the query saw
    /// did), not for the writes after them nor for a write still in its statements:
    /// passing through the order instead waited for whichever write held it next, through
    /// its whole store transaction, and was most of the all-team queries' p99 under the
    /// load test (the slowest 3 % waited 27–38 ms on average there, issue 15). A write
    /// that does not announce is not waited for: its teams are read again.
    pub fn settled(&self) {
        let mut progress = self.commits.progress();
        let committed = progress.committed;
        while progress.taken < committed {
            progress = self
                .commits
                .taken
                .wait(progress)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    fn live_followers(&self) -> Vec<Arc<Follower>> {
        let followers = self.followers.lock().unwrap_or_else(|p| p.into_inner());
        followers.iter().filter_map(Weak::upgrade).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_taken_into_every_live_follower_and_a_dropped_one_is_forgotten() {
        let writes = StoreWrites::default();
        let (a, b) = (Arc::new(Follower::default()), Arc::new(Follower::default()));
        writes.follow(&a);
        writes.follow(&b);
        assert_eq!(writes.live_followers().len(), 2);
        drop(b);
        assert_eq!(writes.live_followers().len(), 1);
        // A later registration prunes the dropped follower's entry.
        let c = Arc::new(Follower::default());
        writes.follow(&c);
        assert_eq!(
            writes
                .followers
                .lock()
                .expect("followers")
                .iter()
                .filter(|f| f.strong_count() == 0)
                .count(),
            0
        );
        assert_eq!(writes.write(|_| 7), 7);
    }

    /// A write that holds the order until told to finish, announcing its commit first
    /// when `commits`; returns once it holds the order, with the sender that finishes it.
    fn write_in_flight(
        writes: &Arc<StoreWrites>,
        commits: bool,
    ) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let (started, in_flight) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let writer = {
            let writes = writes.clone();
            std::thread::spawn(move || {
                writes.write(|_| {
                    if commits {
                        crate::store::announce_commit();
                        crate::store::announce_commit();
                    }
                    started.send(()).expect("started");
                    finished.recv().ok();
                })
            })
        };
        in_flight.recv().expect("the write started");
        (finish, writer)
    }

    /// Whether `settled` returns within a few seconds while the write is in flight.
    fn settles_while_in_flight(writes: &Arc<StoreWrites>) -> bool {
        let (done, settled) = std::sync::mpsc::channel();
        let writes = writes.clone();
        let query = std::thread::spawn(move || {
            writes.settled();
            done.send(()).ok();
        });
        let outcome = settled.recv_timeout(std::time::Duration::from_secs(3));
        // Left to finish with the write when it did not settle.
        drop(query);
        outcome.is_ok()
    }

    #[test]
    fn settled_waits_for_a_write_that_announced_its_commit_until_it_is_taken() {
        let writes = Arc::new(StoreWrites::default());
        let (finish, writer) = write_in_flight(&writes, true);
        assert!(
            !settles_while_in_flight(&writes),
            "settled while a committed write was still on its way"
        );
        finish.send(()).expect("finish the write");
        writer.join().expect("writer");
        // Announced twice, counted once: nothing is left to wait for.
        let (finish, writer) = write_in_flight(&writes, false);
        assert!(settles_while_in_flight(&writes));
        finish.send(()).expect("finish the write");
        writer.join().expect("writer");
    }

    #[test]
    fn settled_does_not_wait_for_a_write_that_has_not_committed() {
        let writes = Arc::new(StoreWrites::default());
        let (finish, writer) = write_in_flight(&writes, false);
        let settled = settles_while_in_flight(&writes);
        finish.send(()).expect("finish the write");
        writer.join().expect("writer");
        assert!(settled, "settled waited for a write that had not committed");
    }

    #[test]
    fn a_write_that_panics_after_its_commit_is_not_waited_for() {
        let writes = Arc::new(StoreWrites::default());
        let panicked = {
            let writes = writes.clone();
            std::thread::spawn(move || {
                writes.write(|_| {
                    crate::store::announce_commit();
                    panic!("a write that fails after its commit");
                })
            })
            .join()
        };
        assert!(panicked.is_err());
        let (finish, writer) = write_in_flight(&writes, false);
        assert!(settles_while_in_flight(&writes));
        finish.send(()).expect("finish the write");
        writer.join().expect("writer");
    }
}
