//! Managed policies: customer managed ones (stored, with up to five versions) and the AWS
//! managed ones (`berth_model::iam::managed`, served from data, never changed).

use super::attached::attachment_counts;
use super::batch::transact;
use super::{new_id, page, path_filter, put_new};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::iam::document::{self, PolicyKind};
use berth_model::iam::managed::{self, AwsPolicy};
use berth_model::iam::records::PolicyRecord;
use berth_model::iam::*;
use berth_store::documents::{self, Change};

/// A managed policy's largest document (IAM's PolicySize quota).
const POLICY_SIZE_MAX: usize = 6144;

/// What a policy ARN names.
pub(super) enum Managed {
    Aws(&'static AwsPolicy),
    /// A customer managed policy of this account, stored at `key`.
    Local {
        key: String,
    },
}

/// The managed policy `policy_arn` names: InvalidInput when it is not a policy ARN,
/// NoSuchEntity for an AWS managed policy berth does not know or another account's.
pub(super) fn resolve(ctx: &Ctx, policy_arn: &str) -> Result<Managed, AwsError> {
    let parsed = arn::parse_policy(policy_arn)
        .ok_or_else(|| IamError::InvalidInput(format!("ARN {policy_arn} is not valid.")))?;
    if parsed.is_aws_managed() {
        return Ok(Managed::Aws(
            managed::find(policy_arn).ok_or_else(|| IamError::no_such(Entity::Policy, policy_arn))?,
        ));
    }
    if parsed.account != ctx.scope().account {
        return Err(IamError::no_such(Entity::Policy, policy_arn).into());
    }
    Ok(Managed::Local { key: keys::policy(parsed.name) })
}

/// The customer managed policy `policy_arn` (its stored record must carry that very ARN,
/// path included).
pub(super) fn found(record: Option<PolicyRecord>, policy_arn: &str) -> Result<PolicyRecord, IamError> {
    record.filter(|p| p.arn() == policy_arn).ok_or_else(|| IamError::no_such(Entity::Policy, policy_arn))
}

/// The permissions boundary a CreateUser / CreateRole / Put*PermissionsBoundary names, once
/// the policy is found: stored and shown as IAM shows it, and applied by authorization
/// (`authorize/policies.rs`, `berth_policy::evaluate_bounded`).
pub(super) async fn boundary(
    ctx: &Ctx,
    policy_arn: Option<&str>,
) -> Result<Option<AttachedPermissionsBoundary>, AwsError> {
    let Some(policy_arn) = policy_arn else { return Ok(None) };
    if let Managed::Local { key } = resolve(ctx, policy_arn)? {
        found(stored(ctx, &key).await?, policy_arn)?;
    }
    Ok(Some(AttachedPermissionsBoundary {
        permissions_boundary_type: Some(PermissionsBoundaryAttachmentType::PermissionsBoundaryPolicy),
        permissions_boundary_arn: Some(policy_arn.to_string()),
    }))
}

fn aws_unmodifiable(policy_arn: &str) -> AwsError {
    IamError::Unmodifiable(format!("Policy {policy_arn} is an AWS managed policy; it cannot be changed or deleted."))
        .into()
}

fn check_document(doc: &str) -> Result<(), IamError> {
    document::check_size(doc, "PolicySize", POLICY_SIZE_MAX)?;
    document::check(doc, PolicyKind::Identity)
}

pub async fn create(ctx: Ctx, input: CreatePolicyRequest) -> Result<CreatePolicyResponse, AwsError> {
    validate::name(&input.policy_name, "policyName", validate::LONG_NAME_MAX)?;
    let path = input.path.unwrap_or_else(|| "/".into());
    validate::path(&path)?;
    check_document(&input.policy_document)?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    let tags = input.tags.unwrap_or_default();
    tags::check(&tags)?;
    let now = Timestamp::now();
    let policy = Policy {
        policy_name: Some(input.policy_name.clone()),
        policy_id: Some(new_id(Entity::Policy)?),
        arn: Some(arn::of(&ctx.scope().account, Entity::Policy, &path, &input.policy_name)),
        path: Some(path),
        permissions_boundary_usage_count: Some(0),
        is_attachable: Some(true),
        description: input.description,
        create_date: Some(now),
        update_date: Some(now),
        tags: (!tags.is_empty()).then_some(tags),
        ..Default::default()
    };
    let record = PolicyRecord::new(policy, &input.policy_document, now);
    put_new(&ctx, &keys::policy(&input.policy_name), &record, Entity::Policy, &input.policy_name).await?;
    Ok(CreatePolicyResponse { policy: Some(record.policy) })
}

pub async fn get(ctx: Ctx, input: GetPolicyRequest) -> Result<GetPolicyResponse, AwsError> {
    let policy = match resolve(&ctx, &input.policy_arn)? {
        Managed::Aws(p) => {
            let counts = attachment_counts(&ctx).await?;
            p.shape(counts.get(&p.arn()).copied().unwrap_or(0))
        }
        Managed::Local { key } => found(stored(&ctx, &key).await?, &input.policy_arn)?.policy,
    };
    Ok(GetPolicyResponse { policy: Some(policy) })
}

async fn stored(ctx: &Ctx, key: &str) -> Result<Option<PolicyRecord>, AwsError> {
    Ok(documents::get::<PolicyRecord>(ctx.store(), key).await?.map(|d| d.value))
}

pub async fn list(ctx: Ctx, input: ListPoliciesRequest) -> Result<ListPoliciesResponse, AwsError> {
    let keep = path_filter(input.path_prefix.as_deref())?;
    let scope = input.scope.unwrap_or(policyScopeType::All);
    let mut policies = Vec::new();
    if scope != policyScopeType::Local {
        let counts = attachment_counts(&ctx).await?;
        policies.extend(managed::all().iter().map(|p| p.shape(counts.get(&p.arn()).copied().unwrap_or(0))));
    }
    if scope != policyScopeType::Aws {
        let local = documents::list::<PolicyRecord>(ctx.store(), keys::POLICIES).await?;
        policies.extend(local.into_iter().map(|d| d.value.policy));
    }
    let only_attached = input.only_attached.unwrap_or(false);
    let policies: Vec<Policy> = policies
        .into_iter()
        .filter(|p| keep(p.path.as_deref().unwrap_or("/")))
        .filter(|p| !only_attached || p.attachment_count.unwrap_or(0) > 0)
        // ListPolicies leaves out descriptions and tags, as IAM's does.
        .map(|p| Policy { description: None, tags: None, ..p })
        .collect();
    let key = |p: &Policy| {
        format!(
            "{} {}",
            p.policy_name.as_deref().unwrap_or_default().to_lowercase(),
            p.arn.as_deref().unwrap_or_default()
        )
    };
    let page = page(policies, key, input.marker.as_deref(), input.max_items)?;
    Ok(ListPoliciesResponse {
        is_truncated: Some(page.is_truncated()),
        marker: page.marker,
        policies: Some(page.items),
    })
}

pub async fn delete(ctx: Ctx, input: DeletePolicyRequest) -> Result<(), AwsError> {
    let Managed::Local { key } = resolve(&ctx, &input.policy_arn)? else {
        return Err(aws_unmodifiable(&input.policy_arn));
    };
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let policy = found(b.get(key).await?, &input.policy_arn)?;
        policy.delete_conflict()?;
        b.delete(key);
        Ok(())
    })
    .await
}

