//! ECR lifecycle policies, pure: parse and validate the policy text, and decide which
//! images its rules expire. Rules run in rulePriority order; an image whose tags match
//! a rule's selection belongs to that rule and is never considered by a later one
//! (even when the earlier rule keeps it), as ECR documents.

use crate::meta::ImageView;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyText {
    rules: Vec<RuleText>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    #[serde(rename = "rulePriority")]
    rule_priority: i64,
    #[serde(default)]
    description: Option<String>,
    selection: Selection,
    action: Action,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    #[serde(rename = "tagStatus")]
    tag_status: String,
    #[serde(rename = "tagPrefixList", default)]
    tag_prefix_list: Vec<String>,
    #[serde(rename = "tagPatternList", default)]
    tag_pattern_list: Vec<String>,
    #[serde(rename = "countType")]
    count_type: String,
    #[serde(rename = "countUnit", default)]
    count_unit: Option<String>,
    #[serde(rename = "countNumber")]
    count_number: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Action {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Clone, PartialEq)]
enum TagStatus {
    Tagged { prefixes: Vec<String>, patterns: Vec<String> },
    Untagged,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
enum Count {
    MoreThan(usize),
    /// Pushed more than this many seconds ago.
    OlderThan(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub priority: i64,
    tag_status: TagStatus,
    count: Count,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub rules: Vec<Rule>,
}

/// An image a policy expires, and the priority of the rule that does.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiry {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: berth_model::Timestamp,
    pub rule_priority: i64,
}

/// Parses and validates a policy; the error says what is wrong.
pub fn parse(text: &str) -> Result<Policy, String> {
    let raw: PolicyText = serde_json::from_str(text).map_err(|e| format!("invalid lifecycle policy JSON: {e}"))?;
    if raw.rules.is_empty() {
        return Err("the policy has no rules".into());
    }
    let mut rules = Vec::new();
    for r in raw.rules {
        let _ = r.description;
        if r.action.kind != "expire" {
            return Err(format!("rule {}: action type must be 'expire'", r.rule_priority));
        }
        if r.rule_priority < 1 {
            return Err("rulePriority must be a positive integer".into());
        }
        if rules.iter().any(|x: &Rule| x.priority == r.rule_priority) {
            return Err(format!("rulePriority {} is used twice", r.rule_priority));
        }
        let s = r.selection;
        let tag_status = match s.tag_status.as_str() {
            "tagged" => {
                if s.tag_prefix_list.is_empty() && s.tag_pattern_list.is_empty() {
                    return Err(format!(
                        "rule {}: tagged selection needs tagPrefixList or tagPatternList",
                        r.rule_priority
                    ));
                }
                TagStatus::Tagged { prefixes: s.tag_prefix_list, patterns: s.tag_pattern_list }
            }
            "untagged" | "any" if !s.tag_prefix_list.is_empty() || !s.tag_pattern_list.is_empty() => {
                return Err(format!("rule {}: tagPrefixList is only allowed with tagStatus tagged", r.rule_priority));
            }
            "untagged" => TagStatus::Untagged,
            "any" => TagStatus::Any,
            other => return Err(format!("rule {}: unknown tagStatus '{other}'", r.rule_priority)),
        };
        if s.count_number < 1 {
            return Err(format!("rule {}: countNumber must be at least 1", r.rule_priority));
        }
        let count = match (s.count_type.as_str(), s.count_unit.as_deref()) {
            ("imageCountMoreThan", None) => Count::MoreThan(s.count_number as usize),
            ("imageCountMoreThan", Some(_)) => {
                return Err(format!("rule {}: countUnit is not allowed with imageCountMoreThan", r.rule_priority));
            }
            ("sinceImagePushed", Some("days")) => Count::OlderThan(s.count_number as f64 * 86400.0),
            ("sinceImagePushed", _) => {
                return Err(format!("rule {}: sinceImagePushed needs countUnit 'days'", r.rule_priority));
            }
            (other, _) => return Err(format!("rule {}: unknown countType '{other}'", r.rule_priority)),
        };
        rules.push(Rule { priority: r.rule_priority, tag_status, count });
    }
    rules.sort_by_key(|r| r.priority);
    if let Some(pos) = rules.iter().position(|r| r.tag_status == TagStatus::Any)
        && pos != rules.len() - 1
    {
        return Err("a rule with tagStatus 'any' must have the highest rulePriority".into());
    }
    Ok(Policy { rules })
}

/// `*` matches any run of characters.
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn selects(status: &TagStatus, tags: &[String]) -> bool {
    match status {
        TagStatus::Any => true,
        TagStatus::Untagged => tags.is_empty(),
        // Every prefix (or pattern) must match one of the image's tags.
        TagStatus::Tagged { prefixes, patterns } => {
            !tags.is_empty()
                && prefixes.iter().all(|p| tags.iter().any(|t| t.starts_with(p.as_str())))
                && patterns.iter().all(|p| tags.iter().any(|t| glob(p, t)))
        }
    }
}

/// The images `policy` expires among `images`, at time `now` (epoch seconds).
pub fn evaluate(policy: &Policy, images: &[ImageView], now: f64) -> Vec<Expiry> {
    let mut claimed = vec![false; images.len()];
    let mut out = Vec::new();
    for rule in &policy.rules {
        let mut selected: Vec<usize> =
            (0..images.len()).filter(|&i| !claimed[i] && selects(&rule.tag_status, &images[i].tags)).collect();
        for &i in &selected {
            claimed[i] = true;
        }
        // Newest first.
        selected.sort_by(|&a, &b| images[b].image.pushed_at.0.total_cmp(&images[a].image.pushed_at.0));
        let expired: Vec<usize> = match rule.count {
            Count::MoreThan(n) => selected.into_iter().skip(n).collect(),
            Count::OlderThan(secs) => {
                selected.into_iter().filter(|&i| now - images[i].image.pushed_at.0 > secs).collect()
            }
        };
        out.extend(expired.into_iter().map(|i| Expiry {
            digest: images[i].image.digest.clone(),
            tags: images[i].tags.clone(),
            pushed_at: images[i].image.pushed_at,
            rule_priority: rule.priority,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::ImageRecord;
    use berth_model::Timestamp;

    fn img(d: &str, at: f64, tags: &[&str]) -> ImageView {
        ImageView {
            image: ImageRecord {
                digest: d.into(),
                media_type: "m".into(),
                artifact_media_type: None,
                size: 1,
                pushed_at: Timestamp(at),
                last_pull: None,
            },
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn digests(e: &[Expiry]) -> Vec<&str> {
        e.iter().map(|x| x.digest.as_str()).collect()
    }

    #[test]
    fn keeps_the_newest_n() {
        let p = parse(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#).unwrap();
        let images = [img("a", 1.0, &["v1"]), img("b", 2.0, &[]), img("c", 3.0, &["v3"]), img("d", 4.0, &["v4"])];
        assert_eq!(digests(&evaluate(&p, &images, 10.0)), vec!["b", "a"]);
    }

    #[test]
    fn rules_claim_images_in_priority_order() {
        let p = parse(
            r#"{"rules":[
            {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
            {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#,
        )
        .unwrap();
        let images =
            [img("p1", 1.0, &["prod-1"]), img("p2", 2.0, &["prod-2"]), img("x", 3.0, &["dev"]), img("y", 4.0, &[])];
        let e = evaluate(&p, &images, 10.0);
        assert_eq!(digests(&e), vec!["x"]);
        assert_eq!(e[0].rule_priority, 2);
    }

    #[test]
    fn since_pushed_and_untagged_and_patterns() {
        let day = 86400.0;
        let p = parse(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"tagged","tagPatternList":["*-rc*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":3},"action":{"type":"expire"}}]}"#).unwrap();
        let now = 10.0 * day;
        let images =
            [img("old", 1.0, &[]), img("new", now - 10.0, &[]), img("rc", 1.0, &["v1-rc2"]), img("ga", 1.0, &["v1"])];
        assert_eq!(digests(&evaluate(&p, &images, now)), vec!["old", "rc"]);
    }

    #[test]
    fn invalid_policies_are_refused() {
        for bad in [
            "{",
            r#"{"rules":[]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countNumber":1},"action":{"type":"expire"}}]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0},"action":{"type":"expire"}}]}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(glob("a*b*", "axxbyy"));
        assert!(!glob("a*b", "axxbyy"));
    }
}
