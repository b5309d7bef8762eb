//! Tags on IAM users and roles: at most 50, keys 1–128 and values 0–256 characters, keys
//! compared without case (tagging `Env` replaces `env`).

use super::{IamError, Tag};

pub const MAX_TAGS: usize = 50;

/// `existing` with `new` added or replacing the values of keys already there.
pub fn merge(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, IamError> {
    check(new)?;
    let mut merged: Vec<Tag> = existing.to_vec();
    for tag in new {
        match merged.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            Some(t) => *t = tag.clone(),
            None => merged.push(tag.clone()),
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(IamError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    Ok(merged)
}

/// `existing` without the tags whose keys are listed.
pub fn remove(existing: &[Tag], keys: &[String]) -> Result<Vec<Tag>, IamError> {
    if keys.len() > MAX_TAGS {
        return Err(IamError::constraint(
            &format!("{keys:?}"),
            "tagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    Ok(existing.iter().filter(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key))).cloned().collect())
}

/// One request's tags: within the limits, no key twice.
pub fn check(tags: &[Tag]) -> Result<(), IamError> {
    if tags.len() > MAX_TAGS {
        return Err(IamError::constraint("tags", "tags", "Member must have length less than or equal to 50"));
    }
    for (i, tag) in tags.iter().enumerate() {
        super::validate::length(&tag.key, "tags.member.key", 1, 128)?;
        super::validate::length(&tag.value, "tags.member.value", 0, 256)?;
        crate::tags::check([(tag.key.as_str(), tag.value.as_str())])
            .map_err(|e| IamError::InvalidInput(e.to_string()))?;
        if tags.iter().skip(i + 1).any(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn merges_replaces_and_removes_without_case() {
        let merged = merge(&[tag("Env", "dev")], &[tag("env", "prod"), tag("team", "a")]).unwrap();
        assert_eq!(merged, vec![tag("env", "prod"), tag("team", "a")]);
        assert_eq!(remove(&merged, &["ENV".into()]).unwrap(), vec![tag("team", "a")]);
        assert!(matches!(merge(&[], &[tag("a", "1"), tag("A", "2")]), Err(IamError::InvalidInput(_))));
        let many: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "")).collect();
        assert!(merge(&many, &[]).is_ok());
        assert!(matches!(merge(&many, &[tag("one-more", "")]), Err(IamError::LimitExceeded(_))));
        assert!(merge(&[], &[tag("", "x")]).is_err());
    }
}
