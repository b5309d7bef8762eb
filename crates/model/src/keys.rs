//! Where each object lives in the store. Every component reads and writes state
//! through these functions, so the layout is written down once.
//!
//! Names that go into keys are validated first (cluster names and task definition
//! families are `[A-Za-z0-9_-]+`), so a `/` can never make one key look like another.

/// `ecs/clusters/{name}`: the cluster, as the generated `Cluster` shape.
pub fn cluster(name: &str) -> String {
    format!("ecs/clusters/{name}")
}

pub const CLUSTERS: &str = "ecs/clusters/";

/// `ecs/taskdef-families/{family}`: the family's revision counter, so a revision
/// number is never handed out twice, even after its definition is deleted.
pub fn taskdef_family(family: &str) -> String {
    format!("ecs/taskdef-families/{family}")
}

pub const TASKDEF_FAMILIES: &str = "ecs/taskdef-families/";

/// `ecs/taskdefs/{family}/{revision:010}`: zero-padded so a prefix read of a family
/// returns its revisions in numeric order.
pub fn taskdef(family: &str, revision: i32) -> String {
    format!("ecs/taskdefs/{family}/{revision:010}")
}

/// Every revision of one family.
pub fn taskdefs_of(family: &str) -> String {
    format!("ecs/taskdefs/{family}/")
}

pub const TASKDEFS: &str = "ecs/taskdefs/";

/// `ecs/services/{cluster}/{name}`: a service (`ServiceRecord`), ACTIVE, DRAINING or
/// INACTIVE (kept, as ECS shows deleted services for a while).
pub fn service(cluster: &str, name: &str) -> String {
    format!("ecs/services/{cluster}/{name}")
}

/// Every service of one cluster.
pub fn services_of(cluster: &str) -> String {
    format!("ecs/services/{cluster}/")
}

/// Every service of every cluster (what the service controller watches).
pub const SERVICES: &str = "ecs/services/";

/// Every container instance of every cluster.
pub const INSTANCES: &str = "ecs/instances/";

pub fn instances_of(cluster: &str) -> String {
    format!("ecs/instances/{cluster}/")
}

pub fn tasks_of(cluster: &str) -> String {
    format!("ecs/tasks/{cluster}/")
}

/// `ecs/instances/{cluster}/{id}`: a container instance (`ContainerInstanceRecord`); the
/// id is 32 hex digits, so no id is a prefix of another.
pub fn instance(cluster: &str, id: &str) -> String {
    format!("ecs/instances/{cluster}/{id}")
}

/// `ecs/tasks/{cluster}/{id}`: a task (`TaskRecord`), id 32 hex digits.
/// Every task of every cluster.
pub const TASKS: &str = "ecs/tasks/";

pub fn task(cluster: &str, id: &str) -> String {
    format!("ecs/tasks/{cluster}/{id}")
}

/// `ecs/client-tokens/{cluster}/{hex(token)}`: what a RunTask with that clientToken
/// answered (`ClientTokenRecord`). The token (any of ASCII 33–126) is hex-encoded so
/// that a `/` in it stays inside the key's last segment.
pub fn client_token(cluster: &str, token: &str) -> String {
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    format!("ecs/client-tokens/{cluster}/{hex}")
}

/// `iam/access-keys/{id}`: an access key and its sealed secret.
pub fn access_key(id: &str) -> String {
    format!("iam/access-keys/{id}")
}

/// `iam/root-access-key`: the id of the root credential written to `<data-dir>/credentials`.
pub const ROOT_ACCESS_KEY: &str = "iam/root-access-key";

/// An ECR repository name as it appears in a key: names may contain `/` (`team/app`),
/// which becomes `+` (not a repository-name character), so that one repository's
/// prefix never covers another's.
fn ecr_repo(name: &str) -> String {
    name.replace('/', "+")
}

/// `ecr/repositories/{name}`: an ECR repository (`RepositoryRecord` of berth-registry).
pub fn ecr_repository(name: &str) -> String {
    format!("ecr/repositories/{}", ecr_repo(name))
}

pub const ECR_REPOSITORIES: &str = "ecr/repositories/";

/// `ecr/images/{name}/{digest}`: one image (manifest) of a repository.
pub fn ecr_image(repository: &str, digest: &str) -> String {
    format!("ecr/images/{}/{digest}", ecr_repo(repository))
}

pub fn ecr_images_of(repository: &str) -> String {
    format!("ecr/images/{}/", ecr_repo(repository))
}

/// `ecr/image-tags/{name}/{tag}`: the digest a tag points at (tags are `[A-Za-z0-9_.-]`).
pub fn ecr_tag(repository: &str, tag: &str) -> String {
    format!("ecr/image-tags/{}/{tag}", ecr_repo(repository))
}

pub fn ecr_tags_of(repository: &str) -> String {
    format!("ecr/image-tags/{}/", ecr_repo(repository))
}

/// `elbv2/load-balancers/{name}`: an application load balancer (`LoadBalancerRecord`).
/// Names are `[A-Za-z0-9-]`, unique per region, as in ARNs.
pub fn load_balancer(name: &str) -> String {
    format!("elbv2/load-balancers/{name}")
}

pub const LOAD_BALANCERS: &str = "elbv2/load-balancers/";

/// `elbv2/addresses/{ip}`: the loopback address a load balancer's listeners bind,
/// claimed in the transaction that creates it so that no two share one.
pub fn lb_address(ip: &str) -> String {
    format!("elbv2/addresses/{ip}")
}

pub const LB_ADDRESSES: &str = "elbv2/addresses/";

/// `elbv2/target-groups/{name}`: a target group with its targets (`TargetGroupRecord`).
pub fn target_group(name: &str) -> String {
    format!("elbv2/target-groups/{name}")
}

