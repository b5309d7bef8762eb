//! Port mappings and links against the network mode.

use serde_json::{Value, json};

use super::{accept, assert_rejects, container, definition, reject, with};

fn one(c: Value) -> Value {
    definition(vec![c], json!({}))
}

#[test]
fn awsvpc_and_host_ports_must_match() {
    for mode in ["awsvpc", "host"] {
        let mapping = |m: Value| with(container("web"), json!({"portMappings": [m]}));
        let task = json!({"networkMode": mode});
        accept(&definition(vec![mapping(json!({"containerPort": 80}))], task.clone()));
        accept(&definition(vec![mapping(json!({"containerPort": 80, "hostPort": 80}))], task.clone()));
        assert_eq!(
            reject(&definition(vec![mapping(json!({"containerPort": 80, "hostPort": 8080}))], task.clone())),
            format!("When networkMode={mode}, the host ports and container ports in port mappings must match.")
        );
    }
}

#[test]
fn bridge_ports_may_differ_or_be_dynamic() {
    let mappings = json!({"portMappings": [
        {"containerPort": 80, "hostPort": 0},
        {"containerPort": 81},
        {"containerPort": 443, "hostPort": 8443, "protocol": "tcp"},
        {"containerPort": 443, "hostPort": 9443},
        {"containerPort": 53, "hostPort": 53, "protocol": "udp"}
    ]});
    accept(&one(with(container("web"), mappings.clone())));
    accept(&definition(vec![with(container("web"), mappings)], json!({"networkMode": "bridge"})));
}

#[test]
fn port_mappings_need_a_port_in_range() {
    let mapping = |m: Value| one(with(container("web"), json!({"portMappings": [m]})));
    assert_rejects(
        &mapping(json!({"hostPort": 80})),
        "Invalid port mapping in container 'web': 'containerPort' is required",
    );
    assert_rejects(
        &mapping(json!({"containerPort": 65536})),
        "Invalid 'containerPort' 65536 in container 'web'. Ports must be between 0 and 65535.",
    );
    assert_rejects(
        &mapping(json!({"containerPort": 80, "hostPort": -1})),
        "Invalid 'hostPort' -1 in container 'web'. Ports must be between 0 and 65535.",
    );
    accept(&mapping(json!({"containerPort": 65535, "hostPort": 65535})));
}

#[test]
fn container_port_ranges_are_first_to_last() {
    let range = |r: &str| {
        definition(
            vec![with(container("web"), json!({"portMappings": [{"containerPortRange": r}]}))],
            json!({"networkMode": "awsvpc"}),
        )
    };
    accept(&range("8000-8010"));
    for bad in ["9000-8000", "8000-8000", "0-10", "8000", "a-b", "8000-70000"] {
        assert_rejects(&range(bad), &format!("Invalid 'containerPortRange' \"{bad}\" in container 'web'."));
    }
}

#[test]
fn network_mode_none_has_no_port_mappings() {
    let none = json!({"networkMode": "none"});
    accept(&definition(vec![with(container("web"), json!({"portMappings": []}))], none.clone()));
    assert_rejects(
        &definition(vec![with(container("web"), json!({"portMappings": [{"containerPort": 80}]}))], none),
        "Port mappings are not supported when networkMode=none.",
    );
}

#[test]
fn links_need_bridge_networking() {
    let linked = vec![with(container("web"), json!({"links": ["db:database"]})), container("db")];
    accept(&definition(linked.clone(), json!({})));
    accept(&definition(linked.clone(), json!({"networkMode": "bridge"})));
    assert_rejects(
        &definition(linked, json!({"networkMode": "awsvpc"})),
        "Links are not supported when networkMode=awsvpc. Remove 'links' from container 'web'",
    );
}
