//! Elastic Load Balancing v2 (application load balancers): the shapes generated from
//! botocore's `elbv2` model (`crate::generated::elbv2`, PascalCase names written to
//! query-protocol XML as they are), the records kept in the store, ARNs, and the
//! validation rules ELB applies.

pub mod arn;
pub mod attributes;
pub mod parse;
pub mod records;
pub mod validate;

pub use crate::generated::elbv2::*;

impl Action {
    /// An action of `kind` with nothing else set: the model requires only its Type.
    pub fn of(kind: ActionTypeEnum) -> Self {
        Action {
            r#type: kind,
            target_group_arn: None,
            authenticate_oidc_config: None,
            authenticate_cognito_config: None,
            order: None,
            redirect_config: None,
            fixed_response_config: None,
            forward_config: None,
            jwt_validation_config: None,
        }
    }
}
