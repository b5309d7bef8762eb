//! Tasks of a capacity provider strategy: each task's provider (berth-model's split by
//! base and weight), placed only on the container instances whose EC2 instance belongs
//! to that provider's Auto Scaling group, or (FARGATE, FARGATE_SPOT) on the cluster's
//! Fargate pool agents; a task that does not fit waits in PROVISIONING.

use super::commit::{Decisions, Placed};
use crate::{Ecs, EcsError};
use berth_model::autoscaling::AutoScalingGroupRecord;
use berth_model::capacity_provider::CapacityProviderRecord;
use berth_model::ecs::CapacityProviderStrategyItem;
use berth_model::{fargate, keys};
use berth_scheduler::{Demand, InstanceSnapshot, Policy};
use berth_store::documents;
use std::collections::{BTreeMap, BTreeSet};

/// Provider name → the EC2 instance ids in its group (those not leaving it); for
/// Fargate's providers, the ids the cluster's pool agents registered with.
pub type Members = BTreeMap<String, BTreeSet<String>>;

/// The group members of each provider of `strategy` in `cluster`.
pub async fn members(ecs: &Ecs, cluster: &str, strategy: &[CapacityProviderStrategyItem]) -> Result<Members, EcsError> {
    let mut out = Members::new();
    for item in strategy {
        let name = &item.capacity_provider;
        if berth_model::capacity_provider::is_built_in(name) {
            let pool = crate::load::all_instances(ecs, cluster).await?;
            let ids = pool
                .into_iter()
                .filter(|d| fargate::is_pool(&d.value) && d.value.is_active())
                .filter_map(|d| d.value.container_instance.ec2_instance_id)
                .collect();
            out.insert(name.clone(), ids);
            continue;
        }
        let Some(provider) =
            documents::get::<CapacityProviderRecord>(ecs.store(), &keys::capacity_provider(name)).await?
        else {
            continue;
        };
        let group = documents::get::<AutoScalingGroupRecord>(
            ecs.store(),
            &berth_model::autoscaling::keys::group(&provider.value.group_name),
        )
        .await?;
        let ids = group
            .map(|g| g.value.instances.iter().filter(|i| i.in_capacity()).map(|i| i.instance_id.clone()).collect())
            .unwrap_or_default();
        out.insert(name.clone(), ids);
    }
    Ok(out)
}

/// Places one task of `demand` per entry of `providers` (each task's provider), each on
/// its provider's instances only; what does not fit waits (PROVISIONING). Tasks of one
/// provider are placed together, so spread strategies see them all.
pub(super) fn place(
    snapshots: &mut [InstanceSnapshot],
    demand: &Demand,
    policy: &Policy,
    providers: &[String],
    members: &Members,
) -> Decisions {
    let active: Vec<bool> = snapshots.iter().map(|s| s.active).collect();
    let mut out = Decisions::new();
    for (provider, n) in berth_model::capacity_provider::split::tally(providers) {
        let mine = members.get(&provider);
        for (s, was) in snapshots.iter_mut().zip(&active) {
            s.active = *was && mine.is_some_and(|m| m.contains(&s.ec2_instance_id));
        }
        let demands = vec![demand.clone(); n as usize];
        for result in berth_scheduler::place_in(snapshots, &demands, policy) {
            let on = result.ok().map(|p| (p.instance, p.gpus));
            out.push(Ok(Placed { on, provider: Some(provider.clone()) }));
        }
    }
    for (s, was) in snapshots.iter_mut().zip(active) {
        s.active = was;
    }
    out
}

/// Takes the hosts' Fargate pool agents out of an EC2 placement (they run Fargate tasks only).
pub(super) fn ec2_only(snapshots: &mut [InstanceSnapshot]) {
    for s in snapshots.iter_mut() {
        if s.attributes.contains_key(fargate::POOL_ATTRIBUTE) {
            s.active = false;
        }
    }
}
