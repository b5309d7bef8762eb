//! The policies that apply to a principal, loaded from the store and parsed once: a user's
//! inline and attached policies and those of its groups; a role's inline and attached ones.
//! Cached by principal ARN until anything under `iam/` changes: a store watch clears the cache
//! (changes made through any server sharing the store), and the front door clears it before
//! answering an IAM write of its own, so the caller's next request sees the change.

use super::identity::Identity;
use crate::error::AwsError;
use berth_model::iam::records::{GroupRecord, Permissions, PolicyRecord, RoleRecord, UserRecord};
use berth_model::iam::{Tag, arn, keys, managed};
use berth_policy::{Policy, PolicyKind, Principal};
use berth_store::{Store, documents};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// A principal with what policies need of it.
#[derive(Debug)]
pub struct Loaded {
    pub principal: Principal,
    /// `aws:userid`: the user's id, or `ROLEID:SESSION` for a role session.
    pub user_id: String,
    /// `aws:PrincipalTag/...`.
    pub tags: Vec<Tag>,
    pub policies: Vec<Policy>,
}

#[derive(Default)]
pub struct PolicyCache {
    // std RwLock: held for a map lookup or insert, never across an await.
    loaded: RwLock<HashMap<String, Arc<Loaded>>>,
    /// Bumped by every invalidation, so a load that raced one is not cached.
    generation: AtomicU64,
    watching: OnceLock<()>,
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
        self.watch(store);
        if let Some(hit) = self.loaded.read().unwrap_or_else(PoisonError::into_inner).get(arn) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = Arc::new(load(store.as_ref(), identity).await?);
        let mut cache = self.loaded.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::SeqCst) == generation {
            cache.insert(arn.to_string(), loaded.clone());
        }
        Ok(loaded)
    }

    /// Starts (once) the watch that clears the cache whenever `iam/` changes.
    fn watch(self: &Arc<Self>, store: &Arc<dyn Store>) {
        self.watching.get_or_init(|| {
            let wake = Arc::new(tokio::sync::Notify::new());
            tokio::spawn(berth_store::notify_on_changes(store.clone(), IAM, wake.clone()));
            let cache = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    wake.notified().await;
                    let Some(cache) = cache.upgrade() else { return };
                    cache.invalidate();
                }
            });
        });
    }
}

const IAM: &str = "iam/";

async fn load(store: &dyn Store, identity: &Identity<'_>) -> Result<Loaded, AwsError> {
    match *identity {
        Identity::User { account, path, name } => {
            let principal = Principal::user(account, path, name);
            let Some(user) = documents::get::<UserRecord>(store, &keys::user(name)).await? else {
                return Ok(Loaded { principal, user_id: String::new(), tags: vec![], policies: vec![] });
            };
            let user = user.value;
            let mut policies = parse(store, &user.permissions).await?;
            for group in &user.groups {
                if let Some(group) = documents::get::<GroupRecord>(store, &keys::group(group)).await? {
                    policies.extend(parse(store, &group.value.permissions).await?);
                }
            }
            Ok(Loaded { principal, user_id: user.user.user_id, tags: user.user.tags.unwrap_or_default(), policies })
        }
        Identity::Role { account, role, session } => {
            let Some(record) = documents::get::<RoleRecord>(store, &keys::role(role)).await? else {
                let principal = Principal::assumed_role(account, "/", role, session);
                return Ok(Loaded { principal, user_id: String::new(), tags: vec![], policies: vec![] });
            };
            let record = record.value;
            let principal = Principal::assumed_role(account, &record.role.path, role, session);
            let policies = parse(store, &record.permissions).await?;
            let user_id = format!("{}:{session}", record.role.role_id);
            Ok(Loaded { principal, user_id, tags: record.role.tags.unwrap_or_default(), policies })
        }
        Identity::Root { account } => {
            Ok(Loaded { principal: Principal::root(account), user_id: account.into(), tags: vec![], policies: vec![] })
        }
    }
}

/// An entity's inline documents and the default versions of its attached managed policies.
/// IAM checked each document when it was stored; one that no longer parses is left out (and
/// logged), which can only deny more.
async fn parse(store: &dyn Store, permissions: &Permissions) -> Result<Vec<Policy>, AwsError> {
    let mut documents: Vec<(String, String)> =
        permissions.inline.iter().map(|(name, doc)| (name.clone(), doc.clone())).collect();
    for attached in &permissions.attached {
        if let Some(aws) = managed::find(attached) {
            documents.push((attached.clone(), aws.document.to_string()));
        } else if let Some(policy) = arn::parse_policy(attached) {
            let record = documents::get::<PolicyRecord>(store, &keys::policy(policy.name)).await?;
            if let Some(doc) = record.as_ref().and_then(|r| r.value.default_document()) {
                documents.push((attached.clone(), doc.to_string()));
            }
        }
    }
    Ok(documents
        .into_iter()
        .filter_map(|(name, doc)| {
            Policy::parse(&doc, PolicyKind::Identity)
                .inspect_err(|e| tracing::warn!(policy = name, error = %e, "stored policy does not parse"))
                .ok()
        })
        .collect())
}
