//! The store test suite against a real etcd (Debian's `etcd-server`), one fresh single-
//! member etcd per test on loopback ports, its data on tmpfs when there is one.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use berth_store::conformance::{next, put, rev_key};
use berth_store::{Event, KeyValue, Result, Revision, Store, StoreError, Txn, TxnResult};
use tokio::sync::mpsc;

use super::*;

/// One etcd process, killed on drop.
pub struct TestEtcd {
    child: Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestEtcd {
    pub async fn start() -> Self {
        let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
        let dir = tempfile::tempdir_in(base).unwrap();
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let child = Command::new("etcd")
            .args(["--name", "t", "--data-dir"])
            .arg(dir.path())
            .args(["--listen-client-urls", &format!("http://{endpoint}")])
            .args(["--advertise-client-urls", &format!("http://{endpoint}")])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("t={peer_url}"), "--max-txn-ops", "10000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd (Debian's etcd-server) must be installed");
        let etcd = Self { child, endpoint, _dir: dir };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(&etcd.endpoint).await.is_ok() {
                return etcd;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("etcd did not start on {}", etcd.endpoint);
    }

    pub fn config(&self) -> EtcdConfig {
        EtcdConfig::parse(&format!("etcd://{}", self.endpoint)).unwrap().unwrap()
    }

    pub async fn store(&self) -> EtcdStore {
        for _ in 0..100 {
            if let Ok(store) = EtcdStore::connect(&self.config()).await {
                return store;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("etcd on {} did not answer", self.endpoint);
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store that owns its etcd, so that dropping the store ends both.
struct Owned {
    store: EtcdStore,
    _etcd: TestEtcd,
}

#[async_trait]
impl Store for Owned {
    async fn revision(&self) -> Result<Revision> {
        self.store.revision().await
    }
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.store.get(key).await
    }
    async fn range_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<KeyValue>, Revision)> {
        self.store.range_page(prefix, after, limit).await
    }
    async fn txn(&self, txn: Txn) -> Result<TxnResult> {
        self.store.txn(txn).await
    }
    async fn watch(&self, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
        self.store.watch(prefix, after).await
    }
}

mod conformance {
    async fn new_store() -> std::sync::Arc<dyn berth_store::Store> {
        let etcd = super::TestEtcd::start().await;
        std::sync::Arc::new(super::Owned { store: etcd.store().await, _etcd: etcd })
    }
    berth_store::conformance_tests!(new_store);
}

#[test]
fn etcd_urls_parse() {
    let c = EtcdConfig::parse("etcd://a:2379,b:2380").unwrap().unwrap();
    assert_eq!(
        (c.endpoints, c.namespace.as_str()),
        (vec!["http://a:2379".to_owned(), "http://b:2380".to_owned()], "berth/")
    );
    assert_eq!(EtcdConfig::parse("etcd://a:1/prod").unwrap().unwrap().namespace, "prod/");
    assert!(EtcdConfig::parse("/var/lib/berth").is_none());
    assert!(EtcdConfig::parse("etcd://").unwrap().is_err());
    assert!(EtcdConfig::parse("etcd://a:x").unwrap().is_err());
}

#[tokio::test]
async fn a_fenced_store_writes_only_while_the_fence_holds() {
    let etcd = TestEtcd::start().await;
    let store = etcd.store().await;
    let mut kv = store.client().kv_client();
    let fence_rev = kv.put("leader", "a", None).await.unwrap().header().unwrap().revision();
    let fenced = store.fenced(b"leader", fence_rev);
    let cas = Txn::new().when(berth_store::Compare::ModRevision("k".into(), 0)).put("k", b"1".to_vec());
    assert!(fenced.txn(cas.clone()).await.unwrap().succeeded);
    assert!(!fenced.txn(cas.clone()).await.unwrap().succeeded, "the caller's own compare still decides");
    kv.put("leader", "b", None).await.unwrap();
    let before = store.revision().await.unwrap();
    let err = fenced.txn(Txn::new().put("k", b"2".to_vec())).await.unwrap_err();
    assert!(err.to_string().contains("fenced"), "{err}");
    assert_eq!(store.get("k").await.unwrap().unwrap().value, b"1");
    assert_eq!(store.revision().await.unwrap(), before);
}

#[tokio::test]
async fn keys_outside_the_namespace_are_invisible() {
    let etcd = TestEtcd::start().await;
    let store = etcd.store().await;
    store.client().kv_client().put("elsewhere", "x", None).await.unwrap(); // revision 1
    put(&store, "a", b"1").await; // 2
    assert_eq!(keys(&store).await, ["a"]);
    let mut rx = store.watch("", 0).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (2, "a".into()));
}

async fn keys(store: &EtcdStore) -> Vec<String> {
    store.range("").await.unwrap().0.into_iter().map(|kv| kv.key).collect()
}

#[tokio::test]
async fn a_watch_from_compacted_history_fails_with_compacted() {
    let etcd = TestEtcd::start().await;
    let store = etcd.store().await;
    for i in 1..=5 {
        put(&store, &format!("k{i}"), b"").await;
    }
    store.client().kv_client().compact(crate::revs::to_etcd(3), None).await.unwrap();
    berth_store::conformance::assert_history_kept_from(&store, 3).await;
    match store.watch("", 0).await {
        Err(StoreError::Compacted { requested: 1, oldest: 3 }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    let _ = Arc::new(store);
}
