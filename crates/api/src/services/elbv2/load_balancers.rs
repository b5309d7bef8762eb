//! CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer and their attributes.
//! Each load balancer gets its own loopback address (`address_for`), which is its
//! DNSName: its listeners bind there, so two load balancers can both listen on port 80.

use super::{Ctx, load_balancer, new_id, page, required};
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::attributes::{self, LOAD_BALANCER};
use berth_model::elbv2::records::{ListenerRecord, LoadBalancerRecord};
use berth_model::elbv2::*;
use berth_model::keys;
use berth_store::documents;
use berth_store::{Compare, Txn};

/// How many load balancer addresses there are: 127.64.0.1 to 127.127.255.254.
const ADDRESSES: u32 = 64 * 256 * 254;

/// The `n`th load balancer address (n below `ADDRESSES`): 127.64.0.1, ... 127.64.0.254,
/// 127.64.1.1, ... (never .0 or .255), all on the loopback network. A new load balancer
/// takes a random free one, so that several berth servers on one machine (each with its
/// own store) are unlikely ever to pick the same.
pub fn address_for(n: u32) -> String {
    let n = n % ADDRESSES;
    format!("127.{}.{}.{}", 64 + n / (254 * 256), (n / 254) % 256, 1 + n % 254)
}

fn random_address(taken: &[&str]) -> String {
    loop {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let candidate = address_for(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
        if !taken.contains(&candidate.as_str()) {
            return candidate;
        }
    }
}

/// How long a new load balancer shows `provisioning` before `active`.
const PROVISIONING_SECONDS: f64 = 1.0;

/// The load balancer as described at `now`: provisioning for its first moment, then active.
pub fn shown(record: &LoadBalancerRecord, now: Timestamp) -> LoadBalancer {
    let mut lb = record.load_balancer.clone();
    let code = if now.as_secs_f64() - record.created_at.as_secs_f64() < PROVISIONING_SECONDS {
        LoadBalancerStateEnum::Provisioning
    } else {
        LoadBalancerStateEnum::Active
    };
    lb.state = Some(LoadBalancerState { code: Some(code), reason: None });
    lb
}

pub async fn create(ctx: Ctx, input: CreateLoadBalancerInput) -> Result<CreateLoadBalancerOutput, AwsError> {
    let name = required(&input.name, "Name")?;
    validate::name("Load balancer", name).map_err(AwsError::elbv2_invalid)?;
    match input.r#type {
        None | Some(LoadBalancerTypeEnum::Application) => {}
        Some(other) => {
            return Err(AwsError::validation(format!(
                "Load balancer type '{other}' is not supported; berth serves application load balancers"
            )));
        }
    }
    let scheme = input.scheme.unwrap_or(LoadBalancerSchemeEnum::InternetFacing);
    let ip_address_type = input.ip_address_type.unwrap_or(IpAddressType::Ipv4);
    if !matches!(ip_address_type, IpAddressType::Ipv4 | IpAddressType::Dualstack) {
        return Err(AwsError::validation(format!("IpAddressType '{ip_address_type}' must be ipv4 or dualstack")));
    }
    let shown_one =
        |record: &LoadBalancerRecord, at| CreateLoadBalancerOutput { load_balancers: Some(vec![shown(record, at)]) };
    let store = ctx.api.store.as_ref();
    let key = keys::load_balancer(name);
    for _ in 0..documents::MAX_ATTEMPTS {
        if let Some(existing) = documents::get::<LoadBalancerRecord>(store, &key).await? {
            let lb = &existing.value.load_balancer;
            let same = lb.scheme == Some(scheme) && lb.security_groups == Some(security_groups(&input));
            if !same {
                return Err(AwsError::elbv2("DuplicateLoadBalancerName", "A load balancer with the same name exists"));
            }
            return Ok(shown_one(&existing.value, Timestamp::now()));
        }
        let (taken, _) = store.range(keys::LB_ADDRESSES).await?;
        if taken.len() >= 50 {
            return Err(AwsError::elbv2("TooManyLoadBalancers", "The account has 50 load balancers already"));
        }
        let taken: Vec<&str> = taken.iter().map(|kv| kv.key.trim_start_matches(keys::LB_ADDRESSES)).collect();
        let address = random_address(&taken);
        let record = new_record(&ctx, name, &input, scheme, ip_address_type, address.clone());
        let txn = Txn::new()
            .when(Compare::ModRevision(key.clone(), 0))
            .when(Compare::ModRevision(keys::lb_address(&address), 0))
            .put(&key, documents::encode(&record)?)
            .put(keys::lb_address(&address), documents::encode(&name)?);
        if store.txn(txn).await?.succeeded {
            return Ok(shown_one(&record, record.created_at));
        }
    }
    Err(AwsError::internal("InternalFailure"))
}

