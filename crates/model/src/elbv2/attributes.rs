//! Load balancer and target group attributes: which keys exist, their defaults, and
//! what values each accepts.

use super::validate::Invalid;
use super::{LoadBalancerAttribute, TargetGroupAttribute};

/// The two attribute shapes, both a Key and a Value.
pub trait Attribute: Clone {
    fn new(key: &str, value: &str) -> Self;
    fn key(&self) -> &str;
    fn value(&self) -> Option<&str>;
    fn set(&mut self, value: String);
}

macro_rules! key_value {
    ($($shape:ty),*) => {$(
        impl Attribute for $shape {
            fn new(key: &str, value: &str) -> Self {
                Self { key: Some(key.into()), value: Some(value.into()) }
            }
            fn key(&self) -> &str {
                self.key.as_deref().unwrap_or_default()
            }
            fn value(&self) -> Option<&str> {
                self.value.as_deref()
            }
            fn set(&mut self, value: String) {
                self.value = Some(value);
            }
        }
    )*};
}
key_value!(LoadBalancerAttribute, TargetGroupAttribute);

/// One attribute key: its default and a check of a value.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    check: fn(&str) -> bool,
}

fn boolean(v: &str) -> bool {
    matches!(v, "true" | "false")
}

fn seconds(lo: u32, hi: u32) -> impl Fn(&str) -> bool {
    move |v| v.parse::<u32>().is_ok_and(|s| (lo..=hi).contains(&s))
}

fn any(_: &str) -> bool {
    true
}

pub const LOAD_BALANCER: &[Key] = &[
    Key { name: "deletion_protection.enabled", default: "false", check: boolean },
    Key { name: "idle_timeout.timeout_seconds", default: "60", check: |v| seconds(1, 4000)(v) },
    Key { name: "routing.http2.enabled", default: "true", check: boolean },
    Key { name: "routing.http.drop_invalid_header_fields.enabled", default: "false", check: boolean },
    Key {
        name: "routing.http.xff_header_processing.mode",
        default: "append",
        check: |v| matches!(v, "append" | "preserve" | "remove"),
    },
    Key { name: "access_logs.s3.enabled", default: "false", check: boolean },
    Key { name: "access_logs.s3.bucket", default: "", check: any },
    Key { name: "access_logs.s3.prefix", default: "", check: any },
];

pub const TARGET_GROUP: &[Key] = &[
    Key { name: "deregistration_delay.timeout_seconds", default: "300", check: |v| seconds(0, 3600)(v) },
    Key {
        name: "load_balancing.algorithm.type",
        default: "round_robin",
        check: |v| matches!(v, "round_robin" | "least_outstanding_requests"),
    },
    Key { name: "slow_start.duration_seconds", default: "0", check: |v| v == "0" || seconds(30, 900)(v) },
    Key { name: "stickiness.enabled", default: "false", check: boolean },
    Key { name: "stickiness.type", default: "lb_cookie", check: |v| matches!(v, "lb_cookie" | "app_cookie") },
    Key { name: "stickiness.lb_cookie.duration_seconds", default: "86400", check: |v| seconds(1, 604800)(v) },
    Key { name: "stickiness.app_cookie.cookie_name", default: "", check: any },
    Key { name: "stickiness.app_cookie.duration_seconds", default: "86400", check: |v| seconds(1, 604800)(v) },
];

pub fn defaults<A: Attribute>(keys: &[Key]) -> Vec<A> {
    keys.iter().map(|k| A::new(k.name, k.default)).collect()
}

/// `current` with `changes` applied (each key must exist and its value be valid).
pub fn apply<A: Attribute>(keys: &[Key], current: &[A], changes: &[A]) -> Result<Vec<A>, Invalid> {
    let mut out = current.to_vec();
    for change in changes {
        let Some(key) = keys.iter().find(|k| k.name == change.key()) else {
            return Err(Invalid::Validation(format!("Attribute key '{}' is not recognized", change.key())));
        };
        let value = change.value().unwrap_or_default().to_string();
        if !(key.check)(&value) {
            return Err(Invalid::Validation(format!("'{value}' is not a valid value for attribute '{}'", key.name)));
        }
        match out.iter_mut().find(|a| a.key() == change.key()) {
            Some(a) => a.set(value),
            None => out.push(A::new(key.name, &value)),
        }
    }
    Ok(out)
}

/// The value of `name` in `attributes`, else its default.
pub fn value<'a, A: Attribute>(keys: &'a [Key], attributes: &'a [A], name: &str) -> &'a str {
    attributes
        .iter()
        .find(|a| a.key() == name)
        .and_then(|a| a.value())
        .or_else(|| keys.iter().find(|k| k.name == name).map(|k| k.default))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(k: &str, v: &str) -> TargetGroupAttribute {
        TargetGroupAttribute::new(k, v)
    }

    #[test]
    fn applies_known_valid_changes() {
        let current: Vec<TargetGroupAttribute> = defaults(TARGET_GROUP);
        assert_eq!(value(TARGET_GROUP, &current, "deregistration_delay.timeout_seconds"), "300");
        let next = apply(TARGET_GROUP, &current, &[attr("deregistration_delay.timeout_seconds", "5")]).unwrap();
        assert_eq!(value(TARGET_GROUP, &next, "deregistration_delay.timeout_seconds"), "5");
        assert_eq!(next.len(), current.len());
        assert!(apply(TARGET_GROUP, &current, &[attr("deregistration_delay.timeout_seconds", "4000")]).is_err());
        assert!(apply(TARGET_GROUP, &current, &[attr("load_balancing.algorithm.type", "random")]).is_err());
        assert!(apply(TARGET_GROUP, &current, &[attr("nope", "1")]).is_err());
        let lb: Vec<LoadBalancerAttribute> = defaults(LOAD_BALANCER);
        assert!(
            apply(LOAD_BALANCER, &lb, &[LoadBalancerAttribute::new("deletion_protection.enabled", "true")]).is_ok()
        );
        assert_eq!(value::<TargetGroupAttribute>(TARGET_GROUP, &[], "load_balancing.algorithm.type"), "round_robin");
    }
}
