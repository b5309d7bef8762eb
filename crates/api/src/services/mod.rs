//! One module per AWS service, plus berth's own agent protocol (`agent`). Each describes
//! itself with a `SERVICE` (`route::Service`: signing name, target prefix or query
//! Version, its `call`); `ALL` lists them for `route::Route::of`, and `call` runs the
//! operation a route names.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::{ec2 as ec2_protocol, query};
use crate::route::{Route, Service, Wire};

pub mod agent;
mod agent_access;
pub mod application_autoscaling;
pub mod autoscaling;
pub mod cloudwatch;
pub mod cloudwatch_logs;
mod cloudwatch_logs_access;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod secretsmanager;
pub mod ssm;
pub mod sts;
mod sts_access;
mod task_credentials;

/// Every service berth serves on its API port, each with its IAM table (`authorize::Asks`).
pub const ALL: &[&Service] = &[
    &ecs::SERVICE.authorized_by(ecs::access::asks),
    &ecr::SERVICE.authorized_by(ecr::access::asks),
    &cloudwatch_logs::SERVICE.authorized_by(cloudwatch_logs_access::asks),
    &agent::SERVICE.authorized_by(agent_access::asks),
    &sts::SERVICE.authorized_by(sts_access::asks),
    &elbv2::SERVICE.authorized_by(elbv2::access::asks),
    &iam::SERVICE.authorized_by(iam::access::asks),
    &ssm::SERVICE.authorized_by(ssm::access::asks),
    &secretsmanager::SERVICE.authorized_by(secretsmanager::access::asks),
    &autoscaling::SERVICE.authorized_by(autoscaling::access::asks),
    &ec2::SERVICE.authorized_by(ec2::access::asks),
    &application_autoscaling::SERVICE.authorized_by(application_autoscaling::access::asks),
    &cloudwatch::SERVICE.authorized_by(cloudwatch::access::asks),
    &cloudwatch::QUERY_SERVICE.authorized_by(cloudwatch::access::asks),
];

/// Runs the operation `route` names with the request's `body` (JSON) or form (query) and
/// answers the protocol's body; a query service's result is wrapped here in
/// `<ActionResponse>` with its namespace.
pub async fn call(ctx: Ctx, route: &Route, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let op = route.operation.as_str();
    match &route.service.wire {
        Wire::Json { call, .. } => call(ctx, op, body).await,
        Wire::Query { xmlns, call, .. } => {
            let request_id = ctx.request_id.clone();
            let result = call(ctx, op, route.form()).await?;
            Ok(query::encode_response(op, xmlns, &request_id, &result).into_bytes())
        }
        Wire::Ec2 { xmlns, call, .. } => {
            let request_id = ctx.request_id.clone();
            let result = call(ctx, op, route.form()).await?;
            Ok(ec2_protocol::encode_response(op, xmlns, &request_id, &result).into_bytes())
        }
    }
}
