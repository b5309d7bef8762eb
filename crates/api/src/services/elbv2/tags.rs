//! AddTags, RemoveTags, DescribeTags on load balancers, target groups, listeners and
//! rules: each record keeps its tags beside its shape (the `tags` member).

use super::{Ctx, edit_list, read_list, required};
use crate::error::AwsError;
use berth_model::elbv2::*;
use berth_model::tags;

pub async fn add(ctx: Ctx, input: AddTagsInput) -> Result<AddTagsOutput, AwsError> {
    if input.resource_arns.is_empty() || input.tags.is_empty() {
        return Err(AwsError::validation("ResourceArns and Tags must each have at least one member"));
    }
    for t in &input.tags {
        required(&t.key, "Tags.Key")?;
    }
    tags::check(input.tags.iter().map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or_default()))).map_err(|e| {
        match e {
            tags::TagError::Duplicate(_) => AwsError::elbv2("DuplicateTagKeys", e.to_string()),
            tags::TagError::TooMany(_) => AwsError::elbv2("TooManyTags", e.to_string()),
            _ => AwsError::validation(e.to_string()),
        }
    })?;
    for resource in &input.resource_arns {
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
    Ok(AddTagsOutput {})
}

pub async fn remove(ctx: Ctx, input: RemoveTagsInput) -> Result<RemoveTagsOutput, AwsError> {
    for resource in &input.resource_arns {
        edit_list(&ctx, resource, "tags", |tags: &mut Vec<Tag>| {
            tags.retain(|t| !input.tag_keys.contains(&t.key));
            Ok(())
        })
        .await?;
    }
    Ok(RemoveTagsOutput {})
}

pub async fn describe(ctx: Ctx, input: DescribeTagsInput) -> Result<DescribeTagsOutput, AwsError> {
    if input.resource_arns.is_empty() || input.resource_arns.len() > 20 {
        return Err(AwsError::validation("ResourceArns must name 1 to 20 resources"));
    }
    let mut out = Vec::new();
    for resource in &input.resource_arns {
        let tags = read_list(&ctx, resource, "tags").await?;
        out.push(TagDescription { resource_arn: Some(resource.clone()), tags: Some(tags) });
    }
    Ok(DescribeTagsOutput { tag_descriptions: Some(out) })
}
