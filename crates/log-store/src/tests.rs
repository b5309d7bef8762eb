use super::*;

const NOW: i64 = 1_800_000_000_000;

fn engine() -> (tempfile::TempDir, LogEngine) {
    let dir = tempfile::tempdir().unwrap();
    let e = LogEngine::open(dir.path()).unwrap();
    (dir, e)
}

fn get(e: &LogEngine, q: GetQuery) -> (Vec<String>, GetResult) {
    let r = e.get("g", "s", &q).unwrap();
    (r.events.iter().map(|e| e.message.clone()).collect(), r)
}

fn q(limit: usize) -> GetQuery {
    GetQuery { limit, max_bytes: 1 << 20, ..Default::default() }
}

#[test]
fn groups_and_streams_lifecycle_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = LogEngine::open(dir.path()).unwrap();
        e.create_group("/ecs/app", NOW, BTreeMap::from([("k".into(), "v".into())])).unwrap();
        assert!(matches!(e.create_group("/ecs/app", NOW, BTreeMap::new()), Err(EngineError::GroupExists)));
        e.create_group("/other", NOW, BTreeMap::new()).unwrap();
        e.create_stream("/ecs/app", "ecs/web/1", NOW).unwrap();
        assert!(matches!(e.create_stream("/ecs/app", "ecs/web/1", NOW), Err(EngineError::StreamExists)));
        assert!(matches!(e.create_stream("/nope", "x", NOW), Err(EngineError::GroupNotFound)));
        e.put("/ecs/app", "ecs/web/1", &[(NOW, "hello")], NOW).unwrap();
        e.set_retention("/ecs/app", Some(7)).unwrap();
    }
    let e = LogEngine::open(dir.path()).unwrap();
    let groups = e.groups("/ecs");
    assert_eq!(groups.len(), 1);
    assert_eq!((groups[0].retention_in_days, groups[0].stored_bytes), (Some(7), 5));
    assert_eq!(e.tags("/ecs/app").unwrap().get("k").map(String::as_str), Some("v"));
    let s = &e.streams("/ecs/app", "").unwrap()[0];
    assert_eq!((s.first_event_timestamp, s.last_event_timestamp), (Some(NOW), Some(NOW)));
    e.delete_stream("/ecs/app", "ecs/web/1").unwrap();
    assert!(e.streams("/ecs/app", "").unwrap().is_empty());
    e.delete_group("/ecs/app").unwrap();
    assert!(matches!(e.group("/ecs/app"), Err(EngineError::GroupNotFound)));
    assert_eq!(std::fs::read_dir(dir.path().join("streams")).unwrap().count(), 0);
}

#[test]
fn put_applies_the_batch_rules() {
    let (_d, e) = engine();
    e.create_group("g", NOW, BTreeMap::new()).unwrap();
    assert!(matches!(e.put("g", "s", &[(NOW, "x")], NOW), Err(EngineError::StreamNotFound)));
    e.create_stream("g", "s", NOW).unwrap();
    assert!(matches!(e.put("g", "s", &[(NOW, "b"), (NOW - 1, "a")], NOW), Err(EngineError::Batch(_))));
    let v = e.put("g", "s", &[(NOW, "ok"), (NOW + 3 * 3600 * 1000, "future")], NOW).unwrap();
    assert_eq!(v.too_new_start, Some(1));
    assert_eq!(get(&e, q(100)).0, vec!["ok"]);
}

