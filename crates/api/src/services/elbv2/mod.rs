//! Elastic Load Balancing v2 (query protocol, Version 2015-12-01): application load
//! balancers, target groups, listeners, rules, targets and tags, kept in the store
//! (keys in `berth_model::keys`). One file per resource; each handler is
//! `async fn(Ctx, <Op>Input) -> Result<<Op>Output, AwsError>` with the shapes generated
//! from botocore's model, decoded from the form and written as XML by `protocol::query`.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::protocol::query::Params;
use crate::route::Service;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::attributes::{self, Attribute};
use berth_model::elbv2::records::{ListenerRecord, LoadBalancerRecord, RuleRecord, TargetGroupRecord};
use berth_model::elbv2::{Action, TargetTypeEnum, validate};
use berth_model::keys;
use berth_store::documents::{self, Doc, DocumentError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) mod access;
mod limits;
mod listeners;
mod load_balancers;
mod rules;
mod tags;
mod target_groups;
mod targets;

pub const VERSION: &str = "2015-12-01";
pub const XMLNS: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

pub const SERVICE: Service =
    Service::query("elasticloadbalancing", VERSION, XMLNS, |ctx, action, params| Box::pin(call(ctx, action, params)));

/// The result XML of `action`.
pub async fn call(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    dispatch!(query(ctx, action, params) else AwsError::invalid_action(action); {
        "CreateLoadBalancer" => load_balancers::create,
        "DescribeLoadBalancers" => load_balancers::describe,
        "DeleteLoadBalancer" => load_balancers::delete,
        "DescribeLoadBalancerAttributes" => load_balancers::describe_attributes,
        "ModifyLoadBalancerAttributes" => load_balancers::modify_attributes,
        "CreateTargetGroup" => target_groups::create,
        "DescribeTargetGroups" => target_groups::describe,
        "ModifyTargetGroup" => target_groups::modify,
        "DeleteTargetGroup" => target_groups::delete,
        "DescribeTargetGroupAttributes" => target_groups::describe_attributes,
        "ModifyTargetGroupAttributes" => target_groups::modify_attributes,
        "CreateListener" => listeners::create,
        "DescribeListeners" => listeners::describe,
        "ModifyListener" => listeners::modify,
        "DeleteListener" => listeners::delete,
        "CreateRule" => rules::create,
        "DescribeRules" => rules::describe,
        "ModifyRule" => rules::modify,
        "DeleteRule" => rules::delete,
        "SetRulePriorities" => rules::set_priorities,
        "RegisterTargets" => targets::register,
        "DeregisterTargets" => targets::deregister,
        "DescribeTargetHealth" => targets::describe_health,
        "AddTags" => tags::add,
        "RemoveTags" => tags::remove,
        "DescribeTags" => tags::describe,
        "DescribeAccountLimits" => limits::describe,
    })
}

/// A required member that the form did not carry (or carried empty).
fn required<'a>(value: &'a str, member: &str) -> Result<&'a str, AwsError> {
    if value.is_empty() {
        return Err(AwsError::validation(format!("The parameter {member} is required")));
    }
    Ok(value)
}

/// A new resource id: 16 hex digits, as ELB's.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// `Marker` / `PageSize` paging over items already in order; the marker is the last
/// returned item's key (never repeated, never empty).
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    page_size: Option<i32>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let size = match page_size {
        None => 400,
        Some(n) if (1..=400).contains(&n) => n as usize,
        Some(n) => return Err(AwsError::validation(format!("PageSize '{n}' must be between 1 and 400"))),
    };
    let mut rest: Vec<T> = items.into_iter().filter(|i| marker.is_none_or(|m| key(i).as_str() > m)).collect();
    let next = (rest.len() > size).then(|| key(&rest[size - 1]));
    rest.truncate(size);
    Ok((rest, next))
}

// ---- finding stored resources by ARN ----

