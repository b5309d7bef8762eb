//! Task definitions: RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
//! ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions.
//!
//! Each family has a revision counter beside its revisions; registering bumps the
//! counter and writes the new revision in one transaction, so revision numbers are
//! dense, never reused, and two concurrent registrations never get the same one.

use super::paging;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::{names, task_definitions};
use berth_model::ecs::*;
use berth_model::records::{FamilyRecord, TaskDefinitionRecord};
use berth_model::{Timestamp, keys, taskdef};
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};
use std::collections::BTreeMap;

pub async fn register(
    ctx: Ctx,
    req: RegisterTaskDefinitionRequest,
) -> Result<RegisterTaskDefinitionResponse, AwsError> {
    // Tags are checked with the definition: AWS answers ClientException for both.
    taskdef::validate(&req).map_err(|e| AwsError::ecs_client(e.0))?;
    let tags = req.tags.clone().unwrap_or_default();
    let family_key = keys::taskdef_family(&req.family);
    for _ in 0..64 {
        let counter = documents::get::<FamilyRecord>(ctx.store(), &family_key).await?;
        let (seen, last) = counter.map_or((0, 0), |d| (d.mod_revision, d.value.last_revision));
        let revision = last
            .checked_add(1)
            .ok_or_else(|| AwsError::ecs_client(format!("The family '{}' has no revisions left.", req.family)))?;
        let registration = taskdef::Registration {
            scope: ctx.scope(),
            revision,
            registered_at: Timestamp::now(),
            registered_by: ctx.caller.arn.clone(),
        };
        let task_definition = taskdef::register(&req, &registration).map_err(|e| AwsError::ecs_client(e.0))?;
        let record = TaskDefinitionRecord { task_definition, tags: tags.clone() };
        let key = keys::taskdef(&req.family, revision);
        let txn = Txn::new()
            .when(Compare::ModRevision(family_key.clone(), seen))
            .when(Compare::ModRevision(key.clone(), 0))
            .put(family_key.clone(), documents::encode(&FamilyRecord { last_revision: revision })?)
            .put(key, documents::encode(&record)?);
        if ctx.store().txn(txn).await?.succeeded {
            return Ok(RegisterTaskDefinitionResponse {
                task_definition: Some(record.task_definition),
                tags: Some(record.tags),
            });
        }
    }
    Err(AwsError::internal("ServerException"))
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeTaskDefinitionRequest,
) -> Result<DescribeTaskDefinitionResponse, AwsError> {
    let doc = task_definitions::find(ctx.ecs(), &req.task_definition).await?;
    let with_tags = req.include.unwrap_or_default().contains(&TaskDefinitionField::Tags);
    Ok(DescribeTaskDefinitionResponse {
        task_definition: Some(doc.value.task_definition),
        tags: with_tags.then_some(doc.value.tags),
    })
}

pub async fn list(ctx: Ctx, req: ListTaskDefinitionsRequest) -> Result<ListTaskDefinitionsResponse, AwsError> {
    let status = req.status.unwrap_or(TaskDefinitionStatus::Active);
    // familyPrefix is, despite its name, a whole family name (as in ECS).
    let prefix = match &req.family_prefix {
        Some(family) if names::is_valid_name(family) => keys::taskdefs_of(family),
        Some(_) => return Ok(ListTaskDefinitionsResponse { task_definition_arns: Some(vec![]), next_token: None }),
        None => keys::TASKDEFS.to_string(),
    };
    let mut revisions: Vec<TaskDefinition> = documents::list::<TaskDefinitionRecord>(ctx.store(), &prefix)
        .await?
        .into_iter()
        .map(|d| d.value.task_definition)
        .filter(|td| td.status == Some(status))
        .collect();
    let descending = req.sort == Some(SortOrder::Desc);
    if descending {
        revisions.reverse();
    }
    let sort_key =
        |td: &TaskDefinition| keys::taskdef(td.family.as_deref().unwrap_or_default(), td.revision.unwrap_or_default());
    let page = paging::paginate(revisions, sort_key, descending, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListTaskDefinitionsResponse {
        task_definition_arns: Some(page.items.into_iter().filter_map(|td| td.task_definition_arn).collect()),
        next_token: page.next_token,
    })
}

