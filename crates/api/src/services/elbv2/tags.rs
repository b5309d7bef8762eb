//! AddTags, RemoveTags, DescribeTags on load balancers, target groups, listeners and
//! rules: each record keeps its tags beside its shape (the `tags` member).

use super::{Ctx, edit_list, read_list, required};
use crate::error::AwsError;
use berth_model::elbv2::*;

pub async fn add(ctx: Ctx, input: AddTagsInput) -> Result<AddTagsOutput, AwsError> {
    if input.resource_arns.is_empty() || input.tags.is_empty() {
        return Err(AwsError::validation("ResourceArns and Tags must each have at least one member"));
    }
    for (i, t) in input.tags.iter().enumerate() {
        required(&t.key, "Tags.Key")?;
        if input.tags[..i].iter().any(|o| o.key == t.key) {
            return Err(AwsError::elbv2("DuplicateTagKeys", format!("Tag key '{}' is given twice", t.key)));
        }
    }
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
