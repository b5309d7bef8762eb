//! AWS STS (query protocol, Version 2011-06-15): AssumeRole and GetSessionToken, which issue
//! temporary credentials (`auth/sessions.rs` keeps and verifies them), GetCallerIdentity, and
//! DecodeAuthorizationMessage.
//! GetCallerIdentity is written by hand rather than through `dispatch!`: the typed encoder
//! writes members in name order, and STS answers Arn, UserId, Account in that order.
//!
//! The caller's own permission for sts:AssumeRole is the front door's business (identity
//! policies, as for every action); AssumeRole checks the role's trust policy.

use crate::auth::sessions::SessionIdentity;
use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::protocol::query::{Params, XmlWriter};
use crate::route::Service;
use berth_model::iam::records::RoleRecord;
use berth_model::sts::{self, CallerArn, StsError};
use berth_model::sts::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, DecodeAuthorizationMessageRequest,
    DecodeAuthorizationMessageResponse, GetSessionTokenRequest, GetSessionTokenResponse, Tag,
};
use berth_model::{Timestamp, authorization_message};
use berth_policy::{Principal, PrincipalKind};
use berth_store::documents;

pub const VERSION: &str = "2011-06-15";
pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub const SERVICE: Service =
    Service::query("sts", VERSION, XMLNS, |ctx, action, params| Box::pin(call(ctx, action, params)));

/// The result XML of `action`.
pub async fn call(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    if action == "GetCallerIdentity" {
        let mut w = XmlWriter::default();
        w.leaf("Arn", &ctx.caller.arn).leaf("UserId", &ctx.caller.user_id).leaf("Account", &ctx.caller.account);
        return Ok(w.finish());
    }
    dispatch!(query(ctx, action, params) else AwsError::invalid_action(action); {
        "AssumeRole" => assume_role,
        "GetSessionToken" => get_session_token,
        "DecodeAuthorizationMessage" => decode_authorization_message,
    })
}

/// Opens an encoded authorization failure message (`berth_model::authorization_message`)
/// that this server sealed; the caller needs sts:DecodeAuthorizationMessage (the front door).
async fn decode_authorization_message(
    ctx: Ctx,
    input: DecodeAuthorizationMessageRequest,
) -> Result<DecodeAuthorizationMessageResponse, AwsError> {
    let decoded = ctx.api.keyring.sealer().open(input.encoded_message.trim(), authorization_message::SEAL_CONTEXT);
    let decoded = decoded
        .map_err(|_| StsError::InvalidAuthorizationMessage("The encoded authorization message is not valid.".into()))?;
    Ok(DecodeAuthorizationMessageResponse { decoded_message: Some(decoded) })
}

async fn assume_role(ctx: Ctx, input: AssumeRoleRequest) -> Result<AssumeRoleResponse, AwsError> {
    let caller = principal(&ctx).await?;
    sts::check_session_name(&input.role_session_name)?;
    if let Some(id) = &input.external_id {
        sts::check_external_id(id)?;
    }
    if input.policy.is_some() || input.policy_arns.is_some() {
        // Accepting them unenforced would hand out more than was asked for.
        return Err(AwsError::validation(
            "berth does not apply session policies (Policy, PolicyArns): assume the role without them.",
        ));
    }
    if input.serial_number.is_some() || input.token_code.is_some() {
        // berth has no MFA devices, so no code can be valid.
        return Err(StsError::AccessDenied("MultiFactorAuthentication failed, unable to validate MFA code.".into()))?;
    }
    let tags = input.tags.unwrap_or_default();
    sts::check_tags(&tags)?;
    let request = Assume {
        role_arn: &input.role_arn,
        session_name: &input.role_session_name,
        duration_seconds: input.duration_seconds,
        external_id: input.external_id.as_deref(),
        tags,
    };
    let (credentials, user, packed) = assume(&ctx, caller, request).await?;
    Ok(AssumeRoleResponse {
        credentials: Some(credentials),
        assumed_role_user: Some(user),
        packed_policy_size: packed,
        ..Default::default()
    })
}

/// One AssumeRole, by a caller or by ECS on a task's behalf.
pub struct Assume<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub duration_seconds: Option<i32>,
    pub external_id: Option<&'a str>,
    pub tags: Vec<Tag>,
}

