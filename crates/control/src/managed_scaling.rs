//! ECS managed scaling, managed termination protection and the PROVISIONING placer: a
//! control loop over every cluster's Auto Scaling group capacity providers.
//!
//! Each pass, for every ACTIVE cluster: its waiting (PROVISIONING) tasks are placed on
//! their providers' instances if they fit now (`berth_ecs::launch::provisioning`); then
//! for each provider with managed scaling, the group's members are read as managed
//! scaling sees them (busy with a task other than a daemon's, room left, launched when,
//! empty since when), `berth_model::capacity_provider::scaling::decide` computes the
//! CapacityProviderReservation and the group's desired capacity, and the group is changed
//! through berth-autoscaling (scale-out by desired capacity; scale-in by terminating the
//! chosen empty instances, decrementing the desired capacity, after setting their
//! container instances DRAINING when managed draining is on). With managed termination
//! protection, instances running tasks are protected from scale-in and the others not.
//! Container instances of a provider's group get its `capacityProviderName`. Everything
//! is read from the store each pass, so a restart carries on.

use berth_ecs::Ecs;
use berth_ecs::launch::provisioning;
use berth_model::autoscaling::{AutoScalingGroupRecord, GroupInstance, PutScalingPolicyType};
use berth_model::capacity_provider::CapacityProviderRecord;
use berth_model::capacity_provider::scaling::{self, Member, Need};
use berth_model::ecs::{Cluster, ManagedDraining, SchedulingStrategy};
use berth_model::records::{ContainerInstanceRecord, ServiceRecord, TaskRecord};
use berth_model::task_lifecycle::TaskStatus;
use berth_model::{Timestamp, demand, keys};
use berth_store::documents::{self, Change, Doc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// The loop's settings (server flags).
#[derive(Debug, Clone)]
pub struct Settings {
    pub tick: Duration,
    /// How long an instance is empty before it may be scaled in (ECS: about 15 minutes).
    pub scale_in_after: Duration,
    /// How long a task may wait in PROVISIONING (ECS: 30 minutes).
    pub provisioning_timeout: Duration,
}

/// ECS's scale-in delay: an instance empty for 15 minutes.
pub const DEFAULT_SCALE_IN_AFTER: Duration = Duration::from_secs(15 * 60);

pub use provisioning::DEFAULT_TIMEOUT as DEFAULT_PROVISIONING_TIMEOUT;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs forever: one pass every tick.
pub async fn run(ecs: Ecs, settings: Settings) {
    loop {
        if let Err(e) = pass(&ecs, &settings).await {
            tracing::warn!(error = %e, "managed scaling pass failed");
        }
        tokio::time::sleep(settings.tick).await;
    }
}

/// One pass over every ACTIVE cluster.
pub async fn pass(ecs: &Ecs, settings: &Settings) -> Result<(), Failure> {
    let clusters = documents::list_decodable::<Cluster>(ecs.store(), keys::CLUSTERS).await?;
    for cluster in clusters.into_iter().map(|d| d.value).filter(Cluster::is_active) {
        let name = cluster.cluster_name.clone().unwrap_or_default();
        provisioning::place_waiting(ecs, &name, settings.provisioning_timeout).await?;
        for provider in cluster.capacity_providers.iter().flatten() {
            if berth_model::capacity_provider::is_built_in(provider) {
                continue;
            }
            if let Err(e) = scale(ecs, &name, provider, settings).await {
                tracing::warn!(cluster = %name, provider = %provider, error = %e, "managed scaling step failed");
            }
        }
    }
    Ok(())
}

/// What managed scaling reads of one cluster.
struct ClusterTasks {
    /// Container instance id → it runs a task that is not a daemon's.
    busy: BTreeSet<String>,
    /// The waiting tasks of each provider.
    waiting: BTreeMap<String, Vec<Need>>,
}

async fn cluster_tasks(ecs: &Ecs, cluster: &str) -> Result<ClusterTasks, Failure> {
    let services = documents::list_decodable::<ServiceRecord>(ecs.store(), &keys::services_of(cluster)).await?;
    let daemons: BTreeSet<String> = services
        .iter()
        .filter(|d| d.value.service.scheduling_strategy == Some(SchedulingStrategy::Daemon))
        .filter_map(|d| d.value.service.service_name.as_deref().map(berth_model::service::group))
        .collect();
    let tasks: Vec<Doc<TaskRecord>> = berth_ecs::load::tasks(ecs, cluster).await?;
    let mut out = ClusterTasks { busy: BTreeSet::new(), waiting: BTreeMap::new() };
    let mut gpus_of: HashMap<String, i64> = HashMap::new();
    for rec in tasks.iter().map(|d| &d.value) {
        if TaskStatus::of(&rec.task) == TaskStatus::Stopped {
            continue;
        }
        if provisioning::is_waiting(rec) {
            let Some(provider) = rec.task.capacity_provider_name.clone() else { continue };
            let td = rec.task.task_definition_arn.clone().unwrap_or_default();
            let gpus = match gpus_of.get(&td) {
                Some(n) => *n,
                None => {
                    let def = berth_ecs::task_definitions::runnable(ecs, &td, true).await?.task_definition;
                    let n = demand::gpus(&def, rec.task.overrides.as_ref()).iter().map(|(_, n)| i64::from(*n)).sum();
                    gpus_of.insert(td, n);
                    n
                }
            };
            let need = Need { cpu: rec.placement.reserved.cpu, memory: rec.placement.reserved.memory, gpus };
            out.waiting.entry(provider).or_default().push(need);
        } else if !rec.task.group.as_ref().is_some_and(|g| daemons.contains(g)) {
            out.busy.insert(rec.placement.container_instance_id.clone());
        }
    }
    Ok(out)
}

/// What one container instance offers for new tasks: registered less reserved.
fn room(ci: &ContainerInstanceRecord) -> Need {
    let reserved = ci.reserved();
    Need {
        cpu: ci.registered.cpu - reserved.cpu,
        memory: ci.registered.memory - reserved.memory,
        gpus: i64::try_from(ci.gpus.len()).unwrap_or(0) - i64::try_from(reserved.gpus.len()).unwrap_or(0),
    }
}

/// A whole instance as a container instance of the group registered it.
fn whole(ci: &ContainerInstanceRecord) -> Need {
    Need { cpu: ci.registered.cpu, memory: ci.registered.memory, gpus: i64::try_from(ci.gpus.len()).unwrap_or(0) }
}

/// The group's members as managed scaling sees them (pure): each instance in the
/// group's capacity with its container instance (when it has joined), whether it runs a
/// task that is not a daemon's, its room (a whole `size` while it has not joined), and
/// since when it has been empty (kept from `empty_since`, else now).
pub(crate) fn members(
    group: &[GroupInstance],
    joined: &HashMap<String, &ContainerInstanceRecord>,
    busy: &BTreeSet<String>,
    size: Need,
    empty_since: &BTreeMap<String, Timestamp>,
    now: Timestamp,
) -> Vec<Member> {
    group
        .iter()
        .filter(|g| g.in_capacity())
        .map(|g| {
            let ci = joined.get(&g.instance_id).filter(|c| !c.is_inactive());
            let is_busy = ci.is_some_and(|c| busy.contains(&c.id()));
            Member {
                instance_id: g.instance_id.clone(),
                busy: is_busy,
                room: ci
                    .filter(|c| c.is_active())
                    .map_or(if ci.is_some() { Need::default() } else { size }, |c| room(c)),
                launched_at: g.launched_at.as_secs_f64(),
                empty_since: (!is_busy).then(|| empty_since.get(&g.instance_id).copied().unwrap_or(now).as_secs_f64()),
                protected: g.protected_from_scale_in,
            }
        })
        .collect()
}

/// One provider's step.
async fn scale(ecs: &Ecs, cluster: &str, provider: &str, settings: &Settings) -> Result<(), Failure> {
    let Some(doc) = documents::get::<CapacityProviderRecord>(ecs.store(), &keys::capacity_provider(provider)).await?
    else {
        return Ok(());
    };
    let rec = doc.value;
    if !rec.is_active() {
        return Ok(());
    }
    let Some(group) =
        documents::get::<AutoScalingGroupRecord>(ecs.store(), &berth_model::autoscaling::keys::group(&rec.group_name))
            .await?
            .map(|d| d.value)
    else {
        return Ok(());
    };
    if group.is_deleting() {
        return Ok(());
    }
    let instances = berth_ecs::load::instances(ecs, cluster).await?;
    let in_group: BTreeSet<&str> = group.instances.iter().map(|g| g.instance_id.as_str()).collect();
    let joined: HashMap<String, &ContainerInstanceRecord> = instances
        .iter()
        .map(|d| &d.value)
        .filter_map(|c| Some((c.container_instance.ec2_instance_id.clone()?, c)))
        .filter(|(id, _)| in_group.contains(id.as_str()))
        .collect();
    label_instances(ecs, cluster, provider, &joined).await?;

    let tasks = cluster_tasks(ecs, cluster).await?;
    let now = Timestamp::now();
    let size = match joined.values().find(|c| !c.is_inactive()) {
        Some(c) => Some(whole(c)),
        None => type_size(ecs, &group).await?,
    };
    let Some(size) = size else { return Ok(()) };
    let members = members(&group.instances, &joined, &tasks.busy, size, &rec.empty_since, now);

    if rec.termination_protection() {
        protect(ecs, &group, &members).await?;
    }
    let waiting = tasks.waiting.get(provider).map(Vec::as_slice).unwrap_or_default();
    let scaling_cfg = rec.managed_scaling();
    if rec.scaling_enabled() {
        ensure_policy(ecs, cluster, &rec, &group).await?;
        let decision = scaling::decide(&scaling::Inputs {
            members: &members,
            waiting,
            instance_type: size,
            target_capacity: scaling_cfg.target_capacity.unwrap_or(100),
            min_step: scaling_cfg.minimum_scaling_step_size.unwrap_or(1),
            max_step: scaling_cfg.maximum_scaling_step_size.unwrap_or(10_000),
            warmup_secs: f64::from(scaling_cfg.instance_warmup_period.unwrap_or(300)),
            scale_in_after_secs: settings.scale_in_after.as_secs_f64(),
            group_min: group.min_size,
            group_max: group.max_size,
            desired: group.desired_capacity,
            now: now.as_secs_f64(),
        });
        if decision.desired > group.desired_capacity {
            tracing::info!(
                provider,
                from = group.desired_capacity,
                to = decision.desired,
                reservation = decision.reservation,
                "managed scaling: scale out"
            );
            berth_autoscaling::set_desired_capacity(ecs.store(), &group.name, decision.desired, false).await?;
        } else if !decision.scale_in.is_empty() {
            tracing::info!(provider, instances = ?decision.scale_in, reservation = decision.reservation, "managed scaling: scale in");
            let draining = rec.provider.auto_scaling_group_provider.as_ref().and_then(|g| g.managed_draining)
                != Some(ManagedDraining::Disabled);
            for id in &decision.scale_in {
                if draining && let Some(ci) = joined.get(id) {
                    drain(ecs, cluster, &ci.id()).await?;
                }
                berth_autoscaling::groups::terminate_instance(ecs.store(), id, true, uuid::Uuid::new_v4().to_string())
                    .await?;
            }
        }
        record(ecs, provider, &members, decision.reservation).await?;
    }
    Ok(())
}

/// A whole instance of the group's type, from EC2's instance type table (before any
/// instance of the group has joined the cluster): the type of its instances, else its
/// launch template's.
async fn type_size(ecs: &Ecs, group: &AutoScalingGroupRecord) -> Result<Option<Need>, Failure> {
    let mut name = group.instances.iter().find_map(|g| g.instance_type.clone());
    if name.is_none()
        && let Some(spec) = &group.launch_template
    {
        let which = berth_ec2::resolve::TemplateName {
            id: spec.launch_template_id.clone(),
            name: spec.launch_template_name.clone().filter(|_| spec.launch_template_id.is_none()),
        };
        if let Ok(template) = berth_ec2::resolve::launch_template(ecs.store(), &which).await
            && let Ok(version) = berth_ec2::resolve::template_version(&template.value, spec.version.as_deref())
        {
            name = version.data.get("InstanceType").and_then(|t| t.as_str()).map(String::from);
        }
    }
    let Some(t) = name.as_deref().and_then(berth_model::ec2::instance_types::lookup) else { return Ok(None) };
    Ok(Some(Need {
        cpu: i64::from(t.vcpus) * 1024,
        memory: i64::try_from(t.memory_mib).unwrap_or(i64::MAX),
        gpus: t.gpus.as_ref().map_or(0, |g| i64::from(g.count)),
    }))
}

/// Gives the group's container instances the provider's name, as ECS shows it.
async fn label_instances(
    ecs: &Ecs,
    cluster: &str,
    provider: &str,
    joined: &HashMap<String, &ContainerInstanceRecord>,
) -> Result<(), Failure> {
    for ci in joined.values().filter(|c| c.container_instance.capacity_provider_name.as_deref() != Some(provider)) {
        documents::modify(ecs.store(), &keys::instance(cluster, &ci.id()), |c: Option<ContainerInstanceRecord>| {
            let Some(mut c) = c else { return Ok::<_, berth_store::documents::DocumentError>((Change::Keep, ())) };
            c.container_instance.capacity_provider_name = Some(provider.to_string());
            Ok((Change::Put(c), ()))
        })
        .await?;
    }
    Ok(())
}

/// Managed termination protection: busy instances protected from scale-in, empty ones not.
async fn protect(ecs: &Ecs, group: &AutoScalingGroupRecord, members: &[Member]) -> Result<(), Failure> {
    for want in [true, false] {
        let ids: Vec<String> =
            members.iter().filter(|m| m.busy == want && m.protected != want).map(|m| m.instance_id.clone()).collect();
        if !ids.is_empty() {
            berth_autoscaling::set_instance_protection(ecs.store(), &group.name, &ids, want).await?;
        }
    }
    Ok(())
}

/// ECS's target tracking policy on the group: CapacityProviderReservation (namespace
/// AWS/ECS/ManagedScaling, by cluster and provider) kept at targetCapacity.
async fn ensure_policy(
    ecs: &Ecs,
    cluster: &str,
    rec: &CapacityProviderRecord,
    group: &AutoScalingGroupRecord,
) -> Result<(), Failure> {
    let Some(name) = &rec.policy_name else { return Ok(()) };
    if group.policies.iter().any(|p| p.policy_name.as_deref() == Some(name.as_str())) {
        return Ok(());
    }
    let target = f64::from(rec.managed_scaling().target_capacity.unwrap_or(100));
    let input: PutScalingPolicyType = serde_json::from_value(serde_json::json!({
        "AutoScalingGroupName": group.name,
        "PolicyName": name,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingConfiguration": {
            "CustomizedMetricSpecification": {
                "MetricName": "CapacityProviderReservation",
                "Namespace": "AWS/ECS/ManagedScaling",
                "Dimensions": [
                    {"Name": "CapacityProviderName", "Value": rec.name()},
                    {"Name": "ClusterName", "Value": cluster},
                ],
                "Statistic": "Average",
            },
            "TargetValue": target,
            "DisableScaleIn": false,
        },
    }))?;
    berth_autoscaling::put_scaling_policy(ecs.store(), ecs.scope(), &input).await?;
    Ok(())
}

