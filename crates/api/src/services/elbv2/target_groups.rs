//! CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup, DeleteTargetGroup and
//! the target group attributes. `LoadBalancerArns` is derived from the listeners and
//! rules that forward to the group.

use super::{Ctx, all_listeners, all_rules, load_balancer, new_id, page, required, target_group};
use crate::error::AwsError;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::attributes::{self, TARGET_GROUP};
use berth_model::elbv2::records::{ListenerRecord, RuleRecord, TargetGroupRecord};
use berth_model::elbv2::*;
use berth_model::keys;
use berth_model::records::ServiceRecord;
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};

/// The health check members CreateTargetGroup and ModifyTargetGroup share.
#[derive(Default)]
struct HealthCheck {
    protocol: Option<ProtocolEnum>,
    port: Option<String>,
    path: Option<String>,
    enabled: Option<bool>,
    interval: Option<i32>,
    timeout: Option<i32>,
    healthy: Option<i32>,
    unhealthy: Option<i32>,
    matcher: Option<Matcher>,
}

/// The health check members of an input shape (both name them alike).
macro_rules! health_check_of {
    ($input:expr) => {
        HealthCheck {
            protocol: $input.health_check_protocol,
            port: $input.health_check_port,
            path: $input.health_check_path,
            enabled: $input.health_check_enabled,
            interval: $input.health_check_interval_seconds,
            timeout: $input.health_check_timeout_seconds,
            healthy: $input.healthy_threshold_count,
            unhealthy: $input.unhealthy_threshold_count,
            matcher: $input.matcher,
        }
    };
}

impl HealthCheck {
    /// `tg` with the given health check settings applied, checked.
    fn apply(self, mut tg: TargetGroup) -> Result<TargetGroup, AwsError> {
        if let Some(p) = self.protocol.filter(|p| *p != ProtocolEnum::Http) {
            return Err(AwsError::validation(format!("Health check protocol '{p}' is not supported; use HTTP")));
        }
        macro_rules! set {
            ($field:ident, $value:expr) => {
                if let Some(v) = $value {
                    tg.$field = Some(v);
                }
            };
        }
        set!(health_check_port, self.port);
        set!(health_check_path, self.path);
        set!(health_check_enabled, self.enabled);
        set!(health_check_interval_seconds, self.interval);
        set!(health_check_timeout_seconds, self.timeout);
        set!(healthy_threshold_count, self.healthy);
        set!(unhealthy_threshold_count, self.unhealthy);
        set!(matcher, self.matcher);
        validate::health_check(&tg).map_err(AwsError::elbv2_invalid)?;
        Ok(tg)
    }
}

pub async fn create(ctx: Ctx, input: CreateTargetGroupInput) -> Result<CreateTargetGroupOutput, AwsError> {
    let name = required(&input.name, "Name")?.to_string();
    validate::name("Target group", &name).map_err(AwsError::elbv2_invalid)?;
    let target_type = input.target_type.unwrap_or(TargetTypeEnum::Instance);
    if !matches!(target_type, TargetTypeEnum::Instance | TargetTypeEnum::Ip) {
        return Err(AwsError::validation(format!(
            "Target type '{target_type}' is not supported; berth serves instance and ip target groups"
        )));
    }
    let (Some(protocol), Some(port)) = (input.protocol, input.port) else {
        return Err(AwsError::validation("A protocol and port are required for instance and ip target groups"));
    };
    if protocol != ProtocolEnum::Http {
        return Err(AwsError::elbv2(
            "UnsupportedProtocol",
            format!("Protocol '{protocol}' is not supported; use HTTP"),
        ));
    }
    validate::port(port).map_err(AwsError::elbv2_invalid)?;
    let mut tg = TargetGroup {
        target_group_arn: Some(arn::arn(&ctx.api.scope, &Resource::TargetGroup { name: name.clone(), id: new_id() })),
        target_group_name: Some(name.clone()),
        protocol: Some(protocol),
        port: Some(port),
        vpc_id: input.vpc_id.clone(),
        target_type: Some(target_type),
        protocol_version: Some(input.protocol_version.clone().unwrap_or_else(|| "HTTP1".into())),
        ip_address_type: Some(input.ip_address_type.unwrap_or(TargetGroupIpAddressTypeEnum::Ipv4)),
        ..Default::default()
    };
    validate::health_check_defaults(&mut tg);
    let tags = input.tags.clone().unwrap_or_default();
    let tg = health_check_of!(input).apply(tg)?;
    let record = TargetGroupRecord {
        target_group: tg,
        attributes: attributes::defaults(TARGET_GROUP),
        tags,
        targets: Vec::new(),
    };
    let key = keys::target_group(&name);
    let created = documents::modify(ctx.api.store.as_ref(), &key, |current: Option<TargetGroupRecord>| match current {
        None => Ok((Change::Put(record.clone()), record.target_group.clone())),
        Some(existing) => {
            let (a, b) = (&existing.target_group, &record.target_group);
            let same =
                (&a.protocol, a.port, &a.target_type, &a.vpc_id) == (&b.protocol, b.port, &b.target_type, &b.vpc_id);
            if !same {
                return Err(AwsError::elbv2("DuplicateTargetGroupName", "A target group with the same name exists"));
            }
            Ok((Change::Keep, existing.target_group))
        }
    })
    .await?;
    let shown = with_load_balancers(created, &all_listeners(&ctx).await?, &all_rules(&ctx).await?);
    Ok(CreateTargetGroupOutput { target_groups: Some(vec![shown]) })
}

