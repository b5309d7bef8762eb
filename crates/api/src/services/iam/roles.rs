//! Roles: CreateRole (with its trust policy), Get/List/Update/DeleteRole, the trust
//! policy, tags, and ECS's service-linked role.

use super::batch::transact;
use super::{edit, list_all, load, new_id, page, path_filter, put_new};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::iam::document::{self, PolicyKind};
use berth_model::iam::records::{Permissions, Principal, RoleRecord};
use berth_model::iam::*;

/// A trust policy's size limit (IAM's default ACLSizePerRole quota).
const TRUST_POLICY_MAX: usize = 2048;

fn check_trust_policy(doc: &str) -> Result<(), IamError> {
    document::check_size(doc, "ACLSizePerRole", TRUST_POLICY_MAX)?;
    document::check(doc, PolicyKind::Trust)
}

pub async fn create(ctx: Ctx, input: CreateRoleRequest) -> Result<CreateRoleResponse, AwsError> {
    validate::name(&input.role_name, "roleName", validate::NAME_MAX)?;
    let path = input.path.unwrap_or_else(|| "/".into());
    validate::path(&path)?;
    check_trust_policy(&input.assume_role_policy_document)?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    let max_session = input.max_session_duration.unwrap_or(3600);
    validate::max_session_duration(max_session)?;
    let tags = input.tags.unwrap_or_default();
    tags::check(&tags)?;
    let account = &ctx.scope().account;
    let id = new_id(Entity::Role)?;
    let mut record =
        RoleRecord::new(account, &path, &input.role_name, id, &input.assume_role_policy_document, Timestamp::now());
    record.role.description = input.description;
    record.role.max_session_duration = Some(max_session);
    record.role.tags = (!tags.is_empty()).then_some(tags);
    record.role.permissions_boundary = super::policies::boundary(&ctx, input.permissions_boundary.as_deref()).await?;
    put_new(&ctx, &keys::role(&record.role.role_name), &record, Entity::Role, &record.role.role_name).await?;
    Ok(CreateRoleResponse { role: record.shown() })
}

pub async fn get(ctx: Ctx, input: GetRoleRequest) -> Result<GetRoleResponse, AwsError> {
    let record: RoleRecord = load(&ctx, &input.role_name).await?;
    Ok(GetRoleResponse { role: record.shown() })
}

pub async fn list(ctx: Ctx, input: ListRolesRequest) -> Result<ListRolesResponse, AwsError> {
    let keep = path_filter(input.path_prefix.as_deref())?;
    let roles: Vec<Role> = list_all::<RoleRecord>(&ctx, keys::ROLES)
        .await?
        .into_iter()
        .filter(|r| keep(&r.role.path))
        // ListRoles leaves out tags and the permissions boundary, as IAM's does.
        .map(|r| Role { tags: None, permissions_boundary: None, ..r.shown() })
        .collect();
    let page = page(roles, |r| r.role_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListRolesResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, roles: page.items })
}

pub async fn update(ctx: Ctx, input: UpdateRoleRequest) -> Result<UpdateRoleResponse, AwsError> {
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    if let Some(seconds) = input.max_session_duration {
        validate::max_session_duration(seconds)?;
    }
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        if input.description.is_some() {
            r.role.description.clone_from(&input.description);
        }
        if input.max_session_duration.is_some() {
            r.role.max_session_duration = input.max_session_duration;
        }
        Ok(())
    })
    .await?;
    Ok(UpdateRoleResponse {})
}

pub async fn update_assume_role_policy(ctx: Ctx, input: UpdateAssumeRolePolicyRequest) -> Result<(), AwsError> {
    check_trust_policy(&input.policy_document)?;
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        r.check_modifiable()?;
        r.role.assume_role_policy_document = Some(input.policy_document.clone());
        Ok(())
    })
    .await
}

/// Sets the role's permissions boundary (a managed policy that caps what its policies grant);
/// a service-linked role's is its service's business.
pub async fn put_boundary(ctx: Ctx, input: PutRolePermissionsBoundaryRequest) -> Result<(), AwsError> {
    let boundary = super::policies::boundary(&ctx, Some(&input.permissions_boundary)).await?;
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        r.check_modifiable()?;
        r.role.permissions_boundary.clone_from(&boundary);
        Ok(())
    })
    .await
}

