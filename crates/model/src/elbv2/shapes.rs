//! The elbv2 shapes berth serves, with botocore's member names. They are both decoded
//! from query-protocol forms (numbers and booleans arrive as text, see `lenient`) and
//! stored and encoded as they are.

use serde::{Deserialize, Serialize};

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadBalancerState {
    #[serde(rename = "Code", default)]
    pub code: String,
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AvailabilityZone {
    #[serde(rename = "ZoneName", default)]
    pub zone_name: String,
    #[serde(rename = "SubnetId", default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadBalancer {
    #[serde(rename = "LoadBalancerArn", default)]
    pub load_balancer_arn: String,
    #[serde(rename = "DNSName", default)]
    pub dns_name: String,
    #[serde(rename = "CanonicalHostedZoneId", default)]
    pub canonical_hosted_zone_id: String,
    #[serde(rename = "CreatedTime", default)]
    pub created_time: String,
    #[serde(rename = "LoadBalancerName", default)]
    pub load_balancer_name: String,
    #[serde(rename = "Scheme", default)]
    pub scheme: String,
    #[serde(rename = "VpcId", default)]
    pub vpc_id: String,
    #[serde(rename = "State")]
    pub state: LoadBalancerState,
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(rename = "AvailabilityZones", default)]
    pub availability_zones: Vec<AvailabilityZone>,
    #[serde(rename = "SecurityGroups", default)]
    pub security_groups: Vec<String>,
    #[serde(rename = "IpAddressType", default)]
    pub ip_address_type: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Matcher {
    #[serde(rename = "HttpCode", default, skip_serializing_if = "Option::is_none")]
    pub http_code: Option<String>,
    #[serde(rename = "GrpcCode", default, skip_serializing_if = "Option::is_none")]
    pub grpc_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetGroup {
    #[serde(rename = "TargetGroupArn", default)]
    pub target_group_arn: String,
    #[serde(rename = "TargetGroupName", default)]
    pub target_group_name: String,
    #[serde(rename = "Protocol", default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(
        rename = "Port",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<i32>,
    #[serde(rename = "VpcId", default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(rename = "HealthCheckProtocol", default, skip_serializing_if = "Option::is_none")]
    pub health_check_protocol: Option<String>,
    #[serde(rename = "HealthCheckPort", default, skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
    #[serde(
        rename = "HealthCheckEnabled",
        default,
        deserialize_with = "super::lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_enabled: Option<bool>,
    #[serde(
        rename = "HealthCheckIntervalSeconds",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_interval_seconds: Option<i32>,
    #[serde(
        rename = "HealthCheckTimeoutSeconds",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_timeout_seconds: Option<i32>,
    #[serde(
        rename = "HealthyThresholdCount",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub healthy_threshold_count: Option<i32>,
    #[serde(
        rename = "UnhealthyThresholdCount",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub unhealthy_threshold_count: Option<i32>,
    #[serde(rename = "HealthCheckPath", default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    #[serde(rename = "Matcher", default, skip_serializing_if = "Option::is_none")]
    pub matcher: Option<Matcher>,
    #[serde(rename = "LoadBalancerArns", default)]
    pub load_balancer_arns: Vec<String>,
    #[serde(rename = "TargetType", default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(rename = "ProtocolVersion", default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    #[serde(rename = "IpAddressType", default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetGroupTuple {
    #[serde(rename = "TargetGroupArn", default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    #[serde(
        rename = "Weight",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetGroupStickinessConfig {
    #[serde(
        rename = "Enabled",
        default,
        deserialize_with = "super::lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    #[serde(
        rename = "DurationSeconds",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration_seconds: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ForwardActionConfig {
    #[serde(rename = "TargetGroups", default, skip_serializing_if = "Option::is_none")]
    pub target_groups: Option<Vec<TargetGroupTuple>>,
    #[serde(rename = "TargetGroupStickinessConfig", default, skip_serializing_if = "Option::is_none")]
    pub target_group_stickiness_config: Option<TargetGroupStickinessConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RedirectActionConfig {
    #[serde(rename = "Protocol", default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(rename = "Port", default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(rename = "Host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(rename = "Path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(rename = "Query", default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(rename = "StatusCode", default)]
    pub status_code: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FixedResponseActionConfig {
    #[serde(rename = "MessageBody", default, skip_serializing_if = "Option::is_none")]
    pub message_body: Option<String>,
    #[serde(rename = "StatusCode", default)]
    pub status_code: String,
    #[serde(rename = "ContentType", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Action {
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(rename = "TargetGroupArn", default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    #[serde(
        rename = "Order",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub order: Option<i32>,
    #[serde(rename = "RedirectConfig", default, skip_serializing_if = "Option::is_none")]
    pub redirect_config: Option<RedirectActionConfig>,
    #[serde(rename = "FixedResponseConfig", default, skip_serializing_if = "Option::is_none")]
    pub fixed_response_config: Option<FixedResponseActionConfig>,
    #[serde(rename = "ForwardConfig", default, skip_serializing_if = "Option::is_none")]
    pub forward_config: Option<ForwardActionConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Listener {
    #[serde(rename = "ListenerArn", default)]
    pub listener_arn: String,
    #[serde(rename = "LoadBalancerArn", default)]
    pub load_balancer_arn: String,
    #[serde(rename = "Port", default)]
    pub port: i32,
    #[serde(rename = "Protocol", default)]
    pub protocol: String,
    #[serde(rename = "DefaultActions", default)]
    pub default_actions: Vec<Action>,
}

/// The condition configurations that are just a list of values (host-header, path-pattern, http-request-method, source-ip).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValuesConfig {
    #[serde(rename = "Values", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HttpHeaderConditionConfig {
    #[serde(rename = "HttpHeaderName", default, skip_serializing_if = "Option::is_none")]
    pub http_header_name: Option<String>,
    #[serde(rename = "Values", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueryStringKeyValuePair {
    #[serde(rename = "Key", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueryStringConditionConfig {
    #[serde(rename = "Values", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<QueryStringKeyValuePair>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuleCondition {
    #[serde(rename = "Field", default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(rename = "Values", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    #[serde(rename = "HostHeaderConfig", default, skip_serializing_if = "Option::is_none")]
    pub host_header_config: Option<ValuesConfig>,
    #[serde(rename = "PathPatternConfig", default, skip_serializing_if = "Option::is_none")]
    pub path_pattern_config: Option<ValuesConfig>,
    #[serde(rename = "HttpHeaderConfig", default, skip_serializing_if = "Option::is_none")]
    pub http_header_config: Option<HttpHeaderConditionConfig>,
    #[serde(rename = "QueryStringConfig", default, skip_serializing_if = "Option::is_none")]
    pub query_string_config: Option<QueryStringConditionConfig>,
    #[serde(rename = "HttpRequestMethodConfig", default, skip_serializing_if = "Option::is_none")]
    pub http_request_method_config: Option<ValuesConfig>,
    #[serde(rename = "SourceIpConfig", default, skip_serializing_if = "Option::is_none")]
    pub source_ip_config: Option<ValuesConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Rule {
    #[serde(rename = "RuleArn", default)]
    pub rule_arn: String,
    #[serde(rename = "Priority", default)]
    pub priority: String,
    #[serde(rename = "Conditions", default)]
    pub conditions: Vec<RuleCondition>,
    #[serde(rename = "Actions", default)]
    pub actions: Vec<Action>,
    #[serde(rename = "IsDefault", default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetDescription {
    #[serde(rename = "Id", default)]
    pub id: String,
    #[serde(
        rename = "Port",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<i32>,
    #[serde(rename = "AvailabilityZone", default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetHealth {
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "Description", default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetHealthDescription {
    #[serde(rename = "Target")]
    pub target: TargetDescription,
    #[serde(rename = "HealthCheckPort", default, skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
    #[serde(rename = "TargetHealth")]
    pub target_health: TargetHealth,
}

/// A load balancer or target group attribute (both shapes are Key/Value).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attribute {
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Limit {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "Max", default)]
    pub max: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TagDescription {
    #[serde(rename = "ResourceArn", default)]
    pub resource_arn: String,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RulePriorityPair {
    #[serde(rename = "RuleArn", default, skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<String>,
    #[serde(
        rename = "Priority",
        default,
        deserialize_with = "super::lenient::opt_i32",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<i32>,
}
