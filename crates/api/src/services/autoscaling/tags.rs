//! Tags of groups: CreateOrUpdateTags, DeleteTags, DescribeTags (filters
//! `auto-scaling-group`, `key`, `value`, `propagate-at-launch`). Each tag names its group
//! as ResourceId; tags with PropagateAtLaunch go onto the instances launched afterwards.

use super::{filters, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::validate as rules;
use berth_model::autoscaling::*;
use std::collections::BTreeMap;

/// The tags by the group they name (ValidationError for a tag naming none).
fn by_group(tags: &[Tag]) -> Result<BTreeMap<String, Vec<Tag>>, AwsError> {
    let mut out: BTreeMap<String, Vec<Tag>> = BTreeMap::new();
    for t in tags {
        let Some(id) = t.resource_id.as_deref().filter(|r| !r.is_empty()) else {
            return Err(AsgError::validation(format!(
                "Tag '{}' must name its Auto Scaling group as ResourceId.",
                t.key
            ))
            .into());
        };
        out.entry(arn::name_or_arn(id).to_string()).or_default().push(t.clone());
    }
    Ok(out)
}

pub async fn create_or_update(ctx: Ctx, input: CreateOrUpdateTagsType) -> Result<(), AwsError> {
    let groups = by_group(&input.tags)?;
    // Check every group's tags before changing any.
    for (group, tags) in &groups {
        rules::tags_for(group, tags)?;
        ops::get_group(ctx.store(), group).await?.ok_or_else(|| AsgError::group_not_found(group))?;
    }
    for (group, tags) in &groups {
        let new = rules::tags_for(group, tags)?;
        ops::edit_live(ctx.store(), group, |g| {
            g.tags = rules::merge_tags(&g.tags, new.clone())?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

pub async fn delete(ctx: Ctx, input: DeleteTagsType) -> Result<(), AwsError> {
    for (group, tags) in by_group(&input.tags)? {
        ops::edit_live(ctx.store(), &group, |g| {
            g.tags.retain(|t| !tags.iter().any(|d| t.key.as_deref() == Some(d.key.as_str())));
            Ok(())
        })
        .await?;
    }
    Ok(())
}

pub async fn describe(ctx: Ctx, input: DescribeTagsType) -> Result<TagsType, AwsError> {
    let filters = filters(input.filters.as_deref());
    for (f, _) in &filters {
        if !["auto-scaling-group", "key", "value", "propagate-at-launch"].contains(&f.as_str()) {
            return Err(AsgError::validation(format!(
                "Filter name '{f}' is not valid: use auto-scaling-group, key, value or propagate-at-launch."
            ))
            .into());
        }
    }
    let all: Vec<TagDescription> = ops::list_groups(ctx.store())
        .await?
        .into_iter()
        .flat_map(|g| g.tags)
        .filter(|t| {
            filters.iter().all(|(f, values)| {
                let field = match f.as_str() {
                    "auto-scaling-group" => t.resource_id.clone(),
                    "key" => t.key.clone(),
                    "value" => t.value.clone(),
                    _ => t.propagate_at_launch.map(|p| p.to_string()),
                };
                field.is_some_and(|v| values.contains(&v))
            })
        })
        .collect();
    let key = |t: &TagDescription| {
        format!("{}\u{1}{}", t.resource_id.clone().unwrap_or_default(), t.key.clone().unwrap_or_default())
    };
    let (tags, next_token) = page(all, key, input.next_token.as_deref(), input.max_records, 50, 100)?;
    Ok(TagsType { tags: Some(tags), next_token })
}
