//! Helpers shared by the integration tests: a server on 127.0.0.1:0 over an in-memory store
//! (its master key in a temp dir), and requests signed with SigV4 the way botocore signs them.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use berth_api::Api;
use berth_api::auth::keyring::{Keyring, ensure_root};
use berth_api::auth::sealer::Sealer;
use berth_model::arn::Scope;
use berth_store::{MemoryStore, Store};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const AKID: &str = "AKIDINTEGRATION00001";
pub const SECRET: &str = "integration-test-secret";

pub struct Server {
    pub addr: SocketAddr,
    /// The server's store, to check what a request left there.
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    start_with(berth_api::listener::Limits::default()).await
}

/// A server whose listener has `limits` (timeouts, connection caps).
pub async fn start_with(limits: berth_api::listener::Limits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let sealer = Sealer::load_or_create(&dir.path().join("master.key")).unwrap();
    let api = Api::new(store.clone(), Scope::new("us-east-1", "000000000000"), Keyring::new(sealer));
    ensure_root(&api.keyring, api.store.as_ref(), &api.scope, Some((AKID.into(), SECRET.into()))).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = berth_api::router(api);
    tokio::spawn(
        async move { berth_api::listener::serve(listener, router, limits, std::future::pending()).await.unwrap() },
    );
    Server { addr, store, _dir: dir }
}

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: Value,
}

/// Signs the request as botocore would (SigV4 for `service`), with the server's root key.
pub fn signed(addr: SocketAddr, service: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(AKID, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{addr}/");
    let host = addr.to_string();
    let all: Vec<(&str, &str)> = headers.iter().copied().chain([("host", host.as_str())]).collect();
    let signable = SignableRequest::new("POST", &url, all.iter().copied(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

pub async fn raw(addr: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send(addr, &signed(addr, "ecs", headers, body), body).await
}

pub async fn send(addr: SocketAddr, headers: &[(String, String)], body: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    // A server may answer (and close) before it has read an oversized body.
    let _ = stream.write_all(body).await;
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    Reply { status, headers: head.to_ascii_lowercase(), body }
}

/// An IAM query call (`Action=...&...`, form-encoded by the caller), signed for `iam`.
#[allow(dead_code)] // each test binary compiles common/ and uses part of it
pub async fn iam(addr: SocketAddr, form: &str) -> Reply {
    let body = format!("Version=2010-05-08&{form}");
    let headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")];
    send(addr, &signed(addr, "iam", &headers, body.as_bytes()), body.as_bytes()).await
}

pub async fn ecs(addr: SocketAddr, op: &str, input: Value) -> Reply {
    let target = format!("AmazonEC2ContainerServiceV20141113.{op}");
    let headers = [("X-Amz-Target", target.as_str()), ("Content-Type", "application/x-amz-json-1.1")];
    raw(addr, &headers, input.to_string().as_bytes()).await
}

/// A berth agent protocol call (`BerthAgent_V1.<op>`), signed like every request.
pub async fn agent(addr: SocketAddr, op: &str, input: Value) -> Reply {
    let target = format!("{}.{op}", berth_model::agent_protocol::TARGET_PREFIX);
    let headers = [("X-Amz-Target", target.as_str()), ("Content-Type", "application/x-amz-json-1.1")];
    raw(addr, &headers, input.to_string().as_bytes()).await
}

/// Runs `n` requests concurrently (each on its own tokio task) and returns their replies in order.
pub async fn futures_join<F, Fut>(n: usize, f: F) -> Vec<Reply>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = vec![];
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
