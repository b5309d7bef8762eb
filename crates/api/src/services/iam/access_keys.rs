//! Access keys of IAM users: real credentials, stored at `iam/access-keys/{id}` with the
//! secret sealed (see `auth::keyring`), that sign requests as the user from the moment
//! CreateAccessKey answers; deactivating or deleting one refuses it on the next request.
//! Without a UserName the caller's own keys are meant. The root user's credential is the
//! server's (BERTH_ROOT_ACCESS_KEY_ID or the one kept in the data dir): it is listed but
//! not created, changed or deleted here.

use super::batch::transact;
use super::users::named_or_caller;
use super::{load, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::iam::records::{UserRecord, access_key_metadata, access_key_user_name};
use berth_model::iam::*;
use berth_model::records::{AccessKeyRecord, AccessKeyStatus};
use berth_store::documents;

fn root_credential_is_the_servers() -> AwsError {
    IamError::InvalidInput(
        "The root user's access key is berth's own (BERTH_ROOT_ACCESS_KEY_ID or the one in the data dir); \
         name a user (UserName) to manage access keys for."
            .into(),
    )
    .into()
}

fn no_such_key(id: &str) -> IamError {
    IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

pub async fn create(ctx: Ctx, input: CreateAccessKeyRequest) -> Result<CreateAccessKeyResponse, AwsError> {
    let Some(user_name) = named_or_caller(&ctx, input.user_name.as_deref())? else {
        return Err(root_credential_is_the_servers());
    };
    let user_key = keys::user(user_name);
    let (ctx, user_key) = (&ctx, &user_key);
    let (record, secret) = transact(ctx.store(), |b| async move {
        let mut user: UserRecord = b.get(user_key).await?.ok_or_else(|| IamError::no_such(Entity::User, user_name))?;
        let (record, secret) =
            ctx.api.keyring.issue(&ctx.scope().account, &user.user.arn, &user.user.user_id).map_err(|e| {
                tracing::error!(error = %e, "could not issue an access key");
                AwsError::internal("ServiceFailure")
            })?;
        user.add_access_key(&record.access_key_id)?;
        let key = keys::access_key(&record.access_key_id);
        if b.get::<AccessKeyRecord>(&key).await?.is_some() {
            return Err(AwsError::internal("ServiceFailure"));
        }
        b.put(&key, &record)?;
        b.put(user_key, &user)?;
        Ok((record, secret))
    })
    .await?;
    let meta = access_key_metadata(&record, access_key_user_name(&record));
    Ok(CreateAccessKeyResponse {
        access_key: AccessKey {
            user_name: meta.user_name.unwrap_or_default(),
            access_key_id: record.access_key_id,
            status: statusType::Active,
            secret_access_key: secret,
            create_date: meta.create_date,
        },
    })
}

pub async fn list(ctx: Ctx, input: ListAccessKeysRequest) -> Result<ListAccessKeysResponse, AwsError> {
    let keys: Vec<AccessKeyMetadata> = match named_or_caller(&ctx, input.user_name.as_deref())? {
        Some(name) => {
            let user: UserRecord = load(&ctx, name).await?;
            let mut found = Vec::with_capacity(user.access_keys.len());
            for id in &user.access_keys {
                if let Some(doc) = documents::get::<AccessKeyRecord>(ctx.store(), &keys::access_key(id)).await? {
                    found.push(access_key_metadata(&doc.value, &user.user.user_name));
                }
            }
            found
        }
        None => documents::list::<AccessKeyRecord>(ctx.store(), &keys::access_key(""))
            .await?
            .into_iter()
            .filter(|d| d.value.arn == ctx.caller.arn)
            .map(|d| access_key_metadata(&d.value, "root"))
            .collect(),
    };
    let page = page(keys, |k| k.access_key_id.clone().unwrap_or_default(), input.marker.as_deref(), input.max_items)?;
    Ok(ListAccessKeysResponse {
        is_truncated: Some(page.is_truncated()),
        marker: page.marker,
        access_key_metadata: page.items,
    })
}

pub async fn update(ctx: Ctx, input: UpdateAccessKeyRequest) -> Result<(), AwsError> {
    validate::access_key_id(&input.access_key_id)?;
    let Some(user_name) = named_or_caller(&ctx, input.user_name.as_deref())? else {
        return Err(root_credential_is_the_servers());
    };
    let status = match input.status {
        statusType::Active => AccessKeyStatus::Active,
        statusType::Inactive => AccessKeyStatus::Inactive,
        // Expired is the service's to set, not a caller's.
        statusType::Expired => {
            return Err(IamError::constraint(
                "Expired",
                "status",
                "Member must satisfy enum value set: [Active, Inactive]",
            )
            .into());
        }
    };
    let key = keys::access_key(&input.access_key_id);
    let (input, key) = (&input, &key);
    transact(ctx.store(), |b| async move {
        let user: UserRecord =
            b.get(&keys::user(user_name)).await?.ok_or_else(|| IamError::no_such(Entity::User, user_name))?;
        user.access_key(&input.access_key_id)?;
        let mut record: AccessKeyRecord = b.get(key).await?.ok_or_else(|| no_such_key(&input.access_key_id))?;
        if record.status != status {
            record.status = status;
            b.put(key, &record)?;
        }
        Ok(())
    })
    .await
}

pub async fn delete(ctx: Ctx, input: DeleteAccessKeyRequest) -> Result<(), AwsError> {
    validate::access_key_id(&input.access_key_id)?;
    let Some(user_name) = named_or_caller(&ctx, input.user_name.as_deref())? else {
        return Err(root_credential_is_the_servers());
    };
    let user_key = keys::user(user_name);
    let (input, user_key) = (&input, &user_key);
    transact(ctx.store(), |b| async move {
        let mut user: UserRecord = b.get(user_key).await?.ok_or_else(|| IamError::no_such(Entity::User, user_name))?;
        user.access_key(&input.access_key_id)?;
        user.access_keys.retain(|k| k != &input.access_key_id);
        b.delete(&keys::access_key(&input.access_key_id));
        b.put(user_key, &user)
    })
    .await?;
    ctx.api.keyring.forget(&input.access_key_id);
    Ok(())
}

/// Whose key it is and when it last signed an accepted request (to the hour, for which service
/// and region); a key never used answers as IAM does, region and service `N/A`.
pub async fn last_used(ctx: Ctx, input: GetAccessKeyLastUsedRequest) -> Result<GetAccessKeyLastUsedResponse, AwsError> {
    validate::access_key_id(&input.access_key_id)?;
    let record = documents::get::<AccessKeyRecord>(ctx.store(), &keys::access_key(&input.access_key_id))
        .await?
        .ok_or_else(|| no_such_key(&input.access_key_id))?
        .value;
    Ok(GetAccessKeyLastUsedResponse {
        user_name: Some(access_key_user_name(&record).to_string()),
        access_key_last_used: Some(match &record.last_used {
            Some(used) => AccessKeyLastUsed {
                last_used_date: Some(used.date),
                service_name: used.service_name.clone(),
                region: used.region.clone(),
            },
            None => AccessKeyLastUsed { last_used_date: None, service_name: "N/A".into(), region: "N/A".into() },
        }),
    })
}
