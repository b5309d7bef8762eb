//! Container instance attributes: ECS's name and value rules, and putting and deleting
//! them on an instance's list.
//!
//! The agent registers its own attributes (`ecs.*`, `com.amazonaws.ecs.capability.*`);
//! PutAttributes adds custom ones, at most 10 per instance.

use crate::ecs::Attribute;

/// PutAttributes and DeleteAttributes take at most this many attributes per call.
pub const MAX_PER_CALL: usize = 10;
/// Custom attributes one instance may carry.
pub const MAX_CUSTOM: usize = 10;
const MAX_LEN: usize = 128;

/// Whether an attribute name is one of the agent's (not counted against the custom limit).
pub fn is_agent_attribute(name: &str) -> bool {
    name.starts_with("ecs.") || name.starts_with("com.amazonaws.")
}

/// ECS's rules: the name 1–128 letters, numbers, `-`, `_`, `/`, `\` or `.`; the value (when
/// present) 1–128 letters, numbers, `-`, `_`, `.`, `@`, `/`, `\`, `:` or spaces, not
/// starting or ending with a space. The message is InvalidParameterException's.
pub fn validate(a: &Attribute) -> Result<(), String> {
    let name_ok = (1..=MAX_LEN).contains(&a.name.chars().count())
        && a.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '\\' | '.'));
    if !name_ok {
        return Err(format!(
            "Attribute name '{}' is invalid: use 1 to 128 letters, numbers, hyphens, underscores, forward \
             slashes, back slashes or periods.",
            a.name
        ));
    }
    if let Some(value) = &a.value {
        let value_ok = (1..=MAX_LEN).contains(&value.chars().count())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '/' | '\\' | ':' | ' '))
            && !value.starts_with(' ')
            && !value.ends_with(' ');
        if !value_ok {
            return Err(format!(
                "Attribute value '{value}' of '{}' is invalid: use 1 to 128 letters, numbers, hyphens, underscores, \
                 periods, at signs, forward slashes, back slashes, colons or spaces, not starting or ending with \
                 a space.",
                a.name
            ));
        }
    }
    Ok(())
}

/// The attribute as an instance stores it: name and value only.
pub fn stored(a: &Attribute) -> Attribute {
    Attribute { name: a.name.clone(), value: a.value.clone(), target_type: None, target_id: None }
}

/// Sets each of `new` on `current` (replacing one of the same name). Errs, changing
/// nothing, when the instance would carry more than `MAX_CUSTOM` custom attributes.
pub fn put(current: &mut Vec<Attribute>, new: &[Attribute]) -> Result<(), String> {
    let mut next = current.clone();
    for a in new {
        match next.iter_mut().find(|e| e.name == a.name) {
            Some(existing) => existing.value = a.value.clone(),
            None => next.push(stored(a)),
        }
    }
    if next.iter().filter(|a| !is_agent_attribute(&a.name)).count() > MAX_CUSTOM {
        return Err(format!("You can apply up to {MAX_CUSTOM} custom attributes for each resource."));
    }
    *current = next;
    Ok(())
}

/// Removes the attributes named in `names` from `current`.
pub fn delete(current: &mut Vec<Attribute>, names: &[&str]) {
    current.retain(|a| !names.contains(&a.name.as_str()));
}

/// A re-registering agent's attributes replace its old ones; custom attributes that the
/// agent does not send are kept.
pub fn reregistered(current: &[Attribute], sent: &[Attribute]) -> Vec<Attribute> {
    let mut out: Vec<Attribute> = sent.iter().map(stored).collect();
    for a in current {
        if !is_agent_attribute(&a.name) && !out.iter().any(|o| o.name == a.name) {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, value: Option<&str>) -> Attribute {
        Attribute { name: name.into(), value: value.map(Into::into), target_type: None, target_id: None }
    }

    #[test]
    fn names_and_values_follow_ecs_rules() {
        assert!(validate(&attr("stack", Some("prod"))).is_ok());
        assert!(validate(&attr("com.amazonaws.ecs.capability.docker-remote-api.1.17", None)).is_ok());
        assert!(validate(&attr("a/b\\c_d-e.f", Some("x@y:z /w"))).is_ok());
        for bad in ["", "a b", "a:b", "é", &"n".repeat(129)] {
            assert!(validate(&attr(bad, None)).is_err(), "{bad:?}");
        }
        for bad in ["", " lead", "trail ", "a,b", "a=b", &"v".repeat(129)] {
            assert!(validate(&attr("n", Some(bad))).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn put_replaces_by_name_and_limits_custom_attributes() {
        let mut current = vec![attr("ecs.os-type", Some("linux")), attr("stack", Some("dev"))];
        put(&mut current, &[attr("stack", Some("prod")), attr("team", None)]).unwrap();
        assert_eq!(current, vec![attr("ecs.os-type", Some("linux")), attr("stack", Some("prod")), attr("team", None)]);
        let many: Vec<Attribute> = (0..9).map(|i| attr(&format!("c{i}"), None)).collect();
        let before = current.clone();
        assert!(put(&mut current, &many).is_err());
        assert_eq!(current, before);
        delete(&mut current, &["team", "nope"]);
        assert_eq!(current.len(), 2);
    }

    #[test]
    fn reregistration_keeps_custom_attributes() {
        let current = vec![attr("ecs.os-type", Some("linux")), attr("stack", Some("prod"))];
        let sent = vec![attr("ecs.os-type", Some("linux")), attr("ecs.instance-type", Some("big"))];
        let out = reregistered(&current, &sent);
        assert_eq!(
            out.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["ecs.os-type", "ecs.instance-type", "stack"]
        );
    }
}