#[test]
fn get_log_events_tokens_walk_both_ways_and_repeat_at_the_end() {
    let (_d, e) = engine();
    e.create_group("g", NOW, BTreeMap::new()).unwrap();
    e.create_stream("g", "s", NOW).unwrap();
    let msgs: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let batch: Vec<(i64, &str)> = msgs.iter().enumerate().map(|(i, m)| (NOW + i as i64 / 2, m.as_str())).collect();
    e.put("g", "s", &batch, NOW).unwrap();

    // Without a token nor startFromHead: the newest events.
    let (m, r) = get(&e, q(3));
    assert_eq!(m, vec!["m7", "m8", "m9"]);
    // Backward from there.
    let (m, r2) = get(&e, GetQuery { token: Some(r.backward), ..q(3) });
    assert_eq!(m, vec!["m4", "m5", "m6"]);
    // Forward from the head, page by page, until the token comes back unchanged.
    let mut token = None;
    let mut all = vec![];
    loop {
        let (m, r) = get(&e, GetQuery { start_from_head: true, token, ..q(4) });
        all.extend(m);
        if Some(r.forward) == token {
            break;
        }
        token = Some(r.forward);
    }
    assert_eq!(all, msgs);
    // A forward token from the end of the backward page continues after it.
    let (m, _) = get(&e, GetQuery { token: Some(r2.forward), ..q(2) });
    assert_eq!(m, vec!["m7", "m8"]);
    // Tokens round-trip and look like AWS's.
    let t = r.forward.encode();
    assert!(t.starts_with("f/") && t.len() == 58, "{t}");
    assert_eq!(StreamToken::parse(&t), Some(r.forward));
    assert_eq!(StreamToken::parse("x/1"), None);
    // startTime inclusive, endTime exclusive.
    let (m, _) =
        get(&e, GetQuery { start_from_head: true, start_time: Some(NOW + 1), end_time: Some(NOW + 3), ..q(100) });
    assert_eq!(m, vec!["m2", "m3", "m4", "m5"]);
}

#[test]
fn filter_interleaves_pages_without_repeating_and_ids_are_stable() {
    let (_d, e) = engine();
    e.create_group("g", NOW, BTreeMap::new()).unwrap();
    for s in ["a", "b"] {
        e.create_stream("g", s, NOW).unwrap();
    }
    for i in 0..50i64 {
        let stream = if i % 2 == 0 { "a" } else { "b" };
        let msg = format!("line {i} {}", if i % 5 == 0 { "ERROR" } else { "INFO" });
        e.put("g", stream, &[(NOW + i, &msg)], NOW).unwrap();
    }
    let fq = |after, limit| FilterQuery {
        stream_names: None,
        stream_prefix: None,
        start_time: Some(NOW + 10),
        end_time: Some(NOW + 40),
        pattern: Pattern::parse("ERROR").unwrap(),
        after,
        limit,
        max_bytes: 1 << 20,
        now: NOW,
    };
    let all = e.filter("g", &fq(None, 100)).unwrap();
    let got: Vec<i64> = all.events.iter().map(|e| e.timestamp - NOW).collect();
    assert_eq!(got, vec![10, 15, 20, 25, 30, 35, 40]);
    assert_eq!(all.next, None);
    let mut after = None;
    let mut paged = vec![];
    let mut tokens = std::collections::BTreeSet::new();
    loop {
        let r = e.filter("g", &fq(after, 2)).unwrap();
        paged.extend(r.events.iter().map(|e| e.event_id.clone()));
        match r.next {
            Some(k) => {
                assert!(tokens.insert(k.token()), "token repeated");
                assert_eq!(EventKey::parse_token(&k.token()), Some(k));
                after = Some(k);
            }
            None => break,
        }
    }
    let ids: Vec<String> = all.events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(paged, ids);
    // Only stream "a", by prefix or name.
    let r = e.filter("g", &FilterQuery { stream_prefix: Some("a".into()), ..fq(None, 100) }).unwrap();
    assert!(r.events.iter().all(|e| e.stream == "a"));
    assert_eq!(r.events.len(), 4);
}

#[test]
fn retention_hides_then_drops_old_events() {
    let (_d, e) = engine();
    e.create_group("g", NOW, BTreeMap::new()).unwrap();
    e.create_stream("g", "s", NOW).unwrap();
    let day = 24 * 3600 * 1000;
    e.put("g", "s", &[(NOW - 3 * day, "old")], NOW).unwrap();
    e.put("g", "s", &[(NOW, "new")], NOW).unwrap();
    e.set_retention("g", Some(1)).unwrap();
    let r = e
        .filter(
            "g",
            &FilterQuery {
                stream_names: None,
                stream_prefix: None,
                start_time: None,
                end_time: None,
                pattern: Pattern::All,
                after: None,
                limit: 100,
                max_bytes: 1 << 20,
                now: NOW,
            },
        )
        .unwrap();
    assert_eq!(r.events.len(), 1);
    assert_eq!(e.apply_retention(NOW).unwrap(), 1);
    assert_eq!(e.group("g").unwrap().stored_bytes, 3);
    // Retention also refuses expired events on the way in.
    let v = e.put("g", "s", &[(NOW - 2 * day, "late")], NOW).unwrap();
    assert_eq!(v.expired_end, Some(0));
}
