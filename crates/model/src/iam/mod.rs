//! AWS Identity and Access Management: the shapes generated from botocore's `iam` model
//! (`crate::generated::iam`, PascalCase names written to query XML as they are), the
//! records kept in the store and their keys, ARNs and ids, the AWS managed policies, and
//! the validation rules IAM applies. Every rule refuses with an `IamError` whose message
//! is the one IAM answers.

pub mod arn;
pub mod document;
pub mod error;
pub mod ids;
pub mod keys;
pub mod managed;
pub mod paging;
pub mod records;
pub mod service_linked;
pub mod tags;
pub mod validate;

pub use crate::generated::iam::*;
pub use error::{Entity, IamError};
