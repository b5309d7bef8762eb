//! The root credential at startup: created (or taken from BERTH_ROOT_ACCESS_KEY_ID /
//! BERTH_ROOT_SECRET_ACCESS_KEY) on first start, written to `<data-dir>/credentials` in
//! the AWS shared-credentials format (profile `berth`, mode 0600), reused afterwards.

use anyhow::Context;
use berth_api::Api;
use berth_api::auth::keyring;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub const PROFILE: &str = "berth";

pub async fn ensure_root(api: &Api, data_dir: &Path) -> anyhow::Result<keyring::RootCredential> {
    let given = match (std::env::var("BERTH_ROOT_ACCESS_KEY_ID"), std::env::var("BERTH_ROOT_SECRET_ACCESS_KEY")) {
        (Ok(id), Ok(secret)) => Some((id, secret)),
        (Err(_), Err(_)) => None,
        _ => anyhow::bail!("set both BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY, or neither"),
    };
    let root = keyring::ensure_root(&api.keyring, api.store.as_ref(), &api.scope, given)
        .await
        .context("setting up the root credential")?;
    let path = data_dir.join("credentials");
    let contents = format!(
        "[{PROFILE}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        root.access_key_id, root.secret_access_key
    );
    let current = std::fs::read_to_string(&path).ok();
    if current.as_deref() != Some(contents.as_str()) {
        write_private(&path, &contents).with_context(|| format!("writing {}", path.display()))?;
    }
    let abs = std::fs::canonicalize(&path).unwrap_or(path);
    if root.changed {
        // Printed once, when the credential is new, so a person can paste it; never logged.
        println!("berth: root credentials written to {} (profile {PROFILE}). To use them:", abs.display());
        println!("  export AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE={PROFILE}", abs.display());
        println!(
            "  # or: export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
            root.access_key_id, root.secret_access_key
        );
    } else {
        println!("berth: root credentials in {} (profile {PROFILE})", abs.display());
    }
    Ok(root)
}

/// Writes the file with mode 0600 from the start (never briefly world-readable), then
/// renames it into place so a crash leaves the old file or the new one.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
