//! One store's writes in this process taken, one at a time and in the order they were
//! written, into what every datasource on the store keeps of its evidence (issue 15): the
//! event writes of `App::record_events`, the actuals of `App::add_actuals` and the passive
//! views of the view writer alike.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

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
        write(&InOrder {
            writes: self,
            _order: order,
        })
    }

    /// Returns once every write that committed before the call has been taken into the
    /// followers: a write holds the order from before its commit until its steps are
    /// taken, so passing through the order waits for the one in flight, if any. A query
    /// whose versions are newer than its kept evidence calls this before reading the
    /// teams again: the versions may have come from a write still on its way.
    pub fn settled(&self) {
        drop(self.order.lock().unwrap_or_else(|p| p.into_inner()));
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

    #[test]
    fn settled_returns_once_the_write_in_flight_has_taken_its_steps() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let writes = Arc::new(StoreWrites::default());
        let taken = Arc::new(AtomicBool::new(false));
        let (started, in_flight) = std::sync::mpsc::channel();
        let writer = {
            let (writes, taken) = (writes.clone(), taken.clone());
            std::thread::spawn(move || {
                writes.write(|_| {
                    started.send(()).expect("started");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    taken.store(true, Ordering::SeqCst);
                })
            })
        };
        in_flight.recv().expect("the write started");
        writes.settled();
        assert!(
            taken.load(Ordering::SeqCst),
            "settled before the write was taken"
        );
        writer.join().expect("writer");
    }
}
