//! Moving bytes between a client and a target with the load balancer's idle timeout:
//! body bytes by their framing, writes that give up when the other side stops reading,
//! a body sent while watching for the target's early answer, the two-way relay of an
//! upgraded (WebSocket) connection, and a close that lets the client read the last
//! response.

use crate::http1::{Body, Malformed};
use bytes::{Buf, BytesMut};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long a closing connection waits for the client to stop sending, and how much
/// more it reads meanwhile.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;
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
    let mut sent = 0;
    while sent < bytes.len() {
        sent += timeout(idle, stream.write(&bytes[sent..])).await.map_err(|_| timed_out())??;
    }
    Ok(())
}

/// Reads more into `buf`, failing with TimedOut after `idle` without a byte; Ok(0) at EOF.
pub async fn receive(stream: &mut TcpStream, buf: &mut BytesMut, idle: Duration) -> io::Result<usize> {
    timeout(idle, stream.read_buf(buf)).await.map_err(|_| timed_out())?
}

/// Sends body bytes to the target unless it answers first: a target may refuse a body
/// (413, 401, ...) before reading it, then stop reading. Ok(false) when it answered (or
/// closed), what it sent being in `answer`.
pub async fn send_or_answer(
    target: &TcpStream,
    bytes: &[u8],
    answer: &mut BytesMut,
    idle: Duration,
) -> io::Result<bool> {
    let mut sent = 0;
    while sent < bytes.len() {
        tokio::select! {
            ready = target.readable() => {
                ready?;
                match target.try_read_buf(answer) {
                    Ok(_) => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            ready = timeout(idle, target.writable()) => {
                ready.map_err(|_| timed_out())??;
                match target.try_write(&bytes[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(true)
}

/// Relays bytes both ways between an upgraded client connection and its target until
/// both sides have closed, or nothing moved for `idle` (ALB's idle timeout applies to
/// WebSockets too). A side's close is passed on as a half-close.
pub async fn tunnel(client: &mut TcpStream, target: &mut TcpStream, idle: Duration) -> io::Result<()> {
    let (mut client_rx, mut client_tx) = client.split();
    let (mut target_rx, mut target_tx) = target.split();
    let (mut up, mut down) = (vec![0u8; TUNNEL_BUFFER], vec![0u8; TUNNEL_BUFFER]);
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        tokio::select! {
            n = client_rx.read(&mut up), if up_open => match n? {
                0 => {
                    up_open = false;
                    target_tx.shutdown().await?;
                }
                n => timeout(idle, target_tx.write_all(&up[..n])).await.map_err(|_| timed_out())??,
            },
            n = target_rx.read(&mut down), if down_open => match n? {
                0 => {
                    down_open = false;
                    client_tx.shutdown().await?;
                }
                n => timeout(idle, client_tx.write_all(&down[..n])).await.map_err(|_| timed_out())??,
            },
            () = tokio::time::sleep(idle) => return Err(timed_out()),
        }
    }
    Ok(())
}

/// Closes a client connection so that the client can read what it was sent last: the
/// sending side is shut first, then what the client still sends (the rest of a body
/// that was refused) is read and dropped for a while, as closing with unread bytes
/// would reset the connection and could discard the response before the client read it.
pub async fn linger(mut client: TcpStream) {
    if client.shutdown().await.is_err() {
        return;
    }
    let mut sink = vec![0u8; TUNNEL_BUFFER];
    let drain = async {
        let mut read = 0;
        while let Ok(n @ 1..) = client.read(&mut sink).await {
            read += n;
            if read > LINGER_BYTES {
                break;
            }
        }
    };
    let _ = timeout(LINGER, drain).await;
}
