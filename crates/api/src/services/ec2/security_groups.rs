//! Create/Delete/DescribeSecurityGroups, Authorize/Revoke ingress and egress (IpPermissions
//! or the CLI's `--protocol --port --cidr` shorthand), DescribeSecurityGroupRules. Rules
//! are stored one per target (`berth_model::ec2::rules`); each change is a
//! compare-and-swap of the group's document.

use super::{filters, out_tags, store, tags_for, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::{Ec2Error, default_vpc, ids, resolve};
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::rules::{self, RuleSpec};
use berth_model::ec2::shapes::{self, IpPermission, IpRange, ResourceType, UserIdGroupPair};
use berth_model::ec2::{
    InstanceRecord, InstanceState, RuleTarget, SecurityGroupRecord, SecurityGroupRule, ids as prefix,
};
use berth_model::keys;
use berth_store::documents::{self, Change, Doc, encode};
use berth_store::{Compare, Txn};

/// The group a request names by id, or by name in the default VPC.
async fn named_group(ctx: &Ctx, id: Option<&str>, name: Option<&str>) -> Result<Doc<SecurityGroupRecord>, AwsError> {
    let id = match (id, name) {
        (Some(id), _) => id.to_string(),
        (None, Some(name)) => {
            let vpc_id = default_vpc::ensure(store(ctx), &ctx.api.scope).await?;
            resolve::security_group_named(store(ctx), &vpc_id, name).await?
        }
        (None, None) => return Err(Ec2Error::missing_parameter("GroupId").into()),
    };
    Ok(resolve::security_group(store(ctx), &id).await?)
}

fn check_name(name: &str, what: &str) -> Result<(), AwsError> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AwsError::ec2(
            "InvalidParameterValue",
            format!("Invalid value '{name}' for {what}. Length must be 1 to 255 characters."),
        ));
    }
    if what == "groupName" && name.to_ascii_lowercase().starts_with("sg-") {
        return Err(AwsError::ec2(
            "InvalidParameterValue",
            format!("Invalid value '{name}' for groupName. Group names may not be in the format sg-*."),
        ));
    }
    Ok(())
}

pub async fn create(
    ctx: Ctx,
    req: shapes::CreateSecurityGroupRequest,
) -> Result<shapes::CreateSecurityGroupResult, AwsError> {
    check_name(&req.group_name, "groupName")?;
    check_name(&req.description, "GroupDescription")?;
    let vpc_id = match &req.vpc_id {
        Some(id) => {
            if !prefix::well_formed(prefix::VPC, id) {
                return Err(Ec2Error::malformed("InvalidVpcID.Malformed", id).into());
            }
            if documents::get::<berth_model::ec2::VpcRecord>(store(&ctx), &keys::ec2_vpc(id)).await?.is_none() {
                return Err(Ec2Error::vpc_not_found(id).into());
            }
            id.clone()
        }
        None => default_vpc::ensure(store(&ctx), &ctx.api.scope).await?,
    };
    let tags = tags_for(&req.tag_specifications, ResourceType::SecurityGroup);
    resolve::tags(&tags)?;
    let group_id = ids::new(prefix::SECURITY_GROUP);
    let group = SecurityGroupRecord {
        group_id: group_id.clone(),
        group_name: req.group_name.clone(),
        description: req.description.clone(),
        vpc_id: vpc_id.clone(),
        owner_id: ctx.api.scope.account.clone(),
        rules: vec![SecurityGroupRule {
            rule_id: ids::new(prefix::SECURITY_GROUP_RULE),
            is_egress: true,
            ip_protocol: "-1".into(),
            from_port: None,
            to_port: None,
            target: RuleTarget::Cidr("0.0.0.0/0".into()),
            description: None,
        }],
        tags,
    };
    let name_key = keys::ec2_security_group_name(&vpc_id, &req.group_name);
    let txn = Txn::new()
        .when(Compare::ModRevision(name_key.clone(), 0))
        .when(Compare::Exists(keys::ec2_vpc(&vpc_id)))
        .put(name_key, encode(&group_id)?)
        .put(keys::ec2_security_group(&group_id), encode(&group)?);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::group_duplicate(&req.group_name, &vpc_id).into());
    }
    Ok(shapes::CreateSecurityGroupResult {
        group_id: Some(group_id),
        security_group_arn: Some(group.arn(&ctx.api.scope.region)),
        tags: out_tags(&group.tags),
    })
}

