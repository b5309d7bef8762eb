//! What the store keeps for each IAM entity (keys in `super::keys`): the API shape as
//! created, plus what the shape does not show: inline policy documents, attached managed
//! policies, group memberships, access key ids, a policy's versions, a profile's role.
//! Both sides of a relation are kept (a user's groups and a group's users) and changed
//! in one transaction, so each delete can check its conflicts on one record.

use super::{
    AccessKeyMetadata, Entity, Group, IamError, InstanceProfile, Policy, PolicyVersion, Role, User, arn, document,
};
use crate::Timestamp;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;

/// How many managed policies one user, group or role may have attached.
pub const MAX_ATTACHED: usize = 10;
/// How many versions a customer managed policy may have.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// How many access keys a user may have.
pub const MAX_ACCESS_KEYS: usize = 2;
/// How many roles an instance profile may hold.
pub const MAX_PROFILE_ROLES: usize = 1;

/// The policies of a user, group or role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Permissions {
    /// Inline policy documents by name, as they were put.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// The ARNs of attached managed policies, in the order they were attached.
    #[serde(default)]
    pub attached: Vec<String>,
}

impl Permissions {
    /// Adds or replaces the inline policy `name`, keeping the entity's inline documents
    /// within `limit` characters in all.
    pub fn put_inline(
        &mut self,
        owner: &str,
        entity: Entity,
        name: &str,
        doc: &str,
        limit: usize,
    ) -> Result<(), IamError> {
        let others: usize = self.inline.iter().filter(|(n, _)| *n != name).map(|(_, d)| size(d)).sum();
        if others + size(doc) > limit {
            return Err(IamError::LimitExceeded(format!(
                "Maximum policy size of {limit} bytes exceeded for {} {owner}",
                entity.word()
            )));
        }
        self.inline.insert(name.to_string(), doc.to_string());
        Ok(())
    }

    pub fn inline_policy(&self, entity: Entity, name: &str) -> Result<&str, IamError> {
        self.inline.get(name).map(String::as_str).ok_or_else(|| IamError::no_such_inline(entity, name))
    }

    pub fn delete_inline(&mut self, entity: Entity, name: &str) -> Result<(), IamError> {
        self.inline.remove(name).map(|_| ()).ok_or_else(|| IamError::no_such_inline(entity, name))
    }

    /// Attaches `policy_arn`; false when it was attached already (IAM accepts that and
    /// changes nothing).
    pub fn attach(&mut self, entity: Entity, policy_arn: &str) -> Result<bool, IamError> {
        if self.attached.iter().any(|a| a == policy_arn) {
            return Ok(false);
        }
        if self.attached.len() >= MAX_ATTACHED {
            return Err(IamError::quota(&format!("PoliciesPer{}", entity.title()), MAX_ATTACHED));
        }
        self.attached.push(policy_arn.to_string());
        Ok(true)
    }

    pub fn detach(&mut self, policy_arn: &str) -> Result<(), IamError> {
        let before = self.attached.len();
        self.attached.retain(|a| a != policy_arn);
        if self.attached.len() == before {
            return Err(IamError::NoSuchEntity(format!("Policy {policy_arn} was not found.")));
        }
        Ok(())
    }

    pub fn is_attached(&self, policy_arn: &str) -> bool {
        self.attached.iter().any(|a| a == policy_arn)
    }

    /// What a delete of the entity must wait for while it has policies.
    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if !self.inline.is_empty() {
            return Err(IamError::delete_conflict("delete policies"));
        }
        if !self.attached.is_empty() {
            return Err(IamError::delete_conflict("detach all policies"));
        }
        Ok(())
    }
}

fn size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// A user, group or role: what inline and attached policies are kept on.
pub trait Principal: Serialize + DeserializeOwned {
    const ENTITY: Entity;
    /// How many characters of inline policy documents the entity may have in all.
    const INLINE_LIMIT: usize;
    fn key(name: &str) -> String;
    fn name(&self) -> &str;
    fn path(&self) -> &str;
    fn id(&self) -> &str;
    fn permissions(&self) -> &Permissions;
    fn permissions_mut(&mut self) -> &mut Permissions;
    /// Refuses changes callers may not make (to a service-linked role).
    fn check_modifiable(&self) -> Result<(), IamError> {
        Ok(())
    }
}

