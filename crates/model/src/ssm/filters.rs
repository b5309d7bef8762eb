//! ParameterFilters (and DescribeParameters' older Filters): which keys and options each
//! operation accepts, and whether a parameter matches.

use super::{ParameterStringFilter, ParametersFilter, ParametersFilterKey, SsmError};

/// What a filter looks at of one parameter (its current version).
pub struct View<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub key_id: Option<&'a str>,
    pub tier: &'a str,
    pub data_type: &'a str,
    /// Labels of any of its versions.
    pub labels: Vec<&'a str>,
    pub tags: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    DescribeParameters,
    GetParametersByPath,
}

impl Operation {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Operation::DescribeParameters => &["Name", "Type", "KeyId", "Path", "Tier", "DataType", "tag:<key>"],
            Operation::GetParametersByPath => &["Type", "KeyId", "Label", "Tier", "DataType", "tag:<key>"],
        }
    }
}

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    key: String,
    option: String,
    values: Vec<String>,
}

/// Checks the filters an operation was given.
pub fn check(op: Operation, filters: &[ParameterStringFilter]) -> Result<Vec<Filter>, SsmError> {
    filters.iter().map(|f| check_one(op, f)).collect()
}

fn check_one(op: Operation, f: &ParameterStringFilter) -> Result<Filter, SsmError> {
    let key = f.key.as_str();
    let is_tag = key.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
    if !is_tag && !op.keys().contains(&key) {
        return Err(SsmError::InvalidFilterKey(key.to_string(), op.keys().join(", ")));
    }
    let options: &[&str] = match key {
        "Name" => &["Equals", "BeginsWith", "Contains"],
        "Path" => &["Recursive", "OneLevel"],
        _ if is_tag => &["Equals"],
        _ => &["Equals"],
    };
    let option = f.option.clone().unwrap_or_else(|| options[0].to_string());
    if !options.contains(&option.as_str()) {
        return Err(SsmError::InvalidFilterOption(option, key.to_string(), options.join(", ")));
    }
    let values = f.values.clone().unwrap_or_default();
    if values.is_empty() && !is_tag {
        return Err(SsmError::InvalidFilterValue(format!("The filter {key} needs at least one value.")));
    }
    if values.len() > 50 || values.iter().any(|v| v.is_empty() || v.len() > 1024) {
        return Err(SsmError::InvalidFilterValue(format!(
            "The filter {key} takes 1 to 50 values of 1 to 1024 characters each."
        )));
    }
    if key == "Path" && values.iter().any(|v| !v.starts_with('/')) {
        return Err(SsmError::InvalidFilterValue("A Path filter's values begin with /.".into()));
    }
    Ok(Filter { key: key.to_string(), option, values })
}

/// DescribeParameters' older `Filters` as ParameterFilters with the Equals option.
pub fn from_legacy(filters: &[ParametersFilter]) -> Vec<ParameterStringFilter> {
    filters
        .iter()
        .map(|f| ParameterStringFilter {
            key: match f.key {
                ParametersFilterKey::Name => "Name",
                ParametersFilterKey::Type => "Type",
                ParametersFilterKey::KeyId => "KeyId",
            }
            .to_string(),
            option: Some(if f.key == ParametersFilterKey::Name { "BeginsWith" } else { "Equals" }.to_string()),
            values: Some(f.values.clone()),
        })
        .collect()
}

impl Filter {
    pub fn matches(&self, p: &View) -> bool {
        let any = |f: &dyn Fn(&str) -> bool| self.values.iter().any(|v| f(v));
        match self.key.as_str() {
            "Name" => {
                let name = p.name.trim_start_matches('/');
                any(&|v| {
                    let v = v.trim_start_matches('/');
                    match self.option.as_str() {
                        "BeginsWith" => name.starts_with(v),
                        "Contains" => name.contains(v),
                        _ => name == v,
                    }
                })
            }
            "Type" => any(&|v| v == p.kind),
            "KeyId" => any(&|v| Some(v) == p.key_id),
            "Tier" => any(&|v| v == p.tier),
            "DataType" => any(&|v| v == p.data_type),
            "Label" => any(&|v| p.labels.contains(&v)),
            "Path" => any(&|v| under(p.name, v, self.option == "Recursive")),
            key => {
                let tag = key.strip_prefix("tag:").unwrap_or_default();
                p.tags
                    .iter()
                    .any(|(k, val)| *k == tag && (self.values.is_empty() || self.values.iter().any(|v| v == val)))
            }
        }
    }
}

/// Whether `name` is under `path` (`/a` holds `/a/b`; recursively also `/a/b/c`).
pub fn under(name: &str, path: &str, recursive: bool) -> bool {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(key: &str, option: Option<&str>, values: &[&str]) -> ParameterStringFilter {
        ParameterStringFilter {
            key: key.into(),
            option: option.map(String::from),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn view() -> View<'static> {
        View {
            name: "/app/db/password",
            kind: "SecureString",
            key_id: Some("alias/aws/ssm"),
            tier: "Standard",
            data_type: "text",
            labels: vec!["prod"],
            tags: vec![("team", "core")],
        }
    }

    #[test]
    fn keys_and_options_per_operation() {
        use Operation::*;
        assert!(matches!(check(GetParametersByPath, &[f("Name", None, &["x"])]), Err(SsmError::InvalidFilterKey(..))));
        assert!(matches!(check(DescribeParameters, &[f("Label", None, &["x"])]), Err(SsmError::InvalidFilterKey(..))));
        assert!(matches!(check(DescribeParameters, &[f("Bogus", None, &["x"])]), Err(SsmError::InvalidFilterKey(..))));
        assert!(matches!(
            check(DescribeParameters, &[f("Type", Some("BeginsWith"), &["x"])]),
            Err(SsmError::InvalidFilterOption(..))
        ));
        assert!(matches!(check(DescribeParameters, &[f("Type", None, &[])]), Err(SsmError::InvalidFilterValue(_))));
        assert!(matches!(
            check(DescribeParameters, &[f("Path", Some("Recursive"), &["app"])]),
            Err(SsmError::InvalidFilterValue(_))
        ));
        assert!(check(DescribeParameters, &[f("tag:team", None, &[])]).is_ok());
    }

    #[test]
    fn matches_what_it_names() {
        let one = |flt| check(Operation::DescribeParameters, &[flt]).unwrap().remove(0).matches(&view());
        assert!(one(f("Name", Some("BeginsWith"), &["app/db"])));
        assert!(one(f("Name", None, &["/app/db/password"])));
        assert!(!one(f("Name", None, &["/app/db"])));
        assert!(one(f("Name", Some("Contains"), &["pass"])));
        assert!(one(f("Type", None, &["String", "SecureString"])));
        assert!(one(f("Path", Some("Recursive"), &["/app"])));
        assert!(!one(f("Path", Some("OneLevel"), &["/app"])));
        assert!(one(f("Path", None, &["/app/db"])));
        assert!(one(f("tag:team", None, &["core"])));
        assert!(!one(f("tag:team", None, &["other"])));
        assert!(one(f("tag:team", None, &[])));
        let label = check(Operation::GetParametersByPath, &[f("Label", None, &["prod"])]).unwrap();
        assert!(label[0].matches(&view()));
    }

    #[test]
    fn paths() {
        assert!(under("/a/b", "/a", false));
        assert!(!under("/a/b/c", "/a", false));
        assert!(under("/a/b/c", "/a/", true));
        assert!(!under("/ab", "/a", true));
        assert!(under("/x", "/", false));
    }
}
