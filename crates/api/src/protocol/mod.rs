//! The wire protocols, each encoded in exactly one place.

pub mod json;
pub mod query;
