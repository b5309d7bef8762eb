//! The API listener's limits as flags of `berth server` and `berth up`
//! (`berth_api::listener`, docs/architecture.md "The API listener").

use berth_api::listener::{self, Limits};
use clap::Args;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct ListenerArgs {
    /// Seconds a request's head may take to arrive, counted from when the connection
    /// waits for it: a kept-alive connection idle this long is closed too.
    #[arg(long, default_value_t = listener::DEFAULT_HEADER_TIMEOUT_SECS, env = "BERTH_HEADER_TIMEOUT_SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_seconds: u64,
    /// Seconds a request body may pause (before its first byte or between two pieces).
    #[arg(long, default_value_t = listener::DEFAULT_BODY_TIMEOUT_SECS, env = "BERTH_BODY_TIMEOUT_SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_seconds: u64,
    /// Connections served at once; more are closed on arrival (and logged).
    #[arg(long, default_value_t = listener::DEFAULT_MAX_CONNECTIONS, env = "BERTH_MAX_CONNECTIONS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,
    /// Connections served at once from one source address.
    #[arg(long, default_value_t = listener::DEFAULT_MAX_PER_SOURCE, env = "BERTH_MAX_CONNECTIONS_PER_SOURCE",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections_per_source: usize,
}

impl ListenerArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(self.header_timeout_seconds),
            body_timeout: Duration::from_secs(self.body_timeout_seconds),
            max_connections: self.max_connections,
            max_per_source: self.max_connections_per_source,
        }
    }
}
