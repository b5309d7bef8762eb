//! AWS STS (query protocol, Version 2011-06-15): GetCallerIdentity, which scripts run
//! to check that their credentials work. Written by hand rather than through
//! `dispatch!`: the typed encoder writes members in name order, and STS answers Arn,
//! UserId, Account in that order.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::query::XmlWriter;
use crate::route::Service;

pub const VERSION: &str = "2011-06-15";
pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub const SERVICE: Service = Service::query("sts", VERSION, XMLNS, |ctx, action, _| Box::pin(call(ctx, action)));

/// The result XML of `action`.
pub async fn call(ctx: Ctx, action: &str) -> Result<String, AwsError> {
    match action {
        "GetCallerIdentity" => {
            let mut w = XmlWriter::default();
            w.leaf("Arn", &ctx.caller.arn).leaf("UserId", &ctx.caller.user_id).leaf("Account", &ctx.caller.account);
            Ok(w.finish())
        }
        other => Err(AwsError::invalid_action(other)),
    }
}
