//! Resource tags as AWS checks them in every service: at most 50 per resource, keys 1–128
//! characters, values up to 256, of letters, digits, white space and `_.:/=+-@`, no key
//! twice, and the `aws:` prefix reserved for AWS itself. `check` is the rule; each
//! service maps a `TagError` to its own error code.

use crate::ecs::Tag;

pub const MAX_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// Why a set of tags is refused: AWS's tag rules, the same in every service that has tags
/// (each service answers with its own error code, the message is this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    TooMany(usize),
    KeyLength {
        key: String,
        chars: usize,
    },
    ValueLength {
        key: String,
        chars: usize,
    },
    /// A character outside `[\p{L}\p{Z}\p{N}_.:/=+\-@]` in the key (`value: false`) or value.
    Characters {
        key: String,
        value: bool,
    },
    Reserved(String),
    Duplicate(String),
}

impl std::fmt::Display for TagError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            TagError::TooMany(n) => write!(f, "Too many tags: {n}. A resource can have at most {MAX_TAGS} tags."),
            TagError::KeyLength { key, chars } => write!(
                f,
                "Invalid tag key \"{key}\". Tag keys must be 1 to {MAX_KEY_CHARS} characters; this one has {chars}."
            ),
            TagError::ValueLength { key, chars } => write!(
                f,
                "Invalid value for tag \"{key}\". Tag values can have at most {MAX_VALUE_CHARS} characters; this one has {chars}."
            ),
            TagError::Characters { key, value } => write!(
                f,
                "Invalid {} \"{}\". Tag keys and values may contain only letters, digits, white space and _ . : / = + - @.",
                if *value { "value for tag" } else { "tag key" },
                key.escape_debug()
            ),
            TagError::Reserved(key) => {
                write!(f, "Invalid tag key \"{key}\". Keys beginning with \"aws:\" are reserved for AWS use.")
            }
            TagError::Duplicate(key) => write!(f, "Duplicate tag key \"{key}\". Each tag key can appear only once."),
        }
    }
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, separators (not control characters such as
/// tab or NUL), numbers and the listed punctuation.
fn allowed(c: char) -> bool {
    let separator = matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    );
    c.is_alphabetic() || c.is_numeric() || separator || "_.:/=+-@".contains(c)
}

/// Checks the tags one request gives, as `(key, value)` pairs: at most 50, keys 1–128
/// characters, values 0–256, the allowed character set, the `aws:` prefix reserved, no
/// key twice.
pub fn check<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), TagError> {
    let mut keys = std::collections::HashSet::new();
    for (key, value) in tags {
        if keys.len() == MAX_TAGS {
            return Err(TagError::TooMany(MAX_TAGS + 1));
        }
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_KEY_CHARS {
            return Err(TagError::KeyLength { key: key.into(), chars });
        }
        if key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:")) {
            return Err(TagError::Reserved(key.into()));
        }
        if !key.chars().all(allowed) {
            return Err(TagError::Characters { key: key.into(), value: false });
        }
        let chars = value.chars().count();
        if chars > MAX_VALUE_CHARS {
            return Err(TagError::ValueLength { key: key.into(), chars });
        }
        if !value.chars().all(allowed) {
            return Err(TagError::Characters { key: key.into(), value: true });
        }
        if !keys.insert(key) {
            return Err(TagError::Duplicate(key.into()));
        }
    }
    Ok(())
}

/// Checks a set of ECS tags sent by a caller; the error is a message a person can act on.
pub fn validate(tags: &[Tag]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(TagError::TooMany(tags.len()).to_string());
    }
    check(tags.iter().map(|t| (t.key.as_deref().unwrap_or_default(), t.value.as_deref().unwrap_or_default())))
        .map_err(|e| e.to_string())
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
    fn the_character_set_is_awss() {
        assert_eq!(check([("Name é 名前 ١", "a b_.:/=+-@\u{3000}9")]), Ok(()));
        for (k, v) in [("nul", "a\0b"), ("😀", "x"), ("tab\t", "x"), ("k", "new\nline"), ("k", "<b>"), ("k#", "")] {
            let e = check([(k, v)]).unwrap_err();
            assert!(matches!(e, TagError::Characters { .. }), "{k:?}={v:?}: {e:?}");
            assert!(!e.to_string().contains('\0'), "{e}");
        }
        assert_eq!(check([("aws:x", "")]), Err(TagError::Reserved("aws:x".into())));
        assert!(matches!(check([("", "")]), Err(TagError::KeyLength { chars: 0, .. })));
        let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
        assert_eq!(check(many.iter().map(|k| (k.as_str(), ""))), Err(TagError::TooMany(51)));
        assert_eq!(check(many[..50].iter().map(|k| (k.as_str(), ""))), Ok(()));
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
