//! Users: Create/Get/List/Update/DeleteUser and tags. GetUser without a name answers
//! the caller, the account's root user included.

use super::batch::transact;
use super::{edit, list_all, load, new_id, page, path_filter, put_new};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::iam::records::{GroupRecord, UserRecord};
use berth_model::iam::*;
use berth_model::records::AccessKeyRecord;

/// The name of the IAM user the request acts as, or None for the root user.
pub(super) fn caller_user(ctx: &Ctx) -> Option<&str> {
    let (_, resource) = ctx.caller.arn.rsplit_once(':')?;
    resource.starts_with("user/").then(|| arn::name_of(resource))
}

/// The user a request names, else the caller; the root user has none to give.
pub(super) fn named_or_caller<'a>(ctx: &'a Ctx, user_name: Option<&'a str>) -> Result<Option<&'a str>, AwsError> {
    if let Some(name) = user_name {
        validate::name(name, "userName", validate::NAME_MAX)?;
        return Ok(Some(name));
    }
    Ok(caller_user(ctx))
}

pub async fn create(ctx: Ctx, input: CreateUserRequest) -> Result<CreateUserResponse, AwsError> {
    validate::name(&input.user_name, "userName", validate::NAME_MAX)?;
    let path = input.path.unwrap_or_else(|| "/".into());
    validate::path(&path)?;
    let tags = input.tags.unwrap_or_default();
    tags::check(&tags)?;
    let id = new_id(Entity::User)?;
    let mut record = UserRecord::new(&ctx.scope().account, &path, &input.user_name, id, Timestamp::now());
    record.user.tags = (!tags.is_empty()).then_some(tags);
    record.user.permissions_boundary = super::policies::boundary(&ctx, input.permissions_boundary.as_deref()).await?;
    put_new(&ctx, &keys::user(&input.user_name), &record, Entity::User, &input.user_name).await?;
    Ok(CreateUserResponse { user: Some(record.user) })
}

/// The user named, else the caller. For the root user IAM answers its ARN, the account
/// as its id and no name or path, which the generated `User` (name and path required)
/// cannot leave out; so the answer is the shape's JSON tree with those two removed.
pub async fn get(ctx: Ctx, input: GetUserRequest) -> Result<serde_json::Value, AwsError> {
    let answer = |user: User| {
        serde_json::to_value(GetUserResponse { user }).map_err(|e| {
            tracing::error!(error = %e, "GetUser answer did not serialize");
            AwsError::internal("ServiceFailure")
        })
    };
    match named_or_caller(&ctx, input.user_name.as_deref())? {
        Some(name) => answer(load::<UserRecord>(&ctx, name).await?.user),
        None => {
            let created = root_key_created(&ctx).await?;
            let mut tree = answer(User {
                path: String::new(),
                user_name: String::new(),
                user_id: ctx.caller.account.clone(),
                arn: ctx.caller.arn.clone(),
                create_date: created,
                password_last_used: None,
                permissions_boundary: None,
                tags: None,
            })?;
            if let Some(user) = tree.get_mut("User").and_then(|u| u.as_object_mut()) {
                user.remove("UserName");
                user.remove("Path");
            }
            Ok(tree)
        }
    }
}

/// When the root user came to be, as far as berth knows: its credential's creation.
async fn root_key_created(ctx: &Ctx) -> Result<Timestamp, AwsError> {
    let Some(id) = ctx.caller.access_key_id.as_deref() else { return Ok(Timestamp::now()) };
    let key = berth_store::documents::get::<AccessKeyRecord>(ctx.store(), &keys::access_key(id)).await?;
    Ok(key.map_or_else(Timestamp::now, |k| k.value.create_date))
}

pub async fn list(ctx: Ctx, input: ListUsersRequest) -> Result<ListUsersResponse, AwsError> {
    let keep = path_filter(input.path_prefix.as_deref())?;
    let users: Vec<User> = list_all::<UserRecord>(&ctx, keys::USERS)
        .await?
        .into_iter()
        .filter(|u| keep(&u.user.path))
        // ListUsers leaves out tags and the permissions boundary, as IAM's does.
        .map(|u| User { tags: None, permissions_boundary: None, ..u.user })
        .collect();
    let page = page(users, |u| u.user_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListUsersResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, users: page.items })
}

