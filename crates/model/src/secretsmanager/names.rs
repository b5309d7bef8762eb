//! Secret names and ARNs: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX`,
//! the suffix six random letters and digits. A secret is named by its name, its full
//! ARN, or a partial ARN (without the suffix).

use super::SmError;

pub const MAX_NAME_LEN: usize = 512;
pub const SUFFIX_LEN: usize = 6;

/// Letters, digits and `/_+=.@-`, 1 to 512 characters.
pub fn validate(name: &str) -> Result<(), SmError> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
    {
        return Err(SmError::Validation(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
                .into(),
        ));
    }
    Ok(())
}

/// The ARN of secret `name` with `suffix` (six characters the server drew).
pub fn arn(region: &str, account: &str, name: &str, suffix: &str) -> String {
    format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}")
}

/// The suffix alphabet: `random` bytes (at least six) become six letters and digits.
pub fn suffix(random: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random.iter().take(SUFFIX_LEN).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// How a request names a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretId {
    Name(String),
    /// An ARN: the name it may mean as given (a partial ARN) and without a `-XXXXXX`
    /// suffix (a full one); the stored ARN decides.
    Arn {
        arn: String,
        partial: String,
        full: Option<String>,
    },
}

impl SecretId {
    pub fn parse(id: &str) -> Result<Self, SmError> {
        if !id.starts_with("arn:") {
            validate(id)?;
            return Ok(SecretId::Name(id.to_string()));
        }
        let parts: Vec<&str> = id.splitn(7, ':').collect();
        let ["arn", _, "secretsmanager", _, _, "secret", rest] = parts.as_slice() else {
            return Err(SmError::InvalidParameter(format!("{id} is not a secret ARN.")));
        };
        validate(rest)?;
        let full = rest
            .rsplit_once('-')
            .filter(|(n, s)| !n.is_empty() && s.len() == SUFFIX_LEN && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(|(n, _)| n.to_string());
        Ok(SecretId::Arn { arn: id.to_string(), partial: rest.to_string(), full })
    }

    /// The names to look up, most likely first.
    pub fn candidates(&self) -> Vec<&str> {
        match self {
            SecretId::Name(n) => vec![n],
            SecretId::Arn { partial, full, .. } => full.iter().map(String::as_str).chain([partial.as_str()]).collect(),
        }
    }

    /// Whether the secret with ARN `stored_arn` is the one meant: the name, the full ARN,
    /// or the ARN without its `-XXXXXX` suffix.
    pub fn is(&self, name: &str, stored_arn: &str) -> bool {
        match self {
            SecretId::Name(n) => n == name,
            SecretId::Arn { arn, .. } => {
                let partial = stored_arn.get(..stored_arn.len().saturating_sub(SUFFIX_LEN + 1));
                arn == stored_arn || partial == Some(arn.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate("prod/db-password+v1=x.y@z").is_ok());
        assert!(validate("").is_err());
        assert!(validate("bad name").is_err());
        assert!(validate(&"x".repeat(513)).is_err());
    }

    #[test]
    fn suffixes_are_six_letters_or_digits() {
        let s = suffix(&[0, 25, 26, 51, 52, 255, 9]);
        assert_eq!(s.len(), 6);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn ids_by_name_full_and_partial_arn() {
        let stored = arn("us-east-1", "1", "app/db", "AbC123");
        let full = SecretId::parse(&stored).unwrap();
        assert_eq!(full.candidates(), vec!["app/db", "app/db-AbC123"]);
        assert!(full.is("app/db", &stored));
        assert!(!SecretId::parse(&arn("us-east-1", "1", "app/db", "Zzz999")).unwrap().is("app/db", &stored));
        let partial = SecretId::parse("arn:aws:secretsmanager:us-east-1:1:secret:app/db").unwrap();
        assert_eq!(partial.candidates(), vec!["app/db"]);
        assert!(partial.is("app/db", &stored));
        let name = SecretId::parse("app/db").unwrap();
        assert!(name.is("app/db", &stored));
        assert!(SecretId::parse("arn:aws:ssm:us-east-1:1:parameter/x").is_err());
        // A name that itself ends in -XXXXXX is found through the partial candidate.
        let odd = arn("us-east-1", "1", "key-abcdef", "Q1w2E3");
        let by_partial = SecretId::parse("arn:aws:secretsmanager:us-east-1:1:secret:key-abcdef").unwrap();
        assert!(by_partial.candidates().contains(&"key-abcdef"));
        assert!(by_partial.is("key-abcdef", &odd));
    }
}
