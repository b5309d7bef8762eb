//! What EC2's operations refuse, in EC2's error codes: the one table of them. berth-api
//! renders an `Ec2Error::Client` as `<Response><Errors><Error><Code>..` with HTTP 400.

use berth_store::StoreError;
use berth_store::documents::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum Ec2Error {
    /// A refusal with EC2's code (`InvalidInstanceID.NotFound`, ...) and message.
    #[error("{code}: {message}")]
    Client { code: &'static str, message: String },
    /// A store failure or a commit that lost every race (a server fault).
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl From<StoreError> for Ec2Error {
    fn from(e: StoreError) -> Self {
        Ec2Error::Document(e.into())
    }
}

fn client(code: &'static str, message: impl Into<String>) -> Ec2Error {
    Ec2Error::Client { code, message: message.into() }
}

/// `'a'` or `'a, b'`, as EC2 quotes a list of ids in its messages.
fn quoted(ids: &[String]) -> String {
    ids.join(", ")
}

impl Ec2Error {
    /// The EC2 error code, for rendering and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            Ec2Error::Client { code, .. } => code,
            Ec2Error::Document(_) => "InternalError",
        }
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        client("InvalidParameterValue", message)
    }
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        client("InvalidParameter", message)
    }
    pub fn missing_parameter(name: &str) -> Self {
        client("MissingParameter", format!("The request must contain the parameter {name}"))
    }
    pub fn invalid_parameter_combination(message: impl Into<String>) -> Self {
        client("InvalidParameterCombination", message)
    }
    pub fn dependency_violation(message: impl Into<String>) -> Self {
        client("DependencyViolation", message)
    }
    pub fn unsupported_operation(message: impl Into<String>) -> Self {
        client("UnsupportedOperation", message)
    }
    pub fn operation_not_permitted(message: impl Into<String>) -> Self {
        client("OperationNotPermitted", message)
    }
    pub fn incorrect_instance_state(message: impl Into<String>) -> Self {
        client("IncorrectInstanceState", message)
    }

    /// `Invalid id: "x"` under the resource's `.Malformed` code.
    pub fn malformed(code: &'static str, id: &str) -> Self {
        client(code, format!("Invalid id: \"{id}\""))
    }

    pub fn instances_not_found(ids: &[String]) -> Self {
        let message = if ids.len() == 1 {
            format!("The instance ID '{}' does not exist", ids[0])
        } else {
            format!("The instance IDs '{}' do not exist", quoted(ids))
        };
        client("InvalidInstanceID.NotFound", message)
    }
    pub fn image_not_found(id: &str) -> Self {
        client("InvalidAMIID.NotFound", format!("The image id '[{id}]' does not exist"))
    }
    pub fn vpc_not_found(id: &str) -> Self {
        client("InvalidVpcID.NotFound", format!("The vpc ID '{id}' does not exist"))
    }
    pub fn subnet_not_found(id: &str) -> Self {
        client("InvalidSubnetID.NotFound", format!("The subnet ID '{id}' does not exist"))
    }
    pub fn group_not_found(id: &str) -> Self {
        client("InvalidGroup.NotFound", format!("The security group '{id}' does not exist"))
    }
    pub fn group_name_not_found(name: &str, vpc_id: &str) -> Self {
        client("InvalidGroup.NotFound", format!("The security group '{name}' does not exist in VPC '{vpc_id}'"))
    }
    pub fn group_duplicate(name: &str, vpc_id: &str) -> Self {
        client("InvalidGroup.Duplicate", format!("The security group '{name}' already exists for VPC '{vpc_id}'"))
    }
    pub fn key_pair_not_found(name: &str) -> Self {
        client("InvalidKeyPair.NotFound", format!("The key pair '{name}' does not exist"))
    }
    pub fn key_pair_duplicate(name: &str) -> Self {
        client("InvalidKeyPair.Duplicate", format!("The keypair already exists: {name}"))
    }
    pub fn launch_template_name_exists(name: &str) -> Self {
        client(
            "InvalidLaunchTemplateName.AlreadyExistsException",
            format!("Launch template name already in use: {name}"),
        )
    }
    pub fn launch_template_name_not_found(name: &str) -> Self {
        client(
            "InvalidLaunchTemplateName.NotFoundException",
            format!("The specified launch template, with template name {name}, does not exist."),
        )
    }
    pub fn launch_template_id_not_found(id: &str) -> Self {
        client(
            "InvalidLaunchTemplateId.NotFound",
            format!("The specified launch template, with template ID {id}, does not exist."),
        )
    }
    pub fn launch_template_version_not_found(message: impl Into<String>) -> Self {
        client("InvalidLaunchTemplateId.VersionNotFound", message)
    }
    pub fn permission_duplicate(message: impl Into<String>) -> Self {
        client("InvalidPermission.Duplicate", message)
    }
    pub fn permission_not_found(message: impl Into<String>) -> Self {
        client("InvalidPermission.NotFound", message)
    }
    pub fn insufficient_addresses(subnet_id: &str) -> Self {
        client(
            "InsufficientFreeAddressesInSubnet",
            format!("The specified subnet {subnet_id} does not have enough free addresses to satisfy the request."),
        )
    }
    pub fn no_default_vpc() -> Self {
        client(
            "VPCIdNotSpecified",
            "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
        )
    }
}

impl From<berth_model::ec2::lifecycle::IncorrectState> for Ec2Error {
    fn from(e: berth_model::ec2::lifecycle::IncorrectState) -> Self {
        Ec2Error::incorrect_instance_state(e.0)
    }
}

impl From<berth_model::ec2::templates::VersionNotFound> for Ec2Error {
    fn from(e: berth_model::ec2::templates::VersionNotFound) -> Self {
        Ec2Error::launch_template_version_not_found(e.0)
    }
}

impl From<berth_model::ec2::filters::UnknownFilter> for Ec2Error {
    fn from(e: berth_model::ec2::filters::UnknownFilter) -> Self {
        Ec2Error::invalid_parameter_value(e.to_string())
    }
}
