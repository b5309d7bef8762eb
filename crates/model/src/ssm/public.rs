//! AWS's public parameters that berth answers: the ECS-optimized AMIs of
//! `crate::amis` under `/aws/service/ecs/optimized-ami/<family>[/gpu|/arm64]/recommended`
//! (the JSON document AWS serves) and each of its fields one level below
//! (`recommended/image_id`...). Read-only, version 1, type String.

use crate::Timestamp;
use crate::amis::{AMIS, Ami};

pub const ROOT: &str = "/aws/service/ecs/optimized-ami/";

/// One public parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicParameter {
    pub name: String,
    pub value: String,
    pub last_modified: Timestamp,
}

/// Every public parameter, in name order.
pub fn all() -> Vec<PublicParameter> {
    let mut out: Vec<PublicParameter> = AMIS.iter().flat_map(of_ami).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The public parameter `name`, if berth serves it.
pub fn get(name: &str) -> Option<PublicParameter> {
    if !name.starts_with(ROOT) {
        return None;
    }
    AMIS.iter().flat_map(of_ami).find(|p| p.name == name)
}

fn of_ami(ami: &Ami) -> Vec<PublicParameter> {
    let base = format!("{ROOT}{}/recommended", ami.path);
    let last_modified = crate::timestamp::from_iso8601(ami.creation_date).unwrap_or(Timestamp(0.0));
    let fields: [(&str, serde_json::Value); 7] = [
        ("ecs_agent_version", ami.ecs_agent_version.into()),
        ("ecs_runtime_version", ami.ecs_runtime_version.into()),
        ("image_id", ami.id.into()),
        ("image_name", ami.name.into()),
        ("os", ami.os.into()),
        ("schema_version", 1.into()),
        ("source_image_name", ami.source_image_name.into()),
    ];
    let document: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut out = vec![PublicParameter {
        name: base.clone(),
        value: serde_json::Value::Object(document).to_string(),
        last_modified,
    }];
    for (field, value) in fields {
        let value = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out.push(PublicParameter { name: format!("{base}/{field}"), value, last_modified });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_is_the_document_and_its_fields() {
        let id = get("/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id").unwrap();
        let ami = AMIS.iter().find(|a| a.path == "amazon-linux-2/gpu").unwrap();
        assert_eq!(id.value, ami.id);
        let doc = get("/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended").unwrap();
        let v: serde_json::Value = serde_json::from_str(&doc.value).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["image_name"].as_str().unwrap(), AMIS[5].name);
        assert_eq!(get("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/schema_version").unwrap().value, "1");
        assert!(get("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/nope").is_none());
        assert!(get("/app/x").is_none());
        assert_eq!(all().len(), AMIS.len() * 8);
        assert!(all().windows(2).all(|w| w[0].name < w[1].name));
        assert!(id.last_modified.as_secs_f64() > 1.7e9);
    }
}
