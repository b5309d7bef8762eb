//! Parameter names, the `name:version` / `name:label` selectors, and parameter ARNs
//! (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`, the name without its leading `/`).

use super::SsmError;
use crate::arn::Scope;

const NAME_RULES: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// The longest name, as AWS counts it (the whole ARN may hold 1011 characters).
pub const MAX_NAME_LEN: usize = 1011;

/// At most 15 levels: `/a/b/.../o`.
pub const MAX_DEPTH: usize = 15;

/// Checks a name PutParameter may create (reserved prefixes refused too).
pub fn validate_new(name: &str) -> Result<(), SsmError> {
    validate(name)?;
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(SsmError::Validation(NAME_RULES.to_string()));
    }
    Ok(())
}

/// Checks the form of a name: letters, digits, `.-_`, levels divided by `/` (then the
/// name begins with `/`), at most 15 levels.
pub fn validate(name: &str) -> Result<(), SsmError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(SsmError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length between 1 and {MAX_NAME_LEN}"
        )));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) {
        return Err(SsmError::Validation(NAME_RULES.to_string()));
    }
    if name.contains('/') {
        if !name.starts_with('/') {
            return Err(SsmError::Validation("Parameter name must be a fully qualified name.".to_string()));
        }
        if name[1..].split('/').any(str::is_empty) {
            return Err(SsmError::Validation(NAME_RULES.to_string()));
        }
    }
    if depth(name) > MAX_DEPTH {
        return Err(SsmError::HierarchyLevel);
    }
    Ok(())
}

/// The number of levels of a name (`/a/b` and `a` are 2 and 1).
pub fn depth(name: &str) -> usize {
    name.trim_start_matches('/').split('/').count()
}

/// Which version of a parameter a reference asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Version(i64),
    Label(String),
}

impl Selector {
    /// As AWS echoes it in `Selector`: `:3` or `:label`.
    pub fn text(&self) -> String {
        match self {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        }
    }
}

/// A parameter as a request names it: a name or ARN, with an optional selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The name itself, or the candidates an ARN could mean (`parameter/x` is `x` or `/x`).
    pub names: Vec<String>,
    pub selector: Option<Selector>,
}

impl Reference {
    /// `text` as `scope` reads it: an ARN of another region, partition or account names
    /// (as itself, which no parameter's name can be) a parameter that does not exist here.
    pub fn parse(scope: &Scope, text: &str) -> Result<Self, SsmError> {
        let (names, rest) = match text.strip_prefix("arn:") {
            Some(_) => {
                let (path, selector) = split_selector(arn_resource(text)?);
                let here = scope.resolve(text, "ssm").is_some() || is_public_arn(scope, text);
                (if here { names_of_arn_path(path) } else { vec![text.to_string()] }, selector)
            }
            None => {
                let (name, selector) = split_selector(text);
                validate(name)?;
                (vec![name.to_string()], selector)
            }
        };
        let selector = match rest {
            None => None,
            Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
                Some(Selector::Version(s.parse().map_err(|_| invalid_selector(s))?))
            }
            Some(s) if !s.is_empty() => Some(Selector::Label(s.to_string())),
            Some(s) => return Err(invalid_selector(s)),
        };
        Ok(Self { names, selector })
    }

    /// The name a message speaks of.
    pub fn name(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or_default()
    }
}

fn invalid_selector(s: &str) -> SsmError {
    SsmError::Validation(format!("The selector :{s} is not a version number or a label."))
}

fn split_selector(text: &str) -> (&str, Option<&str>) {
    match text.split_once(':') {
        Some((name, selector)) => (name, Some(selector)),
        None => (text, None),
    }
}

/// `parameter/NAME` of a parameter ARN (anything after the account).
fn arn_resource(arn: &str) -> Result<&str, SsmError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ssm", _, _, resource] => resource
            .strip_prefix("parameter/")
            .ok_or_else(|| SsmError::Validation(format!("{arn} is not a parameter ARN."))),
        _ => Err(SsmError::Validation(format!("{arn} is not a parameter ARN."))),
    }
}

/// AWS's public parameters' ARNs name no account: `arn:aws:ssm:REGION::parameter/aws/...`.
fn is_public_arn(scope: &Scope, text: &str) -> bool {
    let here = Scope::new(scope.region.clone(), "");
    here.resolve(text, "ssm").is_some_and(|a| a.resource.starts_with("parameter/aws/"))
}

