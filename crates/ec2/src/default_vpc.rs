//! The default VPC EC2 gives every account in a region: 172.31.0.0/16, one default /20
//! subnet per availability zone, and its default security group. Created once, on the
//! first EC2 call (or at server start), in one transaction; `ensure` is idempotent and
//! safe to race.

use crate::{Ec2Error, ids};
use berth_model::arn::Scope;
use berth_model::ec2::{
    RuleTarget, SecurityGroupRecord, SecurityGroupRule, SubnetRecord, VpcRecord, ids as prefix, zones,
};
use berth_model::keys;
use berth_store::documents::{self, encode};
use berth_store::{Compare, Store, Txn};

pub const CIDR: &str = "172.31.0.0/16";

/// The default subnets' blocks, one per zone in order.
const SUBNET_CIDRS: [&str; 3] = ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"];

/// The default VPC's id, creating it (with its subnets and default security group) if
/// this scope has none yet.
pub async fn ensure(store: &dyn Store, scope: &Scope) -> Result<String, Ec2Error> {
    for _ in 0..documents::MAX_ATTEMPTS {
        if let Some(doc) = documents::get::<String>(store, keys::EC2_DEFAULT_VPC).await? {
            return Ok(doc.value);
        }
        let vpc = new_vpc(scope, CIDR, true);
        let group = default_security_group(&vpc.vpc_id, &scope.account);
        let mut txn = Txn::new()
            .when(Compare::ModRevision(keys::EC2_DEFAULT_VPC.to_string(), 0))
            .put(keys::EC2_DEFAULT_VPC, encode(&vpc.vpc_id)?)
            .put(keys::ec2_vpc(&vpc.vpc_id), encode(&vpc)?)
            .put(keys::ec2_security_group(&group.group_id), encode(&group)?)
            .put(keys::ec2_security_group_name(&vpc.vpc_id, &group.group_name), encode(&group.group_id)?);
        for (zone, cidr) in zones::zones(&scope.region).into_iter().zip(SUBNET_CIDRS) {
            let subnet = SubnetRecord {
                subnet_id: ids::new(prefix::SUBNET),
                vpc_id: vpc.vpc_id.clone(),
                owner_id: scope.account.clone(),
                cidr_block: cidr.to_string(),
                availability_zone: zone.name,
                availability_zone_id: zone.id,
                default_for_az: true,
                map_public_ip_on_launch: true,
                allocated_ips: vec![],
                tags: vec![],
            };
            txn = txn.put(keys::ec2_subnet(&subnet.subnet_id), encode(&subnet)?);
        }
        if store.txn(txn).await?.succeeded {
            return Ok(vpc.vpc_id);
        }
    }
    Err(documents::DocumentError::Contended { key: keys::EC2_DEFAULT_VPC.to_string() }.into())
}

/// A VPC record with fresh ids.
pub fn new_vpc(scope: &Scope, cidr: &str, is_default: bool) -> VpcRecord {
    VpcRecord {
        vpc_id: ids::new(prefix::VPC),
        owner_id: scope.account.clone(),
        cidr_block: cidr.to_string(),
        cidr_association_id: ids::new(prefix::VPC_CIDR_ASSOC),
        is_default,
        instance_tenancy: "default".to_string(),
        dhcp_options_id: ids::new(prefix::DHCP_OPTIONS),
        tags: vec![],
    }
}

/// The `default` security group every VPC gets: all traffic in from its own members,
/// all traffic out.
pub fn default_security_group(vpc_id: &str, owner: &str) -> SecurityGroupRecord {
    let group_id = ids::new(prefix::SECURITY_GROUP);
    let all = |is_egress, target| SecurityGroupRule {
        rule_id: ids::new(prefix::SECURITY_GROUP_RULE),
        is_egress,
        ip_protocol: "-1".to_string(),
        from_port: None,
        to_port: None,
        target,
        description: None,
    };
    SecurityGroupRecord {
        group_name: "default".to_string(),
        description: "default VPC security group".to_string(),
        vpc_id: vpc_id.to_string(),
        owner_id: owner.to_string(),
        rules: vec![
            all(false, RuleTarget::Group { group_id: group_id.clone(), user_id: owner.to_string() }),
            all(true, RuleTarget::Cidr("0.0.0.0/0".to_string())),
        ],
        tags: vec![],
        group_id,
    }
}

/// The default subnets of the default VPC, in zone order.
pub async fn default_subnets(store: &dyn Store, scope: &Scope) -> Result<Vec<SubnetRecord>, Ec2Error> {
    let vpc_id = ensure(store, scope).await?;
    let mut subnets: Vec<SubnetRecord> = documents::list::<SubnetRecord>(store, keys::EC2_SUBNETS)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|s| s.vpc_id == vpc_id && s.default_for_az)
        .collect();
    subnets.sort_by(|a, b| a.availability_zone.cmp(&b.availability_zone));
    Ok(subnets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    #[tokio::test]
    async fn created_once_with_a_subnet_per_zone_and_a_default_group() {
        let store = MemoryStore::new();
        let scope = Scope::new("us-east-1", "111122223333");
        let (a, b) = tokio::join!(ensure(&store, &scope), ensure(&store, &scope));
        let id = a.unwrap();
        assert_eq!(b.unwrap(), id);
        assert_eq!(ensure(&store, &scope).await.unwrap(), id);
        let subnets = default_subnets(&store, &scope).await.unwrap();
        let zones: Vec<_> = subnets.iter().map(|s| s.availability_zone.as_str()).collect();
        assert_eq!(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert_eq!(subnets[1].cidr_block, "172.31.16.0/20");
        assert_eq!(subnets[0].available_ip_address_count(), 4091);
        let groups = documents::list::<SecurityGroupRecord>(&store, keys::EC2_SECURITY_GROUPS).await.unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].value.group_name.as_str(), groups[0].value.vpc_id.as_str()), ("default", id.as_str()));
        let vpcs = documents::list::<VpcRecord>(&store, keys::EC2_VPCS).await.unwrap();
        assert_eq!(vpcs.len(), 1);
    }
}