pub async fn delete(
    ctx: Ctx,
    req: shapes::DeleteSecurityGroupRequest,
) -> Result<shapes::DeleteSecurityGroupResult, AwsError> {
    let doc = named_group(&ctx, req.group_id.as_deref(), req.group_name.as_deref()).await?;
    let g = &doc.value;
    if g.group_name == "default" {
        return Err(AwsError::ec2(
            "CannotDelete",
            format!("the specified group: \"{}\" name: \"default\" cannot be deleted by a user", g.group_id),
        ));
    }
    let instances = documents::list::<InstanceRecord>(store(&ctx), keys::EC2_INSTANCES).await?;
    let groups = documents::list::<SecurityGroupRecord>(store(&ctx), keys::EC2_SECURITY_GROUPS).await?;
    let used = instances
        .iter()
        .any(|i| i.value.state != InstanceState::Terminated && i.value.security_group_ids.contains(&g.group_id))
        || groups.iter().any(|other| {
            other.value.group_id != g.group_id
                && other
                    .value
                    .rules
                    .iter()
                    .any(|r| matches!(&r.target, RuleTarget::Group { group_id, .. } if *group_id == g.group_id))
        });
    if used {
        return Err(Ec2Error::dependency_violation(format!("resource {} has a dependent object", g.group_id)).into());
    }
    let key = keys::ec2_security_group(&g.group_id);
    let txn = Txn::new()
        .when(Compare::ModRevision(key.clone(), doc.mod_revision))
        .delete(key)
        .delete(keys::ec2_security_group_name(&g.vpc_id, &g.group_name));
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::dependency_violation(format!(
            "resource {} changed while it was deleted; try again",
            g.group_id
        ))
        .into());
    }
    Ok(shapes::DeleteSecurityGroupResult { r#return: Some(true), group_id: Some(g.group_id.clone()) })
}

fn group_shape(ctx: &Ctx, g: &SecurityGroupRecord) -> shapes::SecurityGroup {
    shapes::SecurityGroup {
        group_id: Some(g.group_id.clone()),
        group_name: Some(g.group_name.clone()),
        description: Some(g.description.clone()),
        vpc_id: Some(g.vpc_id.clone()),
        owner_id: Some(g.owner_id.clone()),
        security_group_arn: Some(g.arn(&ctx.api.scope.region)),
        ip_permissions: Some(rules::permissions(g.ingress())),
        ip_permissions_egress: Some(rules::permissions(g.egress())),
        tags: out_tags(&g.tags),
    }
}

/// The filter names `group_field` reads.
const GROUP_FILTERS: &[&str] = &["group-id", "group-name", "vpc-id", "description", "owner-id"];

fn group_field(g: &SecurityGroupRecord, name: &str) -> Option<Vec<String>> {
    let one = |v: &str| Some(vec![v.to_string()]);
    match name {
        "group-id" => one(&g.group_id),
        "group-name" => one(&g.group_name),
        "vpc-id" => one(&g.vpc_id),
        "description" => one(&g.description),
        "owner-id" => one(&g.owner_id),
        _ => None,
    }
}

pub async fn describe(
    ctx: Ctx,
    req: shapes::DescribeSecurityGroupsRequest,
) -> Result<shapes::DescribeSecurityGroupsResult, AwsError> {
    let ids = req.group_ids.unwrap_or_default();
    for id in &ids {
        if !prefix::well_formed(prefix::SECURITY_GROUP, id) {
            return Err(Ec2Error::malformed("InvalidGroupId.Malformed", id).into());
        }
    }
    let names = req.group_names.unwrap_or_default();
    let filters = filters(req.filters, GROUP_FILTERS)?;
    let default_vpc = default_vpc::ensure(store(&ctx), &ctx.api.scope).await?;
    let mut out = Vec::new();
    for doc in documents::list::<SecurityGroupRecord>(store(&ctx), keys::EC2_SECURITY_GROUPS).await? {
        let g = doc.value;
        if !ids.is_empty() && !ids.contains(&g.group_id) {
            continue;
        }
        let named = g.vpc_id == default_vpc && names.contains(&g.group_name);
        if !names.is_empty() && !named {
            continue;
        }
        if matches_all(&filters, &g, &g.tags, group_field).map_err(unknown_filter)? {
            out.push(g);
        }
    }
    if let Some(missing) = ids.iter().find(|id| !out.iter().any(|g| &g.group_id == *id)) {
        return Err(Ec2Error::group_not_found(missing).into());
    }
    if let Some(missing) = names.iter().find(|n| !out.iter().any(|g| &g.group_name == *n)) {
        return Err(Ec2Error::group_name_not_found(missing, &default_vpc).into());
    }
    let (items, next_token) = super::page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeSecurityGroupsResult {
        security_groups: Some(items.iter().map(|g| group_shape(&ctx, g)).collect()),
        next_token,
    })
}

