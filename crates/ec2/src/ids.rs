//! Fresh EC2 ids (`berth_model::ec2::ids` formats them from these random bits).

use berth_model::ec2::ids;

/// A new id with `prefix` (one of `berth_model::ec2::ids`' constants).
pub fn new(prefix: &str) -> String {
    ids::format(prefix, uuid::Uuid::new_v4().as_u128())
}
