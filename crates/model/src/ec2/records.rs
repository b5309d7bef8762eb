//! The EC2 objects berth stores, one JSON document each (keys in `crate::keys`). Fields
//! are added with `#[serde(default)]`, never renamed, so stored documents keep decoding.

use serde::{Deserialize, Serialize};

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// An instance's lifecycle state, with EC2's codes and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
        InstanceState::Stopping,
        InstanceState::Stopped,
    ];

    /// EC2's state code (the low byte of `InstanceState.Code`).
    pub fn code(self) -> i32 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }

    /// EC2's state name (`InstanceState.Name`, the `instance-state-name` filter).
    pub fn name(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code & 0xff)
    }
}

/// Why an instance last changed state (`StateReason`: e.g. `Client.UserInitiatedShutdown`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateReason {
    pub code: String,
    pub message: String,
}

/// The launch template an instance was launched from, with the version number resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplateRef {
    pub id: String,
    pub name: String,
    /// The version number as text, as EC2 reports it (`"3"`).
    pub version: String,
}

/// One EC2 instance. Created `pending` with `host: None` by `berth_ec2::run_instances`;
/// the fleet controller places it on a host and moves it through its states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub instance_id: String,
    pub reservation_id: String,
    /// The account that launched it (`Reservation.OwnerId`).
    pub owner_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub state: InstanceState,
    #[serde(default)]
    pub state_reason: Option<StateReason>,
    /// e.g. `User initiated (2026-12-04 01:30:00 GMT)`; empty while nothing happened.
    #[serde(default)]
    pub state_transition_reason: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub private_ip_address: String,
    pub private_dns_name: String,
    /// The security groups attached, as ids (their names are looked up when described).
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    /// `arn:aws:iam::ACCOUNT:instance-profile/NAME` (the profile's ARN, resolved at launch).
    #[serde(default)]
    pub iam_instance_profile_arn: Option<String>,
    /// The profile's id (`AIPA...`), as EC2 reports `IamInstanceProfile.Id`.
    #[serde(default)]
    pub iam_instance_profile_id: Option<String>,
    /// The user data as text (decoded from the base64 the API carries).
    #[serde(default)]
    pub user_data: Option<String>,
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateRef>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Milliseconds since the Unix epoch; refreshed on every start.
    pub launch_time: i64,
    #[serde(default)]
    pub client_token: Option<String>,
    pub ami_launch_index: i32,
    /// `x86_64` or `arm64`, from the image.
    pub architecture: String,
    /// Set only by the fleet helper: the host that runs this instance.
    #[serde(default)]
    pub host: Option<String>,
    /// Set by the fleet: the host's checks pass (DescribeInstanceStatus `ok`), false while
    /// it is not up or stopped answering.
    #[serde(default)]
    pub status_ok: bool,
    /// When the instance entered its current state (ms since epoch): what the expiry
    /// of terminated instances counts from.
    #[serde(default)]
    pub state_changed_at: i64,
    #[serde(default)]
    pub disable_api_termination: bool,
    #[serde(default)]
    pub ebs_optimized: bool,
    #[serde(default)]
    pub monitoring_enabled: bool,
}

impl InstanceRecord {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
    }
}

/// A VPC. berth keeps its addressing; no packets are routed by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcRecord {
    pub vpc_id: String,
    pub owner_id: String,
    pub cidr_block: String,
    /// The association id of the primary CIDR (`vpc-cidr-assoc-...`).
    pub cidr_association_id: String,
    pub is_default: bool,
    /// `default` or `dedicated`.
    pub instance_tenancy: String,
    pub dhcp_options_id: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A subnet of a VPC in one availability zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRecord {
    pub subnet_id: String,
    pub vpc_id: String,
    pub owner_id: String,
    pub cidr_block: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub default_for_az: bool,
    pub map_public_ip_on_launch: bool,
    /// The private addresses handed out to instances in it (dotted quads); the count of
    /// available addresses is the subnet's usable size minus these.
    #[serde(default)]
    pub allocated_ips: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl SubnetRecord {
    /// `AvailableIpAddressCount`: the usable addresses (EC2 reserves 5 per subnet) not yet
    /// handed out.
    pub fn available_ip_address_count(&self) -> u64 {
        crate::ec2::cidr::Cidr::parse(&self.cidr_block)
            .map_or(0, |c| c.usable().saturating_sub(self.allocated_ips.len() as u64))
    }

    pub fn arn(&self, region: &str) -> String {
        format!("arn:aws:ec2:{region}:{}:subnet/{}", self.owner_id, self.subnet_id)
    }
}

/// What a security group rule allows traffic from (ingress) or to (egress).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleTarget {
    Cidr(String),
    CidrV6(String),
    /// Another security group (optionally of another account).
    Group {
        group_id: String,
        user_id: String,
    },
    PrefixList(String),
}

