"""Where clients notice the difference: ARNs of other regions, partitions and accounts name
nothing here; optional members are optional; defaults and batch failures as AWS shows them."""

from __future__ import annotations

import json

import pytest

from agent_harness import TEST_IMAGE, AgentProcess
from berth_harness import raises_aws, register, tags_dict, unique


def elsewhere(arn: str, region: str) -> list[str]:
    """`arn` moved to another region, another partition and another account."""
    parts = arn.split(":")
    other_region = ":".join(parts[:3] + ["eu-west-3"] + parts[4:])
    other_partition = ":".join(parts[:1] + ["aws-cn"] + parts[2:])
    other_account = ":".join(parts[:4] + ["999999999999"] + parts[5:])
    assert region != "eu-west-3"
    return [other_region, other_partition, other_account]


def test_cluster_arns_of_elsewhere_are_not_found(berth, ecs):
    name = unique("exact-arn")
    arn = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    for other in elsewhere(arn, berth.region):
        got = ecs.describe_clusters(clusters=[other])
        assert got["clusters"] == []
        assert got["failures"] == [{"arn": other, "reason": "MISSING"}]
        with raises_aws("ClusterNotFoundException"):
            ecs.list_services(cluster=other)
        with raises_aws("InvalidParameterException", "does not exist"):
            ecs.tag_resource(resourceArn=other, tags=[{"key": "k", "value": "v"}])
    # The cluster itself is untouched: still there, untagged.
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []
    ecs.delete_cluster(cluster=name)


def test_log_group_arns_of_elsewhere_are_not_found(berth):
    logs = berth.client("logs")
    group = f"/exact/{unique('g')}"
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:{berth.region}:{berth.account_id}:log-group:{group}"
    logs.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
    for other in elsewhere(arn, berth.region):
        with raises_aws("ResourceNotFoundException"):
            logs.list_tags_for_resource(resourceArn=other)
        with raises_aws("ResourceNotFoundException"):
            logs.tag_resource(resourceArn=other, tags={"k": "changed"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
    logs.delete_log_group(logGroupName=group)


def test_parameter_arns_of_elsewhere_are_not_found(berth):
    ssm = berth.client("ssm")
    name = f"/exact/{unique('p')}"
    ssm.put_parameter(Name=name, Value="here", Type="String")
    arn = ssm.get_parameter(Name=name)["Parameter"]["ARN"]
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == "here"
    for other in elsewhere(arn, berth.region):
        with raises_aws("ParameterNotFound"):
            ssm.get_parameter(Name=other)
    ssm.delete_parameter(Name=name)


def test_register_container_instance_without_total_resources(berth, ecs):
    cluster = unique("exact-ci")
    ecs.create_cluster(clusterName=cluster)
    identity = {
        "instanceId": f"i-{unique('x').replace('-', '')[:17]}",
        "imageId": "ami-0123456789abcdef0",
        "availabilityZone": f"{berth.region}a",
        "instanceType": "m5.large",
        "architecture": "x86_64",
    }
    ci = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps(identity))[
        "containerInstance"
    ]
    try:
        registered = {r["name"]: r for r in ci["registeredResources"]}
        # An m5.large: 2 vCPUs (2048 units) and the 7985 MiB of its 8 GiB that its agent registers.
        assert registered["CPU"]["integerValue"] == 2048
        assert registered["MEMORY"]["integerValue"] == 7985
        attrs = {a["name"]: a.get("value") for a in ci["attributes"]}
        assert attrs["ecs.ami-id"] == "ami-0123456789abcdef0"
        assert attrs["ecs.instance-type"] == "m5.large"
        assert attrs["ecs.availability-zone"] == f"{berth.region}a"
        assert attrs["ecs.cpu-architecture"] == "x86_64"
        assert attrs["ecs.os-type"] == "linux"
        assert attrs["ecs.os-family"] == "LINUX"
    finally:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=ci["containerInstanceArn"], force=True)
        ecs.delete_cluster(cluster=cluster)


def test_register_container_instance_names_what_is_missing(berth, ecs):
    cluster = unique("exact-ci-bare")
    ecs.create_cluster(clusterName=cluster)
    with raises_aws("InvalidParameterException", "totalResources"):
        ecs.register_container_instance(cluster=cluster)
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []
    ecs.delete_cluster(cluster=cluster)


@pytest.mark.parametrize("bad", ["no spaces allowed:1", "family-without-revision", "arn:aws:ecs:eu-west-3:1:x"])
def test_delete_task_definitions_lists_invalid_items_as_failures(ecs, bad):
    family = unique("exact-td")
    register(ecs, family)
    ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    resp = ecs.delete_task_definitions(taskDefinitions=[bad, f"{family}:1"])
    assert [td["family"] for td in resp["taskDefinitions"]] == [family]
    assert [f["arn"] for f in resp["failures"]] == [bad]
    assert resp["failures"][0]["reason"]


def test_empty_container_instances_list_is_client_exception(ecs):
    cluster = unique("exact-empty")
    ecs.create_cluster(clusterName=cluster)
    with raises_aws("ClientException", "Container Instances cannot be empty."):
        ecs.describe_container_instances(cluster=cluster, containerInstances=[])
    with raises_aws("ClientException", "Container Instances cannot be empty."):
        ecs.update_container_instances_state(cluster=cluster, containerInstances=[], status="DRAINING")
    ecs.delete_cluster(cluster=cluster)


def test_unknown_launch_type_lists_the_allowed_values(ecs):
    # boto3 sends what it is given (it validates types, not enum values).
    with raises_aws("InvalidParameterException", "Member must satisfy enum value set: [EC2, FARGATE"):
        ecs.run_task(taskDefinition=f"{unique('exact-none')}:1", launchType="EC3")


def test_tasks_are_taggable(berth, ecs, tmp_path, test_image):
    cluster = unique("exact-task-tags")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(berth, cluster, tmp_path / "agent").start()
    try:
        sleep = {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": ["sleep", "600"]}
        td = ecs.register_task_definition(family=unique("exact-tagged"), containerDefinitions=[sleep])
        run = ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinition"]["taskDefinitionArn"],
                           tags=[{"key": "team", "value": "core"}])  # fmt: skip
        assert not run["failures"], run["failures"]
        arn = run["tasks"][0]["taskArn"]
        assert tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {"team": "core"}
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "stage", "value": "dev"}])
        ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
        assert tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == {"stage": "dev"}
        shown = ecs.describe_tasks(cluster=cluster, tasks=[arn], include=["TAGS"])["tasks"][0]
        assert tags_dict(shown["tags"]) == {"stage": "dev"}
        for other in elsewhere(arn, berth.region):
            with raises_aws("InvalidParameterException", "does not exist"):
                ecs.tag_resource(resourceArn=other, tags=[{"key": "k", "value": "v"}])
        ghost = arn.rsplit("/", 1)[0] + "/" + "0" * 32
        with raises_aws("InvalidParameterException", "does not exist"):
            ecs.list_tags_for_resource(resourceArn=ghost)
        ecs.stop_task(cluster=cluster, task=arn)
        ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig={"Delay": 1, "MaxAttempts": 90})
    finally:
        agent.close()
