//! Which actions a request gets (pure): a listener's rules in priority order, the first
//! whose conditions all match, else the default actions; and which target group a
//! weighted forward sends it to.

use berth_model::elbv2::parse::parse_cidr;
use berth_model::elbv2::validate::condition_values;
use berth_model::elbv2::{Action, Rule, RuleCondition};
use std::net::IpAddr;

/// What rules look at in a request.
pub struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// The Host header without its port.
    pub host: &'a str,
    pub headers: &'a [httparse::Header<'a>],
    pub source: IpAddr,
}

/// ALB's wildcard match: `*` any run of characters, `?` any one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let norm =
        |s: &str| -> Vec<char> { if ignore_case { s.to_lowercase().chars().collect() } else { s.chars().collect() } };
    let (p, t) = (norm(pattern), norm(text));
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn in_cidr(addr: IpAddr, cidr: &str) -> bool {
    let Some((net, len)) = parse_cidr(cidr) else { return false };
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

pub fn condition_matches(c: &RuleCondition, req: &RequestView) -> bool {
    let values = condition_values(c);
    match c.field.as_deref() {
        Some("path-pattern") => values.iter().any(|v| glob(v, req.path, false)),
        Some("host-header") => values.iter().any(|v| glob(v, req.host, true)),
        Some("http-request-method") => values.iter().any(|v| v == req.method),
        Some("source-ip") => values.iter().any(|v| in_cidr(req.source, v)),
        Some("http-header") => {
            let Some(name) = c.http_header_config.as_ref().and_then(|h| h.http_header_name.as_deref()) else {
                return false;
            };
            req.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .filter_map(|h| std::str::from_utf8(h.value).ok())
                .any(|h| values.iter().any(|v| glob(v, h, true)))
        }
        Some("query-string") => {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes()).into_owned().collect();
            let wanted = c.query_string_config.as_ref().and_then(|q| q.values.as_deref()).unwrap_or_default();
            wanted.iter().any(|w| {
                pairs.iter().any(|(k, v)| {
                    w.key.as_deref().is_none_or(|wk| glob(wk, k, true))
                        && w.value.as_deref().is_some_and(|wv| glob(wv, v, true))
                })
            })
        }
        _ => false,
    }
}

/// The actions for a request: the first rule (in priority order) whose conditions all
/// match, else the listener's default actions. `rules` must be sorted by priority.
pub fn select<'a>(rules: &'a [Rule], default: &'a [Action], req: &RequestView) -> &'a [Action] {
    rules
        .iter()
        .find(|r| r.conditions.iter().flatten().all(|c| condition_matches(c, req)))
        .map_or(default, |r| r.actions.as_deref().unwrap_or_default())
}

