//! A stored parameter: every kept version (at most 100), each with its value sealed by
//! the server (`sealed_value`; the model never sees the master key), and the tags.

use super::names::Selector;
use super::{ParameterHistory, ParameterMetadata, ParameterTier, ParameterType, SsmError, Tag};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// Parameter Store keeps the newest 100 versions.
pub const MAX_VERSIONS: usize = 100;
/// Labels on one version.
pub const MAX_LABELS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterRecord {
    pub name: String,
    /// Oldest first; the last is the current version.
    pub versions: Vec<ParameterVersion>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterVersion {
    pub version: i64,
    #[serde(rename = "type")]
    pub kind: ParameterType,
    /// The value sealed with the data dir's master key, bound to name and version.
    pub sealed_value: String,
    /// SecureString only: the KMS key id it names (`alias/aws/ssm` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    pub tier: ParameterTier,
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub last_modified_date: Timestamp,
    pub last_modified_user: String,
}

impl ParameterRecord {
    pub fn current(&self) -> Option<&ParameterVersion> {
        self.versions.last()
    }

    /// The version a selector picks (the current one without a selector).
    pub fn select(&self, selector: Option<&Selector>) -> Result<&ParameterVersion, SsmError> {
        let found = match selector {
            None => self.current(),
            Some(Selector::Version(v)) => self.versions.iter().find(|p| p.version == *v),
            Some(Selector::Label(l)) => self.versions.iter().find(|p| p.labels.contains(l)),
        };
        found.ok_or_else(|| match selector {
            Some(Selector::Version(v)) => SsmError::VersionNotFound { name: self.name.clone(), version: v.to_string() },
            _ => SsmError::NotFound(format!("{}{}", self.name, selector.map(Selector::text).unwrap_or_default())),
        })
    }

    /// The number the next version gets.
    pub fn next_version(&self) -> i64 {
        self.current().map_or(1, |v| v.version + 1)
    }

    /// Adds `version` as the current one, dropping the oldest beyond 100 (refused when
    /// the oldest carries a label, as AWS does).
    pub fn push(&mut self, version: ParameterVersion) -> Result<(), SsmError> {
        if self.versions.len() >= MAX_VERSIONS {
            if let Some(oldest) = self.versions.first().filter(|o| !o.labels.is_empty()) {
                return Err(SsmError::MaxVersionLimit(self.name.clone(), oldest.version));
            }
            self.versions.remove(0);
        }
        self.versions.push(version);
        Ok(())
    }

    /// LabelParameterVersion: puts each valid label on `version` (taking it off any
    /// other version); returns the labels refused by the label rules.
    pub fn label(&mut self, version: i64, labels: &[String]) -> Result<Vec<String>, SsmError> {
        let index = self.index_of(version)?;
        let (valid, invalid): (Vec<&String>, Vec<&String>) = labels.iter().partition(|l| is_valid_label(l));
        let target = &self.versions[index];
        let added = valid.iter().filter(|l| !target.labels.contains(l)).count();
        if target.labels.len() + added > MAX_LABELS {
            return Err(SsmError::LabelLimit);
        }
        for v in &mut self.versions {
            v.labels.retain(|l| !valid.contains(&l));
        }
        let target = &mut self.versions[index];
        for l in valid {
            target.labels.push(l.clone());
        }
        Ok(invalid.into_iter().cloned().collect())
    }

    /// UnlabelParameterVersion: (removed, not on that version).
    pub fn unlabel(&mut self, version: i64, labels: &[String]) -> Result<(Vec<String>, Vec<String>), SsmError> {
        let index = self.index_of(version)?;
        let target = &mut self.versions[index];
        let (removed, invalid): (Vec<String>, Vec<String>) =
            labels.iter().cloned().partition(|l| target.labels.contains(l));
        target.labels.retain(|l| !removed.contains(l));
        Ok((removed, invalid))
    }

    fn index_of(&self, version: i64) -> Result<usize, SsmError> {
        self.versions
            .iter()
            .position(|v| v.version == version)
            .ok_or_else(|| SsmError::VersionNotFound { name: self.name.clone(), version: version.to_string() })
    }

    /// DescribeParameters' entry: the current version, never its value.
    pub fn metadata(&self, arn: String) -> Option<ParameterMetadata> {
        let v = self.current()?;
        Some(ParameterMetadata {
            name: Some(self.name.clone()),
            arn: Some(arn),
            r#type: Some(v.kind),
            key_id: v.key_id.clone(),
            last_modified_date: Some(v.last_modified_date),
            last_modified_user: Some(v.last_modified_user.clone()),
            description: v.description.clone(),
            allowed_pattern: v.allowed_pattern.clone(),
            version: Some(v.version),
            tier: Some(v.tier),
            policies: Some(vec![]),
            data_type: Some(v.data_type.clone()),
        })
    }
}

impl ParameterVersion {
    /// GetParameterHistory's entry, with the value as the caller may see it.
    pub fn history(&self, name: &str, value: String) -> ParameterHistory {
        ParameterHistory {
            name: Some(name.to_string()),
            r#type: Some(self.kind),
            key_id: self.key_id.clone(),
            last_modified_date: Some(self.last_modified_date),
            last_modified_user: Some(self.last_modified_user.clone()),
            description: self.description.clone(),
            value: Some(value),
            allowed_pattern: self.allowed_pattern.clone(),
            version: Some(self.version),
            labels: Some(self.labels.clone()),
            tier: Some(self.tier),
            policies: Some(vec![]),
            data_type: Some(self.data_type.clone()),
        }
    }
}

/// AWS's label rules: at most 100 characters of letters, digits, `.`, `-`, `_`; not
/// beginning with a digit, `aws` or `ssm`.
pub fn is_valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.len() <= 100
        && label.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
}

