//! AWS Identity and Access Management (query protocol, Version 2010-05-08; a global
//! service that clients sign for us-east-1): users, groups, roles, managed policies and
//! their versions, inline policies, instance profiles and access keys, kept in the store
//! under `iam/` (keys in `berth_model::iam::keys`). One file per resource; each handler is
//! `async fn(Ctx, <Op>Request) -> Result<<Op>Response, AwsError>` over the shapes generated
//! from botocore's model, with IAM's rules in `berth_model::iam`.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::protocol::query::Params;
use crate::route::Service;
use berth_model::iam::records::Principal;
use berth_model::iam::{Entity, IamError, ids, paging};
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};

pub(crate) mod access;
mod access_keys;
mod attached;
mod batch;
mod groups;
mod inline;
mod instance_profiles;
mod policies;
mod roles;
mod simulate;
mod users;

pub(crate) use roles::ensure_service_linked;

pub const VERSION: &str = "2010-05-08";
pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

pub const SERVICE: Service =
    Service::query("iam", VERSION, XMLNS, |ctx, action, params| Box::pin(call(ctx, action, params)))
        .global("us-east-1");

/// The result XML of `action`.
pub async fn call(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    dispatch!(query(ctx, action, params) else AwsError::invalid_action(action); {
        "CreateUser" => users::create,
        "GetUser" => users::get,
        "ListUsers" => users::list,
        "UpdateUser" => users::update,
        "DeleteUser" => users::delete,
        "TagUser" => users::tag,
        "UntagUser" => users::untag,
        "ListUserTags" => users::list_tags,
        "CreateGroup" => groups::create,
        "GetGroup" => groups::get,
        "ListGroups" => groups::list,
        "DeleteGroup" => groups::delete,
        "AddUserToGroup" => groups::add_user,
        "RemoveUserFromGroup" => groups::remove_user,
        "ListGroupsForUser" => groups::list_for_user,
        "CreateRole" => roles::create,
        "GetRole" => roles::get,
        "ListRoles" => roles::list,
        "UpdateRole" => roles::update,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy,
        "DeleteRole" => roles::delete,
        "TagRole" => roles::tag,
        "UntagRole" => roles::untag,
        "ListRoleTags" => roles::list_tags,
        "CreateServiceLinkedRole" => roles::create_service_linked,
        "CreatePolicy" => policies::create,
        "GetPolicy" => policies::get,
        "ListPolicies" => policies::list,
        "DeletePolicy" => policies::delete,
        "CreatePolicyVersion" => policies::create_version,
        "GetPolicyVersion" => policies::get_version,
        "ListPolicyVersions" => policies::list_versions,
        "SetDefaultPolicyVersion" => policies::set_default_version,
        "DeletePolicyVersion" => policies::delete_version,
        "AttachUserPolicy" => attached::attach_user,
        "DetachUserPolicy" => attached::detach_user,
        "AttachGroupPolicy" => attached::attach_group,
        "DetachGroupPolicy" => attached::detach_group,
        "AttachRolePolicy" => attached::attach_role,
        "DetachRolePolicy" => attached::detach_role,
        "ListAttachedUserPolicies" => attached::list_user,
        "ListAttachedGroupPolicies" => attached::list_group,
        "ListAttachedRolePolicies" => attached::list_role,
        "ListEntitiesForPolicy" => attached::list_entities,
        "PutUserPolicy" => inline::put_user,
        "GetUserPolicy" => inline::get_user,
        "DeleteUserPolicy" => inline::delete_user,
        "ListUserPolicies" => inline::list_user,
        "PutGroupPolicy" => inline::put_group,
        "GetGroupPolicy" => inline::get_group,
        "DeleteGroupPolicy" => inline::delete_group,
        "ListGroupPolicies" => inline::list_group,
        "PutRolePolicy" => inline::put_role,
        "GetRolePolicy" => inline::get_role,
        "DeleteRolePolicy" => inline::delete_role,
        "ListRolePolicies" => inline::list_role,
        "CreateInstanceProfile" => instance_profiles::create,
        "GetInstanceProfile" => instance_profiles::get,
        "ListInstanceProfiles" => instance_profiles::list,
        "DeleteInstanceProfile" => instance_profiles::delete,
        "AddRoleToInstanceProfile" => instance_profiles::add_role,
        "RemoveRoleFromInstanceProfile" => instance_profiles::remove_role,
        "ListInstanceProfilesForRole" => instance_profiles::list_for_role,
        "CreateAccessKey" => access_keys::create,
        "ListAccessKeys" => access_keys::list,
        "UpdateAccessKey" => access_keys::update,
        "DeleteAccessKey" => access_keys::delete,
        "GetAccessKeyLastUsed" => access_keys::last_used,
        "SimulatePrincipalPolicy" => simulate::principal,
        "PutUserPermissionsBoundary" => users::put_boundary,
        "DeleteUserPermissionsBoundary" => users::delete_boundary,
        "PutRolePermissionsBoundary" => roles::put_boundary,
        "DeleteRolePermissionsBoundary" => roles::delete_boundary,
    })
}

