//! Security group rules as EC2 reads and writes them: an `IpPermission` (a protocol and
//! port range with any number of CIDRs, groups and prefix lists) is one rule per target;
//! DescribeSecurityGroups groups the rules back by protocol and ports.

use super::shapes::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
use super::{RuleTarget, SecurityGroupRule};

/// A permission EC2 refuses (InvalidParameterValue), with a message naming why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPermission(pub String);

/// A rule before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub ip_protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub target: RuleTarget,
    pub description: Option<String>,
}

impl RuleSpec {
    pub fn into_rule(self, rule_id: String, is_egress: bool) -> SecurityGroupRule {
        SecurityGroupRule {
            rule_id,
            is_egress,
            ip_protocol: self.ip_protocol,
            from_port: self.from_port,
            to_port: self.to_port,
            target: self.target,
            description: self.description,
        }
    }

    pub fn same_as(&self, rule: &SecurityGroupRule, is_egress: bool) -> bool {
        rule.is_egress == is_egress
            && rule.ip_protocol == self.ip_protocol
            && rule.from_port == self.from_port
            && rule.to_port == self.to_port
            && rule.target == self.target
    }
}

/// The protocol as EC2 keeps it: `tcp`, `udp`, `icmp`, `icmpv6` by name (also when given
/// as 6, 17, 1, 58), `-1` for all (`all` too), other protocol numbers as numbers.
pub fn protocol(text: &str) -> Result<String, InvalidPermission> {
    let lower = text.trim().to_ascii_lowercase();
    let named = match lower.as_str() {
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" => "icmp",
        "icmpv6" | "58" => "icmpv6",
        "-1" | "all" => "-1",
        other => match other.parse::<u16>() {
            Ok(n) if n <= 255 => return Ok(n.to_string()),
            _ => return Err(InvalidPermission(format!("Invalid IP protocol: {text}"))),
        },
    };
    Ok(named.to_string())
}

/// The port range a rule of `protocol` keeps: tcp and udp need both ports within
/// 0–65535, from ≤ to; icmp keeps type and code (-1 for any); other protocols have none.
fn ports(protocol: &str, from: Option<i32>, to: Option<i32>) -> Result<(Option<i32>, Option<i32>), InvalidPermission> {
    match protocol {
        "tcp" | "udp" => {
            let (Some(from), Some(to)) = (from, to) else {
                return Err(InvalidPermission(format!(
                    "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."
                )));
            };
            if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
                return Err(InvalidPermission(format!(
                    "Invalid value for portRange. Must be between 0 and 65535 with from ({from}) <= to ({to})."
                )));
            }
            Ok((Some(from), Some(to)))
        }
        "icmp" | "icmpv6" => Ok((Some(from.unwrap_or(-1)), Some(to.unwrap_or(-1)))),
        _ => Ok((None, None)),
    }
}

fn cidr4(text: &str) -> Result<String, InvalidPermission> {
    super::cidr::Cidr::parse(text)
        .map(|c| c.to_string())
        .ok_or_else(|| InvalidPermission(format!("CIDR block {text} is malformed")))
}

fn cidr6(text: &str) -> Result<String, InvalidPermission> {
    let (addr, len) =
        text.split_once('/').ok_or_else(|| InvalidPermission(format!("CIDR block {text} is malformed")))?;
    match (addr.parse::<std::net::Ipv6Addr>(), len.parse::<u8>()) {
        (Ok(_), Ok(l)) if l <= 128 => Ok(text.to_ascii_lowercase()),
        _ => Err(InvalidPermission(format!("CIDR block {text} is malformed"))),
    }
}

/// One rule per target of the permission. A group named without an account is this
/// `account`'s.
pub fn expand(permission: &IpPermission, account: &str) -> Result<Vec<RuleSpec>, InvalidPermission> {
    let proto = protocol(permission.ip_protocol.as_deref().unwrap_or_default())?;
    let (from_port, to_port) = ports(&proto, permission.from_port, permission.to_port)?;
    let mut targets = Vec::new();
    for r in permission.ip_ranges.iter().flatten() {
        let cidr = r.cidr_ip.as_deref().ok_or_else(|| InvalidPermission("An IpRange needs a CidrIp".into()))?;
        targets.push((RuleTarget::Cidr(cidr4(cidr)?), r.description.clone()));
    }
    for r in permission.ipv6_ranges.iter().flatten() {
        let cidr = r.cidr_ipv6.as_deref().ok_or_else(|| InvalidPermission("An Ipv6Range needs a CidrIpv6".into()))?;
        targets.push((RuleTarget::CidrV6(cidr6(cidr)?), r.description.clone()));
    }
    for p in permission.user_id_group_pairs.iter().flatten() {
        let group_id =
            p.group_id.clone().ok_or_else(|| InvalidPermission("A UserIdGroupPair needs a GroupId in a VPC".into()))?;
        let user_id = p.user_id.clone().unwrap_or_else(|| account.to_string());
        targets.push((RuleTarget::Group { group_id, user_id }, p.description.clone()));
    }
    for p in permission.prefix_list_ids.iter().flatten() {
        let id = p.prefix_list_id.clone().ok_or_else(|| InvalidPermission("A PrefixListId needs its id".into()))?;
        targets.push((RuleTarget::PrefixList(id), p.description.clone()));
    }
    if targets.is_empty() {
        return Err(InvalidPermission(
            "The request must name a source or destination: IpRanges, Ipv6Ranges, UserIdGroupPairs or PrefixListIds"
                .into(),
        ));
    }
    Ok(targets
        .into_iter()
        .map(|(target, description)| RuleSpec { ip_protocol: proto.clone(), from_port, to_port, target, description })
        .collect())
}

