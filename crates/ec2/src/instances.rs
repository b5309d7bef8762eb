//! RunInstances, Terminate/Stop/StartInstances and DescribeInstances over the store,
//! and the fleet's side of an instance's life (`mark_terminated`, `expire_terminated`).
//!
//! A launch resolves everything it names first (nothing is written if anything is
//! wrong), then commits the instances, the addresses it took in the subnet and the
//! client token in one compare-and-swap transaction: instances are created `pending`
//! with `host: None`; the fleet controller takes it from there.

use crate::resolve::{self, TemplateName};
use crate::{Ec2Error, ids, now_ms};
use berth_model::arn::Scope;
use berth_model::ec2::cidr::{self, Cidr};
use berth_model::ec2::filters::{self, Filter};
use berth_model::ec2::instance_types::DEFAULT_INSTANCE_TYPE;
use berth_model::ec2::templates::LaunchParams;
use berth_model::ec2::{
    InstanceRecord, InstanceState, LaunchTemplateRef, StateReason, SubnetRecord, ids as prefix, lifecycle,
};
use berth_model::keys;
use berth_store::documents::{self, Change, DocumentError, encode};
use berth_store::{Compare, Store, Txn};
use serde::{Deserialize, Serialize};

/// A launch template and the version to launch (`$Latest`, `$Default`, a number; None:
/// the default version).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateSpec {
    pub template: TemplateName,
    pub version: Option<String>,
}

/// What RunInstances is asked: the parameters given, over the template's (explicit
/// members win), how many, and the idempotency token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSpec {
    pub params: LaunchParams,
    pub launch_template: Option<TemplateSpec>,
    pub min_count: i32,
    pub max_count: i32,
    pub client_token: Option<String>,
}

impl Default for LaunchSpec {
    fn default() -> Self {
        LaunchSpec {
            params: LaunchParams::default(),
            launch_template: None,
            min_count: 1,
            max_count: 1,
            client_token: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub reservation_id: String,
    pub owner_id: String,
    pub instances: Vec<InstanceRecord>,
}

/// An instance's state before and after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub instance_id: String,
    pub previous: InstanceState,
    pub current: InstanceState,
}

pub type StateChanges = Vec<StateChange>;

/// What a ClientToken's launch made, so that a retry with it answers the same.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    reservation_id: String,
    instance_ids: Vec<String>,
}

/// The most instances one RunInstances may start.
pub const MAX_COUNT: i32 = 100;

/// A launch checked and resolved, not yet committed (`prepare_launch`, then `commit_launch`).
#[derive(Debug, Clone)]
pub struct Launch {
    /// The reservation a retry with the same ClientToken made, if there was one.
    earlier: Option<Reservation>,
    template: Option<InstanceRecord>,
    /// The name of the role the instance profile holds: what the caller must be allowed
    /// to `iam:PassRole`.
    pub profile_role: Option<String>,
    min_count: i32,
    max_count: i32,
    client_token: Option<String>,
}

/// RunInstances: at least `min_count`, at most `max_count` instances, `pending`, with
/// their private addresses taken in the subnet. Refused in EC2's codes, nothing created.
/// (The API checks `iam:PassRole` between `prepare_launch` and `commit_launch`.)
pub async fn run_instances(store: &dyn Store, scope: &Scope, spec: LaunchSpec) -> Result<Reservation, Ec2Error> {
    let launch = prepare_launch(store, scope, spec).await?;
    commit_launch(store, scope, launch).await
}

