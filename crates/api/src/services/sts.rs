//! AWS STS (query protocol, Version 2011-06-15): GetCallerIdentity, which scripts run
//! to check that their credentials work.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::query::{self, Params};

pub const VERSION: &str = "2011-06-15";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub async fn call(ctx: Ctx, params: &Params) -> Result<String, AwsError> {
    match params.action().unwrap_or_default() {
        "GetCallerIdentity" => Ok(query::encode_response("GetCallerIdentity", XMLNS, &ctx.request_id, |w| {
            w.leaf("Arn", &ctx.caller.arn).leaf("UserId", &ctx.caller.user_id).leaf("Account", &ctx.caller.account);
        })),
        other => Err(AwsError::invalid_action(other)),
    }
}
