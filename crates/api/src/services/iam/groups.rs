//! Groups: Create/Get/List/DeleteGroup and membership. A membership is kept on both the
//! user and the group, changed in one transaction.

use super::batch::{Batch, transact};
use super::{list_all, load, new_id, page, path_filter, put_new};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::iam::records::{GroupRecord, UserRecord};
use berth_model::iam::*;

pub async fn create(ctx: Ctx, input: CreateGroupRequest) -> Result<CreateGroupResponse, AwsError> {
    validate::name(&input.group_name, "groupName", validate::LONG_NAME_MAX)?;
    let path = input.path.unwrap_or_else(|| "/".into());
    validate::path(&path)?;
    let id = new_id(Entity::Group)?;
    let record = GroupRecord::new(&ctx.scope().account, &path, &input.group_name, id, Timestamp::now());
    put_new(&ctx, &keys::group(&input.group_name), &record, Entity::Group, &input.group_name).await?;
    Ok(CreateGroupResponse { group: record.group })
}

pub async fn get(ctx: Ctx, input: GetGroupRequest) -> Result<GetGroupResponse, AwsError> {
    let group: GroupRecord = load(&ctx, &input.group_name).await?;
    let mut users = Vec::with_capacity(group.users.len());
    for name in &group.users {
        if let Some(user) = berth_store::documents::get::<UserRecord>(ctx.store(), &keys::user(name)).await? {
            users.push(User { tags: None, ..user.value.user });
        }
    }
    let page = page(users, |u| u.user_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(GetGroupResponse {
        group: group.group,
        users: page.items,
        is_truncated: Some(page.marker.is_some()),
        marker: page.marker,
    })
}

pub async fn list(ctx: Ctx, input: ListGroupsRequest) -> Result<ListGroupsResponse, AwsError> {
    let keep = path_filter(input.path_prefix.as_deref())?;
    let groups: Vec<Group> = list_all::<GroupRecord>(&ctx, keys::GROUPS)
        .await?
        .into_iter()
        .map(|g| g.group)
        .filter(|g| keep(&g.path))
        .collect();
    let page = page(groups, |g| g.group_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListGroupsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, groups: page.items })
}

pub async fn delete(ctx: Ctx, input: DeleteGroupRequest) -> Result<(), AwsError> {
    let key = keys::group(&input.group_name);
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let group: GroupRecord =
            b.get(key).await?.ok_or_else(|| IamError::no_such(Entity::Group, &input.group_name))?;
        group.delete_conflict()?;
        b.delete(key);
        Ok(())
    })
    .await
}

/// The group and the user a membership change names, both read into the batch.
async fn both(b: &Batch<'_>, group_name: &str, user_name: &str) -> Result<(GroupRecord, UserRecord), AwsError> {
    let group: GroupRecord =
        b.get(&keys::group(group_name)).await?.ok_or_else(|| IamError::no_such(Entity::Group, group_name))?;
    let user: UserRecord =
        b.get(&keys::user(user_name)).await?.ok_or_else(|| IamError::no_such(Entity::User, user_name))?;
    Ok((group, user))
}

pub async fn add_user(ctx: Ctx, input: AddUserToGroupRequest) -> Result<(), AwsError> {
    let input = &input;
    transact(ctx.store(), |b| async move {
        let (mut group, mut user) = both(&b, &input.group_name, &input.user_name).await?;
        let user_name = user.user.user_name.clone();
        if group.users.iter().any(|u| u.eq_ignore_ascii_case(&user_name)) {
            return Ok(());
        }
        group.users.push(user_name);
        user.groups.push(group.group.group_name.clone());
        b.put(&keys::group(&input.group_name), &group)?;
        b.put(&keys::user(&input.user_name), &user)
    })
    .await
}

pub async fn remove_user(ctx: Ctx, input: RemoveUserFromGroupRequest) -> Result<(), AwsError> {
    let input = &input;
    transact(ctx.store(), |b| async move {
        let (mut group, mut user) = both(&b, &input.group_name, &input.user_name).await?;
        let before = group.users.len();
        group.users.retain(|u| !u.eq_ignore_ascii_case(&input.user_name));
        if group.users.len() == before {
            return Err(IamError::no_such(Entity::User, &input.user_name).into());
        }
        user.groups.retain(|g| !g.eq_ignore_ascii_case(&input.group_name));
        b.put(&keys::group(&input.group_name), &group)?;
        b.put(&keys::user(&input.user_name), &user)
    })
    .await
}

pub async fn list_for_user(ctx: Ctx, input: ListGroupsForUserRequest) -> Result<ListGroupsForUserResponse, AwsError> {
    let user: UserRecord = load(&ctx, &input.user_name).await?;
    let mut groups = Vec::with_capacity(user.groups.len());
    for name in &user.groups {
        if let Some(group) = berth_store::documents::get::<GroupRecord>(ctx.store(), &keys::group(name)).await? {
            groups.push(group.value.group);
        }
    }
    let page = page(groups, |g| g.group_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListGroupsForUserResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, groups: page.items })
}
