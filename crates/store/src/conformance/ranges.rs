//! Prefix ranges: byte order, and prefixes taken literally.

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