/// The permissions a request names: its IpPermissions, or the shorthand members.
fn requested(
    permissions: Option<Vec<IpPermission>>,
    ip_protocol: Option<String>,
    from_port: Option<i32>,
    to_port: Option<i32>,
    cidr_ip: Option<String>,
    source_group: Option<String>,
    source_owner: Option<String>,
) -> Result<Vec<IpPermission>, AwsError> {
    let permissions = match permissions {
        Some(p) if !p.is_empty() => {
            if ip_protocol.is_some() || cidr_ip.is_some() || source_group.is_some() {
                return Err(Ec2Error::invalid_parameter_combination(
                    "The parameter 'ipPermissions' may not be used in combination with 'ipProtocol', 'cidrIp' or 'sourceSecurityGroupName'",
                )
                .into());
            }
            p
        }
        _ => {
            let Some(protocol) = ip_protocol else {
                return Err(Ec2Error::missing_parameter("IpPermissions").into());
            };
            vec![IpPermission {
                ip_protocol: Some(protocol),
                from_port,
                to_port,
                ip_ranges: cidr_ip.map(|c| vec![IpRange { cidr_ip: Some(c), description: None }]),
                user_id_group_pairs: source_group.map(|g| {
                    vec![UserIdGroupPair {
                        group_id: g.starts_with("sg-").then(|| g.clone()),
                        group_name: (!g.starts_with("sg-")).then(|| g.clone()),
                        user_id: source_owner,
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }]
        }
    };
    Ok(permissions)
}

/// The permissions as rules: group pairs named by GroupName become their ids (in the
/// target's VPC), then each permission is one rule per target.
async fn expand(
    ctx: &Ctx,
    target: &SecurityGroupRecord,
    mut permissions: Vec<IpPermission>,
) -> Result<Vec<RuleSpec>, AwsError> {
    for p in &mut permissions {
        for pair in p.user_id_group_pairs.iter_mut().flatten() {
            if pair.group_id.is_none()
                && let Some(name) = &pair.group_name
            {
                pair.group_id = Some(resolve::security_group_named(store(ctx), &target.vpc_id, name).await?);
            }
        }
    }
    let mut specs = Vec::new();
    for p in &permissions {
        specs
            .extend(rules::expand(p, &ctx.api.scope.account).map_err(|e| AwsError::ec2("InvalidParameterValue", e.0))?);
    }
    Ok(specs)
}

/// EC2's description of a rule in its Duplicate/NotFound messages.
fn describe_spec(spec: &RuleSpec) -> String {
    let peer = match &spec.target {
        RuleTarget::Cidr(c) | RuleTarget::CidrV6(c) | RuleTarget::PrefixList(c) => c.clone(),
        RuleTarget::Group { group_id, user_id } => format!("{user_id}/{group_id}"),
    };
    let proto = if spec.ip_protocol == "-1" { "ALL".to_string() } else { spec.ip_protocol.to_uppercase() };
    let ports = match (spec.from_port, spec.to_port) {
        (Some(f), Some(t)) => format!(", from port: {f}, to port: {t}"),
        _ => String::new(),
    };
    format!("peer: {peer}, {proto}{ports}, ALLOW")
}

fn rule_shape(g: &SecurityGroupRecord, r: &SecurityGroupRule, region: &str) -> shapes::SecurityGroupRule {
    let (cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_group_info) = match &r.target {
        RuleTarget::Cidr(c) => (Some(c.clone()), None, None, None),
        RuleTarget::CidrV6(c) => (None, Some(c.clone()), None, None),
        RuleTarget::PrefixList(p) => (None, None, Some(p.clone()), None),
        RuleTarget::Group { group_id, user_id } => (
            None,
            None,
            None,
            Some(shapes::ReferencedSecurityGroup {
                group_id: Some(group_id.clone()),
                user_id: Some(user_id.clone()),
                ..Default::default()
            }),
        ),
    };
    shapes::SecurityGroupRule {
        security_group_rule_id: Some(r.rule_id.clone()),
        security_group_rule_arn: Some(format!("arn:aws:ec2:{region}:{}:security-group-rule/{}", g.owner_id, r.rule_id)),
        group_id: Some(g.group_id.clone()),
        group_owner_id: Some(g.owner_id.clone()),
        is_egress: Some(r.is_egress),
        ip_protocol: Some(r.ip_protocol.clone()),
        from_port: Some(r.from_port.unwrap_or(-1)),
        to_port: Some(r.to_port.unwrap_or(-1)),
        cidr_ipv4,
        cidr_ipv6,
        prefix_list_id,
        referenced_group_info,
        description: r.description.clone(),
        tags: Some(vec![]),
    }
}

/// Adds the rules to the group, refusing duplicates (of its rules or of each other) and
/// groups that do not exist.
async fn authorize(
    ctx: &Ctx,
    group_id: &str,
    specs: Vec<RuleSpec>,
    egress: bool,
) -> Result<Vec<shapes::SecurityGroupRule>, AwsError> {
    for spec in &specs {
        if let RuleTarget::Group { group_id: other, .. } = &spec.target
            && other != group_id
        {
            resolve::security_group(store(ctx), other).await?;
        }
    }
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|s| {
            s.ip_protocol == spec.ip_protocol
                && s.from_port == spec.from_port
                && s.to_port == spec.to_port
                && s.target == spec.target
        }) {
            return Err(Ec2Error::permission_duplicate(format!(
                "the specified rule \"{}\" already exists",
                describe_spec(spec)
            ))
            .into());
        }
    }
    let region = ctx.api.scope.region.clone();
    let added =
        documents::modify(store(ctx), &keys::ec2_security_group(group_id), |current: Option<SecurityGroupRecord>| {
            let Some(mut g) = current else { return Err(AwsError::from(Ec2Error::group_not_found(group_id))) };
            if let Some(dup) = specs.iter().find(|s| g.rules.iter().any(|r| s.same_as(r, egress))) {
                return Err(Ec2Error::permission_duplicate(format!(
                    "the specified rule \"{}\" already exists",
                    describe_spec(dup)
                ))
                .into());
            }
            let new: Vec<SecurityGroupRule> =
                specs.iter().cloned().map(|s| s.into_rule(ids::new(prefix::SECURITY_GROUP_RULE), egress)).collect();
            g.rules.extend(new.iter().cloned());
            let shapes = new.iter().map(|r| rule_shape(&g, r, &region)).collect();
            Ok((Change::Put(g), shapes))
        })
        .await?;
    Ok(added)
}

/// Removes the rules (named by permission or by rule id); one that the group lacks is
/// InvalidPermission.NotFound and nothing is removed.
async fn revoke(
    ctx: &Ctx,
    group_id: &str,
    specs: Vec<RuleSpec>,
    rule_ids: Vec<String>,
    egress: bool,
) -> Result<(), AwsError> {
    documents::modify(store(ctx), &keys::ec2_security_group(group_id), |current: Option<SecurityGroupRecord>| {
        let Some(mut g) = current else { return Err(AwsError::from(Ec2Error::group_not_found(group_id))) };
        for spec in &specs {
            if !g.rules.iter().any(|r| spec.same_as(r, egress)) {
                return Err(Ec2Error::permission_not_found(format!(
                    "The specified rule does not exist in this security group: \"{}\"",
                    describe_spec(spec)
                ))
                .into());
            }
        }
        for id in &rule_ids {
            if !g.rules.iter().any(|r| &r.rule_id == id && r.is_egress == egress) {
                return Err(AwsError::ec2(
                    "InvalidSecurityGroupRuleId.NotFound",
                    format!("The security group rule ID '{id}' does not exist"),
                ));
            }
        }
        g.rules.retain(|r| !specs.iter().any(|s| s.same_as(r, egress)) && !rule_ids.contains(&r.rule_id));
        Ok((Change::Put(g), ()))
    })
    .await
}

pub async fn authorize_ingress(
    ctx: Ctx,
    req: shapes::AuthorizeSecurityGroupIngressRequest,
) -> Result<shapes::AuthorizeSecurityGroupIngressResult, AwsError> {
    let group = named_group(&ctx, req.group_id.as_deref(), req.group_name.as_deref()).await?;
    let source = source_group(&ctx, &group.value, req.source_security_group_name).await?;
    let specs = requested(
        req.ip_permissions,
        req.ip_protocol,
        req.from_port,
        req.to_port,
        req.cidr_ip,
        source,
        req.source_security_group_owner_id,
    )?;
    let specs = expand(&ctx, &group.value, specs).await?;
    let added = authorize(&ctx, &group.value.group_id, specs, false).await?;
    Ok(shapes::AuthorizeSecurityGroupIngressResult { r#return: Some(true), security_group_rules: Some(added) })
}

pub async fn authorize_egress(
    ctx: Ctx,
    req: shapes::AuthorizeSecurityGroupEgressRequest,
) -> Result<shapes::AuthorizeSecurityGroupEgressResult, AwsError> {
    let group = resolve::security_group(store(&ctx), &req.group_id).await?;
    let source = source_group(&ctx, &group.value, req.source_security_group_name).await?;
    let permissions = requested(
        req.ip_permissions,
        req.ip_protocol,
        req.from_port,
        req.to_port,
        req.cidr_ip,
        source,
        req.source_security_group_owner_id,
    )?;
    let specs = expand(&ctx, &group.value, permissions).await?;
    let added = authorize(&ctx, &req.group_id, specs, true).await?;
    Ok(shapes::AuthorizeSecurityGroupEgressResult { r#return: Some(true), security_group_rules: Some(added) })
}

pub async fn revoke_ingress(
    ctx: Ctx,
    req: shapes::RevokeSecurityGroupIngressRequest,
) -> Result<shapes::RevokeSecurityGroupIngressResult, AwsError> {
    let group = named_group(&ctx, req.group_id.as_deref(), req.group_name.as_deref()).await?;
    let rule_ids = req.security_group_rule_ids.unwrap_or_default();
    let specs = if rule_ids.is_empty() || req.ip_permissions.is_some() || req.ip_protocol.is_some() {
        let source = source_group(&ctx, &group.value, req.source_security_group_name).await?;
        let specs = requested(
            req.ip_permissions,
            req.ip_protocol,
            req.from_port,
            req.to_port,
            req.cidr_ip,
            source,
            req.source_security_group_owner_id,
        )?;
        expand(&ctx, &group.value, specs).await?
    } else {
        vec![]
    };
    revoke(&ctx, &group.value.group_id, specs, rule_ids, false).await?;
    Ok(shapes::RevokeSecurityGroupIngressResult { r#return: Some(true), ..Default::default() })
}

pub async fn revoke_egress(
    ctx: Ctx,
    req: shapes::RevokeSecurityGroupEgressRequest,
) -> Result<shapes::RevokeSecurityGroupEgressResult, AwsError> {
    let group = resolve::security_group(store(&ctx), &req.group_id).await?;
    let rule_ids = req.security_group_rule_ids.unwrap_or_default();
    let specs = if rule_ids.is_empty() || req.ip_permissions.is_some() || req.ip_protocol.is_some() {
        let source = source_group(&ctx, &group.value, req.source_security_group_name).await?;
        let permissions = requested(
            req.ip_permissions,
            req.ip_protocol,
            req.from_port,
            req.to_port,
            req.cidr_ip,
            source,
            req.source_security_group_owner_id,
        )?;
        expand(&ctx, &group.value, permissions).await?
    } else {
        vec![]
    };
    revoke(&ctx, &req.group_id, specs, rule_ids, true).await?;
    Ok(shapes::RevokeSecurityGroupEgressResult { r#return: Some(true), ..Default::default() })
}

/// `SourceSecurityGroupName` as a group id (the named group in the target's VPC).
async fn source_group(
    ctx: &Ctx,
    target: &SecurityGroupRecord,
    name: Option<String>,
) -> Result<Option<String>, AwsError> {
    match name {
        None => Ok(None),
        Some(n) if n.starts_with("sg-") => Ok(Some(n)),
        Some(n) => Ok(Some(resolve::security_group_named(store(ctx), &target.vpc_id, &n).await?)),
    }
}

/// The filter names `rule_field` reads.
const RULE_FILTERS: &[&str] = &["group-id", "security-group-rule-id"];

fn rule_field(pair: &(SecurityGroupRecord, SecurityGroupRule), name: &str) -> Option<Vec<String>> {
    let (g, r) = pair;
    match name {
        "group-id" => Some(vec![g.group_id.clone()]),
        "security-group-rule-id" => Some(vec![r.rule_id.clone()]),
        _ => None,
    }
}

pub async fn describe_rules(
    ctx: Ctx,
    req: shapes::DescribeSecurityGroupRulesRequest,
) -> Result<shapes::DescribeSecurityGroupRulesResult, AwsError> {
    let ids = req.security_group_rule_ids.unwrap_or_default();
    let filters = filters(req.filters, RULE_FILTERS)?;
    let mut out = Vec::new();
    for doc in documents::list::<SecurityGroupRecord>(store(&ctx), keys::EC2_SECURITY_GROUPS).await? {
        for rule in &doc.value.rules {
            if !ids.is_empty() && !ids.contains(&rule.rule_id) {
                continue;
            }
            let pair = (doc.value.clone(), rule.clone());
            if matches_all(&filters, &pair, &[], rule_field).map_err(unknown_filter)? {
                out.push(rule_shape(&doc.value, rule, &ctx.api.scope.region));
            }
        }
    }
    if let Some(missing) =
        ids.iter().find(|id| !out.iter().any(|r| r.security_group_rule_id.as_deref() == Some(id.as_str())))
    {
        return Err(AwsError::ec2(
            "InvalidSecurityGroupRuleId.NotFound",
            format!("The security group rule ID '{missing}' does not exist"),
        ));
    }
    let (items, next_token) = super::page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeSecurityGroupRulesResult { security_group_rules: Some(items), next_token })
}
