//! Tests for RegisterTaskDefinition validation and defaults.
//!
//! Definitions are written as JSON with the wire names, as clients send them, so the
//! tests also pin the serde names of every member they use.

mod dependencies;
mod fargate;
mod network;
mod register;
mod resources;
mod roundtrip;
mod rules;

use serde_json::{Value, json};

use super::{Registration, register, validate};
use crate::Timestamp;
use crate::arn::Scope;
use crate::ecs::{RegisterTaskDefinitionRequest, TaskDefinition};

pub(super) const REGISTERED_AT: f64 = 1_700_000_000.25;
pub(super) const REGISTERED_BY: &str = "arn:aws:iam::000000000000:root";

pub(super) fn request(definition: &Value) -> RegisterTaskDefinitionRequest {
    serde_json::from_value(definition.clone()).expect("definition matches the model")
}

/// A container that passes every rule on its own in bridge mode.
pub(super) fn container(name: &str) -> Value {
    json!({"name": name, "image": "nginx:1.27", "memory": 128})
}

/// A definition with these containers and the given task-level members.
pub(super) fn definition(containers: Vec<Value>, task: Value) -> Value {
    let mut d = json!({"family": "fam", "containerDefinitions": containers});
    merge(&mut d, task);
    d
}

/// Sets each member of `patch` on `target` (both JSON objects).
pub(super) fn merge(target: &mut Value, patch: Value) {
    if let (Some(target), Value::Object(patch)) = (target.as_object_mut(), patch) {
        target.extend(patch);
    }
}

/// `base` with the members of `patch` set.
pub(super) fn with(mut base: Value, patch: Value) -> Value {
    merge(&mut base, patch);
    base
}

#[track_caller]
pub(super) fn accept(definition: &Value) {
    if let Err(e) = validate(&request(definition)) {
        panic!("rejected: {e}\n{definition:#}");
    }
}

/// The ClientException message for a definition that must be rejected.
#[track_caller]
pub(super) fn reject(definition: &Value) -> String {
    match validate(&request(definition)) {
        Ok(()) => panic!("accepted, expected a rejection:\n{definition:#}"),
        Err(e) => e.0,
    }
}

/// Asserts the rejection message starts with `expected` (AWS's wording, then detail).
#[track_caller]
pub(super) fn assert_rejects(definition: &Value, expected: &str) {
    let message = reject(definition);
    assert!(message.starts_with(expected), "message {message:?}\ndoes not start with {expected:?}");
}

#[track_caller]
pub(super) fn registered(definition: &Value) -> TaskDefinition {
    let scope = Scope::new("us-east-1", "000000000000");
    let reg = Registration {
        scope: &scope,
        revision: 1,
        registered_at: Timestamp(REGISTERED_AT),
        registered_by: REGISTERED_BY.to_string(),
    };
    register(&request(definition), &reg).unwrap_or_else(|e| panic!("rejected: {e}"))
}

/// The registered definition as the API returns it.
#[track_caller]
pub(super) fn registered_json(definition: &Value) -> Value {
    serde_json::to_value(registered(definition)).expect("serializes")
}
