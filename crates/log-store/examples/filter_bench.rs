//! The engine alone (no HTTP): appends N events in 10,000-event batches (one fsync each), reopens the
//! engine (re-indexing from disk), then times FilterLogEvents-style queries over them.
//!
//!     cargo run --release -p berth-log-store --example filter_bench [-- EVENTS]

use berth_log_store::pattern::Pattern;
use berth_log_store::{FilterQuery, LogEngine};
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let events: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = LogEngine::open(dir.path()).expect("open");
    let now = berth_log_store::now_ms();
    let base = now - 3_600_000;
    engine.create_group("g", now, BTreeMap::new()).expect("group");
    let streams = ["s0", "s1", "s2", "s3"];
    for s in streams {
        engine.create_stream("g", s, now).expect("stream");
    }
    let start = Instant::now();
    for b in 0..events / 10_000 {
        let msgs: Vec<(i64, String)> = (0..10_000)
            .map(|i| {
                let n = b * 10_000 + i;
                let level = if n % 1000 == 0 { "error" } else { "info" };
                let msg = format!(
                    r#"{{"level":"{level}","n":{n},"msg":"request handled path=/item/{} status=200"}}"#,
                    n % 5000
                );
                (base + (n as i64) * 3_600_000 / events as i64, msg)
            })
            .collect();
        let batch: Vec<(i64, &str)> = msgs.iter().map(|(t, m)| (*t, m.as_str())).collect();
        engine.put("g", streams[b % streams.len()], &batch, now).expect("put");
    }
    let load = start.elapsed();
    println!(
        "append: {events} events in {:.2} s = {:.0} events/s",
        load.as_secs_f64(),
        events as f64 / load.as_secs_f64()
    );
    drop(engine);
    let start = Instant::now();
    let engine = LogEngine::open(dir.path()).expect("reopen");
    println!("reopen (index {events} events from disk): {:.0} ms", start.elapsed().as_secs_f64() * 1000.0);

    let q = |pattern: &str, start: Option<i64>, end: Option<i64>, limit| FilterQuery {
        stream_names: None,
        stream_prefix: None,
        start_time: start,
        end_time: end,
        pattern: Pattern::parse(pattern).expect("pattern"),
        after: None,
        limit,
        max_bytes: 1 << 20,
        now,
    };
    let queries = [
        ("term matching 0.1% (`error`)", q("error", None, None, 10_000)),
        ("JSON `{ $.level = \"error\" }`", q(r#"{ $.level = "error" }"#, None, None, 10_000)),
        ("no match (`nosuchterm`)", q("nosuchterm", None, None, 10_000)),
        ("no pattern, first page of 100", q("", None, None, 100)),
        ("term, 5-minute window", q("error", Some(base + 1_800_000), Some(base + 2_100_000), 10_000)),
    ];
    for (name, query) in queries {
        let mut times = vec![];
        let mut found = 0;
        for _ in 0..5 {
            let t = Instant::now();
            found = engine.filter("g", &query).expect("filter").events.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("filter, {name}: median {:.1} ms, max {:.1} ms ({found} events)", times[2], times[4]);
    }
}