/// One rule of a security group, as DescribeSecurityGroupRules lists it; IpPermissions
/// are these grouped by protocol and port range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    /// `sgr-` + 17 hex digits.
    pub rule_id: String,
    pub is_egress: bool,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, a protocol number, or `-1` for all.
    pub ip_protocol: String,
    /// None (EC2 writes -1 in rules) when the protocol has no ports.
    #[serde(default)]
    pub from_port: Option<i32>,
    #[serde(default)]
    pub to_port: Option<i32>,
    pub target: RuleTarget,
    #[serde(default)]
    pub description: Option<String>,
}

impl SecurityGroupRule {
    /// Whether two rules allow the same thing (what makes `InvalidPermission.Duplicate`):
    /// direction, protocol, ports and target, whatever their descriptions.
    pub fn same_permission(&self, other: &SecurityGroupRule) -> bool {
        self.is_egress == other.is_egress
            && self.ip_protocol == other.ip_protocol
            && self.from_port == other.from_port
            && self.to_port == other.to_port
            && self.target == other.target
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRecord {
    pub group_id: String,
    pub group_name: String,
    pub description: String,
    pub vpc_id: String,
    pub owner_id: String,
    /// Ingress and egress rules, in the order they were authorized.
    pub rules: Vec<SecurityGroupRule>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl SecurityGroupRecord {
    pub fn ingress(&self) -> impl Iterator<Item = &SecurityGroupRule> {
        self.rules.iter().filter(|r| !r.is_egress)
    }

    pub fn egress(&self) -> impl Iterator<Item = &SecurityGroupRule> {
        self.rules.iter().filter(|r| r.is_egress)
    }

    pub fn arn(&self, region: &str) -> String {
        format!("arn:aws:ec2:{region}:{}:security-group/{}", self.owner_id, self.group_id)
    }
}

/// One version of a launch template. `data` is the `RequestLaunchTemplateData` as the
/// caller sent it, as the generated shape writes it (botocore's member names, lists under
/// the name the form sends them by: `ImageId`, `SecurityGroupId: [..]`,
/// `IamInstanceProfile: {Name|Arn}`, `UserData` in base64, ...), so that
/// DescribeLaunchTemplateVersions answers what was given; `templates::LaunchParams` reads
/// the members a launch uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateVersion {
    pub version_number: i64,
    #[serde(default)]
    pub version_description: Option<String>,
    /// ms since epoch.
    pub create_time: i64,
    /// The ARN of the caller that created it (`CreatedBy`).
    pub created_by: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateRecord {
    pub launch_template_id: String,
    pub launch_template_name: String,
    pub create_time: i64,
    pub created_by: String,
    pub default_version_number: i64,
    pub latest_version_number: i64,
    /// Every version not deleted, in ascending version order.
    pub versions: Vec<LaunchTemplateVersion>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A key pair: berth keeps the public key (and, for CreateKeyPair, never the private one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPairRecord {
    pub key_pair_id: String,
    pub key_name: String,
    /// `rsa` or `ed25519`.
    pub key_type: String,
    /// EC2's fingerprint of the key (hex pairs joined by `:`, or base64 SHA-256 for ed25519).
    pub key_fingerprint: String,
    #[serde(default)]
    pub public_key: Option<String>,
    pub create_time: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}
