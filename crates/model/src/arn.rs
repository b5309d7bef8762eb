//! Amazon Resource Names as AWS writes them: `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`.

use std::fmt;

/// Where resources live: every ARN berth writes carries this region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        Self { region: region.into(), account: account.into() }
    }

    /// The ARN of an ECS resource in this scope.
    pub fn ecs(&self, resource: &EcsResource) -> String {
        format!("arn:aws:ecs:{}:{}:{}", self.region, self.account, resource)
    }

    /// The ARN `given`, when it names a resource of `service` that could exist here: this
    /// partition (`aws`), this region (none for IAM and STS, whose ARNs carry no region)
    /// and this account. Every service resolves the ARNs it is given through this one
    /// function and answers its own not-found error for None: an ARN of another region,
    /// partition or account names a resource that does not exist here.
    pub fn resolve<'a>(&self, given: &'a str, service: &str) -> Option<Arn<'a>> {
        let arn = Arn::parse(given)?;
        let region = if GLOBAL_SERVICES.contains(&service) { "" } else { self.region.as_str() };
        (arn.partition == PARTITION && arn.service == service && arn.region == region && arn.account == self.account)
            .then_some(arn)
    }

    /// The ECS resource `given` names, when it is an ECS ARN of this scope (`resolve`).
    pub fn ecs_resource(&self, given: &str) -> Option<EcsResource> {
        self.resolve(given, "ecs")?.ecs_resource()
    }
}

/// The partition every ARN berth writes is in.
pub const PARTITION: &str = "aws";

/// Services whose ARNs name no region.
const GLOBAL_SERVICES: [&str; 2] = ["iam", "sts"];

/// The ECS resources that have ARNs, with the parts their ARNs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsResource {
    Cluster(String),
    TaskDefinition {
        family: String,
        revision: i32,
    },
    Service {
        cluster: String,
        name: String,
    },
    /// A service deployment; `id` is the digits of its `ecs-svc/` deployment id.
    ServiceDeployment {
        cluster: String,
        service: String,
        id: String,
    },
    Task {
        cluster: String,
        id: String,
    },
    ContainerInstance {
        cluster: String,
        id: String,
    },
    CapacityProvider(String),
}

impl fmt::Display for EcsResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EcsResource::Cluster(name) => write!(f, "cluster/{name}"),
            EcsResource::TaskDefinition { family, revision } => {
                write!(f, "task-definition/{family}:{revision}")
            }
            EcsResource::Service { cluster, name } => write!(f, "service/{cluster}/{name}"),
            EcsResource::ServiceDeployment { cluster, service, id } => {
                write!(f, "service-deployment/{cluster}/{service}/{id}")
            }
            EcsResource::Task { cluster, id } => write!(f, "task/{cluster}/{id}"),
            EcsResource::ContainerInstance { cluster, id } => {
                write!(f, "container-instance/{cluster}/{id}")
            }
            EcsResource::CapacityProvider(name) => write!(f, "capacity-provider/{name}"),
        }
    }
}

