//! RunInstances, Terminate/Stop/StartInstances, DescribeInstances (by reservation, with
//! filters and paging) and DescribeInstanceStatus, over berth-ec2's operations. A launch
//! whose instance profile holds a role asks IAM whether the caller may `iam:PassRole` it.

use super::{filters, out_tags, page, store, tags_for, timestamp};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::resolve::TemplateName;
use berth_ec2::{LaunchSpec, StateChange, TemplateSpec};
use berth_model::ec2::instance_types;
use berth_model::ec2::shapes::{self, ResourceType};
use berth_model::ec2::templates::{LaunchParams, ProfileSpec};
use berth_model::ec2::{InstanceRecord, InstanceState, SecurityGroupRecord};
use berth_model::iam::records::RoleRecord;
use berth_model::keys;
use berth_store::documents;
use std::collections::HashMap;

fn launch_spec(req: shapes::RunInstancesRequest) -> LaunchSpec {
    let nic = req.network_interfaces.as_ref().and_then(|n| n.first());
    let mut security_group_ids = req.security_group_ids.clone().unwrap_or_default();
    if security_group_ids.is_empty() {
        security_group_ids = nic.and_then(|n| n.groups.clone()).unwrap_or_default();
    }
    let params = LaunchParams {
        image_id: req.image_id.clone(),
        instance_type: req.instance_type.clone(),
        key_name: req.key_name.clone(),
        subnet_id: req.subnet_id.clone().or_else(|| nic.and_then(|n| n.subnet_id.clone())),
        availability_zone: req.placement.as_ref().and_then(|p| p.availability_zone.clone()),
        security_group_ids,
        security_group_names: req.security_groups.clone().unwrap_or_default(),
        iam_instance_profile: req
            .iam_instance_profile
            .as_ref()
            .map(|p| ProfileSpec { arn: p.arn.clone(), name: p.name.clone() }),
        user_data: req.user_data.clone(),
        tags: tags_for(&req.tag_specifications, ResourceType::Instance),
        disable_api_termination: req.disable_api_termination,
        ebs_optimized: req.ebs_optimized,
        monitoring: req.monitoring.as_ref().map(|m| m.enabled),
    };
    LaunchSpec {
        params,
        launch_template: req.launch_template.map(|t| TemplateSpec {
            template: TemplateName { id: t.launch_template_id, name: t.launch_template_name },
            version: t.version,
        }),
        min_count: req.min_count,
        max_count: req.max_count,
        client_token: req.client_token,
    }
}

/// The caller may pass the profile's role to EC2, or UnauthorizedOperation.
async fn may_pass_role(ctx: &Ctx, role: &str) -> Result<(), AwsError> {
    let doc = documents::get::<RoleRecord>(store(ctx), &berth_model::iam::keys::role(role)).await?;
    let arn =
        doc.map(|d| d.value.role.arn).unwrap_or_else(|| format!("arn:aws:iam::{}:role/{role}", ctx.api.scope.account));
    crate::authorize::may(&ctx.api, &ctx.caller.arn, "iam:PassRole", &arn, None)
        .await
        .map_err(|message| AwsError::ec2("UnauthorizedOperation", message))
}

pub async fn run(ctx: Ctx, req: shapes::RunInstancesRequest) -> Result<shapes::Reservation, AwsError> {
    let scope = ctx.api.scope.clone();
    let launch = berth_ec2::prepare_launch(store(&ctx), &scope, launch_spec(req)).await?;
    if let Some(role) = &launch.profile_role {
        may_pass_role(&ctx, role).await?;
    }
    let reservation = berth_ec2::commit_launch(store(&ctx), &scope, launch).await?;
    let names = group_names(&ctx).await?;
    Ok(shapes::Reservation {
        reservation_id: Some(reservation.reservation_id),
        owner_id: Some(reservation.owner_id),
        groups: Some(vec![]),
        instances: Some(reservation.instances.iter().map(|i| instance_shape(i, &names)).collect()),
        requester_id: None,
    })
}

/// Every security group's name by id (what instances show beside their group ids).
async fn group_names(ctx: &Ctx) -> Result<HashMap<String, String>, AwsError> {
    Ok(documents::list::<SecurityGroupRecord>(store(ctx), keys::EC2_SECURITY_GROUPS)
        .await?
        .into_iter()
        .map(|d| (d.value.group_id, d.value.group_name))
        .collect())
}

fn state_shape(state: InstanceState) -> shapes::InstanceState {
    let name = match state {
        InstanceState::Pending => shapes::InstanceStateName::Pending,
        InstanceState::Running => shapes::InstanceStateName::Running,
        InstanceState::ShuttingDown => shapes::InstanceStateName::ShuttingDown,
        InstanceState::Terminated => shapes::InstanceStateName::Terminated,
        InstanceState::Stopping => shapes::InstanceStateName::Stopping,
        InstanceState::Stopped => shapes::InstanceStateName::Stopped,
    };
    shapes::InstanceState { code: Some(state.code()), name: Some(name) }
}

