//! The proxy over real loopback sockets: a raw client before it, scripted targets behind
//! it, for what HTTP/1.1 clients and servers do that the e2e tests' `requests` and
//! Python's http.server do not: chunked bodies both ways, pipelining, HTTP/1.0,
//! Expect: 100-continue, interim responses, bodies that end at close, targets that close
//! idle connections, and requests that could be read two ways.

use berth_lb::balance::Algorithm;
use berth_lb::body::Body;
use berth_lb::http1::{self, Framing, Xff};
use berth_lb::proxy::{self, Shared};
use berth_lb::snapshot::{GroupView, HealthCheck, ListenerView, Snapshot, TargetView};
use berth_model::elbv2::{Action, ActionTypeEnum, FixedResponseActionConfig, Rule, RuleCondition};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a scripted target saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: Vec<u8>,
    connection: usize,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// ALB's default idle timeout.
const ALB_IDLE: Duration = Duration::from_secs(60);

/// Reads one request (head and body by its framing) from `stream`; None at EOF.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(n)) = req.parse(buf) {
            let mut body = Body::new(http1::request_framing(req.version.unwrap(), req.headers).unwrap());
            let head = String::from_utf8(buf[..n].to_vec()).unwrap();
            buf.drain(..n);
            let mut payload = Vec::new();
            loop {
                let used = body.advance(buf, &mut |p| payload.extend_from_slice(p)).unwrap();
                buf.drain(..used);
                if body.is_done() {
                    return Some((head, payload));
                }
                read_more(stream, buf).await?;
            }
        }
        read_more(stream, buf).await?;
    }
}

async fn read_more(stream: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16384];
    let n = stream.read(&mut chunk).await.ok()?;
    buf.extend_from_slice(&chunk[..n]);
    (n > 0).then_some(())
}

/// A target answering each request with `reply(request head)`, then closing the
/// connection if `close_after` or the answer says `Connection: close`; an empty answer
/// closes the connection without one.
async fn target(reply: fn(&str) -> Vec<u8>, close_after: bool) -> (SocketAddr, Log) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let log = Log::default();
    let seen = log.clone();
    tokio::spawn(async move {
        for connection in 0.. {
            let (mut stream, _) = socket.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some((head, body)) = read_request(&mut stream, &mut buf).await {
                    let answer = reply(&head);
                    seen.lock().unwrap().push(Seen { head, body, connection });
                    let says_close = answer.is_empty() || answer.windows(17).any(|w| w == b"Connection: close");
                    if stream.write_all(&answer).await.is_err() || close_after || says_close {
                        break;
                    }
                }
            });
        }
    });
    (addr, log)
}

fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}", body.len()).into_bytes()
}

/// A listener on a loopback port forwarding to `targets` (all healthy, round robin),
/// its load balancer's idle timeout `idle`.
async fn proxy(targets: &[SocketAddr], idle: Duration) -> SocketAddr {
    proxy_with_rules(targets, vec![], idle).await
}

/// `proxy` with the listener's `rules` before its default forward.
async fn proxy_with_rules(targets: &[SocketAddr], rules: Vec<Rule>, idle: Duration) -> SocketAddr {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let forward = Action { target_group_arn: Some("tg".into()), ..Action::of(ActionTypeEnum::Forward) };
    let group = GroupView {
        arn: "tg".into(),
        targets: targets
            .iter()
            .map(|addr| TargetView {
                id: addr.ip().to_string(),
                port: addr.port().into(),
                addr: *addr,
                in_flight: Arc::default(),
                state: "healthy".into(),
                draining: false,
            })
            .collect(),
        algorithm: Algorithm::RoundRobin,
        turn: Arc::default(),
        in_use: true,
        load_balancer: Some("lb".into()),
        counters: Arc::default(),
        check: HealthCheck {
            enabled: false,
            port: None,
            path: "/".into(),
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            healthy_threshold: 5,
            unhealthy_threshold: 2,
            matcher: vec![(200, 200)],
        },
    };
    let mut snapshot = Snapshot::default();
    snapshot.listeners.insert(
        local,
        ListenerView {
            rules,
            default_actions: vec![forward],
            idle_timeout: idle,
            xff: Xff::Append,
            drop_invalid_headers: false,
            load_balancer: "lb".into(),
            counters: Arc::default(),
        },
    );
    snapshot.groups.insert("tg".into(), group);
    let shared = Shared::new();
    shared.set_snapshot(snapshot);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = socket.accept().await.unwrap();
            tokio::spawn(proxy::serve(shared.clone(), local, peer, stream));
        }
    });
    local
}

