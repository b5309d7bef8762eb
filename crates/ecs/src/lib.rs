//! ECS's domain operations, below both the API (berth-api's handlers) and the control
//! loops (berth-control): launching tasks (prepare, place with berth-scheduler, commit
//! with compare-and-swap), stopping them, applying what agents report, and reading a
//! cluster as placement sees it. Everything goes through the `Store` trait and
//! `berth_store::documents`; the pure rules are berth-model's. Errors are `EcsError`,
//! which berth-api maps to AWS errors in one place.
//!
//! - `context`: `Ecs`, what every operation is given (store, scope, agent heartbeats).
//! - `names`: what a caller names (a name or an ARN) as the names keys are made of.
//! - `load`, `task_definitions`: reading stored instances, tasks and task definitions.
//! - `placement_view`: the cluster as placement sees it (the seat of a later in-memory view).
//! - `launch`: RunTask, StartTask and a service's tasks (`ServiceTasks`).
//! - `stop`, `report`: StopTask's request and the agents' task state reports.
//! - `deregister`: an instance leaving the cluster, its tasks orphaned when forced.
//! - `desired_count`: a service's desired count, as UpdateService and the scaler set it.
#![forbid(unsafe_code)]

mod context;
pub mod deregister;
pub mod desired_count;
mod error;
mod heartbeats;
pub mod launch;
pub mod load;
pub mod names;
pub mod placement_view;
pub mod report;
pub mod spot;
pub mod stop;
pub mod task_definitions;

pub use context::Ecs;
pub use error::EcsError;
pub use heartbeats::Heartbeats;
