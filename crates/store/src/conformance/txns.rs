//! Transactions: revisions, compare-and-swap, the failure branch, deletes.

use std::sync::Arc;

use super::{assert_quiet, delete, next, put, rev_key};
use crate::{Compare, Event, KeyValue, Op, Store, Txn, TxnResult};

pub async fn fresh_store_is_empty_at_revision_zero(store: Arc<dyn Store>) {
    assert_eq!(store.revision().await.unwrap(), 0);
    assert_eq!(store.get("a").await.unwrap(), None);
    assert_eq!(store.range("").await.unwrap(), (vec![], 0));
}

pub async fn put_sets_create_and_mod_revisions(store: Arc<dyn Store>) {
    assert_eq!(put(&*store, "a", b"1").await, 1);
    assert_eq!(put(&*store, "b", b"x").await, 2);
    assert_eq!(put(&*store, "a", b"2").await, 3);
    assert_eq!(store.revision().await.unwrap(), 3);
    let a = store.get("a").await.unwrap().unwrap();
    assert_eq!(a, KeyValue { key: "a".into(), value: b"2".to_vec(), create_revision: 1, mod_revision: 3 });
    let b = store.get("b").await.unwrap().unwrap();
    assert_eq!((b.create_revision, b.mod_revision), (2, 2));
}

pub async fn cas_create_only_if_absent(store: Arc<dyn Store>) {
    let create = || Txn::new().when(Compare::ModRevision("k".into(), 0)).put("k", b"v".to_vec());
    let first = store.txn(create()).await.unwrap();
    assert_eq!(first, TxnResult { succeeded: true, revision: 1 });
    let second = store.txn(create()).await.unwrap();
    assert_eq!(second, TxnResult { succeeded: false, revision: 1 });
}

pub async fn cas_on_mod_revision_applies_success_or_failure_branch(store: Arc<dyn Store>) {
    let r1 = put(&*store, "k", b"v1").await;
    put(&*store, "other", b"x").await;

    // Stale revision: failure branch runs, and as it writes, the revision is bumped.
    let mut stale = Txn::new().when(Compare::ModRevision("k".into(), r1 + 100)).put("k", b"never".to_vec());
    stale.failure.push(Op::Put("conflicts".into(), b"1".to_vec()));
    let result = store.txn(stale).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: false, revision: 3 });
    assert_eq!(store.get("k").await.unwrap().unwrap().value, b"v1");
    assert_eq!(store.get("conflicts").await.unwrap().unwrap().mod_revision, 3);

    // Matching revision: success branch runs.
    let ok = Txn::new()
        .when(Compare::ModRevision("k".into(), r1))
        .when(Compare::Exists("other".into()))
        .put("k", b"v2".to_vec());
    let result = store.txn(ok).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: true, revision: 4 });
    let k = store.get("k").await.unwrap().unwrap();
    assert_eq!((k.value.as_slice(), k.create_revision, k.mod_revision), (&b"v2"[..], 1, 4));

    // A present key never matches ModRevision(_, 0).
    let absent = Txn::new().when(Compare::ModRevision("k".into(), 0)).put("k", b"v3".to_vec());
    assert!(!store.txn(absent).await.unwrap().succeeded);
}

pub async fn exists_compare(store: Arc<dyn Store>) {
    let txn = || Txn::new().when(Compare::Exists("k".into())).put("seen", b"1".to_vec());
    assert!(!store.txn(txn()).await.unwrap().succeeded);
    put(&*store, "k", b"").await;
    assert!(store.txn(txn()).await.unwrap().succeeded);
    delete(&*store, "k").await;
    assert!(!store.txn(txn()).await.unwrap().succeeded);
}

pub async fn all_compares_must_hold(store: Arc<dyn Store>) {
    put(&*store, "a", b"1").await;
    let txn = Txn::new().when(Compare::Exists("a".into())).when(Compare::Exists("b".into())).put("c", b"1".to_vec());
    assert!(!store.txn(txn).await.unwrap().succeeded);
    assert_eq!(store.get("c").await.unwrap(), None);
}

