//! EC2's `Filter.N.Name` / `Filter.N.Value.M`: a resource matches when every filter has a
//! value matching (values are alternatives; `*` and `?` are wildcards). Each Describe
//! names the fields its filters read and the list of those names; an unknown filter name is
//! refused up front (`check_names`), whatever exists to filter.

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

/// Whether a filter name is one of the tag filters every Describe shares.
fn is_tag_filter(name: &str) -> bool {
    name.starts_with("tag:") || name == "tag-key" || name == "tag-value"
}

/// Refuses the first filter whose name is neither a tag filter nor one of `known`, as EC2
/// does before it reads anything (so an empty listing refuses it too).
pub fn check_names(filters: &[Filter], known: &[&str]) -> Result<(), UnknownFilter> {
    match filters.iter().find(|f| !is_tag_filter(&f.name) && !known.contains(&f.name.as_str())) {
        Some(f) => Err(UnknownFilter(f.name.clone())),
        None => Ok(()),
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

/// The filter names `instance_field` reads.
pub const INSTANCE_FILTERS: &[&str] = &[
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "instance-type",
    "image-id",
    "subnet-id",
    "vpc-id",
    "availability-zone",
    "placement.availability-zone",
    "private-ip-address",
    "network-interface.addresses.private-ip-address",
    "private-dns-name",
    "reservation-id",
    "owner-id",
    "key-name",
    "instance.group-id",
    "group-id",
    "iam-instance-profile.arn",
    "architecture",
    "client-token",
    "launch-template.launch-template-id",
    "launch-template.version",
    "ami-launch-index",
];

/// The fields DescribeInstances' filters read (the names in `INSTANCE_FILTERS`).
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

    #[test]
    fn names_are_checked_before_any_resource_is_read() {
        let f = |name: &str| Filter { name: name.into(), values: vec!["x".into()] };
        let known = ["color", "size"];
        assert_eq!(check_names(&[f("color"), f("tag:team"), f("tag-key"), f("tag-value")], &known), Ok(()));
        assert_eq!(check_names(&[f("size"), f("shape"), f("weight")], &known), Err(UnknownFilter("shape".into())));
        assert_eq!(check_names(&[f("tags:team")], &known), Err(UnknownFilter("tags:team".into())));
        assert_eq!(check_names(&[], &known), Ok(()));
    }

    #[test]
    fn every_listed_instance_filter_reads_a_field_and_no_other_does() {
        let rec: InstanceRecord = serde_json::from_value(serde_json::json!({
            "instance_id": "i-1", "reservation_id": "r-1", "owner_id": "000000000000", "image_id": "ami-1",
            "instance_type": "t3.micro", "state": "running", "subnet_id": "subnet-1", "vpc_id": "vpc-1",
            "availability_zone": "us-east-1a", "private_ip_address": "10.0.0.1", "private_dns_name": "ip-10-0-0-1",
            "security_group_ids": ["sg-1"], "launch_time": 0, "ami_launch_index": 0, "architecture": "x86_64",
        }))
        .unwrap();
        for name in INSTANCE_FILTERS {
            assert!(instance_field(&rec, name).is_some(), "{name}");
        }
        assert_eq!(instance_field(&rec, "no-such-filter"), None);
    }
}