#[cfg(test)]
pub(crate) fn version(n: i64) -> ParameterVersion {
    ParameterVersion {
        version: n,
        kind: ParameterType::String,
        sealed_value: format!("sealed{n}"),
        key_id: None,
        description: None,
        allowed_pattern: None,
        tier: ParameterTier::Standard,
        data_type: "text".into(),
        policies: None,
        labels: vec![],
        last_modified_date: Timestamp(0.0),
        last_modified_user: "arn:aws:iam::1:root".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i64) -> ParameterRecord {
        ParameterRecord { name: "/p".into(), versions: (1..=n).map(version).collect(), tags: vec![] }
    }

    #[test]
    fn selects_versions_and_labels() {
        let mut r = record(3);
        assert_eq!(r.select(None).unwrap().version, 3);
        assert_eq!(r.select(Some(&Selector::Version(2))).unwrap().version, 2);
        assert!(matches!(r.select(Some(&Selector::Version(9))), Err(SsmError::VersionNotFound { .. })));
        assert_eq!(r.label(1, &["prod".into(), "1bad".into(), "awsx".into()]).unwrap(), vec!["1bad", "awsx"]);
        assert_eq!(r.select(Some(&Selector::Label("prod".into()))).unwrap().version, 1);
        r.label(3, &["prod".into()]).unwrap();
        assert_eq!(r.select(Some(&Selector::Label("prod".into()))).unwrap().version, 3, "a label moves");
        assert!(r.versions[0].labels.is_empty());
        assert!(matches!(r.select(Some(&Selector::Label("x".into()))), Err(SsmError::NotFound(n)) if n == "/p:x"));
        assert_eq!(r.unlabel(3, &["prod".into(), "nope".into()]).unwrap(), (vec!["prod".into()], vec!["nope".into()]));
        assert!(r.label(7, &["a".into()]).is_err());
    }

    #[test]
    fn at_most_ten_labels_per_version() {
        let mut r = record(1);
        let ten: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
        r.label(1, &ten).unwrap();
        assert_eq!(r.label(1, &["l0".into()]).unwrap(), Vec::<String>::new(), "already there");
        assert_eq!(r.label(1, &["more".into()]), Err(SsmError::LabelLimit));
    }

    #[test]
    fn keeps_a_hundred_versions_unless_the_oldest_is_labelled() {
        let mut r = record(100);
        r.push(version(101)).unwrap();
        assert_eq!((r.versions.len(), r.versions[0].version), (100, 2));
        r.label(2, &["keep".into()]).unwrap();
        assert_eq!(r.push(version(102)), Err(SsmError::MaxVersionLimit("/p".into(), 2)));
        assert_eq!(r.next_version(), 102);
    }
}
