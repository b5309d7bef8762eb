//! `berth fargate-spot-interrupt --cluster C [--task ARN]...`: reclaims FARGATE_SPOT
//! capacity, as AWS does when it needs it back. Each spot task of the cluster (or each one
//! named) gets ECS's two-minute warning: stopCode SpotInterruption, stoppedReason "Your
//! Spot Task was interrupted.", SIGTERM to its containers and the stop after their
//! stopTimeout; a service replaces its interrupted tasks. Prints the interrupted ARNs.

use berth_agent::client::{ApiClient, ClientConfig};
use berth_model::agent_protocol::TARGET_PREFIX;
use berth_model::fargate::{InterruptSpotTasksRequest, InterruptSpotTasksResponse};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct SpotArgs {
    /// The cluster whose FARGATE_SPOT tasks are interrupted.
    #[arg(long)]
    pub cluster: String,
    /// Only these tasks (ARN or id; repeatable). Default: every FARGATE_SPOT task of the cluster.
    #[arg(long = "task")]
    pub tasks: Vec<String>,
    /// The berth API endpoint.
    #[arg(long, env = "AWS_ENDPOINT_URL", default_value = "http://127.0.0.1:4566")]
    pub endpoint_url: String,
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    pub region: String,
    /// A shared-credentials file with a `berth` profile, used when AWS_ACCESS_KEY_ID is
    /// unset. The principal needs ecs:InterruptSpotTasks.
    #[arg(long, default_value = ".berth/credentials", env = "BERTH_CREDENTIALS_FILE")]
    pub credentials_file: PathBuf,
}

pub async fn run(args: SpotArgs) -> anyhow::Result<()> {
    let (access_key_id, secret_access_key) = crate::agent_cmd::credentials(&args.credentials_file)?;
    let client = ApiClient::new(ClientConfig {
        endpoint: args.endpoint_url,
        access_key_id,
        secret_access_key,
        region: args.region,
    })?;
    let request = InterruptSpotTasksRequest { cluster: args.cluster, tasks: args.tasks };
    let answer: InterruptSpotTasksResponse = client
        .call(TARGET_PREFIX, "InterruptSpotTasks", &request)
        .await
        .map_err(|e| anyhow::anyhow!("InterruptSpotTasks: {e}"))?;
    for arn in answer.task_arns {
        println!("{arn}");
    }
    Ok(())
}
