//! The `berth` binary: `berth up` runs a whole single-machine ECS (API server plus a
//! local agent), `berth server` the control plane alone, `berth agent` one container
//! instance joining a server.
#![forbid(unsafe_code)]

mod agent_cmd;
mod credentials;
mod ha;
mod host_cmd;
mod listener_args;
mod logs_tail_cmd;
mod server;
mod spot_cmd;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "berth", version, about = "A self-hosted container orchestrator that speaks the Amazon ECS API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything on this machine: the API server, and an agent running the `default` cluster's tasks.
    Up(server::UpArgs),
    /// The control plane: the AWS API and the state store.
    Server(server::ServerArgs),
    /// A container instance: registers this machine with a server and runs the tasks placed on it.
    Agent(agent_cmd::AgentArgs),
    /// A host: runs the EC2 instances a server assigns to this machine, one agent each.
    Host(host_cmd::HostArgs),
    /// Prints a log group's events as `aws logs tail` does (optionally following them).
    Logs(logs_tail_cmd::LogsArgs),
    /// Reclaims FARGATE_SPOT capacity: a cluster's spot tasks get ECS's interruption (SpotInterruption).
    FargateSpotInterrupt(spot_cmd::SpotArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Command::Up(args) => runtime.block_on(server::up(args)),
        Command::Server(args) => runtime.block_on(server::serve(args, None)),
        Command::Agent(args) => runtime.block_on(agent_cmd::run(args)),
        Command::Host(args) => runtime.block_on(host_cmd::run(args)),
        Command::Logs(args) => runtime.block_on(logs_tail_cmd::run(args)),
        Command::FargateSpotInterrupt(args) => runtime.block_on(spot_cmd::run(args)),
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot install signal handlers; stop berth with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's arguments are well-formed (clap checks names and ids only when a
    /// command is built, so a clash would otherwise panic at start-up).
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
