//! CloudWatch's alarms over the state store: what the CloudWatch API's handlers, the
//! alarm evaluator (`berth-control`) and Application Auto Scaling (its target-tracking
//! alarms) all go through, so that every change is checked the same way and recorded in
//! the alarm's history. The rules themselves are pure, in `berth_model::cloudwatch`.
#![forbid(unsafe_code)]

pub mod alarms;
pub mod evaluation;
pub mod history;
pub mod query;

pub use alarms::{AlarmsError, delete_alarms, get_alarm, list_alarms, put_alarm, set_state, update_alarm};
