//! The Condition element: operators, their `IfExists` and `ForAnyValue:` / `ForAllValues:`
//! forms, and how each treats a request's context values.
//!
//! Semantics, as AWS documents them: the operators of a block and the keys under an operator
//! all have to hold (AND); any one of a key's policy values may match (OR). A key the request
//! lacks fails a positive operator and satisfies a negated one (`StringNotEquals`,
//! `NotIpAddress`, ...); `...IfExists` holds whenever the key is absent; `ForAllValues:` holds
//! for an absent key (no value fails it) and `ForAnyValue:` does not.

use serde_json::Value;

use crate::MalformedPolicy;
use crate::pattern::Pattern;
use crate::request::Request;
use crate::values::{ip_in_range, parse_time};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Order {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Order {
    fn holds(self, request_value: f64, policy_value: f64) -> bool {
        match self {
            Order::Equal => request_value == policy_value,
            Order::Less => request_value < policy_value,
            Order::LessOrEqual => request_value <= policy_value,
            Order::Greater => request_value > policy_value,
            Order::GreaterOrEqual => request_value >= policy_value,
        }
    }
}

/// What one request value is compared with one policy value by; negation is kept apart.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Order),
    Date(Order),
    Bool,
    BinaryEquals,
    IpAddress,
    /// ArnEquals and ArnLike behave the same in IAM: each of the six `:`-separated parts is
    /// matched on its own, with wildcards.
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    test: Test,
    negated: bool,
    if_exists: bool,
    set: Option<SetQualifier>,
    /// Lowercased: condition keys are case-insensitive.
    key: String,
    values: Vec<Pattern>,
}

/// The operator names without qualifiers, with the test they apply and whether it is negated.
const OPERATORS: &[(&str, Test, bool)] = &[
    ("StringEquals", Test::StringEquals, false),
    ("StringNotEquals", Test::StringEquals, true),
    ("StringEqualsIgnoreCase", Test::StringEqualsIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Test::StringEqualsIgnoreCase, true),
    ("StringLike", Test::StringLike, false),
    ("StringNotLike", Test::StringLike, true),
    ("NumericEquals", Test::Numeric(Order::Equal), false),
    ("NumericNotEquals", Test::Numeric(Order::Equal), true),
    ("NumericLessThan", Test::Numeric(Order::Less), false),
    ("NumericLessThanEquals", Test::Numeric(Order::LessOrEqual), false),
    ("NumericGreaterThan", Test::Numeric(Order::Greater), false),
    ("NumericGreaterThanEquals", Test::Numeric(Order::GreaterOrEqual), false),
    ("DateEquals", Test::Date(Order::Equal), false),
    ("DateNotEquals", Test::Date(Order::Equal), true),
    ("DateLessThan", Test::Date(Order::Less), false),
    ("DateLessThanEquals", Test::Date(Order::LessOrEqual), false),
    ("DateGreaterThan", Test::Date(Order::Greater), false),
    ("DateGreaterThanEquals", Test::Date(Order::GreaterOrEqual), false),
    ("Bool", Test::Bool, false),
    ("BinaryEquals", Test::BinaryEquals, false),
    ("IpAddress", Test::IpAddress, false),
    ("NotIpAddress", Test::IpAddress, true),
    ("ArnEquals", Test::Arn, false),
    ("ArnLike", Test::Arn, false),
    ("ArnNotEquals", Test::Arn, true),
    ("ArnNotLike", Test::Arn, true),
    ("Null", Test::Null, false),
];

/// Parses a statement's Condition element: `{operator: {key: value-or-values}}`.
pub(crate) fn parse_block(block: &Value, variables: bool) -> Result<Vec<Condition>, MalformedPolicy> {
    let Value::Object(operators) = block else {
        return Err(MalformedPolicy::Syntax);
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let (test, negated, if_exists, set) = parse_operator(operator)?;
        let Value::Object(keys) = keys else {
            return Err(MalformedPolicy::Syntax);
        };
        for (key, values) in keys {
            if !key.contains(':') {
                return Err(MalformedPolicy::MissingVendor);
            }
            let values = scalar_list(values)?.iter().map(|value| Pattern::compile(value, variables, false)).collect();
            conditions.push(Condition { test, negated, if_exists, set, key: key.to_ascii_lowercase(), values });
        }
    }
    Ok(conditions)
}

type Operator = (Test, bool, bool, Option<SetQualifier>);

fn parse_operator(name: &str) -> Result<Operator, MalformedPolicy> {
    let unknown = || MalformedPolicy::UnknownConditionOperator(name.to_string());
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else {
        (None, name)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(base) => (true, base),
        None => (false, rest),
    };
    let &(_, test, negated) = OPERATORS.iter().find(|(n, _, _)| *n == base).ok_or_else(unknown)?;
    // Null asks whether the key exists: it takes neither qualifier.
    if test == Test::Null && (if_exists || set.is_some()) {
        return Err(unknown());
    }
    Ok((test, negated, if_exists, set))
}

/// A condition value: a string, number or boolean, or an array of them, as text.
fn scalar_list(value: &Value) -> Result<Vec<String>, MalformedPolicy> {
    let scalar = |value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(MalformedPolicy::Syntax),
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

impl Condition {
    pub(crate) fn holds(&self, request: &Request) -> bool {
        let present = request.values(&self.key);
        if self.test == Test::Null {
            // {"Null": {"k": "true"}}: k is absent; "false": k is present.
            return self.values.iter().any(|value| match value.literal(request) {
                Some(v) if v.eq_ignore_ascii_case("true") => present.is_none(),
                Some(v) if v.eq_ignore_ascii_case("false") => present.is_some(),
                _ => false,
            });
        }
        let Some(request_values) = present else {
            return self.if_exists
                || match self.set {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => self.negated,
                };
        };
        let passes = |v: &String| self.negated != self.any_policy_value_matches(request, v);
        match self.set {
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(passes),
            Some(SetQualifier::ForAllValues) => request_values.iter().all(passes),
            // A negated operator holds when no request value matches; a positive one when any does.
            None if self.negated => request_values.iter().all(passes),
            None => request_values.iter().any(passes),
        }
    }

    fn any_policy_value_matches(&self, request: &Request, request_value: &str) -> bool {
        self.values.iter().any(|policy_value| {
            if self.test == Test::StringLike {
                return policy_value.matches(request, request_value);
            }
            let Some(policy_value) = policy_value.literal(request) else {
                return false;
            };
            match self.test {
                Test::StringEquals | Test::BinaryEquals => policy_value == request_value,
                Test::StringEqualsIgnoreCase | Test::Bool => {
                    policy_value.to_lowercase() == request_value.to_lowercase()
                }
                Test::Numeric(order) => match (request_value.trim().parse(), policy_value.trim().parse()) {
                    (Ok(r), Ok(p)) => order.holds(r, p),
                    _ => false,
                },
                Test::Date(order) => match (parse_time(request_value), parse_time(&policy_value)) {
                    (Some(r), Some(p)) => order.holds(r, p),
                    _ => false,
                },
                Test::IpAddress => ip_in_range(request_value, &policy_value),
                Test::Arn => arn_like(&policy_value, request_value),
                Test::StringLike | Test::Null => false,
            }
        })
    }
}

/// ArnLike: the six parts of the ARN (the last keeps its own colons) matched one by one.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let patterns: Vec<&str> = pattern.splitn(6, ':').collect();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    patterns.len() == 6
        && parts.len() == 6
        && patterns
            .iter()
            .zip(&parts)
            .all(|(pattern, part)| Pattern::compile(pattern, false, false).matches_plain(part))
}
