//! `/console/task-definitions`: families with their revisions; a revision's JSON as
//! `describe-task-definition` answers it at `/console/task-definitions/{family:revision}`.

use super::last_segment;
use crate::page::{Signed, State};
use axum::extract::{Path, State as Shared};
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::ecs::*;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct Family {
    pub name: String,
    /// `family:revision`, newest first.
    pub revisions: Vec<String>,
}

/// Revisions (`family:revision` ARNs) grouped by family, families by name, newest revision first.
pub fn families(arns: &[String]) -> Vec<Family> {
    let mut by_family: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
    for arn in arns {
        let name = last_segment(arn);
        if let Some((family, revision)) = name.rsplit_once(':') {
            let number = revision.parse().unwrap_or(0);
            by_family.entry(family.into()).or_default().push((number, name.into()));
        }
    }
    by_family
        .into_iter()
        .map(|(name, mut revisions)| {
            revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
            Family { name, revisions: revisions.into_iter().map(|(_, r)| r).collect() }
        })
        .collect()
}

pub async fn page(Shared(console): Shared<State>, signed: Signed) -> Response {
    let listed = signed
        .client
        .list_all(
            "ListTaskDefinitions",
            |next_token| ListTaskDefinitionsRequest { next_token, max_results: Some(100), ..Default::default() },
            |page: ListTaskDefinitionsResponse| (page.task_definition_arns, page.next_token),
        )
        .await;
    match listed {
        Ok(arns) => console.page(&signed, "task_definitions.html", "Task definitions", families(&arns)),
        Err(e) => console.error(&signed, &e),
    }
}

#[derive(Debug, Serialize)]
pub struct RevisionView {
    pub name: String,
    pub status: String,
    pub json: String,
}

pub async fn revision(Shared(console): Shared<State>, Path(name): Path<String>, signed: Signed) -> Response {
    match fetch(&signed, &name).await {
        Ok(view) => console.page(&signed, "task_definition.html", &name, view),
        Err(e) => console.error(&signed, &e),
    }
}

async fn fetch(signed: &Signed, name: &str) -> Result<RevisionView, AwsError> {
    let request = DescribeTaskDefinitionRequest { task_definition: name.into(), include: None };
    let described: DescribeTaskDefinitionResponse = signed.client.ecs("DescribeTaskDefinition", &request).await?;
    let definition = described.task_definition.unwrap_or_default();
    let json = serde_json::to_string_pretty(&definition).map_err(|_| AwsError::internal("InternalFailure"))?;
    Ok(RevisionView {
        name: name.into(),
        status: definition.status.as_ref().map(super::wire).unwrap_or_default(),
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_group_by_family_newest_first() {
        let arn = |r: &str| format!("arn:aws:ecs:us-east-1:000000000000:task-definition/{r}");
        let arns = [arn("web:1"), arn("web:10"), arn("web:2"), arn("api:1")];
        let got = families(&arns);
        assert_eq!(got[0], Family { name: "api".into(), revisions: vec!["api:1".into()] });
        assert_eq!(got[1].revisions, ["web:10", "web:2", "web:1"]);
    }
}