/// `iam/users/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user: User,
    #[serde(default)]
    pub permissions: Permissions,
    /// The groups the user is in, by name.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The user's access keys (records at `keys::access_key`).
    #[serde(default, rename = "accessKeys")]
    pub access_keys: Vec<String>,
}

impl UserRecord {
    /// A new user at `path` with unique id `id`.
    pub fn new(account: &str, path: &str, name: &str, id: String, now: Timestamp) -> Self {
        let user = User {
            path: path.to_string(),
            user_name: name.to_string(),
            user_id: id,
            arn: arn::of(account, Entity::User, path, name),
            create_date: now,
            password_last_used: None,
            permissions_boundary: None,
            tags: None,
        };
        UserRecord { user, permissions: Permissions::default(), groups: vec![], access_keys: vec![] }
    }

    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if !self.access_keys.is_empty() {
            return Err(IamError::delete_conflict("delete access keys"));
        }
        if !self.groups.is_empty() {
            return Err(IamError::delete_conflict("remove users from group"));
        }
        self.permissions.delete_conflict()
    }

    /// Adds a new access key's id, at most `MAX_ACCESS_KEYS`.
    pub fn add_access_key(&mut self, id: &str) -> Result<(), IamError> {
        if self.access_keys.len() >= MAX_ACCESS_KEYS {
            return Err(IamError::quota("AccessKeysPerUser", MAX_ACCESS_KEYS));
        }
        self.access_keys.push(id.to_string());
        Ok(())
    }

    /// The user's access key `id`, or NoSuchEntity.
    pub fn access_key(&self, id: &str) -> Result<(), IamError> {
        if self.access_keys.iter().any(|k| k == id) {
            return Ok(());
        }
        Err(IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found.")))
    }
}

impl Principal for UserRecord {
    const ENTITY: Entity = Entity::User;
    const INLINE_LIMIT: usize = 2048;
    fn key(name: &str) -> String {
        super::keys::user(name)
    }
    fn name(&self) -> &str {
        &self.user.user_name
    }
    fn path(&self) -> &str {
        &self.user.path
    }
    fn id(&self) -> &str {
        &self.user.user_id
    }
    fn permissions(&self) -> &Permissions {
        &self.permissions
    }
    fn permissions_mut(&mut self) -> &mut Permissions {
        &mut self.permissions
    }
}

/// `iam/groups/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub group: Group,
    #[serde(default)]
    pub permissions: Permissions,
    /// The group's users, by name.
    #[serde(default)]
    pub users: Vec<String>,
}

impl GroupRecord {
    pub fn new(account: &str, path: &str, name: &str, id: String, now: Timestamp) -> Self {
        let group = Group {
            path: path.to_string(),
            group_name: name.to_string(),
            group_id: id,
            arn: arn::of(account, Entity::Group, path, name),
            create_date: now,
        };
        GroupRecord { group, permissions: Permissions::default(), users: vec![] }
    }

    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if !self.users.is_empty() {
            return Err(IamError::delete_conflict("remove users from group"));
        }
        self.permissions.delete_conflict()
    }
}

impl Principal for GroupRecord {
    const ENTITY: Entity = Entity::Group;
    const INLINE_LIMIT: usize = 5120;
    fn key(name: &str) -> String {
        super::keys::group(name)
    }
    fn name(&self) -> &str {
        &self.group.group_name
    }
    fn path(&self) -> &str {
        &self.group.path
    }
    fn id(&self) -> &str {
        &self.group.group_id
    }
    fn permissions(&self) -> &Permissions {
        &self.permissions
    }
    fn permissions_mut(&mut self) -> &mut Permissions {
        &mut self.permissions
    }
}

/// `iam/roles/{name}`. The trust policy is `role.AssumeRolePolicyDocument`, as it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub role: Role,
    #[serde(default)]
    pub permissions: Permissions,
    /// The instance profiles holding the role, by name.
    #[serde(default, rename = "instanceProfiles")]
    pub instance_profiles: Vec<String>,
}