/// A parsed ARN: its service, region, account and the resource part after the fifth colon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }

    /// The ECS resource this ARN names, if it is a well-formed ECS ARN.
    pub fn ecs_resource(&self) -> Option<EcsResource> {
        if self.service != "ecs" {
            return None;
        }
        let (kind, rest) = self.resource.split_once('/')?;
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let pair = |s: &str| {
            let (a, b) = s.split_once('/')?;
            Some((nonempty(a)?, nonempty(b)?))
        };
        match kind {
            "cluster" => Some(EcsResource::Cluster(nonempty(rest)?)),
            "task-definition" => {
                let (family, revision) = rest.rsplit_once(':')?;
                Some(EcsResource::TaskDefinition {
                    family: nonempty(family)?,
                    revision: revision.parse().ok().filter(|r| *r > 0)?,
                })
            }
            "service" => pair(rest).map(|(cluster, name)| EcsResource::Service { cluster, name }),
            "service-deployment" => {
                let (cluster, rest) = rest.split_once('/')?;
                let (service, id) = pair(rest)?;
                Some(EcsResource::ServiceDeployment { cluster: nonempty(cluster)?, service, id })
            }
            "task" => pair(rest).map(|(cluster, id)| EcsResource::Task { cluster, id }),
            "container-instance" => pair(rest).map(|(cluster, id)| EcsResource::ContainerInstance { cluster, id }),
            "capacity-provider" => Some(EcsResource::CapacityProvider(nonempty(rest)?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_arns_as_aws_does() {
        let scope = Scope::new("us-east-1", "000000000000");
        assert_eq!(
            scope.ecs(&EcsResource::Cluster("default".into())),
            "arn:aws:ecs:us-east-1:000000000000:cluster/default"
        );
        assert_eq!(
            scope.ecs(&EcsResource::TaskDefinition { family: "web".into(), revision: 3 }),
            "arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"
        );
    }

    #[test]
    fn parses_what_it_writes() {
        let scope = Scope::new("eu-west-1", "123456789012");
        for r in [
            EcsResource::Cluster("c".into()),
            EcsResource::TaskDefinition { family: "f-1_x".into(), revision: 12 },
            EcsResource::Service { cluster: "c".into(), name: "s".into() },
            EcsResource::ServiceDeployment { cluster: "c".into(), service: "s".into(), id: "123".into() },
            EcsResource::Task { cluster: "c".into(), id: "abc".into() },
            EcsResource::ContainerInstance { cluster: "c".into(), id: "i".into() },
            EcsResource::CapacityProvider("cp".into()),
        ] {
            let arn = scope.ecs(&r);
            let parsed = Arn::parse(&arn).unwrap();
            assert_eq!((parsed.region, parsed.account), ("eu-west-1", "123456789012"));
            assert_eq!(parsed.ecs_resource(), Some(r));
        }
    }

    #[test]
    fn resolves_only_this_partition_region_and_account() {
        let scope = Scope::new("us-east-1", "123456789012");
        let here = "arn:aws:ecs:us-east-1:123456789012:cluster/x";
        assert_eq!(scope.ecs_resource(here), Some(EcsResource::Cluster("x".into())));
        for elsewhere in [
            "arn:aws:ecs:eu-west-1:123456789012:cluster/x",
            "arn:aws-cn:ecs:us-east-1:123456789012:cluster/x",
            "arn:aws-us-gov:ecs:us-east-1:123456789012:cluster/x",
            "arn:aws:ecs:us-east-1:999999999999:cluster/x",
            "arn:aws:ecs::123456789012:cluster/x",
            "arn:aws:ecr:us-east-1:123456789012:cluster/x",
        ] {
            assert_eq!(scope.ecs_resource(elsewhere), None, "{elsewhere}");
        }
        assert!(scope.resolve("arn:aws:iam::123456789012:role/r", "iam").is_some());
        assert!(scope.resolve("arn:aws:iam:us-east-1:123456789012:role/r", "iam").is_none());
        assert!(scope.resolve("arn:aws:logs:us-east-1:123456789012:log-group:g", "logs").is_some());
        assert!(scope.resolve("arn:aws:logs:us-west-2:123456789012:log-group:g", "logs").is_none());
    }

    #[test]
    fn rejects_malformed_arns() {
        for bad in [
            "",
            "arn",
            "arn:aws:ecs",
            "nope:aws:ecs:r:a:cluster/x",
            "arn:aws:ecs:r:a:cluster/",
            "arn:aws:ecs:r:a:task-definition/web",
            "arn:aws:ecs:r:a:task-definition/web:0",
            "arn:aws:ecs:r:a:task-definition/web:x",
            "arn:aws:ecs:r:a:service/only",
            "arn:aws:ecs:r:a:widget/x",
            "arn:aws:s3:r:a:cluster/x",
        ] {
            assert_eq!(Arn::parse(bad).and_then(|a| a.ecs_resource()), None, "{bad}");
        }
    }
}