/// The target group a forward action sends a request to, for a roll of the dice: a lone
/// TargetGroupArn, or one of ForwardConfig's groups by weight (a weight left out is 1).
/// None when every weight is 0.
pub fn target_group(action: &Action, roll: u64) -> Option<&str> {
    let groups = match action.forward_config.as_ref().and_then(|f| f.target_groups.as_deref()) {
        Some(groups) if !groups.is_empty() => groups,
        _ => return action.target_group_arn.as_deref(),
    };
    let weighted =
        || groups.iter().filter_map(|t| Some((t.target_group_arn.as_deref()?, t.weight.unwrap_or(1).max(0) as u64)));
    let total: u64 = weighted().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut at = roll % total;
    for (arn, w) in weighted() {
        if at < w {
            return Some(arn);
        }
        at -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::elbv2::*;

    fn req<'a>(path: &'a str, headers: &'a [httparse::Header<'a>]) -> RequestView<'a> {
        RequestView {
            method: "GET",
            path,
            query: "v=2&x=y",
            host: "Static.Example.com",
            headers,
            source: "127.0.0.1".parse().unwrap(),
        }
    }

    fn cond(field: &str, values: &[&str]) -> RuleCondition {
        RuleCondition {
            field: Some(field.into()),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
            ..Default::default()
        }
    }

    fn rule(priority: &str, conditions: Vec<RuleCondition>, tg: &str) -> Rule {
        Rule {
            rule_arn: Some(priority.into()),
            priority: Some(priority.into()),
            conditions: Some(conditions),
            actions: Some(vec![Action { target_group_arn: Some(tg.into()), ..Action::of(ActionTypeEnum::Forward) }]),
            is_default: Some(false),
            transforms: None,
        }
    }

    #[test]
    fn globs() {
        assert!(glob("/api/*", "/api/users/1", false));
        assert!(glob("*.example.com", "static.example.com", true));
        assert!(glob("/a?c", "/abc", false));
        assert!(!glob("/api/*", "/web", false));
        assert!(!glob("/API/*", "/api/x", false));
        assert!(glob("*", "", false));
        assert!(glob("a*b*c", "aXbYbZc", false));
        assert!(!glob("a*b*c", "aXbYbZ", false));
    }

    #[test]
    fn conditions_match_their_parts_of_the_request() {
        let headers = [httparse::Header { name: "X-Canary", value: b"1" }];
        let r = req("/api/x", &headers);
        assert!(condition_matches(&cond("path-pattern", &["/web/*", "/api/*"]), &r));
        assert!(condition_matches(&cond("host-header", &["static.example.COM"]), &r));
        assert!(condition_matches(&cond("http-request-method", &["GET"]), &r));
        assert!(!condition_matches(&cond("http-request-method", &["POST"]), &r));
        assert!(condition_matches(&cond("source-ip", &["127.0.0.0/8"]), &r));
        assert!(!condition_matches(&cond("source-ip", &["10.0.0.0/8"]), &r));
        let header = RuleCondition {
            field: Some("http-header".into()),
            http_header_config: Some(HttpHeaderConditionConfig {
                http_header_name: Some("X-Canary".into()),
                values: Some(vec!["1".into()]),
                regex_values: None,
            }),
            ..Default::default()
        };
        assert!(condition_matches(&header, &r));
        let query = |k: Option<&str>, v: &str| RuleCondition {
            field: Some("query-string".into()),
            query_string_config: Some(QueryStringConditionConfig {
                values: Some(vec![QueryStringKeyValuePair { key: k.map(Into::into), value: Some(v.into()) }]),
            }),
            ..Default::default()
        };
        assert!(condition_matches(&query(Some("v"), "2"), &r));
        assert!(condition_matches(&query(None, "y"), &r));
        assert!(!condition_matches(&query(Some("v"), "3"), &r));
    }

    #[test]
    fn first_matching_rule_by_priority_else_default() {
        let headers = [];
        let rules = vec![
            rule("1", vec![cond("path-pattern", &["/api/*"]), cond("http-request-method", &["POST"])], "post"),
            rule("2", vec![cond("path-pattern", &["/api/*"])], "api"),
        ];
        let default = vec![Action { target_group_arn: Some("web".into()), ..Action::of(ActionTypeEnum::Forward) }];
        let pick = |path| select(&rules, &default, &req(path, &headers))[0].target_group_arn.clone().unwrap();
        assert_eq!(pick("/api/x"), "api");
        assert_eq!(pick("/index.html"), "web");
    }

    #[test]
    fn weighted_choice_follows_the_weights() {
        let forward = |groups: &[(&str, Option<i32>)]| Action {
            forward_config: Some(ForwardActionConfig {
                target_groups: Some(
                    groups
                        .iter()
                        .map(|(arn, weight)| TargetGroupTuple {
                            target_group_arn: Some(arn.to_string()),
                            weight: *weight,
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Action::of(ActionTypeEnum::Forward)
        };
        let split = forward(&[("a", Some(90)), ("b", Some(10))]);
        let hits = (0..1000).filter(|i| target_group(&split, *i) == Some("a")).count();
        assert_eq!(hits, 900);
        let even = forward(&[("a", None), ("b", None)]);
        assert_eq!([0, 1].map(|i| target_group(&even, i)), [Some("a"), Some("b")]);
        assert_eq!(target_group(&forward(&[("a", Some(0))]), 5), None);
        let single = Action { target_group_arn: Some("t".into()), ..Action::of(ActionTypeEnum::Forward) };
        assert_eq!(target_group(&single, 7), Some("t"));
    }
}
