//! `/console/clusters/{cluster}`: the cluster's counts and capacity providers, its services
//! and its container instances with the CPU, memory and GPUs each has left, as bars.

use super::clusters::{ClusterRow, row};
use super::{last_segment, percent};
use crate::page::{Signed, State};
use axum::extract::{Path, State as Shared};
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::ecs::*;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ClusterView {
    pub cluster: ClusterRow,
    pub services: Vec<ServiceRow>,
    pub instances: Vec<InstanceRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// The newest deployment's rollout state (`IN_PROGRESS`, `COMPLETED`, `FAILED`).
    pub rollout: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct InstanceRow {
    pub id: String,
    pub ec2_instance_id: String,
    pub status: String,
    pub agent_connected: bool,
    pub running_tasks: i32,
    pub bars: Vec<Bar>,
}

/// One resource of an instance: how much is registered and how much is left.
#[derive(Debug, Serialize, PartialEq)]
pub struct Bar {
    pub name: &'static str,
    pub remaining: i64,
    pub registered: i64,
    /// How much of it is in use, in percent (the bar's filled part).
    pub used_percent: i64,
}

pub fn service_row(s: &Service) -> ServiceRow {
    let newest = s.deployments.as_ref().and_then(|d| d.iter().find(|d| d.status.as_deref() == Some("PRIMARY")));
    ServiceRow {
        name: s.service_name.clone().unwrap_or_default(),
        status: s.status.clone().unwrap_or_default(),
        desired: s.desired_count.unwrap_or(0),
        running: s.running_count.unwrap_or(0),
        pending: s.pending_count.unwrap_or(0),
        rollout: newest.and_then(|d| d.rollout_state.as_ref()).map(super::wire).unwrap_or_default(),
    }
}

/// A resource's amount: an integer, or the count of a set (GPUs are a set of ids).
fn amount(resources: Option<&Vec<Resource>>, name: &str) -> Option<i64> {
    let r = resources?.iter().find(|r| r.name.as_deref() == Some(name))?;
    r.integer_value.map(i64::from).or(r.long_value).or_else(|| r.string_set_value.as_ref().map(|set| set.len() as i64))
}

pub fn instance_row(i: &ContainerInstance) -> InstanceRow {
    let bars = [("CPU", "CPU"), ("Memory (MiB)", "MEMORY"), ("GPUs", "GPU")]
        .into_iter()
        .filter_map(|(label, name)| {
            let registered = amount(i.registered_resources.as_ref(), name)?;
            let remaining = amount(i.remaining_resources.as_ref(), name).unwrap_or(registered);
            (registered > 0).then(|| Bar {
                name: label,
                remaining,
                registered,
                used_percent: percent(registered - remaining, registered),
            })
        })
        .collect();
    InstanceRow {
        id: last_segment(i.container_instance_arn.as_deref().unwrap_or("")).into(),
        ec2_instance_id: i.ec2_instance_id.clone().unwrap_or_default(),
        status: i.status.clone().unwrap_or_default(),
        agent_connected: i.agent_connected.unwrap_or(false),
        running_tasks: i.running_tasks_count.unwrap_or(0),
        bars,
    }
}

pub async fn page(Shared(console): Shared<State>, Path(cluster): Path<String>, signed: Signed) -> Response {
    match view(&signed, &cluster).await {
        Ok(view) => console.page(&signed, "cluster.html", &cluster, view),
        Err(e) => console.error(&signed, &e),
    }
}

async fn view(signed: &Signed, cluster: &str) -> Result<ClusterView, AwsError> {
    let c = signed.client.clone();
    let described: DescribeClustersResponse = c
        .ecs("DescribeClusters", &DescribeClustersRequest { clusters: Some(vec![cluster.into()]), include: None })
        .await?;
    let Some(found) = described.clusters.unwrap_or_default().into_iter().next() else {
        return Err(AwsError::ecs_cluster_not_found());
    };
    let cluster_name = Some(cluster.to_owned());
    let service_arns = c
        .list_all(
            "ListServices",
            |next_token| ListServicesRequest {
                cluster: cluster_name.clone(),
                next_token,
                max_results: Some(100),
                ..Default::default()
            },
            |page: ListServicesResponse| (page.service_arns, page.next_token),
        )
        .await?;
    let mut services = vec![];
    for chunk in service_arns.chunks(10) {
        let page: DescribeServicesResponse = c
            .ecs(
                "DescribeServices",
                &DescribeServicesRequest { cluster: cluster_name.clone(), services: chunk.to_vec(), include: None },
            )
            .await?;
        services.extend(page.services.unwrap_or_default().iter().map(service_row));
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    let instance_arns = c
        .list_all(
            "ListContainerInstances",
            |next_token| ListContainerInstancesRequest {
                cluster: cluster_name.clone(),
                next_token,
                max_results: Some(100),
                ..Default::default()
            },
            |page: ListContainerInstancesResponse| (page.container_instance_arns, page.next_token),
        )
        .await?;
    let mut instances = vec![];
    for chunk in instance_arns.chunks(100) {
        let page: DescribeContainerInstancesResponse = c
            .ecs(
                "DescribeContainerInstances",
                &DescribeContainerInstancesRequest {
                    cluster: cluster_name.clone(),
                    container_instances: chunk.to_vec(),
                    include: None,
                },
            )
            .await?;
        instances.extend(page.container_instances.unwrap_or_default().iter().map(instance_row));
    }
    Ok(ClusterView { cluster: row(&found), services, instances })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str, value: i32) -> Resource {
        Resource { name: Some(name.into()), integer_value: Some(value), ..Default::default() }
    }

    #[test]
    fn an_instance_shows_what_it_has_left_as_bars() {
        let gpus = |n: usize| Resource {
            name: Some("GPU".into()),
            string_set_value: Some((0..n).map(|i| format!("gpu{i}")).collect()),
            ..Default::default()
        };
        let i = ContainerInstance {
            container_instance_arn: Some("arn:aws:ecs:us-east-1:000000000000:container-instance/web/abc".into()),
            registered_resources: Some(vec![resource("CPU", 2048), resource("MEMORY", 4096), gpus(2)]),
            remaining_resources: Some(vec![resource("CPU", 1024), resource("MEMORY", 4096), gpus(1)]),
            ..Default::default()
        };
        let row = instance_row(&i);
        assert_eq!(row.id, "abc");
        let used: Vec<_> = row.bars.iter().map(|b| (b.name, b.remaining, b.used_percent)).collect();
        assert_eq!(used, vec![("CPU", 1024, 50), ("Memory (MiB)", 4096, 0), ("GPUs", 1, 50)]);
    }

    #[test]
    fn an_instance_without_gpus_has_no_gpu_bar() {
        let i = ContainerInstance {
            registered_resources: Some(vec![resource("CPU", 1024), resource("MEMORY", 512)]),
            ..Default::default()
        };
        assert_eq!(instance_row(&i).bars.len(), 2);
    }

    #[test]
    fn a_service_row_shows_its_primary_rollout() {
        let s = Service {
            service_name: Some("web".into()),
            desired_count: Some(3),
            running_count: Some(2),
            deployments: Some(vec![Deployment {
                status: Some("PRIMARY".into()),
                rollout_state: Some(DeploymentRolloutState::InProgress),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let row = service_row(&s);
        assert_eq!((row.desired, row.running, row.rollout.as_str()), (3, 2, "IN_PROGRESS"));
    }
}
