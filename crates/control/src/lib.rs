//! berth's control loops. Each is level-triggered: it reads the state it owns from the
//! store, makes one idempotent step toward what it should be, and commits with
//! compare-and-swap, so that it can run again at any time (after a crash, on a timer)
//! without harm. The decisions are pure functions; the loops only do the I/O around them.
#![forbid(unsafe_code)]

pub mod alarms;
pub mod app_autoscaling;
pub mod auto_scaling_groups;
pub mod ecs_metrics;
pub mod managed_scaling;
pub mod service_controller;
pub mod service_plan;
pub mod task_reaper;
