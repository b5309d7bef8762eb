//! One module per view: each fetches through the API's operations (`client`) and builds a
//! plain view model with a pure function (unit-tested), which a template renders.

pub mod cluster;
pub mod clusters;
pub mod log_groups;
pub mod repositories;
pub mod service;
pub mod task;
pub mod task_definitions;

use berth_model::Timestamp;
use serde::Serialize;

/// An enum's AWS wire name (`RUNNING`, `HEALTHY`).
pub fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The last segment of an ARN (`.../cluster/name` → `name`, `.../task/c/id` → `id`).
pub fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A time as a person reads it: `2026-12-04 19:07:19`.
pub fn when(t: Option<Timestamp>) -> String {
    let Some(t) = t else { return String::new() };
    berth_model::timestamp::to_iso8601(t).replace('T', " ").chars().take(19).collect()
}

/// `part` of `whole` as a whole percentage, 0 when there is no whole.
pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 { 0 } else { (part.clamp(0, whole) * 100) / whole }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_last_segment() {
        assert_eq!(last_segment("arn:aws:ecs:us-east-1:000000000000:cluster/web"), "web");
        assert_eq!(last_segment("arn:aws:ecs:us-east-1:000000000000:task/web/abc123"), "abc123");
        assert_eq!(last_segment("plain"), "plain");
    }

    #[test]
    fn percentages_are_bounded() {
        assert_eq!(percent(512, 1024), 50);
        assert_eq!(percent(2048, 1024), 100);
        assert_eq!(percent(1, 0), 0);
    }

    #[test]
    fn times_read_to_the_second() {
        assert_eq!(when(Some(Timestamp(0.0))), "1970-01-01 00:00:00");
        assert_eq!(when(None), "");
    }
}
