//! berth's own pause image, made on the machine from a static binary built into the
//! agent (pause/pause.c), so awsvpc tasks need no image from any registry.

use crate::runtime::{Runtime, RuntimeError};

/// The agent's default `--pause-image`.
pub const DEFAULT: &str = concat!("berth/pause:", env!("CARGO_PKG_VERSION"));

static BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/berth-pause"));

/// Imports the default pause image when `image` is it (re-importing is cheap and keeps
/// the image matching this agent's build); any other image is the operator's to provide.
pub async fn ensure(runtime: &dyn Runtime, image: &str) -> Result<(), RuntimeError> {
    if image != DEFAULT {
        return Ok(());
    }
    runtime
        .import_image(DEFAULT, rootfs().map_err(|e| RuntimeError::Container(e.to_string()))?, &["/pause".into()])
        .await
}

/// A root filesystem holding only `/pause`.
fn rootfs() -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_gnu();
    header.set_size(BINARY.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_data(&mut header, "pause", BINARY)?;
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rootfs_holds_an_executable_static_pause() {
        let tar = rootfs().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap(), e.size())
            })
            .collect();
        assert_eq!(entries, vec![("pause".to_string(), 0o755, BINARY.len() as u64)]);
        assert_eq!(&BINARY[..4], b"\x7fELF");
    }
}
