//! CreateTags, DeleteTags and DescribeTags over every taggable EC2 resource berth keeps,
//! found by the prefix of its id (`i-`, `vpc-`, `subnet-`, `sg-`, `lt-`, `key-`). All the
//! resources are checked before any is changed.

use super::{filters, page, returned, store, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::{Ec2Error, resolve};
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::{
    InstanceRecord, KeyPairRecord, LaunchTemplateRecord, SecurityGroupRecord, SubnetRecord, Tag, VpcRecord, ids, shapes,
};
use berth_model::keys;
use berth_store::documents::{self, Change};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A stored record that carries tags.
trait Tagged: Serialize + DeserializeOwned {
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
}

macro_rules! tagged {
    ($($t:ty),*) => { $(impl Tagged for $t { fn tags_mut(&mut self) -> &mut Vec<Tag> { &mut self.tags } })* };
}
tagged!(InstanceRecord, VpcRecord, SubnetRecord, SecurityGroupRecord, LaunchTemplateRecord, KeyPairRecord);

/// Where a resource id lives, and its ResourceType.
enum Resource {
    Instance(String),
    Vpc(String),
    Subnet(String),
    SecurityGroup(String),
    LaunchTemplate(String),
    KeyPair(String),
}

async fn locate(ctx: &Ctx, id: &str) -> Result<Resource, AwsError> {
    let exists = |key: String| async move { Ok::<_, AwsError>(store(ctx).get(&key).await?.is_some()) };
    let not_found =
        |code: &'static str, what: &str| AwsError::ec2(code, format!("The {what} ID '{id}' does not exist"));
    let (resource, found) = if ids::well_formed(ids::INSTANCE, id) {
        (Resource::Instance(keys::ec2_instance(id)), exists(keys::ec2_instance(id)).await?)
    } else if ids::well_formed(ids::VPC, id) {
        (Resource::Vpc(keys::ec2_vpc(id)), exists(keys::ec2_vpc(id)).await?)
    } else if ids::well_formed(ids::SUBNET, id) {
        (Resource::Subnet(keys::ec2_subnet(id)), exists(keys::ec2_subnet(id)).await?)
    } else if ids::well_formed(ids::SECURITY_GROUP, id) {
        (Resource::SecurityGroup(keys::ec2_security_group(id)), exists(keys::ec2_security_group(id)).await?)
    } else if ids::well_formed(ids::LAUNCH_TEMPLATE, id) {
        (Resource::LaunchTemplate(keys::ec2_launch_template(id)), exists(keys::ec2_launch_template(id)).await?)
    } else if ids::well_formed(ids::KEY_PAIR, id) {
        let name = documents::list::<KeyPairRecord>(store(ctx), keys::EC2_KEY_PAIRS)
            .await?
            .into_iter()
            .find(|d| d.value.key_pair_id == id)
            .map(|d| d.value.key_name);
        (Resource::KeyPair(name.as_deref().map(keys::ec2_key_pair).unwrap_or_default()), name.is_some())
    } else {
        return Err(AwsError::ec2("InvalidID", format!("The ID '{id}' is not valid")));
    };
    if found {
        return Ok(resource);
    }
    Err(match resource {
        Resource::Instance(_) => Ec2Error::instances_not_found(&[id.to_string()]).into(),
        Resource::Vpc(_) => Ec2Error::vpc_not_found(id).into(),
        Resource::Subnet(_) => Ec2Error::subnet_not_found(id).into(),
        Resource::SecurityGroup(_) => Ec2Error::group_not_found(id).into(),
        Resource::LaunchTemplate(_) => Ec2Error::launch_template_id_not_found(id).into(),
        Resource::KeyPair(_) => not_found("InvalidKeyPair.NotFound", "key pair"),
    })
}

async fn retag<T: Tagged>(
    ctx: &Ctx,
    key: &str,
    change: &(dyn Fn(&mut Vec<Tag>) -> Result<(), AwsError> + Sync),
) -> Result<(), AwsError> {
    documents::modify(store(ctx), key, |current: Option<T>| {
        let Some(mut record) = current else { return Ok((Change::Keep, ())) };
        change(record.tags_mut())?;
        Ok((Change::Put(record), ()))
    })
    .await
}

async fn apply(
    ctx: &Ctx,
    resources: &[String],
    change: &(dyn Fn(&mut Vec<Tag>) -> Result<(), AwsError> + Sync),
) -> Result<(), AwsError> {
    let mut located = Vec::new();
    for id in resources {
        located.push(locate(ctx, id).await?);
    }
    for resource in located {
        match resource {
            Resource::Instance(k) => retag::<InstanceRecord>(ctx, &k, change).await?,
            Resource::Vpc(k) => retag::<VpcRecord>(ctx, &k, change).await?,
            Resource::Subnet(k) => retag::<SubnetRecord>(ctx, &k, change).await?,
            Resource::SecurityGroup(k) => retag::<SecurityGroupRecord>(ctx, &k, change).await?,
            Resource::LaunchTemplate(k) => retag::<LaunchTemplateRecord>(ctx, &k, change).await?,
            Resource::KeyPair(k) => retag::<KeyPairRecord>(ctx, &k, change).await?,
        }
    }
    Ok(())
}

pub async fn create(ctx: Ctx, req: shapes::CreateTagsRequest) -> Result<serde_json::Value, AwsError> {
    let new = super::in_tags(req.tags);
    resolve::tags(&new)?;
    let change = |tags: &mut Vec<Tag>| {
        for tag in &new {
            tags.retain(|t| t.key != tag.key);
            tags.push(tag.clone());
        }
        resolve::tags(tags).map_err(AwsError::from)
    };
    apply(&ctx, &req.resources, &change).await?;
    Ok(returned())
}

/// DeleteTags: a tag given with a value is removed only when the value matches; without
/// tags, every tag goes.
pub async fn delete(ctx: Ctx, req: shapes::DeleteTagsRequest) -> Result<serde_json::Value, AwsError> {
    let gone = req.tags;
    let change = |tags: &mut Vec<Tag>| {
        match &gone {
            None => tags.clear(),
            Some(gone) => tags.retain(|t| {
                !gone
                    .iter()
                    .any(|g| g.key.as_deref() == Some(t.key.as_str()) && g.value.as_ref().is_none_or(|v| *v == t.value))
            }),
        }
        Ok(())
    };
    apply(&ctx, &req.resources, &change).await?;
    Ok(returned())
}

struct Described {
    resource_id: String,
    resource_type: shapes::ResourceType,
    tag: Tag,
}

/// The filter names `tag_field` reads (`key` and `value` besides the shared tag filters).
const TAG_FILTERS: &[&str] = &["resource-id", "resource-type", "key", "value"];

fn tag_field(d: &Described, name: &str) -> Option<Vec<String>> {
    match name {
        "resource-id" => Some(vec![d.resource_id.clone()]),
        "resource-type" => Some(vec![d.resource_type.as_str().to_string()]),
        "key" => Some(vec![d.tag.key.clone()]),
        "value" => Some(vec![d.tag.value.clone()]),
        _ => None,
    }
}

async fn tags_of<T: DeserializeOwned>(
    ctx: &Ctx,
    prefix: &str,
    resource_type: shapes::ResourceType,
    view: impl Fn(&T) -> (String, Vec<Tag>),
    out: &mut Vec<Described>,
) -> Result<(), AwsError> {
    for doc in documents::list::<T>(store(ctx), prefix).await? {
        let (resource_id, tags) = view(&doc.value);
        out.extend(tags.into_iter().map(|tag| Described { resource_id: resource_id.clone(), resource_type, tag }));
    }
    Ok(())
}

pub async fn describe(ctx: Ctx, req: shapes::DescribeTagsRequest) -> Result<shapes::DescribeTagsResult, AwsError> {
    use shapes::ResourceType as R;
    let mut all = Vec::new();
    tags_of(
        &ctx,
        keys::EC2_INSTANCES,
        R::Instance,
        |r: &InstanceRecord| (r.instance_id.clone(), r.tags.clone()),
        &mut all,
    )
    .await?;
    tags_of(&ctx, keys::EC2_VPCS, R::Vpc, |r: &VpcRecord| (r.vpc_id.clone(), r.tags.clone()), &mut all).await?;
    tags_of(&ctx, keys::EC2_SUBNETS, R::Subnet, |r: &SubnetRecord| (r.subnet_id.clone(), r.tags.clone()), &mut all)
        .await?;
    tags_of(
        &ctx,
        keys::EC2_SECURITY_GROUPS,
        R::SecurityGroup,
        |r: &SecurityGroupRecord| (r.group_id.clone(), r.tags.clone()),
        &mut all,
    )
    .await?;
    tags_of(
        &ctx,
        keys::EC2_LAUNCH_TEMPLATES,
        R::LaunchTemplate,
        |r: &LaunchTemplateRecord| (r.launch_template_id.clone(), r.tags.clone()),
        &mut all,
    )
    .await?;
    tags_of(
        &ctx,
        keys::EC2_KEY_PAIRS,
        R::KeyPair,
        |r: &KeyPairRecord| (r.key_pair_id.clone(), r.tags.clone()),
        &mut all,
    )
    .await?;
    let filters = filters(req.filters, TAG_FILTERS)?;
    let mut out = Vec::new();
    for d in all {
        let own = [d.tag.clone()];
        if matches_all(&filters, &d, &own, tag_field).map_err(unknown_filter)? {
            out.push(shapes::TagDescription {
                resource_id: Some(d.resource_id),
                resource_type: Some(d.resource_type),
                key: Some(d.tag.key),
                value: Some(d.tag.value),
            });
        }
    }
    let (tags, next_token) = page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeTagsResult { tags: Some(tags), next_token })
}
