//! ImportKeyPair, DescribeKeyPairs, DeleteKeyPair; CreateKeyPair is refused with a way
//! out (berth has no key generation library: import a key made with ssh-keygen). Keys
//! are stored by name, with their public key and SHA-256 fingerprint.

use super::{filters, out_tags, returned, store, tags_for, timestamp, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use base64::Engine;
use berth_ec2::{Ec2Error, ids, now_ms, resolve};
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::shapes::{self, ResourceType};
use berth_model::ec2::{KeyPairRecord, ids as prefix};
use berth_model::keys;
use berth_store::documents::{self, encode};
use berth_store::{Compare, Txn};
use sha2::Digest;

pub async fn create(_ctx: Ctx, req: shapes::CreateKeyPairRequest) -> Result<shapes::KeyPair, AwsError> {
    Err(Ec2Error::unsupported_operation(format!(
        "berth cannot generate key pairs. Make one with `ssh-keygen -t ed25519 -f {0}` and import it: \
         aws ec2 import-key-pair --key-name {0} --public-key-material fileb://{0}.pub",
        req.key_name
    ))
    .into())
}

/// An OpenSSH public key line (`ssh-ed25519 AAAA... comment`): its type and blob.
fn parse_public_key(text: &str) -> Option<(&'static str, Vec<u8>)> {
    let mut parts = text.split_whitespace();
    let kind = match parts.next()? {
        "ssh-ed25519" => "ed25519",
        "ssh-rsa" => "rsa",
        _ => return None,
    };
    let blob = base64::engine::general_purpose::STANDARD.decode(parts.next()?).ok()?;
    Some((kind, blob))
}

fn check_name(name: &str) -> Result<(), AwsError> {
    if name.is_empty() || name.len() > 255 || !name.is_ascii() {
        return Err(AwsError::ec2(
            "InvalidKeyPair.Format",
            format!("Invalid key name '{name}': 1 to 255 ASCII characters."),
        ));
    }
    Ok(())
}

pub async fn import(ctx: Ctx, req: shapes::ImportKeyPairRequest) -> Result<shapes::ImportKeyPairResult, AwsError> {
    check_name(&req.key_name)?;
    let invalid = || AwsError::ec2("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
    let material =
        base64::engine::general_purpose::STANDARD.decode(req.public_key_material.trim()).map_err(|_| invalid())?;
    let text = String::from_utf8(material).map_err(|_| invalid())?;
    let (key_type, blob) = parse_public_key(&text).ok_or_else(invalid)?;
    let fingerprint = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&blob));
    let tags = tags_for(&req.tag_specifications, ResourceType::KeyPair);
    resolve::tags(&tags)?;
    let record = KeyPairRecord {
        key_pair_id: ids::new(prefix::KEY_PAIR),
        key_name: req.key_name.clone(),
        key_type: key_type.to_string(),
        key_fingerprint: fingerprint,
        public_key: Some(text.trim().to_string()),
        create_time: now_ms(),
        tags,
    };
    let key = keys::ec2_key_pair(&record.key_name);
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), 0)).put(key, encode(&record)?);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::key_pair_duplicate(&record.key_name).into());
    }
    Ok(shapes::ImportKeyPairResult {
        key_fingerprint: Some(record.key_fingerprint),
        key_name: Some(record.key_name),
        key_pair_id: Some(record.key_pair_id),
        tags: out_tags(&record.tags),
    })
}

/// The filter names `key_field` reads.
const KEY_FILTERS: &[&str] = &["key-name", "key-pair-id", "fingerprint", "key-type"];

fn key_field(k: &KeyPairRecord, name: &str) -> Option<Vec<String>> {
    match name {
        "key-name" => Some(vec![k.key_name.clone()]),
        "key-pair-id" => Some(vec![k.key_pair_id.clone()]),
        "fingerprint" => Some(vec![k.key_fingerprint.clone()]),
        "key-type" => Some(vec![k.key_type.clone()]),
        _ => None,
    }
}

pub async fn describe(
    ctx: Ctx,
    req: shapes::DescribeKeyPairsRequest,
) -> Result<shapes::DescribeKeyPairsResult, AwsError> {
    let names = req.key_names.unwrap_or_default();
    let ids = req.key_pair_ids.unwrap_or_default();
    let filters = filters(req.filters, KEY_FILTERS)?;
    let mut out = Vec::new();
    for doc in documents::list::<KeyPairRecord>(store(&ctx), keys::EC2_KEY_PAIRS).await? {
        let k = doc.value;
        if (!names.is_empty() && !names.contains(&k.key_name)) || (!ids.is_empty() && !ids.contains(&k.key_pair_id)) {
            continue;
        }
        if matches_all(&filters, &k, &k.tags, key_field).map_err(unknown_filter)? {
            out.push(k);
        }
    }
    if let Some(missing) = names.iter().find(|n| !out.iter().any(|k| &k.key_name == *n)) {
        return Err(Ec2Error::key_pair_not_found(missing).into());
    }
    if let Some(missing) = ids.iter().find(|id| !out.iter().any(|k| &k.key_pair_id == *id)) {
        return Err(AwsError::ec2("InvalidKeyPair.NotFound", format!("The key pair ID '{missing}' does not exist")));
    }
    out.sort_by(|a, b| a.key_name.cmp(&b.key_name));
    let include_public = req.include_public_key.unwrap_or(false);
    let key_pairs = out
        .into_iter()
        .map(|k| shapes::KeyPairInfo {
            key_pair_id: Some(k.key_pair_id),
            key_type: Some(if k.key_type == "rsa" { shapes::KeyType::Rsa } else { shapes::KeyType::Ed25519 }),
            tags: out_tags(&k.tags),
            public_key: if include_public { k.public_key } else { None },
            create_time: Some(timestamp(k.create_time)),
            key_name: Some(k.key_name),
            key_fingerprint: Some(k.key_fingerprint),
        })
        .collect();
    Ok(shapes::DescribeKeyPairsResult { key_pairs: Some(key_pairs) })
}

/// Deleting a key that does not exist succeeds, as in EC2.
pub async fn delete(ctx: Ctx, req: shapes::DeleteKeyPairRequest) -> Result<serde_json::Value, AwsError> {
    let name = match (req.key_name, req.key_pair_id) {
        (Some(name), _) => Some(name),
        (None, Some(id)) => documents::list::<KeyPairRecord>(store(&ctx), keys::EC2_KEY_PAIRS)
            .await?
            .into_iter()
            .find(|d| d.value.key_pair_id == id)
            .map(|d| d.value.key_name),
        (None, None) => return Err(Ec2Error::missing_parameter("KeyName").into()),
    };
    if let Some(name) = name {
        store(&ctx).txn(Txn::new().delete(keys::ec2_key_pair(&name))).await?;
    }
    Ok(returned())
}
