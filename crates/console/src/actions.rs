//! The changes a person makes from the console, each the API operation itself as the
//! signed-in caller (so IAM decides it): update a service's desired count, force a new
//! deployment, delete a service, stop a task, drain a container instance.
//!
//! Every form posts the session's `csrf` token; a post without it, or from another origin, is
//! refused with 403 before anything runs. The answer is a redirect back to the page, which
//! shows the outcome once (the session's flash).

use crate::page::{Signed, State};
use crate::session;
use crate::templates::segment;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State as Shared};
use axum::response::{IntoResponse, Redirect, Response};
use berth_api::error::AwsError;
use berth_model::ecs::*;
use http::{HeaderMap, StatusCode, header};

/// The fields of a posted form.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why a post is refused before it runs: a missing or wrong form token, or a foreign origin.
fn refusal(headers: &HeaderMap, signed: &Signed, form: &Form) -> Option<&'static str> {
    let header = |name| headers.get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());
    if !session::same_origin(header(header::ORIGIN), header(header::HOST)) {
        return Some("The request came from another site.");
    }
    if !session::csrf_matches(&signed.session, form.get("csrf")) {
        return Some("The form's token is missing or stale: reload the page and try again.");
    }
    None
}

/// A change posted by a signed-in person from one of the console's own pages: the extractor
/// refuses (403) a post without the session's form token or from another origin.
pub struct Post {
    pub signed: Signed,
    pub form: Form,
}

impl FromRequest<State> for Post {
    type Rejection = Response;

    async fn from_request(req: Request, console: &State) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, console).await?;
        let body =
            axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let form = Form::parse(&body);
        if let Some(why) = refusal(&parts.headers, &signed, &form) {
            return Err((StatusCode::FORBIDDEN, why).into_response());
        }
        Ok(Post { signed, form })
    }
}

/// The largest form the console accepts (its forms are a few fields).
const MAX_FORM: usize = 16 * 1024;

impl Post {
    /// Back to `page`, which shows the change's outcome (or the API's refusal) once.
    fn answer(self, console: &State, page: String, outcome: Result<String, AwsError>) -> Response {
        let message = outcome.unwrap_or_else(|e| format!("{}: {}", e.code, e.message));
        console.sessions.set_flash(&self.signed.token, message);
        Redirect::to(&page).into_response()
    }
}

fn service_url(cluster: &str, service: &str) -> String {
    format!("/console/clusters/{}/services/{}", segment(cluster), segment(service))
}

pub async fn desired_count(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    post: Post,
) -> Response {
    let outcome = async {
        let count = post.form.get("desiredCount").and_then(|v| v.trim().parse::<i32>().ok()).ok_or_else(|| {
            AwsError::ecs_invalid_parameter("The desired count must be a whole number of tasks, 0 or more.")
        })?;
        let request =
            UpdateServiceRequest { cluster: Some(cluster.clone()), desired_count: Some(count), ..update(&service) };
        let _: UpdateServiceResponse = post.signed.client.ecs("UpdateService", &request).await?;
        Ok(format!("The desired count of {service} is now {count}."))
    }
    .await;
    post.answer(&console, service_url(&cluster, &service), outcome)
}

pub async fn force_deployment(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    post: Post,
) -> Response {
    let request =
        UpdateServiceRequest { cluster: Some(cluster.clone()), force_new_deployment: Some(true), ..update(&service) };
    let outcome = post.signed.client.ecs::<_, UpdateServiceResponse>("UpdateService", &request).await;
    let outcome = outcome.map(|_| format!("A new deployment of {service} has started."));
    post.answer(&console, service_url(&cluster, &service), outcome)
}

pub async fn delete_service(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    post: Post,
) -> Response {
    let request = DeleteServiceRequest { cluster: Some(cluster.clone()), service: service.clone(), force: None };
    let outcome = post.signed.client.ecs::<_, DeleteServiceResponse>("DeleteService", &request).await;
    let outcome = outcome.map(|_| format!("The service {service} is being deleted."));
    post.answer(&console, format!("/console/clusters/{}", segment(&cluster)), outcome)
}

pub async fn stop_task(
    Shared(console): Shared<State>,
    Path((cluster, task)): Path<(String, String)>,
    post: Post,
) -> Response {
    let reason = Some(format!("Stopped from the console by {}", post.signed.session.caller.arn));
    let request = StopTaskRequest { cluster: Some(cluster.clone()), task: task.clone(), reason };
    let outcome = post.signed.client.ecs::<_, StopTaskResponse>("StopTask", &request).await;
    let outcome = outcome.map(|_| format!("The task {task} is stopping."));
    post.answer(&console, format!("/console/clusters/{}/tasks/{}", segment(&cluster), segment(&task)), outcome)
}

pub async fn drain_instance(
    Shared(console): Shared<State>,
    Path((cluster, instance)): Path<(String, String)>,
    post: Post,
) -> Response {
    let request = UpdateContainerInstancesStateRequest {
        cluster: Some(cluster.clone()),
        container_instances: vec![instance.clone()],
        status: ContainerInstanceStatus::Draining,
    };
    let answer =
        post.signed.client.ecs::<_, UpdateContainerInstancesStateResponse>("UpdateContainerInstancesState", &request);
    let outcome = answer.await.map(|answer| match answer.failures.unwrap_or_default().first() {
        Some(f) => format!("{instance} was not drained: {}", f.reason.as_deref().unwrap_or("unknown reason")),
        None => format!("The container instance {instance} is draining."),
    });
    post.answer(&console, format!("/console/clusters/{}", segment(&cluster)), outcome)
}

/// An UpdateService request for `service` that changes nothing yet.
fn update(service: &str) -> UpdateServiceRequest {
    UpdateServiceRequest {
        cluster: None,
        service: service.into(),
        desired_count: None,
        task_definition: None,
        capacity_provider_strategy: None,
        deployment_configuration: None,
        availability_zone_rebalancing: None,
        network_configuration: None,
        placement_constraints: None,
        placement_strategy: None,
        platform_version: None,
        force_new_deployment: None,
        health_check_grace_period_seconds: None,
        deployment_controller: None,
        enable_execute_command: None,
        enable_ecs_managed_tags: None,
        load_balancers: None,
        propagate_tags: None,
        service_registries: None,
        service_connect_configuration: None,
        volume_configurations: None,
        vpc_lattice_configurations: None,
        gateway_connectors: None,
        monitoring: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_by_field() {
        let form = Form::parse(b"csrf=abc&desiredCount=5");
        assert_eq!(form.get("desiredCount"), Some("5"));
        assert_eq!(form.get("missing"), None);
    }
}
