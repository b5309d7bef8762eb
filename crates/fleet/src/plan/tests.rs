use super::*;
use berth_model::fleet::VIRTUAL_DEFAULT;

const NOW: i64 = 1_000_000;

fn instance(id: &str, instance_type: &str, state: InstanceState, host: Option<&str>) -> InstanceRecord {
    InstanceRecord {
        instance_id: id.into(),
        reservation_id: "r-1".into(),
        owner_id: "000000000000".into(),
        image_id: "ami-1".into(),
        instance_type: instance_type.into(),
        state,
        state_reason: None,
        state_transition_reason: String::new(),
        subnet_id: "subnet-1".into(),
        vpc_id: "vpc-1".into(),
        availability_zone: "us-east-1a".into(),
        private_ip_address: "172.31.0.10".into(),
        private_dns_name: "ip-172-31-0-10.ec2.internal".into(),
        security_group_ids: vec![],
        key_name: None,
        iam_instance_profile_arn: None,
        iam_instance_profile_id: None,
        user_data: None,
        launch_template: None,
        tags: vec![],
        launch_time: NOW,
        client_token: None,
        ami_launch_index: 0,
        architecture: "x86_64".into(),
        host: host.map(str::to_owned),
        status_ok: state == InstanceState::Running && host.is_some(),
        state_changed_at: NOW,
        disable_api_termination: false,
        ebs_optimized: false,
        monitoring_enabled: false,
    }
}

fn host(id: &str, last_heartbeat: i64) -> HostRecord {
    HostRecord {
        host_id: id.into(),
        name: id.into(),
        capacity: VIRTUAL_DEFAULT,
        real_gpus: false,
        registered_at: 0,
        last_heartbeat,
    }
}

fn assigned(actions: &[Action]) -> Vec<(&str, &str)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Assign { instance_id, host_id } => Some((instance_id.as_str(), host_id.as_str())),
            _ => None,
        })
        .collect()
}

#[test]
fn pending_instances_fill_hosts_and_the_rest_wait_then_fail() {
    let hosts = [host("h1", NOW)];
    let instances: Vec<_> = (0..4)
        .map(|k| {
            let mut i = instance(&format!("i-{k}"), "g4dn.xlarge", InstanceState::Pending, None);
            i.ami_launch_index = k;
            i
        })
        .collect();
    let actions = plan(&instances, &hosts, NOW);
    assert_eq!(assigned(&actions), vec![("i-0", "h1"), ("i-1", "h1"), ("i-2", "h1")], "three g4dn.xlarge per host");
    assert!(!actions.iter().any(|a| matches!(a, Action::InsufficientCapacity { .. })), "i-3 waits a little");

    let later = plan(&instances, &hosts, NOW + fleet::CAPACITY_WAIT_MS);
    assert!(later.contains(&Action::InsufficientCapacity { instance_id: "i-3".into() }));
}

#[test]
fn placed_and_stopped_instances_count_as_expected() {
    let hosts = [host("h1", NOW), host("h2", NOW)];
    let instances = vec![
        instance("i-a", "g4dn.xlarge", InstanceState::Running, Some("h1")),
        instance("i-b", "g4dn.xlarge", InstanceState::Running, Some("h1")),
        instance("i-c", "g4dn.xlarge", InstanceState::Stopped, Some("h1")),
        instance("i-new", "g4dn.xlarge", InstanceState::Pending, None),
    ];
    // h1 has room for one more (the stopped one takes none); best fit picks the fuller h1.
    assert_eq!(assigned(&plan(&instances, &hosts, NOW)), vec![("i-new", "h1")]);
}

#[test]
fn no_host_at_all_fails_after_the_wait_and_unknown_types_at_once() {
    let instances = vec![
        instance("i-1", "m5.large", InstanceState::Pending, None),
        instance("i-2", "x9.nothing", InstanceState::Pending, None),
    ];
    let actions = plan(&instances, &[], NOW);
    assert_eq!(actions, vec![Action::InsufficientCapacity { instance_id: "i-2".into() }]);
    let actions = plan(&instances, &[], NOW + fleet::CAPACITY_WAIT_MS);
    assert!(actions.contains(&Action::InsufficientCapacity { instance_id: "i-1".into() }));
}

#[test]
fn lost_hosts() {
    let hosts = [host("gone", NOW - fleet::HOST_TIMEOUT_MS)];
    let instances = vec![
        instance("i-run", "m5.large", InstanceState::Running, Some("gone")),
        instance("i-pend", "m5.large", InstanceState::Pending, Some("gone")),
        instance("i-stop", "m5.large", InstanceState::Stopping, Some("gone")),
        instance("i-term", "m5.large", InstanceState::ShuttingDown, Some("gone")),
    ];
    let actions = plan(&instances, &hosts, NOW);
    assert!(actions.contains(&Action::SetStatus { instance_id: "i-run".into(), ok: false }));
    assert!(actions.contains(&Action::Unassign { instance_id: "i-pend".into() }));
    assert!(actions.contains(&Action::Finish { instance_id: "i-stop".into(), state: InstanceState::Stopped }));
    assert!(actions.contains(&Action::Finish { instance_id: "i-term".into(), state: InstanceState::Terminated }));
}

#[test]
fn live_hosts_drain_and_report_status() {
    let hosts = [host("h", NOW)];
    let mut back = instance("i-back", "m5.large", InstanceState::Running, Some("h"));
    back.status_ok = false;
    let instances = vec![
        back,
        instance("i-ok", "m5.large", InstanceState::Running, Some("h")),
        instance("i-term", "m5.large", InstanceState::ShuttingDown, Some("h")),
    ];
    let actions = plan(&instances, &hosts, NOW);
    assert_eq!(
        actions,
        vec![
            Action::SetStatus { instance_id: "i-back".into(), ok: true },
            Action::Drain { instance_id: "i-term".into() },
        ]
    );
}