pub async fn delete_boundary(ctx: Ctx, input: DeleteRolePermissionsBoundaryRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        r.check_modifiable()?;
        r.role.permissions_boundary = None;
        Ok(())
    })
    .await
}

pub async fn delete(ctx: Ctx, input: DeleteRoleRequest) -> Result<(), AwsError> {
    let key = keys::role(&input.role_name);
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let role: RoleRecord = b.get(key).await?.ok_or_else(|| IamError::no_such(Entity::Role, &input.role_name))?;
        role.check_modifiable()?;
        role.delete_conflict()?;
        b.delete(key);
        Ok(())
    })
    .await
}

pub async fn tag(ctx: Ctx, input: TagRoleRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        let merged = tags::merge(r.role.tags.as_deref().unwrap_or_default(), &input.tags)?;
        r.role.tags = (!merged.is_empty()).then_some(merged);
        Ok(())
    })
    .await
}

pub async fn untag(ctx: Ctx, input: UntagRoleRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.role_name, |r: &mut RoleRecord| {
        let rest = tags::remove(r.role.tags.as_deref().unwrap_or_default(), &input.tag_keys)?;
        r.role.tags = (!rest.is_empty()).then_some(rest);
        Ok(())
    })
    .await
}

pub async fn list_tags(ctx: Ctx, input: ListRoleTagsRequest) -> Result<ListRoleTagsResponse, AwsError> {
    let record: RoleRecord = load(&ctx, &input.role_name).await?;
    let tags = record.role.tags.unwrap_or_default();
    let page = page(tags, |t| t.key.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListRoleTagsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, tags: page.items })
}

pub async fn create_service_linked(
    ctx: Ctx,
    input: CreateServiceLinkedRoleRequest,
) -> Result<CreateServiceLinkedRoleResponse, AwsError> {
    let linked = service_linked::for_service(&input.aws_service_name, input.custom_suffix.as_deref())?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    let id = new_id(Entity::Role)?;
    let account = &ctx.scope().account;
    let mut record =
        RoleRecord::new(account, &linked.path, &linked.role_name, id, &linked.trust_policy, Timestamp::now());
    record.role.description = input.description.or(Some(linked.description));
    record.permissions = Permissions { attached: vec![linked.policy_arn.clone()], ..Default::default() };
    let key = keys::role(&linked.role_name);
    let (key, role_name, record) = (&key, &linked.role_name, &record);
    transact(ctx.store(), |b| async move {
        if b.get::<RoleRecord>(key).await?.is_some() {
            return Err(service_linked::name_taken(role_name).into());
        }
        b.put(key, &record)
    })
    .await?;
    Ok(CreateServiceLinkedRoleResponse { role: Some(record.shown()) })
}

/// The service-linked role of `service` (e.g. Auto Scaling's, on its first group): its
/// ARN, created first if it does not exist yet, as the service does on first use.
pub(crate) async fn ensure_service_linked(ctx: &Ctx, service: &str) -> Result<String, AwsError> {
    let linked = service_linked::for_service(service, None)?;
    let key = keys::role(&linked.role_name);
    if let Some(existing) = ctx.store().get(&key).await? {
        let role: RoleRecord = berth_store::documents::decode(&key, &existing.value)?;
        return Ok(role.role.arn);
    }
    let id = new_id(Entity::Role)?;
    let account = &ctx.scope().account;
    let mut record =
        RoleRecord::new(account, &linked.path, &linked.role_name, id, &linked.trust_policy, Timestamp::now());
    record.role.description = Some(linked.description);
    record.permissions = Permissions { attached: vec![linked.policy_arn.clone()], ..Default::default() };
    let (key, record) = (&key, &record);
    transact(ctx.store(), |b| async move {
        // Another request may have created it meanwhile: then that one is the role.
        if b.get::<RoleRecord>(key).await?.is_none() {
            b.put(key, &record)?;
        }
        Ok(())
    })
    .await?;
    Ok(record.role.arn.clone())
}
