//! Manifests: which kinds are accepted, what they reference, and the size ECR reports.
//! A manifest is kept as the exact bytes received; this module only reads it.

use crate::digest::Digest;
use serde::Deserialize;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// What a valid manifest refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    /// Config and layers (image manifests); must be stored blobs.
    pub blobs: Vec<(Digest, u64)>,
    /// Child manifests (lists and indexes); must be images of the same repository.
    pub manifests: Vec<Digest>,
    /// The OCI `artifactType` or config media type, when it is not a plain image.
    pub artifact_media_type: Option<String>,
    /// The layers' media types, in the order of `blobs[1..]` (image manifests).
    pub layer_media_types: Vec<String>,
}

/// The image configuration media types whose `rootfs.diff_ids` the layers must match.
const IMAGE_CONFIGS: [&str; 2] =
    ["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];

impl Manifest {
    /// Whether `blobs[0]` is an image configuration (not an artifact's config).
    pub fn has_image_config(&self) -> bool {
        !self.is_list() && self.artifact_media_type.is_none()
    }

    /// Checks the manifest against what the registry stores for it: `stored[i]` is the
    /// size of `blobs[i]` on disk (None: not stored), `config` the config blob's bytes
    /// when it is an image configuration. Each descriptor's size must be its blob's;
    /// an image's layers must be as many as its config's `rootfs.diff_ids`, and an
    /// uncompressed layer (whose digest is its diff_id) must be at its diff_id's place.
    /// (Distribution's errors: a missing blob is MANIFEST_BLOB_UNKNOWN, the rest MANIFEST_INVALID.)
    pub fn check_blobs(&self, stored: &[Option<u64>], config: Option<&[u8]>) -> Result<(), Inconsistent> {
        for ((digest, size), on_disk) in self.blobs.iter().zip(stored) {
            match on_disk {
                None => return Err(Inconsistent::BlobUnknown(digest.clone())),
                Some(actual) if actual != size => {
                    return Err(Inconsistent::Invalid(format!(
                        "the descriptor of {digest} says {size} bytes; the stored blob has {actual}"
                    )));
                }
                Some(_) => {}
            }
        }
        let Some(config) = config else { return Ok(()) };
        let diff_ids = diff_ids(config).map_err(Inconsistent::Invalid)?;
        let layers = &self.blobs[1.min(self.blobs.len())..];
        if layers.len() != diff_ids.len() {
            return Err(Inconsistent::Invalid(format!(
                "the manifest has {} layers; its image configuration's rootfs has {} diff_ids",
                layers.len(),
                diff_ids.len()
            )));
        }
        for (i, (((digest, _), media_type), diff_id)) in
            layers.iter().zip(&self.layer_media_types).zip(&diff_ids).enumerate()
        {
            if is_uncompressed(media_type) && digest.as_str() != diff_id {
                return Err(Inconsistent::Invalid(format!(
                    "layer {i} ({digest}) is uncompressed, so its diff_id must be its digest; the configuration says {diff_id}"
                )));
            }
        }
        Ok(())
    }

    pub fn is_list(&self) -> bool {
        self.media_type == DOCKER_MANIFEST_LIST || self.media_type == OCI_INDEX
    }

    /// The size ECR reports for an image: its layers and config.
    pub fn size(&self, manifest_len: usize) -> u64 {
        if self.is_list() { manifest_len as u64 } else { self.blobs.iter().map(|(_, size)| size).sum() }
    }
}

/// How a manifest disagrees with the blobs it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistent {
    BlobUnknown(Digest),
    Invalid(String),
}

/// A layer stored as a plain tar: its digest is its diff_id.
fn is_uncompressed(media_type: &str) -> bool {
    matches!(media_type, "application/vnd.oci.image.layer.v1.tar" | "application/vnd.docker.image.rootfs.diff.tar")
}

/// An image configuration's `rootfs.diff_ids`.
pub fn diff_ids(config: &[u8]) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Config {
        rootfs: RootFs,
    }
    #[derive(Deserialize)]
    struct RootFs {
        diff_ids: Vec<String>,
    }
    let c: Config =
        serde_json::from_slice(config).map_err(|e| format!("the image configuration has no valid rootfs: {e}"))?;
    Ok(c.rootfs.diff_ids)
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    size: Option<i64>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<i64>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

