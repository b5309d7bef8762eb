//! EC2's `Filter.N.Name` / `Filter.N.Value.M`: a resource matches when every filter has a
//! value matching (values are alternatives; `*` and `?` are wildcards). Each Describe
//! names the fields its filters read; an unknown filter name is refused.

use super::{InstanceRecord, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// A filter name the operation does not know (`InvalidParameterValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFilter(pub String);

impl std::fmt::Display for UnknownFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "The filter '{}' is invalid", self.0)
    }
}

/// EC2's wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether any of the filter's values matches any of the resource's `fields`.
pub fn any_matches<'a>(filter: &Filter, fields: impl IntoIterator<Item = &'a str>) -> bool {
    let fields: Vec<&str> = fields.into_iter().collect();
    filter.values.iter().any(|v| fields.iter().any(|f| wildcard(v, f)))
}

/// The tag filters every Describe shares: `tag:KEY` (values match that tag's value) and
/// `tag-key`, `tag-value`. None when the filter is not a tag filter.
pub fn tag_filter(filter: &Filter, tags: &[Tag]) -> Option<bool> {
    if let Some(key) = filter.name.strip_prefix("tag:") {
        return Some(tags.iter().any(|t| t.key == key && any_matches(filter, [t.value.as_str()])));
    }
    match filter.name.as_str() {
        "tag-key" => Some(any_matches(filter, tags.iter().map(|t| t.key.as_str()))),
        "tag-value" => Some(any_matches(filter, tags.iter().map(|t| t.value.as_str()))),
        _ => None,
    }
}

/// Whether `resource` passes every filter, `field` saying which values a filter name
/// reads (None: an unknown name).
pub fn matches_all<R>(
    filters: &[Filter],
    resource: &R,
    tags: &[Tag],
    field: impl Fn(&R, &str) -> Option<Vec<String>>,
) -> Result<bool, UnknownFilter> {
    for filter in filters {
        let hit = match tag_filter(filter, tags) {
            Some(hit) => hit,
            None => {
                let values = field(resource, &filter.name).ok_or_else(|| UnknownFilter(filter.name.clone()))?;
                any_matches(filter, values.iter().map(String::as_str))
            }
        };
        if !hit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The fields DescribeInstances' filters read.
pub fn instance_field(rec: &InstanceRecord, name: &str) -> Option<Vec<String>> {
    let one = |s: &str| Some(vec![s.to_string()]);
    match name {
        "instance-id" => one(&rec.instance_id),
        "instance-state-name" => one(rec.state.name()),
        "instance-state-code" => one(&rec.state.code().to_string()),
        "instance-type" => one(&rec.instance_type),
        "image-id" => one(&rec.image_id),
        "subnet-id" => one(&rec.subnet_id),
        "vpc-id" => one(&rec.vpc_id),
        "availability-zone" | "placement.availability-zone" => one(&rec.availability_zone),
        "private-ip-address" | "network-interface.addresses.private-ip-address" => one(&rec.private_ip_address),
        "private-dns-name" => one(&rec.private_dns_name),
        "reservation-id" => one(&rec.reservation_id),
        "owner-id" => one(&rec.owner_id),
        "key-name" => Some(rec.key_name.iter().cloned().collect()),
        "instance.group-id" | "group-id" => Some(rec.security_group_ids.clone()),
        "iam-instance-profile.arn" => Some(rec.iam_instance_profile_arn.iter().cloned().collect()),
        "architecture" => one(&rec.architecture),
        "client-token" => Some(rec.client_token.iter().cloned().collect()),
        "launch-template.launch-template-id" => Some(rec.launch_template.iter().map(|t| t.id.clone()).collect()),
        "launch-template.version" => Some(rec.launch_template.iter().map(|t| t.version.clone()).collect()),
        "ami-launch-index" => one(&rec.ami_launch_index.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_ec2s_do() {
        assert!(wildcard("web*", "web-1"));
        assert!(wildcard("*", ""));
        assert!(wildcard("w?b", "web"));
        assert!(wildcard("*-1", "web-1"));
        assert!(!wildcard("web", "web-1"));
        assert!(!wildcard("w?b", "weeb"));
        assert!(wildcard("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn every_filter_must_match_and_names_must_be_known() {
        let tags = vec![Tag { key: "team".into(), value: "ml".into() }];
        let f = |name: &str, values: &[&str]| Filter {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let field = |_: &(), name: &str| (name == "color").then(|| vec!["red".to_string()]);
        assert_eq!(matches_all(&[f("color", &["blue", "red"]), f("tag:team", &["m*"])], &(), &tags, field), Ok(true));
        assert_eq!(matches_all(&[f("color", &["red"]), f("tag-key", &["owner"])], &(), &tags, field), Ok(false));
        assert_eq!(matches_all(&[f("tag:other", &["*"])], &(), &tags, field), Ok(false));
        assert_eq!(matches_all(&[f("shape", &["x"])], &(), &tags, field), Err(UnknownFilter("shape".into())));
    }
}