impl RoleRecord {
    /// A new role trusting whom `trust_policy` names, for an hour's sessions at most.
    pub fn new(account: &str, path: &str, name: &str, id: String, trust_policy: &str, now: Timestamp) -> Self {
        let role = Role {
            path: path.to_string(),
            role_name: name.to_string(),
            role_id: id,
            arn: arn::of(account, Entity::Role, path, name),
            create_date: now,
            assume_role_policy_document: Some(trust_policy.to_string()),
            description: None,
            max_session_duration: Some(3600),
            max_signin_session_duration: None,
            permissions_boundary: None,
            tags: None,
            role_last_used: None,
            source_role_template: None,
        };
        RoleRecord { role, permissions: Permissions::default(), instance_profiles: vec![] }
    }

    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if !self.instance_profiles.is_empty() {
            return Err(IamError::delete_conflict("remove roles from instance profile"));
        }
        self.permissions.delete_conflict()
    }

    /// A service-linked role (path `/aws-service-role/...`), which only its service changes.
    pub fn is_service_linked(&self) -> bool {
        self.role.path.starts_with("/aws-service-role/")
    }

    /// The role as GetRole answers it: the trust policy URL-encoded.
    pub fn shown(&self) -> Role {
        let mut role = self.role.clone();
        role.assume_role_policy_document = role.assume_role_policy_document.as_deref().map(document::url_encode);
        role
    }
}

impl Principal for RoleRecord {
    const ENTITY: Entity = Entity::Role;
    const INLINE_LIMIT: usize = 10240;
    fn check_modifiable(&self) -> Result<(), IamError> {
        if self.is_service_linked() {
            return Err(IamError::Unmodifiable(format!(
                "Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS",
                self.role.role_name
            )));
        }
        Ok(())
    }
    fn key(name: &str) -> String {
        super::keys::role(name)
    }
    fn name(&self) -> &str {
        &self.role.role_name
    }
    fn path(&self) -> &str {
        &self.role.path
    }
    fn id(&self) -> &str {
        &self.role.role_id
    }
    fn permissions(&self) -> &Permissions {
        &self.permissions
    }
    fn permissions_mut(&mut self) -> &mut Permissions {
        &mut self.permissions
    }
}

/// `iam/instance-profiles/{name}`: the profile (its `Roles` derived when shown) and the
/// name of the role it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceProfileRecord {
    #[serde(rename = "instanceProfile")]
    pub instance_profile: InstanceProfile,
    #[serde(default)]
    pub role: Option<String>,
}

impl InstanceProfileRecord {
    pub fn new(account: &str, path: &str, name: &str, id: String, now: Timestamp) -> Self {
        let instance_profile = InstanceProfile {
            path: path.to_string(),
            instance_profile_name: name.to_string(),
            instance_profile_id: id,
            arn: arn::of(account, Entity::InstanceProfile, path, name),
            create_date: now,
            roles: vec![],
            tags: None,
        };
        InstanceProfileRecord { instance_profile, role: None }
    }

    pub fn add_role(&mut self, role_name: &str) -> Result<(), IamError> {
        if self.role.is_some() {
            return Err(IamError::quota("InstanceSessionsPerInstanceProfile", MAX_PROFILE_ROLES));
        }
        self.role = Some(role_name.to_string());
        Ok(())
    }

    pub fn remove_role(&mut self, role_name: &str) -> Result<(), IamError> {
        match &self.role {
            Some(r) if r.eq_ignore_ascii_case(role_name) => {
                self.role = None;
                Ok(())
            }
            _ => Err(IamError::NoSuchEntity(format!(
                "The role with name {role_name} cannot be found in instance profile {}.",
                self.instance_profile.instance_profile_name
            ))),
        }
    }

    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if self.role.is_some() {
            return Err(IamError::delete_conflict("remove roles from instance profile"));
        }
        Ok(())
    }
}

/// One version of a customer managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    #[serde(rename = "versionId")]
    pub version_id: String,
    pub document: String,
    #[serde(rename = "createDate")]
    pub create_date: Timestamp,
}

/// `iam/policies/{name}`: a customer managed policy (`DefaultVersionId` and
/// `AttachmentCount` kept in the shape; attaching changes the count in the same
/// transaction as the entity, so a delete sees every attachment) and its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub policy: Policy,
    pub versions: Vec<VersionRecord>,
    /// The number of the next version (versions are never renumbered).
    #[serde(rename = "nextVersion")]
    pub next_version: u32,
}

impl PolicyRecord {
    /// A new policy whose first version, v1, is `document`.
    pub fn new(policy: Policy, document: &str, now: Timestamp) -> Self {
        let mut record = PolicyRecord { policy, versions: vec![], next_version: 1 };
        record.push_version(document, now);
        record.policy.default_version_id = Some("v1".into());
        record.policy.attachment_count = Some(0);
        record
    }

