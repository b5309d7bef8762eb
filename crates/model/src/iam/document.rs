//! Policy documents as IAM takes and gives them: checked by berth-policy's parser before
//! they are stored (a malformed one is `MalformedPolicyDocument` with the reason), limited in size, and
//! URL-encoded in responses (IAM answers `%7B%22Version%22...`; botocore and the aws CLI
//! decode every `policyDocumentType` member back to JSON).

use super::IamError;

pub use berth_policy::PolicyKind;

/// Refuses a document that is not a policy IAM would accept as `kind`, with IAM's
/// reason (berth-policy's parser, which the evaluator reads the same documents with).
pub fn check(document: &str, kind: PolicyKind) -> Result<(), IamError> {
    berth_policy::Policy::parse(document, kind)
        .map(|_| ())
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
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

    fn reason(doc: &str, kind: PolicyKind) -> String {
        match check(doc, kind) {
            Err(IamError::MalformedPolicyDocument(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn documents_are_checked_for_their_kind_with_iams_reasons() {
        check(TRUST, PolicyKind::Trust).unwrap();
        check(IDENTITY, PolicyKind::Identity).unwrap();
        assert_eq!(reason(TRUST, PolicyKind::Identity), "Policy document should not specify a principal.");
        assert!(reason(IDENTITY, PolicyKind::Trust).starts_with("Invalid principal in policy"));
        assert_eq!(reason("{not json", PolicyKind::Identity), "Syntax errors in policy.");
        assert_eq!(
            reason(r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#, PolicyKind::Identity),
            "Policy statement must contain resources."
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
