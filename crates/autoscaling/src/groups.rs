//! Groups in the store: reading them, creating one, and the changes callers make to a
//! group — desired capacity, instance protection and health, termination of one
//! instance, deletion — each a compare-and-swap on the group's document. Launching and
//! terminating in EC2 is the group controller's: these only record what should be.

use crate::Error;
use berth_model::Timestamp;
use berth_model::autoscaling::activity::{self, Context, DesiredChange, Reason};
use berth_model::autoscaling::records::{DELETE_IN_PROGRESS, HEALTHY, UNHEALTHY};
use berth_model::autoscaling::{Activity, AsgError, AutoScalingGroupRecord, ScalingActivityStatusCode, keys};
use berth_store::documents::{self, Change};
use berth_store::{Compare, Store, Txn};

/// The group `name`, if there is one.
pub async fn get_group(store: &dyn Store, name: &str) -> Result<Option<AutoScalingGroupRecord>, Error> {
    Ok(documents::get(store, &keys::group(name)).await?.map(|d| d.value))
}

/// Every group, by name.
pub async fn list_groups(store: &dyn Store) -> Result<Vec<AutoScalingGroupRecord>, Error> {
    Ok(documents::list(store, keys::GROUPS).await?.into_iter().map(|d| d.value).collect())
}

/// The group holding `instance_id` (ValidationError when none does).
pub async fn group_of_instance(store: &dyn Store, instance_id: &str) -> Result<AutoScalingGroupRecord, Error> {
    list_groups(store)
        .await?
        .into_iter()
        .find(|g| g.instance(instance_id).is_some())
        .ok_or_else(|| AsgError::instance_not_found(instance_id).into())
}

/// Stores a new group, or AlreadyExists.
pub async fn create_group(store: &dyn Store, group: &AutoScalingGroupRecord) -> Result<(), Error> {
    let key = keys::group(&group.name);
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), 0)).put(key, documents::encode(group)?);
    if !store.txn(txn).await?.succeeded {
        return Err(AsgError::group_exists(&group.name).into());
    }
    Ok(())
}

/// Changes the group `name` with compare-and-swap (ValidationError when there is none);
/// `change` may refuse, and then nothing is written. `change` runs again on a fresh read
/// when another writer won.
pub async fn edit<R>(
    store: &dyn Store,
    name: &str,
    mut change: impl FnMut(&mut AutoScalingGroupRecord) -> Result<R, AsgError>,
) -> Result<R, Error> {
    documents::modify(store, &keys::group(name), |current: Option<AutoScalingGroupRecord>| {
        let mut group = current.ok_or_else(|| Error::from(AsgError::group_not_found(name)))?;
        let result = change(&mut group)?;
        Ok((Change::Put(group), result))
    })
    .await
}

/// `edit` for callers that change a group's settings: refused while it is being deleted.
pub async fn edit_live<R>(
    store: &dyn Store,
    name: &str,
    mut change: impl FnMut(&mut AutoScalingGroupRecord) -> Result<R, AsgError>,
) -> Result<R, Error> {
    edit(store, name, |g| {
        if g.is_deleting() {
            return Err(AsgError::being_deleted(name));
        }
        change(g)
    })
    .await
}

/// A new desired capacity, with the cause its activities will give. Pure.
pub fn change_desired(group: &mut AutoScalingGroupRecord, desired: i32, why: DesiredChange, now: Timestamp) {
    if desired != group.desired_capacity {
        group.desired_cause = Some(activity::desired_cause(now, why, group.desired_capacity, desired));
        group.desired_capacity = desired;
    }
}

/// SetDesiredCapacity's rules: within min and max; with `honor_cooldown`, refused while
/// the group's cooldown since its last scaling activity runs, or an activity is in progress.
pub fn check_desired(
    group: &AutoScalingGroupRecord,
    desired: i32,
    honor_cooldown: bool,
    now: Timestamp,
) -> Result<(), AsgError> {
    if desired < group.min_size {
        return Err(AsgError::validation(format!(
            "New SetDesiredCapacity value {desired} is below min value {} for the AutoScalingGroup.",
            group.min_size
        )));
    }
    if desired > group.max_size {
        return Err(AsgError::validation(format!(
            "New SetDesiredCapacity value {desired} is above max value {} for the AutoScalingGroup.",
            group.max_size
        )));
    }
    if honor_cooldown {
        let cooling =
            group.last_scaled.is_some_and(|t| now.as_secs_f64() < t.as_secs_f64() + f64::from(group.default_cooldown));
        let busy = group.activities.iter().any(|a| a.status_code == ScalingActivityStatusCode::InProgress);
        if cooling || busy {
            return Err(AsgError::ScalingActivityInProgress(
                "Scaling activity is in progress and blocks this action".into(),
            ));
        }
    }
    Ok(())
}

