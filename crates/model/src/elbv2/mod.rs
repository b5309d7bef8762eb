//! Elastic Load Balancing v2 (application load balancers): the shapes as botocore's
//! `elbv2` model names them (PascalCase, written to query-protocol XML as they are),
//! the records kept in the store, ARNs, and the validation rules ELB applies.

pub mod arn;
pub mod attributes;
pub mod lenient;
pub mod parse;
pub mod records;
pub mod shapes;
pub mod validate;

pub use shapes::*;