/// The load balancers whose listeners (or their rules) forward to a target group.
pub fn load_balancers_of(tg_arn: &str, listeners: &[ListenerRecord], rules: &[RuleRecord]) -> Vec<String> {
    let mut lbs: Vec<String> = Vec::new();
    for l in listeners {
        let listener_id = arn::parse(l.arn());
        let rule_actions = rules
            .iter()
            .filter(|r| match (arn::parse(r.arn()), &listener_id) {
                (Some(Resource::Rule { listener_id: of, .. }), Some(Resource::Listener { id, .. })) => of == *id,
                _ => false,
            })
            .flat_map(|r| r.rule.actions.iter().flatten().cloned());
        let actions: Vec<_> = l.listener.default_actions.iter().flatten().cloned().chain(rule_actions).collect();
        let uses = validate::target_groups_of(&actions).iter().any(|a| a == tg_arn);
        let lb = l.listener.load_balancer_arn.clone().unwrap_or_default();
        if uses && !lbs.contains(&lb) {
            lbs.push(lb);
        }
    }
    lbs
}

fn with_load_balancers(mut tg: TargetGroup, listeners: &[ListenerRecord], rules: &[RuleRecord]) -> TargetGroup {
    tg.load_balancer_arns =
        Some(load_balancers_of(tg.target_group_arn.as_deref().unwrap_or_default(), listeners, rules));
    tg
}

pub async fn describe(ctx: Ctx, input: DescribeTargetGroupsInput) -> Result<DescribeTargetGroupsOutput, AwsError> {
    let (arns, names) = (input.target_group_arns.unwrap_or_default(), input.names.unwrap_or_default());
    let given = [input.load_balancer_arn.is_some(), !arns.is_empty(), !names.is_empty()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(AwsError::validation("Only one of LoadBalancerArn, TargetGroupArns or Names can be given"));
    }
    let (listeners, rules) = (all_listeners(&ctx).await?, all_rules(&ctx).await?);
    let mut groups = Vec::new();
    for arn in &arns {
        groups.push(target_group(&ctx, arn).await?.value.target_group);
    }
    for name in &names {
        let doc = documents::get::<TargetGroupRecord>(ctx.api.store.as_ref(), &keys::target_group(name)).await?;
        let valid = validate::name("Target group", name).is_ok();
        groups.push(doc.filter(|_| valid).ok_or_else(AwsError::elbv2_tg_not_found)?.value.target_group);
    }
    if arns.is_empty() && names.is_empty() {
        let all = documents::list::<TargetGroupRecord>(ctx.api.store.as_ref(), keys::TARGET_GROUPS).await?;
        groups = all.into_iter().map(|d| d.value.target_group).collect();
    }
    let mut shown: Vec<TargetGroup> =
        groups.into_iter().map(|tg| with_load_balancers(tg, &listeners, &rules)).collect();
    if let Some(lb) = &input.load_balancer_arn {
        load_balancer(&ctx, lb).await?;
        shown.retain(|tg| tg.load_balancer_arns.iter().flatten().any(|a| a == lb));
    }
    let name_of = |t: &TargetGroup| t.target_group_name.clone().unwrap_or_default();
    let (shown, next) = page(shown, name_of, input.marker.as_deref(), input.page_size)?;
    Ok(DescribeTargetGroupsOutput { target_groups: Some(shown), next_marker: next })
}