pub const TARGET_GROUPS: &str = "elbv2/target-groups/";

/// `elbv2/listeners/{load balancer id}/{listener id}` (`ListenerRecord`); ids are 16 hex digits.
pub fn listener(lb_id: &str, id: &str) -> String {
    format!("elbv2/listeners/{lb_id}/{id}")
}

pub fn listeners_of(lb_id: &str) -> String {
    format!("elbv2/listeners/{lb_id}/")
}

pub const LISTENERS: &str = "elbv2/listeners/";

/// `elbv2/rules/{listener id}/{rule id}`: a listener's non-default rule (`RuleRecord`).
pub fn rule(listener_id: &str, id: &str) -> String {
    format!("elbv2/rules/{listener_id}/{id}")
}

pub fn rules_of(listener_id: &str) -> String {
    format!("elbv2/rules/{listener_id}/")
}

pub const RULES: &str = "elbv2/rules/";

/// `ec2/instances/{id}`: an EC2 instance (`ec2::InstanceRecord`); ids are `i-` + 17 hex.
pub fn ec2_instance(id: &str) -> String {
    format!("ec2/instances/{id}")
}

pub const EC2_INSTANCES: &str = "ec2/instances/";

/// `ec2/vpcs/{id}` (`ec2::VpcRecord`).
pub fn ec2_vpc(id: &str) -> String {
    format!("ec2/vpcs/{id}")
}

pub const EC2_VPCS: &str = "ec2/vpcs/";

/// `ec2/default-vpc`: the id of the default VPC, written once with it, so that it is
/// created once (and not again after a caller deletes it, as in EC2).
pub const EC2_DEFAULT_VPC: &str = "ec2/default-vpc";

/// `ec2/subnets/{id}` (`ec2::SubnetRecord`, with the addresses handed out in it).
pub fn ec2_subnet(id: &str) -> String {
    format!("ec2/subnets/{id}")
}

pub const EC2_SUBNETS: &str = "ec2/subnets/";

/// `ec2/security-groups/{id}` (`ec2::SecurityGroupRecord`, its rules inside).
pub fn ec2_security_group(id: &str) -> String {
    format!("ec2/security-groups/{id}")
}

pub const EC2_SECURITY_GROUPS: &str = "ec2/security-groups/";

/// `ec2/security-group-names/{vpc}/{name}`: the id of the group of that name in a VPC,
/// claimed in the transaction that creates it so that names stay unique per VPC.
pub fn ec2_security_group_name(vpc_id: &str, name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("ec2/security-group-names/{vpc_id}/{hex}")
}

/// `ec2/launch-templates/{id}` (`ec2::LaunchTemplateRecord`, its versions inside).
pub fn ec2_launch_template(id: &str) -> String {
    format!("ec2/launch-templates/{id}")
}

pub const EC2_LAUNCH_TEMPLATES: &str = "ec2/launch-templates/";

/// `ec2/launch-template-names/{hex(name)}`: the id of the template of that name (names
/// may hold `/`, hence hex), claimed with the template so that names stay unique.
pub fn ec2_launch_template_name(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("ec2/launch-template-names/{hex}")
}

/// `ec2/key-pairs/{hex(name)}` (`ec2::KeyPairRecord`); names are any ASCII, hence hex.
pub fn ec2_key_pair(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("ec2/key-pairs/{hex}")
}

pub const EC2_KEY_PAIRS: &str = "ec2/key-pairs/";

/// `ec2/client-tokens/{hex(token)}`: the reservation a RunInstances with that
/// ClientToken made (its id and instance ids), so a retry answers the same.
pub fn ec2_client_token(token: &str) -> String {
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    format!("ec2/client-tokens/{hex}")
}

/// `ecs/capacity-providers/{name}`: a capacity provider (`CapacityProviderRecord`).
pub fn capacity_provider(name: &str) -> String {
    format!("ecs/capacity-providers/{name}")
}

/// Every capacity provider.
pub const CAPACITY_PROVIDERS: &str = "ecs/capacity-providers/";

/// `ha/servers/{id}`: a `berth server` sharing an etcd store, as it last published
/// itself (the agents polling it, for the leader's placement; `berth cluster status`).
pub fn ha_server(id: &str) -> String {
    format!("ha/servers/{id}")
}

pub const HA_SERVERS: &str = "ha/servers/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_sort_numerically_within_a_family() {
        let mut keys = vec![taskdef("web", 10), taskdef("web", 9), taskdef("web", 100)];
        keys.sort();
        assert_eq!(keys, vec![taskdef("web", 9), taskdef("web", 10), taskdef("web", 100)]);
        assert!(taskdef("web", 1).starts_with(&taskdefs_of("web")));
        assert!(!taskdef("web-app", 1).starts_with(&taskdefs_of("web")));
    }

    #[test]
    fn objects_live_under_their_cluster_prefix() {
        assert!(instance("c", "0123").starts_with(&instances_of("c")));
        assert!(task("c", "0123").starts_with(&tasks_of("c")));
        assert!(!task("c-2", "0123").starts_with(&tasks_of("c")));
        assert_eq!(client_token("c", "a/b"), "ecs/client-tokens/c/612f62");
    }

    #[test]
    fn ecr_repositories_with_slashes_do_not_share_prefixes() {
        assert_eq!(ecr_image("team/app", "sha256:ab"), "ecr/images/team+app/sha256:ab");
        assert!(!ecr_image("a/b", "sha256:ab").starts_with(&ecr_images_of("a")));
        assert!(ecr_tag("a", "v1").starts_with(&ecr_tags_of("a")));
    }
}
