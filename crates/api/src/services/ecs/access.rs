//! ECS's IAM table: the resources and condition keys of each operation, as AWS's Service
//! Authorization Reference lists them for `ecs:` actions. Clusters default to `default`, as
//! the handlers do; names and ARNs are both accepted wherever the API accepts both.

use crate::authorize::{Ask, arn, name_of, strings, text};
use berth_model::arn::{EcsResource, Scope};
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let cluster = name_of(text(input, "cluster").unwrap_or("default")).to_string();
    let cluster_arn = scope.ecs(&EcsResource::Cluster(cluster.clone()));
    let in_cluster = |ask: Ask| ask.key("ecs:cluster", cluster_arn.clone());
    let tags = input.get("tags");
    match op {
        "CreateCluster" => {
            let name = text(input, "clusterName").unwrap_or("default");
            Ask::on(scope.ecs(&EcsResource::Cluster(name.into()))).request_tags(tags)
        }
        "DescribeClusters" => {
            let named = strings(input.get("clusters"));
            let clusters = if named.is_empty() { vec!["default".to_string()] } else { named };
            Ask::each(clusters.iter().map(|c| scope.ecs(&EcsResource::Cluster(name_of(c).into()))))
        }
        "DeleteCluster" | "UpdateCluster" | "UpdateClusterSettings" | "PutClusterCapacityProviders" => {
            let name = name_of(text(input, "cluster").unwrap_or("default"));
            Ask::on(scope.ecs(&EcsResource::Cluster(name.into())))
        }
        "RegisterContainerInstance"
        | "DeregisterContainerInstance"
        | "ListContainerInstances"
        | "DescribeContainerInstances"
        | "PutAttributes"
        | "DeleteAttributes"
        | "ListAttributes"
        | "SubmitTaskStateChange"
        | "SubmitContainerStateChange" => Ask::on(cluster_arn.clone()),
        "UpdateContainerInstancesState" => in_cluster(Ask::each(
            strings(input.get("containerInstances")).iter().map(|i| member(scope, "container-instance", &cluster, i)),
        )),
        "RegisterTaskDefinition" => Ask::any().request_tags(tags),
        "DeleteTaskDefinitions" => {
            Ask::each(strings(input.get("taskDefinitions")).iter().map(|t| task_definition(scope, t)))
        }
        "RunTask" | "StartTask" => {
            let taskdef = text(input, "taskDefinition").map(|t| task_definition(scope, t));
            in_cluster(Ask::each(taskdef)).request_tags(tags)
        }
        "StopTask" => in_cluster(Ask::each(text(input, "task").map(|t| member(scope, "task", &cluster, t)))),
        "DescribeTasks" => {
            in_cluster(Ask::each(strings(input.get("tasks")).iter().map(|t| member(scope, "task", &cluster, t))))
        }
        "ListTasks" | "ListServices" => in_cluster(Ask::any()),
        "CreateService" => {
            let name = text(input, "serviceName").unwrap_or_default();
            with_taskdef(scope, input, in_cluster(Ask::on(member(scope, "service", &cluster, name)))).request_tags(tags)
        }
        "UpdateService" => {
            let service = text(input, "service").unwrap_or_default();
            with_taskdef(scope, input, in_cluster(Ask::on(member(scope, "service", &cluster, service))))
        }
        "DeleteService" | "ListServiceDeployments" => {
            let service = text(input, "service").unwrap_or_default();
            in_cluster(Ask::on(member(scope, "service", &cluster, service)))
        }
        "DescribeServices" => {
            in_cluster(Ask::each(strings(input.get("services")).iter().map(|s| member(scope, "service", &cluster, s))))
        }
        "DescribeServiceDeployments" => Ask::each(strings(input.get("serviceDeploymentArns"))),
        "TagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).request_tags(tags),
        "UntagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).tag_keys(input.get("tagKeys")),
        "ListTagsForResource" => Ask::each(text(input, "resourceArn").map(str::to_string)),
        "CreateCapacityProvider" => {
            let name = text(input, "name").unwrap_or_default();
            Ask::on(scope.ecs(&EcsResource::CapacityProvider(name.into()))).request_tags(tags)
        }
        "UpdateCapacityProvider" | "DeleteCapacityProvider" => {
            let given = text(input, "name").or_else(|| text(input, "capacityProvider")).unwrap_or_default();
            Ask::on(scope.ecs(&EcsResource::CapacityProvider(name_of(given).into())))
        }
        // ListClusters, DescribeCapacityProviders, DescribeTaskDefinition, ListTaskDefinitions, DeregisterTaskDefinition...
        _ => Ask::any(),
    }
}

/// A cluster member's ARN (`task`, `service`, `container-instance`) from its id, name or ARN.
fn member(scope: &Scope, kind: &str, cluster: &str, id_or_arn: &str) -> String {
    if id_or_arn.starts_with("arn:") {
        return id_or_arn.to_string();
    }
    arn(scope, "ecs", &format!("{kind}/{cluster}/{id_or_arn}"))
}