/// A response as the client got it: status line and headers, and the body by its framing.
struct Got {
    head: String,
    body: Vec<u8>,
}

impl Got {
    fn status(&self) -> &str {
        &self.head[9..12]
    }
}

/// Reads one response to a request of `method`; the body of one without framing runs to EOF.
async fn read_response(stream: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>, method: &str) -> Got {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(n)) = resp.parse(buf) {
            let framing = http1::response_framing(resp.code.unwrap(), method == "HEAD", resp.headers).unwrap();
            let head = String::from_utf8(buf[..n].to_vec()).unwrap();
            buf.drain(..n);
            let mut body = Body::new(framing);
            let mut raw = Vec::new();
            loop {
                let used = body.advance(buf, &mut |_| {}).unwrap();
                raw.extend(buf.drain(..used));
                if body.is_done() || (read_more(stream, buf).await.is_none() && framing == Framing::UntilClose) {
                    return Got { head, body: raw };
                }
            }
        }
        assert!(read_more(stream, buf).await.is_some(), "connection closed before a response: {buf:?}");
    }
}

/// Whether the proxy closed the connection (EOF within a second, nothing more sent).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = [0u8; 64];
    matches!(tokio::time::timeout(Duration::from_secs(1), stream.read(&mut rest)).await, Ok(Ok(0)))
}

async fn connect(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    (TcpStream::connect(addr).await.unwrap(), Vec::new())
}

/// A target, a listener forwarding to it, and a client connection to the listener.
struct Rig {
    target: SocketAddr,
    log: Log,
    client: TcpStream,
    buf: Vec<u8>,
}

/// See `target` for `reply` and `close_after`.
async fn rig(reply: fn(&str) -> Vec<u8>, close_after: bool) -> Rig {
    let (target, log) = self::target(reply, close_after).await;
    let (client, buf) = connect(proxy(&[target], ALB_IDLE).await).await;
    Rig { target, log, client, buf }
}

impl Rig {
    async fn send(&mut self, bytes: &[u8]) {
        self.client.write_all(bytes).await.unwrap();
    }

