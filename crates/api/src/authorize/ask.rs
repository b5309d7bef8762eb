//! What one operation asks IAM for: an action on each resource it touches, with the
//! condition keys the request itself carries. Each service writes its table as a pure
//! function from the operation and its decoded input ([`Asks`]), beside its dispatch table.

use berth_model::arn::Scope;
use serde_json::Value;

/// A service's IAM table: the operation's wire name and its input (the JSON body, or a
/// query form as `Params::tree`) to what it asks. An operation the table does not know asks
/// `prefix:Operation` on `*` ([`Ask::any`]).
pub type Asks = fn(&Scope, &str, &Value) -> Ask;

/// What an operation needs to be allowed.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// Nothing: AWS requires no permission (sts:GetCallerIdentity).
    Nothing,
    /// The operation decides itself, because it evaluates a resource-based policy of its own
    /// (sts:AssumeRole and the role's trust policy).
    ByOperation,
    /// Every target must be allowed.
    Targets(Vec<Target>),
}

impl Ask {
    /// The operation's own action on `*`.
    pub fn any() -> Ask {
        Ask::Targets(vec![Target::any()])
    }

    /// The operation's own action on `resource`.
    pub fn on(resource: impl Into<String>) -> Ask {
        Ask::Targets(vec![Target::on(resource)])
    }

    /// The operation's own action on each of `resources` (`*` when there are none).
    pub fn each(resources: impl IntoIterator<Item = String>) -> Ask {
        let targets: Vec<Target> = resources.into_iter().map(Target::on).collect();
        if targets.is_empty() { Ask::any() } else { Ask::Targets(targets) }
    }

    /// Adds `key` = `value` to every target.
    pub fn key(self, key: &str, value: impl Into<String>) -> Ask {
        let value = value.into();
        self.map(|t| t.key(key, value.clone()))
    }

    /// Adds `aws:RequestTag/...` and `aws:TagKeys` for the tags in `tags` to every target.
    pub fn request_tags(self, tags: Option<&Value>) -> Ask {
        let tags = tag_pairs(tags);
        if tags.is_empty() {
            return self;
        }
        self.map(|t| t.request_tags(&tags))
    }

    /// Adds `aws:TagKeys` (an untag's keys) to every target.
    pub fn tag_keys(self, keys: Option<&Value>) -> Ask {
        let keys = strings(keys);
        if keys.is_empty() {
            return self;
        }
        self.map(|t| t.values("aws:TagKeys", keys.clone()))
    }

    fn map(self, f: impl Fn(Target) -> Target) -> Ask {
        match self {
            Ask::Targets(targets) => Ask::Targets(targets.into_iter().map(f).collect()),
            other => other,
        }
    }
}

/// One resource an operation touches and the request's condition keys for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The action when it is not `prefix:Operation` (the agent protocol's `ecs:Poll`).
    pub action: Option<&'static str>,
    pub resource: String,
    pub keys: Vec<(String, Vec<String>)>,
}

impl Target {
    pub fn any() -> Target {
        Target::on("*")
    }

    pub fn on(resource: impl Into<String>) -> Target {
        Target { action: None, resource: resource.into(), keys: vec![] }
    }

    pub fn key(self, key: &str, value: impl Into<String>) -> Target {
        self.values(key, vec![value.into()])
    }

    pub fn values(mut self, key: &str, values: Vec<String>) -> Target {
        self.keys.push((key.to_string(), values));
        self
    }

    fn request_tags(self, tags: &[(String, String)]) -> Target {
        let keys = tags.iter().map(|(k, _)| k.clone()).collect();
        tags.iter().fold(self, |t, (k, v)| t.key(&format!("aws:RequestTag/{k}"), v.clone())).values("aws:TagKeys", keys)
    }
}

/// A member's string, if it is one.
pub fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A list member's strings (a lone string counts as a list of one).
pub fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

/// The tags a request carries, in each form AWS's APIs send them: ECS's `[{key, value}]`,
/// ECR's, ELBv2's and IAM's `[{Key, Value}]`, or CloudWatch Logs' `{key: value}` map.
pub fn tag_pairs(tags: Option<&Value>) -> Vec<(String, String)> {
    let field = |item: &Value, lower: &str, upper: &str| {
        item.get(lower).or_else(|| item.get(upper)).and_then(Value::as_str).map(str::to_string)
    };
    match tags {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| Some((field(item, "key", "Key")?, field(item, "value", "Value").unwrap_or_default())))
            .collect(),
        Some(Value::Object(map)) => {
            map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
        }
        _ => vec![],
    }
}

/// `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE` in `scope`.
pub fn arn(scope: &Scope, service: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{}:{}:{resource}", scope.region, scope.account)
}

/// A name given either as itself or inside an ARN (`cluster` is `default` or
/// `arn:aws:ecs:...:cluster/default`): the part after the last `/`.
pub fn name_of(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") { name_or_arn.rsplit('/').next().unwrap_or(name_or_arn) } else { name_or_arn }
}

/// The tables' tests: what `asks` answers for an operation's JSON input, or for a query form,
/// in `us-east-1` of account `123456789012`.
#[cfg(test)]
pub mod testing {
    use super::*;

    pub fn scope() -> Scope {
        Scope::new("us-east-1", "123456789012")
    }

    pub fn json_targets(asks: Asks, op: &str, input: Value) -> Vec<Target> {
        match asks(&scope(), op, &input) {
            Ask::Targets(targets) => targets,
            other => panic!("{op}: {other:?}"),
        }
    }

    pub fn query_targets(asks: Asks, form: &str) -> Vec<Target> {
        let params = crate::protocol::query::Params::parse(form.as_bytes());
        let op = params.action().unwrap_or_default().to_string();
        json_targets(asks, &op, params.tree())
    }

    pub fn resources(targets: Vec<Target>) -> Vec<String> {
        targets.into_iter().map(|t| t.resource).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tags_in_every_form() {
        let want = vec![("env".to_string(), "prod".to_string())];
        assert_eq!(tag_pairs(Some(&json!([{"key": "env", "value": "prod"}]))), want);
        assert_eq!(tag_pairs(Some(&json!([{"Key": "env", "Value": "prod"}]))), want);
        assert_eq!(tag_pairs(Some(&json!({"env": "prod"}))), want);
        assert_eq!(tag_pairs(Some(&json!("env"))), vec![]);
        assert_eq!(tag_pairs(None), vec![]);
    }

    #[test]
    fn request_tags_become_condition_keys() {
        let ask = Ask::on("arn:x").request_tags(Some(&json!([{"key": "team", "value": "a"}])));
        let Ask::Targets(targets) = ask else { panic!("targets") };
        assert_eq!(
            targets[0].keys,
            vec![
                ("aws:RequestTag/team".to_string(), vec!["a".to_string()]),
                ("aws:TagKeys".into(), vec!["team".into()])
            ]
        );
        assert_eq!(Ask::each(vec![]), Ask::any());
    }

    #[test]
    fn names_come_out_of_arns() {
        assert_eq!(name_of("default"), "default");
        assert_eq!(name_of("arn:aws:ecs:us-east-1:123456789012:cluster/prod"), "prod");
    }
}
