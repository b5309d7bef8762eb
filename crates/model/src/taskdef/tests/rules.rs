//! Each validation rule: a definition it accepts and one it rejects, with the message.
//! Networking rules are in `network`, Fargate's in `fargate`, dependsOn's in `dependencies`.

use serde_json::{Value, json};

use super::fargate::fargate;
use super::{accept, assert_rejects, container, definition, reject, request, with};

fn one(c: Value) -> Value {
    definition(vec![c], json!({}))
}

#[test]
fn family_is_letters_numbers_hyphens_and_underscores() {
    accept(&definition(vec![container("web")], json!({"family": "My_family-2"})));
    accept(&definition(vec![container("web")], json!({"family": "f".repeat(255)})));
    assert_rejects(&definition(vec![container("web")], json!({"family": ""})), "Family can not be blank.");
    for bad in ["web app", "web.app", "web:1", "wéb"] {
        assert_rejects(
            &definition(vec![container("web")], json!({"family": bad})),
            "Family contains invalid characters.",
        );
    }
    assert_rejects(
        &definition(vec![container("web")], json!({"family": "f".repeat(256)})),
        "Family is too long: 256 characters; at most 255 are allowed.",
    );
}

#[test]
fn a_definition_has_one_to_ten_containers() {
    let containers = |n: usize| (0..n).map(|i| container(&format!("c{i}"))).collect::<Vec<_>>();
    accept(&definition(containers(10), json!({})));
    assert_rejects(&definition(vec![], json!({})), "Container list cannot be empty.");
    assert_rejects(
        &definition(containers(11), json!({})),
        "Too many containers. A task definition can have at most 10 container definitions; this one has 11.",
    );
}

#[test]
fn container_names_are_required_valid_and_unique() {
    accept(&one(container(&"n".repeat(255))));
    let unnamed = json!({"image": "nginx", "memory": 128});
    assert_rejects(&one(unnamed), "Container.name should not be null or empty.");
    assert_rejects(&one(container("")), "Container.name should not be null or empty.");
    assert_rejects(&one(container("web app")), "Container.name contains invalid characters.");
    assert_rejects(&one(container(&"n".repeat(256))), "Container.name is too long: 256 characters");
    assert_rejects(
        &definition(vec![container("web"), container("web")], json!({})),
        "Duplicate container name 'web'. Container names must be unique within a task definition.",
    );
}

#[test]
fn image_is_required_and_at_most_255_characters() {
    accept(&one(with(container("web"), json!({"image": "i".repeat(255)}))));
    let no_image = json!({"name": "web", "memory": 128});
    assert_rejects(&one(no_image), "Container.image should not be null or empty.");
    for empty in ["", "   "] {
        assert_rejects(
            &one(with(container("web"), json!({"image": empty}))),
            "Container.image should not be null or empty.",
        );
    }
    assert_rejects(
        &one(with(container("web"), json!({"image": "i".repeat(256)}))),
        "Container.image of container 'web' is too long: 256 characters; at most 255 are allowed.",
    );
}

#[test]
fn at_least_one_container_is_essential() {
    let sidecar = with(container("sidecar"), json!({"essential": false}));
    // An absent `essential` counts as true.
    accept(&definition(vec![container("web"), sidecar.clone()], json!({})));
    let also_not = with(container("web"), json!({"essential": false}));
    assert_rejects(
        &definition(vec![also_not, sidecar], json!({})),
        "Task definition doesn't have any essential container.",
    );
}

#[test]
fn container_cpu_is_not_negative() {
    accept(&one(with(container("web"), json!({"cpu": 0}))));
    assert_rejects(
        &one(with(container("web"), json!({"cpu": -1}))),
        "Invalid 'cpu' setting for container 'web'. It must be 0 or more CPU units; got -1.",
    );
}

#[test]
fn container_memory_is_at_least_6_mib_and_not_below_the_reservation() {
    accept(&one(with(container("web"), json!({"memory": 6}))));
    assert_rejects(
        &one(with(container("web"), json!({"memory": 5}))),
        "Invalid 'memory' setting for container 'web'. Minimum memory is 6 MiB; got 5 MiB.",
    );
    assert_rejects(
        &one(with(container("web"), json!({"memory": -128}))),
        "Invalid 'memory' setting for container 'web'. Minimum memory is 6 MiB",
    );
    let reservation_only = json!({"name": "web", "image": "nginx", "memoryReservation": 64});
    accept(&one(reservation_only));
    assert_rejects(
        &one(json!({"name": "web", "image": "nginx", "memoryReservation": 0})),
        "Invalid 'memoryReservation' setting for container 'web'. It must be greater than 0 MiB; got 0.",
    );
    accept(&one(with(container("web"), json!({"memory": 128, "memoryReservation": 128}))));
    assert_rejects(
        &one(with(container("web"), json!({"memory": 128, "memoryReservation": 256}))),
        "Invalid setting for container 'web'. 'memory' (128 MiB) must be greater than or equal to \
         'memoryReservation' (256 MiB).",
    );
}

