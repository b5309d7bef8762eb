//! Amazon ECS (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`).

pub(crate) mod access;
mod attributes;
pub(crate) mod capacity_providers;
pub(crate) mod clusters;
mod instances;
pub(crate) mod paging;
mod services;
mod tags;
mod taskdefs;
mod tasks;

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;

pub const TARGET_PREFIX: &str = "AmazonEC2ContainerServiceV20141113";

pub const SERVICE: Service = Service::json("ecs", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

/// Decodes the input of `op`, runs its handler and encodes the output. Each handler is
/// `async fn(Ctx, <Op>Request) -> Result<<Op>Response, AwsError>`, so the input and
/// output types come from the handler's signature.
pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "CreateCluster" => clusters::create,
        "DescribeClusters" => clusters::describe,
        "ListClusters" => clusters::list,
        "DeleteCluster" => clusters::delete,
        "UpdateCluster" => clusters::update,
        "UpdateClusterSettings" => clusters::update_settings,
        "PutClusterCapacityProviders" => clusters::put_capacity_providers,
        "RegisterTaskDefinition" => taskdefs::register,
        "DescribeTaskDefinition" => taskdefs::describe,
        "ListTaskDefinitions" => taskdefs::list,
        "ListTaskDefinitionFamilies" => taskdefs::list_families,
        "DeregisterTaskDefinition" => taskdefs::deregister,
        "DeleteTaskDefinitions" => taskdefs::delete,
        "TagResource" => tags::tag,
        "UntagResource" => tags::untag,
        "ListTagsForResource" => tags::list,
        "RegisterContainerInstance" => instances::register,
        "DeregisterContainerInstance" => instances::deregister,
        "ListContainerInstances" => instances::list,
        "DescribeContainerInstances" => instances::describe,
        "UpdateContainerInstancesState" => instances::update_state,
        "PutAttributes" => attributes::put,
        "DeleteAttributes" => attributes::delete,
        "ListAttributes" => attributes::list,
        "RunTask" => tasks::run,
        "StartTask" => tasks::start,
        "StopTask" => tasks::stop,
        "DescribeTasks" => tasks::describe,
        "ListTasks" => tasks::list,
        "SubmitTaskStateChange" => tasks::submit_task_state_change,
        "SubmitContainerStateChange" => tasks::submit_container_state_change,
        "CreateService" => services::create,
        "UpdateService" => services::update,
        "DeleteService" => services::delete,
        "DescribeServices" => services::describe,
        "ListServices" => services::list,
        "ListServicesByNamespace" => services::list_by_namespace,
        "ListServiceDeployments" => services::list_deployments,
        "DescribeServiceDeployments" => services::describe_deployments,
        "CreateCapacityProvider" => capacity_providers::create,
        "UpdateCapacityProvider" => capacity_providers::update,
        "DeleteCapacityProvider" => capacity_providers::delete,
        "DescribeCapacityProviders" => capacity_providers::describe,
    })
}