/// A hierarchical name is `/` + the ARN's path; a one-level name may be either.
fn names_of_arn_path(path: &str) -> Vec<String> {
    if path.contains('/') { vec![format!("/{path}")] } else { vec![path.to_string(), format!("/{path}")] }
}

/// The ARN of parameter `name`. Public (`/aws/...`) parameters have no account.
pub fn arn(region: &str, account: &str, name: &str) -> String {
    let account = if is_public(name) { "" } else { account };
    format!("arn:aws:ssm:{region}:{account}:parameter/{}", name.trim_start_matches('/'))
}

/// Whether a name is one of AWS's public parameters, which nobody writes.
pub fn is_public(name: &str) -> bool {
    name.starts_with("/aws/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_scope() -> Scope {
        Scope::new("us-east-1", "123456789012")
    }

    #[test]
    fn names_follow_aws_rules() {
        for ok in ["a", "/a/b", "db.password", "/app/prod-1/db_user", "A-Z.09_"] {
            assert_eq!(validate_new(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/b", "/a//b", "/a/", "a b", "/a/b$c", "aws-x", "/ssm/x", "/AWS/x", "ssmfoo"] {
            assert!(validate_new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate_new("a/b"),
            Err(SsmError::Validation("Parameter name must be a fully qualified name.".into()))
        );
        let deep = "/a".repeat(16);
        assert_eq!(validate(&deep), Err(SsmError::HierarchyLevel));
        assert_eq!(validate(&"/a".repeat(15)), Ok(()));
        assert!(validate(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert_eq!(validate("/aws/service/ecs"), Ok(()), "public names are readable");
    }

    #[test]
    fn arns_of_elsewhere_name_nothing_here() {
        let scope = Scope::new("us-east-1", "123456789012");
        let r = Reference::parse(&scope, "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db").unwrap();
        assert_eq!(r.names, ["arn:aws:ssm:eu-west-1:123456789012:parameter/app/db"]);
        let r = Reference::parse(&scope, "arn:aws:ssm:us-east-1:999999999999:parameter/app").unwrap();
        assert_eq!(r.names, ["arn:aws:ssm:us-east-1:999999999999:parameter/app"]);
        let r = Reference::parse(&scope, "arn:aws:ssm:us-east-1::parameter/aws/service/x").unwrap();
        assert_eq!(r.names, ["/aws/service/x"]);
    }

    #[test]
    fn references_carry_selectors_and_arns() {
        let r = Reference::parse(&test_scope(), "/app/db:3").unwrap();
        assert_eq!((r.names, r.selector), (vec!["/app/db".to_string()], Some(Selector::Version(3))));
        let r = Reference::parse(&test_scope(), "name:prod").unwrap();
        assert_eq!(r.selector, Some(Selector::Label("prod".into())));
        assert_eq!(r.selector.unwrap().text(), ":prod");
        let r = Reference::parse(&test_scope(), "arn:aws:ssm:us-east-1:123456789012:parameter/app/db:2").unwrap();
        assert_eq!((r.names, r.selector), (vec!["/app/db".to_string()], Some(Selector::Version(2))));
        let r = Reference::parse(&test_scope(), "arn:aws:ssm:us-east-1:123456789012:parameter/top").unwrap();
        assert_eq!(r.names, vec!["top".to_string(), "/top".to_string()]);
        assert!(Reference::parse(&test_scope(), "arn:aws:s3:::bucket").is_err());
        assert!(Reference::parse(&test_scope(), "name:").is_err());
        assert!(Reference::parse(&test_scope(), "bad name").is_err());
    }

    #[test]
    fn arns_drop_the_leading_slash_and_public_accounts() {
        assert_eq!(arn("us-east-1", "1", "/a/b"), "arn:aws:ssm:us-east-1:1:parameter/a/b");
        assert_eq!(arn("us-east-1", "1", "a"), "arn:aws:ssm:us-east-1:1:parameter/a");
        assert_eq!(arn("us-east-1", "1", "/aws/service/x"), "arn:aws:ssm:us-east-1::parameter/aws/service/x");
    }
}
