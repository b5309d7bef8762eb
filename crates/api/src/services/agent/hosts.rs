//! The host protocol (berth's agent protocol, `BerthAgent_V1.<Op>`): what a host running
//! EC2 instances says to the server. Thin: berth-fleet does the work.
//!
//! - `RegisterHost`: the host and its capacity (again after a restart, same id).
//! - `PollHostAssignments`: its long poll and heartbeat; answers with the instances
//!   assigned to it and the clusters that run Fargate tasks (the host runs a Fargate pool
//!   agent in each) at once without `afterRevision`, else when an instance changed after
//!   it or after `waitSeconds` (at most 20; 1 while an instance waits to be released).
//! - `ReportInstanceState`: an instance's agent started (`running`) or ended.
//! - `GetInstanceCredentials`: an instance profile's role, assumed as `ec2.amazonaws.com`
//!   (the role's trust policy decides), session `i-...`, for the instance's host only.

use super::super::sts::{self, Assume};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::agent_protocol::{MAX_POLL_WAIT_SECONDS, RoleCredentials};
use berth_model::fleet::{
    GetInstanceCredentialsRequest, GetInstanceCredentialsResponse, HostAssignment, PollHostAssignmentsRequest,
    PollHostAssignmentsResponse, RegisterHostRequest, RegisterHostResponse, ReportInstanceStateRequest,
    ReportInstanceStateResponse,
};
use berth_model::iam::records::{InstanceProfileRecord, RoleRecord};
use berth_model::keys;
use berth_policy::Principal;
use berth_store::documents;
use std::time::Duration;

/// The service principal instance profiles' roles must trust.
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";

pub async fn register(ctx: Ctx, req: RegisterHostRequest) -> Result<RegisterHostResponse, AwsError> {
    let host = berth_fleet::hosts::register(ctx.store(), req, berth_ec2::now_ms()).await?;
    tracing::debug!(host = %host.host_id, name = %host.name, capacity = ?host.capacity, "host registered");
    Ok(RegisterHostResponse { host })
}

pub async fn poll(ctx: Ctx, req: PollHostAssignmentsRequest) -> Result<PollHostAssignmentsResponse, AwsError> {
    berth_fleet::hosts::heartbeat(ctx.store(), &req.host_id, berth_ec2::now_ms()).await?;
    if let Some(after) = req.after_revision.filter(|_| req.wait_seconds != Some(0)) {
        let (_, current) = berth_fleet::hosts::assignments(ctx.ecs(), &req.host_id).await?;
        let waiting_release = current.iter().any(|a| leaving(a) && !a.released);
        let wait = req.wait_seconds.unwrap_or(MAX_POLL_WAIT_SECONDS).min(MAX_POLL_WAIT_SECONDS);
        let wait = if waiting_release { wait.min(1) } else { wait };
        wait_for_instances(&ctx, after, Duration::from_secs(wait.into())).await?;
        berth_fleet::hosts::heartbeat(ctx.store(), &req.host_id, berth_ec2::now_ms()).await?;
    }
    let (revision, instances) = berth_fleet::hosts::assignments(ctx.ecs(), &req.host_id).await?;
    let fargate_clusters = berth_fleet::hosts::fargate_clusters(ctx.store()).await?;
    Ok(PollHostAssignmentsResponse { revision, instances, fargate_clusters })
}

fn leaving(a: &HostAssignment) -> bool {
    a.state == "stopping" || a.state == "shutting-down"
}

/// Returns when an instance record (or the set of Fargate clusters) changed after
/// `after`, after `wait`, or at shutdown.
async fn wait_for_instances(ctx: &Ctx, after: i64, wait: Duration) -> Result<(), AwsError> {
    if after > ctx.store().revision().await? {
        return Ok(());
    }
    let mut events = ctx.store().watch(keys::EC2_INSTANCES, after).await?;
    let mut fargate = ctx.store().watch(berth_model::fleet::keys::FARGATE_CLUSTERS, after).await?;
    tokio::select! {
        _ = events.recv() => {}
        _ = fargate.recv() => {}
        _ = tokio::time::sleep(wait) => {}
        _ = ctx.api.shutdown_begun() => {}
    }
    Ok(())
}

pub async fn report(ctx: Ctx, req: ReportInstanceStateRequest) -> Result<ReportInstanceStateResponse, AwsError> {
    berth_fleet::hosts::report(ctx.store(), &req, berth_ec2::now_ms()).await?;
    Ok(ReportInstanceStateResponse {})
}

pub async fn credentials(
    ctx: Ctx,
    req: GetInstanceCredentialsRequest,
) -> Result<GetInstanceCredentialsResponse, AwsError> {
    let instance = berth_fleet::hosts::instance_of(ctx.store(), &req.host_id, &req.instance_id).await?;
    let no_profile =
        || AwsError::ecs_client(format!("The instance {} has no IAM instance profile.", instance.instance_id));
    let profile_arn = instance.iam_instance_profile_arn.as_deref().ok_or_else(no_profile)?;
    let name = profile_arn.rsplit('/').next().unwrap_or_default();
    let profile = documents::get::<InstanceProfileRecord>(ctx.store(), &berth_model::iam::keys::instance_profile(name))
        .await?
        .map(|d| d.value)
        .filter(|p| p.instance_profile.arn == profile_arn)
        .ok_or_else(|| AwsError::ecs_client(format!("The instance profile {profile_arn} no longer exists.")))?;
    let role_name =
        profile.role.ok_or_else(|| AwsError::ecs_client(format!("The instance profile {profile_arn} has no role.")))?;
    let role = documents::get::<RoleRecord>(ctx.store(), &berth_model::iam::keys::role(&role_name))
        .await?
        .map(|d| d.value.role)
        .ok_or_else(|| AwsError::ecs_client(format!("The role {role_name} of {profile_arn} no longer exists.")))?;
    let request = Assume {
        role_arn: &role.arn,
        session_name: &instance.instance_id,
        duration_seconds: None,
        external_id: None,
        tags: vec![],
    };
    let (credentials, _, _) = sts::assume(&ctx, Principal::service(EC2_SERVICE), request).await?;
    Ok(GetInstanceCredentialsResponse {
        credentials: RoleCredentials {
            access_key_id: credentials.access_key_id,
            secret_access_key: credentials.secret_access_key,
            token: credentials.session_token,
            expiration: credentials.expiration,
            role_arn: role.arn,
        },
    })
}