/// The security groups asked for (none when not given).
fn security_groups(input: &CreateLoadBalancerInput) -> Vec<String> {
    input.security_groups.clone().unwrap_or_default()
}

fn new_record(
    ctx: &Ctx,
    name: &str,
    input: &CreateLoadBalancerInput,
    scheme: LoadBalancerSchemeEnum,
    ip_address_type: IpAddressType,
    address: String,
) -> LoadBalancerRecord {
    let region = &ctx.api.scope.region;
    let zone = |i: usize| Some(format!("{region}{}", char::from(b'a' + (i % 26) as u8)));
    let subnets = input.subnets.as_deref().unwrap_or_default();
    let availability_zones = if subnets.is_empty() {
        vec![AvailabilityZone { zone_name: zone(0), ..Default::default() }]
    } else {
        subnets
            .iter()
            .enumerate()
            .map(|(i, s)| AvailabilityZone { zone_name: zone(i), subnet_id: Some(s.clone()), ..Default::default() })
            .collect()
    };
    let created_at = Timestamp::now();
    let resource = Resource::LoadBalancer { name: name.into(), id: new_id() };
    LoadBalancerRecord {
        load_balancer: LoadBalancer {
            load_balancer_arn: Some(arn::arn(&ctx.api.scope, &resource)),
            dns_name: Some(address),
            canonical_hosted_zone_id: Some("ZBERTHLOOPBACK".into()),
            created_time: Some(created_at),
            load_balancer_name: Some(name.into()),
            scheme: Some(scheme),
            vpc_id: Some("vpc-berth".into()),
            state: Some(LoadBalancerState { code: Some(LoadBalancerStateEnum::Provisioning), reason: None }),
            r#type: Some(LoadBalancerTypeEnum::Application),
            availability_zones: Some(availability_zones),
            security_groups: Some(security_groups(input)),
            ip_address_type: Some(ip_address_type),
            ..Default::default()
        },
        created_at,
        attributes: attributes::defaults(LOAD_BALANCER),
        tags: input.tags.clone().unwrap_or_default(),
    }
}

pub async fn describe(ctx: Ctx, input: DescribeLoadBalancersInput) -> Result<DescribeLoadBalancersOutput, AwsError> {
    let (arns, names) = (input.load_balancer_arns.unwrap_or_default(), input.names.unwrap_or_default());
    if !arns.is_empty() && !names.is_empty() {
        return Err(AwsError::validation("LoadBalancerArns and Names cannot be used together"));
    }
    let mut records = Vec::new();
    for arn in &arns {
        records.push(load_balancer(&ctx, arn).await?.value);
    }
    for name in &names {
        let doc = documents::get::<LoadBalancerRecord>(ctx.api.store.as_ref(), &keys::load_balancer(name)).await?;
        let valid = validate::name("Load balancer", name).is_ok();
        records.push(doc.filter(|_| valid).ok_or_else(AwsError::elbv2_lb_not_found)?.value);
    }
    if arns.is_empty() && names.is_empty() {
        records =
            documents::list(ctx.api.store.as_ref(), keys::LOAD_BALANCERS).await?.into_iter().map(|d| d.value).collect();
    }
    let now = Timestamp::now();
    let name_of = |r: &LoadBalancerRecord| r.load_balancer.load_balancer_name.clone().unwrap_or_default();
    let (records, next) = page(records, name_of, input.marker.as_deref(), input.page_size)?;
    Ok(DescribeLoadBalancersOutput {
        load_balancers: Some(records.iter().map(|r| shown(r, now)).collect()),
        next_marker: next,
    })
}

