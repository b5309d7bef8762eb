//! TagResource, UntagResource and ListTagsForResource on alarms (berth's only taggable
//! CloudWatch resource).

use super::Ctx;
use super::data::Empty;
use crate::error::AwsError;
use berth_model::arn::Arn;
use berth_model::cloudwatch::alarm::validate_tags;
use berth_model::cloudwatch::{
    CwError, ListTagsForResourceInput, ListTagsForResourceOutput, Tag, TagResourceInput, UntagResourceInput,
};

/// The alarm a ResourceARN names in this account and region.
fn alarm_name<'a>(ctx: &Ctx, arn: &'a str) -> Result<&'a str, CwError> {
    let alarm = |a: Arn<'a>| a.resource.strip_prefix("alarm:").filter(|n| !n.is_empty());
    if let Some(name) = ctx.scope().resolve(arn, "cloudwatch").and_then(alarm) {
        return Ok(name);
    }
    if Arn::parse(arn).filter(|a| a.service == "cloudwatch").and_then(alarm).is_some() {
        // Another region's, partition's or account's alarm: none such here.
        return Err(not_found(arn));
    }
    let prefix = format!("arn:aws:cloudwatch:{}:{}:alarm:", ctx.scope().region, ctx.scope().account);
    Err(CwError::InvalidParameterValue(format!("The ARN {arn} is not an alarm ARN of this account ({prefix}NAME).")))
}

fn not_found(arn: &str) -> CwError {
    CwError::ResourceNotFoundException(format!("The resource {arn} does not exist."))
}

async fn change(ctx: &Ctx, arn: &str, f: impl Fn(&mut Vec<Tag>) -> Result<(), CwError>) -> Result<(), AwsError> {
    let name = alarm_name(ctx, arn)?;
    match berth_cloudwatch::update_alarm(ctx.store(), name, |a| {
        let before = a.tags.clone();
        f(&mut a.tags)?;
        Ok(a.tags != before)
    })
    .await
    {
        Err(berth_cloudwatch::AlarmsError::Cw(CwError::ResourceNotFound(_))) => Err(not_found(arn).into()),
        other => other.map(drop).map_err(Into::into),
    }
}

pub async fn tag(ctx: Ctx, input: TagResourceInput) -> Result<Empty, AwsError> {
    validate_tags(&input.tags)?;
    change(&ctx, &input.resource_arn, |tags| {
        for t in &input.tags {
            match tags.iter_mut().find(|o| o.key == t.key) {
                Some(o) => o.value = t.value.clone(),
                None => tags.push(t.clone()),
            }
        }
        validate_tags(tags)
    })
    .await?;
    Ok(Empty {})
}

pub async fn untag(ctx: Ctx, input: UntagResourceInput) -> Result<Empty, AwsError> {
    change(&ctx, &input.resource_arn, |tags| {
        tags.retain(|t| !input.tag_keys.contains(&t.key));
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

pub async fn list(ctx: Ctx, input: ListTagsForResourceInput) -> Result<ListTagsForResourceOutput, AwsError> {
    let name = alarm_name(&ctx, &input.resource_arn)?;
    let alarm = berth_cloudwatch::get_alarm(ctx.store(), name).await?.ok_or_else(|| not_found(&input.resource_arn))?;
    Ok(ListTagsForResourceOutput { tags: Some(alarm.tags) })
}
