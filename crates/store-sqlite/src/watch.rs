//! Watch streams: history from the `history` table, then live commits from the
//! broadcast channel, with no gap and no duplicate.
//!
//! The hand-over: under the connection lock, read the current revision `R` and
//! subscribe to the broadcast. Commits are broadcast under that same lock, so every
//! commit after `R` reaches the subscription and none before it does. Replay history
//! `(after, R]`, then forward live commits, skipping any at or below the last revision
//! handled (`seen`). If the subscription lags (a slow consumer), replay history
//! `(seen, current]` and continue with the subscription, still skipping by `seen`.

use std::sync::{Arc, Weak};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

use crate::db::{self, Commit, HistoryError};
use crate::{Inner, SqliteStore, run_blocking};
use berth_store::{Event, Result, Revision, StoreError};

/// History is replayed this many revisions per read, so one read never holds the
/// connection lock for long and memory stays bounded.
const REPLAY_PAGE_REVISIONS: Revision = 256;

pub(super) async fn start(store: &SqliteStore, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
    let after = after.max(0);
    let (current, subscription) = store
        .blocking(move |inner, conn| {
            let (current, compacted) = db::revision_and_compacted(conn)?;
            if after < compacted {
                return Err(StoreError::Compacted { requested: after + 1, oldest: compacted + 1 });
            }
            Ok((current, inner.commits.subscribe()))
        })
        .await?;

    let (tx, rx) = mpsc::channel(store.inner.options.watch_channel_capacity.max(1));
    let watcher = Watcher {
        // Weak: a watch must not keep the database open after the last store handle.
        store: Arc::downgrade(&store.inner),
        end: db::prefix_end(prefix),
        prefix: prefix.to_owned(),
        seen: after,
        tx,
    };
    tokio::spawn(watcher.run(current, subscription));
    Ok(rx)
}

struct Watcher {
    store: Weak<Inner>,
    prefix: String,
    end: Option<String>,
    /// Every event with a revision <= `seen` has been handled (sent or filtered out).
    seen: Revision,
    tx: mpsc::Sender<Event>,
}

/// The watch must end: the receiver or the store is gone, or an error was logged.
struct Stop;

impl Watcher {
    async fn run(mut self, current: Revision, mut subscription: broadcast::Receiver<Arc<Commit>>) {
        if self.replay(current).await.is_err() {
            return;
        }
        loop {
            let received = tokio::select! {
                // Notice a dropped receiver even when no commit arrives.
                () = self.tx.closed() => return,
                received = subscription.recv() => received,
            };
            match received {
                Ok(commit) => {
                    if commit.revision <= self.seen {
                        continue;
                    }
                    for event in commit.events.iter().filter(|e| self.matches(e.key())) {
                        if self.tx.send(event.clone()).await.is_err() {
                            return;
                        }
                    }
                    self.seen = commit.revision;
                }
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(
                        prefix = %self.prefix,
                        seen = self.seen,
                        skipped,
                        "watcher lagged; catching up from history"
                    );
                    let Some(inner) = self.store.upgrade() else {
                        return;
                    };
                    let current = match run_blocking(inner, |_, conn| db::revision(conn)).await {
                        Ok(current) => current,
                        Err(e) => {
                            tracing::error!(prefix = %self.prefix, error = %e, "watch ended");
                            return;
                        }
                    };
                    if self.replay(current).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    fn matches(&self, key: &str) -> bool {
        key.starts_with(&self.prefix)
    }

    /// Sends the history events in `(seen, upto]` and advances `seen` to `upto`.
    async fn replay(&mut self, upto: Revision) -> Result<(), Stop> {
        while self.seen < upto {
            let from = self.seen;
            let to = upto.min(from.saturating_add(REPLAY_PAGE_REVISIONS));
            let inner = self.store.upgrade().ok_or(Stop)?;
            let (prefix, end) = (self.prefix.clone(), self.end.clone());
            let page =
                run_blocking(inner, move |_, conn| Ok(db::history(conn, &prefix, end.as_deref(), from, to))).await;
            let events = match page {
                Ok(Ok(events)) => events,
                Ok(Err(HistoryError::Compacted { after, compacted })) => {
                    tracing::warn!(
                        prefix = %self.prefix,
                        needed = after + 1,
                        oldest = compacted + 1,
                        "watcher fell behind compacted history; ending the watch"
                    );
                    return Err(Stop);
                }
                Ok(Err(HistoryError::Store(e))) | Err(e) => {
                    tracing::error!(prefix = %self.prefix, error = %e, "watch ended");
                    return Err(Stop);
                }
            };
            for event in events {
                self.tx.send(event).await.map_err(|_| Stop)?;
            }
            self.seen = to;
        }
        Ok(())
    }
}
