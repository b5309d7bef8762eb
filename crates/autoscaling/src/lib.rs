//! Amazon EC2 Auto Scaling's domain operations, below both the API (berth-api's
//! handlers) and the control loops (berth-control's group controller and ECS managed
//! scaling): reading groups, changing their desired capacity, instance protection and
//! health, scaling policies, all with compare-and-swap through `berth_store::documents`;
//! and the group controller's decisions as pure functions over a group and what EC2 says
//! of its instances. The rules and wording are berth-model's (`berth_model::autoscaling`).
//!
//! - `groups`: get, list, create, change, delete a group; desired capacity, protection, health.
//! - `policies`: scaling policies (PutScalingPolicy, ECS's managed scaling policy).
//! - `choose`: which zone gets the next instance, which instance goes first.
//! - `plan`: what the controller does next for one group.
#![forbid(unsafe_code)]

pub mod choose;
mod error;
pub mod groups;
pub mod plan;
pub mod policies;
pub mod sources;

pub use error::Error;
pub use groups::{get_group, list_groups, set_desired_capacity, set_instance_health, set_instance_protection};
pub use policies::put_scaling_policy;
