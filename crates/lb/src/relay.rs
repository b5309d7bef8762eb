//! Moving bytes between a client and a target with the load balancer's idle timeout:
//! body bytes by their framing, writes that give up when the other side stops reading,
//! a body sent while listening for the target's early answer, the two-way relay of an
//! upgraded (WebSocket) connection, and a close that lets the client read the last
//! response.

use crate::body::Body;
use crate::http1::{self, Malformed};
use bytes::{Buf, BytesMut};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long a closing connection reads what the client still sends: at most, and
/// after the client's last bytes.
const LINGER: Duration = Duration::from_secs(30);
const LINGER_QUIET: Duration = Duration::from_secs(5);
const TUNNEL_BUFFER: usize = 16 * 1024;

fn timed_out() -> io::Error {
    io::ErrorKind::TimedOut.into()
}

/// Moves what of `from` belongs to `body` into `to`: as it came, or only the payload
/// when `decode` (a chunked body to an HTTP/1.0 client).
pub fn take_body(from: &mut BytesMut, to: &mut Vec<u8>, body: &mut Body, decode: bool) -> io::Result<()> {
    let malformed = |Malformed| io::Error::new(io::ErrorKind::InvalidData, "malformed chunked body");
    let n = if decode {
        body.advance(from, &mut |payload| to.extend_from_slice(payload)).map_err(malformed)?
    } else {
        let n = body.advance(from, &mut |_| {}).map_err(malformed)?;
        to.extend_from_slice(&from[..n]);
        n
    };
    from.advance(n);
    Ok(())
}

/// Writes all of `bytes`, failing with TimedOut when the peer reads nothing for `idle`.
pub async fn send(stream: &mut TcpStream, bytes: &[u8], idle: Duration) -> io::Result<()> {
    // Most writes go through at once: no timer for those.
    let sent = match stream.try_write(bytes) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e),
    };
    write_within(stream, &bytes[sent..], idle).await
}

/// Writes all of `bytes` to one side of a connection (or half of one), failing with
/// TimedOut when the peer reads nothing for `idle`.
async fn write_within(tx: &mut (impl AsyncWrite + Unpin), bytes: &[u8], idle: Duration) -> io::Result<()> {
    let mut sent = 0;
    while sent < bytes.len() {
        sent += timeout(idle, tx.write(&bytes[sent..])).await.map_err(|_| timed_out())??;
    }
    Ok(())
}

/// Reads more into `buf`, failing with TimedOut after `idle` without a byte; Ok(0) at EOF.
pub async fn receive(rx: &mut (impl AsyncRead + Unpin), buf: &mut BytesMut, idle: Duration) -> io::Result<usize> {
    timeout(idle, rx.read_buf(buf)).await.map_err(|_| timed_out())?
}

/// How much of a target's answer the proxy holds while it still sends a piece of the
/// request body, before it stops reading it.
pub const EARLY_ANSWER_CAP: usize = 1 << 20;

/// What a target has said while the request body is still being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Nothing final yet.
    Nothing,
    /// A 2xx head: a target that answers while it reads (streaming) gets the rest of the
    /// body while its answer is relayed.
    Answering,
    /// A final answer that refuses the body (status ≥ 300, or closing), a malformed one,
    /// a close or an error: no more of the body is sent.
    Refused,
}

/// Reads what the target has sent, if anything, into `answer` and judges it; interim
/// (1xx) heads are dropped, as the client is not shown them.
pub fn hear(target: &TcpStream, answer: &mut BytesMut) -> Heard {
    match target.try_read_buf(answer) {
        Ok(0) => Heard::Refused,
        Ok(_) => judge(answer),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Heard::Nothing,
        Err(_) => Heard::Refused,
    }
}