fn instance_shape(i: &InstanceRecord, group_names: &HashMap<String, String>) -> shapes::Instance {
    let kind = instance_types::lookup(&i.instance_type);
    let terminated = i.state == InstanceState::Terminated;
    shapes::Instance {
        instance_id: Some(i.instance_id.clone()),
        image_id: Some(i.image_id.clone()),
        state: Some(state_shape(i.state)),
        private_dns_name: Some(if terminated { String::new() } else { i.private_dns_name.clone() }),
        public_dns_name: Some(String::new()),
        state_transition_reason: Some(i.state_transition_reason.clone()),
        state_reason: i
            .state_reason
            .as_ref()
            .map(|r| shapes::StateReason { code: Some(r.code.clone()), message: Some(r.message.clone()) }),
        key_name: i.key_name.clone(),
        ami_launch_index: Some(i.ami_launch_index),
        product_codes: Some(vec![]),
        instance_type: Some(i.instance_type.clone()),
        launch_time: Some(timestamp(i.launch_time)),
        placement: Some(shapes::Placement {
            availability_zone: Some(i.availability_zone.clone()),
            group_name: Some(String::new()),
            tenancy: Some(shapes::Tenancy::Default),
            ..Default::default()
        }),
        monitoring: Some(shapes::Monitoring {
            state: Some(if i.monitoring_enabled {
                shapes::MonitoringState::Enabled
            } else {
                shapes::MonitoringState::Disabled
            }),
            metric_category_ids: None,
        }),
        subnet_id: (!terminated).then(|| i.subnet_id.clone()),
        vpc_id: (!terminated).then(|| i.vpc_id.clone()),
        private_ip_address: (!terminated).then(|| i.private_ip_address.clone()),
        architecture: Some(if i.architecture == "arm64" {
            shapes::ArchitectureValues::Arm64
        } else {
            shapes::ArchitectureValues::X8664
        }),
        root_device_type: Some(shapes::DeviceType::Ebs),
        root_device_name: Some("/dev/xvda".into()),
        block_device_mappings: Some(vec![]),
        security_groups: Some(
            i.security_group_ids
                .iter()
                .map(|id| shapes::GroupIdentifier {
                    group_id: Some(id.clone()),
                    group_name: group_names.get(id).cloned(),
                })
                .collect(),
        ),
        source_dest_check: Some(true),
        hypervisor: Some(shapes::HypervisorType::Xen),
        virtualization_type: Some(shapes::VirtualizationType::Hvm),
        iam_instance_profile: i
            .iam_instance_profile_arn
            .as_ref()
            .map(|arn| shapes::IamInstanceProfile { arn: Some(arn.clone()), id: i.iam_instance_profile_id.clone() }),
        tags: out_tags(&i.tags),
        client_token: Some(i.client_token.clone().unwrap_or_default()),
        ebs_optimized: Some(i.ebs_optimized),
        ena_support: Some(true),
        cpu_options: kind.map(|k| shapes::CpuOptions {
            core_count: Some(k.default_cores() as i32),
            threads_per_core: Some(k.threads_per_core() as i32),
            ..Default::default()
        }),
        platform_details: Some("Linux/UNIX".into()),
        usage_operation: Some("RunInstances".into()),
        ..Default::default()
    }
}

fn state_changes(changes: Vec<StateChange>) -> Vec<shapes::InstanceStateChange> {
    changes
        .into_iter()
        .map(|c| shapes::InstanceStateChange {
            instance_id: Some(c.instance_id),
            previous_state: Some(state_shape(c.previous)),
            current_state: Some(state_shape(c.current)),
        })
        .collect()
}

pub async fn terminate(
    ctx: Ctx,
    req: shapes::TerminateInstancesRequest,
) -> Result<shapes::TerminateInstancesResult, AwsError> {
    let changes = berth_ec2::terminate_instances(store(&ctx), &req.instance_ids).await?;
    Ok(shapes::TerminateInstancesResult { terminating_instances: Some(state_changes(changes)) })
}

pub async fn stop(ctx: Ctx, req: shapes::StopInstancesRequest) -> Result<shapes::StopInstancesResult, AwsError> {
    let changes = berth_ec2::stop_instances(store(&ctx), &req.instance_ids).await?;
    Ok(shapes::StopInstancesResult { stopping_instances: Some(state_changes(changes)) })
}

