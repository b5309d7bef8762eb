//! Policy documents as IAM takes and gives them: checked before they are stored (a
//! malformed one is `MalformedPolicyDocument` with the reason), limited in size, and
//! URL-encoded in responses (IAM answers `%7B%22Version%22...`; botocore and the aws CLI
//! decode every `policyDocumentType` member back to JSON).

use super::IamError;
use serde_json::Value;

/// What a document is for: what an identity may do (identity policies), or who may assume
/// a role (its trust policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Identity,
    Trust,
}

/// Refuses a document that is not a policy IAM would accept for `purpose`.
pub fn check(document: &str, purpose: Purpose) -> Result<(), IamError> {
    let malformed = |reason: &str| IamError::MalformedPolicyDocument(reason.to_string());
    let Ok(Value::Object(policy)) = serde_json::from_str::<Value>(document) else {
        return Err(malformed("Syntax errors in policy."));
    };
    match policy.get("Version") {
        None => {}
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => return Err(malformed("The policy failed legacy parsing")),
    }
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(malformed("Missing required field Statement")),
    };
    for statement in statements {
        let Value::Object(s) = statement else { return Err(malformed("Syntax errors in policy.")) };
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            Some(_) => return Err(malformed("Invalid effect")),
            None => return Err(malformed("Missing required field Effect")),
        }
        if !s.contains_key("Action") && !s.contains_key("NotAction") {
            return Err(malformed("Policy statement must contain actions."));
        }
        let has_principal = s.contains_key("Principal") || s.contains_key("NotPrincipal");
        let has_resource = s.contains_key("Resource") || s.contains_key("NotResource");
        match purpose {
            Purpose::Identity if has_principal => {
                return Err(malformed("Policy document should not specify a principal."));
            }
            Purpose::Identity if !has_resource => return Err(malformed("Policy statement must contain resources.")),
            Purpose::Trust if has_resource => return Err(malformed("Has prohibited field Resource")),
            Purpose::Trust if !has_principal => return Err(malformed("Missing required field Principal")),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a document over `limit` characters not counting white space, IAM's measure,
/// as `Cannot exceed quota for QUOTA: LIMIT`.
pub fn check_size(document: &str, quota: &str, limit: usize) -> Result<(), IamError> {
    if document.chars().filter(|c| !c.is_whitespace()).count() > limit {
        return Err(IamError::quota(quota, limit));
    }
    Ok(())
}

/// The document as IAM writes it in a response: every byte but `A-Z a-z 0-9 - _ . ~`
/// percent-encoded.
pub fn url_encode(document: &str) -> String {
    let mut out = String::with_capacity(document.len() * 2);
    for b in document.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUST: &str = r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" }, "Action": "sts:AssumeRole"}]}"#;
    const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}"#;

    fn reason(doc: &str, purpose: Purpose) -> String {
        match check(doc, purpose) {
            Err(IamError::MalformedPolicyDocument(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accepts_trust_and_identity_policies_for_their_purpose() {
        check(TRUST, Purpose::Trust).unwrap();
        check(IDENTITY, Purpose::Identity).unwrap();
        assert_eq!(reason(TRUST, Purpose::Identity), "Policy document should not specify a principal.");
        assert_eq!(reason(IDENTITY, Purpose::Trust), "Has prohibited field Resource");
    }

    #[test]
    fn refuses_malformed_documents_with_the_reason() {
        assert_eq!(reason("{not json", Purpose::Identity), "Syntax errors in policy.");
        assert_eq!(reason("[]", Purpose::Identity), "Syntax errors in policy.");
        assert_eq!(reason(r#"{"Version":"2012-10-17"}"#, Purpose::Identity), "Missing required field Statement");
        assert_eq!(
            reason(
                r#"{"Version":"1999","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                Purpose::Identity
            ),
            "The policy failed legacy parsing"
        );
        assert_eq!(
            reason(r#"{"Statement":[{"Action":"*","Resource":"*"}]}"#, Purpose::Identity),
            "Missing required field Effect"
        );
        assert_eq!(
            reason(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, Purpose::Identity),
            "Policy statement must contain actions."
        );
        assert_eq!(
            reason(r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#, Purpose::Identity),
            "Policy statement must contain resources."
        );
        assert_eq!(
            reason(r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#, Purpose::Trust),
            "Missing required field Principal"
        );
    }

    #[test]
    fn url_encodes_as_iam_answers() {
        assert_eq!(url_encode(r#"{"A": "b*"}"#), "%7B%22A%22%3A%20%22b%2A%22%7D");
        assert_eq!(url_encode("é"), "%C3%A9");
        assert!(check_size("{ }", "PolicySize", 2).is_ok());
        assert_eq!(check_size("{aaa}", "PolicySize", 4), Err(IamError::quota("PolicySize", 4)));
    }
}
