//! The rules ELB applies to what it is given, as pure functions. `Invalid` says which
//! of ELB's two error codes a violation is (the API maps it in `error.rs`).

use super::{Action, ActionTypeEnum, Matcher, ProtocolEnum, RuleCondition, TargetGroup};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// `ValidationError`: the input is malformed.
    Validation(String),
    /// `InvalidConfigurationRequest`: well-formed, but not a configuration ELB accepts.
    Configuration(String),
    /// `InvalidLoadBalancerAction`.
    Action(String),
}

fn validation(message: impl Into<String>) -> Invalid {
    Invalid::Validation(message.into())
}

/// Load balancer and target group names: 1–32 alphanumerics and hyphens, not
/// beginning or ending with a hyphen (so a name is safe in keys and ARNs).
pub fn name(what: &str, name: &str) -> Result<(), Invalid> {
    let ok = (1..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        return Err(validation(format!(
            "{what} name '{name}' must have 1 to 32 alphanumeric characters or hyphens, and must not begin or end with a hyphen"
        )));
    }
    if what == "Load balancer" && name.starts_with("internal-") {
        return Err(validation(format!("Load balancer name '{name}' cannot begin with 'internal-'")));
    }
    Ok(())
}

pub fn port(port: i32) -> Result<(), Invalid> {
    if (1..=65535).contains(&port) {
        Ok(())
    } else {
        Err(validation(format!("Port '{port}' must be between 1 and 65535")))
    }
}

/// A rule's priority: 1–50000 (the default rule has none).
pub fn priority(priority: i32) -> Result<(), Invalid> {
    if (1..=50000).contains(&priority) {
        Ok(())
    } else {
        Err(validation(format!("Priority '{priority}' must be between 1 and 50000")))
    }
}

/// The target groups an action list forwards to (each once, in order).
pub fn target_groups_of(actions: &[Action]) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    for a in actions {
        let tuples = a.forward_config.as_ref().and_then(|f| f.target_groups.as_ref());
        let named =
            a.target_group_arn.iter().chain(tuples.into_iter().flatten().filter_map(|t| t.target_group_arn.as_ref()));
        for arn in named {
            if !arns.contains(arn) {
                arns.push(arn.clone());
            }
        }
    }
    arns
}

/// An action list of a listener or rule: exactly one action, forward (to one target
/// group, or 1–5 weighted ones), redirect or fixed-response.
pub fn actions(actions: &[Action]) -> Result<(), Invalid> {
    let [action] = actions else {
        return Err(Invalid::Action(format!("Exactly one action must be specified; got {}", actions.len())));
    };
    match action.r#type {
        ActionTypeEnum::Forward => forward(action),
        ActionTypeEnum::FixedResponse => {
            let Some(c) = &action.fixed_response_config else {
                return Err(Invalid::Action("A fixed-response action must have a FixedResponseConfig".into()));
            };
            if !is_status(&c.status_code, &['2', '4', '5']) {
                return Err(validation(format!(
                    "Fixed response status code '{}' must be 2XX, 4XX or 5XX",
                    c.status_code
                )));
            }
            if c.message_body.as_ref().is_some_and(|b| b.len() > 1024) {
                return Err(validation("Fixed response message body must be at most 1024 characters"));
            }
            Ok(())
        }
        ActionTypeEnum::Redirect => {
            let Some(c) = &action.redirect_config else {
                return Err(Invalid::Action("A redirect action must have a RedirectConfig".into()));
            };
            if let Some(p) = &c.protocol
                && !matches!(p.as_str(), "HTTP" | "HTTPS" | "#{protocol}")
            {
                return Err(validation(format!("Redirect protocol '{p}' must be HTTP, HTTPS or #{{protocol}}")));
            }
            if c.path.as_ref().is_some_and(|p| !p.starts_with('/')) {
                return Err(validation("Redirect path must start with '/'"));
            }
            Ok(())
        }
        other => Err(Invalid::Action(format!(
            "Action type '{other}' is not supported; use forward, redirect or fixed-response"
        ))),
    }
}

fn forward(action: &Action) -> Result<(), Invalid> {
    let tuples = action.forward_config.as_ref().and_then(|f| f.target_groups.as_deref()).unwrap_or_default();
    match (&action.target_group_arn, tuples) {
        (None, []) => Err(Invalid::Action("A forward action must specify a target group".into())),
        (Some(arn), [only]) if only.target_group_arn.as_ref() != Some(arn) => Err(Invalid::Action(
            "TargetGroupArn and ForwardConfig must name the same target group when both are given".into(),
        )),
        (Some(_), [_, _, ..]) => Err(Invalid::Action(
            "TargetGroupArn cannot be given with a ForwardConfig of more than one target group".into(),
        )),
        _ if tuples.len() > 5 => Err(validation("A forward action may have at most 5 target groups")),
        _ => {
            let mut seen = Vec::new();
            for t in tuples {
                let Some(arn) = &t.target_group_arn else {
                    return Err(validation("Every ForwardConfig target group needs a TargetGroupArn"));
                };
                if seen.contains(&arn) {
                    return Err(validation(format!("Target group '{arn}' is named twice in one forward action")));
                }
                seen.push(arn);
                if t.weight.is_some_and(|w| !(0..=999).contains(&w)) {
                    return Err(validation("Target group weights must be between 0 and 999"));
                }
            }
            Ok(())
        }
    }
}

