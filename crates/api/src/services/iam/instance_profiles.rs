//! Instance profiles: Create/Get/List/DeleteInstanceProfile and the one role each may
//! hold. The role also keeps the names of its profiles (changed in the same transaction),
//! so DeleteRole can refuse while a profile holds it.

use super::batch::transact;
use super::{list_all, load, new_id, page, path_filter, put_new};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::iam::records::{InstanceProfileRecord, RoleRecord};
use berth_model::iam::*;
use berth_store::documents;

/// The profile as IAM shows it: with its role, trust policy URL-encoded.
async fn shown(ctx: &Ctx, record: InstanceProfileRecord) -> Result<InstanceProfile, AwsError> {
    let mut profile = record.instance_profile;
    profile.roles = match &record.role {
        Some(name) => documents::get::<RoleRecord>(ctx.store(), &keys::role(name))
            .await?
            .map(|d| Role { tags: None, ..d.value.shown() })
            .into_iter()
            .collect(),
        None => vec![],
    };
    Ok(profile)
}

async fn load_profile(ctx: &Ctx, name: &str) -> Result<InstanceProfileRecord, AwsError> {
    let doc = documents::get::<InstanceProfileRecord>(ctx.store(), &keys::instance_profile(name)).await?;
    Ok(doc.ok_or_else(|| IamError::no_such(Entity::InstanceProfile, name))?.value)
}

pub async fn create(ctx: Ctx, input: CreateInstanceProfileRequest) -> Result<CreateInstanceProfileResponse, AwsError> {
    let name = &input.instance_profile_name;
    validate::name(name, "instanceProfileName", validate::LONG_NAME_MAX)?;
    let path = input.path.unwrap_or_else(|| "/".into());
    validate::path(&path)?;
    let tags = input.tags.unwrap_or_default();
    tags::check(&tags)?;
    let id = new_id(Entity::InstanceProfile)?;
    let mut record = InstanceProfileRecord::new(&ctx.scope().account, &path, name, id, Timestamp::now());
    record.instance_profile.tags = (!tags.is_empty()).then_some(tags);
    put_new(&ctx, &keys::instance_profile(name), &record, Entity::InstanceProfile, name).await?;
    Ok(CreateInstanceProfileResponse { instance_profile: record.instance_profile })
}

pub async fn get(ctx: Ctx, input: GetInstanceProfileRequest) -> Result<GetInstanceProfileResponse, AwsError> {
    let record = load_profile(&ctx, &input.instance_profile_name).await?;
    Ok(GetInstanceProfileResponse { instance_profile: shown(&ctx, record).await? })
}

pub async fn list(ctx: Ctx, input: ListInstanceProfilesRequest) -> Result<ListInstanceProfilesResponse, AwsError> {
    let keep = path_filter(input.path_prefix.as_deref())?;
    let mut profiles = Vec::new();
    for record in list_all::<InstanceProfileRecord>(&ctx, keys::INSTANCE_PROFILES).await? {
        if keep(&record.instance_profile.path) {
            profiles.push(shown(&ctx, record).await?);
        }
    }
    let page = page(profiles, |p| p.instance_profile_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListInstanceProfilesResponse {
        is_truncated: Some(page.is_truncated()),
        marker: page.marker,
        instance_profiles: page.items,
    })
}

pub async fn delete(ctx: Ctx, input: DeleteInstanceProfileRequest) -> Result<(), AwsError> {
    let key = keys::instance_profile(&input.instance_profile_name);
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let profile: InstanceProfileRecord = b
            .get(key)
            .await?
            .ok_or_else(|| IamError::no_such(Entity::InstanceProfile, &input.instance_profile_name))?;
        profile.delete_conflict()?;
        b.delete(key);
        Ok(())
    })
    .await
}

/// The profile and the role a change names, both read into the batch.
async fn both(
    b: &super::batch::Batch<'_>,
    profile_name: &str,
    role_name: &str,
) -> Result<(InstanceProfileRecord, RoleRecord), AwsError> {
    let profile: InstanceProfileRecord = b
        .get(&keys::instance_profile(profile_name))
        .await?
        .ok_or_else(|| IamError::no_such(Entity::InstanceProfile, profile_name))?;
    let role: RoleRecord =
        b.get(&keys::role(role_name)).await?.ok_or_else(|| IamError::no_such(Entity::Role, role_name))?;
    Ok((profile, role))
}

pub async fn add_role(ctx: Ctx, input: AddRoleToInstanceProfileRequest) -> Result<(), AwsError> {
    let input = &input;
    transact(ctx.store(), |b| async move {
        let (mut profile, mut role) = both(&b, &input.instance_profile_name, &input.role_name).await?;
        profile.add_role(&role.role.role_name)?;
        role.instance_profiles.push(profile.instance_profile.instance_profile_name.clone());
        b.put(&keys::instance_profile(&input.instance_profile_name), &profile)?;
        b.put(&keys::role(&input.role_name), &role)
    })
    .await
}

pub async fn remove_role(ctx: Ctx, input: RemoveRoleFromInstanceProfileRequest) -> Result<(), AwsError> {
    let input = &input;
    transact(ctx.store(), |b| async move {
        let (mut profile, mut role) = both(&b, &input.instance_profile_name, &input.role_name).await?;
        profile.remove_role(&input.role_name)?;
        role.instance_profiles.retain(|p| !p.eq_ignore_ascii_case(&input.instance_profile_name));
        b.put(&keys::instance_profile(&input.instance_profile_name), &profile)?;
        b.put(&keys::role(&input.role_name), &role)
    })
    .await
}

pub async fn list_for_role(
    ctx: Ctx,
    input: ListInstanceProfilesForRoleRequest,
) -> Result<ListInstanceProfilesForRoleResponse, AwsError> {
    let role: RoleRecord = load(&ctx, &input.role_name).await?;
    let mut profiles = Vec::new();
    for name in &role.instance_profiles {
        if let Some(doc) = documents::get::<InstanceProfileRecord>(ctx.store(), &keys::instance_profile(name)).await? {
            profiles.push(shown(&ctx, doc.value).await?);
        }
    }
    let page = page(profiles, |p| p.instance_profile_name.to_lowercase(), input.marker.as_deref(), input.max_items)?;
    Ok(ListInstanceProfilesForRoleResponse {
        is_truncated: Some(page.is_truncated()),
        marker: page.marker,
        instance_profiles: page.items,
    })
}
