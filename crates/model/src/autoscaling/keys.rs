//! Where Auto Scaling's objects live in the store, under `autoscaling/`. Group names go
//! into keys as they are: names are 1-255 characters without `/`-like ambiguity because
//! the group is the last segment of its key and nothing is stored below it.

/// `autoscaling/groups/{name}`: an `AutoScalingGroupRecord`, its instances, lifecycle
/// hooks, scaling policies and recent activities inside.
pub fn group(name: &str) -> String {
    format!("{GROUPS}{name}")
}

/// Every group.
pub const GROUPS: &str = "autoscaling/groups/";

/// The name of the group stored at `key` (None for a key of anything else).
pub fn group_name(key: &str) -> Option<&str> {
    key.strip_prefix(GROUPS).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_round_trip() {
        assert_eq!(group("web"), "autoscaling/groups/web");
        assert_eq!(group_name(&group("web")), Some("web"));
        assert_eq!(group_name("autoscaling/groups/"), None);
        assert_eq!(group_name("ecs/clusters/web"), None);
    }
}
