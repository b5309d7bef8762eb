//! A metric alarm as berth stores it, PutMetricAlarm's rules, and its history items.

use super::{
    AlarmHistoryItem, AlarmType, ComparisonOperator, CwError, Dimension, HistoryItemType, MetricAlarm, MetricDataQuery,
    PutMetricAlarmInput, StandardUnit, StateValue, Statistic, Tag,
};
use crate::Timestamp;
use crate::arn::Scope;
use serde::{Deserialize, Serialize};

/// One alarm: its whole PutMetricAlarm configuration and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRecord {
    pub name: String,
    /// `arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME`
    pub arn: String,
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub metric: AlarmMetric,
    pub evaluation_periods: i32,
    /// M of "M out of N"; None means all EvaluationPeriods (`datapoints_to_alarm()`).
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub threshold_metric_id: Option<String>,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
    /// Whether TreatMissingData was given (DescribeAlarms shows it only then).
    pub treat_missing_data_set: bool,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub configuration_updated_ms: i64,
    pub state: AlarmState,
    pub tags: Vec<Tag>,
}

/// What the alarm watches: one metric and statistic, or metric math (`Metrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmMetric {
    Single(SingleMetric),
    Math(Vec<MetricDataQuery>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleMetric {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    pub stat: AlarmStat,
    /// Seconds of metric time.
    pub period: i32,
    pub unit: Option<StandardUnit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmStat {
    Statistic(Statistic),
    /// `p90`, `p99.9`, ...
    Extended(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissingData {
    #[serde(rename = "missing")]
    Missing,
    #[serde(rename = "notBreaching")]
    NotBreaching,
    #[serde(rename = "breaching")]
    Breaching,
    #[serde(rename = "ignore")]
    Ignore,
}

impl TreatMissingData {
    pub fn parse(text: &str) -> Option<TreatMissingData> {
        Some(match text {
            "missing" => TreatMissingData::Missing,
            "notBreaching" => TreatMissingData::NotBreaching,
            "breaching" => TreatMissingData::Breaching,
            "ignore" => TreatMissingData::Ignore,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::Ignore => "ignore",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    pub value: StateValue,
    pub reason: String,
    /// JSON text, as AWS's StateReasonData.
    pub reason_data: Option<String>,
    pub updated_ms: i64,
    /// When the value last changed (StateTransitionedTimestamp).
    pub transitioned_ms: i64,
}

impl AlarmRecord {
    /// M of "M out of N".
    pub fn datapoints_to_alarm(&self) -> i32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// The period evaluated, in seconds of metric time: the metric's, or for math the
    /// returned expression's (or its first query's).
    pub fn period(&self) -> i32 {
        match &self.metric {
            AlarmMetric::Single(m) => m.period,
            AlarmMetric::Math(queries) => queries
                .iter()
                .find(|q| q.return_data.unwrap_or(true))
                .and_then(|q| q.period.or(q.metric_stat.as_ref().map(|s| s.period)))
                .or_else(|| queries.iter().find_map(|q| q.metric_stat.as_ref().map(|s| s.period)))
                .unwrap_or(60),
        }
    }

    /// Every action ARN of the alarm, for DescribeAlarms' ActionPrefix.
    pub fn actions(&self) -> impl Iterator<Item = &String> {
        self.ok_actions.iter().chain(&self.alarm_actions).chain(&self.insufficient_data_actions)
    }

    /// The alarm as DescribeAlarms shows it.
    pub fn to_metric_alarm(&self) -> MetricAlarm {
        let (single, math) = match &self.metric {
            AlarmMetric::Single(m) => (Some(m), None),
            AlarmMetric::Math(q) => (None, Some(q.clone())),
        };
        MetricAlarm {
            alarm_name: Some(self.name.clone()),
            alarm_arn: Some(self.arn.clone()),
            alarm_description: self.description.clone(),
            alarm_configuration_updated_timestamp: Some(ts(self.configuration_updated_ms)),
            actions_enabled: Some(self.actions_enabled),
            ok_actions: Some(self.ok_actions.clone()),
            alarm_actions: Some(self.alarm_actions.clone()),
            insufficient_data_actions: Some(self.insufficient_data_actions.clone()),
            state_value: Some(self.state.value),
            state_reason: Some(self.state.reason.clone()),
            state_reason_data: self.state.reason_data.clone(),
            state_updated_timestamp: Some(ts(self.state.updated_ms)),
            metric_name: single.map(|m| m.metric_name.clone()),
            namespace: single.map(|m| m.namespace.clone()),
            statistic: single.and_then(|m| match &m.stat {
                AlarmStat::Statistic(s) => Some(*s),
                AlarmStat::Extended(_) => None,
            }),
            extended_statistic: single.and_then(|m| match &m.stat {
                AlarmStat::Extended(p) => Some(p.clone()),
                AlarmStat::Statistic(_) => None,
            }),
            dimensions: single.map(|m| m.dimensions.clone()),
            period: single.map(|m| m.period),
            unit: single.and_then(|m| m.unit),
            evaluation_periods: Some(self.evaluation_periods),
            datapoints_to_alarm: self.datapoints_to_alarm,
            threshold: self.threshold,
            comparison_operator: Some(self.comparison_operator),
            treat_missing_data: self.treat_missing_data_set.then(|| self.treat_missing_data.as_str().to_string()),
            evaluate_low_sample_count_percentile: self.evaluate_low_sample_count_percentile.clone(),
            metrics: math,
            threshold_metric_id: self.threshold_metric_id.clone(),
            state_transitioned_timestamp: Some(ts(self.state.transitioned_ms)),
            ..Default::default()
        }
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp(ms as f64 / 1000.0)
}

/// The most actions of one kind an alarm may have.
pub const MAX_ACTIONS: usize = 5;
const MAX_DIMENSIONS: usize = 30;
/// EvaluationPeriods × Period may cover at most a day (7 days for periods of an hour+).
const MAX_EVALUATED_SECONDS: i64 = 86_400;

fn invalid(message: impl Into<String>) -> CwError {
    CwError::InvalidParameterValue(message.into())
}

fn combination(message: impl Into<String>) -> CwError {
    CwError::InvalidParameterCombination(message.into())
}

/// Checks a PutMetricAlarm request and builds the alarm it describes, in state
/// INSUFFICIENT_DATA as a new alarm starts (`keep_state` of the store's put keeps an
/// existing alarm's state, as AWS does on an update).
pub fn validate(input: &PutMetricAlarmInput, scope: &Scope, now_ms: i64) -> Result<AlarmRecord, CwError> {
    let name = &input.alarm_name;
    let chars = name.chars().count();
    if chars == 0 || chars > 255 {
        return Err(invalid(format!("The parameter AlarmName must be 1 to 255 characters long; it has {chars}.")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("The parameter AlarmName must not contain control characters."));
    }
    if input.alarm_description.as_ref().is_some_and(|d| d.chars().count() > 1024) {
        return Err(invalid("The parameter AlarmDescription must be at most 1024 characters long."));
    }
    let evaluation_periods = input
        .evaluation_periods
        .ok_or_else(|| CwError::MissingParameter("The parameter EvaluationPeriods is required.".into()))?;
    if evaluation_periods < 1 {
        return Err(invalid("The parameter EvaluationPeriods must be greater than or equal to 1."));
    }
    if let Some(m) = input.datapoints_to_alarm {
        if m < 1 {
            return Err(invalid("The parameter DatapointsToAlarm must be greater than or equal to 1."));
        }
        if m > evaluation_periods {
            return Err(combination(format!(
                "DatapointsToAlarm ({m}) must be less than or equal to EvaluationPeriods ({evaluation_periods})."
            )));
        }
    }
    let comparison_operator = input
        .comparison_operator
        .ok_or_else(|| CwError::MissingParameter("The parameter ComparisonOperator is required.".into()))?;
    let band = matches!(
        comparison_operator,
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold
            | ComparisonOperator::LessThanLowerThreshold
            | ComparisonOperator::GreaterThanUpperThreshold
    );
    match (input.threshold, &input.threshold_metric_id, band) {
        (None, None, _) => {
            return Err(CwError::MissingParameter("The parameter Threshold is required.".into()));
        }
        (Some(_), Some(_), _) => {
            return Err(combination("Threshold and ThresholdMetricId cannot both be specified."));
        }
        (Some(t), None, false) if !t.is_finite() => {
            return Err(invalid("The parameter Threshold must be a finite number."));
        }
        (Some(_), None, true) => {
            return Err(combination(format!(
                "ComparisonOperator {comparison_operator} needs ThresholdMetricId (an anomaly detection band), not Threshold."
            )));
        }
        (None, Some(_), false) => {
            return Err(combination(format!(
                "ThresholdMetricId is only valid with an anomaly detection ComparisonOperator, not {comparison_operator}."
            )));
        }
        _ => {}
    }
    if band {
        return Err(invalid("berth does not evaluate anomaly detection bands (ThresholdMetricId)."));
    }
    let treat_missing_data = match &input.treat_missing_data {
        None => TreatMissingData::Missing,
        Some(t) => TreatMissingData::parse(t).ok_or_else(|| {
            invalid(format!(
                "The value {t} for parameter TreatMissingData is not valid. Valid values: breaching, notBreaching, ignore, missing."
            ))
        })?,
    };
    let metric = alarm_metric(input)?;
    let period = match &metric {
        AlarmMetric::Single(m) => i64::from(m.period),
        AlarmMetric::Math(_) => 60,
    };
    let evaluated = period * i64::from(evaluation_periods);
    let limit = if period >= 3600 { 7 * MAX_EVALUATED_SECONDS } else { MAX_EVALUATED_SECONDS };
    if evaluated > limit {
        return Err(invalid(format!(
            "The evaluation period ({evaluated} seconds = EvaluationPeriods {evaluation_periods} × Period {period}) must not exceed {limit} seconds."
        )));
    }
    if let Some(e) = &input.evaluate_low_sample_count_percentile {
        if e != "evaluate" && e != "ignore" {
            return Err(invalid(format!(
                "The value {e} for parameter EvaluateLowSampleCountPercentile is not valid. Valid values: evaluate, ignore."
            )));
        }
        if !matches!(&metric, AlarmMetric::Single(SingleMetric { stat: AlarmStat::Extended(_), .. })) {
            return Err(combination(
                "EvaluateLowSampleCountPercentile is only valid with a percentile ExtendedStatistic.",
            ));
        }
    }
    let ok_actions = actions("OKActions", &input.ok_actions)?;
    let alarm_actions = actions("AlarmActions", &input.alarm_actions)?;
    let insufficient_data_actions = actions("InsufficientDataActions", &input.insufficient_data_actions)?;
    let tags = input.tags.clone().unwrap_or_default();
    validate_tags(&tags)?;
    Ok(AlarmRecord {
        name: name.clone(),
        arn: alarm_arn(scope, name),
        description: input.alarm_description.clone(),
        actions_enabled: input.actions_enabled.unwrap_or(true),
        ok_actions,
        alarm_actions,
        insufficient_data_actions,
        metric,
        evaluation_periods,
        datapoints_to_alarm: input.datapoints_to_alarm,
        threshold: input.threshold,
        threshold_metric_id: input.threshold_metric_id.clone(),
        comparison_operator,
        treat_missing_data,
        treat_missing_data_set: input.treat_missing_data.is_some(),
        evaluate_low_sample_count_percentile: input.evaluate_low_sample_count_percentile.clone(),
        configuration_updated_ms: now_ms,
        state: AlarmState {
            value: StateValue::InsufficientData,
            reason: "Unchecked: Initial alarm creation".into(),
            reason_data: None,
            updated_ms: now_ms,
            transitioned_ms: now_ms,
        },
        tags,
    })
}

pub fn alarm_arn(scope: &Scope, name: &str) -> String {
    format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", scope.region, scope.account)
}

fn alarm_metric(input: &PutMetricAlarmInput) -> Result<AlarmMetric, CwError> {
    let single_given = input.metric_name.is_some()
        || input.namespace.is_some()
        || input.statistic.is_some()
        || input.extended_statistic.is_some()
        || input.dimensions.is_some()
        || input.period.is_some();
    if let Some(queries) = &input.metrics {
        if single_given {
            return Err(combination(
                "Metrics cannot be specified with MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions or Period.",
            ));
        }
        if queries.is_empty() {
            return Err(invalid("The parameter Metrics must contain at least one query."));
        }
        let returned = queries.iter().filter(|q| q.return_data.unwrap_or(true)).count();
        if returned != 1 {
            return Err(combination(format!(
                "Exactly one element of the metrics list should return data; {returned} do (set ReturnData to false on the others)."
            )));
        }
        return Ok(AlarmMetric::Math(queries.clone()));
    }
    let metric_name = input
        .metric_name
        .clone()
        .ok_or_else(|| CwError::MissingParameter("The parameter MetricName is required (or Metrics).".into()))?;
    let namespace = input
        .namespace
        .clone()
        .ok_or_else(|| CwError::MissingParameter("The parameter Namespace is required (or Metrics).".into()))?;
    let stat = match (&input.statistic, &input.extended_statistic) {
        (Some(s), None) => AlarmStat::Statistic(*s),
        (None, Some(p)) => {
            check_percentile(p)?;
            AlarmStat::Extended(p.clone())
        }
        _ => return Err(combination("Exactly one of Statistic or ExtendedStatistic must be specified.")),
    };
    let period = input.period.ok_or_else(|| CwError::MissingParameter("The parameter Period is required.".into()))?;
    if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
        return Err(invalid(format!("The parameter Period must be 10, 30 or a multiple of 60; {period} is not.")));
    }
    let dimensions = input.dimensions.clone().unwrap_or_default();
    check_dimensions(&dimensions)?;
    Ok(AlarmMetric::Single(SingleMetric { namespace, metric_name, dimensions, stat, period, unit: input.unit }))
}

/// `pNN` or `pNN.NN` from p0 to p100, as ExtendedStatistic and GetMetricStatistics take them.
pub fn check_percentile(p: &str) -> Result<f64, CwError> {
    let bad = || {
        invalid(format!(
            "The value {p} for parameter ExtendedStatistic is not valid: a percentile is p0 to p100 with at most two decimals (p90, p99.9)."
        ))
    };
    let digits = p.strip_prefix('p').ok_or_else(bad)?;
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || whole.len() > 3 || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (digits.ends_with('.')) {
        return Err(bad());
    }
    let value: f64 = digits.parse().map_err(|_| bad())?;
    if !(0.0..=100.0).contains(&value) {
        return Err(bad());
    }
    Ok(value)
}

/// At most 30 dimensions, each name 1-255 and value 1-1024 characters, no name twice.
pub fn check_dimensions(dimensions: &[Dimension]) -> Result<(), CwError> {
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(invalid(format!(
            "The collection Dimensions must not have more than {MAX_DIMENSIONS} members; it has {}.",
            dimensions.len()
        )));
    }
    let mut names = std::collections::HashSet::new();
    for d in dimensions {
        let (n, v) = (d.name.chars().count(), d.value.chars().count());
        if n == 0 || n > 255 {
            return Err(invalid(format!("The dimension name '{}' must be 1 to 255 characters long.", d.name)));
        }
        if v == 0 || v > 1024 {
            return Err(invalid(format!(
                "The value of dimension '{}' must be 1 to 1024 characters long; it has {v}.",
                d.name
            )));
        }
        if !names.insert(d.name.as_str()) {
            return Err(invalid(format!("The dimension '{}' is given twice.", d.name)));
        }
    }
    Ok(())
}

fn actions(field: &str, given: &Option<Vec<String>>) -> Result<Vec<String>, CwError> {
    let list = given.clone().unwrap_or_default();
    if list.len() > MAX_ACTIONS {
        return Err(invalid(format!(
            "The collection {field} must not have more than {MAX_ACTIONS} members; it has {}.",
            list.len()
        )));
    }
    for arn in &list {
        let service = arn.strip_prefix("arn:aws:").and_then(|rest| rest.split(':').next());
        if !matches!(service, Some("sns" | "autoscaling" | "automate" | "ssm" | "ssm-incidents" | "lambda")) {
            return Err(invalid(format!(
                "Invalid arn syntax: {arn} ({field} take SNS topic, Auto Scaling policy, EC2 action, Systems Manager or Lambda ARNs)."
            )));
        }
    }
    Ok(list)
}

/// AWS's tag rules (`crate::tags`), refused as CloudWatch's InvalidParameterValue.
pub fn validate_tags(tags: &[Tag]) -> Result<(), CwError> {
    crate::tags::check(tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))).map_err(|e| invalid(e.to_string()))
}

/// One DescribeAlarmHistory item as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub alarm_name: String,
    pub timestamp_ms: i64,
    pub item_type: HistoryItemType,
    pub summary: String,
    /// JSON text, AWS's HistoryData.
    pub data: String,
}

impl HistoryRecord {
    pub fn to_item(&self) -> AlarmHistoryItem {
        AlarmHistoryItem {
            alarm_name: Some(self.alarm_name.clone()),
            alarm_type: Some(AlarmType::MetricAlarm),
            timestamp: Some(ts(self.timestamp_ms)),
            history_item_type: Some(self.item_type),
            history_summary: Some(self.summary.clone()),
            history_data: Some(self.data.clone()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests;
