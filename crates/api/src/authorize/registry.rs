//! The registry's gate (`berth_registry::access::Gate`): a pull or push is authorized as
//! ECR authorizes it, for the principal its token was issued to, on the repository's ARN,
//! with the repository's policy (SetRepositoryPolicy) as the resource-based policy.

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
            // SetRepositoryPolicy refuses documents that do not parse; one that no longer does
            // grants nothing.
            let policy = question.policy.and_then(|text| Policy::parse(text, PolicyKind::Resource).ok());
            let resource = repository(&api.scope, question.repository);
            super::may(&api, question.principal, question.action, &resource, policy.as_ref()).await
        })
    }
}