    pub fn arn(&self) -> &str {
        self.policy.arn.as_deref().unwrap_or_default()
    }

    fn push_version(&mut self, document: &str, now: Timestamp) -> String {
        let id = format!("v{}", self.next_version);
        self.next_version += 1;
        self.versions.push(VersionRecord { version_id: id.clone(), document: document.to_string(), create_date: now });
        id
    }

    /// Adds a version (the default one when `set_default`); at most `MAX_POLICY_VERSIONS`.
    pub fn add_version(
        &mut self,
        document: &str,
        set_default: bool,
        now: Timestamp,
    ) -> Result<PolicyVersion, IamError> {
        if self.versions.len() >= MAX_POLICY_VERSIONS {
            return Err(IamError::LimitExceeded(format!(
                "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new version, \
                 you must delete an existing version."
            )));
        }
        let id = self.push_version(document, now);
        if set_default {
            self.policy.default_version_id = Some(id.clone());
        }
        self.policy.update_date = Some(now);
        Ok(PolicyVersion {
            document: None,
            version_id: Some(id),
            is_default_version: Some(set_default),
            create_date: Some(now),
        })
    }

    fn no_such_version(&self, version_id: &str) -> IamError {
        IamError::NoSuchEntity(format!(
            "Policy {} version {version_id} does not exist or is not attachable.",
            self.arn()
        ))
    }

    /// The version `version_id` as GetPolicyVersion answers it (document URL-encoded).
    pub fn version(&self, version_id: &str) -> Result<PolicyVersion, IamError> {
        let v = self
            .versions
            .iter()
            .find(|v| v.version_id == version_id)
            .ok_or_else(|| self.no_such_version(version_id))?;
        Ok(self.shown(v, true))
    }

    /// Every version, newest first, as ListPolicyVersions answers (without documents).
    pub fn list_versions(&self) -> Vec<PolicyVersion> {
        self.versions.iter().rev().map(|v| self.shown(v, false)).collect()
    }

    fn shown(&self, v: &VersionRecord, with_document: bool) -> PolicyVersion {
        PolicyVersion {
            document: with_document.then(|| document::url_encode(&v.document)),
            version_id: Some(v.version_id.clone()),
            is_default_version: Some(self.policy.default_version_id.as_deref() == Some(v.version_id.as_str())),
            create_date: Some(v.create_date),
        }
    }

    /// The default version's document, as it was given.
    pub fn default_document(&self) -> Option<&str> {
        let default = self.policy.default_version_id.as_deref()?;
        self.versions.iter().find(|v| v.version_id == default).map(|v| v.document.as_str())
    }

    pub fn set_default(&mut self, version_id: &str, now: Timestamp) -> Result<(), IamError> {
        if !self.versions.iter().any(|v| v.version_id == version_id) {
            return Err(self.no_such_version(version_id));
        }
        self.policy.default_version_id = Some(version_id.to_string());
        self.policy.update_date = Some(now);
        Ok(())
    }

    pub fn delete_version(&mut self, version_id: &str) -> Result<(), IamError> {
        if !self.versions.iter().any(|v| v.version_id == version_id) {
            return Err(self.no_such_version(version_id));
        }
        if self.policy.default_version_id.as_deref() == Some(version_id) {
            return Err(IamError::DeleteConflict("Cannot delete the default version of a policy.".into()));
        }
        self.versions.retain(|v| v.version_id != version_id);
        Ok(())
    }

    pub fn attachment_count(&self) -> i32 {
        self.policy.attachment_count.unwrap_or(0)
    }

    /// Counts one attachment more (`delta` 1) or less (-1).
    pub fn count_attachment(&mut self, delta: i32) {
        self.policy.attachment_count = Some((self.attachment_count() + delta).max(0));
    }