/// A new unique id for an entity of kind `entity` (`AROA...` for a role).
fn new_id(entity: Entity) -> Result<String, AwsError> {
    let random = crate::auth::sealer::random_bytes(ids::ENTITY_RANDOM_CHARS).map_err(|e| {
        tracing::error!(error = %e, "no randomness for an id");
        AwsError::internal("ServiceFailure")
    })?;
    Ok(ids::entity_id(entity, &random))
}

/// Stores a new entity at `key`, or EntityAlreadyExists when the name is taken.
async fn put_new<T: serde::Serialize>(
    ctx: &Ctx,
    key: &str,
    record: &T,
    entity: Entity,
    name: &str,
) -> Result<(), AwsError> {
    let txn = Txn::new().when(Compare::ModRevision(key.to_string(), 0)).put(key, documents::encode(record)?);
    if !ctx.store().txn(txn).await?.succeeded {
        return Err(IamError::already_exists(entity, name).into());
    }
    Ok(())
}

/// The user, group or role `name`, or NoSuchEntity.
async fn load<T: Principal>(ctx: &Ctx, name: &str) -> Result<T, AwsError> {
    let doc = documents::get::<T>(ctx.store(), &T::key(name)).await?;
    Ok(doc.ok_or_else(|| IamError::no_such(T::ENTITY, name))?.value)
}

/// Changes the user, group or role `name` with compare-and-swap (NoSuchEntity when there
/// is none); `change` may refuse, and then nothing is written.
async fn edit<T: Principal, R>(
    ctx: &Ctx,
    name: &str,
    mut change: impl FnMut(&mut T) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    documents::modify(ctx.store(), &T::key(name), |current: Option<T>| {
        let mut record = current.ok_or_else(|| IamError::no_such(T::ENTITY, name))?;
        let result = change(&mut record)?;
        Ok((Change::Put(record), result))
    })
    .await
}

/// Every stored record under `prefix` (users, roles...), in key order: by lowercased name.
async fn list_all<T: serde::de::DeserializeOwned>(ctx: &Ctx, prefix: &str) -> Result<Vec<T>, AwsError> {
    Ok(documents::list::<T>(ctx.store(), prefix).await?.into_iter().map(|d| d.value).collect())
}

/// One page of `items`, in `key` order, after the request's Marker.
fn page<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<paging::Page<T>, AwsError> {
    items.sort_by_cached_key(&key);
    Ok(paging::page(items, key, marker, max_items)?)
}

/// Keeps the entities whose path begins with the request's PathPrefix (all without one).
fn path_filter(prefix: Option<&str>) -> Result<impl Fn(&str) -> bool + '_, AwsError> {
    if let Some(p) = prefix {
        berth_model::iam::validate::path_prefix(p)?;
    }
    Ok(move |path: &str| prefix.is_none_or(|p| path.starts_with(p)))
}