/// The load balancer an ARN names, or LoadBalancerNotFound (ValidationError when it is
/// not an ARN at all).
async fn load_balancer(ctx: &Ctx, lb_arn: &str) -> Result<Doc<LoadBalancerRecord>, AwsError> {
    let Some(Resource::LoadBalancer { name, .. }) = arn::parse(lb_arn) else {
        return Err(AwsError::validation(format!("'{lb_arn}' is not a valid load balancer ARN")));
    };
    let doc = documents::get::<LoadBalancerRecord>(ctx.api.store.as_ref(), &keys::load_balancer(&name)).await?;
    doc.filter(|d| d.value.arn() == lb_arn).ok_or_else(AwsError::elbv2_lb_not_found)
}

async fn target_group(ctx: &Ctx, tg_arn: &str) -> Result<Doc<TargetGroupRecord>, AwsError> {
    if !matches!(arn::parse(tg_arn), Some(Resource::TargetGroup { .. })) {
        return Err(AwsError::validation(format!("'{tg_arn}' is not a valid target group ARN")));
    }
    find_target_group(ctx, tg_arn).await?.ok_or_else(AwsError::elbv2_tg_not_found)
}

/// The target group an ARN names, if there is one (None for an ARN of anything else).
async fn find_target_group(ctx: &Ctx, tg_arn: &str) -> Result<Option<Doc<TargetGroupRecord>>, AwsError> {
    let Some(Resource::TargetGroup { name, .. }) = arn::parse(tg_arn) else { return Ok(None) };
    let doc = documents::get::<TargetGroupRecord>(ctx.api.store.as_ref(), &keys::target_group(&name)).await?;
    Ok(doc.filter(|d| d.value.arn() == tg_arn))
}

async fn listener(ctx: &Ctx, listener_arn: &str) -> Result<Doc<ListenerRecord>, AwsError> {
    let Some(Resource::Listener { lb_id, id, .. }) = arn::parse(listener_arn) else {
        return Err(AwsError::validation(format!("'{listener_arn}' is not a valid listener ARN")));
    };
    let doc = documents::get::<ListenerRecord>(ctx.api.store.as_ref(), &keys::listener(&lb_id, &id)).await?;
    doc.filter(|d| d.value.arn() == listener_arn).ok_or_else(AwsError::elbv2_listener_not_found)
}

/// What ECS checks of a service's target group: its target type and the load balancers
/// that forward to it.
pub(crate) struct GroupUse {
    pub target_type: String,
    pub load_balancers: Vec<String>,
}

/// For ECS services: how the target group `tg_arn` is used, or None when there is no such
/// group (a store failure is an error, not a missing group).
pub(crate) async fn target_group_use(ctx: &Ctx, tg_arn: &str) -> Result<Option<GroupUse>, AwsError> {
    let Some(group) = find_target_group(ctx, tg_arn).await? else { return Ok(None) };
    let (listeners, rules) = (all_listeners(ctx).await?, all_rules(ctx).await?);
    Ok(Some(GroupUse {
        target_type: group.value.target_group.target_type.unwrap_or(TargetTypeEnum::Instance).to_string(),
        load_balancers: target_groups::load_balancers_of(tg_arn, &listeners, &rules),
    }))
}

/// Every listener, and every non-default rule, of every load balancer.
async fn all_listeners(ctx: &Ctx) -> Result<Vec<ListenerRecord>, AwsError> {
    Ok(documents::list(ctx.api.store.as_ref(), keys::LISTENERS).await?.into_iter().map(|d| d.value).collect())
}

async fn all_rules(ctx: &Ctx) -> Result<Vec<RuleRecord>, AwsError> {
    Ok(documents::list(ctx.api.store.as_ref(), keys::RULES).await?.into_iter().map(|d| d.value).collect())
}