#[test]
fn without_task_memory_each_container_bounds_its_memory() {
    let unbounded = json!({"name": "web", "image": "nginx"});
    assert_eq!(
        reject(&one(unbounded.clone())),
        "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified."
    );
    accept(&definition(vec![unbounded.clone()], json!({"memory": "512"})));
    // Fargate requires task memory instead (and says so).
    accept(&fargate(unbounded.clone(), json!({})));
    assert_rejects(
        &fargate(unbounded, json!({"memory": null})),
        "Fargate requires that 'memory' be defined at the task level.",
    );
}

#[test]
fn task_cpu_and_memory_strings_must_parse() {
    accept(&definition(vec![container("web")], json!({"cpu": "1 vCPU", "memory": "1 GB"})));
    assert_rejects(
        &definition(vec![container("web")], json!({"cpu": "fast"})),
        "Invalid 'cpu' setting for task: \"fast\".",
    );
    assert_rejects(
        &definition(vec![container("web")], json!({"memory": "0"})),
        "Invalid 'memory' setting for task: \"0\". It must be greater than zero.",
    );
}

#[test]
fn container_cpu_together_fits_in_task_cpu() {
    let cpu = |name: &str, units: i32| with(container(name), json!({"cpu": units}));
    accept(&definition(vec![cpu("a", 512), cpu("b", 512)], json!({"cpu": "1024"})));
    assert_rejects(
        &definition(vec![cpu("a", 512), cpu("b", 513)], json!({"cpu": "1024"})),
        "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'. \
         The containers ask for 1025 CPU units; the task has 1024.",
    );
    assert_rejects(
        &definition(vec![cpu("a", 2048)], json!({"cpu": "1 vCPU"})),
        "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    );
}

#[test]
fn container_memory_fits_in_task_memory() {
    let mem = |name: &str, m: Value| with(json!({"name": name, "image": "nginx"}), m);
    accept(&definition(vec![mem("a", json!({"memory": 512}))], json!({"memory": "512"})));
    assert_rejects(
        &definition(vec![mem("a", json!({"memory": 1024}))], json!({"memory": "512"})),
        "The 'memory' setting for container 'a' is greater than for the task. \
         The container has 1024 MiB; the task has 512 MiB.",
    );
    assert_rejects(
        &definition(vec![mem("a", json!({"memory": 300})), mem("b", json!({"memory": 300}))], json!({"memory": "512"})),
        "The sum of all container memory reservations cannot be greater than the value of the task \
         'memory'. The containers reserve 600 MiB",
    );
    // Hard limits may overlap as long as what is reserved fits.
    accept(&definition(
        vec![
            mem("a", json!({"memory": 512, "memoryReservation": 256})),
            mem("b", json!({"memory": 512, "memoryReservation": 256})),
        ],
        json!({"memory": "512"}),
    ));
}

#[test]
fn health_check_timings_are_within_documented_bounds() {
    let check = |h: Value| one(with(container("web"), json!({"healthCheck": h})));
    accept(&check(json!({"command": ["CMD", "true"], "interval": 5, "timeout": 60, "retries": 10, "startPeriod": 0})));
    accept(&check(
        json!({"command": ["CMD-SHELL", "true"], "interval": 300, "timeout": 2, "retries": 1, "startPeriod": 300}),
    ));
    for (member, value, bounds) in [
        ("interval", 4, "between 5 and 300 seconds"),
        ("timeout", 61, "between 2 and 60 seconds"),
        ("retries", 0, "between 1 and 10"),
        ("startPeriod", 301, "between 0 and 300 seconds"),
    ] {
        assert_eq!(
            reject(&check(json!({"command": ["CMD", "true"], member: value}))),
            format!("Invalid 'healthCheck' in container 'web': '{member}' must be {bounds}; got {value}.")
        );
    }
}

#[test]
fn mount_points_name_declared_volumes() {
    let mounting =
        vec![with(container("web"), json!({"mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]}))];
    accept(&definition(mounting.clone(), json!({"volumes": [{"name": "data"}]})));
    assert_rejects(
        &definition(mounting, json!({"volumes": [{"name": "logs"}]})),
        "Invalid 'sourceVolume' in a mount point of container 'web': no volume named 'data' is declared",
    );
    assert_rejects(
        &definition(vec![container("web")], json!({"volumes": [{"name": "data"}, {"name": "data"}]})),
        "Duplicate volume name 'data'.",
    );
}

#[test]
fn volumes_from_names_a_container() {
    let from = |src: &str| with(container("web"), json!({"volumesFrom": [{"sourceContainer": src}]}));
    accept(&definition(vec![from("data"), container("data")], json!({})));
    assert_rejects(
        &definition(vec![from("cache"), container("data")], json!({})),
        "Invalid 'volumesFrom' in container 'web': no container named 'cache' is defined",
    );
}

#[test]
fn the_proxy_container_exists() {
    let proxy =
        |name: &str| json!({"networkMode": "awsvpc", "proxyConfiguration": {"type": "APPMESH", "containerName": name}});
    accept(&definition(vec![container("web"), container("envoy")], proxy("envoy")));
    assert_rejects(
        &definition(vec![container("web")], proxy("envoy")),
        "Invalid 'proxyConfiguration': no container named 'envoy' is defined in this task definition.",
    );
}

#[test]
fn ephemeral_storage_is_21_to_200_gib() {
    let storage = |size: i32| definition(vec![container("web")], json!({"ephemeralStorage": {"sizeInGiB": size}}));
    accept(&storage(21));
    accept(&storage(200));
    assert_rejects(&storage(20), "Invalid 'ephemeralStorage.sizeInGiB' 20. It must be between 21 and 200 GiB.");
    assert_rejects(&storage(201), "Invalid 'ephemeralStorage.sizeInGiB' 201.");
}

#[test]
fn at_most_ten_placement_constraints() {
    let constraints = |n: usize| {
        let list: Vec<Value> =
            (0..n).map(|i| json!({"type": "memberOf", "expression": format!("attribute:n == {i}")})).collect();
        definition(vec![container("web")], json!({"placementConstraints": list}))
    };
    accept(&constraints(10));
    assert_rejects(&constraints(11), "Too many placement constraints: 11.");
}

#[test]
fn tags_follow_aws_tag_limits() {
    let tagged = |tags: Value| definition(vec![container("web")], json!({"tags": tags}));
    let many = |n: usize| {
        let list: Vec<Value> = (0..n).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
        tagged(Value::Array(list))
    };
    accept(&many(50));
    assert_rejects(&many(51), "Too many tags: 51. A resource can have at most 50 tags.");
    accept(&tagged(
        json!([{"key": "k".repeat(128), "value": "v".repeat(256)}, {"key": "no-value"}, {"key": "awsome"}]),
    ));
    assert_rejects(&tagged(json!([{"value": "v"}])), "Invalid tag key \"\". Tag keys must be 1 to 128 characters");
    assert_rejects(&tagged(json!([{"key": "k".repeat(129)}])), "Invalid tag key");
    assert_rejects(
        &tagged(json!([{"key": "k", "value": "v".repeat(257)}])),
        "Invalid value for tag \"k\". Tag values can have at most 256 characters; this one has 257.",
    );
    for reserved in ["aws:cloudformation:stack-name", "AWS:x", "Aws:"] {
        assert_rejects(
            &tagged(json!([{"key": reserved}])),
            &format!("Invalid tag key \"{reserved}\". Keys beginning with \"aws:\" are reserved for AWS use."),
        );
    }
    assert_rejects(
        &tagged(json!([{"key": "team", "value": "a"}, {"key": "team", "value": "b"}])),
        "Duplicate tag key \"team\".",
    );
}

/// A definition whose request JSON is exactly `len` bytes, padded in an environment value.
fn definition_of_size(len: usize) -> Value {
    let padded = |pad: usize| {
        definition(
            vec![with(container("web"), json!({"environment": [{"name": "PAD", "value": "x".repeat(pad)}]}))],
            json!({}),
        )
    };
    let base = serde_json::to_vec(&request(&padded(0))).expect("serializes").len();
    let d = padded(len - base);
    assert_eq!(serde_json::to_vec(&request(&d)).expect("serializes").len(), len);
    d
}

#[test]
fn a_definition_may_take_64_kib() {
    accept(&definition_of_size(65_535));
    accept(&definition_of_size(65_536));
    assert_eq!(
        reject(&definition_of_size(65_537)),
        "Actual length: '65537'. Max allowed length is '65536' bytes. Shrink the task definition \
         (environment variables and secrets are the usual bulk)."
    );
}

#[test]
fn only_an_essential_containers_health_check_makes_a_task_health_checked() {
    use super::super::has_health_checks;
    use super::registered;
    let check = json!({"command": ["CMD", "true"]});
    let checked = with(container("web"), json!({"healthCheck": check}));
    assert!(has_health_checks(&registered(&definition(vec![checked.clone()], json!({})))));
    let sidecar = with(checked, json!({"name": "sidecar", "essential": false}));
    assert!(!has_health_checks(&registered(&definition(vec![container("web"), sidecar], json!({})))));
    assert!(!has_health_checks(&registered(&one(container("web")))));
}

#[test]
fn only_an_existing_service_starts_tasks_from_a_deregistered_or_deleted_revision() {
    use crate::ecs::TaskDefinitionStatus::{Active, DeleteInProgress, Inactive};
    use crate::taskdef::startable;
    for existing in [false, true] {
        assert!(startable(Some(Active), existing));
        assert_eq!(startable(Some(Inactive), existing), existing);
        assert_eq!(startable(Some(DeleteInProgress), existing), existing);
        assert!(!startable(None, existing));
    }
}