/// Sets a container instance DRAINING (managed draining) before its instance goes.
async fn drain(ecs: &Ecs, cluster: &str, id: &str) -> Result<(), Failure> {
    documents::modify(ecs.store(), &keys::instance(cluster, id), |c: Option<ContainerInstanceRecord>| {
        let Some(mut c) = c.filter(|c| c.is_active()) else {
            return Ok::<_, berth_store::documents::DocumentError>((Change::Keep, ()));
        };
        c.container_instance.status = Some(ContainerInstanceRecord::DRAINING.into());
        c.bump();
        Ok((Change::Put(c), ()))
    })
    .await?;
    Ok(())
}

/// Keeps the empty-since times and the last reservation on the provider.
async fn record(ecs: &Ecs, provider: &str, members: &[Member], reservation: f64) -> Result<(), Failure> {
    let empty: BTreeMap<String, Timestamp> =
        members.iter().filter_map(|m| Some((m.instance_id.clone(), Timestamp(m.empty_since?)))).collect();
    documents::modify(ecs.store(), &keys::capacity_provider(provider), |c: Option<CapacityProviderRecord>| {
        let Some(mut c) = c else { return Ok::<_, berth_store::documents::DocumentError>((Change::Keep, ())) };
        if c.empty_since == empty && c.last_reservation == Some(reservation) {
            return Ok((Change::Keep, ()));
        }
        c.empty_since = empty.clone();
        c.last_reservation = Some(reservation);
        Ok((Change::Put(c), ()))
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::autoscaling::LifecycleState;
    use berth_model::demand::Resources;
    use berth_model::ecs::ContainerInstance;

    fn gi(id: &str, state: LifecycleState) -> GroupInstance {
        GroupInstance {
            instance_id: id.into(),
            instance_type: Some("g4dn.xlarge".into()),
            availability_zone: "us-east-1a".into(),
            subnet_id: None,
            lifecycle_state: state,
            health_status: "Healthy".into(),
            protected_from_scale_in: false,
            launch_template: None,
            launched_at: Timestamp(100.0),
            activity_id: None,
        }
    }

    fn ci(id: &str, reserved_cpu: i64) -> ContainerInstanceRecord {
        ContainerInstanceRecord {
            container_instance: ContainerInstance {
                container_instance_arn: Some(format!("arn:aws:ecs:us-east-1:1:container-instance/c/{id}")),
                status: Some("ACTIVE".into()),
                ..Default::default()
            },
            registered: Resources { cpu: 4096, memory: 15_000, ..Default::default() },
            gpus: vec!["GPU-1".into()],
            reservations: BTreeMap::from([(
                "t1".into(),
                Resources { cpu: reserved_cpu, memory: 1000, ..Default::default() },
            )]),
            private_ip: None,
        }
    }

    #[test]
    fn members_are_busy_or_empty_with_their_room() {
        let size = Need { cpu: 4096, memory: 15_000, gpus: 1 };
        let group = [
            gi("i-a", LifecycleState::InService),
            gi("i-b", LifecycleState::InService),
            gi("i-c", LifecycleState::Pending),
            gi("i-d", LifecycleState::Terminating),
        ];
        let (a, b) = (ci("ca", 2048), ci("cb", 0));
        let joined = HashMap::from([("i-a".to_string(), &a), ("i-b".to_string(), &b)]);
        let busy = BTreeSet::from(["ca".to_string()]);
        let since = BTreeMap::from([("i-b".to_string(), Timestamp(50.0))]);
        let m = members(&group, &joined, &busy, size, &since, Timestamp(200.0));
        assert_eq!(m.len(), 3, "a terminating instance is not capacity");
        assert_eq!((m[0].busy, m[0].room, m[0].empty_since), (true, Need { cpu: 2048, memory: 14_000, gpus: 1 }, None));
        assert_eq!((m[1].busy, m[1].empty_since), (false, Some(50.0)));
        assert_eq!(
            (m[2].room, m[2].empty_since, m[2].launched_at),
            (size, Some(200.0), 100.0),
            "not joined yet: a whole instance"
        );
    }
}