    async fn response(&mut self, method: &str) -> Got {
        read_response(&mut self.client, &mut self.buf, method).await
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn chunked_bodies_both_ways_and_pipelined_requests_pass_intact_and_in_order() {
    let mut rig = rig(
        |head| match head.starts_with("POST") {
            true => b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n".to_vec(),
            false => ok(head.split(' ').nth(1).unwrap()),
        },
        false,
    )
    .await;
    rig.send(
        b"POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n\
          GET /second HTTP/1.1\r\nHost: app\r\n\r\nGET /third HTTP/1.1\r\nHost: app\r\n\r\n",
    )
    .await;
    let first = rig.response("POST").await;
    assert_eq!(first.status(), "201");
    assert_eq!(first.body, b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n");
    assert_eq!(rig.response("GET").await.body, b"/second");
    assert_eq!(rig.response("GET").await.body, b"/third");
    let seen = rig.seen();
    assert_eq!(seen[0].body, b"wikipedia");
    assert!(seen[0].head.contains("Transfer-Encoding: chunked\r\n"));
    assert!(seen.iter().all(|s| s.connection == 0), "one pooled connection to the target: {seen:?}");
}

#[tokio::test]
async fn a_request_that_could_be_read_two_ways_is_refused_and_never_forwarded() {
    let (t, log) = target(|_| ok("hi"), false).await;
    let lb = proxy(&[t], ALB_IDLE).await;
    for smuggling in [
        &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
        // Hosts the rules and the target could see differently, and framings that are not one.
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let (mut c, mut buf) = connect(lb).await;
        c.write_all(smuggling).await.unwrap();
        let got = read_response(&mut c, &mut buf, "POST").await;
        assert!(["400", "501"].contains(&got.status()), "{}", got.head);
        assert!(got.head.contains("Connection: close"));
        assert!(closed(&mut c).await);
    }
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_http_1_0_client_gets_a_chunked_body_decoded_then_the_connection_closes() {
    let mut rig = rig(
        |head| match head.contains("/chunked") {
            true => {
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec()
            }
            false => ok("sized"),
        },
        false,
    )
    .await;
    // HTTP/1.0 with keep-alive, and no Host: the target still gets one.
    rig.send(b"GET /sized HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let sized = rig.response("GET").await;
    assert_eq!(sized.body, b"sized");
    assert!(sized.head.contains("Connection: keep-alive"));
    rig.send(b"GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let chunked = rig.response("GET").await;
    let head = chunked.head.to_lowercase();
    assert!(!head.contains("transfer-encoding") && !head.contains("content-length"), "{head}");
    assert!(chunked.head.contains("Connection: close"));
    assert_eq!(chunked.body, b"hello world");
    assert!(rig.seen()[0].head.contains(&format!("Host: {}\r\n", rig.target)));
}

#[tokio::test]
async fn expect_continue_is_answered_before_the_body_is_sent() {
    let mut rig =
        rig(|_| [&b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"[..], &ok("stored")].concat(), false).await;
    rig.send(b"PUT /object HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n").await;
    let mut interim = [0u8; 25];
    rig.client.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    rig.send(b"hello world").await;
    let got = rig.response("PUT").await;
    // The target's own interim response (103) is not passed on; its final one is.
    assert_eq!((got.status(), got.body.as_slice()), ("200", &b"stored"[..]));
    let seen = rig.seen()[0].clone();
    assert_eq!(seen.body, b"hello world");
    assert!(!seen.head.contains("Expect"));
}

#[tokio::test]
async fn head_responses_have_no_body_and_the_connection_goes_on() {
    let mut rig = rig(
        |head| match head.starts_with("HEAD") {
            true => b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec(),
            false => ok("after"),
        },
        false,
    )
    .await;
    rig.send(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let head = rig.response("HEAD").await;
    assert!(head.head.contains("Content-Length: 1000") && head.body.is_empty());
    assert_eq!(rig.response("GET").await.body, b"after");
}

#[tokio::test]
async fn large_bodies_and_bodies_that_end_at_close_are_relayed_whole() {
    let mut rig = rig(
        |head| match head.contains("/large") {
            true => {
                let body = "0123456789".repeat(300_000);
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            false => b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end".to_vec(),
        },
        false,
    )
    .await;
    rig.send(b"GET /large HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let large = rig.response("GET").await;
    assert_eq!(large.body.len(), 3_000_000);
    assert!(large.body.chunks(10).all(|c| c == b"0123456789"));
    rig.send(b"GET /eof HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let eof = rig.response("GET").await;
    assert_eq!(eof.body, b"until the end");
    assert!(eof.head.contains("Connection: close"));
}

#[tokio::test]
async fn a_connection_the_target_closed_while_pooled_is_not_reused() {
    // The target closes each connection after answering, without saying so.
    let mut rig = rig(|_| ok("fresh"), true).await;
    for _ in 0..3 {
        rig.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert_eq!(rig.response("GET").await.body, b"fresh");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connections: Vec<usize> = rig.seen().iter().map(|s| s.connection).collect();
    assert_eq!(connections, [0, 1, 2]);
}

#[tokio::test]
async fn targets_that_refuse_or_answer_garbage_get_502_and_the_client_connection_survives() {
    let refused = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap(); // closed at once
    let (garbage, _) = target(|_| b"SMTP ready\r\n\r\n".to_vec(), false).await;
    for t in [refused, garbage] {
        let (mut c, mut buf) = connect(proxy(&[t], ALB_IDLE).await).await;
        for _ in 0..2 {
            c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
            let got = read_response(&mut c, &mut buf, "GET").await;
            assert_eq!(got.status(), "502", "{t}");
            assert!(got.head.contains("Connection: keep-alive"));
        }
    }
}

#[tokio::test]
async fn a_head_larger_than_64_kib_gets_431() {
    let mut rig = rig(|_| ok("hi"), false).await;
    let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n", "x".repeat(70_000));
    // The proxy may answer and close before reading it all; what it answers is the test.
    let _ = rig.client.write_all(big.as_bytes()).await;
    assert_eq!(rig.response("GET").await.status(), "431");
    assert!(rig.seen().is_empty());
}

#[tokio::test]
async fn a_websocket_upgrade_relays_bytes_both_ways_once_the_target_switches() {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = socket.accept().await.unwrap();
        let mut buf = Vec::new();
        let (head, _) = read_request(&mut stream, &mut buf).await.unwrap();
        assert!(head.contains("Upgrade: websocket\r\n") && head.contains("Connection: Upgrade\r\n"), "{head}");
        let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello";
        stream.write_all(switch).await.unwrap();
        // Then an echo in capitals, starting with what the client sent right after its head.
        stream.write_all(&buf.to_ascii_uppercase()).await.unwrap();
        let mut chunk = [0u8; 64];
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            stream.write_all(&chunk[..n].to_ascii_uppercase()).await.unwrap();
        }
    });
    let (mut c, _) = connect(proxy(&[t], ALB_IDLE).await).await;
    c.write_all(b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nearly")
        .await
        .unwrap();
    let want = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhelloEARLY";
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
    c.write_all(b"ping").await.unwrap();
    let mut pong = [0u8; 4];
    c.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"PING");
}

#[tokio::test]
async fn the_load_balancers_idle_timeout_bounds_a_silent_target_and_an_idle_client() {
    // A target that reads requests and never answers.
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = socket.accept().await.unwrap();
            tokio::spawn(async move { while read_request(&mut stream, &mut Vec::new()).await.is_some() {} });
        }
    });
    let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(1)).await).await;
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(30), read_response(&mut c, &mut buf, "GET")).await.unwrap();
    assert_eq!(got.status(), "504");
    // Then the client idles: the connection is closed after the idle timeout.
    let mut rest = [0u8; 1];
    let idle = tokio::time::timeout(Duration::from_secs(30), c.read(&mut rest)).await.unwrap();
    assert_eq!(idle.unwrap(), 0);
}

#[tokio::test]
async fn the_rules_see_the_path_the_target_gets() {
    let (t, log) = target(|head| ok(head.split(' ').nth(1).unwrap()), false).await;
    let deny = Rule {
        rule_arn: Some("deny".into()),
        priority: Some("1".into()),
        conditions: Some(vec![RuleCondition {
            field: Some("path-pattern".into()),
            values: Some(vec!["/admin*".into()]),
            ..Default::default()
        }]),
        actions: Some(vec![Action {
            fixed_response_config: Some(FixedResponseActionConfig {
                status_code: "403".into(),
                message_body: Some("denied".into()),
                content_type: None,
            }),
            ..Action::of(ActionTypeEnum::FixedResponse)
        }]),
        is_default: Some(false),
        transforms: None,
    };
    let lb = proxy_with_rules(&[t], vec![deny], ALB_IDLE).await;
    let (mut c, mut buf) = connect(lb).await;
    c.write_all(b"GET http://a/admin/x HTTP/1.1\r\nHost: a\r\n\r\nGET http://a?q=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.body, b"denied");
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.body, b"/?q=1");
    c.write_all(b"GET admin/x HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.status(), "400");
    let seen: Vec<String> = log.lock().unwrap().iter().map(|s| s.head.lines().next().unwrap().to_string()).collect();
    assert_eq!(seen, ["GET /?q=1 HTTP/1.1"]);
}

#[tokio::test]
async fn the_framing_a_target_gets_is_written_anew() {
    let (t, log) = target(|_| ok("hi"), false).await;
    let lb = proxy(&[t], ALB_IDLE).await;
    let (mut c, mut buf) = connect(lb).await;
    c.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
        .await
        .unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi").await.unwrap();
    for _ in 0..2 {
        assert_eq!(read_response(&mut c, &mut buf, "POST").await.status(), "200");
    }
    let seen = log.lock().unwrap().clone();
    assert!(seen[0].head.contains("\r\nTransfer-Encoding: chunked\r\n"), "{}", seen[0].head);
    assert_eq!(seen[1].head.matches("Content-Length").count(), 1, "{}", seen[1].head);
    assert!(seen[1].head.contains("\r\nContent-Length: 2\r\n"));
}

#[tokio::test]
async fn only_idempotent_requests_are_sent_again_after_a_pooled_connection_fails() {
    // Answers /ok; drops the connection on /drop without an answer.
    let mut rig = rig(|head| if head.contains("/drop") { vec![] } else { ok("fine") }, false).await;
    for request in
        [&b"GET /drop HTTP/1.1\r\nHost: a\r\n\r\n"[..], b"POST /drop HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"]
    {
        rig.send(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").await; // leaves a pooled connection
        assert_eq!(rig.response("GET").await.body, b"fine");
        rig.send(request).await;
        assert_eq!(rig.response("GET").await.status(), "502");
    }
    let lines: Vec<String> = rig.seen().iter().map(|s| s.head.lines().next().unwrap().to_string()).collect();
    assert_eq!(
        lines,
        ["GET /ok HTTP/1.1", "GET /drop HTTP/1.1", "GET /drop HTTP/1.1", "GET /ok HTTP/1.1", "POST /drop HTTP/1.1"]
    );
}

#[tokio::test]
async fn a_websocket_upgrade_only_and_a_switch_to_anything_else_is_a_502() {
    let mut rig =
        rig(|_| b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n".to_vec(), true)
            .await;
    rig.send(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: x\r\n\r\n").await;
    assert_eq!(rig.response("GET").await.status(), "502");
    let head = rig.seen()[0].head.clone();
    assert!(!head.contains("Upgrade") && !head.contains("HTTP2-Settings"), "{head}");
}

#[tokio::test]
async fn a_websocket_idle_for_the_idle_timeout_is_closed() {
    let (t, _) = target(
        |_| b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec(),
        false,
    )
    .await;
    let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(1)).await).await;
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.status(), "101");
    let mut rest = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(30), c.read(&mut rest)).await.unwrap();
    assert_eq!(closed.unwrap(), 0);
}

/// A target that sends `early` as soon as a request's head came, then reads its body
/// (Content-Length) and answers `then(body)`.
async fn early_target(early: &'static [u8], then: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = socket.accept().await.unwrap();
        let head = read_head(&mut stream).await;
        stream.write_all(early).await.unwrap();
        let length = head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap().parse().unwrap();
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await.unwrap();
        stream.write_all(&then(&body)).await.unwrap();
        let _ = stream.read(&mut [0u8; 1]).await;
    });
    t
}

#[tokio::test]
async fn early_hints_or_an_early_2xx_head_do_not_stop_the_body() {
    let hints = early_target(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", |_| ok("done")).await;
    let streaming = early_target(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", |body| {
        [&b"a\r\n"[..], body, b"\r\n0\r\n\r\n"].concat()
    })
    .await;
    for (t, want) in [(hints, &b"done"[..]), (streaming, b"a\r\n0123456789\r\n0\r\n\r\n")] {
        let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(10)).await).await;
        c.write_all(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await; // the early answer comes first
        c.write_all(b"0123456789").await.unwrap();
        let got = read_response(&mut c, &mut buf, "POST").await;
        assert_eq!((got.status(), got.body.as_slice()), ("200", want), "{}", got.head);
    }
}

#[tokio::test]
async fn a_tunnel_moves_both_ways_at_once() {
    const SIZE: usize = 16 << 20;
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = socket.accept().await.unwrap();
        read_request(&mut stream, &mut Vec::new()).await.unwrap();
        let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        stream.write_all(switch).await.unwrap();
        // Pushes SIZE bytes while reading SIZE bytes, each on its own.
        let (mut rx, mut tx) = stream.into_split();
        tokio::spawn(async move { tx.write_all(&vec![b'd'; SIZE]).await.unwrap() });
        let (mut sink, mut got) = (vec![0u8; 1 << 16], 0);
        while got < SIZE {
            got += rx.read(&mut sink).await.unwrap();
        }
    });
    let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(5)).await).await;
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.status(), "101");
    // Writes all before reading anything: only a tunnel whose directions move on their
    // own lets this finish.
    c.write_all(&vec![b'u'; SIZE]).await.unwrap();
    let (mut down, mut sink) = (buf.len(), vec![0u8; 1 << 16]);
    while down < SIZE {
        let n = c.read(&mut sink).await.unwrap();
        assert!(n > 0, "closed after {down} bytes");
        down += n;
    }
}

