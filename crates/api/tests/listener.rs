//! The API listener with real sockets: slow, idle and malformed clients are cut off, the
//! connection caps shed what is over them, and a signed request is still answered.
//! No timing is asserted beyond "was closed eventually" / "was answered".

mod common;

use berth_api::listener::Limits;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any limit under test: a connection still open then was not closed.
const EVENTUALLY: Duration = Duration::from_secs(60);

fn short() -> Limits {
    Limits { header_timeout: Duration::from_secs(1), body_timeout: Duration::from_secs(1), ..Limits::default() }
}

/// Reads until the server closes the connection; what it sent before closing.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(EVENTUALLY, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open; it sent {:?}", String::from_utf8_lossy(&out));
    String::from_utf8_lossy(&out).into_owned()
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

async fn list_clusters_answered(addr: SocketAddr) {
    let reply = common::ecs(addr, "ListClusters", json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn partial_heads_and_silent_connections_are_closed() {
    let server = common::start_with(short()).await;
    let mut partial = connect(server.addr).await;
    partial.write_all(b"POST / HTTP/1.1\r\nHost: berth\r\nX-Amz-Tar").await.unwrap();
    let mut silent = connect(server.addr).await;
    until_closed(&mut partial).await;
    until_closed(&mut silent).await;
    list_clusters_answered(server.addr).await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let server = common::start_with(short()).await;
    let mut stream = connect(server.addr).await;
    stream.write_all(b"POST / HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n").await.unwrap();
    let answered = until_closed(&mut stream).await;
    assert!(answered.starts_with("HTTP/1.1 "), "{answered:?}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_refused() {
    let server = common::start_with(short()).await;
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: berth\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.CreateCluster\r\n\
                Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{\"clusterName\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    list_clusters_answered(server.addr).await;
}

#[tokio::test]
async fn a_malformed_chunk_size_is_a_bad_request() {
    let server = common::start().await;
    let mut stream = connect(server.addr).await;
    let req = "POST / HTTP/1.1\r\nHost: berth\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n\
               Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    stream.write_all(req.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    assert!(answer.contains("SerializationException"), "{answer:?}");
}

#[tokio::test]
async fn connections_over_the_caps_are_shed_and_others_still_served() {
    for limits in
        [Limits { max_per_source: 3, ..Limits::default() }, Limits { max_connections: 3, ..Limits::default() }]
    {
        let server = common::start_with(limits).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut s = connect(server.addr).await;
            // Each held connection is served: it is answered, and stays open.
            s.write_all(b"POST / HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n").await.unwrap();
            let mut buf = [0u8; 12];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"HTTP/1.1 400", "{limits:?}");
            held.push(s);
        }
        let mut over = connect(server.addr).await;
        let _ = over.write_all(b"POST / HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n").await;
        assert_eq!(until_closed(&mut over).await, "", "{limits:?}");
        drop(held);
        // The places are freed once the server sees the connections close.
        let answered = tokio::time::timeout(EVENTUALLY, async {
            loop {
                let mut s = connect(server.addr).await;
                let _ = s
                    .write_all(b"POST / HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                if !until_closed(&mut s).await.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(answered.is_ok(), "{limits:?}: no connection was served again");
    }
}

#[tokio::test]
async fn silent_connections_do_not_delay_a_signed_request() {
    let server = common::start().await;
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(connect(server.addr).await);
    }
    list_clusters_answered(server.addr).await;
    drop(silent);
}
