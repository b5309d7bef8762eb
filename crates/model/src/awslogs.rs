//! The `awslogs` log driver's naming rule, read by the agent (which writes the streams) and
//! the console (which shows a task's lines).

/// The stream a task's container writes to: `prefix/container/task-id` with an
/// `awslogs-stream-prefix`, else `container/task-id`.
pub fn stream_name(prefix: Option<&str>, container: &str, task_id: &str) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}/{container}/{task_id}"),
        None => format!("{container}/{task_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_comes_first() {
        assert_eq!(stream_name(Some("web"), "app", "abc"), "web/app/abc");
        assert_eq!(stream_name(None, "app", "abc"), "app/abc");
    }
}
