//! Amazon EC2 as berth keeps it: the records stored as JSON documents (instances, VPCs,
//! subnets, security groups, launch templates, key pairs), the built-in instance type
//! table, id generation, and the pure rules EC2 applies (CIDR arithmetic and private IP
//! allocation, instance state transitions and expiry, launch template version
//! resolution). berth-ec2 runs the operations over the store; berth-api speaks the wire.

pub mod cidr;
pub mod filters;
pub mod ids;
pub mod instance_types;
pub mod lifecycle;
pub mod records;
pub mod rules;
pub mod templates;
pub mod zones;

pub use records::*;

/// The request, response and resource shapes generated from botocore's ec2 model
/// (read from the form under their wire names, written under their XML names).
pub use crate::generated::ec2 as shapes;
