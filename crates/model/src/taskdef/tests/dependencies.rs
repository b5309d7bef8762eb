//! dependsOn: targets, conditions and cycles.

use serde_json::{Value, json};

use super::{accept, assert_rejects, container, definition, reject, with};

fn depends(name: &str, on: &[(&str, &str)]) -> Value {
    let deps: Vec<Value> =
        on.iter().map(|(c, condition)| json!({"containerName": c, "condition": condition})).collect();
    with(container(name), json!({"dependsOn": deps}))
}

#[test]
fn depends_on_must_name_a_container_of_the_definition() {
    accept(&definition(vec![depends("app", &[("db", "START")]), container("db")], json!({})));
    assert_rejects(
        &definition(vec![depends("app", &[("cache", "START")]), container("db")], json!({})),
        "Container 'app' depends on container 'cache', which is not defined in this task definition.",
    );
}

#[test]
fn success_and_complete_need_a_non_essential_target() {
    let init = with(container("init"), json!({"essential": false}));
    for condition in ["SUCCESS", "COMPLETE"] {
        accept(&definition(vec![depends("app", &[("init", condition)]), init.clone()], json!({})));
        let message = reject(&definition(vec![depends("app", &[("db", condition)]), container("db")], json!({})));
        assert!(
            message.starts_with(
                "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"
            ),
            "{message}"
        );
        assert!(message.contains("set \"essential\": false on 'db'"), "{message}");
    }
}

#[test]
fn healthy_needs_a_health_check_on_the_target() {
    let checked = with(container("db"), json!({"healthCheck": {"command": ["CMD", "true"]}}));
    accept(&definition(vec![depends("app", &[("db", "HEALTHY")]), checked], json!({})));
    assert_rejects(
        &definition(vec![depends("app", &[("db", "HEALTHY")]), container("db")], json!({})),
        "Container 'app' depends on container 'db' with condition HEALTHY, but 'db' has no 'healthCheck'.",
    );
}

#[test]
fn unknown_conditions_do_not_deserialize() {
    let d = definition(vec![depends("app", &[("db", "READY")]), container("db")], json!({}));
    assert!(serde_json::from_value::<crate::ecs::RegisterTaskDefinitionRequest>(d).is_err());
}

#[test]
fn a_container_depending_on_itself_is_a_cycle_of_one() {
    assert_eq!(
        reject(&definition(vec![depends("a", &[("a", "START")]), container("b")], json!({}))),
        "Circular dependency found between containers: a -> a"
    );
}

#[test]
fn reports_a_cycle_of_two() {
    let d = definition(vec![depends("a", &[("b", "START")]), depends("b", &[("a", "START")])], json!({}));
    assert_eq!(reject(&d), "Circular dependency found between containers: a -> b -> a");
}

#[test]
fn reports_a_cycle_of_three_reached_from_outside_it() {
    let d = definition(
        vec![
            depends("entry", &[("a", "START")]),
            depends("a", &[("b", "START")]),
            depends("b", &[("c", "HEALTHY")]),
            with(depends("c", &[("a", "START")]), json!({"healthCheck": {"command": ["CMD", "true"]}})),
        ],
        json!({}),
    );
    assert_eq!(reject(&d), "Circular dependency found between containers: a -> b -> c -> a");
}

#[test]
fn shared_dependencies_are_not_cycles() {
    // A diamond: app -> (left, right) -> base.
    accept(&definition(
        vec![
            depends("app", &[("left", "START"), ("right", "START")]),
            depends("left", &[("base", "START")]),
            depends("right", &[("base", "START")]),
            container("base"),
        ],
        json!({}),
    ));
}