/// Checks and resolves everything a launch names; writes nothing.
pub async fn prepare_launch(store: &dyn Store, scope: &Scope, spec: LaunchSpec) -> Result<Launch, Ec2Error> {
    let (min_count, max_count, client_token) = (spec.min_count, spec.max_count, spec.client_token.clone());
    if let Some(token) = &spec.client_token
        && let Some(earlier) = replay(store, scope, token).await?
    {
        return Ok(Launch {
            earlier: Some(earlier),
            template: None,
            profile_role: None,
            min_count,
            max_count,
            client_token,
        });
    }
    if spec.min_count < 1 || spec.max_count < 1 {
        return Err(Ec2Error::invalid_parameter_value(format!(
            "Invalid value '{}' for {}. Must be at least 1.",
            spec.min_count.min(spec.max_count),
            if spec.min_count < 1 { "minCount" } else { "maxCount" }
        )));
    }
    if spec.min_count > spec.max_count {
        return Err(Ec2Error::invalid_parameter_value(
            "Invalid value for parameter minCount. Value must be less than or equal to maxCount.",
        ));
    }
    if spec.min_count > MAX_COUNT {
        return Err(Ec2Error::invalid_parameter_value(format!(
            "You have requested more instances ({}) than your current instance limit of {MAX_COUNT} allows.",
            spec.min_count
        )));
    }
    let (template_ref, template_params) = match &spec.launch_template {
        Some(t) => {
            let doc = resolve::launch_template(store, &t.template).await?;
            let version = resolve::template_version(&doc.value, t.version.as_deref())?;
            let r = LaunchTemplateRef {
                id: doc.value.launch_template_id.clone(),
                name: doc.value.launch_template_name.clone(),
                version: version.version_number.to_string(),
            };
            (Some(r), LaunchParams::from_template_data(&version.data))
        }
        None => (None, LaunchParams::default()),
    };
    let p = spec.params.over(template_params);
    let image_id = p.image_id.as_deref().ok_or_else(|| Ec2Error::missing_parameter("ImageId"))?;
    let image = resolve::image(image_id)?;
    let kind = resolve::instance_type(p.instance_type.as_deref().unwrap_or(DEFAULT_INSTANCE_TYPE))?;
    resolve::architectures_match(image, kind)?;
    resolve::tags(&p.tags)?;
    let user_data = p.user_data.as_deref().map(resolve::user_data).transpose()?;
    if let Some(key) = &p.key_name {
        resolve::key_pair(store, key).await?;
    }
    let profile = match &p.iam_instance_profile {
        Some(spec) => Some(resolve::instance_profile(store, scope, spec).await?),
        None => None,
    };
    let subnet = resolve::launch_subnet(store, scope, p.subnet_id.as_deref(), p.availability_zone.as_deref()).await?;
    let groups = resolve::launch_security_groups(
        store,
        &subnet.value.vpc_id,
        &subnet.value.subnet_id,
        &p.security_group_ids,
        &p.security_group_names,
    )
    .await?;

    let now = now_ms();
    let template = InstanceRecord {
        instance_id: String::new(),
        reservation_id: ids::new(prefix::RESERVATION),
        owner_id: scope.account.clone(),
        image_id: image.id.to_string(),
        instance_type: kind.name.to_string(),
        state: InstanceState::Pending,
        state_reason: None,
        state_transition_reason: String::new(),
        subnet_id: subnet.value.subnet_id.clone(),
        vpc_id: subnet.value.vpc_id.clone(),
        availability_zone: subnet.value.availability_zone.clone(),
        private_ip_address: String::new(),
        private_dns_name: String::new(),
        security_group_ids: groups,
        key_name: p.key_name.clone(),
        iam_instance_profile_arn: profile.as_ref().map(|p| p.arn.clone()),
        iam_instance_profile_id: profile.as_ref().map(|p| p.id.clone()),
        user_data,
        launch_template: template_ref,
        tags: p.tags.clone(),
        launch_time: now,
        client_token: spec.client_token.clone(),
        ami_launch_index: 0,
        architecture: image.architecture.to_string(),
        host: None,
        status_ok: false,
        state_changed_at: now,
        disable_api_termination: p.disable_api_termination.unwrap_or(false),
        ebs_optimized: p.ebs_optimized.unwrap_or(false),
        monitoring_enabled: p.monitoring.unwrap_or(false),
    };
    Ok(Launch {
        earlier: None,
        template: Some(template),
        profile_role: profile.and_then(|p| p.role),
        min_count,
        max_count,
        client_token,
    })
}

/// Commits a prepared launch: the instances, the addresses they take in the subnet and
/// the client token, in one transaction.
pub async fn commit_launch(store: &dyn Store, scope: &Scope, launch: Launch) -> Result<Reservation, Ec2Error> {
    let template = match (launch.earlier, launch.template) {
        (Some(earlier), _) => return Ok(earlier),
        (None, Some(template)) => template,
        (None, None) => return Err(Ec2Error::missing_parameter("ImageId")),
    };
    let (min_count, max_count, client_token) = (launch.min_count, launch.max_count, launch.client_token);
    let reservation_id = template.reservation_id.clone();
    let subnet_key = keys::ec2_subnet(&template.subnet_id);
    for _ in 0..documents::MAX_ATTEMPTS {
        let Some(current) = documents::get::<SubnetRecord>(store, &subnet_key).await? else {
            return Err(Ec2Error::subnet_not_found(&template.subnet_id));
        };
        let mut subnet = current.value;
        let addresses = take_addresses(&mut subnet, min_count, max_count)?;
        let instances: Vec<InstanceRecord> = addresses
            .into_iter()
            .enumerate()
            .map(|(i, ip)| InstanceRecord {
                instance_id: ids::new(prefix::INSTANCE),
                private_ip_address: ip.to_string(),
                private_dns_name: cidr::private_dns_name(ip, &scope.region),
                ami_launch_index: i as i32,
                ..template.clone()
            })
            .collect();
        let mut txn = Txn::new()
            .when(Compare::ModRevision(subnet_key.clone(), current.mod_revision))
            .put(subnet_key.clone(), encode(&subnet)?);
        for instance in &instances {
            txn = txn.put(keys::ec2_instance(&instance.instance_id), encode(instance)?);
        }
        if let Some(token) = &client_token {
            let key = keys::ec2_client_token(token);
            let record = TokenRecord {
                reservation_id: reservation_id.clone(),
                instance_ids: instances.iter().map(|i| i.instance_id.clone()).collect(),
            };
            txn = txn.when(Compare::ModRevision(key.clone(), 0)).put(key, encode(&record)?);
        }
        if store.txn(txn).await?.succeeded {
            return Ok(Reservation { reservation_id, owner_id: scope.account.clone(), instances });
        }
        if let Some(token) = &client_token
            && let Some(earlier) = replay(store, scope, token).await?
        {
            return Ok(earlier);
        }
    }
    Err(DocumentError::Contended { key: subnet_key }.into())
}