/// Renames and/or moves a user: its groups' member lists and its access keys (which act
/// as the user's ARN) change in the same transaction.
pub async fn update(ctx: Ctx, input: UpdateUserRequest) -> Result<(), AwsError> {
    validate::name(&input.user_name, "userName", validate::NAME_MAX)?;
    if let Some(n) = &input.new_user_name {
        validate::name(n, "newUserName", validate::NAME_MAX)?;
    }
    if let Some(p) = &input.new_path {
        validate::path(p)?;
    }
    let old_key = keys::user(&input.user_name);
    let account = ctx.scope().account.clone();
    let (input, old_key, account) = (&input, &old_key, &account);
    transact(ctx.store(), |b| async move {
        let mut user: UserRecord =
            b.get(old_key).await?.ok_or_else(|| IamError::no_such(Entity::User, &input.user_name))?;
        let old_name = user.user.user_name.clone();
        let new_name = input.new_user_name.clone().unwrap_or_else(|| old_name.clone());
        let new_key = keys::user(&new_name);
        if new_key != *old_key && b.get::<UserRecord>(&new_key).await?.is_some() {
            return Err(IamError::already_exists(Entity::User, &new_name).into());
        }
        if let Some(p) = &input.new_path {
            user.user.path.clone_from(p);
        }
        user.user.user_name.clone_from(&new_name);
        user.user.arn = arn::of(account, Entity::User, &user.user.path, &new_name);
        for group_name in &user.groups {
            let key = keys::group(group_name);
            if let Some(mut group) = b.get::<GroupRecord>(&key).await? {
                for member in group.users.iter_mut().filter(|m| m.eq_ignore_ascii_case(&old_name)) {
                    member.clone_from(&new_name);
                }
                b.put(&key, &group)?;
            }
        }
        for id in &user.access_keys {
            let key = keys::access_key(id);
            if let Some(mut access_key) = b.get::<AccessKeyRecord>(&key).await? {
                access_key.arn.clone_from(&user.user.arn);
                b.put(&key, &access_key)?;
            }
        }
        if new_key != *old_key {
            b.delete(old_key);
        }
        b.put(&new_key, &user)
    })
    .await
}

pub async fn delete(ctx: Ctx, input: DeleteUserRequest) -> Result<(), AwsError> {
    let key = keys::user(&input.user_name);
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let user: UserRecord = b.get(key).await?.ok_or_else(|| IamError::no_such(Entity::User, &input.user_name))?;
        user.delete_conflict()?;
        b.delete(key);
        Ok(())
    })
    .await
}

pub async fn tag(ctx: Ctx, input: TagUserRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.user_name, |u: &mut UserRecord| {
        let merged = tags::merge(u.user.tags.as_deref().unwrap_or_default(), &input.tags)?;
        u.user.tags = (!merged.is_empty()).then_some(merged);
        Ok(())
    })
    .await
}

pub async fn untag(ctx: Ctx, input: UntagUserRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.user_name, |u: &mut UserRecord| {
        let rest = tags::remove(u.user.tags.as_deref().unwrap_or_default(), &input.tag_keys)?;
        u.user.tags = (!rest.is_empty()).then_some(rest);
        Ok(())
    })
    .await
}

pub async fn list_tags(ctx: Ctx, input: ListUserTagsRequest) -> Result<ListUserTagsResponse, AwsError> {
    let user: UserRecord = load(&ctx, &input.user_name).await?;
    let tags = user.user.tags.unwrap_or_default();
    let page = page(tags, |t| t.key.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListUserTagsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, tags: page.items })
}

/// Sets the user's permissions boundary (a managed policy that caps what its policies grant).
pub async fn put_boundary(ctx: Ctx, input: PutUserPermissionsBoundaryRequest) -> Result<(), AwsError> {
    let boundary = super::policies::boundary(&ctx, Some(&input.permissions_boundary)).await?;
    edit(&ctx, &input.user_name, |u: &mut UserRecord| {
        u.user.permissions_boundary.clone_from(&boundary);
        Ok(())
    })
    .await
}

pub async fn delete_boundary(ctx: Ctx, input: DeleteUserPermissionsBoundaryRequest) -> Result<(), AwsError> {
    edit(&ctx, &input.user_name, |u: &mut UserRecord| {
        u.user.permissions_boundary = None;
        Ok(())
    })
    .await
}
