//! Concurrent writers and watchers, on a multi-threaded runtime.

use std::sync::Arc;

use super::{assert_quiet, next, put, rev_key};
use crate::{Compare, Store, Txn};

pub async fn watch_has_no_gap_and_no_duplicate_under_concurrent_writes(store: Arc<dyn Store>) {
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..100 {
                    let key = format!("w/{w}/{i}");
                    let rev = put(&*store, &key, b"v").await;
                    mine.push((rev, key));
                    put(&*store, &format!("other/{w}/{i}"), b"v").await;
                    if i % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                mine
            })
        })
        .collect();

    // Start watching while the writers are busy.
    while store.revision().await.unwrap() < 60 {
        tokio::task::yield_now().await;
    }
    let after = 30;
    let mut rx = store.watch("w/", after).await.unwrap();

    let mut expected = Vec::new();
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }
    expected.retain(|(rev, _)| *rev > after);
    expected.sort();

    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.push(rev_key(&next(&mut rx).await));
    }
    assert_eq!(got, expected);
    assert_quiet(&mut rx).await;
}

pub async fn concurrent_cas_increments_never_lose_updates(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for _ in 0..50 {
                    loop {
                        let (count, rev) = match store.get("counter").await.unwrap() {
                            Some(kv) => {
                                let n: u64 = String::from_utf8(kv.value).unwrap().parse().unwrap();
                                (n, kv.mod_revision)
                            }
                            None => (0, 0),
                        };
                        let txn = Txn::new()
                            .when(Compare::ModRevision("counter".into(), rev))
                            .put("counter", (count + 1).to_string().into_bytes());
                        if store.txn(txn).await.unwrap().succeeded {
                            break;
                        }
                        conflicts += 1;
                    }
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let counter = store.get("counter").await.unwrap().unwrap();
    assert_eq!(counter.value, b"400", "after {conflicts} CAS conflicts");
    // Failed compares with an empty failure branch do not bump the revision.
    assert_eq!(store.revision().await.unwrap(), 400);
    assert_eq!((counter.create_revision, counter.mod_revision), (1, 400));
}
