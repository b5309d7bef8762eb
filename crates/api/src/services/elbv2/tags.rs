//! AddTags, RemoveTags, DescribeTags on load balancers, target groups, listeners and
//! rules: each record keeps its tags beside its shape (the `tags` member).

use super::{Ctx, edit_list, read_list, required, to_value};
use crate::error::AwsError;
use berth_model::elbv2::{Tag, TagDescription};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct AddInput {
    #[serde(rename = "ResourceArns", default)]
    arns: Vec<String>,
    #[serde(rename = "Tags", default)]
    tags: Vec<Tag>,
}

pub async fn add(ctx: Ctx, input: AddInput) -> Result<Value, AwsError> {
    if input.arns.is_empty() || input.tags.is_empty() {
        return Err(AwsError::validation("ResourceArns and Tags must each have at least one member"));
    }
    for (i, t) in input.tags.iter().enumerate() {
        required(&t.key, "Tags.Key")?;
        if input.tags[..i].iter().any(|o| o.key == t.key) {
            return Err(AwsError::elbv2("DuplicateTagKeys", format!("Tag key '{}' is given twice", t.key)));
        }
    }
    for resource in &input.arns {
        edit_list(&ctx, resource, "tags", |tags: &mut Vec<Tag>| {
            for t in &input.tags {
                match tags.iter_mut().find(|o| o.key == t.key) {
                    Some(o) => o.value = t.value.clone(),
                    None => tags.push(t.clone()),
                }
            }
            if tags.len() > 50 {
                return Err(AwsError::elbv2("TooManyTags", "A resource can have at most 50 tags"));
            }
            Ok(())
        })
        .await?;
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct RemoveInput {
    #[serde(rename = "ResourceArns", default)]
    arns: Vec<String>,
    #[serde(rename = "TagKeys", default)]
    keys: Vec<String>,
}

pub async fn remove(ctx: Ctx, input: RemoveInput) -> Result<Value, AwsError> {
    for resource in &input.arns {
        edit_list(&ctx, resource, "tags", |tags: &mut Vec<Tag>| {
            tags.retain(|t| !input.keys.contains(&t.key));
            Ok(())
        })
        .await?;
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct DescribeInput {
    #[serde(rename = "ResourceArns", default)]
    arns: Vec<String>,
}

pub async fn describe(ctx: Ctx, input: DescribeInput) -> Result<Value, AwsError> {
    if input.arns.is_empty() || input.arns.len() > 20 {
        return Err(AwsError::validation("ResourceArns must name 1 to 20 resources"));
    }
    let mut out = Vec::new();
    for resource in &input.arns {
        let tags = read_list(&ctx, resource, "tags").await?;
        out.push(TagDescription { resource_arn: resource.clone(), tags });
    }
    Ok(json!({"TagDescriptions": to_value(&out)?}))
}
