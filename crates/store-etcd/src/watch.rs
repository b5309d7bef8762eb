//! [`Store::watch`](berth_store::Store::watch) on etcd: one etcd watch per call, its
//! events forwarded into the returned channel by a task of its own. etcd replays the
//! history from the start revision, then streams live commits. When the stream breaks
//! (an etcd member went away), the task watches again from the revision after the last
//! event it forwarded, so the caller sees no gap and no duplicate. The task ends when
//! the receiver is dropped or the last clone of the store is.

use etcd_client::{Client, EventType, GetOptions, WatchOptions, WatchStream};
use tokio::sync::{mpsc, watch as signal};

use crate::revs::{from_etcd, prefix_end, to_etcd};
use crate::{EtcdStore, backend};
use berth_store::{Event, KeyValue, Result, Revision, StoreError};

/// Capacity, in events, of the channel each watch returns.
const CHANNEL_CAPACITY: usize = 256;

/// What the forwarding task needs, without holding the store alive.
struct Watcher {
    client: Client,
    namespace: Vec<u8>,
    key: Vec<u8>,
    end: Vec<u8>,
    alive: signal::Receiver<()>,
}

pub async fn start(store: EtcdStore, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
    let key = store.key(prefix);
    let watcher = Watcher {
        client: store.client(),
        namespace: store.inner.namespace.clone(),
        end: prefix_end(&key),
        key,
        alive: store.inner.alive.clone(),
    };
    let start = to_etcd(after.max(0)).max(1) + 1;
    check_not_compacted(&store, after, start).await?;
    let stream = watcher.open(start).await?;
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(watcher.forward(stream, start, tx));
    Ok(rx)
}

/// A range read at the start revision fails once compaction removed it; the watch would
/// then only be cancelled after it was created, so the error is raised up front.
async fn check_not_compacted(store: &EtcdStore, after: Revision, start: i64) -> Result<()> {
    let root = store.key("");
    let count = GetOptions::new().with_count_only();
    let current = store.etcd_get("reading the revision", &root, Some(count.clone())).await?;
    let current = current.header().map_or(0, |h| h.revision());
    if start > current {
        return Ok(());
    }
    let at = count.with_revision(start);
    match store.etcd_get("a read", &root, Some(at)).await {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("compacted") => {
            let oldest = compaction_floor(store).await?;
            Err(StoreError::Compacted { requested: after + 1, oldest })
        }
        Err(e) => Err(e),
    }
}

/// The oldest berth revision etcd still has history for: the revision of the latest
/// compaction, which a watch from revision 1 is told.
async fn compaction_floor(store: &EtcdStore) -> Result<Revision> {
    let (root, from_one) = (store.key(""), WatchOptions::new().with_start_revision(1));
    let mut stream = store
        .timed("a watch", || {
            let mut w = store.client().watch_client();
            let (root, from_one) = (root.clone(), from_one.clone());
            async move { w.watch(root, Some(from_one)).await }
        })
        .await?;
    loop {
        let message = tokio::time::timeout(store.inner.timeout, stream.message())
            .await
            .map_err(|_| backend("no answer from a watch"))?;
        match message.map_err(backend)? {
            Some(r) if r.compact_revision() > 0 => return Ok(from_etcd(r.compact_revision())),
            Some(r) if r.canceled() => return Err(backend(r.cancel_reason())),
            Some(_) => continue,
            None => return Err(backend("the watch ended before naming the compacted revision")),
        }
    }
}

impl Watcher {
    async fn open(&self, start: i64) -> Result<WatchStream> {
        let options = WatchOptions::new().with_range(self.end.clone()).with_start_revision(start);
        let mut client = self.client.watch_client();
        client.watch(self.key.clone(), Some(options)).await.map_err(backend)
    }

    fn event(&self, event: &etcd_client::Event) -> Option<Event> {
        let kv = event.kv()?;
        let key = String::from_utf8(kv.key().strip_prefix(self.namespace.as_slice())?.to_vec()).ok()?;
        Some(match event.event_type() {
            EventType::Put => Event::Put(KeyValue {
                key,
                value: kv.value().to_vec(),
                create_revision: from_etcd(kv.create_revision()),
                mod_revision: from_etcd(kv.mod_revision()),
            }),
            EventType::Delete => Event::Delete { key, mod_revision: from_etcd(kv.mod_revision()) },
        })
    }

    /// Forwards events until the receiver or the store goes; `next` is the etcd
    /// revision the next event must have at least (where a re-watch starts).
    async fn forward(mut self, mut stream: WatchStream, mut next: i64, tx: mpsc::Sender<Event>) {
        loop {
            let message = tokio::select! {
                _ = self.alive.changed() => return,
                _ = tx.closed() => return,
                message = stream.message() => message,
            };
            let response = match message {
                Ok(Some(response)) => response,
                Ok(None) | Err(_) => match self.reopen(next, &tx).await {
                    Some(reopened) => {
                        stream = reopened;
                        continue;
                    }
                    None => return,
                },
            };
            if response.compact_revision() > 0 {
                tracing::warn!(revision = next, "an etcd watch fell behind compaction; its stream ends");
                return;
            }
            for event in response.events() {
                let Some(ev) = self.event(event) else { continue };
                next = next.max(to_etcd(ev.revision()) + 1);
                tokio::select! {
                    _ = self.alive.changed() => return,
                    sent = tx.send(ev) => if sent.is_err() { return },
                }
            }
            if response.canceled() {
                tracing::debug!(reason = response.cancel_reason(), "etcd cancelled a watch; watching again");
                match self.reopen(next, &tx).await {
                    Some(reopened) => stream = reopened,
                    None => return,
                }
            }
        }
    }

    /// Watches again from `next`, retrying while etcd is unreachable; `None` once the
    /// receiver or the store is gone.
    async fn reopen(&mut self, next: i64, tx: &mpsc::Sender<Event>) -> Option<WatchStream> {
        loop {
            match self.open(next).await {
                Ok(stream) => return Some(stream),
                Err(e) => tracing::debug!(error = %e, "re-opening an etcd watch"),
            }
            tokio::select! {
                _ = self.alive.changed() => return None,
                _ = tx.closed() => return None,
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            }
        }
    }
}