/// A request head, read a byte at a time so that nothing after it is read.
async fn read_head(stream: &mut TcpStream) -> String {
    next_head(stream).await.expect("a request head")
}

/// The next request head, or None when the connection ends first.
async fn next_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.ok()?);
    }
    String::from_utf8(head).ok()
}

/// A loopback target serving each connection with `handle`.
async fn scripted<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = socket.accept().await.unwrap();
            tokio::spawn(handle(stream));
        }
    });
    t
}

/// A target that answers `refusal` once a request's head came, reading nothing more;
/// then closes at once (which resets, the body unread) if `close`, else waits.
async fn refusing_target(refusal: &'static [u8], close: bool) -> SocketAddr {
    scripted(move |mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream.write_all(refusal).await;
        if !close {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    })
    .await
}

/// Sends a 50 MB upload to `lb` while reading the answer, until it has `ending`.
async fn upload_until_answered(lb: SocketAddr, ending: &[u8]) -> String {
    let (mut c, mut buf) = connect(lb).await;
    c.write_all(b"PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 50000000\r\n\r\n").await.unwrap();
    let (mut rx, mut tx) = c.split();
    let upload = async {
        let chunk = vec![b'x'; 1 << 16];
        while tx.write_all(&chunk).await.is_ok() {}
        std::future::pending::<()>().await
    };
    let answer = async {
        loop {
            let mut piece = [0u8; 1024];
            let n = rx.read(&mut piece).await.unwrap_or(0);
            buf.extend_from_slice(&piece[..n]);
            if n == 0 || buf.ends_with(ending) {
                return String::from_utf8_lossy(&buf).to_string();
            }
        }
    };
    tokio::select! {
        got = answer => got,
        () = upload => unreachable!(),
    }
}

