//! The changes a person makes from the console, each the API operation itself as the
//! signed-in caller (so IAM decides it): update a service's desired count, force a new
//! deployment, delete a service, stop a task, drain a container instance.
//!
//! Every form posts the session's `csrf` token; a post without it, or from another origin, is
//! refused with 403 before anything runs. The answer is a redirect back to the page, which
//! shows the outcome once (the session's flash).

use crate::page::{Signed, State};
use crate::session;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
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
pub fn refusal(headers: &HeaderMap, signed: &Signed, form: &Form) -> Option<&'static str> {
    let header = |name| headers.get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());
    if !session::same_origin(header(header::ORIGIN), header(header::HOST)) {
        return Some("The request came from another site.");
    }
    if !session::csrf_matches(&signed.session, form.get("csrf")) {
        return Some("The form's token is missing or stale: reload the page and try again.");
    }
    None
}

/// Runs `change` unless the post is refused; then back to `back` with the outcome.
async fn act<F>(console: &State, signed: Signed, headers: &HeaderMap, body: &[u8], back: String, change: F) -> Response
where
    F: AsyncFnOnce(&Signed, &Form) -> Result<String, AwsError>,
{
    let form = Form::parse(body);
    if let Some(why) = refusal(headers, &signed, &form) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let outcome = match change(&signed, &form).await {
        Ok(done) => done,
        Err(e) => format!("{}: {}", e.code, e.message),
    };
    console.sessions.set_flash(&signed.token, outcome);
    Redirect::to(&back).into_response()
}

fn service_url(cluster: &str, service: &str) -> String {
    format!("/console/clusters/{}/services/{}", segment(cluster), segment(service))
}

/// A name as one URL path segment.
pub fn segment(name: &str) -> String {
    form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20")
}

pub async fn desired_count(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = service_url(&cluster, &service);
    act(&console, signed, &headers, &body, back, async |signed: &Signed, form: &Form| {
        let count = form.get("desiredCount").and_then(|v| v.trim().parse::<i32>().ok()).ok_or_else(|| {
            AwsError::ecs_invalid_parameter("The desired count must be a whole number of tasks, 0 or more.")
        })?;
        let request = UpdateServiceRequest {
            cluster: Some(cluster.clone()),
            service: service.clone(),
            desired_count: Some(count),
            ..update(&service)
        };
        let _: UpdateServiceResponse = signed.client.ecs("UpdateService", &request).await?;
        Ok(format!("The desired count of {service} is now {count}."))
    })
    .await
}

pub async fn force_deployment(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = service_url(&cluster, &service);
    act(&console, signed, &headers, &body, back, async |signed: &Signed, _: &Form| {
        let request =
            UpdateServiceRequest { cluster: Some(cluster.clone()), force_new_deployment: Some(true), ..update(&service) };
        let _: UpdateServiceResponse = signed.client.ecs("UpdateService", &request).await?;
        Ok(format!("A new deployment of {service} has started."))
    })
    .await
}

pub async fn delete_service(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/console/clusters/{}", segment(&cluster));
    act(&console, signed, &headers, &body, back, async |signed: &Signed, _: &Form| {
        let request = DeleteServiceRequest { cluster: Some(cluster.clone()), service: service.clone(), force: None };
        let _: DeleteServiceResponse = signed.client.ecs("DeleteService", &request).await?;
        Ok(format!("The service {service} is being deleted."))
    })
    .await
}

pub async fn stop_task(
    Shared(console): Shared<State>,
    Path((cluster, task)): Path<(String, String)>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/console/clusters/{}/tasks/{}", segment(&cluster), segment(&task));
    act(&console, signed, &headers, &body, back, async |signed: &Signed, _: &Form| {
        let reason = Some(format!("Stopped from the console by {}", signed.session.caller.arn));
        let request = StopTaskRequest { cluster: Some(cluster.clone()), task: task.clone(), reason };
        let _: StopTaskResponse = signed.client.ecs("StopTask", &request).await?;
        Ok(format!("The task {task} is stopping."))
    })
    .await
}

pub async fn drain_instance(
    Shared(console): Shared<State>,
    Path((cluster, instance)): Path<(String, String)>,
    signed: Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/console/clusters/{}", segment(&cluster));
    act(&console, signed, &headers, &body, back, async |signed: &Signed, _: &Form| {
        let request = UpdateContainerInstancesStateRequest {
            cluster: Some(cluster.clone()),
            container_instances: vec![instance.clone()],
            status: ContainerInstanceStatus::Draining,
        };
        let answer: UpdateContainerInstancesStateResponse =
            signed.client.ecs("UpdateContainerInstancesState", &request).await?;
        match answer.failures.unwrap_or_default().first() {
            Some(f) => Ok(format!("{instance} was not drained: {}", f.reason.as_deref().unwrap_or("unknown reason"))),
            None => Ok(format!("The container instance {instance} is draining.")),
        }
    })
    .await
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

    #[test]
    fn names_are_escaped_as_path_segments() {
        assert_eq!(segment("web app/x"), "web%20app%2Fx");
    }
}
