use super::*;
use berth_model::ecs::LogConfiguration;
use std::collections::BTreeMap;

fn def(name: &str, driver: LogDriver, options: &[(&str, &str)]) -> ContainerDefinition {
    ContainerDefinition {
        name: Some(name.into()),
        log_configuration: Some(LogConfiguration {
            log_driver: driver,
            options: Some(options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()),
            secret_options: None,
        }),
        ..Default::default()
    }
}

#[test]
fn configs_name_streams_as_ecs_does() {
    let defs = vec![
        def(
            "web",
            LogDriver::Awslogs,
            &[("awslogs-group", "/ecs/app"), ("awslogs-stream-prefix", "ecs"), ("awslogs-create-group", "true")],
        ),
        def("side", LogDriver::Awslogs, &[("awslogs-group", "/ecs/app")]),
        def("other", LogDriver::JsonFile, &[]),
        ContainerDefinition { name: Some("plain".into()), ..Default::default() },
    ];
    let c = configs(&defs, "abc123").unwrap();
    assert_eq!(
        c,
        vec![
            AwsLogs {
                container: "web".into(),
                group: "/ecs/app".into(),
                stream: "ecs/web/abc123".into(),
                create_group: true
            },
            AwsLogs {
                container: "side".into(),
                group: "/ecs/app".into(),
                stream: "side/abc123".into(),
                create_group: false
            },
        ]
    );
    let missing = configs(&[def("web", LogDriver::Awslogs, &[])], "t").unwrap_err();
    assert!(missing.starts_with("ResourceInitializationError"), "{missing}");
}

#[test]
fn numbering_skips_what_was_shipped_and_nothing_more() {
    // Shipped up to the second line stamped 2_000_000_000 (a re-read starts at second 2).
    let resume = Some(Pos { ts: 2_000_000_000, n: 2 });
    assert_eq!(since_for(resume), 2);
    let mut n = Numbering::new(resume);
    assert_eq!(n.next(2_000_000_000), None);
    assert_eq!(n.next(2_000_000_000), None);
    assert_eq!(n.next(2_000_000_000), Some(Pos { ts: 2_000_000_000, n: 3 }));
    // Past the resume point, a slightly earlier stamp (stdout/stderr race) is still new.
    assert_eq!(n.next(1_999_999_999), Some(Pos { ts: 1_999_999_999, n: 1 }));
    let mut fresh = Numbering::new(None);
    assert_eq!(fresh.next(5), Some(Pos { ts: 5, n: 1 }));
    assert_eq!(since_for(None), 0);
    // A resume line that no longer exists (rotated away): the first later line is new.
    let mut gone = Numbering::new(Some(Pos { ts: 10, n: 1 }));
    assert_eq!(gone.next(9), None);
    assert_eq!(gone.next(11), Some(Pos { ts: 11, n: 1 }));
}

#[test]
fn batches_stay_chronological_skip_empty_lines_and_respect_limits() {
    let line = |ts: i64, text: &str| LogLine { timestamp_ns: ts, stderr: false, text: text.into() };
    let mut b = Batch::default();
    b.push(Pos { ts: 3_000_000, n: 1 }, line(3_000_000, "a"));
    b.push(Pos { ts: 2_000_000, n: 1 }, line(2_000_000, "b"));
    b.push(Pos { ts: 4_000_000, n: 1 }, line(4_000_000, ""));
    let stamps: Vec<i64> = b.events.iter().map(|e| e.timestamp).collect();
    assert_eq!(stamps, vec![3, 3]);
    assert_eq!((b.lines, b.last), (3, Some(Pos { ts: 4_000_000, n: 1 })));
    let big = "x".repeat(MAX_BATCH_BYTES);
    assert!(!b.fits(&big));
    let mut huge = Batch::default();
    huge.push(Pos { ts: 1, n: 1 }, line(1, &"é".repeat(MAX_EVENT_BYTES)));
    assert!(huge.events[0].message.len() <= MAX_EVENT_BYTES);
}

#[test]
fn cursor_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs").join("c.json");
    assert_eq!(Cursor::load(&path), Cursor::default());
    let c = Cursor {
        shipped: Some(Pos { ts: 1, n: 2 }),
        pending: Some(Pending { pos: Pos { ts: 3, n: 1 }, last_timestamp: 0, last_message: "m".into() }),
    };
    c.save(&path);
    assert_eq!(Cursor::load(&path), c);
}

#[tokio::test]
async fn lines_a_follow_stream_missed_are_read_once_the_container_stops() {
    use crate::runtime::fake::FakeRuntime;
    use crate::runtime::{ContainerSpec, NetworkSpec};
    let fake = FakeRuntime::new();
    let spec =
        ContainerSpec { name: "spew".into(), image: "app:1".into(), network: NetworkSpec::None, ..Default::default() };
    let id = fake.add_container(spec, crate::runtime::Status::Running);
    for i in 1..=100 {
        fake.print(&id, &i.to_string());
    }
    fake.exit(&id, 0);
    fake.end_follow_streams_after(40);
    let (tx, mut rx) = mpsc::channel(1000);
    let (_stop_tx, stop) = watch::channel(false);
    let runtime: Arc<dyn Runtime> = Arc::new(fake);
    tokio::time::timeout(Duration::from_secs(10), read(runtime, id, None, tx, stop)).await.unwrap();
    let mut got = vec![];
    while let Ok((_, line)) = rx.try_recv() {
        got.push(line.text);
    }
    assert_eq!(got, (1..=100).map(|i| i.to_string()).collect::<Vec<_>>());
}
