//! Prefix ranges: byte order, prefixes taken literally, and pages of a range.

use std::sync::Arc;

use super::{keys, put};
use crate::{Revision, Store};

pub async fn range_prefix_edge_cases(store: Arc<dyn Store>) {
    let all = [
        "a",
        "a%",
        "a%b/1",
        "a%c",
        "a/",
        "a/x",
        "a/x/y",
        "a/\u{10FFFF}",
        "a/\u{10FFFF}\u{10FFFF}z",
        "a0",
        "aXb/1",
        "a_b/1",
        "ab",
        "b",
        "é/1",
        "\u{10FFFF}",
        "\u{10FFFF}\u{10FFFF}",
    ];
    for key in all {
        put(&*store, key, key.as_bytes()).await;
    }

    // Key order is byte order (which Rust's String Ord also is).
    let mut sorted: Vec<String> = all.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(keys(&*store, "").await, sorted);

    assert_eq!(keys(&*store, "a/").await, ["a/", "a/x", "a/x/y", "a/\u{10FFFF}", "a/\u{10FFFF}\u{10FFFF}z"]);
    // `%` and `_` are literal characters, not wildcards.
    assert_eq!(keys(&*store, "a%").await, ["a%", "a%b/1", "a%c"]);
    assert_eq!(keys(&*store, "a_").await, ["a_b/1"]);
    assert_eq!(keys(&*store, "a_b").await, ["a_b/1"]);
    // Case matters (SQL's LIKE would fold ASCII case).
    assert_eq!(keys(&*store, "aX").await, ["aXb/1"]);
    assert_eq!(keys(&*store, "ax").await, Vec::<String>::new());
    // A prefix ending in the largest code point.
    assert_eq!(keys(&*store, "a/\u{10FFFF}").await, ["a/\u{10FFFF}", "a/\u{10FFFF}\u{10FFFF}z"]);
    assert_eq!(keys(&*store, "\u{10FFFF}").await, ["\u{10FFFF}", "\u{10FFFF}\u{10FFFF}"]);
    assert_eq!(keys(&*store, "é").await, ["é/1"]);
    // A full key is its own prefix; nothing matches a longer one.
    assert_eq!(keys(&*store, "a/x/y").await, ["a/x/y"]);
    assert_eq!(keys(&*store, "a/x/y/").await, Vec::<String>::new());

    let (kvs, rev) = store.range("a%").await.unwrap();
    assert_eq!(rev, all.len() as Revision);
    assert_eq!(kvs[1].value, b"a%b/1");
}

pub async fn range_pages_walk_a_prefix_in_key_order(store: Arc<dyn Store>) {
    for key in ["p", "p/a", "p/b", "p/c", "p/d", "p/e", "q/a"] {
        put(&*store, key, key.as_bytes()).await;
    }
    let page = |after: Option<&'static str>, limit| {
        let store = store.clone();
        async move {
            let (kvs, _) = store.range_page("p/", after, limit).await.unwrap();
            kvs.into_iter().map(|kv| kv.key).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(None, 2).await, ["p/a", "p/b"]);
    assert_eq!(page(Some("p/b"), 2).await, ["p/c", "p/d"]);
    assert_eq!(page(Some("p/d"), 2).await, ["p/e"], "the last page stops at the prefix's end");
    assert_eq!(page(Some("p/e"), 2).await, Vec::<String>::new());
    // `after` may be no key at all, or before the prefix.
    assert_eq!(page(Some("p/bb"), 10).await, ["p/c", "p/d", "p/e"]);
    assert_eq!(page(Some("a"), 1).await, ["p/a"]);
    assert_eq!(page(Some("z"), 10).await, Vec::<String>::new());
    assert_eq!(page(None, 0).await, Vec::<String>::new());
    // A whole walk in pages is the range.
    let (mut walked, mut after) = (vec![], None::<String>);
    loop {
        let (kvs, _) = store.range_page("", after.as_deref(), 3).await.unwrap();
        let Some(last) = kvs.last() else { break };
        after = Some(last.key.clone());
        walked.extend(kvs.into_iter().map(|kv| kv.key));
    }
    assert_eq!(walked, keys(&*store, "").await);
}