/// Parses and checks a manifest; `content_type` is the media type the client declared
/// (Content-Type header or PutImage's imageManifestMediaType), else the manifest's own
/// `mediaType` (or its shape, for OCI manifests that omit it) decides.
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, String> {
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not valid JSON: {e}"))?;
    if raw.schema_version != Some(2) {
        return Err("only schemaVersion 2 manifests are supported".into());
    }
    let declared = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    let media_type = match (declared, raw.media_type.as_deref()) {
        (Some(d), Some(m)) if d != m => {
            return Err(format!("the declared media type {d} differs from the manifest's mediaType {m}"));
        }
        (Some(d), _) => d.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) if raw.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };
    let descriptor = |d: &Descriptor| -> Result<(Digest, u64), String> {
        let digest = Digest::parse(&d.digest).ok_or_else(|| format!("invalid digest {:?}", d.digest))?;
        let size = d.size.filter(|s| *s >= 0).ok_or_else(|| format!("descriptor {} has no valid size", d.digest))?;
        Ok((digest, size as u64))
    };
    match media_type.as_str() {
        DOCKER_MANIFEST | OCI_MANIFEST => {
            let config = raw.config.as_ref().ok_or("the manifest has no config")?;
            let layers = raw.layers.as_deref().unwrap_or_default();
            let mut blobs = vec![descriptor(config)?];
            for layer in layers {
                blobs.push(descriptor(layer)?);
            }
            let config_type = config.media_type.clone().unwrap_or_default();
            let artifact_media_type = raw
                .artifact_type
                .clone()
                .or_else(|| (!IMAGE_CONFIGS.contains(&config_type.as_str())).then_some(config_type))
                .filter(|t| !t.is_empty());
            let layer_media_types = layers.iter().map(|l| l.media_type.clone().unwrap_or_default()).collect();
            Ok(Manifest { media_type, blobs, manifests: vec![], artifact_media_type, layer_media_types })
        }
        DOCKER_MANIFEST_LIST | OCI_INDEX => {
            let children = raw.manifests.as_deref().ok_or("the index has no manifests")?;
            let manifests =
                children.iter().map(|d| descriptor(d).map(|(digest, _)| digest)).collect::<Result<_, _>>()?;
            Ok(Manifest {
                media_type,
                blobs: vec![],
                manifests,
                artifact_media_type: raw.artifact_type,
                layer_media_types: vec![],
            })
        }
        other => Err(format!("unsupported manifest media type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        Digest::of(s.as_bytes()).to_string()
    }

    #[test]
    fn reads_a_docker_manifest() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{}","size":10}},"layers":[{{"mediaType":"x","digest":"{}","size":100}}]}}"#,
            d("c"),
            d("l")
        );
        let parsed = parse(m.as_bytes(), Some(DOCKER_MANIFEST)).unwrap();
        assert_eq!(parsed.media_type, DOCKER_MANIFEST);
        assert_eq!(parsed.blobs.len(), 2);
        assert_eq!(parsed.size(m.len()), 110);
        assert_eq!(parsed.artifact_media_type, None);
        assert!(!parsed.is_list());
        // No Content-Type: the manifest's own mediaType decides.
        assert_eq!(parse(m.as_bytes(), None).unwrap().media_type, DOCKER_MANIFEST);
        assert!(parse(m.as_bytes(), Some(OCI_MANIFEST)).unwrap_err().contains("differs"));
    }

    #[test]
    fn reads_an_index_and_refuses_bad_manifests() {
        let idx = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":"{}","size":5}}]}}"#, d("m"));
        let parsed = parse(idx.as_bytes(), None).unwrap();
        assert_eq!(parsed.media_type, OCI_INDEX);
        assert_eq!(parsed.manifests, vec![Digest::of(b"m")]);
        assert!(parsed.is_list());
        assert!(parse(b"not json", None).is_err());
        assert!(parse(br#"{"schemaVersion":1}"#, None).is_err());
        assert!(parse(br#"{"schemaVersion":2,"config":{"digest":"sha256:zz","size":1}}"#, None).is_err());
        assert!(parse(br#"{"schemaVersion":2,"mediaType":"text/plain"}"#, None).is_err());
    }

    fn image(layers: &[(&str, &str, u64)]) -> String {
        let layers: Vec<String> = layers
            .iter()
            .map(|(t, content, size)| format!(r#"{{"mediaType":"{t}","digest":"{}","size":{size}}}"#, d(content)))
            .collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{}","digest":"{}","size":2}},"layers":[{}]}}"#,
            IMAGE_CONFIGS[1],
            d("cfg"),
            layers.join(",")
        )
    }

    fn config(diff_ids: &[&str]) -> Vec<u8> {
        let ids: Vec<String> = diff_ids.iter().map(|c| format!("\"{}\"", d(c))).collect();
        format!(r#"{{"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#, ids.join(",")).into_bytes()
    }

    const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    const GZ: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    #[test]
    fn a_manifest_must_match_its_blobs() {
        let m = parse(image(&[(TAR, "a", 1), (GZ, "b", 7)]).as_bytes(), None).unwrap();
        assert!(m.has_image_config());
        let sizes = [Some(2), Some(1), Some(7)];
        assert_eq!(m.check_blobs(&sizes, Some(&config(&["a", "b-uncompressed"]))), Ok(()));
        // A blob that is not stored, or stored with another size.
        assert_eq!(m.check_blobs(&[Some(2), None, Some(7)], None), Err(Inconsistent::BlobUnknown(Digest::of(b"a"))));
        assert!(
            matches!(m.check_blobs(&[Some(2), Some(1), Some(8)], None), Err(Inconsistent::Invalid(e)) if e.contains("7 bytes"))
        );
        // One layer for a two-layer configuration, or three.
        for ids in [&["a"][..], &["a", "b", "c"]] {
            let e = m.check_blobs(&sizes, Some(&config(ids))).unwrap_err();
            assert!(matches!(&e, Inconsistent::Invalid(m) if m.contains("diff_ids")), "{e:?}");
        }
        // An uncompressed layer out of its diff_id's place (the layers reordered).
        let e = m.check_blobs(&sizes, Some(&config(&["x", "a"]))).unwrap_err();
        assert!(matches!(&e, Inconsistent::Invalid(m) if m.contains("layer 0")), "{e:?}");
        assert!(m.check_blobs(&sizes, Some(b"{}")).is_err());
        assert!(m.check_blobs(&sizes, Some(b"not json")).is_err());
    }
}
