//! The policies that apply to a principal, loaded from the store and parsed once: a user's
//! inline and attached policies and those of its groups; a role's inline and attached ones;
//! and the user's or role's permissions boundary.
//! Cached by principal ARN until anything under `iam/` changes: a store watch, established
//! before the first load, clears the cache (changes made through any server sharing the store),
//! and the front door clears it before answering an IAM write of its own, so the caller's next
//! request sees the change without waiting for the watch.

use super::identity::Identity;
use crate::error::AwsError;
use berth_model::iam::records::{GroupRecord, Permissions, PolicyRecord, RoleRecord, UserRecord};
use berth_model::iam::{AttachedPermissionsBoundary, Tag, arn, keys, managed};
use berth_policy::{Policy, PolicyKind, Principal};
use berth_store::{Store, documents};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// A principal with what policies need of it.
#[derive(Debug)]
pub struct Loaded {
    pub principal: Principal,
    /// `aws:userid`: the user's id, or `ROLEID:SESSION` for a role session.
    pub user_id: String,
    /// `aws:PrincipalTag/...`.
    pub tags: Vec<Tag>,
    pub policies: Vec<Policy>,
    /// The permissions boundary, when one is set (one whose policy is gone or no longer
    /// parses is an empty policy: it allows nothing).
    pub boundary: Option<Policy>,
    /// Whether a policy names `aws:ResourceTag/...`, so that the resources' tags must be read.
    pub reads_resource_tags: bool,
}

impl Loaded {
    fn new(principal: Principal, user_id: String, tags: Vec<Tag>, found: Found) -> Loaded {
        Loaded {
            principal,
            user_id,
            tags,
            policies: found.policies,
            boundary: found.boundary,
            reads_resource_tags: found.resource_tags,
        }
    }
}

/// The policies found for a principal so far.
#[derive(Default)]
struct Found {
    policies: Vec<Policy>,
    boundary: Option<Policy>,
    resource_tags: bool,
}

#[derive(Default)]
pub struct PolicyCache {
    // std RwLock: held for a map lookup or insert, never across an await.
    loaded: RwLock<HashMap<String, Arc<Loaded>>>,
    /// Bumped by every invalidation, so a load that raced one is not cached.
    generation: AtomicU64,
    watching: tokio::sync::OnceCell<bool>,
    /// Set when the watch ended: from then on nothing is cached.
    ended: AtomicBool,
}

impl PolicyCache {
    /// Forgets every principal's policies.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.loaded.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The policies of `identity` (not root), from the cache or the store.
    pub async fn get(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        arn: &str,
        identity: &Identity<'_>,
    ) -> Result<Arc<Loaded>, AwsError> {
        let cacheable = self.watch(store).await;
        if let Some(hit) = self.loaded.read().unwrap_or_else(PoisonError::into_inner).get(arn) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = Arc::new(load(store.as_ref(), identity).await?);
        let mut cache = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
        if cacheable && self.generation.load(Ordering::SeqCst) == generation {
            cache.insert(arn.to_string(), loaded.clone());
        }
        Ok(loaded)
    }

    /// Follows `iam/` (once, before the first load is cached): every change clears the cache.
    /// Whether the watch runs; if it could not start, or ended, nothing is cached.
    async fn watch(self: &Arc<Self>, store: &Arc<dyn Store>) -> bool {
        let started = self
            .watching
            .get_or_init(|| async {
                let events = match store.revision().await {
                    Ok(after) => store.watch(IAM, after).await,
                    Err(e) => Err(e),
                };
                let mut events = match events {
                    Ok(events) => events,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot watch iam/: policies are read on every request");
                        return false;
                    }
                };
                let cache = Arc::downgrade(self);
                tokio::spawn(async move {
                    while events.recv().await.is_some() {
                        let Some(cache) = cache.upgrade() else { return };
                        cache.invalidate();
                    }
                    if let Some(cache) = cache.upgrade() {
                        tracing::warn!("the watch on iam/ ended: policies are read on every request");
                        cache.ended.store(true, Ordering::SeqCst);
                        cache.invalidate();
                    }
                });
                true
            })
            .await;
        *started && !self.ended.load(Ordering::SeqCst)
    }
}

