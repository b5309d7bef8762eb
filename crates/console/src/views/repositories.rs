//! `/console/repositories`: ECR repositories with their images (tags, sizes, digests) and
//! the `docker` commands that push to each.

use super::when;
use crate::client::Service as Api;
use crate::page::{Signed, State};
use axum::extract::State as Shared;
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::generated::ecr::*;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct RepositoryView {
    pub name: String,
    pub uri: String,
    /// `docker login`, `docker tag` and `docker push`, for a person to paste.
    pub push: Vec<String>,
    pub images: Vec<ImageRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ImageRow {
    pub tags: Vec<String>,
    pub digest: String,
    pub size: String,
    pub pushed: String,
}

/// A size as a person reads it (`12.3 MB`).
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

pub fn view(repository: &Repository, images: &[ImageDetail], region: &str) -> RepositoryView {
    let uri = repository.repository_uri.clone().unwrap_or_default();
    let registry = uri.split('/').next().unwrap_or_default().to_owned();
    let mut images: Vec<&ImageDetail> = images.iter().collect();
    images.sort_by(|a, b| b.image_pushed_at.partial_cmp(&a.image_pushed_at).unwrap_or(std::cmp::Ordering::Equal));
    RepositoryView {
        name: repository.repository_name.clone().unwrap_or_default(),
        push: vec![
            format!(
                "aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {registry}"
            ),
            format!("docker tag IMAGE {uri}:latest"),
            format!("docker push {uri}:latest"),
        ],
        uri,
        images: images
            .into_iter()
            .map(|i| ImageRow {
                tags: i.image_tags.clone().unwrap_or_default(),
                digest: i.image_digest.clone().unwrap_or_default(),
                size: i.image_size_in_bytes.map(size).unwrap_or_default(),
                pushed: when(i.image_pushed_at),
            })
            .collect(),
    }
}

pub async fn page(Shared(console): Shared<State>, signed: Signed) -> Response {
    match fetch(&signed).await {
        Ok(view) => console.page(&signed, "repositories.html", "Repositories", view),
        Err(e) => console.error(&signed, &e),
    }
}

async fn fetch(signed: &Signed) -> Result<Vec<RepositoryView>, AwsError> {
    let c = &signed.client;
    let mut views = vec![];
    let mut next_token = None;
    loop {
        let request = DescribeRepositoriesRequest { next_token, max_results: Some(100), ..Default::default() };
        let page: DescribeRepositoriesResponse = c.call(Api::Ecr, "DescribeRepositories", &request).await?;
        for repository in page.repositories.unwrap_or_default() {
            let request = DescribeImagesRequest {
                repository_name: repository.repository_name.clone().unwrap_or_default(),
                max_results: Some(100),
                registry_id: None,
                image_ids: None,
                next_token: None,
                filter: None,
            };
            let images: DescribeImagesResponse = c.call(Api::Ecr, "DescribeImages", &request).await?;
            views.push(view(&repository, &images.image_details.unwrap_or_default(), &c.api.scope.region));
        }
        next_token = page.next_token;
        if next_token.is_none() {
            return Ok(views);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(12_345_678), "12.3 MB");
    }

    #[test]
    fn a_repository_shows_how_to_push_to_it() {
        let repository = Repository {
            repository_name: Some("web".into()),
            repository_uri: Some("127.0.0.1:4566/web".into()),
            ..Default::default()
        };
        let v = view(&repository, &[], "us-east-1");
        assert!(v.push[0].ends_with("--password-stdin 127.0.0.1:4566"));
        assert_eq!(v.push[2], "docker push 127.0.0.1:4566/web:latest");
    }
}