/// What the target has said so far, in `answer`.
pub fn judge(answer: &mut BytesMut) -> Heard {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; http1::MAX_HEADERS];
        let mut head = httparse::Response::new(&mut headers);
        match head.parse(answer) {
            Ok(httparse::Status::Partial) if answer.len() < http1::MAX_HEAD => return Heard::Nothing,
            Ok(httparse::Status::Complete(n)) => {
                let status = head.code.unwrap_or_default();
                if http1::interim(status) {
                    answer.advance(n);
                    continue;
                }
                let streaming =
                    (200..300).contains(&status) && http1::keeps_alive(head.version.unwrap_or(1), head.headers);
                return if streaming { Heard::Answering } else { Heard::Refused };
            }
            _ => return Heard::Refused,
        }
    }
}

/// How sending body bytes to a target went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    Sent,
    /// The target refused the body, or failed: its answer (if any) is in `answer`.
    Refused,
    /// The target read nothing for the idle timeout.
    Stalled,
}

/// Sends body bytes to the target, listening for an answer meanwhile: a target may
/// refuse a body (413, 401, ...) before reading it, then stop reading.
pub async fn send_or_answer(target: &TcpStream, bytes: &[u8], answer: &mut BytesMut, idle: Duration) -> Sending {
    let mut sent = 0;
    while sent < bytes.len() {
        let listening = answer.len() < EARLY_ANSWER_CAP;
        tokio::select! {
            ready = target.readable(), if listening => {
                if ready.is_err() || hear(target, answer) == Heard::Refused {
                    return Sending::Refused;
                }
            }
            ready = timeout(idle, target.writable()) => match ready {
                Err(_) => return Sending::Stalled,
                Ok(Err(_)) => return Sending::Refused,
                Ok(Ok(())) => match target.try_write(&bytes[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return Sending::Refused,
                },
            },
        }
    }
    Sending::Sent
}

/// When bytes last moved either way between a client and a target, for an idle timeout
/// that counts both directions (as ALB's does): a long upload to a target that answers
/// only at the end is not idle.
pub struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub fn new() -> Self {
        Self { start: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    pub fn touch(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Resolves once nothing has moved for `idle`.
    pub async fn idle_for(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let quiet = self.start.elapsed().saturating_sub(last);
            if quiet >= idle {
                return;
            }
            tokio::time::sleep(idle - quiet).await;
        }
    }
}

/// Copies one direction of a tunnel until its reader closes (passed on as a
/// half-close), noting each move in `activity`.
async fn one_way(
    mut rx: impl AsyncRead + Unpin,
    mut tx: impl AsyncWrite + Unpin,
    activity: &Activity,
) -> io::Result<()> {
    let mut buf = vec![0u8; TUNNEL_BUFFER];
    loop {
        let n = rx.read(&mut buf).await?;
        activity.touch();
        if n == 0 {
            return tx.shutdown().await;
        }
        tx.write_all(&buf[..n]).await?;
        activity.touch();
    }
}

/// Relays bytes both ways between an upgraded client connection and its target, each
/// direction on its own (a side blocked writing one way never stops the other), until
/// both sides have closed, or nothing moved either way for `idle` (ALB's idle timeout
/// applies to WebSockets too).
pub async fn tunnel(client: &mut TcpStream, target: &mut TcpStream, idle: Duration) -> io::Result<()> {
    let (client_rx, client_tx) = client.split();
    let (target_rx, target_tx) = target.split();
    let activity = Activity::new();
    let both =
        async { tokio::try_join!(one_way(client_rx, target_tx, &activity), one_way(target_rx, client_tx, &activity)) };
    tokio::select! {
        done = both => done.map(drop),
        () = activity.idle_for(idle) => Err(timed_out()),
    }
}

/// Closes a client connection so that the client can read what it was sent last: the
/// sending side is shut first, then what the client still sends (the rest of a body
/// that was refused) is read and dropped, as closing with unread bytes would reset the
/// connection and could discard the response before the client read it. As nginx's
/// lingering close: until the client is quiet for 5 s, 30 s at most.
pub async fn linger(mut client: TcpStream, buf: &mut BytesMut) {
    if client.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        loop {
            buf.clear();
            match timeout(LINGER_QUIET, client.read_buf(buf)).await {
                Ok(Ok(1..)) => {}
                _ => return,
            }
        }
    };
    let _ = timeout(LINGER, drain).await;
}