/// Deletes the load balancer with its listeners and their rules. A load balancer that
/// does not exist (any more) is no error, as in ELB.
pub async fn delete(ctx: Ctx, input: DeleteLoadBalancerInput) -> Result<DeleteLoadBalancerOutput, AwsError> {
    let arn = required(&input.load_balancer_arn, "LoadBalancerArn")?;
    let doc = match load_balancer(&ctx, arn).await {
        Ok(doc) => doc,
        Err(e) if e.code == "LoadBalancerNotFound" => return Ok(DeleteLoadBalancerOutput {}),
        Err(e) => return Err(e),
    };
    if attributes::value(LOAD_BALANCER, &doc.value.attributes, "deletion_protection.enabled") == "true" {
        return Err(AwsError::elbv2(
            "OperationNotPermitted",
            format!("Load balancer '{arn}' cannot be deleted because deletion protection is enabled"),
        ));
    }
    let Some(Resource::LoadBalancer { name, id }) = arn::parse(arn) else {
        return Err(AwsError::elbv2_lb_not_found());
    };
    let store = ctx.api.store.as_ref();
    let listeners = documents::list::<ListenerRecord>(store, &keys::listeners_of(&id)).await?;
    let mut txn = Txn::new()
        .when(Compare::ModRevision(keys::load_balancer(&name), doc.mod_revision))
        .delete(keys::load_balancer(&name))
        .delete(keys::lb_address(doc.value.load_balancer.dns_name.as_deref().unwrap_or_default()));
    for l in &listeners {
        let Some(Resource::Listener { id: listener_id, .. }) = arn::parse(l.value.arn()) else {
            continue;
        };
        txn = txn.delete(keys::listener(&id, &listener_id));
        let (rules, _) = store.range(&keys::rules_of(&listener_id)).await?;
        for r in rules {
            txn = txn.delete(r.key);
        }
    }
    store.txn(txn).await?;
    Ok(DeleteLoadBalancerOutput {})
}

pub async fn describe_attributes(
    ctx: Ctx,
    input: DescribeLoadBalancerAttributesInput,
) -> Result<DescribeLoadBalancerAttributesOutput, AwsError> {
    let doc = load_balancer(&ctx, required(&input.load_balancer_arn, "LoadBalancerArn")?).await?;
    Ok(DescribeLoadBalancerAttributesOutput { attributes: Some(doc.value.attributes) })
}

pub async fn modify_attributes(
    ctx: Ctx,
    input: ModifyLoadBalancerAttributesInput,
) -> Result<ModifyLoadBalancerAttributesOutput, AwsError> {
    let arn = required(&input.load_balancer_arn, "LoadBalancerArn")?;
    let is_kind = |r: &Resource| matches!(r, Resource::LoadBalancer { .. });
    let attributes = super::modify_attributes(&ctx, arn, is_kind, LOAD_BALANCER, &input.attributes).await?;
    Ok(ModifyLoadBalancerAttributesOutput { attributes: Some(attributes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_distinct_loopback_hosts() {
        assert_eq!(address_for(0), "127.64.0.1");
        assert_eq!(address_for(253), "127.64.0.254");
        assert_eq!(address_for(254), "127.64.1.1");
        assert_eq!(address_for(ADDRESSES - 1), "127.127.255.254");
        assert_eq!(address_for(ADDRESSES), "127.64.0.1");
        let all: std::collections::HashSet<String> = (0..100_000).map(address_for).collect();
        assert_eq!(all.len(), 100_000);
        assert!(all.iter().all(|a| !a.ends_with(".0") && !a.ends_with(".255")));
        assert_ne!(random_address(&["127.64.0.1"]), "127.64.0.1");
    }
}