/// As many addresses as the subnet has free, between `min` and `max`, marked taken.
fn take_addresses(subnet: &mut SubnetRecord, min: i32, max: i32) -> Result<Vec<std::net::Ipv4Addr>, Ec2Error> {
    let block = Cidr::parse(&subnet.cidr_block).ok_or_else(|| Ec2Error::insufficient_addresses(&subnet.subnet_id))?;
    let mut taken = Vec::new();
    while taken.len() < max as usize {
        let Some(ip) = block.first_free(&subnet.allocated_ips) else { break };
        subnet.allocated_ips.push(ip.to_string());
        taken.push(ip);
    }
    if taken.len() < min as usize {
        return Err(Ec2Error::insufficient_addresses(&subnet.subnet_id));
    }
    Ok(taken)
}

/// The reservation an earlier RunInstances with this token made, if any.
async fn replay(store: &dyn Store, scope: &Scope, token: &str) -> Result<Option<Reservation>, Ec2Error> {
    let Some(record) = documents::get::<TokenRecord>(store, &keys::ec2_client_token(token)).await? else {
        return Ok(None);
    };
    let mut instances = Vec::new();
    for id in &record.value.instance_ids {
        if let Some(doc) = documents::get::<InstanceRecord>(store, &keys::ec2_instance(id)).await? {
            instances.push(doc.value);
        }
    }
    Ok(Some(Reservation { reservation_id: record.value.reservation_id, owner_id: scope.account.clone(), instances }))
}

