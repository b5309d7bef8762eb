//! Attaching managed policies to users, groups and roles, and what is attached where.
//! Attaching a customer managed policy counts it on the policy in the same transaction,
//! so DeletePolicy's check sees every attachment; AWS managed policies are counted from
//! the entities when shown.

use super::batch::transact;
use super::policies::{Managed, found, resolve};
use super::{list_all, load, page, path_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::iam::records::{GroupRecord, PolicyRecord, Principal, RoleRecord, UserRecord};
use berth_model::iam::*;
use std::collections::HashMap;

async fn attach<T: Principal>(ctx: &Ctx, name: &str, policy_arn: &str) -> Result<(), AwsError> {
    let managed = resolve(ctx, policy_arn)?;
    if let Managed::Aws(p) = &managed
        && !p.is_attachable
    {
        return Err(IamError::NotAttachable(format!(
            "Cannot attach a Service Role Policy to a Customer {}.",
            T::ENTITY.title()
        ))
        .into());
    }
    let key = T::key(name);
    let (key, managed) = (&key, &managed);
    transact(ctx.store(), |b| async move {
        let mut record: T = b.get(key).await?.ok_or_else(|| IamError::no_such(T::ENTITY, name))?;
        record.check_modifiable()?;
        let mut policy = match &managed {
            Managed::Local { key } => Some(found(b.get::<PolicyRecord>(key).await?, policy_arn)?),
            Managed::Aws(_) => None,
        };
        if !record.permissions_mut().attach(T::ENTITY, policy_arn)? {
            return Ok(());
        }
        if let (Some(p), Managed::Local { key }) = (policy.as_mut(), &managed) {
            p.count_attachment(1);
            b.put(key, p)?;
        }
        b.put(&T::key(name), &record)
    })
    .await
}

async fn detach<T: Principal>(ctx: &Ctx, name: &str, policy_arn: &str) -> Result<(), AwsError> {
    let managed = resolve(ctx, policy_arn)?;
    let key = T::key(name);
    let (key, managed) = (&key, &managed);
    transact(ctx.store(), |b| async move {
        let mut record: T = b.get(key).await?.ok_or_else(|| IamError::no_such(T::ENTITY, name))?;
        record.check_modifiable()?;
        record.permissions_mut().detach(policy_arn)?;
        if let Managed::Local { key } = &managed
            && let Some(mut p) = b.get::<PolicyRecord>(key).await?.filter(|p| p.arn() == policy_arn)
        {
            p.count_attachment(-1);
            b.put(key, &p)?;
        }
        b.put(&T::key(name), &record)
    })
    .await
}

/// The managed policies attached to `name`, as ListAttached*Policies pages them.
async fn list_attached<T: Principal>(
    ctx: &Ctx,
    name: &str,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<(Vec<AttachedPolicy>, Option<String>), AwsError> {
    let keep = path_filter(path_prefix)?;
    let record: T = load(ctx, name).await?;
    let attached: Vec<AttachedPolicy> = record
        .permissions()
        .attached
        .iter()
        .filter(|a| keep(arn::parse_policy(a).map_or("/", |p| p.path)))
        .map(|a| AttachedPolicy { policy_name: Some(arn::name_of(a).to_string()), policy_arn: Some(a.clone()) })
        .collect();
    let page = page(attached, |a| a.policy_arn.clone().unwrap_or_default(), marker, max_items)?;
    Ok((page.items, page.marker))
}

pub async fn attach_user(ctx: Ctx, input: AttachUserPolicyRequest) -> Result<(), AwsError> {
    attach::<UserRecord>(&ctx, &input.user_name, &input.policy_arn).await
}

pub async fn detach_user(ctx: Ctx, input: DetachUserPolicyRequest) -> Result<(), AwsError> {
    detach::<UserRecord>(&ctx, &input.user_name, &input.policy_arn).await
}

pub async fn attach_group(ctx: Ctx, input: AttachGroupPolicyRequest) -> Result<(), AwsError> {
    attach::<GroupRecord>(&ctx, &input.group_name, &input.policy_arn).await
}

pub async fn detach_group(ctx: Ctx, input: DetachGroupPolicyRequest) -> Result<(), AwsError> {
    detach::<GroupRecord>(&ctx, &input.group_name, &input.policy_arn).await
}

pub async fn attach_role(ctx: Ctx, input: AttachRolePolicyRequest) -> Result<(), AwsError> {
    attach::<RoleRecord>(&ctx, &input.role_name, &input.policy_arn).await
}

pub async fn detach_role(ctx: Ctx, input: DetachRolePolicyRequest) -> Result<(), AwsError> {
    detach::<RoleRecord>(&ctx, &input.role_name, &input.policy_arn).await
}

pub async fn list_user(
    ctx: Ctx,
    input: ListAttachedUserPoliciesRequest,
) -> Result<ListAttachedUserPoliciesResponse, AwsError> {
    let (items, marker) = list_attached::<UserRecord>(
        &ctx,
        &input.user_name,
        input.path_prefix.as_deref(),
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(ListAttachedUserPoliciesResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        attached_policies: Some(items),
    })
}

pub async fn list_group(
    ctx: Ctx,
    input: ListAttachedGroupPoliciesRequest,
) -> Result<ListAttachedGroupPoliciesResponse, AwsError> {
    let (items, marker) = list_attached::<GroupRecord>(
        &ctx,
        &input.group_name,
        input.path_prefix.as_deref(),
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(ListAttachedGroupPoliciesResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        attached_policies: Some(items),
    })
}

pub async fn list_role(
    ctx: Ctx,
    input: ListAttachedRolePoliciesRequest,
) -> Result<ListAttachedRolePoliciesResponse, AwsError> {
    let (items, marker) = list_attached::<RoleRecord>(
        &ctx,
        &input.role_name,
        input.path_prefix.as_deref(),
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(ListAttachedRolePoliciesResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        attached_policies: Some(items),
    })
}

/// Every user, group and role.
struct Everyone {
    users: Vec<UserRecord>,
    groups: Vec<GroupRecord>,
    roles: Vec<RoleRecord>,
}

async fn everyone(ctx: &Ctx) -> Result<Everyone, AwsError> {
    Ok(Everyone {
        users: list_all(ctx, keys::USERS).await?,
        groups: list_all(ctx, keys::GROUPS).await?,
        roles: list_all(ctx, keys::ROLES).await?,
    })
}

/// How many users, groups and roles each managed policy is attached to, by ARN.
pub(super) async fn attachment_counts(ctx: &Ctx) -> Result<HashMap<String, i32>, AwsError> {
    let all = everyone(ctx).await?;
    let mut counts = HashMap::new();
    let attached = all.users.iter().map(|u| &u.permissions).chain(all.groups.iter().map(|g| &g.permissions));
    for permissions in attached.chain(all.roles.iter().map(|r| &r.permissions)) {
        for a in &permissions.attached {
            *counts.entry(a.clone()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// One entity a policy is attached to, for paging the three lists together.
enum Holder {
    Group(PolicyGroup),
    User(PolicyUser),
    Role(PolicyRole),
}

impl Holder {
    fn sort_key(&self) -> String {
        match self {
            Holder::Group(g) => format!("group {}", g.group_name.as_deref().unwrap_or_default().to_lowercase()),
            Holder::User(u) => format!("user {}", u.user_name.as_deref().unwrap_or_default().to_lowercase()),
            Holder::Role(r) => format!("role {}", r.role_name.as_deref().unwrap_or_default().to_lowercase()),
        }
    }
}

pub async fn list_entities(
    ctx: Ctx,
    input: ListEntitiesForPolicyRequest,
) -> Result<ListEntitiesForPolicyResponse, AwsError> {
    if let Managed::Local { key } = resolve(&ctx, &input.policy_arn)? {
        let stored = berth_store::documents::get::<PolicyRecord>(ctx.store(), &key).await?;
        found(stored.map(|d| d.value), &input.policy_arn)?;
    }
    let keep = path_filter(input.path_prefix.as_deref())?;
    let wanted = |kind: EntityType| input.entity_filter.is_none_or(|f| f == kind);
    let arn = input.policy_arn.as_str();
    let all = everyone(&ctx).await?;
    let mut holders = Vec::new();
    if wanted(EntityType::Group) {
        holders.extend(all.groups.into_iter().filter(|g| g.permissions.is_attached(arn) && keep(&g.group.path)).map(
            |g| Holder::Group(PolicyGroup { group_name: Some(g.group.group_name), group_id: Some(g.group.group_id) }),
        ));
    }
    if wanted(EntityType::User) {
        holders.extend(
            all.users
                .into_iter()
                .filter(|u| u.permissions.is_attached(arn) && keep(&u.user.path))
                .map(|u| Holder::User(PolicyUser { user_name: Some(u.user.user_name), user_id: Some(u.user.user_id) })),
        );
    }
    if wanted(EntityType::Role) {
        holders.extend(
            all.roles
                .into_iter()
                .filter(|r| r.permissions.is_attached(arn) && keep(&r.role.path))
                .map(|r| Holder::Role(PolicyRole { role_name: Some(r.role.role_name), role_id: Some(r.role.role_id) })),
        );
    }
    let page = page(holders, Holder::sort_key, input.marker.as_deref(), input.max_items)?;
    let (mut groups, mut users, mut roles) = (vec![], vec![], vec![]);
    for holder in page.items {
        match holder {
            Holder::Group(g) => groups.push(g),
            Holder::User(u) => users.push(u),
            Holder::Role(r) => roles.push(r),
        }
    }
    Ok(ListEntitiesForPolicyResponse {
        policy_groups: Some(groups),
        policy_users: Some(users),
        policy_roles: Some(roles),
        is_truncated: Some(page.marker.is_some()),
        marker: page.marker,
    })
}
