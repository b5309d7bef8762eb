//! PutParameter's rules: what a new version may be, with AWS's messages.

use super::records::ParameterRecord;
use super::{ParameterTier, ParameterType, PutParameterRequest, SsmError, names};

pub const DEFAULT_KEY_ID: &str = "alias/aws/ssm";
pub const STANDARD_MAX_VALUE: usize = 4096;
pub const ADVANCED_MAX_VALUE: usize = 8192;
pub const TEXT: &str = "text";
pub const EC2_IMAGE: &str = "aws:ec2:image";

/// What a checked PutParameter writes as the new version (the value aside).
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    pub kind: ParameterType,
    pub tier: ParameterTier,
    pub key_id: Option<String>,
    pub data_type: String,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
}

/// Checks a PutParameter against the parameter as it is (`existing`).
pub fn check_put(req: &PutParameterRequest, existing: Option<&ParameterRecord>) -> Result<Put, SsmError> {
    names::validate_new(&req.name)?;
    let current = existing.and_then(ParameterRecord::current);
    if current.is_some() && !req.overwrite.unwrap_or(false) {
        return Err(SsmError::AlreadyExists);
    }
    if req.overwrite.unwrap_or(false) && req.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(SsmError::Validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.".into()));
    }
    let kind = match (req.r#type, current) {
        (Some(t), _) => t,
        (None, Some(c)) => c.kind,
        (None, None) => {
            return Err(SsmError::Validation("A parameter type is required when you create a parameter.".into()));
        }
    };
    if req.value.is_empty() {
        return Err(SsmError::Validation(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
        ));
    }
    let key_id = match (kind, &req.key_id) {
        (ParameterType::SecureString, Some(k)) => Some(check_key_id(k)?),
        (ParameterType::SecureString, None) => {
            Some(current.and_then(|c| c.key_id.clone()).unwrap_or_else(|| DEFAULT_KEY_ID.to_string()))
        }
        (_, Some(_)) => {
            return Err(SsmError::Validation("KeyId is required for SecureString type parameter only.".into()));
        }
        (_, None) => None,
    };
    let tier = tier_of(req, current.map(|c| c.tier))?;
    if let Some(pattern) = &req.allowed_pattern {
        check_pattern(pattern, &req.value)?;
    }
    let data_type = req.data_type.clone().unwrap_or_else(|| TEXT.to_string());
    check_data_type(&data_type, kind, &req.value)?;
    if req.policies.is_some() && tier != ParameterTier::Advanced {
        return Err(SsmError::Validation(
            "Parameter policies are supported only for the advanced-parameter tier.".into(),
        ));
    }
    Ok(Put {
        kind,
        tier,
        key_id,
        data_type,
        description: req.description.clone().or_else(|| current.and_then(|c| c.description.clone())),
        allowed_pattern: req.allowed_pattern.clone(),
    })
}

