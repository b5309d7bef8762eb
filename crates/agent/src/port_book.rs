//! The host ports this agent's tasks hold, and the choice of free ones for bridge-mode
//! mappings with hostPort 0. Picking here (not in Docker) lets the agent report the port
//! before the container starts and keeps two tasks from racing for one port.

use crate::runtime::Protocol;
use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::ops::RangeInclusive;
use std::sync::Mutex;

/// The ECS agent's default ephemeral range for dynamic host ports.
pub const DEFAULT_RANGE: RangeInclusive<u16> = 49153..=65535;

pub struct PortBook {
    range: RangeInclusive<u16>,
    // std Mutex: held only to update the set, never across an await.
    held: Mutex<BTreeSet<(u16, Protocol)>>,
    /// Whether the port is free on this machine right now (a bind test in production).
    is_free: Box<dyn Fn(u16, Protocol) -> bool + Send + Sync>,
    /// Where the next search starts, so a port just released is not reused at once.
    next: Mutex<u16>,
}

impl PortBook {
    pub fn new(range: RangeInclusive<u16>, is_free: impl Fn(u16, Protocol) -> bool + Send + Sync + 'static) -> Self {
        let start = *range.start();
        Self { range, held: Mutex::new(BTreeSet::new()), is_free: Box::new(is_free), next: Mutex::new(start) }
    }

    /// A book over the default range that checks ports by binding them on 0.0.0.0. Its
    /// search starts at a random port: agents sharing one host (tests, simulations) then
    /// seldom pick the same port in the moment between the bind test and the container's
    /// own bind.
    pub fn system() -> Self {
        let book = Self::new(DEFAULT_RANGE, bind_test);
        let (lo, hi) = (u64::from(*DEFAULT_RANGE.start()), u64::from(*DEFAULT_RANGE.end()));
        let offset = std::hash::RandomState::new().hash_one(std::process::id()) % (hi - lo + 1);
        if let Ok(mut next) = book.next.lock() {
            *next = (lo + offset) as u16;
        }
        book
    }

    /// Picks and holds one free port per requested protocol.
    pub fn allocate(&self, wanted: &[Protocol]) -> Result<Vec<(u16, Protocol)>, String> {
        let mut held = self.held.lock().map_err(|_| "port book poisoned".to_string())?;
        let mut next = self.next.lock().map_err(|_| "port book poisoned".to_string())?;
        let (lo, hi) = (*self.range.start(), *self.range.end());
        let size = u32::from(hi - lo) + 1;
        let mut picked = vec![];
        for protocol in wanted {
            let found = (0..size)
                .map(|i| lo + ((u32::from(*next - lo) + i) % size) as u16)
                .find(|port| !held.contains(&(*port, *protocol)) && (self.is_free)(*port, *protocol));
            let Some(port) = found else {
                for p in &picked {
                    held.remove(p);
                }
                return Err(format!("no free host port left in {lo}-{hi} for a dynamic port mapping"));
            };
            held.insert((port, *protocol));
            picked.push((port, *protocol));
            *next = if port == hi { lo } else { port + 1 };
        }
        Ok(picked)
    }

    /// Holds ports a task uses already (fixed host ports, or adopted containers').
    pub fn claim(&self, ports: &[(u16, Protocol)]) {
        if let Ok(mut held) = self.held.lock() {
            held.extend(ports.iter().copied());
        }
    }

    pub fn release(&self, ports: &[(u16, Protocol)]) {
        if let Ok(mut held) = self.held.lock() {
            for p in ports {
                held.remove(p);
            }
        }
    }
}

fn bind_test(port: u16, protocol: Protocol) -> bool {
    match protocol {
        Protocol::Tcp => std::net::TcpListener::bind(("0.0.0.0", port)).is_ok(),
        Protocol::Udp => std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_distinct_free_ports_and_wraps() {
        let book = PortBook::new(100..=103, |port, _| port != 101);
        let got = book.allocate(&[Protocol::Tcp, Protocol::Tcp]).unwrap();
        assert_eq!(got, vec![(100, Protocol::Tcp), (102, Protocol::Tcp)]);
        assert_eq!(book.allocate(&[Protocol::Tcp]).unwrap(), vec![(103, Protocol::Tcp)]);
        assert!(book.allocate(&[Protocol::Tcp]).is_err(), "100, 102, 103 held and 101 busy");
        book.release(&[(100, Protocol::Tcp)]);
        assert_eq!(book.allocate(&[Protocol::Tcp]).unwrap(), vec![(100, Protocol::Tcp)]);
    }

    #[test]
    fn tcp_and_udp_are_separate_and_failures_hold_nothing() {
        let book = PortBook::new(10..=10, |_, _| true);
        assert_eq!(
            book.allocate(&[Protocol::Tcp, Protocol::Udp]).unwrap(),
            vec![(10, Protocol::Tcp), (10, Protocol::Udp)]
        );
        let book = PortBook::new(10..=11, |_, _| true);
        book.claim(&[(11, Protocol::Tcp)]);
        assert!(book.allocate(&[Protocol::Tcp, Protocol::Tcp]).is_err());
        assert_eq!(book.allocate(&[Protocol::Tcp]).unwrap(), vec![(10, Protocol::Tcp)], "the failed call released 10");
    }
}
