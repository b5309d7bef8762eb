//! A stored secret: its metadata and its versions, each value sealed by the server
//! (`sealed`), each version with its staging labels. Versions without a label are
//! dropped (AWS deprecates and deletes them).

use super::{AWSCURRENT, AWSPREVIOUS, DescribeSecretResponse, SecretListEntry, SmError, Tag};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A staging label: 1 to 256 characters; a version holds at most 20.
pub const MAX_STAGES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRecord {
    pub name: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub created_date: Timestamp,
    pub last_changed_date: Timestamp,
    /// Set while the secret is scheduled for deletion: when it will be purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    #[serde(default)]
    pub versions: Vec<SecretVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretVersion {
    pub version_id: String,
    /// The value sealed with the data dir's master key, bound to the ARN and version id;
    /// a SecretBinary is sealed as its base64 text.
    pub sealed: String,
    pub binary: bool,
    pub stages: Vec<String>,
    pub created_date: Timestamp,
}

impl SecretRecord {
    /// Whether the secret is scheduled for deletion (or past it, then the caller purges it).
    pub fn is_deleted(&self) -> bool {
        self.deletion_date.is_some()
    }

    /// Whether its recovery window has passed at `now`: it no longer exists.
    pub fn is_purged(&self, now: Timestamp) -> bool {
        self.deletion_date.is_some_and(|d| d.as_secs_f64() <= now.as_secs_f64())
    }

    pub fn version(&self, id: &str) -> Option<&SecretVersion> {
        self.versions.iter().find(|v| v.version_id == id)
    }

    /// GetSecretValue's choice: by version id and/or staging label (AWSCURRENT by default).
    pub fn select(&self, version_id: Option<&str>, stage: Option<&str>) -> Result<&SecretVersion, SmError> {
        match (version_id, stage) {
            (Some(id), stage) => {
                let v = self.version(id).ok_or_else(|| SmError::ValueNotFound(format!("VersionId: {id}")))?;
                match stage {
                    Some(s) if !v.stages.iter().any(|x| x == s) => Err(SmError::InvalidRequest(format!(
                        "You provided a VersionStage ({s}) that is not associated to the provided VersionId ({id})."
                    ))),
                    _ => Ok(v),
                }
            }
            (None, stage) => {
                let stage = stage.unwrap_or(AWSCURRENT);
                self.versions
                    .iter()
                    .find(|v| v.stages.iter().any(|s| s == stage))
                    .ok_or_else(|| SmError::ValueNotFound(format!("staging label: {stage}")))
            }
        }
    }

    /// Adds a version holding `stages` (AWSCURRENT when none are given): each label moves
    /// to it; when AWSCURRENT moves, the version that had it becomes AWSPREVIOUS.
    pub fn add_version(&mut self, mut version: SecretVersion) -> Result<(), SmError> {
        if version.stages.is_empty() {
            version.stages.push(AWSCURRENT.to_string());
        }
        if version.stages.len() > MAX_STAGES || version.stages.iter().any(|s| s.is_empty() || s.len() > 256) {
            return Err(SmError::InvalidParameter(format!(
                "A version can have 1 to {MAX_STAGES} staging labels of 1 to 256 characters."
            )));
        }
        let takes_current = version.stages.iter().any(|s| s == AWSCURRENT);
        let old_current = self.select(None, None).ok().map(|v| v.version_id.clone());
        for v in &mut self.versions {
            v.stages.retain(|s| !version.stages.contains(s));
        }
        if let Some(previous) = old_current.filter(|_| takes_current) {
            for v in &mut self.versions {
                v.stages.retain(|s| s != AWSPREVIOUS);
                if v.version_id == previous {
                    v.stages.push(AWSPREVIOUS.to_string());
                }
            }
        }
        self.last_changed_date = version.created_date;
        self.versions.push(version);
        self.versions.retain(|v| !v.stages.is_empty());
        Ok(())
    }

    pub fn versions_to_stages(&self) -> BTreeMap<String, Vec<String>> {
        self.versions.iter().map(|v| (v.version_id.clone(), v.stages.clone())).collect()
    }

    /// DescribeSecret: everything but the values.
    pub fn describe(&self) -> DescribeSecretResponse {
        DescribeSecretResponse {
            arn: Some(self.arn.clone()),
            name: Some(self.name.clone()),
            description: self.description.clone(),
            kms_key_id: self.kms_key_id.clone(),
            rotation_enabled: Some(false),
            last_changed_date: Some(self.last_changed_date),
            deleted_date: self.deletion_date,
            tags: Some(self.tags.clone()),
            version_ids_to_stages: Some(self.versions_to_stages()),
            created_date: Some(self.created_date),
            ..Default::default()
        }
    }

    /// ListSecrets' entry, without values either.
    pub fn list_entry(&self) -> SecretListEntry {
        SecretListEntry {
            arn: Some(self.arn.clone()),
            name: Some(self.name.clone()),
            description: self.description.clone(),
            kms_key_id: self.kms_key_id.clone(),
            rotation_enabled: Some(false),
            last_changed_date: Some(self.last_changed_date),
            deleted_date: self.deletion_date,
            tags: Some(self.tags.clone()),
            secret_versions_to_stages: Some(self.versions_to_stages()),
            created_date: Some(self.created_date),
            ..Default::default()
        }
    }

    /// ListSecrets' Filters: every filter must match; a value starting with `!` negates.
    pub fn matches(&self, filters: &[super::Filter]) -> bool {
        use super::FilterNameStringType as K;
        filters.iter().all(|f| {
            let values = f.values.as_deref().unwrap_or_default();
            values.iter().any(|raw| {
                let (negate, v) = match raw.strip_prefix('!') {
                    Some(v) => (true, v),
                    None => (false, raw.as_str()),
                };
                let desc = self.description.as_deref().unwrap_or_default();
                let hit = match f.key {
                    Some(K::Name) => self.name.starts_with(v),
                    Some(K::Description) => desc.starts_with(v),
                    Some(K::TagKey) => self.tags.iter().any(|t| t.key.as_deref().is_some_and(|k| k.starts_with(v))),
                    Some(K::TagValue) => self.tags.iter().any(|t| t.value.as_deref().is_some_and(|k| k.starts_with(v))),
                    Some(K::All) | None => {
                        self.name.starts_with(v)
                            || desc.starts_with(v)
                            || self.tags.iter().any(|t| {
                                t.key.as_deref().is_some_and(|k| k.starts_with(v))
                                    || t.value.as_deref().is_some_and(|k| k.starts_with(v))
                            })
                    }
                    Some(K::PrimaryRegion | K::OwningService) => false,
                };
                hit != negate
            })
        })
    }
}

/// Merges `tags` over `current` by key.
pub fn merge_tags(current: &mut Vec<Tag>, tags: &[Tag]) {
    for t in tags {
        match current.iter_mut().find(|c| c.key == t.key) {
            Some(c) => c.value = t.value.clone(),
            None => current.push(t.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: &str, stages: &[&str]) -> SecretVersion {
        SecretVersion {
            version_id: id.into(),
            sealed: format!("sealed-{id}"),
            binary: false,
            stages: stages.iter().map(|s| s.to_string()).collect(),
            created_date: Timestamp(1.0),
        }
    }

    fn record() -> SecretRecord {
        SecretRecord {
            name: "db".into(),
            arn: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC123".into(),
            description: Some("the database".into()),
            kms_key_id: None,
            tags: vec![Tag { key: Some("team".into()), value: Some("core".into()) }],
            created_date: Timestamp(0.0),
            last_changed_date: Timestamp(0.0),
            deletion_date: None,
            versions: vec![],
        }
    }

    #[test]
    fn stages_move_current_to_previous() {
        let mut r = record();
        assert!(matches!(r.select(None, None), Err(SmError::ValueNotFound(m)) if m == "staging label: AWSCURRENT"));
        r.add_version(version("v1", &[])).unwrap();
        r.add_version(version("v2", &[])).unwrap();
        assert_eq!(r.select(None, None).unwrap().version_id, "v2");
        assert_eq!(r.select(None, Some(AWSPREVIOUS)).unwrap().version_id, "v1");
        r.add_version(version("v3", &[AWSCURRENT])).unwrap();
        let stages = r.versions_to_stages();
        assert_eq!(stages.keys().collect::<Vec<_>>(), vec!["v2", "v3"], "v1 lost its labels and is gone");
        assert_eq!(stages["v2"], vec![AWSPREVIOUS]);
        r.add_version(version("v4", &["pending"])).unwrap();
        assert_eq!(r.select(None, None).unwrap().version_id, "v3", "a custom label leaves AWSCURRENT");
        assert_eq!(r.select(Some("v4"), Some("pending")).unwrap().version_id, "v4");
        assert!(matches!(r.select(Some("v4"), Some(AWSCURRENT)), Err(SmError::InvalidRequest(_))));
        assert!(matches!(r.select(Some("nope"), None), Err(SmError::ValueNotFound(_))));
    }

    #[test]
    fn filters_match_prefixes_and_negations() {
        use crate::secretsmanager::{Filter, FilterNameStringType as K};
        let r = record();
        let f = |k, v: &str| Filter { key: Some(k), values: Some(vec![v.to_string()]) };
        assert!(r.matches(&[f(K::Name, "d")]));
        assert!(!r.matches(&[f(K::Name, "x")]));
        assert!(r.matches(&[f(K::Name, "!x")]));
        assert!(r.matches(&[f(K::TagKey, "te"), f(K::Description, "the")]));
        assert!(r.matches(&[f(K::All, "core")]));
        assert!(!r.matches(&[f(K::TagValue, "!core")]));
    }

    #[test]
    fn describe_never_carries_values() {
        let mut r = record();
        r.add_version(version("v1", &[])).unwrap();
        let text = serde_json::to_string(&r.describe()).unwrap() + &serde_json::to_string(&r.list_entry()).unwrap();
        assert!(!text.contains("sealed"));
        assert!(text.contains("AWSCURRENT"));
    }
}
