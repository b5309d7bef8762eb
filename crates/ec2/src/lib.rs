//! EC2's domain operations, below the API (berth-api's EC2 handlers), Auto Scaling
//! (which launches through `run_instances`) and the fleet controller (which moves
//! instances through their states on real hosts). Everything goes through the `Store`
//! trait and `berth_store::documents`; the pure rules are `berth_model::ec2`'s. Errors
//! are `Ec2Error`, in EC2's codes, which berth-api renders.
//!
//! - `default_vpc`: the default VPC, its subnets and security group, created once.
//! - `instances`: RunInstances, Terminate/Stop/StartInstances, DescribeInstances, and
//!   the fleet's side (marking instances terminated, expiring them).
//! - `resolve`: what a launch names (image, subnet, groups, key, profile) checked and
//!   looked up.
#![forbid(unsafe_code)]

pub mod default_vpc;
mod error;
pub mod ids;
pub mod instances;
pub mod resolve;

pub use error::Ec2Error;
pub use instances::{
    Launch, LaunchSpec, Reservation, StateChange, TemplateSpec, commit_launch, describe_instances, expire_terminated,
    mark_terminated, prepare_launch, run_instances, start_instances, stop_instances, terminate_instances,
};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