pub async fn txn_without_changes_does_not_bump_revision(store: Arc<dyn Store>) {
    put(&*store, "a", b"1").await;
    // Empty success branch.
    let result = store.txn(Txn::new().when(Compare::Exists("a".into()))).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: true, revision: 1 });
    // Empty failure branch.
    let result = store.txn(Txn::new().when(Compare::Exists("nope".into())).put("x", vec![])).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: false, revision: 1 });
    // A completely empty txn.
    assert_eq!(store.txn(Txn::new()).await.unwrap().revision, 1);
    assert_eq!(store.revision().await.unwrap(), 1);
}

pub async fn delete_of_absent_key_is_a_noop_without_event(store: Arc<dyn Store>) {
    let result = delete(&*store, "ghost").await;
    assert_eq!(result, TxnResult { succeeded: true, revision: 0 });
    put(&*store, "a", b"1").await;
    assert_eq!(delete(&*store, "ghost").await.revision, 1);
    assert_eq!(store.revision().await.unwrap(), 1);

    let mut rx = store.watch("", 0).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (1, "a".into()));
    assert_quiet(&mut rx).await;
}

pub async fn delete_then_recreate_gets_a_new_create_revision(store: Arc<dyn Store>) {
    put(&*store, "k", b"1").await; // 1
    put(&*store, "k", b"2").await; // 2
    let deleted = delete(&*store, "k").await;
    assert_eq!(deleted.revision, 3);
    assert_eq!(store.get("k").await.unwrap(), None);
    put(&*store, "k", b"3").await; // 4
    let k = store.get("k").await.unwrap().unwrap();
    assert_eq!((k.create_revision, k.mod_revision), (4, 4));

    let mut rx = store.watch("k", 0).await.unwrap();
    let events: Vec<Event> =
        [next(&mut rx).await, next(&mut rx).await, next(&mut rx).await, next(&mut rx).await].into();
    assert!(matches!(&events[0], Event::Put(kv) if kv.create_revision == 1 && kv.mod_revision == 1));
    assert!(matches!(&events[1], Event::Put(kv) if kv.create_revision == 1 && kv.mod_revision == 2));
    assert_eq!(events[2], Event::Delete { key: "k".into(), mod_revision: 3 });
    assert!(matches!(&events[3], Event::Put(kv) if kv.create_revision == 4 && kv.value == b"3"));
}

pub async fn ops_of_one_txn_share_one_revision(store: Arc<dyn Store>) {
    put(&*store, "gone", b"x").await; // 1
    let txn = Txn::new().put("a", b"1".to_vec()).put("b", b"2".to_vec()).delete("gone");
    let result = store.txn(txn).await.unwrap();
    assert_eq!(result.revision, 2);
    assert_eq!(store.revision().await.unwrap(), 2);
    let (kvs, rev) = store.range("").await.unwrap();
    assert_eq!(rev, 2);
    assert_eq!(kvs.iter().map(|kv| (kv.key.as_str(), kv.mod_revision)).collect::<Vec<_>>(), [("a", 2), ("b", 2)]);

    let mut rx = store.watch("", 1).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        let event = next(&mut rx).await;
        assert_eq!(event.revision(), 2);
        got.push((matches!(event, Event::Put(_)), event.key().to_owned()));
    }
    assert_eq!(got, [(true, "a".to_owned()), (true, "b".to_owned()), (false, "gone".to_owned()),]);
    assert_quiet(&mut rx).await;
}

/// A branch that writes one key more than once leaves the key as its last write says
/// (etcd refuses such a branch, so its backend keeps only the last write of each key;
/// what watchers see of the earlier writes is backend-specific).
pub async fn the_last_write_of_a_key_in_one_txn_wins(store: Arc<dyn Store>) {
    let txn = Txn::new().put("tmp", b"t".to_vec()).delete("tmp").put("y", b"1".to_vec()).put("y", b"2".to_vec());
    assert_eq!(store.txn(txn).await.unwrap(), TxnResult { succeeded: true, revision: 1 });
    assert_eq!(store.get("tmp").await.unwrap(), None);
    assert_eq!(store.get("y").await.unwrap().unwrap().value, b"2");
}
