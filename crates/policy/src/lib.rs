//! The IAM policy language, pure: documents parsed and validated as IAM does
//! ([`Policy::parse`], refusing with AWS's MalformedPolicyDocument reason), and their
//! evaluation for one request as AWS evaluates it ([`evaluate`]).
//!
//! It is not a store and knows no principals: the caller loads the documents that apply (a
//! user's inline, attached and group policies; a role's; a resource's policy), builds the
//! [`Request`] with its context keys, and turns the [`Decision`] into an HTTP answer.
#![forbid(unsafe_code)]

mod condition;
mod document;
mod error;
mod evaluate;
mod pattern;
mod principal;
mod request;
mod values;

pub use document::{Policy, PolicyKind};
pub use error::MalformedPolicy;
pub use evaluate::{Decision, PolicyType, evaluate};
pub use request::{Principal, PrincipalKind, Request};