/// Where a resource's document is: its key, the JSON pointer to its ARN in it, and the
/// error when it is missing.
type Location = (String, &'static str, fn() -> AwsError);

/// The location of the resource an ARN names. A default rule has no document (RuleNotFound).
fn locate(resource_arn: &str) -> Result<Location, AwsError> {
    Ok(match arn::parse(resource_arn) {
        Some(Resource::LoadBalancer { name, .. }) => {
            (keys::load_balancer(&name), "/loadBalancer/LoadBalancerArn", AwsError::elbv2_lb_not_found)
        }
        Some(Resource::TargetGroup { name, .. }) => {
            (keys::target_group(&name), "/targetGroup/TargetGroupArn", AwsError::elbv2_tg_not_found)
        }
        Some(Resource::Listener { lb_id, id, .. }) => {
            (keys::listener(&lb_id, &id), "/listener/ListenerArn", AwsError::elbv2_listener_not_found)
        }
        Some(Resource::Rule { listener_id, id, .. }) => {
            (keys::rule(&listener_id, &id), "/rule/RuleArn", AwsError::elbv2_rule_not_found)
        }
        None => return Err(AwsError::validation(format!("'{resource_arn}' is not a valid resource ARN"))),
    })
}

fn list_member<T: DeserializeOwned>(doc: &Value, member: &str) -> Vec<T> {
    doc.get(member).and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or_default()
}

/// The list `member` (tags, attributes) of the record `resource_arn` names.
async fn read_list<T: DeserializeOwned>(ctx: &Ctx, resource_arn: &str, member: &str) -> Result<Vec<T>, AwsError> {
    let (key, at, missing) = locate(resource_arn)?;
    let doc = documents::get::<Value>(ctx.api.store.as_ref(), &key).await?;
    let doc = doc.filter(|d| d.value.pointer(at).and_then(Value::as_str) == Some(resource_arn)).ok_or_else(missing)?;
    Ok(list_member(&doc.value, member))
}

/// Applies `change` to the list `member` of the record `resource_arn` names, with
/// compare-and-swap; returns the list as written.
async fn edit_list<T>(
    ctx: &Ctx,
    resource_arn: &str,
    member: &str,
    change: impl Fn(&mut Vec<T>) -> Result<(), AwsError>,
) -> Result<Vec<T>, AwsError>
where
    T: DeserializeOwned + Serialize,
{
    let (key, at, missing) = locate(resource_arn)?;
    documents::modify(ctx.api.store.as_ref(), &key, |current: Option<Value>| {
        let Some(mut doc) = current.filter(|d| d.pointer(at).and_then(Value::as_str) == Some(resource_arn)) else {
            return Err(missing());
        };
        let mut list = list_member(&doc, member);
        change(&mut list)?;
        doc[member] = serde_json::to_value(&list).map_err(DocumentError::Encode)?;
        Ok((documents::Change::Put(doc), list))
    })
    .await
}

/// Modify...Attributes: `changes` applied to the attributes of the resource `arn`
/// names, which must be of the kind `is_kind` accepts; returns them all.
async fn modify_attributes<A: Attribute + Serialize + DeserializeOwned>(
    ctx: &Ctx,
    resource_arn: &str,
    is_kind: fn(&Resource) -> bool,
    keys: &[attributes::Key],
    changes: &[A],
) -> Result<Vec<A>, AwsError> {
    if !arn::parse(resource_arn).is_some_and(|r| is_kind(&r)) {
        return Err(AwsError::validation(format!("'{resource_arn}' is not a valid ARN here")));
    }
    edit_list(ctx, resource_arn, "attributes", |current| {
        *current = attributes::apply(keys, current, changes).map_err(AwsError::elbv2_invalid)?;
        Ok(())
    })
    .await
}

/// Checks that every target group `actions` forward to exists.
async fn check_target_groups(ctx: &Ctx, actions: &[Action]) -> Result<(), AwsError> {
    for tg in validate::target_groups_of(actions) {
        target_group(ctx, &tg).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_marker() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (first, next) = page(items.clone(), |s| s.clone(), None, Some(2)).unwrap();
        assert_eq!((first, next.as_deref()), (vec!["a".to_string(), "b".to_string()], Some("b")));
        let (second, next) = page(items.clone(), |s| s.clone(), Some("b"), Some(2)).unwrap();
        assert_eq!((second, next), (vec!["c".to_string()], None));
        assert!(page(items, |s| s.clone(), None, Some(0)).is_err());
    }
}