/// The rules grouped back into permissions by protocol and ports, in first-seen order.
pub fn permissions<'a>(rules: impl IntoIterator<Item = &'a SecurityGroupRule>) -> Vec<IpPermission> {
    let mut out: Vec<IpPermission> = Vec::new();
    for rule in rules {
        let same = |p: &&mut IpPermission| {
            p.ip_protocol.as_deref() == Some(rule.ip_protocol.as_str())
                && p.from_port == rule.from_port
                && p.to_port == rule.to_port
        };
        let index = match out.iter_mut().position(|p| same(&p)) {
            Some(i) => i,
            None => {
                out.push(IpPermission {
                    ip_protocol: Some(rule.ip_protocol.clone()),
                    from_port: rule.from_port,
                    to_port: rule.to_port,
                    user_id_group_pairs: Some(vec![]),
                    ip_ranges: Some(vec![]),
                    ipv6_ranges: Some(vec![]),
                    prefix_list_ids: Some(vec![]),
                });
                out.len() - 1
            }
        };
        let p = &mut out[index];
        let description = rule.description.clone();
        match &rule.target {
            RuleTarget::Cidr(c) => {
                p.ip_ranges.get_or_insert_default().push(IpRange { cidr_ip: Some(c.clone()), description })
            }
            RuleTarget::CidrV6(c) => {
                p.ipv6_ranges.get_or_insert_default().push(Ipv6Range { cidr_ipv6: Some(c.clone()), description })
            }
            RuleTarget::Group { group_id, user_id } => {
                p.user_id_group_pairs.get_or_insert_default().push(UserIdGroupPair {
                    group_id: Some(group_id.clone()),
                    user_id: Some(user_id.clone()),
                    description,
                    ..Default::default()
                })
            }
            RuleTarget::PrefixList(id) => p
                .prefix_list_ids
                .get_or_insert_default()
                .push(PrefixListId { prefix_list_id: Some(id.clone()), description }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(port: i32) -> IpPermission {
        IpPermission {
            ip_protocol: Some("tcp".into()),
            from_port: Some(port),
            to_port: Some(port),
            ..Default::default()
        }
    }

    #[test]
    fn a_permission_is_one_rule_per_target() {
        let p = IpPermission {
            ip_ranges: Some(vec![IpRange { cidr_ip: Some("0.0.0.0/0".into()), description: None }]),
            user_id_group_pairs: Some(vec![UserIdGroupPair { group_id: Some("sg-1".into()), ..Default::default() }]),
            ..tcp(80)
        };
        let rules = expand(&p, "111").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].target, RuleTarget::Group { group_id: "sg-1".into(), user_id: "111".into() });
        assert_eq!((rules[0].from_port, rules[0].to_port), (Some(80), Some(80)));
    }

    #[test]
    fn bad_permissions_are_refused() {
        let cidr = |c: &str| Some(vec![IpRange { cidr_ip: Some(c.into()), description: None }]);
        assert!(expand(&IpPermission { ip_ranges: cidr("10.0.0.1/8"), ..tcp(80) }, "1").is_err());
        assert!(expand(&IpPermission { ip_ranges: cidr("0.0.0.0/0"), ..tcp(70000) }, "1").is_err());
        assert!(expand(&tcp(80), "1").is_err(), "no target");
        let all = IpPermission { ip_protocol: Some("all".into()), ip_ranges: cidr("0.0.0.0/0"), ..Default::default() };
        assert_eq!(expand(&all, "1").unwrap()[0].ip_protocol, "-1");
        assert!(protocol("bogus").is_err());
        assert_eq!(protocol("6").unwrap(), "tcp");
    }

    #[test]
    fn rules_group_back_by_protocol_and_ports() {
        let rule = |id: &str, port: i32, target: RuleTarget| {
            RuleSpec {
                ip_protocol: "tcp".into(),
                from_port: Some(port),
                to_port: Some(port),
                target,
                description: None,
            }
            .into_rule(id.into(), false)
        };
        let rules = vec![
            rule("a", 80, RuleTarget::Cidr("0.0.0.0/0".into())),
            rule("b", 443, RuleTarget::Cidr("0.0.0.0/0".into())),
            rule("c", 80, RuleTarget::Group { group_id: "sg-1".into(), user_id: "1".into() }),
        ];
        let perms = permissions(&rules);
        assert_eq!(perms.len(), 2);
        assert_eq!(perms[0].ip_ranges.as_ref().unwrap().len(), 1);
        assert_eq!(perms[0].user_id_group_pairs.as_ref().unwrap().len(), 1);
        assert_eq!(perms[1].from_port, Some(443));
    }
}