/// The instances with these ids, every id well formed and existing (else EC2's
/// `.Malformed` or `.NotFound` naming the missing ones).
pub async fn existing(store: &dyn Store, instance_ids: &[String]) -> Result<Vec<InstanceRecord>, Ec2Error> {
    if let Some(bad) = instance_ids.iter().find(|id| !prefix::well_formed(prefix::INSTANCE, id)) {
        return Err(Ec2Error::malformed("InvalidInstanceID.Malformed", bad));
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in instance_ids {
        match documents::get::<InstanceRecord>(store, &keys::ec2_instance(id)).await? {
            Some(doc) => found.push(doc.value),
            None => missing.push(id.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Ec2Error::instances_not_found(&missing));
    }
    Ok(found)
}

/// Applies `next` (the new state from the current one) to each instance, recording the
/// reason; returns each instance's change, in request order.
async fn transition(
    store: &dyn Store,
    instance_ids: &[String],
    next: impl Fn(&InstanceRecord) -> Result<InstanceState, Ec2Error>,
    reason: impl Fn(InstanceState, i64) -> Option<(String, StateReason)>,
) -> Result<StateChanges, Ec2Error> {
    let records = existing(store, instance_ids).await?;
    for record in &records {
        next(record)?;
    }
    let mut changes = Vec::new();
    for id in instance_ids {
        let change = documents::modify(store, &keys::ec2_instance(id), |current: Option<InstanceRecord>| {
            let Some(mut rec) = current else {
                return Err(Ec2Error::instances_not_found(std::slice::from_ref(id)));
            };
            let previous = rec.state;
            let state = next(&rec)?;
            if state == previous {
                return Ok((Change::Keep, StateChange { instance_id: id.clone(), previous, current: state }));
            }
            let now = now_ms();
            rec.state = state;
            rec.state_changed_at = now;
            if state == InstanceState::Pending {
                rec.launch_time = now;
            }
            if let Some((text, why)) = reason(state, now) {
                rec.state_transition_reason = text;
                rec.state_reason = Some(why);
            }
            Ok((Change::Put(rec), StateChange { instance_id: id.clone(), previous, current: state }))
        })
        .await?;
        changes.push(change);
    }
    Ok(changes)
}

fn user_initiated(code: &str) -> impl Fn(InstanceState, i64) -> Option<(String, StateReason)> + '_ {
    move |_, now| {
        Some((
            lifecycle::user_initiated(now),
            StateReason { code: code.to_string(), message: format!("{code}: User initiated shutdown") },
        ))
    }
}

/// TerminateInstances: each instance moves to `shutting-down` (the fleet drains it and
/// marks it `terminated`). Refused whole when one has termination protection.
pub async fn terminate_instances(store: &dyn Store, instance_ids: &[String]) -> Result<StateChanges, Ec2Error> {
    transition(
        store,
        instance_ids,
        |rec| {
            if rec.disable_api_termination && rec.state != InstanceState::Terminated {
                return Err(Ec2Error::operation_not_permitted(format!(
                    "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
                    rec.instance_id
                )));
            }
            Ok(lifecycle::terminate(rec.state))
        },
        user_initiated("Client.UserInitiatedShutdown"),
    )
    .await
}

/// StopInstances: running instances move to `stopping` (the fleet stops them).
pub async fn stop_instances(store: &dyn Store, instance_ids: &[String]) -> Result<StateChanges, Ec2Error> {
    transition(
        store,
        instance_ids,
        |rec| Ok(lifecycle::stop(&rec.instance_id, rec.state)?),
        user_initiated("Client.UserInitiatedShutdown"),
    )
    .await
}

/// StartInstances: stopped instances move to `pending` (the fleet starts them again).
pub async fn start_instances(store: &dyn Store, instance_ids: &[String]) -> Result<StateChanges, Ec2Error> {
    transition(store, instance_ids, |rec| Ok(lifecycle::start(&rec.instance_id, rec.state)?), |_, _| None).await
}

/// DescribeInstances: the instances named (all when `instance_ids` is empty; unknown ids
/// are refused), passing every filter (an unknown filter name is refused first), in id order.
pub async fn describe_instances(
    store: &dyn Store,
    instance_ids: &[String],
    filters: &[Filter],
) -> Result<Vec<InstanceRecord>, Ec2Error> {
    filters::check_names(filters, filters::INSTANCE_FILTERS)?;
    let records = if instance_ids.is_empty() {
        documents::list::<InstanceRecord>(store, keys::EC2_INSTANCES).await?.into_iter().map(|d| d.value).collect()
    } else {
        existing(store, instance_ids).await?
    };
    let mut out = Vec::new();
    for rec in records {
        if filters::matches_all(filters, &rec, &rec.tags, filters::instance_field)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The fleet's last step of a termination: the instance is `terminated` and its address
/// free again, in one transaction. Returns false when there is no such instance.
pub async fn mark_terminated(store: &dyn Store, instance_id: &str) -> Result<bool, Ec2Error> {
    let key = keys::ec2_instance(instance_id);
    for _ in 0..documents::MAX_ATTEMPTS {
        let Some(doc) = documents::get::<InstanceRecord>(store, &key).await? else {
            return Ok(false);
        };
        let mut rec = doc.value;
        if rec.state == InstanceState::Terminated {
            return Ok(true);
        }
        let now = now_ms();
        rec.state = InstanceState::Terminated;
        rec.state_changed_at = now;
        rec.status_ok = false;
        rec.host = None;
        let mut txn =
            Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).put(key.clone(), encode(&rec)?);
        let subnet_key = keys::ec2_subnet(&rec.subnet_id);
        if let Some(subnet) = documents::get::<SubnetRecord>(store, &subnet_key).await? {
            let mut s = subnet.value;
            s.allocated_ips.retain(|ip| *ip != rec.private_ip_address);
            txn = txn.when(Compare::ModRevision(subnet_key.clone(), subnet.mod_revision)).put(subnet_key, encode(&s)?);
        }
        if store.txn(txn).await?.succeeded {
            return Ok(true);
        }
    }
    Err(DocumentError::Contended { key }.into())
}

/// Removes terminated instances past EC2's hour of visibility; returns how many.
pub async fn expire_terminated(store: &dyn Store, now: i64) -> Result<usize, Ec2Error> {
    let mut removed = 0;
    for doc in documents::list_decodable::<InstanceRecord>(store, keys::EC2_INSTANCES).await? {
        let rec = &doc.value;
        if lifecycle::expired(rec.state, rec.state_changed_at, now) {
            let key = keys::ec2_instance(&rec.instance_id);
            let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key);
            if store.txn(txn).await?.succeeded {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
