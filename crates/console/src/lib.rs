//! berth's web console, under `/console/` on the API port: server-rendered pages (minijinja
//! templates in `templates/`, autoescaped) for clusters, services, tasks, task definitions,
//! repositories and log groups, refreshed live by a small script (`static/console.js`).
//!
//! Every read and every change is the API operation itself, run in process as the signed-in
//! caller (`client`, `berth_api::in_process`): the same handlers, rules and IAM policies as the
//! `aws` CLI. Sessions and the protection of forms against other sites are in `session`.
#![forbid(unsafe_code)]

mod actions;
mod client;
mod page;
mod session;
mod sign_in;
mod templates;
mod views;

use axum::Router;
use axum::routing::{get, post};
use berth_api::Api;
use std::sync::Arc;

pub use client::Client;
pub use page::{Console, Signed};

/// Where the console is served.
pub const PATH: &str = "/console/";

/// The console's routes; merge them into the API router (they come before its fallback).
pub fn router(api: Arc<Api>) -> Router {
    let console = Arc::new(Console { api, sessions: Default::default(), templates: templates::environment() });
    use views::*;
    Router::new()
        .route("/console", get(|| async { axum::response::Redirect::permanent(PATH) }))
        .route("/console/", get(clusters::page))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/static/{file}", get(templates::asset))
        .route("/console/clusters/{cluster}", get(cluster::page))
        .route("/console/clusters/{cluster}/services/{service}", get(service::page))
        .route("/console/clusters/{cluster}/services/{service}/desired-count", post(actions::desired_count))
        .route("/console/clusters/{cluster}/services/{service}/force-deployment", post(actions::force_deployment))
        .route("/console/clusters/{cluster}/services/{service}/delete", post(actions::delete_service))
        .route("/console/clusters/{cluster}/tasks/{task}", get(task::page))
        .route("/console/clusters/{cluster}/tasks/{task}/stop", post(actions::stop_task))
        .route("/console/clusters/{cluster}/instances/{instance}/drain", post(actions::drain_instance))
        .route("/console/task-definitions", get(task_definitions::page))
        .route("/console/task-definitions/{name}", get(task_definitions::revision))
        .route("/console/repositories", get(repositories::page))
        .route("/console/log-groups", get(log_groups::page))
        .route("/console/log-groups/{group}", get(log_groups::search))
        .layer(axum::middleware::from_fn(server_timing))
        .with_state(console)
}

/// Says in a `Server-Timing` header how long the server took for a console page (reads
/// through the API's operations and rendering), which `bench/console.py` reports.
async fn server_timing(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let start = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let millis = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = http::HeaderValue::from_str(&format!("app;dur={millis:.2}")) {
        resp.headers_mut().insert("server-timing", value);
    }
    resp
}