fn is_status(code: &str, classes: &[char]) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_digit()) && code.starts_with(classes)
}

/// The condition fields ALB knows.
pub const FIELDS: [&str; 6] =
    ["path-pattern", "host-header", "http-header", "http-request-method", "query-string", "source-ip"];

/// A rule's conditions: 1–5 of the known fields, each with its values (given either as
/// `Values` or in the field's `...Config`).
pub fn conditions(conditions: &[RuleCondition]) -> Result<(), Invalid> {
    if conditions.is_empty() {
        return Err(validation("A rule must have at least one condition"));
    }
    if conditions.len() > 5 {
        return Err(Invalid::Configuration("A rule can have at most 5 conditions".into()));
    }
    for c in conditions {
        let field = c.field.as_deref().unwrap_or_default();
        if !FIELDS.contains(&field) {
            return Err(validation(format!("Condition field '{field}' must be one of {}", FIELDS.join(", "))));
        }
        let values = condition_values(c);
        let count = match field {
            "query-string" => c.query_string_config.as_ref().and_then(|q| q.values.as_ref()).map_or(0, Vec::len),
            _ => values.len(),
        };
        if count == 0 {
            return Err(validation(format!("A '{field}' condition must have at least one value")));
        }
        if values.iter().any(|v| v.len() > 128) {
            return Err(validation("Condition values must be at most 128 characters"));
        }
        match field {
            "http-header" if c.http_header_config.as_ref().and_then(|h| h.http_header_name.as_ref()).is_none() => {
                return Err(validation("An 'http-header' condition must name its HttpHeaderName"));
            }
            "http-request-method" => {
                if let Some(v) =
                    values.iter().find(|v| !v.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '-'))
                {
                    return Err(validation(format!(
                        "HTTP request method '{v}' must be upper-case letters, '_' or '-'"
                    )));
                }
            }
            "source-ip" => {
                if let Some(v) = values.iter().find(|v| super::parse::parse_cidr(v).is_none()) {
                    return Err(validation(format!("Source IP '{v}' must be a CIDR block such as 10.0.0.0/8")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A condition's values, from its `...Config` or its legacy `Values`.
pub fn condition_values(c: &RuleCondition) -> Vec<String> {
    let config = match c.field.as_deref() {
        Some("path-pattern") => c.path_pattern_config.as_ref().and_then(|v| v.values.as_ref()),
        Some("host-header") => c.host_header_config.as_ref().and_then(|v| v.values.as_ref()),
        Some("http-request-method") => c.http_request_method_config.as_ref().and_then(|v| v.values.as_ref()),
        Some("source-ip") => c.source_ip_config.as_ref().and_then(|v| v.values.as_ref()),
        Some("http-header") => {
            return c.http_header_config.as_ref().and_then(|h| h.values.clone()).unwrap_or_default();
        }
        _ => None,
    };
    config.or(c.values.as_ref()).cloned().unwrap_or_default()
}

/// A target group's health check settings: interval 5–300 s, timeout 2–120 s and less
/// than the interval, thresholds 2–10, a path starting with `/`, a matcher of HTTP codes
/// 200–499 (`200`, `200,202`, `200-299`).
pub fn health_check(tg: &TargetGroup) -> Result<(), Invalid> {
    let range = |what: &str, v: Option<i32>, lo: i32, hi: i32| match v {
        Some(v) if !(lo..=hi).contains(&v) => Err(validation(format!("{what} '{v}' must be between {lo} and {hi}"))),
        _ => Ok(()),
    };
    range("Health check interval", tg.health_check_interval_seconds, 5, 300)?;
    range("Health check timeout", tg.health_check_timeout_seconds, 2, 120)?;
    range("Healthy threshold count", tg.healthy_threshold_count, 2, 10)?;
    range("Unhealthy threshold count", tg.unhealthy_threshold_count, 2, 10)?;
    if let (Some(t), Some(i)) = (tg.health_check_timeout_seconds, tg.health_check_interval_seconds)
        && t > i
    {
        return Err(Invalid::Configuration("Health check timeout must not be longer than the interval".into()));
    }
    if tg.health_check_path.as_ref().is_some_and(|p| !p.starts_with('/') || p.len() > 1024) {
        return Err(validation("Health check path must begin with '/' and be at most 1024 characters"));
    }
    if let Some(port) = tg.health_check_port.as_deref()
        && port != "traffic-port"
        && port.parse::<i32>().map_or(true, |p| !(1..=65535).contains(&p))
    {
        return Err(validation(format!("Health check port '{port}' must be 'traffic-port' or 1 to 65535")));
    }
    if let Some(code) = tg.matcher.as_ref().and_then(|m| m.http_code.as_deref())
        && super::parse::parse_matcher(code).is_none()
    {
        return Err(validation(format!(
            "Health check matcher '{code}' must be HTTP codes between 200 and 499, such as 200, 200,202 or 200-299"
        )));
    }
    Ok(())
}

/// ALB's defaults for a target group's health check, filled in where not given.
pub fn health_check_defaults(tg: &mut TargetGroup) {
    tg.health_check_protocol.get_or_insert(ProtocolEnum::Http);
    tg.health_check_port.get_or_insert_with(|| "traffic-port".into());
    tg.health_check_enabled.get_or_insert(true);
    tg.health_check_interval_seconds.get_or_insert(30);
    tg.health_check_timeout_seconds.get_or_insert(5);
    tg.healthy_threshold_count.get_or_insert(5);
    tg.unhealthy_threshold_count.get_or_insert(2);
    tg.health_check_path.get_or_insert_with(|| "/".into());
    tg.matcher.get_or_insert_with(|| Matcher { http_code: Some("200".into()), grpc_code: None });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elbv2::*;

    fn forward_to(arns: &[(&str, i32)]) -> Action {
        Action {
            forward_config: Some(ForwardActionConfig {
                target_groups: Some(
                    arns.iter()
                        .map(|(a, w)| TargetGroupTuple { target_group_arn: Some(a.to_string()), weight: Some(*w) })
                        .collect(),
                ),
                target_group_stickiness_config: None,
            }),
            ..Action::of(ActionTypeEnum::Forward)
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(name("Target group", "web-tg-1").is_ok());
        for bad in ["", "-a", "a-", "a_b", "a/b", &"x".repeat(33)] {
            assert!(matches!(name("Target group", bad), Err(Invalid::Validation(_))), "{bad}");
        }
        assert!(name("Load balancer", "internal-x").is_err());
        assert!(name("Target group", "internal-x").is_ok());
    }

    #[test]
    fn actions_are_checked() {
        assert!(actions(&[forward_to(&[("a", 90), ("b", 10)])]).is_ok());
        assert!(actions(&[]).is_err());
        assert!(actions(&[forward_to(&[("a", 1)]), forward_to(&[("b", 1)])]).is_err());
        assert!(actions(&[forward_to(&[("a", 1000)])]).is_err());
        assert!(actions(&[forward_to(&[("a", 1), ("a", 2)])]).is_err());
        assert!(matches!(actions(&[Action::of(ActionTypeEnum::Forward)]), Err(Invalid::Action(_))));
        let fixed = |code: &str| Action {
            fixed_response_config: Some(FixedResponseActionConfig {
                status_code: code.into(),
                message_body: None,
                content_type: None,
            }),
            ..Action::of(ActionTypeEnum::FixedResponse)
        };
        assert!(actions(&[fixed("503")]).is_ok());
        assert!(actions(&[fixed("302")]).is_err());
        assert!(actions(&[Action::of(ActionTypeEnum::AuthenticateOidc)]).is_err());
        assert_eq!(
            target_groups_of(&[Action { target_group_arn: Some("a".into()), ..forward_to(&[("a", 1)]) }]),
            vec!["a".to_string()]
        );
    }

    #[test]
    fn conditions_are_checked() {
        let path = |v: &str| RuleCondition {
            field: Some("path-pattern".into()),
            path_pattern_config: Some(PathPatternConditionConfig { values: Some(vec![v.into()]), regex_values: None }),
            ..Default::default()
        };
        assert!(conditions(&[path("/api/*")]).is_ok());
        assert!(conditions(&[]).is_err());
        assert!(conditions(&vec![path("/a"); 6]).is_err());
        let legacy = RuleCondition {
            field: Some("host-header".into()),
            values: Some(vec!["a.example".into()]),
            ..Default::default()
        };
        assert!(conditions(std::slice::from_ref(&legacy)).is_ok());
        assert_eq!(condition_values(&legacy), vec!["a.example".to_string()]);
        let bad_ip = RuleCondition {
            field: Some("source-ip".into()),
            values: Some(vec!["10.0.0.0".into()]),
            ..Default::default()
        };
        assert!(conditions(&[bad_ip]).is_err());
        let bad_method = RuleCondition {
            field: Some("http-request-method".into()),
            values: Some(vec!["get".into()]),
            ..Default::default()
        };
        assert!(conditions(&[bad_method]).is_err());
        assert!(conditions(&[RuleCondition { field: Some("cookie".into()), ..Default::default() }]).is_err());
    }

    #[test]
    fn health_checks_are_checked() {
        let mut tg = TargetGroup::default();
        health_check_defaults(&mut tg);
        assert!(health_check(&tg).is_ok());
        assert!(health_check(&TargetGroup { health_check_timeout_seconds: Some(60), ..tg.clone() }).is_err());
        assert!(health_check(&TargetGroup { health_check_path: Some("x".into()), ..tg.clone() }).is_err());
        assert!(health_check(&TargetGroup { healthy_threshold_count: Some(1), ..tg.clone() }).is_err());
        let matcher = |c: &str| Some(Matcher { http_code: Some(c.into()), grpc_code: None });
        assert!(health_check(&TargetGroup { matcher: matcher("200-299"), ..tg.clone() }).is_ok());
        assert!(health_check(&TargetGroup { matcher: matcher("600"), ..tg.clone() }).is_err());
    }
}
