//! Resource tags as ECS checks them: at most 50 per resource, keys 1–128 characters,
//! values up to 256, no key twice, and the `aws:` prefix reserved for AWS itself.

use crate::ecs::Tag;

pub const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// Checks a set of tags sent by a caller; the error is a message a person can act on.
pub fn validate(tags: &[Tag]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("Too many tags: {}. A resource can have at most {MAX_TAGS} tags.", tags.len()));
    }
    let mut keys = std::collections::HashSet::new();
    for tag in tags {
        let key = tag.key.as_deref().unwrap_or_default();
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > MAX_KEY_CHARS {
            return Err(format!(
                "Invalid tag key \"{key}\". Tag keys must be 1 to {MAX_KEY_CHARS} characters; this one has {key_chars}."
            ));
        }
        if key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:")) {
            return Err(format!("Invalid tag key \"{key}\". Keys beginning with \"aws:\" are reserved for AWS use."));
        }
        let value_chars = tag.value.as_deref().map_or(0, |v| v.chars().count());
        if value_chars > MAX_VALUE_CHARS {
            return Err(format!(
                "Invalid value for tag \"{key}\". Tag values can have at most {MAX_VALUE_CHARS} characters; \
                 this one has {value_chars}."
            ));
        }
        if !keys.insert(key) {
            return Err(format!("Duplicate tag key \"{key}\". Each tag key can appear only once."));
        }
    }
    Ok(())
}

/// The tags after adding `new` to `existing`: a new value replaces the old one for the
/// same key, and the result must still be a valid set.
pub fn merge(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, String> {
    validate(new)?;
    let mut merged: Vec<Tag> = existing.to_vec();
    for tag in new {
        match merged.iter_mut().find(|t| t.key == tag.key) {
            Some(old) => old.value = tag.value.clone(),
            None => merged.push(tag.clone()),
        }
    }
    validate(&merged)?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: Some(k.into()), value: Some(v.into()) }
    }

    #[test]
    fn accepts_ordinary_tags() {
        assert_eq!(validate(&[tag("team", "core"), tag("env", "")]), Ok(()));
    }

    #[test]
    fn rejects_what_ecs_rejects() {
        for bad in [
            vec![tag("", "x")],
            vec![tag(&"k".repeat(129), "x")],
            vec![tag("k", &"v".repeat(257))],
            vec![tag("aws:created", "x")],
            vec![tag("AWS:x", "x")],
            vec![tag("a", "1"), tag("a", "2")],
            (0..51).map(|i| tag(&format!("k{i}"), "v")).collect(),
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn merge_replaces_values_and_keeps_the_limit() {
        let merged = merge(&[tag("a", "1"), tag("b", "2")], &[tag("b", "3"), tag("c", "4")]).unwrap();
        assert_eq!(merged, vec![tag("a", "1"), tag("b", "3"), tag("c", "4")]);
        let full: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(merge(&full, &[tag("k0", "new")]).is_ok());
        assert!(merge(&full, &[tag("one-more", "v")]).is_err());
    }
}
