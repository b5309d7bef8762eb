//! The berth agent: one per container instance. It registers the machine, long-polls the
//! server for the tasks placed on it, runs them through a container `Runtime` (Docker),
//! and reports what it observes. Containers carry labels, so a restarted agent adopts
//! the ones already running instead of starting them again.
#![forbid(unsafe_code)]

pub mod agent;
pub mod awslogs;
pub mod client;
pub mod conditions;
pub mod pause_image;
pub mod port_book;
pub mod registration;
pub mod registry_auth;
pub mod runtime;
pub mod server;
pub mod simulated;
pub mod spec;
pub mod stats;
pub mod task_credentials;
pub mod task_runner;
pub mod task_secrets;
#[cfg(test)]
mod testing;
