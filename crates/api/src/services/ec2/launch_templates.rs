//! Create/Describe/Modify/DeleteLaunchTemplate, CreateLaunchTemplateVersion (from a
//! SourceVersion) and DescribeLaunchTemplateVersions (`$Latest`, `$Default`, numbers,
//! Min/MaxVersion). A template's versions live in its one document; its name is claimed
//! in the transaction that creates it.

use super::{filters, out_tags, page, store, tags_for, timestamp, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::resolve::{self, TemplateName};
use berth_ec2::{Ec2Error, ids, now_ms};
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::shapes::{self, ResourceType};
use berth_model::ec2::{LaunchTemplateRecord, LaunchTemplateVersion, ids as prefix, templates};
use berth_model::keys;
use berth_store::documents::{self, Change, encode};
use berth_store::{Compare, Txn};
use serde_json::{Map, Value};

/// EC2 keeps at most this many versions of a template.
const MAX_VERSIONS: i64 = 10_000;

fn check_name(name: &str) -> Result<(), AwsError> {
    let ok =
        (3..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"()./_-".contains(&b));
    if ok {
        return Ok(());
    }
    Err(AwsError::ec2(
        "InvalidLaunchTemplateName.MalformedException",
        format!(
            "The launch template name '{name}' is not valid: it must be 3 to 128 characters of letters, digits and ( ) . / _ -."
        ),
    ))
}

/// The data as stored: the generated shape's JSON, nulls dropped.
fn stored_data(data: &shapes::RequestLaunchTemplateData) -> Result<Value, AwsError> {
    let value = serde_json::to_value(data).map_err(|_| AwsError::internal("InternalError"))?;
    if let Some(encoded) = value.get("UserData").and_then(Value::as_str) {
        resolve::user_data(encoded)?;
    }
    Ok(value)
}

fn template_shape(t: &LaunchTemplateRecord) -> shapes::LaunchTemplate {
    shapes::LaunchTemplate {
        launch_template_id: Some(t.launch_template_id.clone()),
        launch_template_name: Some(t.launch_template_name.clone()),
        create_time: Some(timestamp(t.create_time)),
        created_by: Some(t.created_by.clone()),
        default_version_number: Some(t.default_version_number),
        latest_version_number: Some(t.latest_version_number),
        tags: out_tags(&t.tags),
        operator: None,
    }
}

/// The stored request data as ResponseLaunchTemplateData's XML names: members in lower
/// camel case, lists (sent by their element's name) as `<elementSet>`.
fn response_data(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut name = lower_first(k);
                    if v.is_array() && !name.ends_with("Set") {
                        name = match name.as_str() {
                            "licenseSpecification" => "licenseSet".to_string(),
                            "groups" | "securityGroupId" if k == "Groups" => "groupSet".to_string(),
                            _ => format!("{name}Set"),
                        };
                    }
                    (name, response_data(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(response_data).collect()),
        other => other.clone(),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

fn version_shape(t: &LaunchTemplateRecord, v: &LaunchTemplateVersion) -> Result<Value, AwsError> {
    let shape = shapes::LaunchTemplateVersion {
        launch_template_id: Some(t.launch_template_id.clone()),
        launch_template_name: Some(t.launch_template_name.clone()),
        version_number: Some(v.version_number),
        version_description: v.version_description.clone(),
        create_time: Some(timestamp(v.create_time)),
        created_by: Some(v.created_by.clone()),
        default_version: Some(v.version_number == t.default_version_number),
        launch_template_data: None,
        operator: None,
    };
    let mut value = serde_json::to_value(shape).map_err(|_| AwsError::internal("InternalError"))?;
    if let Value::Object(map) = &mut value {
        map.insert("launchTemplateData".into(), response_data(&v.data));
    }
    Ok(value)
}

pub async fn create(
    ctx: Ctx,
    req: shapes::CreateLaunchTemplateRequest,
) -> Result<shapes::CreateLaunchTemplateResult, AwsError> {
    check_name(&req.launch_template_name)?;
    let data = stored_data(&req.launch_template_data)?;
    let tags = tags_for(&req.tag_specifications, ResourceType::LaunchTemplate);
    resolve::tags(&tags)?;
    let now = now_ms();
    let record = LaunchTemplateRecord {
        launch_template_id: ids::new(prefix::LAUNCH_TEMPLATE),
        launch_template_name: req.launch_template_name.clone(),
        create_time: now,
        created_by: ctx.caller.arn.clone(),
        default_version_number: 1,
        latest_version_number: 1,
        versions: vec![LaunchTemplateVersion {
            version_number: 1,
            version_description: req.version_description.clone(),
            create_time: now,
            created_by: ctx.caller.arn.clone(),
            data,
        }],
        tags,
    };
    let name_key = keys::ec2_launch_template_name(&record.launch_template_name);
    let txn = Txn::new()
        .when(Compare::ModRevision(name_key.clone(), 0))
        .put(name_key, encode(&record.launch_template_id)?)
        .put(keys::ec2_launch_template(&record.launch_template_id), encode(&record)?);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::launch_template_name_exists(&record.launch_template_name).into());
    }
    Ok(shapes::CreateLaunchTemplateResult { launch_template: Some(template_shape(&record)), warning: None })
}

fn which(id: Option<String>, name: Option<String>) -> TemplateName {
    TemplateName { id, name }
}

/// Overlays `new` on `base` member by member (what a version made from a SourceVersion holds).
fn overlay(base: &Value, new: Value) -> Value {
    match (base, new) {
        (Value::Object(b), Value::Object(n)) => {
            let mut merged = b.clone();
            merged.extend(n);
            Value::Object(merged)
        }
        (_, n) => n,
    }
}

pub async fn create_version(ctx: Ctx, req: shapes::CreateLaunchTemplateVersionRequest) -> Result<Value, AwsError> {
    let doc = resolve::launch_template(store(&ctx), &which(req.launch_template_id, req.launch_template_name)).await?;
    let new = stored_data(&req.launch_template_data)?;
    let key = keys::ec2_launch_template(&doc.value.launch_template_id);
    let caller = ctx.caller.arn.clone();
    let (record, version) = documents::modify(store(&ctx), &key, |current: Option<LaunchTemplateRecord>| {
        let Some(mut t) = current else {
            return Err(AwsError::from(Ec2Error::launch_template_id_not_found(&doc.value.launch_template_id)));
        };
        let data = match &req.source_version {
            Some(source) => overlay(&resolve::template_version(&t, Some(source))?.data, new.clone()),
            None => new.clone(),
        };
        if t.latest_version_number >= MAX_VERSIONS {
            return Err(AwsError::ec2(
                "VersionLimitExceeded",
                format!("The launch template has the maximum of {MAX_VERSIONS} versions."),
            ));
        }
        let version = LaunchTemplateVersion {
            version_number: t.latest_version_number + 1,
            version_description: req.version_description.clone(),
            create_time: now_ms(),
            created_by: caller.clone(),
            data,
        };
        t.latest_version_number = version.version_number;
        t.versions.push(version.clone());
        Ok((Change::Put(t.clone()), (t, version)))
    })
    .await?;
    Ok(serde_json::json!({ "launchTemplateVersion": version_shape(&record, &version)? }))
}

/// The filter names `template_field` reads.
const TEMPLATE_FILTERS: &[&str] = &["launch-template-name", "create-time"];

fn template_field(t: &LaunchTemplateRecord, name: &str) -> Option<Vec<String>> {
    match name {
        "launch-template-name" => Some(vec![t.launch_template_name.clone()]),
        "create-time" => Some(vec![t.create_time.to_string()]),
        _ => None,
    }
}

pub async fn describe(
    ctx: Ctx,
    req: shapes::DescribeLaunchTemplatesRequest,
) -> Result<shapes::DescribeLaunchTemplatesResult, AwsError> {
    let ids = req.launch_template_ids.unwrap_or_default();
    let names = req.launch_template_names.unwrap_or_default();
    let filters = filters(req.filters, TEMPLATE_FILTERS)?;
    let mut out = Vec::new();
    for doc in documents::list::<LaunchTemplateRecord>(store(&ctx), keys::EC2_LAUNCH_TEMPLATES).await? {
        let t = doc.value;
        if (!ids.is_empty() && !ids.contains(&t.launch_template_id))
            || (!names.is_empty() && !names.contains(&t.launch_template_name))
        {
            continue;
        }
        if matches_all(&filters, &t, &t.tags, template_field).map_err(unknown_filter)? {
            out.push(t);
        }
    }
    if let Some(id) = ids.iter().find(|id| !out.iter().any(|t| &t.launch_template_id == *id)) {
        return Err(Ec2Error::launch_template_id_not_found(id).into());
    }
    if names.iter().any(|n| !out.iter().any(|t| &t.launch_template_name == n)) {
        return Err(AwsError::ec2(
            "InvalidLaunchTemplateName.NotFoundException",
            "At least one of the launch templates specified in the request does not exist.",
        ));
    }
    let (items, next_token) = page(out, req.max_results, req.next_token.as_deref(), 200)?;
    Ok(shapes::DescribeLaunchTemplatesResult {
        launch_templates: Some(items.iter().map(template_shape).collect()),
        next_token,
    })
}

pub async fn describe_versions(
    ctx: Ctx,
    req: shapes::DescribeLaunchTemplateVersionsRequest,
) -> Result<Value, AwsError> {
    let doc = resolve::launch_template(store(&ctx), &which(req.launch_template_id, req.launch_template_name)).await?;
    let t = &doc.value;
    let bound = |v: &Option<String>| -> Result<Option<i64>, AwsError> {
        v.as_deref().map(|s| Ok(resolve::template_version(t, Some(s))?.version_number)).transpose()
    };
    let (min, max) = (bound(&req.min_version)?, bound(&req.max_version)?);
    let asked = req.versions.unwrap_or_default();
    let mut chosen: Vec<&LaunchTemplateVersion> = Vec::new();
    if asked.is_empty() {
        chosen.extend(
            t.versions
                .iter()
                .filter(|v| min.is_none_or(|m| v.version_number >= m) && max.is_none_or(|m| v.version_number <= m)),
        );
    } else {
        for spec in &asked {
            let v = templates::resolve(t, Some(spec)).map_err(Ec2Error::from)?;
            if !chosen.iter().any(|c| c.version_number == v.version_number) {
                chosen.push(v);
            }
        }
    }
    let (items, next_token) = page(chosen, req.max_results, req.next_token.as_deref(), 200)?;
    let versions = items.into_iter().map(|v| version_shape(t, v)).collect::<Result<Vec<_>, _>>()?;
    let mut out = serde_json::json!({ "launchTemplateVersionSet": versions });
    if let Some(token) = next_token {
        out["nextToken"] = Value::String(token);
    }
    Ok(out)
}

pub async fn modify(
    ctx: Ctx,
    req: shapes::ModifyLaunchTemplateRequest,
) -> Result<shapes::ModifyLaunchTemplateResult, AwsError> {
    let doc = resolve::launch_template(store(&ctx), &which(req.launch_template_id, req.launch_template_name)).await?;
    let key = keys::ec2_launch_template(&doc.value.launch_template_id);
    let record = documents::modify(store(&ctx), &key, |current: Option<LaunchTemplateRecord>| {
        let Some(mut t) = current else {
            return Err(AwsError::from(Ec2Error::launch_template_id_not_found(&doc.value.launch_template_id)));
        };
        if let Some(default) = &req.default_version {
            let number = resolve::template_version(&t, Some(default))?.version_number;
            t.default_version_number = number;
        }
        Ok((Change::Put(t.clone()), t))
    })
    .await?;
    Ok(shapes::ModifyLaunchTemplateResult { launch_template: Some(template_shape(&record)) })
}

pub async fn delete(
    ctx: Ctx,
    req: shapes::DeleteLaunchTemplateRequest,
) -> Result<shapes::DeleteLaunchTemplateResult, AwsError> {
    let doc = resolve::launch_template(store(&ctx), &which(req.launch_template_id, req.launch_template_name)).await?;
    let t = &doc.value;
    let key = keys::ec2_launch_template(&t.launch_template_id);
    let txn = Txn::new()
        .when(Compare::ModRevision(key.clone(), doc.mod_revision))
        .delete(key)
        .delete(keys::ec2_launch_template_name(&t.launch_template_name));
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::launch_template_id_not_found(&t.launch_template_id).into());
    }
    Ok(shapes::DeleteLaunchTemplateResult { launch_template: Some(template_shape(t)) })
}
