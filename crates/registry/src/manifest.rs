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
}

impl Manifest {
    pub fn is_list(&self) -> bool {
        self.media_type == DOCKER_MANIFEST_LIST || self.media_type == OCI_INDEX
    }

    /// The size ECR reports for an image: its layers and config.
    pub fn size(&self, manifest_len: usize) -> u64 {
        if self.is_list() { manifest_len as u64 } else { self.blobs.iter().map(|(_, size)| size).sum() }
    }
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
            let image_config =
                ["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];
            let artifact_media_type = raw
                .artifact_type
                .clone()
                .or_else(|| (!image_config.contains(&config_type.as_str())).then_some(config_type))
                .filter(|t| !t.is_empty());
            Ok(Manifest { media_type, blobs, manifests: vec![], artifact_media_type })
        }
        DOCKER_MANIFEST_LIST | OCI_INDEX => {
            let children = raw.manifests.as_deref().ok_or("the index has no manifests")?;
            let manifests =
                children.iter().map(|d| descriptor(d).map(|(digest, _)| digest)).collect::<Result<_, _>>()?;
            Ok(Manifest { media_type, blobs: vec![], manifests, artifact_media_type: raw.artifact_type })
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
}
