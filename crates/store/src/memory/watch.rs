//! Watch streams of the in-memory backend. There is one path, history: a watcher sends
//! the history events after the last revision it handled (`seen`) up to the newest
//! revision, then waits for the next commit. Waiting on a `watch` channel of the newest
//! revision loses no wake-up: the value is read (and marked seen) before the history,
//! so any commit after it marks the channel changed again.

use std::sync::Weak;

use tokio::sync::{mpsc, watch};

use super::{Inner, MemoryStore};
use crate::{Event, Result, Revision, StoreError};

/// Capacity, in events, of the channel each watch returns.
const WATCH_CHANNEL_CAPACITY: usize = 256;

/// History is copied out this many revisions at a time, so one copy never holds the
/// lock for long.
const REPLAY_PAGE_REVISIONS: Revision = 256;

pub(super) fn start(store: &MemoryStore, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
    let after = after.max(0);
    let revisions = {
        let state = store.inner.lock();
        if after < state.compacted {
            return Err(StoreError::Compacted { requested: after + 1, oldest: state.compacted + 1 });
        }
        store.inner.revisions.subscribe()
    };
    let (tx, rx) = mpsc::channel(WATCH_CHANNEL_CAPACITY);
    // Weak: a watch must not keep the store alive after its last handle.
    let watcher =
        Watcher { store: std::sync::Arc::downgrade(&store.inner), prefix: prefix.to_owned(), seen: after, tx };
    tokio::spawn(watcher.run(revisions));
    Ok(rx)
}

struct Watcher {
    store: Weak<Inner>,
    prefix: String,
    /// Every event with a revision <= `seen` has been handled (sent or filtered out).
    seen: Revision,
    tx: mpsc::Sender<Event>,
}

/// The watch must end: the receiver or the store is gone, or history it needs is.
struct Stop;

impl Watcher {
    async fn run(mut self, mut revisions: watch::Receiver<Revision>) {
        loop {
            let newest = *revisions.borrow_and_update();
            if self.catch_up(newest).await.is_err() {
                return;
            }
            tokio::select! {
                // Notice a dropped receiver even when no commit arrives.
                () = self.tx.closed() => return,
                // An error: the store was dropped.
                changed = revisions.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Sends the history events in `(seen, upto]` and advances `seen` to `upto`.
    async fn catch_up(&mut self, upto: Revision) -> Result<(), Stop> {
        while self.seen < upto {
            let to = upto.min(self.seen.saturating_add(REPLAY_PAGE_REVISIONS));
            let page = self.store.upgrade().ok_or(Stop)?.lock().events(&self.prefix, self.seen, to);
            let Some(events) = page else {
                tracing::warn!(
                    prefix = %self.prefix,
                    needed = self.seen + 1,
                    "watcher fell behind compacted history; ending the watch"
                );
                return Err(Stop);
            };
            for event in events {
                self.tx.send(event).await.map_err(|_| Stop)?;
            }
            self.seen = to;
        }
        Ok(())
    }
}