const IAM: &str = "iam/";

async fn load(store: &dyn Store, identity: &Identity<'_>) -> Result<Loaded, AwsError> {
    let mut found = Found::default();
    match *identity {
        Identity::User { account, path, name } => {
            let principal = Principal::user(account, path, name);
            let Some(user) = documents::get::<UserRecord>(store, &keys::user(name)).await? else {
                return Ok(Loaded::new(principal, String::new(), vec![], found));
            };
            let user = user.value;
            parse(store, &user.permissions, &mut found).await?;
            bound(store, user.user.permissions_boundary.as_ref(), &mut found).await?;
            for group in &user.groups {
                if let Some(group) = documents::get::<GroupRecord>(store, &keys::group(group)).await? {
                    parse(store, &group.value.permissions, &mut found).await?;
                }
            }
            Ok(Loaded::new(principal, user.user.user_id, user.user.tags.unwrap_or_default(), found))
        }
        Identity::Role { account, role, session } => {
            let Some(record) = documents::get::<RoleRecord>(store, &keys::role(role)).await? else {
                let principal = Principal::assumed_role(account, "/", role, session);
                return Ok(Loaded::new(principal, String::new(), vec![], found));
            };
            let record = record.value;
            let principal = Principal::assumed_role(account, &record.role.path, role, session);
            parse(store, &record.permissions, &mut found).await?;
            bound(store, record.role.permissions_boundary.as_ref(), &mut found).await?;
            let user_id = format!("{}:{session}", record.role.role_id);
            Ok(Loaded::new(principal, user_id, record.role.tags.unwrap_or_default(), found))
        }
        Identity::Root { account } => Ok(Loaded::new(Principal::root(account), account.into(), vec![], found)),
    }
}

/// An entity's inline documents and the default versions of its attached managed policies.
/// IAM checked each document when it was stored; one that no longer parses is left out (and
/// logged), which can only deny more.
async fn parse(store: &dyn Store, permissions: &Permissions, found: &mut Found) -> Result<(), AwsError> {
    let mut documents: Vec<(String, String)> =
        permissions.inline.iter().map(|(name, doc)| (name.clone(), doc.clone())).collect();
    for attached in &permissions.attached {
        if let Some(doc) = managed_document(store, attached).await? {
            documents.push((attached.clone(), doc));
        }
    }
    for (name, doc) in documents {
        if let Some(policy) = parse_one(&name, &doc, found) {
            found.policies.push(policy);
        }
    }
    Ok(())
}

/// The permissions boundary `attached` names, as `found.boundary`.
async fn bound(
    store: &dyn Store,
    attached: Option<&AttachedPermissionsBoundary>,
    found: &mut Found,
) -> Result<(), AwsError> {
    let Some(policy_arn) = attached.and_then(|b| b.permissions_boundary_arn.as_deref()) else { return Ok(()) };
    let doc = managed_document(store, policy_arn).await?;
    let policy = doc.and_then(|doc| parse_one(policy_arn, &doc, found));
    found.boundary = Some(policy.unwrap_or_else(|| {
        tracing::warn!(policy = policy_arn, "permissions boundary not found: it allows nothing");
        Policy::empty()
    }));
    Ok(())
}

/// The default version's document of the AWS or customer managed policy `policy_arn`.
async fn managed_document(store: &dyn Store, policy_arn: &str) -> Result<Option<String>, AwsError> {
    if let Some(aws) = managed::find(policy_arn) {
        return Ok(Some(aws.document.to_string()));
    }
    let Some(policy) = arn::parse_policy(policy_arn) else { return Ok(None) };
    let record = documents::get::<PolicyRecord>(store, &keys::policy(policy.name)).await?;
    Ok(record.as_ref().and_then(|r| r.value.default_document()).map(str::to_string))
}