/// Changes the customer managed policy `policy_arn` with compare-and-swap.
async fn edit_policy<R>(
    ctx: &Ctx,
    policy_arn: &str,
    mut change: impl FnMut(&mut PolicyRecord) -> Result<R, IamError>,
) -> Result<R, AwsError> {
    let Managed::Local { key } = resolve(ctx, policy_arn)? else {
        return Err(aws_unmodifiable(policy_arn));
    };
    documents::modify(ctx.store(), &key, |current: Option<PolicyRecord>| {
        let mut policy = found(current, policy_arn)?;
        let result = change(&mut policy)?;
        Ok::<_, AwsError>((Change::Put(policy), result))
    })
    .await
}

pub async fn create_version(
    ctx: Ctx,
    input: CreatePolicyVersionRequest,
) -> Result<CreatePolicyVersionResponse, AwsError> {
    check_document(&input.policy_document)?;
    let set_default = input.set_as_default.unwrap_or(false);
    let version =
        edit_policy(&ctx, &input.policy_arn, |p| p.add_version(&input.policy_document, set_default, Timestamp::now()))
            .await?;
    Ok(CreatePolicyVersionResponse { policy_version: Some(version) })
}

pub async fn get_version(ctx: Ctx, input: GetPolicyVersionRequest) -> Result<GetPolicyVersionResponse, AwsError> {
    let version = match resolve(&ctx, &input.policy_arn)? {
        Managed::Aws(p) if p.default_version_id == input.version_id => p.version(),
        Managed::Aws(_) => return Err(no_such_version(&input.policy_arn, &input.version_id).into()),
        Managed::Local { key } => found(stored(&ctx, &key).await?, &input.policy_arn)?.version(&input.version_id)?,
    };
    Ok(GetPolicyVersionResponse { policy_version: Some(version) })
}

fn no_such_version(policy_arn: &str, version_id: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {policy_arn} version {version_id} does not exist or is not attachable."))
}

pub async fn list_versions(ctx: Ctx, input: ListPolicyVersionsRequest) -> Result<ListPolicyVersionsResponse, AwsError> {
    let versions = match resolve(&ctx, &input.policy_arn)? {
        Managed::Aws(p) => vec![PolicyVersion { document: None, ..p.version() }],
        Managed::Local { key } => found(stored(&ctx, &key).await?, &input.policy_arn)?.list_versions(),
    };
    // Newest first: the key counts down as version numbers go up.
    let newest_first = |v: &PolicyVersion| {
        let n: u64 = v.version_id.as_deref().and_then(|id| id.strip_prefix('v')?.parse().ok()).unwrap_or(0);
        format!("{:020}", u64::MAX - n)
    };
    let page = page(versions, newest_first, input.marker.as_deref(), input.max_items)?;
    Ok(ListPolicyVersionsResponse {
        is_truncated: Some(page.is_truncated()),
        marker: page.marker,
        versions: Some(page.items),
    })
}

pub async fn set_default_version(ctx: Ctx, input: SetDefaultPolicyVersionRequest) -> Result<(), AwsError> {
    edit_policy(&ctx, &input.policy_arn, |p| p.set_default(&input.version_id, Timestamp::now())).await
}

pub async fn delete_version(ctx: Ctx, input: DeletePolicyVersionRequest) -> Result<(), AwsError> {
    edit_policy(&ctx, &input.policy_arn, |p| p.delete_version(&input.version_id)).await
}