#[tokio::test]
async fn a_target_that_refuses_a_body_before_reading_it_is_heard() {
    const REFUSAL: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo much";
    const AND_CLOSE: &[u8] =
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo much";
    // Then waits; then closes at once, which resets and can race the proxy's writes.
    for (target, runs) in [(refusing_target(REFUSAL, false).await, 1), (refusing_target(AND_CLOSE, true).await, 10)] {
        let lb = proxy(&[target], ALB_IDLE).await;
        for _ in 0..runs {
            let got = upload_until_answered(lb, b"too much").await;
            assert!(got.starts_with("HTTP/1.1 413 ") && got.contains("Connection: close"), "{got}");
        }
    }
}

#[tokio::test]
async fn a_client_that_sends_its_whole_body_before_reading_gets_the_refusal() {
    let t = refusing_target(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope", false).await;
    let (mut c, mut buf) = connect(proxy(&[t], ALB_IDLE).await).await;
    let size = 8 << 20;
    c.write_all(format!("PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: {size}\r\n\r\n").as_bytes()).await.unwrap();
    // The proxy reads (and drops) the rest while it closes, so the upload is not cut.
    c.write_all(&vec![b'x'; size]).await.unwrap();
    let got = read_response(&mut c, &mut buf, "PUT").await;
    assert_eq!((got.status(), got.body.as_slice()), ("401", &b"nope"[..]));
    assert!(got.head.contains("Connection: close"));
}

#[tokio::test]
async fn a_request_left_unfinished_for_the_idle_timeout_gets_408() {
    let (t, log) = target(|_| ok("hi"), false).await;
    let lb = proxy(&[t], Duration::from_secs(1)).await;
    for unfinished in
        [&b"GET / HTTP/1.1\r\nHost: a\r\n"[..], b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf"]
    {
        let (mut c, mut buf) = connect(lb).await;
        c.write_all(unfinished).await.unwrap();
        let got = read_response(&mut c, &mut buf, "POST").await;
        assert_eq!(got.status(), "408", "{}", String::from_utf8_lossy(unfinished));
        assert!(got.head.contains("Connection: close") && closed(&mut c).await);
    }
    // The head of the second one reached the target; its body never finished.
    assert_eq!(log.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn a_target_that_streams_its_answer_while_reading_the_body_gets_all_of_it() {
    const SIZE: usize = 8 << 20;
    // An echo: a chunked 200 head at once, then each piece it reads comes back as a
    // chunk; then, on the same connection, an ordinary answer.
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let t = socket.local_addr().unwrap();
    let connections = Arc::new(Mutex::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = socket.accept().await.unwrap();
            *accepted.lock().unwrap() += 1;
            tokio::spawn(async move {
                let head = read_head(&mut stream).await;
                let mut left: usize =
                    head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap().parse().unwrap();
                stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await.unwrap();
                let mut piece = vec![0u8; 1 << 16];
                while left > 0 {
                    let n = stream.read(&mut piece[..left.min(1 << 16)]).await.unwrap();
                    assert!(n > 0);
                    left -= n;
                    let chunk = [format!("{n:x}\r\n").as_bytes(), &piece[..n], b"\r\n"].concat();
                    stream.write_all(&chunk).await.unwrap();
                }
                stream.write_all(b"0\r\n\r\n").await.unwrap();
                read_head(&mut stream).await;
                stream.write_all(&ok("again")).await.unwrap();
                let _ = stream.read(&mut [0u8; 1]).await;
            });
        }
    });
    let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(10)).await).await;
    let (mut rx, mut tx) = c.split();
    let upload = async {
        tx.write_all(format!("PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {SIZE}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        tx.write_all(&vec![b'x'; SIZE]).await.unwrap();
    };
    let ((), echo) = tokio::join!(upload, read_response(&mut rx, &mut buf, "PUT"));
    assert_eq!(echo.status(), "200");
    assert_eq!(echo.body.iter().filter(|b| **b == b'x').count(), SIZE);
    assert!(echo.head.contains("Connection: keep-alive"), "{}", echo.head);
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.body, b"again");
    assert_eq!(*connections.lock().unwrap(), 1, "the target connection went back to the pool");
}

/// A target that answers POSTs with `early` as soon as their head came, then reads (and
/// drops) their body; anything else gets an ordinary answer. Requests one after another.
async fn early_then_reading(early: &'static [u8]) -> SocketAddr {
    scripted(move |mut stream| async move {
        while let Some(head) = next_head(&mut stream).await {
            if head.starts_with("POST") {
                stream.write_all(early).await.unwrap();
                let length = head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap();
                let mut body = vec![0u8; length.parse().unwrap()];
                if stream.read_exact(&mut body).await.is_err() {
                    return;
                }
            } else {
                stream.write_all(&ok("second")).await.unwrap();
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_malformed_early_answer_closes_the_connection_so_the_unread_body_is_never_a_request() {
    let t = early_then_reading(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n").await;
    let (mut c, mut buf) = connect(proxy(&[t], ALB_IDLE).await).await;
    let smuggled = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    c.write_all(format!("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n", smuggled.len()).as_bytes())
        .await
        .unwrap();
    let got = read_response(&mut c, &mut buf, "POST").await;
    assert_eq!(got.status(), "502");
    assert!(got.head.contains("Connection: close"), "{}", got.head);
    let _ = c.write_all(smuggled).await;
    assert!(closed(&mut c).await);
}

#[tokio::test]
async fn a_client_that_stops_its_body_while_the_answer_streams_is_let_go_at_once() {
    let t = early_then_reading(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
    // With ALB's 60 s idle timeout: waiting on the target would take that long.
    let (mut c, _) = connect(proxy(&[t], ALB_IDLE).await).await;
    c.write_all(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.write_all(b"0123456789").await.unwrap();
    c.shutdown().await.unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut all)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200 OK\r\n"));
}

#[tokio::test]
async fn the_idle_timeout_counts_both_directions_of_a_streaming_exchange() {
    // The answer's head comes at once, its body only after the whole upload, which
    // takes longer than the idle timeout: bytes moving up keep the exchange alive.
    let t = early_target(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", |body| {
        [format!("{:x}\r\n", body.len()).as_bytes(), body, b"\r\n0\r\n\r\n"].concat()
    })
    .await;
    let (mut c, mut buf) = connect(proxy(&[t], Duration::from_secs(2)).await).await;
    c.write_all(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 15\r\n\r\n").await.unwrap();
    let (mut rx, mut tx) = c.split();
    let upload = async {
        for b in b"0123456789abcde" {
            tokio::time::sleep(Duration::from_millis(200)).await;
            tx.write_all(&[*b]).await.unwrap();
        }
    };
    let ((), got) = tokio::join!(upload, read_response(&mut rx, &mut buf, "POST"));
    assert_eq!(got.body, b"f\r\n0123456789abcde\r\n0\r\n\r\n");
}

#[tokio::test]
async fn an_answer_complete_before_the_body_still_takes_the_body_and_keeps_the_connection() {
    let t = early_then_reading(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly").await;
    let (mut c, mut buf) = connect(proxy(&[t], ALB_IDLE).await).await;
    c.write_all(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n").await.unwrap();
    let got = read_response(&mut c, &mut buf, "POST").await;
    assert_eq!((got.body.as_slice(), got.head.contains("Connection: keep-alive")), (&b"early"[..], true));
    c.write_all(b"0123456789GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut c, &mut buf, "GET").await.body, b"second");
}
