//! Inline policies of users, groups and roles: Put/Get/Delete/List*Policy, one generic
//! path for the three kinds of entity.

use super::{edit, load, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::iam::document::{self, PolicyKind};
use berth_model::iam::records::{GroupRecord, Principal, RoleRecord, UserRecord};
use berth_model::iam::*;

async fn put<T: Principal>(ctx: &Ctx, name: &str, policy_name: &str, doc: &str) -> Result<(), AwsError> {
    validate::name(policy_name, "policyName", validate::LONG_NAME_MAX)?;
    document::check(doc, PolicyKind::Identity)?;
    edit(ctx, name, |record: &mut T| {
        record.check_modifiable()?;
        let owner = record.name().to_string();
        record.permissions_mut().put_inline(&owner, T::ENTITY, policy_name, doc, T::INLINE_LIMIT)?;
        Ok(())
    })
    .await
}

/// The entity's name as created and the policy's document, URL-encoded as IAM answers it.
async fn get<T: Principal>(ctx: &Ctx, name: &str, policy_name: &str) -> Result<(String, String), AwsError> {
    let record: T = load(ctx, name).await?;
    let doc = record.permissions().inline_policy(T::ENTITY, policy_name)?;
    Ok((record.name().to_string(), document::url_encode(doc)))
}

async fn delete<T: Principal>(ctx: &Ctx, name: &str, policy_name: &str) -> Result<(), AwsError> {
    edit(ctx, name, |record: &mut T| {
        record.check_modifiable()?;
        Ok(record.permissions_mut().delete_inline(T::ENTITY, policy_name)?)
    })
    .await
}

/// A page of the entity's inline policy names.
async fn list<T: Principal>(
    ctx: &Ctx,
    name: &str,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<(Vec<String>, Option<String>), AwsError> {
    let record: T = load(ctx, name).await?;
    let names: Vec<String> = record.permissions().inline.keys().cloned().collect();
    let page = page(names, String::clone, marker, max_items)?;
    Ok((page.items, page.marker))
}

pub async fn put_user(ctx: Ctx, input: PutUserPolicyRequest) -> Result<(), AwsError> {
    put::<UserRecord>(&ctx, &input.user_name, &input.policy_name, &input.policy_document).await
}

pub async fn get_user(ctx: Ctx, input: GetUserPolicyRequest) -> Result<GetUserPolicyResponse, AwsError> {
    let (user_name, policy_document) = get::<UserRecord>(&ctx, &input.user_name, &input.policy_name).await?;
    Ok(GetUserPolicyResponse { user_name, policy_name: input.policy_name, policy_document })
}

pub async fn delete_user(ctx: Ctx, input: DeleteUserPolicyRequest) -> Result<(), AwsError> {
    delete::<UserRecord>(&ctx, &input.user_name, &input.policy_name).await
}

pub async fn list_user(ctx: Ctx, input: ListUserPoliciesRequest) -> Result<ListUserPoliciesResponse, AwsError> {
    let (policy_names, marker) =
        list::<UserRecord>(&ctx, &input.user_name, input.marker.as_deref(), input.max_items).await?;
    Ok(ListUserPoliciesResponse { is_truncated: Some(marker.is_some()), marker, policy_names })
}

pub async fn put_group(ctx: Ctx, input: PutGroupPolicyRequest) -> Result<(), AwsError> {
    put::<GroupRecord>(&ctx, &input.group_name, &input.policy_name, &input.policy_document).await
}

pub async fn get_group(ctx: Ctx, input: GetGroupPolicyRequest) -> Result<GetGroupPolicyResponse, AwsError> {
    let (group_name, policy_document) = get::<GroupRecord>(&ctx, &input.group_name, &input.policy_name).await?;
    Ok(GetGroupPolicyResponse { group_name, policy_name: input.policy_name, policy_document })
}

pub async fn delete_group(ctx: Ctx, input: DeleteGroupPolicyRequest) -> Result<(), AwsError> {
    delete::<GroupRecord>(&ctx, &input.group_name, &input.policy_name).await
}

pub async fn list_group(ctx: Ctx, input: ListGroupPoliciesRequest) -> Result<ListGroupPoliciesResponse, AwsError> {
    let (policy_names, marker) =
        list::<GroupRecord>(&ctx, &input.group_name, input.marker.as_deref(), input.max_items).await?;
    Ok(ListGroupPoliciesResponse { is_truncated: Some(marker.is_some()), marker, policy_names })
}

pub async fn put_role(ctx: Ctx, input: PutRolePolicyRequest) -> Result<(), AwsError> {
    put::<RoleRecord>(&ctx, &input.role_name, &input.policy_name, &input.policy_document).await
}

pub async fn get_role(ctx: Ctx, input: GetRolePolicyRequest) -> Result<GetRolePolicyResponse, AwsError> {
    let (role_name, policy_document) = get::<RoleRecord>(&ctx, &input.role_name, &input.policy_name).await?;
    Ok(GetRolePolicyResponse { role_name, policy_name: input.policy_name, policy_document })
}

pub async fn delete_role(ctx: Ctx, input: DeleteRolePolicyRequest) -> Result<(), AwsError> {
    delete::<RoleRecord>(&ctx, &input.role_name, &input.policy_name).await
}

pub async fn list_role(ctx: Ctx, input: ListRolePoliciesRequest) -> Result<ListRolePoliciesResponse, AwsError> {
    let (policy_names, marker) =
        list::<RoleRecord>(&ctx, &input.role_name, input.marker.as_deref(), input.max_items).await?;
    Ok(ListRolePoliciesResponse { is_truncated: Some(marker.is_some()), marker, policy_names })
}
