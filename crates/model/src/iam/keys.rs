//! Where IAM's entities live in the store, under `iam/`. Names are case-insensitive in
//! IAM (there cannot be both `Admins` and `admins`), so keys hold them lowercased; the
//! record keeps the name as created. Access keys are at `crate::keys::access_key`.

pub use crate::keys::access_key;

pub const USERS: &str = "iam/users/";
pub const GROUPS: &str = "iam/groups/";
pub const ROLES: &str = "iam/roles/";
/// Customer managed policies (AWS managed ones are `super::managed`'s, never stored).
pub const POLICIES: &str = "iam/policies/";
pub const INSTANCE_PROFILES: &str = "iam/instance-profiles/";

pub fn user(name: &str) -> String {
    format!("{USERS}{}", name.to_lowercase())
}

pub fn group(name: &str) -> String {
    format!("{GROUPS}{}", name.to_lowercase())
}

pub fn role(name: &str) -> String {
    format!("{ROLES}{}", name.to_lowercase())
}

pub fn policy(name: &str) -> String {
    format!("{POLICIES}{}", name.to_lowercase())
}

pub fn instance_profile(name: &str) -> String {
    format!("{INSTANCE_PROFILES}{}", name.to_lowercase())
}