pub async fn modify(ctx: Ctx, input: ModifyTargetGroupInput) -> Result<ModifyTargetGroupOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?.to_string();
    let name = tg_name(&arn)?;
    let mut health = Some(health_check_of!(input));
    let tg = documents::modify(ctx.api.store.as_ref(), &keys::target_group(&name), |current| {
        let Some(mut record) = current.filter(|r: &TargetGroupRecord| r.arn() == arn) else {
            return Err(AwsError::elbv2_tg_not_found());
        };
        let changes = health.take().unwrap_or_default();
        record.target_group = changes.apply(record.target_group)?;
        let tg = record.target_group.clone();
        Ok((Change::Put(record), tg))
    })
    .await?;
    let shown = with_load_balancers(tg, &all_listeners(&ctx).await?, &all_rules(&ctx).await?);
    Ok(ModifyTargetGroupOutput { target_groups: Some(vec![shown]) })
}

fn tg_name(tg_arn: &str) -> Result<String, AwsError> {
    match arn::parse(tg_arn) {
        Some(Resource::TargetGroup { name, .. }) => Ok(name),
        _ => Err(AwsError::validation(format!("'{tg_arn}' is not a valid target group ARN"))),
    }
}

/// Deletes a target group no listener, rule or ECS service uses (ResourceInUse
/// otherwise). A target group that does not exist is no error, as in ELB.
pub async fn delete(ctx: Ctx, input: DeleteTargetGroupInput) -> Result<DeleteTargetGroupOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?;
    let doc = match target_group(&ctx, arn).await {
        Ok(doc) => doc,
        Err(e) if e.code == "TargetGroupNotFound" => return Ok(DeleteTargetGroupOutput {}),
        Err(e) => return Err(e),
    };
    let lbs = load_balancers_of(arn, &all_listeners(&ctx).await?, &all_rules(&ctx).await?);
    if let Some(lb) = lbs.first() {
        return Err(AwsError::elbv2(
            "ResourceInUse",
            format!("Target group '{arn}' is currently in use by a listener or a rule of '{lb}'"),
        ));
    }
    let services = documents::list::<ServiceRecord>(ctx.api.store.as_ref(), keys::SERVICES).await?;
    let user = services.iter().map(|d| &d.value.service).find(|s| {
        s.status.as_deref() != Some("INACTIVE")
            && s.load_balancers.iter().flatten().any(|lb| lb.target_group_arn.as_deref() == Some(arn))
    });
    if let Some(service) = user {
        return Err(AwsError::elbv2(
            "ResourceInUse",
            format!(
                "Target group '{arn}' is currently in use by ECS service '{}'",
                service.service_name.as_deref().unwrap_or_default()
            ),
        ));
    }
    let key = keys::target_group(doc.value.target_group.target_group_name.as_deref().unwrap_or_default());
    ctx.api.store.txn(Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key)).await?;
    Ok(DeleteTargetGroupOutput {})
}

pub async fn describe_attributes(
    ctx: Ctx,
    input: DescribeTargetGroupAttributesInput,
) -> Result<DescribeTargetGroupAttributesOutput, AwsError> {
    let doc = target_group(&ctx, required(&input.target_group_arn, "TargetGroupArn")?).await?;
    Ok(DescribeTargetGroupAttributesOutput { attributes: Some(doc.value.attributes) })
}

pub async fn modify_attributes(
    ctx: Ctx,
    input: ModifyTargetGroupAttributesInput,
) -> Result<ModifyTargetGroupAttributesOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?;
    let is_kind = |r: &Resource| matches!(r, Resource::TargetGroup { .. });
    let attributes = super::modify_attributes(&ctx, arn, is_kind, TARGET_GROUP, &input.attributes).await?;
    Ok(ModifyTargetGroupAttributesOutput { attributes: Some(attributes) })
}
