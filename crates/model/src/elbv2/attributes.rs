//! Load balancer and target group attributes: which keys exist, their defaults, and
//! what values each accepts.

use super::shapes::Attribute;
use super::validate::Invalid;

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

pub fn defaults(keys: &[Key]) -> Vec<Attribute> {
    keys.iter().map(|k| Attribute { key: k.name.into(), value: Some(k.default.into()) }).collect()
}

/// `current` with `changes` applied (each key must exist and its value be valid).
pub fn apply(keys: &[Key], current: &[Attribute], changes: &[Attribute]) -> Result<Vec<Attribute>, Invalid> {
    let mut out = current.to_vec();
    for change in changes {
        let Some(key) = keys.iter().find(|k| k.name == change.key) else {
            return Err(Invalid::Validation(format!("Attribute key '{}' is not recognized", change.key)));
        };
        let value = change.value.clone().unwrap_or_default();
        if !(key.check)(&value) {
            return Err(Invalid::Validation(format!("'{value}' is not a valid value for attribute '{}'", key.name)));
        }
        match out.iter_mut().find(|a| a.key == change.key) {
            Some(a) => a.value = Some(value),
            None => out.push(Attribute { key: change.key.clone(), value: Some(value) }),
        }
    }
    Ok(out)
}

/// The value of `name` in `attributes`, else its default.
pub fn value<'a>(keys: &'a [Key], attributes: &'a [Attribute], name: &str) -> &'a str {
    attributes
        .iter()
        .find(|a| a.key == name)
        .and_then(|a| a.value.as_deref())
        .or_else(|| keys.iter().find(|k| k.name == name).map(|k| k.default))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(k: &str, v: &str) -> Attribute {
        Attribute { key: k.into(), value: Some(v.into()) }
    }

    #[test]
    fn applies_known_valid_changes() {
        let current = defaults(TARGET_GROUP);
        assert_eq!(value(TARGET_GROUP, &current, "deregistration_delay.timeout_seconds"), "300");
        let next = apply(TARGET_GROUP, &current, &[attr("deregistration_delay.timeout_seconds", "5")]).unwrap();
        assert_eq!(value(TARGET_GROUP, &next, "deregistration_delay.timeout_seconds"), "5");
        assert_eq!(next.len(), current.len());
        assert!(apply(TARGET_GROUP, &current, &[attr("deregistration_delay.timeout_seconds", "4000")]).is_err());
        assert!(apply(TARGET_GROUP, &current, &[attr("load_balancing.algorithm.type", "random")]).is_err());
        assert!(apply(TARGET_GROUP, &current, &[attr("nope", "1")]).is_err());
        assert!(apply(LOAD_BALANCER, &defaults(LOAD_BALANCER), &[attr("deletion_protection.enabled", "true")]).is_ok());
        assert_eq!(value(TARGET_GROUP, &[], "load_balancing.algorithm.type"), "round_robin");
    }
}