    pub fn delete_conflict(&self) -> Result<(), IamError> {
        if self.attachment_count() > 0 {
            return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
        }
        if self.versions.len() > 1 {
            return Err(IamError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's \
                 versions. The default version is deleted with the policy."
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The access key metadata ListAccessKeys shows of `key`, for `user_name`.
pub fn access_key_metadata(key: &crate::records::AccessKeyRecord, user_name: &str) -> AccessKeyMetadata {
    AccessKeyMetadata {
        user_name: Some(user_name.to_string()),
        access_key_id: Some(key.access_key_id.clone()),
        status: Some(match key.status {
            crate::records::AccessKeyStatus::Active => super::statusType::Active,
            crate::records::AccessKeyStatus::Inactive => super::statusType::Inactive,
        }),
        create_date: Some(key.create_date),
    }
}

/// The name of the user an access key belongs to, from the ARN it acts as (`root` for
/// the account's root credential).
pub fn access_key_user_name(key: &crate::records::AccessKeyRecord) -> &str {
    if key.arn.ends_with(":root") { "root" } else { arn::name_of(&key.arn) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_record() -> PolicyRecord {
        let policy = Policy { arn: Some("arn:aws:iam::1:policy/p".into()), ..Default::default() };
        PolicyRecord::new(policy, "{}", Timestamp::now())
    }

    #[test]
    fn policy_versions_are_numbered_limited_and_guarded() {
        let mut p = policy_record();
        assert_eq!(p.policy.default_version_id.as_deref(), Some("v1"));
        for _ in 0..4 {
            p.add_version("{}", false, Timestamp::now()).unwrap();
        }
        assert!(matches!(p.add_version("{}", true, Timestamp::now()), Err(IamError::LimitExceeded(_))));
        assert!(matches!(p.delete_version("v1"), Err(IamError::DeleteConflict(_))));
        assert!(matches!(p.delete_version("v9"), Err(IamError::NoSuchEntity(_))));
        p.set_default("v3", Timestamp::now()).unwrap();
        p.delete_version("v1").unwrap();
        let v = p.add_version("{\"a\":1}", true, Timestamp::now()).unwrap();
        assert_eq!(v.version_id.as_deref(), Some("v6"));
        assert_eq!(p.default_document(), Some("{\"a\":1}"));
        let ids: Vec<_> = p.list_versions().into_iter().filter_map(|v| v.version_id).collect();
        assert_eq!(ids, ["v6", "v5", "v4", "v3", "v2"]);
        assert_eq!(p.version("v6").unwrap().document.as_deref(), Some("%7B%22a%22%3A1%7D"));
        assert!(matches!(p.delete_conflict(), Err(IamError::DeleteConflict(_))));
    }

    #[test]
    fn attachments_are_counted_and_block_deletes() {
        let mut p = policy_record();
        p.delete_conflict().unwrap();
        p.count_attachment(1);
        assert_eq!(
            p.delete_conflict(),
            Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()))
        );
        p.count_attachment(-1);
        p.count_attachment(-1);
        assert_eq!(p.attachment_count(), 0);
    }

    #[test]
    fn permissions_attach_once_and_limit_inline_size() {
        let mut perms = Permissions::default();
        assert!(perms.attach(Entity::Role, "arn:a").unwrap());
        assert!(!perms.attach(Entity::Role, "arn:a").unwrap());
        assert_eq!(perms.delete_conflict(), Err(IamError::delete_conflict("detach all policies")));
        for i in 1..MAX_ATTACHED {
            perms.attach(Entity::Role, &format!("arn:{i}")).unwrap();
        }
        assert_eq!(perms.attach(Entity::Role, "arn:x"), Err(IamError::quota("PoliciesPerRole", 10)));
        perms.detach("arn:a").unwrap();
        assert!(matches!(perms.detach("arn:a"), Err(IamError::NoSuchEntity(_))));
        let doc = "x".repeat(2000);
        perms.put_inline("u", Entity::User, "a", &doc, 2048).unwrap();
        perms.put_inline("u", Entity::User, "a", &doc, 2048).unwrap();
        assert!(matches!(perms.put_inline("u", Entity::User, "b", &doc, 2048), Err(IamError::LimitExceeded(_))));
        assert_eq!(
            perms.inline_policy(Entity::User, "nope"),
            Err(IamError::NoSuchEntity("The user policy with name nope cannot be found.".into()))
        );
    }

    #[test]
    fn instance_profiles_hold_one_role() {
        let mut r = InstanceProfileRecord::new("1", "/", "p", "AIPA".into(), Timestamp::now());
        assert_eq!(r.instance_profile.arn, "arn:aws:iam::1:instance-profile/p");
        r.add_role("a").unwrap();
        assert_eq!(r.add_role("b"), Err(IamError::quota("InstanceSessionsPerInstanceProfile", 1)));
        assert!(r.delete_conflict().is_err());
        assert!(r.remove_role("b").is_err());
        r.remove_role("A").unwrap();
        r.delete_conflict().unwrap();
    }
}
