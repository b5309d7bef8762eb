//! A service's desired count, changed the one way both UpdateService and Application
//! Auto Scaling change it: the service's count and its primary deployment's; the service
//! controller then starts or stops tasks and records ECS's events ("has started 1
//! tasks", "has stopped 1 running tasks"), as ECS does for either caller.

use crate::EcsError;
use berth_model::ecs::{SchedulingStrategy, Service};
use berth_model::keys;
use berth_model::records::ServiceRecord;
use berth_model::service::ACTIVE;
use berth_store::Store;
use berth_store::documents::{self, Change};

/// Sets `service`'s desired count to `n`.
pub fn apply(service: &mut Service, n: i32) {
    service.desired_count = Some(n);
    if let Some(primary) = service.deployments.iter_mut().flatten().next() {
        primary.desired_count = Some(n);
    }
}

/// The service's count before and after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub before: i32,
    pub after: i32,
}

/// Why a scaler could not set a service's desired count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such service, or it is not ACTIVE (draining or deleted).
    NotActive,
    /// A DAEMON service's count follows its instances.
    Daemon,
}

/// Sets the desired count of the service `cluster`/`name` with compare-and-swap, as a
/// scaler does; the service must be an ACTIVE replica service.
pub async fn set(store: &dyn Store, cluster: &str, name: &str, n: i32) -> Result<Result<Changed, Refused>, EcsError> {
    let n = n.max(0);
    documents::modify(store, &keys::service(cluster, name), |current: Option<ServiceRecord>| {
        let Some(mut rec) = current.filter(|r| r.service.status.as_deref() == Some(ACTIVE)) else {
            return Ok::<_, EcsError>((Change::Keep, Err(Refused::NotActive)));
        };
        if rec.service.scheduling_strategy == Some(SchedulingStrategy::Daemon) {
            return Ok((Change::Keep, Err(Refused::Daemon)));
        }
        let before = rec.service.desired_count.unwrap_or(0);
        if before == n {
            return Ok((Change::Keep, Ok(Changed { before, after: n })));
        }
        apply(&mut rec.service, n);
        Ok((Change::Put(rec), Ok(Changed { before, after: n })))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    async fn service(store: &MemoryStore, status: &str, desired: i32) {
        let rec = serde_json::json!({
            "service": {"serviceName": "web", "status": status, "desiredCount": desired,
                        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "desiredCount": desired}]},
            "finished": [], "tracking": {},
        });
        let rec: ServiceRecord = serde_json::from_value(rec).unwrap();
        store
            .txn(berth_store::Txn::new().put(keys::service("c", "web"), documents::encode(&rec).unwrap()))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn sets_the_service_and_its_primary_deployment() {
        let store = MemoryStore::new();
        service(&store, "ACTIVE", 1).await;
        assert_eq!(set(&store, "c", "web", 3).await.unwrap(), Ok(Changed { before: 1, after: 3 }));
        let rec = documents::get::<ServiceRecord>(&store, &keys::service("c", "web")).await.unwrap().unwrap().value;
        assert_eq!(rec.service.desired_count, Some(3));
        assert_eq!(rec.service.deployments.unwrap()[0].desired_count, Some(3));
        assert_eq!(set(&store, "c", "nope", 3).await.unwrap(), Err(Refused::NotActive));
        service(&store, "DRAINING", 0).await;
        assert_eq!(set(&store, "c", "web", 3).await.unwrap(), Err(Refused::NotActive));
    }
}
