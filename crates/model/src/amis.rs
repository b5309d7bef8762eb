//! The machine images berth knows: the ECS-optimized Amazon Linux AMIs that SSM's public
//! parameters (`/aws/service/ecs/optimized-ami/...`) recommend, and that EC2's
//! DescribeImages will list. One table, so both answer the same ids.

/// An ECS-optimized AMI. Ids are `ami-` + 17 hex digits, as EC2's are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ami {
    pub id: &'static str,
    pub name: &'static str,
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
    pub description: &'static str,
    pub gpu: bool,
    /// The public parameter path under which it is recommended (after
    /// `/aws/service/ecs/optimized-ami/`).
    pub path: &'static str,
    pub os: &'static str,
    pub ecs_agent_version: &'static str,
    pub ecs_runtime_version: &'static str,
    pub source_image_name: &'static str,
    /// When it was published (ISO 8601), which is also its parameters' LastModifiedDate.
    pub creation_date: &'static str,
}

pub const AMIS: &[Ami] = &[
    Ami {
        id: "ami-0a3c14e1ddbe7f23c",
        name: "amzn2-ami-ecs-hvm-2.0.20251108-x86_64-ebs",
        architecture: "x86_64",
        description: "Amazon Linux AMI 2.0.20251108 x86_64 ECS HVM GP2",
        gpu: false,
        path: "amazon-linux-2",
        os: "Amazon Linux 2",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "amzn2-ami-minimal-hvm-2.0.20251105.0-x86_64-ebs",
        creation_date: "2025-11-10T18:22:41.000Z",
    },
    Ami {
        id: "ami-07b1e8a3f5c9d2046",
        name: "amzn2-ami-ecs-gpu-hvm-2.0.20251108-x86_64-ebs",
        architecture: "x86_64",
        description: "Amazon Linux AMI 2.0.20251108 x86_64 ECS HVM GP2 GPU",
        gpu: true,
        path: "amazon-linux-2/gpu",
        os: "Amazon Linux 2",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "amzn2-ami-minimal-hvm-2.0.20251105.0-x86_64-ebs",
        creation_date: "2025-11-10T19:03:12.000Z",
    },
    Ami {
        id: "ami-0d52f7c6b19e4a8f1",
        name: "amzn2-ami-ecs-hvm-2.0.20251108-arm64-ebs",
        architecture: "arm64",
        description: "Amazon Linux AMI 2.0.20251108 arm64 ECS HVM GP2",
        gpu: false,
        path: "amazon-linux-2/arm64",
        os: "Amazon Linux 2",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "amzn2-ami-minimal-hvm-2.0.20251105.0-arm64-ebs",
        creation_date: "2025-11-10T18:40:05.000Z",
    },
    Ami {
        id: "ami-0f6e2b9d3a71c58e4",
        name: "al2023-ami-ecs-hvm-2023.0.20251108-kernel-6.1-x86_64",
        architecture: "x86_64",
        description: "Amazon Linux AMI 2023.0.20251108 x86_64 ECS HVM EBS",
        gpu: false,
        path: "amazon-linux-2023",
        os: "Amazon Linux 2023",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "al2023-ami-minimal-2023.9.20251105.0-kernel-6.1-x86_64",
        creation_date: "2025-11-11T01:15:27.000Z",
    },
    Ami {
        id: "ami-02c8a4f1e6b3d97a5",
        name: "al2023-ami-ecs-gpu-hvm-2023.0.20251108-kernel-6.1-x86_64",
        architecture: "x86_64",
        description: "Amazon Linux AMI 2023.0.20251108 x86_64 ECS HVM EBS GPU",
        gpu: true,
        path: "amazon-linux-2023/gpu",
        os: "Amazon Linux 2023",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "al2023-ami-minimal-2023.9.20251105.0-kernel-6.1-x86_64",
        creation_date: "2025-11-11T02:07:48.000Z",
    },
    Ami {
        id: "ami-09e3d5b7c2f4a1860",
        name: "al2023-ami-ecs-hvm-2023.0.20251108-kernel-6.1-arm64",
        architecture: "arm64",
        description: "Amazon Linux AMI 2023.0.20251108 arm64 ECS HVM EBS",
        gpu: false,
        path: "amazon-linux-2023/arm64",
        os: "Amazon Linux 2023",
        ecs_agent_version: "1.99.1",
        ecs_runtime_version: "Docker version 25.0.8",
        source_image_name: "al2023-ami-minimal-2023.9.20251105.0-kernel-6.1-arm64",
        creation_date: "2025-11-11T01:39:52.000Z",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ec2_shaped_and_unique() {
        for (i, a) in AMIS.iter().enumerate() {
            let hex = a.id.strip_prefix("ami-").unwrap();
            assert_eq!(hex.len(), 17, "{}", a.id);
            assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{}", a.id);
            assert!(AMIS[..i].iter().all(|b| b.id != a.id && b.path != a.path), "{}", a.id);
            assert_eq!(a.gpu, a.path.ends_with("/gpu"));
            assert_eq!(a.architecture == "arm64", a.path.ends_with("/arm64"));
        }
    }
}
