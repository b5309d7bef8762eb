//! Launching tasks: RunTask, StartTask and a service's tasks.
//!
//! Each launch is prepared (`prepare`: the task definition and what the call asks for,
//! checked by berth-model's launch rules), placed against the cluster's
//! `placement_view` with berth-scheduler, and committed (`commit`) in one store
//! transaction: every new task, and the new reservation on each instance a task lands
//! on, with compare-and-swap on those instances' records. Two launches racing for the
//! same capacity cannot both win: the loser's compare fails and it places again against
//! the fresh reservations.

pub mod capacity;
mod commit;
mod prepare;
pub mod provisioning;
mod run_task;
mod service_tasks;

pub use run_task::{run, start};
pub use service_tasks::{ServiceTasks, Started};
