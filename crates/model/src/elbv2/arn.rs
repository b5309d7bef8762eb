//! elbv2 ARNs: `arn:aws:elasticloadbalancing:REGION:ACCOUNT:RESOURCE`, RESOURCE one of
//! `loadbalancer/app/NAME/ID`, `targetgroup/NAME/ID`, `listener/app/LB/LBID/ID`,
//! `listener-rule/app/LB/LBID/LISTENERID/ID` (ids 16 hex digits). A listener's default
//! rule has the listener's own id as its rule id.

use crate::arn::Scope;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    LoadBalancer { name: String, id: String },
    TargetGroup { name: String, id: String },
    Listener { lb_name: String, lb_id: String, id: String },
    Rule { lb_name: String, lb_id: String, listener_id: String, id: String },
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::LoadBalancer { name, id } => write!(f, "loadbalancer/app/{name}/{id}"),
            Resource::TargetGroup { name, id } => write!(f, "targetgroup/{name}/{id}"),
            Resource::Listener { lb_name, lb_id, id } => write!(f, "listener/app/{lb_name}/{lb_id}/{id}"),
            Resource::Rule { lb_name, lb_id, listener_id, id } => {
                write!(f, "listener-rule/app/{lb_name}/{lb_id}/{listener_id}/{id}")
            }
        }
    }
}

pub fn arn(scope: &Scope, resource: &Resource) -> String {
    format!("arn:aws:elasticloadbalancing:{}:{}:{resource}", scope.region, scope.account)
}

/// The resource an ARN names, if it is a well-formed elbv2 ARN. Whether it exists (and
/// is in this region and account) is for the caller to check against the stored ARN.
pub fn parse(arn: &str) -> Option<Resource> {
    let rest = arn.strip_prefix("arn:aws:elasticloadbalancing:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let segments: Vec<&str> = resource.split('/').collect();
    let ok = |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !segments.iter().all(ok) {
        return None;
    }
    let s = |i: usize| segments[i].to_string();
    Some(match segments.as_slice() {
        ["loadbalancer", "app", _, _] => Resource::LoadBalancer { name: s(2), id: s(3) },
        ["targetgroup", _, _] => Resource::TargetGroup { name: s(1), id: s(2) },
        ["listener", "app", _, _, _] => Resource::Listener { lb_name: s(2), lb_id: s(3), id: s(4) },
        ["listener-rule", "app", _, _, _, _] => {
            Resource::Rule { lb_name: s(2), lb_id: s(3), listener_id: s(4), id: s(5) }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let scope = Scope::new("us-east-1", "000000000000");
        for r in [
            Resource::LoadBalancer { name: "web".into(), id: "0123456789abcdef".into() },
            Resource::TargetGroup { name: "tg-1".into(), id: "0123456789abcdef".into() },
            Resource::Listener { lb_name: "web".into(), lb_id: "01".into(), id: "02".into() },
            Resource::Rule { lb_name: "web".into(), lb_id: "01".into(), listener_id: "02".into(), id: "03".into() },
        ] {
            assert_eq!(parse(&arn(&scope, &r)), Some(r));
        }
        assert_eq!(
            arn(&scope, &Resource::TargetGroup { name: "t".into(), id: "ab".into() }),
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/t/ab"
        );
    }

    #[test]
    fn malformed_arns_are_none() {
        for bad in [
            "",
            "arn:aws:ecs:us-east-1:0:cluster/x",
            "arn:aws:elasticloadbalancing:r:a:targetgroup/x",
            "arn:aws:elasticloadbalancing:r:a:targetgroup/x/../y",
            "arn:aws:elasticloadbalancing:r:a:loadbalancer/net/x/1",
            "arn:aws:elasticloadbalancing:r:a:targetgroup//1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
