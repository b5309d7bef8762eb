//! What every domain operation is given.

use crate::Heartbeats;
use berth_model::arn::Scope;
use berth_model::records::ContainerInstanceRecord;
use berth_store::Store;
use std::sync::Arc;

/// The store ECS's state lives in, the region and account its ARNs are written in, and
/// when each agent last polled. Cheap to clone; clones share the heartbeats.
#[derive(Clone)]
pub struct Ecs {
    pub store: Arc<dyn Store>,
    pub scope: Scope,
    pub heartbeats: Arc<Heartbeats>,
}

impl Ecs {
    pub fn new(store: Arc<dyn Store>, scope: Scope) -> Self {
        Ecs { store, scope, heartbeats: Arc::default() }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// agentConnected: the instance is not deregistered and its agent polled lately.
    pub fn connected(&self, rec: &ContainerInstanceRecord) -> bool {
        !rec.is_inactive()
            && rec.container_instance.container_instance_arn.as_deref().is_some_and(|a| self.heartbeats.connected(a))
    }
}
