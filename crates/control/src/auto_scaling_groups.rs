//! The Auto Scaling group controller: keeps every group at its desired capacity as
//! `berth_autoscaling::plan` decides. It wakes on any change under `autoscaling/` or to
//! EC2's instances and on a periodic tick; for each group it reads what EC2 says of the
//! group's instances, lets the plan move the group (lifecycle, activities, instances to
//! take out), commits that with compare-and-swap, and only then asks EC2: terminations of
//! the instances the group is terminating, and launches through `berth_ec2::run_instances`
//! with the group's launch template, a subnet of the zone with the fewest instances, the
//! group's PropagateAtLaunch tags plus `aws:autoscaling:groupName`, and a client token
//! derived from the group's launch count, so a launch repeated after a crash is the same
//! launch. A group being deleted loses its instances and then its record.

use berth_autoscaling::groups::edit;
use berth_autoscaling::plan::{self, Ec2State, Ec2View, Launch, Launched};
use berth_autoscaling::sources;
use berth_ec2::{Ec2Error, LaunchSpec};
use berth_model::Timestamp;
use berth_model::arn::Scope;
use berth_model::autoscaling::{AutoScalingGroupRecord, keys as asg_keys};
use berth_model::ec2::templates::LaunchParams;
use berth_model::ec2::{InstanceRecord, InstanceState, Tag};
use berth_model::keys;
use berth_store::documents::{self, Change, Doc};
use berth_store::{Compare, Store, Txn};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The tag EC2 instances of a group carry.
pub const GROUP_TAG: &str = "aws:autoscaling:groupName";

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs forever: a pass over every group on each relevant store change and every `tick`.
pub async fn run(store: Arc<dyn Store>, scope: Scope, tick: Duration) {
    let wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(berth_store::notify_on_changes(store.clone(), asg_keys::GROUPS, wake.clone()));
    tokio::spawn(berth_store::notify_on_changes(store.clone(), keys::EC2_INSTANCES, wake.clone()));
    loop {
        if let Err(e) = pass(store.as_ref(), &scope).await {
            tracing::warn!(error = %e, "auto scaling pass failed");
        }
        tokio::select! {
            _ = wake.notified() => tokio::time::sleep(Duration::from_millis(50)).await,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

/// One step for every group.
pub async fn pass(store: &dyn Store, scope: &Scope) -> Result<(), Failure> {
    for doc in documents::list_decodable::<AutoScalingGroupRecord>(store, asg_keys::GROUPS).await? {
        let name = doc.value.name.clone();
        if let Err(e) = reconcile(store, scope, doc).await {
            tracing::warn!(group = %name, error = %e, "auto scaling group step failed");
        }
    }
    Ok(())
}

/// What EC2 says of each of the group's instances (absent: EC2 no longer knows it).
async fn observe(store: &dyn Store, group: &AutoScalingGroupRecord) -> Result<BTreeMap<String, Ec2View>, Failure> {
    let mut out = BTreeMap::new();
    for i in &group.instances {
        if let Some(doc) = documents::get::<InstanceRecord>(store, &keys::ec2_instance(&i.instance_id)).await? {
            let state = match doc.value.state {
                InstanceState::Pending => Ec2State::Pending,
                InstanceState::Running => Ec2State::Running,
                InstanceState::Stopping => Ec2State::Stopping,
                InstanceState::Stopped => Ec2State::Stopped,
                InstanceState::ShuttingDown => Ec2State::ShuttingDown,
                InstanceState::Terminated => Ec2State::Terminated,
            };
            out.insert(i.instance_id.clone(), Ec2View { state, reason: doc.value.state_reason.map(|r| r.message) });
        }
    }
    Ok(out)
}

fn activity_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn reconcile(store: &dyn Store, scope: &Scope, doc: Doc<AutoScalingGroupRecord>) -> Result<(), Failure> {
    let key = asg_keys::group(&doc.value.name);
    let ec2 = observe(store, &doc.value).await?;
    let mut group = doc.value.clone();
    let now = Timestamp::now();
    let plan = plan::step(&mut group, &ec2, now, &mut activity_id);
    let compare = Compare::ModRevision(key.clone(), doc.mod_revision);
    if plan.delete {
        store.txn(Txn::new().when(compare).delete(key)).await?;
        return Ok(());
    }
    if group != doc.value && !store.txn(Txn::new().when(compare).put(key, documents::encode(&group)?)).await?.succeeded
    {
        // Changed meanwhile: the next pass plans again from what is there now.
        return Ok(());
    }
    if !plan.terminate.is_empty() {
        terminate(store, &plan.terminate).await?;
    }
    for launch in &plan.launches {
        launch_one(store, scope, &group, launch).await?;
    }
    Ok(())
}

/// Asks EC2 to terminate `ids`; one EC2 no longer knows is already gone.
async fn terminate(store: &dyn Store, ids: &[String]) -> Result<(), Failure> {
    for id in ids {
        match berth_ec2::terminate_instances(store, std::slice::from_ref(id)).await {
            Ok(_) => {}
            Err(Ec2Error::Client { code, message }) => {
                tracing::info!(instance = %id, code, %message, "terminate refused")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn launch_one(
    store: &dyn Store,
    scope: &Scope,
    group: &AutoScalingGroupRecord,
    launch: &Launch,
) -> Result<(), Failure> {
    let Some(template) = sources::named(group.launch_template.as_ref(), group.mixed_instances_policy.as_ref()) else {
        return Ok(());
    };
    let tags: Vec<Tag> = group.propagated_tags().into_iter().map(|(key, value)| Tag { key, value }).collect();
    let spec = LaunchSpec {
        params: LaunchParams {
            subnet_id: launch.placement.subnet_id.clone(),
            availability_zone: Some(launch.placement.availability_zone.clone()),
            tags,
            ..LaunchParams::default()
        },
        launch_template: Some(sources::launch_spec(template)),
        client_token: Some(launch.client_token.clone()),
        ..LaunchSpec::default()
    };
    let name = group.name.clone();
    match berth_ec2::run_instances(store, scope, spec).await {
        Ok(reservation) => {
            for instance in &reservation.instances {
                tag_with_group(store, &instance.instance_id, &name).await?;
                let launched = Launched {
                    instance_id: instance.instance_id.clone(),
                    instance_type: Some(instance.instance_type.clone()),
                };
                let adopted = edit(store, &name, |g| {
                    plan::adopt(g, launch, &launched, Timestamp::now(), activity_id());
                    Ok(())
                })
                .await;
                if adopted.is_err() {
                    // The group went away meanwhile: the instance has no group to serve.
                    terminate(store, std::slice::from_ref(&instance.instance_id)).await?;
                }
            }
        }
        Err(Ec2Error::Client { code, message }) => {
            tracing::info!(group = %name, code, %message, "launch refused");
            let text = format!("{message}. Launching EC2 instance failed.");
            edit(store, &name, |g| {
                plan::launch_failed(g, launch, &text, Timestamp::now(), activity_id());
                Ok(())
            })
            .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Puts `aws:autoscaling:groupName` on the instance, as Auto Scaling tags its instances
/// (EC2 refuses `aws:` keys from callers, so the tag is written on the record itself).
async fn tag_with_group(store: &dyn Store, instance_id: &str, group: &str) -> Result<(), Failure> {
    documents::modify(store, &keys::ec2_instance(instance_id), |current: Option<InstanceRecord>| {
        let Some(mut rec) = current else { return Ok::<_, documents::DocumentError>((Change::Keep, ())) };
        if rec.tags.iter().any(|t| t.key == GROUP_TAG) {
            return Ok((Change::Keep, ()));
        }
        rec.tags.push(Tag { key: GROUP_TAG.to_string(), value: group.to_string() });
        Ok((Change::Put(rec), ()))
    })
    .await?;
    Ok(())
}
