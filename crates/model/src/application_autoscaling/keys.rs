//! Where Application Auto Scaling keeps its state: one document per scalable target
//! (its policies, scheduled actions, activities and the scaler's cooldown clock in it),
//! so that a policy never outlives its target and every change is one compare-and-swap.

pub const TARGETS: &str = "application-autoscaling/targets/";

/// The document of the target `resource_id` (`service/CLUSTER/SERVICE`) in `dimension`.
pub fn target(namespace: &str, dimension: &str, resource_id: &str) -> String {
    format!("{TARGETS}{namespace}/{dimension}/{resource_id}")
}
