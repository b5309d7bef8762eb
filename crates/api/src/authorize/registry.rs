//! The registry's gate (`berth_registry::access::Gate`): a pull or push is authorized as
//! ECR authorizes it, for the principal its token was issued to, on the repository's ARN,
//! with the repository's policy (SetRepositoryPolicy) as the resource-based policy.

use super::identity::Identity;
use super::{Facts, Target, check};
use crate::context::Api;
use crate::services::ecr::access::repository;
use berth_policy::{Policy, PolicyKind};
use berth_registry::access::{Gate, Question};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

/// Weak: the registry is the Api's, and must not keep it alive.
pub struct RegistryGate(pub Weak<Api>);

impl Gate for RegistryGate {
    fn allows<'a>(&'a self, question: Question<'a>) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let api: Arc<Api> = self.0.upgrade().ok_or("the server is shutting down")?;
            let principal = question.principal;
            let denied = || format!("User: {principal} is not authorized to perform: {}", question.action);
            let identity = Identity::of(principal).ok_or_else(denied)?;
            if matches!(identity, Identity::Root { .. }) {
                return Ok(());
            }
            let loaded = api.policies.get(&api.store, principal, &identity).await.map_err(|e| e.message)?;
            // SetRepositoryPolicy refuses documents that do not parse; one that no longer does
            // grants nothing.
            let policy = question.policy.and_then(|text| Policy::parse(text, PolicyKind::Resource).ok());
            let facts =
                Facts { source_ip: None, region: api.scope.region.clone(), now: time::OffsetDateTime::now_utc() };
            let target = Target::on(repository(&api.scope, question.repository));
            check(&loaded, question.action, &[target], &facts, policy.as_ref())
        })
    }
}