/// Assumes `request.role_arn` as `caller` if the role's trust policy allows it: the new
/// credentials, the session's identity, and the packed size of its tags (when it has any).
pub async fn assume(
    ctx: &Ctx,
    caller: Principal,
    request: Assume<'_>,
) -> Result<(Credentials, AssumedRoleUser, Option<i32>), AwsError> {
    let account = &ctx.scope().account;
    let denied = || AwsError::from(StsError::AccessDenied(sts::not_authorized(caller.arn(), request.role_arn)));
    let name = match sts::role_name(request.role_arn, account) {
        Err(StsError::AccessDenied(_)) => return Err(denied()),
        other => other?,
    };
    let role = documents::get::<RoleRecord>(ctx.store(), &berth_model::iam::keys::role(&name))
        .await?
        .map(|doc| doc.value.role)
        .filter(|role| role.arn == request.role_arn)
        .ok_or_else(denied)?;
    let now = berth_model::timestamp::to_iso8601(Timestamp::now());
    let trust = role.assume_role_policy_document.as_deref().unwrap_or_default();
    let chained = matches!(caller.kind(), PrincipalKind::AssumedRole { .. });
    sts::check_trust(trust, caller, &role.arn, request.external_id, &now)?;
    let seconds = sts::assume_role_duration(request.duration_seconds, role.max_session_duration, chained)?;
    let user = AssumedRoleUser {
        assumed_role_id: format!("{}:{}", role.role_id, request.session_name),
        arn: sts::assumed_role_arn(account, &role.role_name, request.session_name),
    };
    let packed = (!request.tags.is_empty()).then(|| sts::packed_policy_size(&request.tags));
    let identity = SessionIdentity {
        arn: user.arn.clone(),
        user_id: user.assumed_role_id.clone(),
        account: account.clone(),
        role_arn: Some(role.arn.clone()),
        tags: request.tags,
    };
    Ok((issue(ctx, identity, seconds).await?, user, packed))
}

async fn get_session_token(ctx: Ctx, input: GetSessionTokenRequest) -> Result<GetSessionTokenResponse, AwsError> {
    let caller = principal(&ctx).await?;
    let from_session = ctx.caller.access_key_id.as_deref().is_some_and(|id| id.starts_with("ASIA"));
    if from_session || matches!(caller.kind(), PrincipalKind::AssumedRole { .. }) {
        return Err(StsError::AccessDenied("Cannot call GetSessionToken with session credentials".into()))?;
    }
    if input.serial_number.is_some() || input.token_code.is_some() {
        return Err(StsError::AccessDenied("MultiFactorAuthentication failed, unable to validate MFA code.".into()))?;
    }
    let seconds = sts::session_token_duration(input.duration_seconds, caller.kind() == &PrincipalKind::Root)?;
    let identity = SessionIdentity {
        arn: ctx.caller.arn.clone(),
        user_id: ctx.caller.user_id.clone(),
        account: ctx.caller.account.clone(),
        role_arn: None,
        tags: vec![],
    };
    Ok(GetSessionTokenResponse { credentials: Some(issue(&ctx, identity, seconds).await?), ..Default::default() })
}

async fn issue(ctx: &Ctx, identity: SessionIdentity, seconds: u32) -> Result<Credentials, AwsError> {
    let issued = ctx.api.keyring.issue_session(ctx.store(), identity, seconds).await.map_err(|e| {
        tracing::error!(error = %e, "issuing temporary credentials failed");
        AwsError::internal("InternalFailure")
    })?;
    Ok(Credentials {
        access_key_id: issued.record.access_key_id,
        secret_access_key: issued.secret,
        session_token: issued.token,
        expiration: issued.record.expiration,
    })
}

/// The caller as policies see it; a role session's role path comes from the role itself.
async fn principal(ctx: &Ctx) -> Result<Principal, AwsError> {
    let unknown = || StsError::AccessDenied(format!("User: {} is not a principal STS knows", ctx.caller.arn));
    match CallerArn::parse(&ctx.caller.arn).ok_or_else(unknown)? {
        CallerArn::Root { account } => Ok(Principal::root(&account)),
        CallerArn::User { account, path, name } => Ok(Principal::user(&account, &path, &name)),
        CallerArn::AssumedRole { account, role, session } => {
            let path = documents::get::<RoleRecord>(ctx.store(), &berth_model::iam::keys::role(&role))
                .await?
                .map_or_else(|| "/".to_string(), |doc| doc.value.role.path);
            Ok(Principal::assumed_role(&account, &path, &role, &session))
        }
    }
}
