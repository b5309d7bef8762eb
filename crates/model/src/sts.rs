//! AWS Security Token Service: the shapes generated from botocore's `sts` model, the
//! temporary credentials kept in the store, and the rules STS applies to AssumeRole and
//! GetSessionToken (durations, session names, role ARNs, trust policies), each refusing
//! with the message STS answers.

use crate::Timestamp;
use berth_policy::{Decision, Policy, PolicyKind, PolicyType, Principal, Request, evaluate};
use serde::{Deserialize, Serialize};

pub use crate::generated::sts::*;

/// The service principal ECS tasks' roles must trust.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// The shortest session STS issues, in seconds.
pub const MIN_DURATION: u32 = 900;
/// AssumeRole's default session length.
pub const ASSUME_ROLE_DEFAULT: u32 = 3600;
/// A role session that assumes another role gets an hour at most (role chaining).
pub const CHAINED_MAX: u32 = 3600;
/// GetSessionToken's default and longest session; the root user's is an hour.
pub const SESSION_TOKEN_DEFAULT: u32 = 43_200;
pub const SESSION_TOKEN_MAX: u32 = 129_600;
pub const ROOT_SESSION_MAX: u32 = 3600;

/// Store keys: `sts/sessions/{access key id}`, one per set of temporary credentials.
pub mod keys {
    pub const SESSIONS: &str = "sts/sessions/";

    pub fn session(access_key_id: &str) -> String {
        format!("{SESSIONS}{access_key_id}")
    }
}

/// STS's refusals; `berth-api` picks the code and status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AccessDenied(String),
    /// DecodeAuthorizationMessage given a message berth did not seal.
    #[error("{0}")]
    InvalidAuthorizationMessage(String),
}

/// A set of temporary credentials: who they act as, the sealed secret, the SHA-256 of the
/// session token they are bound to (the token itself is never stored), and when they expire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    #[serde(rename = "accessKeyId")]
    pub access_key_id: String,
    /// The identity requests signed with these credentials act as: an assumed-role ARN, or
    /// the user (or root) that called GetSessionToken.
    pub arn: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub account: String,
    #[serde(rename = "sealedSecret")]
    pub sealed_secret: String,
    #[serde(rename = "tokenSha256")]
    pub token_sha256: String,
    pub expiration: Timestamp,
    /// The role assumed (with its path), for role sessions.
    #[serde(rename = "roleArn", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Session tags given to AssumeRole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl SessionRecord {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now.as_secs_f64() >= self.expiration.as_secs_f64()
    }
}

/// What a caller's ARN says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerArn {
    Root { account: String },
    User { account: String, path: String, name: String },
    AssumedRole { account: String, role: String, session: String },
}

impl CallerArn {
    /// Parses `arn:aws:iam::A:root`, `arn:aws:iam::A:user/PATH/NAME` and
    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION`.
    pub fn parse(arn: &str) -> Option<CallerArn> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(_partition), Some(service), Some(""), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let account = account.to_string();
        match (service, resource) {
            ("iam", "root") => Some(CallerArn::Root { account }),
            ("iam", user) => {
                let rest = user.strip_prefix("user/")?;
                let (path, name) = rest.rsplit_once('/').map_or(("", rest), |(p, n)| (p, n));
                let path = if path.is_empty() { "/".to_string() } else { format!("/{path}/") };
                (!name.is_empty()).then(|| CallerArn::User { account, path, name: name.to_string() })
            }
            ("sts", session) => {
                let (role, session) = session.strip_prefix("assumed-role/")?.split_once('/')?;
                (!role.is_empty() && !session.is_empty()).then(|| CallerArn::AssumedRole {
                    account,
                    role: role.to_string(),
                    session: session.to_string(),
                })
            }
            _ => None,
        }
    }
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`: a role session's ARN carries no path.
pub fn assumed_role_arn(account: &str, role_name: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}")
}

