//! GetMetricData's (and math alarms') MetricDataQueries: what makes a valid set.

use super::alarm::check_dimensions;
use super::math::{self, Expr};
use super::statistics::{Stat, check_period};
use super::{CwError, MetricDataQuery};

pub const MAX_QUERIES: usize = 500;

/// One checked query: a metric's statistic, or a parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Stat(Stat),
    Expression(Expr),
}

fn invalid(message: String) -> CwError {
    CwError::InvalidParameterValue(message)
}

/// Ids are `[a-z][a-zA-Z0-9_]*`, unique; each query has exactly one of MetricStat and
/// Expression; an expression reads only ids of the set, without cycles.
pub fn check(queries: &[MetricDataQuery]) -> Result<Vec<Checked>, CwError> {
    if queries.is_empty() {
        return Err(CwError::MissingParameter("The parameter MetricDataQueries is required.".into()));
    }
    if queries.len() > MAX_QUERIES {
        return Err(invalid(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}; it has {}.",
            queries.len()
        )));
    }
    let mut out = vec![];
    for (i, q) in queries.iter().enumerate() {
        let at = format!("MetricDataQueries.member.{}", i + 1);
        let mut chars = q.id.chars();
        let id_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && q.id.len() <= 255;
        if !id_ok {
            return Err(invalid(format!(
                "The value {} for parameter {at}.Id is invalid: an Id starts with a lowercase letter and holds only letters, digits and underscores.",
                q.id
            )));
        }
        if queries[..i].iter().any(|o| o.id == q.id) {
            return Err(invalid(format!("The value {} for parameter {at}.Id is not unique.", q.id)));
        }
        out.push(match (&q.metric_stat, &q.expression) {
            (Some(stat), None) => {
                check_period(&format!("{at}.MetricStat.Period"), stat.period)?;
                if stat.metric.metric_name.is_none() || stat.metric.namespace.is_none() {
                    return Err(CwError::MissingParameter(format!(
                        "The parameters {at}.MetricStat.Metric.Namespace and MetricName are required."
                    )));
                }
                check_dimensions(stat.metric.dimensions.as_deref().unwrap_or_default())?;
                Checked::Stat(Stat::parse(&stat.stat).ok_or_else(|| {
                    invalid(format!(
                        "The value {} for parameter {at}.MetricStat.Stat is invalid: SampleCount, Average, Sum, Minimum, Maximum or a percentile (p99).",
                        stat.stat
                    ))
                })?)
            }
            (None, Some(text)) => {
                if let Some(p) = q.period {
                    check_period(&format!("{at}.Period"), p)?;
                }
                Checked::Expression(
                    math::parse(text).map_err(|e| invalid(format!("Error in expression {}: {e}", q.id)))?,
                )
            }
            _ => {
                return Err(CwError::InvalidParameterCombination(format!(
                    "Exactly one of {at}.MetricStat and {at}.Expression must be specified."
                )));
            }
        });
    }
    for (i, c) in out.iter().enumerate() {
        if let Checked::Expression(e) = c {
            let mut seen = vec![queries[i].id.clone()];
            check_references(queries, &out, e, &mut seen)?;
        }
    }
    Ok(out)
}

fn check_references(
    queries: &[MetricDataQuery],
    checked: &[Checked],
    expr: &Expr,
    path: &mut Vec<String>,
) -> Result<(), CwError> {
    let mut ids = vec![];
    math::references(expr, &mut ids);
    for id in ids {
        let Some(j) = queries.iter().position(|q| q.id == id) else {
            return Err(invalid(format!(
                "Error in expression {}: Unrecognized metric or expression id {id}.",
                path[0]
            )));
        };
        if path.contains(&id) {
            return Err(invalid(format!("Error in expression {}: circular reference through {id}.", path[0])));
        }
        if let Checked::Expression(e) = &checked[j] {
            path.push(id);
            check_references(queries, checked, e, path)?;
            path.pop();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queries(v: serde_json::Value) -> Vec<MetricDataQuery> {
        serde_json::from_value(v).unwrap()
    }

    fn stat(id: &str) -> serde_json::Value {
        serde_json::json!({"Id": id, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}})
    }

    #[test]
    fn valid_sets_and_their_errors() {
        let ok = check(&queries(serde_json::json!([stat("m1"), {"Id": "e1", "Expression": "m1 * 2"}]))).unwrap();
        assert!(matches!(ok[1], Checked::Expression(_)));
        let cases = [
            (serde_json::json!([stat("M1")]), "InvalidParameterValue"),
            (serde_json::json!([stat("m1"), stat("m1")]), "InvalidParameterValue"),
            (serde_json::json!([{"Id": "e1"}]), "InvalidParameterCombination"),
            (serde_json::json!([{"Id": "e1", "Expression": "m9 + 1"}]), "InvalidParameterValue"),
            (
                serde_json::json!([{"Id": "e1", "Expression": "e2"}, {"Id": "e2", "Expression": "e1"}]),
                "InvalidParameterValue",
            ),
            (serde_json::json!([{"Id": "e1", "Expression": "1 +"}]), "InvalidParameterValue"),
            (
                serde_json::json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "m"}, "Period": 60, "Stat": "Median"}}]),
                "InvalidParameterValue",
            ),
            (serde_json::json!([]), "MissingParameter"),
        ];
        for (q, code) in cases {
            let e = check(&queries(q.clone())).unwrap_err();
            assert_eq!(e.code(), code, "{q}: {e}");
        }
    }
}
