//! Task-level cpu/memory strings and Fargate sizes.

use super::super::fargate::is_fargate_size;
use super::super::{normalize_cpu, normalize_memory};

#[test]
fn normalizes_cpu_as_aws_stores_it() {
    for (sent, stored) in [
        ("256", "256"),
        (" 1024 ", "1024"),
        ("0128", "128"),
        ("0.25 vCPU", "256"),
        ("0.25vcpu", "256"),
        (".25 vCPU", "256"),
        ("0.5 VCPU", "512"),
        ("1 vCPU", "1024"),
        ("1vCPU", "1024"),
        ("1.0 vCPU", "1024"),
        ("2 vcpus", "2048"),
        ("16 vCPU", "16384"),
        ("0.125 vCPU", "128"),
    ] {
        assert_eq!(normalize_cpu(sent).as_deref(), Ok(stored), "{sent:?}");
    }
}

#[test]
fn rejects_cpu_that_is_not_a_whole_positive_number_of_units() {
    for (sent, why) in [
        ("", "Use CPU units as an integer"),
        ("abc", "Use CPU units as an integer"),
        ("vCPU", "Use CPU units as an integer"),
        ("1e3", "Use CPU units as an integer"),
        ("256 units", "Use CPU units as an integer"),
        ("1 v cpu", "Use CPU units as an integer"),
        ("256.5", "Use CPU units as an integer"),
        ("+256", "Use CPU units as an integer"),
        ("0", "It must be greater than zero."),
        ("0 vCPU", "It must be greater than zero."),
        ("-256", "It must be greater than zero."),
        ("-0.5 vCPU", "It must be greater than zero."),
        ("0.3 vCPU", "It is not a whole number of CPU units (1 vCPU = 1024 units)."),
        ("99999999999 vCPU", "The maximum is 2147483647 CPU units."),
        ("3000000000", "The maximum is 2147483647 CPU units."),
    ] {
        let message = normalize_cpu(sent).expect_err(sent).0;
        assert!(message.starts_with(&format!("Invalid 'cpu' setting for task: \"{sent}\".")));
        assert!(message.ends_with(why) || message.contains(why), "{sent:?}: {message}");
    }
}

#[test]
fn normalizes_memory_as_aws_stores_it() {
    for (sent, stored) in [
        ("512", "512"),
        ("1024", "1024"),
        ("1 GB", "1024"),
        ("1GB", "1024"),
        ("1gb", "1024"),
        ("0.5 GB", "512"),
        ("0.5gb", "512"),
        ("1.5GB", "1536"),
        ("2 gb", "2048"),
        ("30 GB", "30720"),
        ("4 GiB", "4096"),
        ("512 MiB", "512"),
        ("512MB", "512"),
    ] {
        assert_eq!(normalize_memory(sent).as_deref(), Ok(stored), "{sent:?}");
    }
}

#[test]
fn rejects_memory_that_is_not_a_whole_positive_number_of_mib() {
    for (sent, why) in [
        ("", "Use MiB as an integer"),
        ("lots", "Use MiB as an integer"),
        ("1 TB", "Use MiB as an integer"),
        ("1.5", "Use MiB as an integer"),
        ("GB", "Use MiB as an integer"),
        ("0", "It must be greater than zero."),
        ("0 GB", "It must be greater than zero."),
        ("-1 GB", "It must be greater than zero."),
        ("0.0001 GB", "It is not a whole number of MiB (1 GB = 1024 MiB)."),
        ("0.5 MiB", "It is not a whole number of MiB (1 GB = 1024 MiB)."),
        ("3000000 GB", "The maximum is 2147483647 MiB."),
    ] {
        let message = normalize_memory(sent).expect_err(sent).0;
        assert!(message.starts_with(&format!("Invalid 'memory' setting for task: \"{sent}\".")));
        assert!(message.contains(why), "{sent:?}: {message}");
    }
}

#[test]
fn fargate_sizes_follow_the_aws_table() {
    let valid = [
        (256, 512),
        (256, 1024),
        (256, 2048),
        (512, 1024),
        (512, 4096),
        (1024, 2048),
        (1024, 5120),
        (1024, 8192),
        (2048, 4096),
        (2048, 16384),
        (4096, 8192),
        (4096, 30720),
        (8192, 16384),
        (8192, 20480),
        (8192, 61440),
        (16384, 32768),
        (16384, 40960),
        (16384, 122880),
    ];
    for (cpu, memory) in valid {
        assert!(is_fargate_size(cpu, memory), "{cpu} CPU, {memory} memory");
    }
    let invalid = [
        (256, 256),
        (256, 3072),
        (256, 4096),
        (512, 512),
        (512, 5120),
        (512, 1536),
        (1024, 1024),
        (1024, 9216),
        (2048, 17408),
        (4096, 31744),
        (8192, 17408),
        (8192, 65536),
        (16384, 36864),
        (16384, 131072),
        (128, 512),
        (3072, 8192),
        (32768, 65536),
    ];
    for (cpu, memory) in invalid {
        assert!(!is_fargate_size(cpu, memory), "{cpu} CPU, {memory} memory");
    }
}
