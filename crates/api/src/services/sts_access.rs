//! STS's IAM table. GetCallerIdentity needs no permission (AWS allows it even when a policy
//! denies it), nor does GetSessionToken; AssumeRole is decided by the operation itself, which
//! evaluates the role's trust policy together with the caller's `sts:AssumeRole` permission.

use crate::authorize::Ask;
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(_scope: &Scope, op: &str, _input: &Value) -> Ask {
    match op {
        "GetCallerIdentity" | "GetSessionToken" => Ask::Nothing,
        "AssumeRole" => Ask::ByOperation,
        _ => Ask::any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_needs_no_permission() {
        let scope = Scope::new("us-east-1", "123456789012");
        assert_eq!(asks(&scope, "GetCallerIdentity", &Value::Null), Ask::Nothing);
        assert_eq!(asks(&scope, "AssumeRole", &Value::Null), Ask::ByOperation);
        assert_eq!(asks(&scope, "DecodeAuthorizationMessage", &Value::Null), Ask::any());
    }
}
