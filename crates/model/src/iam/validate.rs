//! The constraints botocore's model puts on IAM's members, refused as IAM refuses them
//! (`ValidationError` with the model's wording).

use super::IamError;

/// The longest user, group and role names.
pub const NAME_MAX: usize = 64;
/// The longest policy and instance profile names.
pub const LONG_NAME_MAX: usize = 128;

/// A user, group, role, policy or instance profile name: 1 to `max` of `[\w+=,.@-]`.
/// `member` is the model's member name in lowerCamel (`roleName`), as IAM's message has it.
pub fn name(value: &str, member: &str, max: usize) -> Result<(), IamError> {
    length(value, member, 1, max)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !value.chars().all(allowed) {
        return Err(IamError::constraint(
            value,
            member,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// An entity's path: `/`, or `/` + printable ASCII + `/`, at most 512 characters.
pub fn path(value: &str) -> Result<(), IamError> {
    length(value, "path", 1, 512)?;
    let printable = value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if value == "/" || (value.len() >= 2 && value.starts_with('/') && value.ends_with('/') && printable) {
        return Ok(());
    }
    Err(IamError::Validation(
        "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric \
         characters and/or / characters."
            .into(),
    ))
}

/// A List* call's PathPrefix: `/` followed by printable ASCII, at most 512 characters.
pub fn path_prefix(value: &str) -> Result<(), IamError> {
    length(value, "pathPrefix", 1, 512)?;
    if value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c)) {
        return Ok(());
    }
    Err(IamError::constraint(
        value,
        "pathPrefix",
        "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
    ))
}

/// A role's MaxSessionDuration: one to twelve hours, in seconds.
pub fn max_session_duration(seconds: i32) -> Result<(), IamError> {
    if seconds < 3600 {
        return Err(IamError::constraint(
            &seconds.to_string(),
            "maxSessionDuration",
            "Member must have value greater than or equal to 3600",
        ));
    }
    if seconds > 43200 {
        return Err(IamError::constraint(
            &seconds.to_string(),
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(())
}

/// A role's or policy's Description: at most 1000 characters.
pub fn description(value: &str) -> Result<(), IamError> {
    length(value, "description", 0, 1000)
}

/// `value` has `min..=max` characters.
pub fn length(value: &str, member: &str, min: usize, max: usize) -> Result<(), IamError> {
    let n = value.chars().count();
    if n < min {
        return Err(IamError::constraint(
            value,
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(IamError::constraint(
            value,
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// The id of an access key as callers name it: 16 to 128 word characters.
pub fn access_key_id(value: &str) -> Result<(), IamError> {
    length(value, "accessKeyId", 16, 128)?;
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(IamError::constraint(
            value,
            "accessKeyId",
            "Member must satisfy regular expression pattern: [\\w]+",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_models_pattern_and_length() {
        assert!(name("ecsInstanceRole", "roleName", NAME_MAX).is_ok());
        assert!(name("a+b=c,d.e@f-g_h", "roleName", NAME_MAX).is_ok());
        let Err(IamError::Validation(m)) = name("has space", "roleName", NAME_MAX) else { panic!() };
        assert_eq!(
            m,
            "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        );
        assert!(name(&"a".repeat(64), "roleName", NAME_MAX).is_ok());
        let Err(IamError::Validation(m)) = name(&"a".repeat(65), "roleName", NAME_MAX) else { panic!() };
        assert!(m.ends_with("Member must have length less than or equal to 64"));
        assert!(name("", "userName", NAME_MAX).is_err());
        assert!(name(&"p".repeat(128), "policyName", LONG_NAME_MAX).is_ok());
    }

    #[test]
    fn paths_begin_and_end_with_a_slash() {
        for ok in ["/", "/a/", "/aws-service-role/ecs.amazonaws.com/", "/x/y/z/"] {
            assert!(path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "/a", "a/", "/a b/", "//x"] {
            assert!(path(bad).is_err(), "{bad}");
        }
        assert!(path_prefix("/").is_ok() && path_prefix("/ecs").is_ok());
        assert!(path_prefix("ecs").is_err());
    }

    #[test]
    fn session_durations_are_one_to_twelve_hours() {
        assert!(max_session_duration(3600).is_ok() && max_session_duration(43200).is_ok());
        let Err(IamError::Validation(m)) = max_session_duration(3599) else { panic!() };
        assert!(m.contains("Value '3599' at 'maxSessionDuration'") && m.ends_with("greater than or equal to 3600"));
        assert!(max_session_duration(43201).is_err());
    }
}
