//! SSM Parameter Store: the shapes generated from botocore's `ssm` model
//! (`crate::generated::ssm`), the stored records, names and selectors, PutParameter's
//! rules, the filters of GetParametersByPath and DescribeParameters, and the AWS public
//! parameters (`/aws/service/ecs/optimized-ami/...`), read-only.

pub mod filters;
pub mod keys;
pub mod names;
pub mod public;
pub mod records;
pub mod rules;

pub use crate::generated::ssm::*;

/// Why Parameter Store refuses a request; `berth-api` picks the AWS code for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsmError {
    #[error("{0}")]
    Validation(String),
    #[error("Parameter {0} not found.")]
    NotFound(String),
    #[error("The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")]
    AlreadyExists,
    #[error("Systems Manager could not find version {version} of {name}. Verify the version and try again.")]
    VersionNotFound { name: String, version: String },
    #[error(
        "You attempted to create a new version of {0} by calling the PutParameter API with the overwrite flag. Version {1}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."
    )]
    MaxVersionLimit(String, i64),
    #[error(
        "A parameter version can have maximum 10 labels. Move one or more labels to another version and try again."
    )]
    LabelLimit,
    #[error("Parameter value, cannot be validated against allowedPattern: {0}")]
    PatternMismatch(String),
    #[error("The allowed pattern {0} is not a valid regular expression: {1}")]
    InvalidAllowedPattern(String, String),
    #[error(
        "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide."
    )]
    HierarchyLevel,
    #[error("The key id {0} is not a KMS key id, key ARN, alias name or alias ARN.")]
    InvalidKeyId(String),
    #[error("{0}")]
    UnsupportedParameterType(String),
    #[error("The following filter key is not valid: {0}. Valid filter keys include: [{1}].")]
    InvalidFilterKey(String, String),
    #[error("The filter option {0} is not valid for key {1}. Valid options include: [{2}].")]
    InvalidFilterOption(String, String, String),
    #[error("{0}")]
    InvalidFilterValue(String),
    #[error("The nextToken is not valid: pass the NextToken of the previous response unchanged.")]
    InvalidNextToken,
    #[error("The resource ID \"{0}\" is not valid. Verify the ID and try again.")]
    InvalidResourceId(String),
    #[error("{0}")]
    InvalidResourceType(String),
    #[error("A resource can have at most 50 tags; this request would give it {0}.")]
    TooManyTags(usize),
}
