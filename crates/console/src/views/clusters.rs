//! `/console/`: every cluster with its counts and capacity providers.

use super::last_segment;
use crate::page::{Signed, State};
use axum::extract::State as Shared;
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::ecs::{
    Cluster, DescribeClustersRequest, DescribeClustersResponse, ListClustersRequest, ListClustersResponse,
};
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct ClusterRow {
    pub name: String,
    pub status: String,
    pub services: i32,
    pub running: i32,
    pub pending: i32,
    pub instances: i32,
    pub capacity_providers: Vec<String>,
}

pub fn row(c: &Cluster) -> ClusterRow {
    ClusterRow {
        name: c.cluster_name.clone().unwrap_or_else(|| last_segment(c.cluster_arn.as_deref().unwrap_or("")).into()),
        status: c.status.clone().unwrap_or_default(),
        services: c.active_services_count.unwrap_or(0),
        running: c.running_tasks_count.unwrap_or(0),
        pending: c.pending_tasks_count.unwrap_or(0),
        instances: c.registered_container_instances_count.unwrap_or(0),
        capacity_providers: c.capacity_providers.clone().unwrap_or_default(),
    }
}

pub async fn page(Shared(console): Shared<State>, signed: Signed) -> Response {
    match rows(&signed).await {
        Ok(rows) => console.page(&signed, "clusters.html", "Clusters", rows),
        Err(e) => console.error(&signed, &e),
    }
}

async fn rows(signed: &Signed) -> Result<Vec<ClusterRow>, AwsError> {
    let arns = signed
        .client
        .list_all(
            "ListClusters",
            |next_token| ListClustersRequest { next_token, max_results: Some(100) },
            |page: ListClustersResponse| (page.cluster_arns, page.next_token),
        )
        .await?;
    let mut rows = vec![];
    for chunk in arns.chunks(100) {
        let described: DescribeClustersResponse = signed
            .client
            .ecs("DescribeClusters", &DescribeClustersRequest { clusters: Some(chunk.to_vec()), include: None })
            .await?;
        rows.extend(described.clusters.unwrap_or_default().iter().map(row));
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_row_reads_its_counts() {
        let c = Cluster {
            cluster_arn: Some("arn:aws:ecs:us-east-1:000000000000:cluster/web".into()),
            status: Some("ACTIVE".into()),
            running_tasks_count: Some(3),
            capacity_providers: Some(vec!["cp".into()]),
            ..Default::default()
        };
        let row = row(&c);
        assert_eq!((row.name.as_str(), row.running, row.pending), ("web", 3, 0));
        assert_eq!(row.capacity_providers, vec!["cp".to_string()]);
    }
}