/// SetDesiredCapacity (also ECS managed scaling's way of resizing a group).
pub async fn set_desired_capacity(
    store: &dyn Store,
    name: &str,
    desired: i32,
    honor_cooldown: bool,
) -> Result<(), Error> {
    let now = Timestamp::now();
    edit_live(store, name, |g| {
        check_desired(g, desired, honor_cooldown, now)?;
        change_desired(g, desired, DesiredChange::Set, now);
        Ok(())
    })
    .await
}

/// SetInstanceProtection: every instance named must be in the group.
pub async fn set_instance_protection(
    store: &dyn Store,
    name: &str,
    instance_ids: &[String],
    protected: bool,
) -> Result<(), Error> {
    edit_live(store, name, |g| {
        if let Some(missing) = instance_ids.iter().find(|id| g.instance(id).is_none()) {
            return Err(AsgError::instance_not_in_group(missing, name));
        }
        for id in instance_ids {
            if let Some(i) = g.instance_mut(id) {
                i.protected_from_scale_in = protected;
            }
        }
        Ok(())
    })
    .await
}

/// SetInstanceHealth: `Healthy` or `Unhealthy`; with `respect_grace_period`, a change
/// within the group's health check grace period after launch is ignored. An unhealthy
/// instance is replaced by the controller.
pub async fn set_instance_health(
    store: &dyn Store,
    instance_id: &str,
    status: &str,
    respect_grace_period: bool,
) -> Result<(), Error> {
    if status != HEALTHY && status != UNHEALTHY {
        return Err(AsgError::validation(format!(
            "Health status '{status}' is not valid: use {HEALTHY} or {UNHEALTHY}."
        ))
        .into());
    }
    let group = group_of_instance(store, instance_id).await?;
    let now = Timestamp::now().as_secs_f64();
    edit(store, &group.name, |g| {
        let grace = f64::from(g.health_check_grace_period);
        let i = g.instance_mut(instance_id).ok_or_else(|| AsgError::instance_not_found(instance_id))?;
        if respect_grace_period && now < i.launched_at.as_secs_f64() + grace {
            return Ok(());
        }
        i.health_status = status.to_string();
        Ok(())
    })
    .await
}

/// TerminateInstanceInAutoScalingGroup: the instance is taken out of service now (the
/// controller then asks EC2 to terminate it); with `decrement`, the desired capacity
/// drops by one (not below the minimum), else a replacement is launched.
pub async fn terminate_instance(
    store: &dyn Store,
    instance_id: &str,
    decrement: bool,
    activity_id: String,
) -> Result<Activity, Error> {
    let group = group_of_instance(store, instance_id).await?;
    let now = Timestamp::now();
    edit(store, &group.name, |g| {
        let inst = g.instance(instance_id).ok_or_else(|| AsgError::instance_not_found(instance_id))?;
        if inst.is_terminating() {
            // Already leaving: its activity is the answer.
            let existing = inst.activity_id.clone().and_then(|id| g.activities.iter().find(|a| a.activity_id == id).cloned());
            return existing.ok_or_else(|| AsgError::instance_not_found(instance_id));
        }
        let first = if decrement {
            if g.desired_capacity <= g.min_size {
                return Err(AsgError::validation(format!(
                    "Currently, desiredCapacity ({}) is at the minimum size ({}) of group {}: the instance cannot be terminated with ShouldDecrementDesiredCapacity.",
                    g.desired_capacity, g.min_size, g.name
                )));
            }
            let (from, to) = (g.desired_capacity, g.desired_capacity - 1);
            g.desired_capacity = to;
            Some(activity::desired_cause(now, DesiredChange::TerminatedWithDecrement(instance_id), from, to))
        } else {
            None
        };
        let (name, arn) = (g.name.clone(), g.arn.clone());
        let cx = Context { id: activity_id.clone(), group: &name, group_arn: &arn, now, first: None };
        let mut a = activity::terminate(cx, instance_id, &Reason::UserRequest);
        // With a decrement, the cause is the one sentence that says both.
        if let Some(cause) = first {
            a.cause = cause;
        }
        g.record_activity(a.clone());
        if let Some(i) = g.instance_mut(instance_id) {
            i.lifecycle_state = berth_model::autoscaling::LifecycleState::Terminating;
            i.activity_id = Some(activity_id.clone());
        }
        Ok(a)
    })
    .await
}

