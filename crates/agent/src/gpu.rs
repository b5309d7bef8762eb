//! The machine's NVIDIA GPUs. Where there are some (`nvidia-smi -L` lists them, or
//! `/dev/nvidia0`... exist), a task's GPU ids are passed to Docker as device requests for
//! the NVIDIA runtime (`runtime/docker.rs`) besides `NVIDIA_VISIBLE_DEVICES`; elsewhere
//! GPUs are emulated: instances get made-up ids (`berth_model::fleet::emulated_gpu_ids`),
//! their containers only the variable, and the container instance says
//! `berth.gpu-emulated=true`.

use std::path::Path;

/// The attribute an instance with emulated GPUs carries.
pub const EMULATED_ATTRIBUTE: &str = "berth.gpu-emulated";

/// The ids of this machine's NVIDIA GPUs: their UUIDs from `nvidia-smi -L`, else the
/// indexes of `/dev/nvidiaN` devices; empty when there are none.
pub fn detect() -> Vec<String> {
    let listed = std::process::Command::new("nvidia-smi")
        .arg("-L")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| parse_nvidia_smi_list(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    device_indexes(Path::new("/dev"))
}

/// UUIDs from `nvidia-smi -L` lines: `GPU 0: Tesla T4 (UUID: GPU-5f2b...)`.
pub fn parse_nvidia_smi_list(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("GPU "))
        .filter_map(|l| {
            let start = l.find("(UUID: ")? + "(UUID: ".len();
            let end = l[start..].find(')')? + start;
            Some(l[start..end].trim().to_string())
        })
        .collect()
}

/// The N of each `nvidiaN` device in `dev`, in order.
fn device_indexes(dev: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dev) else { return vec![] };
    let mut indexes: Vec<u32> =
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("nvidia")?.parse().ok()).collect();
    indexes.sort_unstable();
    indexes.into_iter().map(|i| i.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nvidia_smi_uuids() {
        let text = "GPU 0: Tesla T4 (UUID: GPU-5f2b1c3d-aaaa-bbbb-cccc-0123456789ab)\n\
                    GPU 1: Tesla T4 (UUID: GPU-0000)\n  MIG 1g.5gb Device 0: (UUID: MIG-1)\nNo devices\n";
        assert_eq!(parse_nvidia_smi_list(text), vec!["GPU-5f2b1c3d-aaaa-bbbb-cccc-0123456789ab", "GPU-0000"]);
        assert!(parse_nvidia_smi_list("").is_empty());
    }

    #[test]
    fn reads_device_nodes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["nvidia1", "nvidia0", "nvidiactl", "nvidia-uvm", "null"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(device_indexes(dir.path()), vec!["0", "1"]);
        assert!(device_indexes(&dir.path().join("missing")).is_empty());
    }
}