pub async fn list_families(
    ctx: Ctx,
    req: ListTaskDefinitionFamiliesRequest,
) -> Result<ListTaskDefinitionFamiliesResponse, AwsError> {
    let wanted = req.status.unwrap_or(TaskDefinitionFamilyStatus::All);
    // family -> whether it has an ACTIVE revision
    let mut families: BTreeMap<String, bool> = BTreeMap::new();
    for doc in documents::list::<TaskDefinitionRecord>(ctx.store(), keys::TASKDEFS).await? {
        let td = doc.value.task_definition;
        let family = td.family.unwrap_or_default();
        if req.family_prefix.as_deref().is_some_and(|p| !family.starts_with(p)) {
            continue;
        }
        *families.entry(family).or_default() |= td.status == Some(TaskDefinitionStatus::Active);
    }
    let names: Vec<String> = families
        .into_iter()
        .filter(|(_, has_active)| match wanted {
            TaskDefinitionFamilyStatus::Active => *has_active,
            TaskDefinitionFamilyStatus::Inactive => !*has_active,
            TaskDefinitionFamilyStatus::All => true,
        })
        .map(|(family, _)| family)
        .collect();
    let page = paging::paginate(names, String::clone, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListTaskDefinitionFamiliesResponse { families: Some(page.items), next_token: page.next_token })
}

pub async fn deregister(
    ctx: Ctx,
    req: DeregisterTaskDefinitionRequest,
) -> Result<DeregisterTaskDefinitionResponse, AwsError> {
    let (family, revision) = exact(&ctx, &req.task_definition)?;
    let td = change(&ctx, &family, revision, |td| {
        if td.status == Some(TaskDefinitionStatus::Active) {
            td.status = Some(TaskDefinitionStatus::Inactive);
            td.deregistered_at = Some(Timestamp::now());
        }
        Ok(())
    })
    .await?;
    Ok(DeregisterTaskDefinitionResponse { task_definition: Some(td) })
}

pub async fn delete(ctx: Ctx, req: DeleteTaskDefinitionsRequest) -> Result<DeleteTaskDefinitionsResponse, AwsError> {
    if req.task_definitions.is_empty() || req.task_definitions.len() > 10 {
        return Err(AwsError::ecs_invalid_parameter("Name 1 to 10 task definitions to delete."));
    }
    let (mut deleted, mut failures) = (vec![], vec![]);
    // Each item fails on its own, in failures[] (a revision by its ARN, an invalid name
    // as given); only server faults fail the call.
    for given in &req.task_definitions {
        let (arn, result) = match exact(&ctx, given) {
            Ok((family, revision)) => (
                ctx.scope().ecs(&berth_model::arn::EcsResource::TaskDefinition { family: family.clone(), revision }),
                delete_one(&ctx, &family, revision).await,
            ),
            Err(e) => (given.clone(), Err(e)),
        };
        match result {
            Ok(td) => deleted.push(td),
            Err(e) if e.status.is_client_error() => {
                failures.push(Failure { arn: Some(arn), reason: Some(e.message), detail: None })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(DeleteTaskDefinitionsResponse { task_definitions: Some(deleted), failures: Some(failures) })
}

/// Marks an INACTIVE revision DELETE_IN_PROGRESS (an ACTIVE one is refused).
async fn delete_one(ctx: &Ctx, family: &str, revision: i32) -> Result<TaskDefinition, AwsError> {
    change(ctx, family, revision, |td| match td.status {
        Some(TaskDefinitionStatus::Active) => Err(AwsError::ecs_client(
            "The specified task definition is still in ACTIVE status. Please deregister the target and try again.",
        )),
        Some(TaskDefinitionStatus::DeleteInProgress) => Ok(()),
        _ => {
            td.status = Some(TaskDefinitionStatus::DeleteInProgress);
            td.delete_requested_at = Some(Timestamp::now());
            Ok(())
        }
    })
    .await
}

/// A task definition named with its revision (deregistering and deleting need one).
fn exact(ctx: &Ctx, given: &str) -> Result<(String, i32), AwsError> {
    let wanted = names::task_definition(ctx.scope(), given)?;
    match wanted.revision {
        Some(rev) => Ok((wanted.family, rev)),
        None => Err(AwsError::ecs_client(format!(
            "A revision is required: name the task definition as {given}:REVISION or by its full ARN."
        ))),
    }
}

/// Applies `f` to a stored revision with compare-and-swap and returns the result.
async fn change(
    ctx: &Ctx,
    family: &str,
    revision: i32,
    mut f: impl FnMut(&mut TaskDefinition) -> Result<(), AwsError>,
) -> Result<TaskDefinition, AwsError> {
    let key = keys::taskdef(family, revision);
    documents::modify(ctx.store(), &key, |current: Option<TaskDefinitionRecord>| {
        let mut record =
            current.ok_or_else(|| AwsError::ecs_client("The specified task definition does not exist."))?;
        f(&mut record.task_definition)?;
        let td = record.task_definition.clone();
        Ok((Change::Put(record), td))
    })
    .await
}
