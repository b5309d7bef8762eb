//! The IAM policy language, pure: documents parsed and validated as IAM does
//! ([`Policy::parse`], refusing with AWS's MalformedPolicyDocument reason), and their
//! evaluation for one request as AWS evaluates it ([`evaluate`]).
//!
//! It is not a store and knows no principals: the caller loads the documents that apply (a
//! user's inline, attached and group policies; a role's; a resource's policy or a role's trust
//! policy), builds the [`Request`] with its context keys, and turns the [`Decision`] into an
//! HTTP answer. The root user is not subject to policies in AWS: the caller does not ask.
//!
//! ```
//! use berth_policy::{Decision, Policy, PolicyKind, PolicyType, Principal, Request, evaluate};
//!
//! let policy = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}}"#,
//!     PolicyKind::Identity,
//! )?;
//! let bob = Principal::user("123456789012", "/", "bob");
//! let request = Request::new(bob, "ecs:CreateCluster", "arn:aws:ecs:us-east-1:123456789012:cluster/a")
//!     .with("aws:RequestedRegion", "us-east-1");
//! let decision = evaluate(&request, &[&policy], None);
//! assert_eq!(decision, Decision::ImplicitDeny(PolicyType::IdentityBased));
//! assert!(decision.denial_message(&request).unwrap_or_default().ends_with(
//!     "because no identity-based policy allows the ecs:CreateCluster action"
//! ));
//!
//! let refused = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"ecs:*"}}"#, PolicyKind::Identity);
//! assert_eq!(refused.unwrap_err().to_string(), "Policy statement must contain resources.");
//! # Ok::<(), berth_policy::MalformedPolicy>(())
//! ```
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
pub use evaluate::{Decision, PolicyType, evaluate, evaluate_bounded};
pub use request::{Principal, PrincipalKind, Request};
