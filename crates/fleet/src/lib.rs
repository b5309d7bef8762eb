//! berth's fleet: the hosts that run EC2 instances, on the server's side. A host (`berth
//! host`, or `berth up`/`berth server` themselves) registers and long-polls for the
//! instances assigned to it, runs one in-process ECS agent per instance and reports when
//! each is running, stopped or gone. This crate decides and records the rest:
//!
//! - `plan` (pure): which host gets each pending instance (best fit), which no host can
//!   take (`Server.InsufficientInstanceCapacity`), what a lost host means for its
//!   instances, which instances to drain.
//! - `controller`: the reconciler applying the plan over the store.
//! - `drain`: an instance's container instances; stopping their tasks and deregistering
//!   them when the instance stops or terminates.
//! - `hosts`: the host protocol's operations (RegisterHost, the poll's heartbeat and
//!   assignments, ReportInstanceState).
#![forbid(unsafe_code)]

pub mod controller;
pub mod drain;
pub mod hosts;
pub mod plan;

use berth_store::StoreError;
use berth_store::documents::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{0}")]
    Invalid(String),
    #[error("The host {0} is not registered; register it first.")]
    UnknownHost(String),
    #[error("The instance {instance_id} does not run on host {host_id}.")]
    NotOnHost { instance_id: String, host_id: String },
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Ecs(#[from] berth_ecs::EcsError),
    #[error(transparent)]
    Ec2(#[from] berth_ec2::Ec2Error),
}

impl From<StoreError> for FleetError {
    fn from(e: StoreError) -> Self {
        FleetError::Document(e.into())
    }
}
