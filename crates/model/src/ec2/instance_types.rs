//! The instance types berth offers, with their real sizes (as DescribeInstanceTypes
//! reports them): vCPUs, memory, GPUs and network performance. One table, read by EC2's
//! API, by the fleet (what a host registers with ECS) and by placement.

/// The GPUs of an instance type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gpus {
    pub count: u32,
    pub manufacturer: &'static str,
    pub name: &'static str,
    /// Memory of one GPU.
    pub memory_mib: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceType {
    pub name: &'static str,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub gpus: Option<Gpus>,
    pub network_performance: &'static str,
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
    /// Burstable (`t*`) types.
    pub burstable: bool,
}

impl InstanceType {
    /// Physical cores: x86 types with more than one vCPU run two threads per core.
    pub fn default_cores(&self) -> u32 {
        (self.vcpus / self.threads_per_core()).max(1)
    }

    pub fn threads_per_core(&self) -> u32 {
        if self.architecture == "arm64" || self.vcpus == 1 { 1 } else { 2 }
    }

    pub fn gpu_count(&self) -> u32 {
        self.gpus.map_or(0, |g| g.count)
    }

    /// The type's family (`g4dn` of `g4dn.xlarge`).
    pub fn family(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(family, _)| family)
    }
}

const fn t(name: &'static str, vcpus: u32, memory_mib: u64, net: &'static str, arch: &'static str) -> InstanceType {
    InstanceType { name, vcpus, memory_mib, gpus: None, network_performance: net, architecture: arch, burstable: true }
}

const fn x(name: &'static str, vcpus: u32, memory_mib: u64, net: &'static str) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        memory_mib,
        gpus: None,
        network_performance: net,
        architecture: "x86_64",
        burstable: false,
    }
}

const fn gpu(name: &'static str, vcpus: u32, memory_mib: u64, net: &'static str, gpus: Gpus) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        memory_mib,
        gpus: Some(gpus),
        network_performance: net,
        architecture: "x86_64",
        burstable: false,
    }
}

const fn nvidia(count: u32, name: &'static str, memory_mib: u64) -> Gpus {
    Gpus { count, manufacturer: "NVIDIA", name, memory_mib }
}

const T4: u64 = 16384;
const A10G: u64 = 24576;
const V100: u64 = 16384;
const A100: u64 = 40960;

/// What RunInstances launches when no type is named, as EC2 does.
pub const DEFAULT_INSTANCE_TYPE: &str = "m1.small";