/// DeleteAutoScalingGroup. Without `force`, refused while the group has instances or
/// activities in progress; with it, the group goes `Delete in progress` (min, max and
/// desired 0) and the controller terminates its instances and then removes it. A group
/// without instances is removed at once.
pub async fn delete_group(store: &dyn Store, name: &str, force: bool) -> Result<(), Error> {
    let key = keys::group(name);
    for _ in 0..documents::MAX_ATTEMPTS {
        let Some(doc) = documents::get::<AutoScalingGroupRecord>(store, &key).await? else {
            return Err(AsgError::group_not_found(name).into());
        };
        let mut g = doc.value;
        if !force {
            if !g.instances.is_empty() {
                return Err(AsgError::ResourceInUse(
                    "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.".into(),
                )
                .into());
            }
            if g.activities.iter().any(|a| a.status_code == ScalingActivityStatusCode::InProgress) {
                return Err(AsgError::ScalingActivityInProgress(
                    "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.".into(),
                )
                .into());
            }
        }
        let compare = Compare::ModRevision(key.clone(), doc.mod_revision);
        let txn = if g.instances.is_empty() {
            Txn::new().when(compare).delete(key.clone())
        } else {
            g.status = Some(DELETE_IN_PROGRESS.to_string());
            (g.min_size, g.max_size, g.desired_capacity) = (0, 0, 0);
            Txn::new().when(compare).put(key.clone(), documents::encode(&g)?)
        };
        if store.txn(txn).await?.succeeded {
            return Ok(());
        }
    }
    Err(documents::DocumentError::Contended { key }.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choose::tests::{group, instance};
    use berth_store::MemoryStore;

    #[test]
    fn desired_capacity_stays_within_bounds_and_cooldown() {
        let mut g = group(&["a"]);
        (g.min_size, g.max_size, g.desired_capacity) = (1, 3, 2);
        let now = Timestamp(10_000.0);
        assert!(check_desired(&g, 3, false, now).is_ok());
        assert_eq!(
            check_desired(&g, 4, false, now).unwrap_err().to_string(),
            "New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup."
        );
        assert!(check_desired(&g, 0, false, now).is_err());
        g.last_scaled = Some(Timestamp(now.0 - 100.0));
        assert!(matches!(check_desired(&g, 3, true, now), Err(AsgError::ScalingActivityInProgress(_))));
        assert!(check_desired(&g, 3, false, now).is_ok(), "without HonorCooldown the cooldown does not matter");
        change_desired(&mut g, 3, DesiredChange::Set, now);
        assert_eq!(g.desired_capacity, 3);
        assert!(
            g.desired_cause
                .as_deref()
                .unwrap()
                .ends_with("explicitly set group desired capacity changing the desired capacity from 2 to 3.")
        );
    }

    #[tokio::test]
    async fn protection_deletion_and_termination_over_a_store() {
        let store = MemoryStore::new();
        let mut g = group(&["a"]);
        (g.min_size, g.max_size, g.desired_capacity) = (1, 3, 2);
        g.instances = vec![instance("i-1", "a", 0.0), instance("i-2", "a", 0.0)];
        create_group(&store, &g).await.unwrap();
        assert!(matches!(create_group(&store, &g).await, Err(Error::Asg(AsgError::AlreadyExists(_)))));
        set_instance_protection(&store, "g", &["i-1".into()], true).await.unwrap();
        assert!(get_group(&store, "g").await.unwrap().unwrap().instances[0].protected_from_scale_in);
        assert!(matches!(
            set_instance_protection(&store, "g", &["i-9".into()], true).await,
            Err(Error::Asg(AsgError::Validation(_)))
        ));
        assert!(matches!(
            set_desired_capacity(&store, "nope", 1, false).await,
            Err(Error::Asg(AsgError::Validation(_)))
        ));
        assert!(matches!(delete_group(&store, "g", false).await, Err(Error::Asg(AsgError::ResourceInUse(_)))));
        let a = terminate_instance(&store, "i-2", true, "act".into()).await.unwrap();
        assert_eq!(a.description.as_deref(), Some("Terminating EC2 instance: i-2"));
        assert!(a.cause.contains(
            "instance i-2 was taken out of service in response to a user request, shrinking the capacity from 2 to 1."
        ));
        let g = get_group(&store, "g").await.unwrap().unwrap();
        assert_eq!((g.desired_capacity, g.capacity()), (1, 1));
        assert!(terminate_instance(&store, "i-1", true, "act2".into()).await.is_err(), "at the minimum");
        delete_group(&store, "g", true).await.unwrap();
        let g = get_group(&store, "g").await.unwrap().unwrap();
        assert_eq!((g.status.as_deref(), g.desired_capacity), (Some(DELETE_IN_PROGRESS), 0));
        assert!(matches!(
            set_desired_capacity(&store, "g", 0, false).await,
            Err(Error::Asg(AsgError::ScalingActivityInProgress(_)))
        ));
    }
}
