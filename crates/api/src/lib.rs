//! berth's HTTP front door: the AWS protocols, one error model, and one module per
//! AWS service. Handlers are thin: they decode a typed input, apply the pure rules of
//! `berth-model` or call ECS's domain operations (`berth-ecs`), commit through the
//! `Store`, and encode a typed output.
#![forbid(unsafe_code)]

pub mod auth;
mod authorize;
mod context;
pub mod error;
mod front_door;
pub mod in_process;
mod instance_changes;
pub mod listener;
pub mod protocol;
mod route;
mod services;

pub use context::{Api, Caller, Ctx};
pub use front_door::MAX_BODY;

use std::sync::Arc;

/// Creates the ECS cluster `name` as the account's root unless it is ACTIVE already:
/// `berth up` makes `default` exist before it answers its first request.
pub async fn ensure_cluster(api: &Arc<Api>, name: &str) -> Result<(), error::AwsError> {
    let account = api.scope.account.clone();
    let ctx = Ctx {
        api: api.clone(),
        caller: Caller {
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.clone(),
            account,
            access_key_id: None,
        },
        request_id: uuid::Uuid::new_v4().to_string(),
        host: None,
    };
    let request = berth_model::ecs::CreateClusterRequest { cluster_name: Some(name.into()), ..Default::default() };
    services::ecs::clusters::create(ctx, request).await.map(drop)
}

/// The router serving every AWS API on one port.
/// With a registry attached, its OCI distribution endpoints (`/v2/...`) are served too.
pub fn router(api: Arc<Api>) -> axum::Router {
    let registry = api.registry().cloned();
    if let Some(registry) = &registry {
        registry.guard(Arc::new(authorize::registry::RegistryGate(Arc::downgrade(&api))));
    }
    let router = axum::Router::new().fallback(front_door::handle).with_state(api);
    match registry {
        Some(registry) => router.merge(berth_registry::http::router(registry)),
        None => router,
    }
}