/// The role name in `arn:aws:iam::ACCOUNT:role/PATH/NAME`, for a role of `account`.
pub fn role_name(role_arn: &str, account: &str) -> Result<String, StsError> {
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(constraint(role_arn, "roleArn", "Member must have length between 20 and 2048"));
    }
    let invalid = || StsError::Validation(format!("{role_arn} is invalid"));
    let resource = role_arn.strip_prefix("arn:aws:iam::").and_then(|rest| rest.split_once(':')).ok_or_else(invalid)?;
    let name = resource.1.strip_prefix("role/").and_then(|r| r.rsplit('/').next()).ok_or_else(invalid)?;
    if name.is_empty() {
        return Err(invalid());
    }
    if resource.0 != account {
        // berth serves one account: a role of another does not exist here.
        return Err(StsError::AccessDenied(String::new()));
    }
    Ok(name.to_string())
}

/// A session name: 2 to 64 of letters, digits and `+=,.@_-`.
pub fn check_session_name(name: &str) -> Result<(), StsError> {
    if name.len() < 2 {
        return Err(constraint(name, "roleSessionName", "Member must have length greater than or equal to 2"));
    }
    if name.len() > 64 {
        return Err(constraint(name, "roleSessionName", "Member must have length less than or equal to 64"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// An external id: 2 to 1224 of letters, digits and `+=,.@:/_-`.
pub fn check_external_id(id: &str) -> Result<(), StsError> {
    if !(2..=1224).contains(&id.len()) {
        return Err(constraint(id, "externalId", "Member must have length between 2 and 1224"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c)) {
        return Err(constraint(id, "externalId", "Member must satisfy regular expression pattern: [\\w+=,.@:/-]*"));
    }
    Ok(())
}

/// AssumeRole's session length: 900 s up to the role's MaxSessionDuration (an hour when
/// a role session assumes the role).
pub fn assume_role_duration(requested: Option<i32>, role_max: Option<i32>, chained: bool) -> Result<u32, StsError> {
    let seconds = at_least_minimum(requested.unwrap_or(ASSUME_ROLE_DEFAULT as i32))?;
    if chained && seconds > CHAINED_MAX {
        return Err(StsError::Validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    let max = role_max.and_then(|m| u32::try_from(m).ok()).unwrap_or(ASSUME_ROLE_DEFAULT);
    if seconds > max {
        return Err(StsError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
        ));
    }
    Ok(seconds)
}

/// GetSessionToken's session length: 900 to 129600 s, 12 h by default; the root user's
/// sessions are held to an hour, as AWS does.
pub fn session_token_duration(requested: Option<i32>, root: bool) -> Result<u32, StsError> {
    let seconds = at_least_minimum(requested.unwrap_or(SESSION_TOKEN_DEFAULT as i32))?;
    if seconds > SESSION_TOKEN_MAX {
        return Err(constraint(
            &seconds.to_string(),
            "durationSeconds",
            "Member must have value less than or equal to 129600",
        ));
    }
    Ok(if root { seconds.min(ROOT_SESSION_MAX) } else { seconds })
}

fn at_least_minimum(seconds: i32) -> Result<u32, StsError> {
    u32::try_from(seconds).ok().filter(|s| *s >= MIN_DURATION).ok_or_else(|| {
        constraint(&seconds.to_string(), "durationSeconds", "Member must have value greater than or equal to 900")
    })
}

/// Session tags: at most 50, keys 1 to 128 characters, values up to 256.
pub fn check_tags(tags: &[Tag]) -> Result<(), StsError> {
    if tags.len() > 50 {
        return Err(StsError::Validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50".into(),
        ));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.len() > 128 {
            return Err(constraint(&tag.key, "tags.member.key", "Member must have length between 1 and 128"));
        }
        if tag.value.len() > 256 {
            return Err(constraint(
                &tag.value,
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
    }
    Ok(())
}

/// How full the packed session tags are, in percent of what AWS packs into a token.
pub fn packed_policy_size(tags: &[Tag]) -> i32 {
    let bytes: usize = tags.iter().map(|t| t.key.len() + t.value.len() + 2).sum();
    i32::try_from(bytes * 100 / 2048).unwrap_or(i32::MAX).min(100)
}

/// Whether role `role_arn`'s trust policy lets `principal` assume it. The caller's own
/// identity policies are not consulted here (the front door has authorized sts:AssumeRole
/// by them already), so a trust policy that names only the caller's account allows.
pub fn check_trust(
    trust_policy: &str,
    principal: Principal,
    role_arn: &str,
    external_id: Option<&str>,
    now_iso8601: &str,
) -> Result<(), StsError> {
    let denied = |principal: &Principal| StsError::AccessDenied(not_authorized(principal.arn(), role_arn));
    let Ok(trust) = Policy::parse(trust_policy, PolicyKind::Trust) else {
        return Err(denied(&principal));
    };
    let mut request = Request::new(principal.clone(), "sts:AssumeRole", role_arn).with("aws:CurrentTime", now_iso8601);
    if let Some(id) = external_id {
        request = request.with("sts:ExternalId", id);
    }
    match evaluate(&request, &[], Some(&trust)) {
        Decision::Allow | Decision::ImplicitDeny(PolicyType::IdentityBased) => Ok(()),
        _ => Err(denied(&principal)),
    }
}

/// STS's AccessDenied message for AssumeRole.
pub fn not_authorized(caller_arn: &str, role_arn: &str) -> String {
    format!("User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
}

fn constraint(value: &str, member: &str, rule: &str) -> StsError {
    StsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const ROLE: &str = "arn:aws:iam::123456789012:role/app/deployer";
    const NOW: &str = "2026-01-01T00:00:00Z";

    fn trusting(principal: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
        )
    }

    #[test]
    fn durations_follow_sts() {
        assert_eq!(assume_role_duration(None, Some(3600), false), Ok(3600));
        assert_eq!(assume_role_duration(Some(900), Some(3600), false), Ok(900));
        assert_eq!(assume_role_duration(Some(43200), Some(43200), false), Ok(43200));
        let short = assume_role_duration(Some(899), Some(3600), false).unwrap_err();
        assert_eq!(
            short.to_string(),
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        );
        assert!(assume_role_duration(Some(-5), None, false).is_err());
        assert_eq!(
            assume_role_duration(Some(7200), Some(3600), false).unwrap_err().to_string(),
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        );
        assert!(assume_role_duration(Some(7200), Some(43200), true).unwrap_err().to_string().contains("role chaining"));
        assert_eq!(session_token_duration(None, false), Ok(43200));
        assert_eq!(session_token_duration(Some(129600), false), Ok(129600));
        assert!(session_token_duration(Some(129601), false).is_err());
        assert!(session_token_duration(Some(899), false).is_err());
        assert_eq!(session_token_duration(None, true), Ok(3600));
    }

    #[test]
    fn session_names_as_sts_validates_them() {
        for good in ["ab", "deploy-1", "me@example.com", "a_b+c=d,e.f", &"x".repeat(64)] {
            assert_eq!(check_session_name(good), Ok(()), "{good}");
        }
        for bad in ["a", "", "has space", "slash/no", "colon:no", &"x".repeat(65)] {
            assert!(matches!(check_session_name(bad), Err(StsError::Validation(_))), "{bad}");
        }
        assert!(check_session_name("a b").unwrap_err().to_string().ends_with("pattern: [\\w+=,.@-]*"));
        assert!(check_external_id("x").is_err());
        assert_eq!(check_external_id("acme:1234/x"), Ok(()));
    }

    #[test]
    fn arns() {
        assert_eq!(role_name(ROLE, ACCOUNT), Ok("deployer".into()));
        assert_eq!(role_name("arn:aws:iam::123456789012:role/plain", ACCOUNT), Ok("plain".into()));
        assert!(matches!(role_name("arn:aws:iam::123456789012:user/bob", ACCOUNT), Err(StsError::Validation(_))));
        assert!(matches!(role_name("short", ACCOUNT), Err(StsError::Validation(_))));
        assert!(matches!(role_name("arn:aws:iam::999999999999:role/x", ACCOUNT), Err(StsError::AccessDenied(_))));
        assert_eq!(assumed_role_arn(ACCOUNT, "deployer", "s1"), "arn:aws:sts::123456789012:assumed-role/deployer/s1");
        assert_eq!(
            CallerArn::parse("arn:aws:iam::123456789012:root"),
            Some(CallerArn::Root { account: ACCOUNT.into() })
        );
        assert_eq!(
            CallerArn::parse("arn:aws:iam::123456789012:user/team/a/bob"),
            Some(CallerArn::User { account: ACCOUNT.into(), path: "/team/a/".into(), name: "bob".into() })
        );
        assert_eq!(
            CallerArn::parse("arn:aws:iam::123456789012:user/bob"),
            Some(CallerArn::User { account: ACCOUNT.into(), path: "/".into(), name: "bob".into() })
        );
        assert_eq!(
            CallerArn::parse("arn:aws:sts::123456789012:assumed-role/deployer/s1"),
            Some(CallerArn::AssumedRole { account: ACCOUNT.into(), role: "deployer".into(), session: "s1".into() })
        );
        for bad in ["", "arn:aws:iam::1:group/x", "arn:aws:sts::1:assumed-role/x", "nonsense:a:b:c:d:e"] {
            assert_eq!(CallerArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn trust_through_the_policy_evaluator() {
        let bob = || Principal::user(ACCOUNT, "/", "bob");
        let named = trusting(r#"{"AWS":"arn:aws:iam::123456789012:user/bob"}"#);
        assert_eq!(check_trust(&named, bob(), ROLE, None, NOW), Ok(()));
        let other = trusting(r#"{"AWS":"arn:aws:iam::123456789012:user/alice"}"#);
        assert_eq!(
            check_trust(&other, bob(), ROLE, None, NOW),
            Err(StsError::AccessDenied(
                "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/app/deployer".into()
            ))
        );
        // Naming the account delegates to the caller's identity policies, already checked.
        let account = trusting(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#);
        assert_eq!(check_trust(&account, bob(), ROLE, None, NOW), Ok(()));
        assert!(check_trust(&account, Principal::user("999999999999", "/", "eve"), ROLE, None, NOW).is_err());
        // The ECS tasks service, as task roles must trust it.
        let tasks = trusting(r#"{"Service":"ecs-tasks.amazonaws.com"}"#);
        assert_eq!(check_trust(&tasks, Principal::service(ECS_TASKS), ROLE, None, NOW), Ok(()));
        assert!(check_trust(&tasks, Principal::service("ec2.amazonaws.com"), ROLE, None, NOW).is_err());
        assert!(check_trust(&tasks, bob(), ROLE, None, NOW).is_err());
        // A role session assuming a role the trust policy names by role ARN.
        let chained = trusting(r#"{"AWS":"arn:aws:iam::123456789012:role/ops/admin"}"#);
        let session = Principal::assumed_role(ACCOUNT, "/ops/", "admin", "s");
        assert_eq!(check_trust(&chained, session, ROLE, None, NOW), Ok(()));
        // A document that does not parse trusts no one.
        assert!(check_trust("{", bob(), ROLE, None, NOW).is_err());
    }

    #[test]
    fn external_id_conditions() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"acme-42"}}}]}"#;
        let bob = || Principal::user(ACCOUNT, "/", "bob");
        assert_eq!(check_trust(doc, bob(), ROLE, Some("acme-42"), NOW), Ok(()));
        assert!(check_trust(doc, bob(), ROLE, Some("acme-43"), NOW).is_err());
        assert!(check_trust(doc, bob(), ROLE, None, NOW).is_err());
    }

    #[test]
    fn sessions_expire_and_tags_are_bounded() {
        let record = SessionRecord {
            access_key_id: "ASIAEXAMPLE000000000".into(),
            arn: assumed_role_arn(ACCOUNT, "r", "s"),
            user_id: "AROAX:s".into(),
            account: ACCOUNT.into(),
            sealed_secret: String::new(),
            token_sha256: String::new(),
            expiration: Timestamp(1000.0),
            role_arn: None,
            tags: vec![],
        };
        assert!(!record.is_expired(Timestamp(999.9)));
        assert!(record.is_expired(Timestamp(1000.0)));
        let tag = |k: &str, v: &str| Tag { key: k.into(), value: v.into() };
        assert_eq!(check_tags(&[tag("team", "a")]), Ok(()));
        assert!(check_tags(&[tag("", "a")]).is_err());
        assert!(check_tags(&vec![tag("k", "v"); 51]).is_err());
        assert_eq!(packed_policy_size(&[]), 0);
        assert!(packed_policy_size(&[tag("team", &"v".repeat(200))]) > 0);
    }
}