pub const INSTANCE_TYPES: &[InstanceType] = &[
    x("m1.small", 1, 1740, "Low"),
    t("t3.nano", 2, 512, "Up to 5 Gigabit", "x86_64"),
    t("t3.micro", 2, 1024, "Up to 5 Gigabit", "x86_64"),
    t("t3.small", 2, 2048, "Up to 5 Gigabit", "x86_64"),
    t("t3.medium", 2, 4096, "Up to 5 Gigabit", "x86_64"),
    t("t3.large", 2, 8192, "Up to 5 Gigabit", "x86_64"),
    t("t3.xlarge", 4, 16384, "Up to 5 Gigabit", "x86_64"),
    t("t3.2xlarge", 8, 32768, "Up to 5 Gigabit", "x86_64"),
    t("t4g.nano", 2, 512, "Up to 5 Gigabit", "arm64"),
    t("t4g.micro", 2, 1024, "Up to 5 Gigabit", "arm64"),
    t("t4g.small", 2, 2048, "Up to 5 Gigabit", "arm64"),
    t("t4g.medium", 2, 4096, "Up to 5 Gigabit", "arm64"),
    t("t4g.large", 2, 8192, "Up to 5 Gigabit", "arm64"),
    t("t4g.xlarge", 4, 16384, "Up to 5 Gigabit", "arm64"),
    t("t4g.2xlarge", 8, 32768, "Up to 5 Gigabit", "arm64"),
    x("m5.large", 2, 8192, "Up to 10 Gigabit"),
    x("m5.xlarge", 4, 16384, "Up to 10 Gigabit"),
    x("m5.2xlarge", 8, 32768, "Up to 10 Gigabit"),
    x("m5.4xlarge", 16, 65536, "Up to 10 Gigabit"),
    x("m5.8xlarge", 32, 131072, "10 Gigabit"),
    x("m5.12xlarge", 48, 196608, "12 Gigabit"),
    x("m5.16xlarge", 64, 262144, "20 Gigabit"),
    x("m5.24xlarge", 96, 393216, "25 Gigabit"),
    x("m6i.large", 2, 8192, "Up to 12.5 Gigabit"),
    x("m6i.xlarge", 4, 16384, "Up to 12.5 Gigabit"),
    x("m6i.2xlarge", 8, 32768, "Up to 12.5 Gigabit"),
    x("m6i.4xlarge", 16, 65536, "Up to 12.5 Gigabit"),
    x("m6i.8xlarge", 32, 131072, "12.5 Gigabit"),
    x("m6i.12xlarge", 48, 196608, "18.75 Gigabit"),
    x("m6i.16xlarge", 64, 262144, "25 Gigabit"),
    x("m6i.24xlarge", 96, 393216, "37.5 Gigabit"),
    x("m6i.32xlarge", 128, 524288, "50 Gigabit"),
    x("c5.large", 2, 4096, "Up to 10 Gigabit"),
    x("c5.xlarge", 4, 8192, "Up to 10 Gigabit"),
    x("c5.2xlarge", 8, 16384, "Up to 10 Gigabit"),
    x("c5.4xlarge", 16, 32768, "Up to 10 Gigabit"),
    x("c5.9xlarge", 36, 73728, "12 Gigabit"),
    x("c5.12xlarge", 48, 98304, "12 Gigabit"),
    x("c5.18xlarge", 72, 147456, "25 Gigabit"),
    x("c5.24xlarge", 96, 196608, "25 Gigabit"),
    x("r5.large", 2, 16384, "Up to 10 Gigabit"),
    x("r5.xlarge", 4, 32768, "Up to 10 Gigabit"),
    x("r5.2xlarge", 8, 65536, "Up to 10 Gigabit"),
    x("r5.4xlarge", 16, 131072, "Up to 10 Gigabit"),
    x("r5.8xlarge", 32, 262144, "10 Gigabit"),
    x("r5.12xlarge", 48, 393216, "12 Gigabit"),
    x("r5.16xlarge", 64, 524288, "20 Gigabit"),
    x("r5.24xlarge", 96, 786432, "25 Gigabit"),
    gpu("g4dn.xlarge", 4, 16384, "Up to 25 Gigabit", nvidia(1, "T4", T4)),
    gpu("g4dn.2xlarge", 8, 32768, "Up to 25 Gigabit", nvidia(1, "T4", T4)),
    gpu("g4dn.4xlarge", 16, 65536, "Up to 25 Gigabit", nvidia(1, "T4", T4)),
    gpu("g4dn.8xlarge", 32, 131072, "50 Gigabit", nvidia(1, "T4", T4)),
    gpu("g4dn.12xlarge", 48, 196608, "50 Gigabit", nvidia(4, "T4", T4)),
    gpu("g4dn.16xlarge", 64, 262144, "50 Gigabit", nvidia(1, "T4", T4)),
    gpu("g4dn.metal", 96, 393216, "100 Gigabit", nvidia(8, "T4", T4)),
    gpu("g5.xlarge", 4, 16384, "Up to 10 Gigabit", nvidia(1, "A10G", A10G)),
    gpu("g5.2xlarge", 8, 32768, "Up to 10 Gigabit", nvidia(1, "A10G", A10G)),
    gpu("g5.4xlarge", 16, 65536, "Up to 25 Gigabit", nvidia(1, "A10G", A10G)),
    gpu("g5.8xlarge", 32, 131072, "25 Gigabit", nvidia(1, "A10G", A10G)),
    gpu("g5.12xlarge", 48, 196608, "40 Gigabit", nvidia(4, "A10G", A10G)),
    gpu("g5.16xlarge", 64, 262144, "25 Gigabit", nvidia(1, "A10G", A10G)),
    gpu("g5.24xlarge", 96, 393216, "50 Gigabit", nvidia(4, "A10G", A10G)),
    gpu("g5.48xlarge", 192, 786432, "100 Gigabit", nvidia(8, "A10G", A10G)),
    gpu("p3.2xlarge", 8, 62464, "Up to 10 Gigabit", nvidia(1, "V100", V100)),
    gpu("p3.8xlarge", 32, 249856, "10 Gigabit", nvidia(4, "V100", V100)),
    gpu("p3.16xlarge", 64, 499712, "25 Gigabit", nvidia(8, "V100", V100)),
    gpu("p4d.24xlarge", 96, 1179648, "4x 100 Gigabit", nvidia(8, "A100", A100)),
];

/// The instance type of that name, if berth offers it.
pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_families_are_covered() {
        let mut names: Vec<_> = INSTANCE_TYPES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), INSTANCE_TYPES.len());
        for family in ["t3", "m5", "m6i", "c5", "r5", "g4dn", "g5", "p3", "p4d"] {
            assert!(INSTANCE_TYPES.iter().any(|t| t.family() == family), "{family}");
        }
    }

    #[test]
    fn lookup_reports_real_sizes() {
        let g = lookup("g4dn.xlarge").unwrap();
        assert_eq!((g.vcpus, g.memory_mib, g.gpu_count()), (4, 16384, 1));
        assert_eq!(g.gpus.unwrap().name, "T4");
        assert_eq!(lookup("p4d.24xlarge").unwrap().gpu_count(), 8);
        assert_eq!(lookup("t3.micro").unwrap().default_cores(), 1);
        assert!(lookup("t3.enormous").is_none());
    }
}