pub async fn start(ctx: Ctx, req: shapes::StartInstancesRequest) -> Result<shapes::StartInstancesResult, AwsError> {
    let changes = berth_ec2::start_instances(store(&ctx), &req.instance_ids).await?;
    Ok(shapes::StartInstancesResult { starting_instances: Some(state_changes(changes)) })
}

pub async fn describe(
    ctx: Ctx,
    req: shapes::DescribeInstancesRequest,
) -> Result<shapes::DescribeInstancesResult, AwsError> {
    let ids = req.instance_ids.unwrap_or_default();
    let mut records = berth_ec2::describe_instances(
        store(&ctx),
        &ids,
        &filters(req.filters, berth_model::ec2::filters::INSTANCE_FILTERS)?,
    )
    .await?;
    records.sort_by(|a, b| {
        (a.launch_time, &a.reservation_id, a.ami_launch_index).cmp(&(
            b.launch_time,
            &b.reservation_id,
            b.ami_launch_index,
        ))
    });
    let mut reservations: Vec<(String, String, Vec<InstanceRecord>)> = Vec::new();
    for rec in records {
        match reservations.iter_mut().find(|(id, _, _)| *id == rec.reservation_id) {
            Some((_, _, instances)) => instances.push(rec),
            None => reservations.push((rec.reservation_id.clone(), rec.owner_id.clone(), vec![rec])),
        }
    }
    let (items, next_token) = page(reservations, req.max_results, req.next_token.as_deref(), 1000)?;
    let names = group_names(&ctx).await?;
    let reservations = items
        .into_iter()
        .map(|(reservation_id, owner_id, instances)| shapes::Reservation {
            reservation_id: Some(reservation_id),
            owner_id: Some(owner_id),
            groups: Some(vec![]),
            instances: Some(instances.iter().map(|i| instance_shape(i, &names)).collect()),
            requester_id: None,
        })
        .collect();
    Ok(shapes::DescribeInstancesResult { reservations: Some(reservations), next_token })
}

/// The status checks of one instance: `ok` once the fleet reports its host healthy,
/// `initializing` while it comes up, `not-applicable` when it is not running.
fn status_shape(i: &InstanceRecord) -> shapes::InstanceStatus {
    let (summary, detail) = match (i.state, i.status_ok) {
        (InstanceState::Running, true) => (shapes::SummaryStatus::Ok, Some(shapes::StatusType::Passed)),
        (InstanceState::Running, false) => {
            (shapes::SummaryStatus::Initializing, Some(shapes::StatusType::Initializing))
        }
        _ => (shapes::SummaryStatus::NotApplicable, None),
    };
    let check = || shapes::InstanceStatusSummary {
        status: Some(summary),
        details: Some(
            detail
                .map(|d| shapes::InstanceStatusDetails {
                    name: Some(shapes::StatusName::Reachability),
                    status: Some(d),
                    impaired_since: None,
                })
                .into_iter()
                .collect(),
        ),
    };
    shapes::InstanceStatus {
        instance_id: Some(i.instance_id.clone()),
        availability_zone: Some(i.availability_zone.clone()),
        instance_state: Some(state_shape(i.state)),
        instance_status: Some(check()),
        system_status: Some(check()),
        events: None,
        ..Default::default()
    }
}

/// The filter names `status_field` reads beyond the instances' own.
const STATUS_FILTERS: &[&str] = &["instance-status.status", "system-status.status"];

fn status_field(i: &InstanceRecord, name: &str) -> Option<Vec<String>> {
    let status = status_shape(i);
    let summary = |s: &Option<shapes::InstanceStatusSummary>| {
        s.as_ref().and_then(|s| s.status).map(|s| vec![s.as_str().to_string()])
    };
    match name {
        "instance-status.status" => summary(&status.instance_status),
        "system-status.status" => summary(&status.system_status),
        _ => berth_model::ec2::filters::instance_field(i, name),
    }
}

pub async fn describe_status(
    ctx: Ctx,
    req: shapes::DescribeInstanceStatusRequest,
) -> Result<shapes::DescribeInstanceStatusResult, AwsError> {
    let ids = req.instance_ids.unwrap_or_default();
    let filters = filters(req.filters, &[STATUS_FILTERS, berth_model::ec2::filters::INSTANCE_FILTERS].concat())?;
    let all = req.include_all_instances.unwrap_or(false);
    let mut out = Vec::new();
    for rec in berth_ec2::describe_instances(store(&ctx), &ids, &[]).await? {
        if !all && rec.state != InstanceState::Running {
            continue;
        }
        let keep = berth_model::ec2::filters::matches_all(&filters, &rec, &rec.tags, status_field)
            .map_err(super::unknown_filter)?;
        if keep {
            out.push(status_shape(&rec));
        }
    }
    let (items, next_token) = page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeInstanceStatusResult { instance_statuses: Some(items), next_token })
}