/// The tier the value is stored in: as asked (Intelligent-Tiering: the smallest it fits),
/// never down from Advanced, with the value within that tier's limit.
fn tier_of(req: &PutParameterRequest, current: Option<ParameterTier>) -> Result<ParameterTier, SsmError> {
    let len = req.value.len();
    let tier = match req.tier {
        Some(ParameterTier::IntelligentTiering) if len > STANDARD_MAX_VALUE || req.policies.is_some() => {
            ParameterTier::Advanced
        }
        Some(ParameterTier::IntelligentTiering) => current.unwrap_or(ParameterTier::Standard),
        Some(t) => t,
        None => current.unwrap_or(ParameterTier::Standard),
    };
    if current == Some(ParameterTier::Advanced) && tier == ParameterTier::Standard {
        return Err(SsmError::Validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.".into()));
    }
    if len > ADVANCED_MAX_VALUE {
        return Err(SsmError::Validation(format!(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to {ADVANCED_MAX_VALUE}"
        )));
    }
    if tier == ParameterTier::Standard && len > STANDARD_MAX_VALUE {
        return Err(SsmError::Validation(format!(
            "Standard tier parameters support a maximum parameter value of {STANDARD_MAX_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
        )));
    }
    Ok(tier)
}

/// A KMS key id, key ARN, alias name or alias ARN (berth has no KMS: the id is kept,
/// the value sealed with the data dir's master key either way).
pub fn check_key_id(key: &str) -> Result<String, SsmError> {
    let uuid = |s: &str| {
        s.len() == 36
            && s.chars()
                .enumerate()
                .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
    };
    let alias = |s: &str| {
        s.strip_prefix("alias/").is_some_and(|a| {
            !a.is_empty() && a.len() <= 250 && a.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        })
    };
    let ok = uuid(key)
        || alias(key)
        || key
            .strip_prefix("arn:aws:kms:")
            .and_then(|r| r.splitn(3, ':').nth(2))
            .is_some_and(|res| res.strip_prefix("key/").is_some_and(uuid) || alias(res));
    if ok { Ok(key.to_string()) } else { Err(SsmError::InvalidKeyId(key.to_string())) }
}

/// The value must match AllowedPattern (a regular expression, anchored as it is written).
pub fn check_pattern(pattern: &str, value: &str) -> Result<(), SsmError> {
    if pattern.len() > 1024 {
        return Err(SsmError::InvalidAllowedPattern(pattern.into(), "longer than 1024 characters".into()));
    }
    let re = regex_automata::meta::Regex::new(pattern)
        .map_err(|e| SsmError::InvalidAllowedPattern(pattern.into(), e.to_string()))?;
    if re.is_match(value) { Ok(()) } else { Err(SsmError::PatternMismatch(pattern.into())) }
}

/// `text`, or `aws:ec2:image` for a String holding an AMI id.
fn check_data_type(data_type: &str, kind: ParameterType, value: &str) -> Result<(), SsmError> {
    match data_type {
        TEXT => Ok(()),
        EC2_IMAGE if kind != ParameterType::String => Err(SsmError::UnsupportedParameterType(format!(
            "The data type {EC2_IMAGE} is supported only for String parameters, not {kind}."
        ))),
        EC2_IMAGE if is_ami_id(value) => Ok(()),
        // The value is not repeated: messages are logged, values never are.
        EC2_IMAGE => Err(SsmError::Validation(
            "The value is not a valid image id: an aws:ec2:image parameter holds ami- and 8 or 17 hex digits.".into(),
        )),
        other => Err(SsmError::Validation(format!(
            "The following data type is not supported: {other} (Data type names are all lowercase.)"
        ))),
    }
}

fn is_ami_id(value: &str) -> bool {
    value
        .strip_prefix("ami-")
        .is_some_and(|h| (h.len() == 8 || h.len() == 17) && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssm::records::{ParameterRecord, version};

    fn put(name: &str, value: &str, kind: Option<ParameterType>) -> PutParameterRequest {
        PutParameterRequest {
            name: name.into(),
            description: None,
            value: value.into(),
            r#type: kind,
            key_id: None,
            overwrite: None,
            allowed_pattern: None,
            tags: None,
            tier: None,
            policies: None,
            data_type: None,
        }
    }

    #[test]
    fn new_parameters_need_a_type_and_a_free_name() {
        let existing = ParameterRecord { name: "/a".into(), versions: vec![version(1)], tags: vec![] };
        assert!(matches!(check_put(&put("/a", "v", None), None), Err(SsmError::Validation(_))));
        assert_eq!(
            check_put(&put("/a", "v", Some(ParameterType::String)), Some(&existing)),
            Err(SsmError::AlreadyExists)
        );
        let mut over = put("/a", "v", None);
        over.overwrite = Some(true);
        assert_eq!(check_put(&over, Some(&existing)).unwrap().kind, ParameterType::String, "type kept");
        over.tags = Some(vec![crate::ssm::Tag { key: "k".into(), value: "v".into() }]);
        assert!(
            matches!(check_put(&over, Some(&existing)), Err(SsmError::Validation(m)) if m.contains("tags and overwrite"))
        );
    }

    #[test]
    fn secure_strings_get_the_default_key() {
        let p = check_put(&put("s", "v", Some(ParameterType::SecureString)), None).unwrap();
        assert_eq!(p.key_id.as_deref(), Some(DEFAULT_KEY_ID));
        let mut r = put("s", "v", Some(ParameterType::SecureString));
        r.key_id = Some("alias/mine".into());
        assert_eq!(check_put(&r, None).unwrap().key_id.as_deref(), Some("alias/mine"));
        r.key_id = Some("not a key".into());
        assert_eq!(check_put(&r, None), Err(SsmError::InvalidKeyId("not a key".into())));
        r.r#type = Some(ParameterType::String);
        r.key_id = Some("alias/mine".into());
        assert!(matches!(check_put(&r, None), Err(SsmError::Validation(_))));
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:alias/x",
        ] {
            assert!(check_key_id(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn values_fit_their_tier() {
        let big = "x".repeat(STANDARD_MAX_VALUE + 1);
        assert!(
            matches!(check_put(&put("a", &big, Some(ParameterType::String)), None), Err(SsmError::Validation(m)) if m.contains("Standard tier"))
        );
        let mut r = put("a", &big, Some(ParameterType::String));
        r.tier = Some(ParameterTier::Advanced);
        assert_eq!(check_put(&r, None).unwrap().tier, ParameterTier::Advanced);
        r.tier = Some(ParameterTier::IntelligentTiering);
        assert_eq!(check_put(&r, None).unwrap().tier, ParameterTier::Advanced);
        r.value = "x".repeat(ADVANCED_MAX_VALUE + 1);
        assert!(check_put(&r, None).is_err());
        r.value = "small".into();
        assert_eq!(check_put(&r, None).unwrap().tier, ParameterTier::Standard);
        let mut adv = version(1);
        adv.tier = ParameterTier::Advanced;
        let existing = ParameterRecord { name: "a".into(), versions: vec![adv], tags: vec![] };
        let mut down = put("a", "v", None);
        down.overwrite = Some(true);
        down.tier = Some(ParameterTier::Standard);
        assert!(matches!(check_put(&down, Some(&existing)), Err(SsmError::Validation(m)) if m.contains("downgrade")));
    }

    #[test]
    fn patterns_and_data_types() {
        let mut r = put("n", "123", Some(ParameterType::String));
        r.allowed_pattern = Some(r"^\d+$".into());
        assert!(check_put(&r, None).is_ok());
        r.value = "12a".into();
        assert_eq!(check_put(&r, None), Err(SsmError::PatternMismatch(r"^\d+$".into())));
        r.allowed_pattern = Some("(".into());
        assert!(matches!(check_put(&r, None), Err(SsmError::InvalidAllowedPattern(..))));
        let mut img = put("img", "ami-0a3c14e1ddbe7f23c", Some(ParameterType::String));
        img.data_type = Some(EC2_IMAGE.into());
        assert!(check_put(&img, None).is_ok());
        img.value = "ubuntu".into();
        assert!(matches!(check_put(&img, None), Err(SsmError::Validation(_))));
        img.r#type = Some(ParameterType::SecureString);
        assert!(matches!(check_put(&img, None), Err(SsmError::UnsupportedParameterType(_))));
        img.data_type = Some("aws:ssm:integration".into());
        assert!(matches!(check_put(&img, None), Err(SsmError::Validation(_))));
    }
}
