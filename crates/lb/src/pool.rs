//! Idle keep-alive connections to targets, kept for the next request to the same address.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// How long an idle connection to a target is kept for reuse, and how many per target.
const POOL_IDLE: Duration = Duration::from_secs(30);
const POOL_PER_TARGET: usize = 256;

/// Idle keep-alive connections to targets; the most recently used goes out first.
#[derive(Default)]
pub struct Pool(Mutex<HashMap<SocketAddr, Vec<(TcpStream, Instant)>>>);

impl Pool {
    pub fn take(&self, addr: SocketAddr) -> Option<TcpStream> {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let conns = idle.get_mut(&addr)?;
        while let Some((stream, since)) = conns.pop() {
            // A target that closed an idle connection made it readable: reading gives EOF.
            let open = matches!(stream.try_read(&mut [0; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
            if open && since.elapsed() < POOL_IDLE {
                return Some(stream);
            }
        }
        None
    }

    pub fn put(&self, addr: SocketAddr, stream: TcpStream) {
        let now = Instant::now();
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let conns = idle.entry(addr).or_default();
        // Oldest first: those idle too long are a prefix.
        let stale = conns.partition_point(|(_, since)| now.duration_since(*since) >= POOL_IDLE);
        conns.drain(..stale);
        if conns.len() < POOL_PER_TARGET {
            conns.push((stream, now));
        }
    }

    pub fn retain(&self, addrs: &HashSet<SocketAddr>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).retain(|addr, _| addrs.contains(addr));
    }
}
