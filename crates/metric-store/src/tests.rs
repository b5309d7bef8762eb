use super::*;
use std::sync::Arc;

fn id(name: &str) -> MetricId {
    MetricId::new("App", name, vec![("Z".into(), "1".into()), ("A".into(), "2".into())])
}

fn datum(name: &str, ts: i64, v: f64) -> Datum {
    Datum {
        id: id(name),
        timestamp_ms: ts,
        value: Value::Single(v),
        unit: Some("Count".into()),
        storage_resolution: 60,
    }
}

const MIN: Duration = Duration::from_secs(60);

#[test]
fn dimensions_are_sorted_by_name() {
    assert_eq!(id("x").dimensions[0].0, "A");
}

#[test]
fn what_was_put_survives_reopening_with_and_without_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms() / 60_000 * 60_000;
    {
        let store = MetricStore::open(dir.path()).unwrap();
        store.put(&[datum("a", now, 1.0), datum("a", now + 1_000, 2.0)]).unwrap();
        store.checkpoint(now_ms()).unwrap();
        store.put(&[datum("a", now + 2_000, 4.0)]).unwrap();
    }
    let store = MetricStore::open(dir.path()).unwrap();
    let b = store.query(&id("a"), None, now, now + 60_000, MIN);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].sum, b[0].count, b[0].min, b[0].max), (7.0, 3.0, 1.0, 4.0));
    assert_eq!(b[0].unit.as_deref(), Some("Count"));
    // The checkpoint's log is gone; the newer one was replayed exactly once.
    assert_eq!(wal::generations(dir.path()).unwrap().len(), 2);
    drop(store);
    let store = MetricStore::open(dir.path()).unwrap();
    assert_eq!(store.query(&id("a"), None, now, now + 60_000, MIN)[0].sum, 7.0);
}

#[test]
fn units_filter_and_list_filters() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path()).unwrap();
    let now = now_ms() / 60_000 * 60_000;
    let mut bytes = datum("b", now, 10.0);
    bytes.unit = Some("Bytes".into());
    store.put(&[datum("a", now, 1.0), bytes]).unwrap();
    assert_eq!(store.query(&id("b"), Some("Count"), now, now + 60_000, MIN), vec![]);
    assert_eq!(store.query(&id("b"), Some("Bytes"), now, now + 60_000, MIN)[0].sum, 10.0);
    let all = store.list(&ListFilter::default());
    assert_eq!(all, vec![id("a"), id("b")]);
    let named = ListFilter { metric_name: Some("b".into()), ..Default::default() };
    assert_eq!(store.list(&named), vec![id("b")]);
    let dims = ListFilter { dimensions: vec![("A".into(), Some("3".into()))], ..Default::default() };
    assert_eq!(store.list(&dims), vec![]);
    let dims = ListFilter { dimensions: vec![("A".into(), None)], ..Default::default() };
    assert_eq!(store.list(&dims).len(), 2);
    let future = ListFilter { active_since_ms: Some(now_ms() + 60_000), ..Default::default() };
    assert_eq!(store.list(&future), vec![]);
}

#[test]
fn concurrent_puts_are_all_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MetricStore::open(dir.path()).unwrap());
    let now = now_ms() / 60_000 * 60_000;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    store.put(&[datum("c", now + (i % 60) * 1_000, f64::from(t))]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let b = store.query(&id("c"), None, now, now + 60_000, MIN);
    assert_eq!(b[0].count, 400.0);
    assert_eq!(b[0].sum, (0..8).map(|t| 50.0 * f64::from(t)).sum::<f64>());
    drop(store);
    let store = MetricStore::open(dir.path()).unwrap();
    assert_eq!(store.query(&id("c"), None, now, now + 60_000, MIN)[0].count, 400.0);
}
