//! Why a policy document was refused. The Display of each variant is the reason IAM gives in its
//! MalformedPolicyDocument messages, so the API can send it as the message unchanged.

/// A policy document that IAM would refuse, with AWS's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedPolicy {
    /// Not JSON, not an object, or an element of the wrong JSON type.
    #[error("Syntax errors in policy.")]
    Syntax,
    /// A Version other than 2012-10-17 / 2008-10-17, or an Effect other than Allow / Deny.
    #[error("The policy failed legacy parsing")]
    LegacyParsing,
    #[error("Unknown field {0}")]
    UnknownField(String),
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// A field this kind of policy must not carry (Resource in a trust policy).
    #[error("Has prohibited field {0}")]
    ProhibitedField(&'static str),
    /// Principal / NotPrincipal in an identity-based policy.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    #[error("Policy statement must contain actions.")]
    MissingActions,
    #[error("Policy statement must contain resources.")]
    MissingResources,
    /// An action or condition key without `vendor:`.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    MissingVendor,
    #[error("Resource {0} must be in ARN format or \"*\".")]
    ResourceNotArn(String),
    /// The offending principal as AWS quotes it, e.g. `"AWS":"bob"`.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// A trust policy statement without Principal, or a Principal naming nobody (IAM's words).
    #[error(
        "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
    )]
    NoPrincipals,
    #[error("AssumeRole policy may only specify STS AssumeRole actions.")]
    TrustPolicyAction,
    #[error("Invalid Condition type : {0}")]
    UnknownConditionOperator(String),
    #[error(
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
    )]
    InvalidSid,
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid,
}