/// A stored identity document, parsed (`None`, logged, when it no longer parses).
fn parse_one(name: &str, doc: &str, found: &mut Found) -> Option<Policy> {
    found.resource_tags |= doc.to_ascii_lowercase().contains("aws:resourcetag/");
    Policy::parse(doc, PolicyKind::Identity)
        .inspect_err(|e| tracing::warn!(policy = name, error = %e, "stored policy does not parse"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::Timestamp;
    use berth_model::iam::records::GroupRecord;
    use berth_store::{MemoryStore, Txn};

    const READ: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:List*","Resource":"*"}}"#;
    const BOB: &str = "arn:aws:iam::123456789012:user/bob";

    async fn put<T: serde::Serialize>(store: &dyn Store, key: &str, value: &T) {
        store.txn(Txn::new().put(key, documents::encode(value).unwrap())).await.unwrap();
    }

    fn bob() -> UserRecord {
        let mut user = UserRecord::new("123456789012", "/", "bob", "AIDABOB".into(), Timestamp::now());
        user.permissions.inline.insert("read".into(), READ.into());
        user.permissions.attached.push("arn:aws:iam::aws:policy/AdministratorAccess".into());
        user.groups.push("ops".into());
        user
    }

    #[tokio::test]
    async fn loads_inline_attached_and_group_policies() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        put(store.as_ref(), &keys::user("bob"), &bob()).await;
        let mut ops = GroupRecord::new("123456789012", "/", "ops", "AGPAOPS".into(), Timestamp::now());
        ops.permissions.inline.insert(
            "tagged".into(),
            READ.replace("*\"}", "*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/a\":\"b\"}}}"),
        );
        put(store.as_ref(), &keys::group("ops"), &ops).await;
        let cache = Arc::new(PolicyCache::default());
        let loaded = cache.get(&store, BOB, &Identity::of(BOB).unwrap()).await.unwrap();
        assert_eq!(loaded.policies.len(), 3);
        assert_eq!(loaded.user_id, "AIDABOB");
        assert!(loaded.reads_resource_tags);
        assert_eq!(loaded.principal.arn(), BOB);
    }

    #[tokio::test]
    async fn a_change_under_iam_clears_the_cache() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        put(store.as_ref(), &keys::user("bob"), &bob()).await;
        let cache = Arc::new(PolicyCache::default());
        let identity = Identity::of(BOB).unwrap();
        let first = cache.get(&store, BOB, &identity).await.unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get(&store, BOB, &identity).await.unwrap()), "cached");
        let mut changed = bob();
        changed.permissions.inline.clear();
        put(store.as_ref(), &keys::user("bob"), &changed).await;
        // The watch clears the cache once it has seen the change.
        let mut now = cache.get(&store, BOB, &identity).await.unwrap();
        for _ in 0..500 {
            if now.policies.len() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            now = cache.get(&store, BOB, &identity).await.unwrap();
        }
        assert_eq!(now.policies.len(), 1);
    }

    #[tokio::test]
    async fn a_boundary_is_loaded_and_a_missing_one_allows_nothing() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut user = bob();
        user.user.permissions_boundary = Some(AttachedPermissionsBoundary {
            permissions_boundary_type: None,
            permissions_boundary_arn: Some("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
        });
        put(store.as_ref(), &keys::user("bob"), &user).await;
        let cache = Arc::new(PolicyCache::default());
        let identity = Identity::of(BOB).unwrap();
        let loaded = cache.get(&store, BOB, &identity).await.unwrap();
        assert!(loaded.boundary.as_ref().is_some_and(|b| *b != Policy::empty()));
        user.user.permissions_boundary = Some(AttachedPermissionsBoundary {
            permissions_boundary_type: None,
            permissions_boundary_arn: Some("arn:aws:iam::123456789012:policy/gone".into()),
        });
        put(store.as_ref(), &keys::user("bob"), &user).await;
        cache.invalidate();
        assert_eq!(cache.get(&store, BOB, &identity).await.unwrap().boundary, Some(Policy::empty()));
    }

    #[tokio::test]
    async fn invalidating_forgets_at_once_and_a_missing_user_has_no_policies() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let cache = Arc::new(PolicyCache::default());
        let identity = Identity::of(BOB).unwrap();
        assert!(cache.get(&store, BOB, &identity).await.unwrap().policies.is_empty());
        put(store.as_ref(), &keys::user("bob"), &bob()).await;
        cache.invalidate();
        assert_eq!(cache.get(&store, BOB, &identity).await.unwrap().policies.len(), 2);
    }
}
