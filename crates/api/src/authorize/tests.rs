use super::policies::Loaded;
use super::*;
use berth_model::iam::Tag;
use berth_policy::{PolicyKind, Principal};

fn bob(documents: &[&str]) -> Loaded {
    Loaded {
        principal: Principal::user("123456789012", "/", "bob"),
        user_id: "AIDABOB".into(),
        tags: vec![Tag { key: "team".into(), value: "web".into() }],
        policies: documents.iter().map(|d| Policy::parse(d, PolicyKind::Identity).unwrap()).collect(),
        boundary: None,
        reads_resource_tags: false,
    }
}

#[test]
fn a_boundary_caps_the_loaded_policies() {
    let mut loaded = bob(&[&allow("ecs:*", "*", "")]);
    loaded.boundary = Some(Policy::parse(&allow("ecs:Describe*", "*", ""), PolicyKind::Identity).unwrap());
    assert_eq!(ask(&loaded, "ecs:DescribeClusters", Target::on(CLUSTER)), Ok(()));
    let denied = ask(&loaded, "ecs:CreateCluster", Target::on(CLUSTER)).unwrap_err();
    assert!(denied.ends_with("because no permissions boundary allows the ecs:CreateCluster action"), "{denied}");
}

fn facts() -> Facts {
    Facts { source_ip: Some("127.0.0.1".parse().unwrap()), region: "us-east-1".into(), now: OffsetDateTime::now_utc() }
}

fn allow(action: &str, resource: &str, condition: &str) -> String {
    let condition = if condition.is_empty() { String::new() } else { format!(r#","Condition":{condition}"#) };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"{condition}}}]}}"#
    )
}

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

fn ask(loaded: &Loaded, action: &str, target: Target) -> Result<(), String> {
    check(loaded, action, &[target], &facts(), None)
}

#[test]
fn denies_with_awss_message_until_allowed() {
    let loaded = bob(&[&allow("ecs:Describe*", "*", "")]);
    assert_eq!(ask(&loaded, "ecs:DescribeClusters", Target::on(CLUSTER)), Ok(()));
    assert_eq!(
        ask(&loaded, "ecs:CreateCluster", Target::on(CLUSTER)),
        Err(format!(
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateCluster on resource: \
             {CLUSTER} because no identity-based policy allows the ecs:CreateCluster action"
        ))
    );
}

#[test]
fn every_target_must_be_allowed() {
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}]}"#;
    let loaded = bob(&[&allow("ecs:*", "*", ""), deny]);
    let other = Target::on("arn:aws:ecs:us-east-1:123456789012:cluster/dev");
    assert_eq!(check(&loaded, "ecs:DescribeClusters", std::slice::from_ref(&other), &facts(), None), Ok(()));
    let denied = check(&loaded, "ecs:DescribeClusters", &[other, Target::on(CLUSTER)], &facts(), None);
    assert!(denied.unwrap_err().ends_with("with an explicit deny in an identity-based policy"));
}

#[test]
fn global_keys_reach_conditions() {
    let by_ip = allow("ecs:*", "*", r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#);
    assert_eq!(ask(&bob(&[&by_ip]), "ecs:ListClusters", Target::any()), Ok(()));
    let by_region = allow("ecs:*", "*", r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}"#);
    assert!(ask(&bob(&[&by_region]), "ecs:ListClusters", Target::any()).is_err());
    let by_tag = allow("ecs:*", "*", r#"{"StringEquals":{"aws:PrincipalTag/team":"web"}}"#);
    assert_eq!(ask(&bob(&[&by_tag]), "ecs:ListClusters", Target::any()), Ok(()));
    let insecure = allow("ecs:*", "*", r#"{"Bool":{"aws:SecureTransport":"true"}}"#);
    assert!(ask(&bob(&[&insecure]), "ecs:ListClusters", Target::any()).is_err());
    let by_name = allow("iam:*", "arn:aws:iam::123456789012:user/${aws:username}", "");
    assert_eq!(ask(&bob(&[&by_name]), "iam:GetUser", Target::on("arn:aws:iam::123456789012:user/bob")), Ok(()));
    assert!(ask(&bob(&[&by_name]), "iam:GetUser", Target::on("arn:aws:iam::123456789012:user/eve")).is_err());
}

#[test]
fn request_keys_of_the_target_reach_conditions() {
    let tagged = allow("ecs:CreateCluster", "*", r#"{"StringEquals":{"aws:RequestTag/env":"dev"}}"#);
    let loaded = bob(&[&tagged]);
    assert!(ask(&loaded, "ecs:CreateCluster", Target::on(CLUSTER)).is_err());
    assert_eq!(ask(&loaded, "ecs:CreateCluster", Target::on(CLUSTER).key("aws:RequestTag/env", "dev")), Ok(()));
    let in_cluster = allow("ecs:RunTask", "*", &format!(r#"{{"ArnEquals":{{"ecs:cluster":"{CLUSTER}"}}}}"#));
    assert_eq!(ask(&bob(&[&in_cluster]), "ecs:RunTask", Target::any().key("ecs:cluster", CLUSTER)), Ok(()));
}

#[test]
fn a_targets_own_action_wins() {
    let loaded = bob(&[&allow("ecs:Poll", "*", "")]);
    let poll = Target { action: Some("ecs:Poll"), ..Target::any() };
    assert_eq!(ask(&loaded, "ecs:PollTasks", poll), Ok(()));
    assert!(ask(&loaded, "ecs:PollTasks", Target::any()).is_err());
}

#[test]
fn a_repository_policy_can_allow_a_named_user() {
    let loaded = bob(&[]);
    let repo = Target::on("arn:aws:ecr:us-east-1:123456789012:repository/web");
    let policy = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"ecr:BatchGetImage"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    assert!(check(&loaded, "ecr:BatchGetImage", std::slice::from_ref(&repo), &facts(), None).is_err());
    assert_eq!(check(&loaded, "ecr:BatchGetImage", std::slice::from_ref(&repo), &facts(), Some(&policy)), Ok(()));
    assert!(check(&loaded, "ecr:PutImage", &[repo], &facts(), Some(&policy)).is_err());
}
