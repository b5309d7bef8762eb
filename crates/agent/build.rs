//! Builds the static pause binary that berth's default pause image is made of, so a
//! fresh machine runs awsvpc tasks without pulling any image.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=pause/pause.c");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-static", "-Os", "-s", "-o"])
        .arg(out.join("berth-pause"))
        .arg("pause/pause.c")
        .status()
        .unwrap_or_else(|e| panic!("running {cc} to build the pause binary: {e}"));
    assert!(status.success(), "{cc} could not build a static pause binary (Debian: apt-get install gcc libc6-dev)");
}
