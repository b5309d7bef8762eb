//! CloudWatch metrics and alarms: the shapes generated from botocore's `cloudwatch`
//! model (`crate::generated::cloudwatch`), the stored alarm records and PutMetricAlarm's
//! rules (`alarm`), and where they live in the store (`keys`).

pub mod action;
pub mod alarm;
pub mod evaluate;
pub mod keys;
pub mod math;
pub mod put_data;
pub mod queries;
pub mod statistics;

pub use crate::generated::cloudwatch::*;

/// Why CloudWatch refuses a request: each variant is CloudWatch's error code (the
/// query code; `berth-api` writes it as the JSON `__type` too), with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CwError {
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    InvalidParameterCombination(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    ResourceNotFound(String),
    /// TagResource's and friends' "no such resource" (the alarm operations' is ResourceNotFound).
    #[error("{0}")]
    ResourceNotFoundException(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidFormat(String),
    #[error("{0}")]
    InvalidNextToken(String),
}

impl CwError {
    /// The error code AWS sends (query code and JSON `__type`).
    pub fn code(&self) -> &'static str {
        match self {
            CwError::InvalidParameterValue(_) => "InvalidParameterValue",
            CwError::InvalidParameterCombination(_) => "InvalidParameterCombination",
            CwError::MissingParameter(_) => "MissingParameter",
            CwError::ResourceNotFound(_) => "ResourceNotFound",
            CwError::ResourceNotFoundException(_) => "ResourceNotFoundException",
            CwError::LimitExceeded(_) => "LimitExceeded",
            CwError::InvalidFormat(_) => "InvalidFormat",
            CwError::InvalidNextToken(_) => "InvalidNextToken",
        }
    }
}
