//! Amazon EC2 Auto Scaling: the shapes generated from botocore's `autoscaling` model
//! (`crate::generated::autoscaling`, PascalCase names written to query XML as they are),
//! the group record kept in the store and its keys, ARNs, the wording of scaling
//! activities, and the validation rules Auto Scaling applies. Every rule refuses with an
//! `AsgError` whose message is the one Auto Scaling answers; `berth-api` picks the codes.

pub mod activity;
pub mod arn;
pub mod error;
pub mod keys;
pub mod records;
pub mod validate;

pub use crate::generated::autoscaling::*;
pub use error::AsgError;
pub use records::{AutoScalingGroupRecord, GroupInstance};
