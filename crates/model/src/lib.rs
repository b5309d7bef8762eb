//! berth's domain types in their AWS shapes.
//!
//! `generated` holds the request, response and resource shapes of each AWS service,
//! generated from botocore's models (tools/gen_shapes.py), so member names and types
//! follow what AWS clients send and parse. The hand-written modules beside it add
//! what the models do not say: ARNs, and the validation rules AWS applies.
#![forbid(unsafe_code)]

pub mod agent_protocol;
pub mod amis;
pub mod application_autoscaling;
pub mod arn;
pub mod attributes;
pub mod authorization_message;
pub mod autoscaling;
pub mod awslogs;
pub mod capacity_provider;
pub mod cloudwatch;
pub mod cluster_query;
pub mod demand;
pub mod ec2;
pub mod ecs_config;
pub mod ecs_metrics;
pub mod elbv2;
pub mod fargate;
pub mod fleet;
#[allow(clippy::all, non_camel_case_types)]
pub mod generated;
pub mod iam;
pub mod instance;
pub mod keys;
pub mod launch;
pub mod lenient;
pub mod metric_clock;
pub mod records;
pub mod secretsmanager;
pub mod service;
pub mod ssm;
pub mod sts;
pub mod tags;
pub mod task_lifecycle;
pub mod taskdef;
pub mod timestamp;

pub use generated::ecs;
pub use timestamp::Timestamp;