/// A task definition's ARN from `family`, `family:revision` or its ARN; a bare family
/// names its latest revision, which IAM sees as `family:*`.
fn task_definition(scope: &Scope, given: &str) -> String {
    if given.starts_with("arn:") {
        return given.to_string();
    }
    let given = if given.contains(':') { given.to_string() } else { format!("{given}:*") };
    arn(scope, "ecs", &format!("task-definition/{given}"))
}

/// `ecs:task-definition` for a service's task definition, when the request names one.
fn with_taskdef(scope: &Scope, input: &Value, ask: Ask) -> Ask {
    match text(input, "taskDefinition") {
        Some(t) => ask.key("ecs:task-definition", task_definition(scope, t)),
        None => ask,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::Target;
    use crate::authorize::testing::{json_targets, resources as of};
    use serde_json::json;

    fn targets(op: &str, input: Value) -> Vec<Target> {
        json_targets(asks, op, input)
    }

    fn resources(op: &str, input: Value) -> Vec<String> {
        of(targets(op, input))
    }

    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/";

    #[test]
    fn capacity_providers_are_asked_on_their_arns() {
        let cp = "arn:aws:ecs:us-east-1:123456789012:capacity-provider/gpu-cp";
        assert_eq!(resources("CreateCapacityProvider", json!({"name": "gpu-cp"})), [cp]);
        assert_eq!(resources("UpdateCapacityProvider", json!({"name": "gpu-cp"})), [cp]);
        assert_eq!(resources("DeleteCapacityProvider", json!({"capacityProvider": cp})), [cp]);
        assert_eq!(resources("DescribeCapacityProviders", json!({})), ["*"]);
    }

    #[test]
    fn cluster_operations_name_their_clusters() {
        assert_eq!(resources("CreateCluster", json!({"clusterName": "prod"})), [format!("{CLUSTER}prod")]);
        assert_eq!(resources("CreateCluster", json!({})), [format!("{CLUSTER}default")]);
        assert_eq!(
            resources("DescribeClusters", json!({"clusters": ["a", format!("{CLUSTER}b")]})),
            [format!("{CLUSTER}a"), format!("{CLUSTER}b")]
        );
        assert_eq!(resources("DescribeClusters", json!({})), [format!("{CLUSTER}default")]);
        assert_eq!(resources("DeleteCluster", json!({"cluster": "x"})), [format!("{CLUSTER}x")]);
        assert_eq!(resources("ListClusters", json!({})), ["*"]);
        assert_eq!(resources("NoSuchOperation", json!({})), ["*"]);
    }

    #[test]
    fn create_cluster_carries_its_tags() {
        let t = targets("CreateCluster", json!({"clusterName": "a", "tags": [{"key": "team", "value": "web"}]}));
        assert!(t[0].keys.contains(&("aws:RequestTag/team".into(), vec!["web".into()])));
        assert!(t[0].keys.contains(&("aws:TagKeys".into(), vec!["team".into()])));
    }

    #[test]
    fn run_task_is_on_the_task_definition_in_a_cluster() {
        let t = targets("RunTask", json!({"cluster": "prod", "taskDefinition": "web:3"}));
        assert_eq!(t[0].resource, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3");
        assert_eq!(t[0].keys, vec![("ecs:cluster".to_string(), vec![format!("{CLUSTER}prod")])]);
        let t = targets("RunTask", json!({"taskDefinition": "web"}));
        assert_eq!(t[0].resource, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:*");
    }

    #[test]
    fn services_and_tasks_are_cluster_members() {
        let t = targets("CreateService", json!({"cluster": "c", "serviceName": "s", "taskDefinition": "web:1"}));
        assert_eq!(t[0].resource, "arn:aws:ecs:us-east-1:123456789012:service/c/s");
        assert!(t[0].keys.contains(&(
            "ecs:task-definition".into(),
            vec!["arn:aws:ecs:us-east-1:123456789012:task-definition/web:1".into()]
        )));
        assert_eq!(
            resources("DescribeTasks", json!({"cluster": "c", "tasks": ["abc"]})),
            ["arn:aws:ecs:us-east-1:123456789012:task/c/abc"]
        );
        assert_eq!(
            resources("StopTask", json!({"task": "arn:aws:ecs:us-east-1:123456789012:task/c/abc"})),
            ["arn:aws:ecs:us-east-1:123456789012:task/c/abc"]
        );
        let t = targets("ListServices", json!({"cluster": "c"}));
        assert_eq!((t[0].resource.as_str(), &t[0].keys[0].0[..]), ("*", "ecs:cluster"));
    }

    #[test]
    fn untag_carries_tag_keys() {
        let t = targets("UntagResource", json!({"resourceArn": format!("{CLUSTER}a"), "tagKeys": ["x", "y"]}));
        assert_eq!(t[0].keys, vec![("aws:TagKeys".to_string(), vec!["x".to_string(), "y".to_string()])]);
    }
}
