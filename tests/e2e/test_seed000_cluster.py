"""Seed 000's GPU cluster end to end: its ecs_00, ecs_01 and ecs_02 scripts run verbatim through the aws CLI in
bash (IAM role and instance profile, create-cluster, the GPU AMI from SSM, a security group in the default VPC, a
launch template with base64 user data `echo ECS_CLUSTER=...`, an Auto Scaling group min 1 / desired 2 / max 3, a
capacity provider with managed scaling as the cluster's default strategy). The two instances join as g4dn.xlarge
container instances with one GPU each; a service that needs the group's maximum makes tasks wait in PROVISIONING
while managed scaling adds the third instance, and every task runs as a real container; a terminated instance is
replaced and the service heals; scaled to 0, the group comes back to its minimum through instances that run no
task; the seed's cleanup (ecs_99, without the ALB it did not make here) leaves no instance and no container.

The arithmetic of the service: a task reserves 1536 CPU units; a g4dn.xlarge registers 4096, so it runs two
(2 × 1536 = 3072 ≤ 4096 < 3 × 1536). Five tasks need ceil(5 / 2) = 3 instances, the group's maximum: the
first two instances take four, the fifth waits (CapacityProviderReservation = 3/2 × 100 = 150 > target 100)
until managed scaling raises the desired capacity to 3 and the new instance joins.
"""

from __future__ import annotations

import time

import pytest

from agent_harness import SLEEP, TEST_IMAGE
from berth_harness import unique
from seed000 import (
    ECS_99_CAPACITY_AND_WAIT,
    ECS_99_SERVICE_AND_GROUP,
    ENV,
    SETUP,
    bash,
    container_instances,
    containers_of,
    group,
    last_line,
    remove_containers_of,
    seed_server,
    service_tasks,
    vpc_env,
    wait_for,
)

# Three instances launched, one replaced, the group scaled in: more than pytest's 300 s on a loaded CI machine.
pytestmark = pytest.mark.timeout(600)

@pytest.fixture
def seed(make_berth, test_image):
    """Seed 000's server and names; the cluster's containers are removed if the test fails."""
    berth = seed_server(make_berth)
    names = {
        "DDN_ECS_CLUSTER": unique("ddn-ecs"),
        "DDN_ASG_NAME": unique("ddn-gpu-asg"),
        "DDN_LAUNCH_TEMPLATE_NAME": unique("ddn-gpu-lt"),
        "DDN_ECS_SG_NAME": unique("ddn-ecs-sg"),
        "DDN_ECS_SERVICE": unique("ddn-svc"),
    }
    yield berth, {**ENV, **vpc_env(berth), **names}
    remove_containers_of(names["DDN_ECS_CLUSTER"])


def test_seed_000_gpu_cluster_scales_with_its_service(seed):
    berth, env = seed
    cluster, asg, service = env["DDN_ECS_CLUSTER"], env["DDN_ASG_NAME"], env["DDN_ECS_SERVICE"]
    provider = f"{asg}-cp"
    ecs = berth.client("ecs")

    bash(berth, SETUP, env)

    # Two g4dn.xlarge instances join the cluster with one GPU each, as the provider's capacity.
    cis = wait_for("2 container instances", lambda: (c := container_instances(ecs, cluster)) and len(c) == 2 and c)
    in_group = {i["InstanceId"] for i in group(berth, asg)["Instances"]}
    for ci in cis:
        assert ci["ec2InstanceId"] in in_group
        attrs = {a["name"]: a.get("value") for a in ci["attributes"]}
        assert attrs["ecs.instance-type"] == "g4dn.xlarge"
        resources = {r["name"]: r for r in ci["registeredResources"]}
        assert resources["CPU"]["integerValue"] == 4096
        assert len(resources["GPU"]["stringSetValue"]) == 1
    wait_for(
        "the provider's name on its container instances",
        lambda: all(c.get("capacityProviderName") == provider for c in container_instances(ecs, cluster)),
    )

    # Five tasks of 1536 CPU: four fit the two instances, the fifth waits in PROVISIONING.
    family = unique("ddn-td")
    ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": TEST_IMAGE, "cpu": 1536, "memory": 256, "command": SLEEP}],
    )
    created = berth.aws(
        "ecs", "create-service", "--cluster", cluster, "--service-name", service, "--task-definition", family,
        "--desired-count", "5",
    )["service"]
    assert [i["capacityProvider"] for i in created["capacityProviderStrategy"]] == [provider]

    # The fifth task waits in PROVISIONING only until the third instance joins, which an in-process fleet
    # does within seconds: the wait itself is asserted in test_capacity_providers.py and berth-control's
    # managed_scaling test; here, that managed scaling raised the group from 2 to 3 for it.
    # Managed scaling takes the group to its maximum, and every task runs.
    wait_for("the group's desired capacity 3", lambda: group(berth, asg)["DesiredCapacity"] == 3)
    running = wait_for(
        "5 RUNNING tasks on 3 instances",
        lambda: (t := service_tasks(ecs, cluster, service)) and sum(x["lastStatus"] == "RUNNING" for x in t) == 5 and t,
    )
    cis = container_instances(ecs, cluster)
    assert len(cis) == 3
    # Managed scaling's metric, as ECS publishes it: tasks held the instances (M/N×100 reached 100 at least).
    reservation = wait_for("CapacityProviderReservation in CloudWatch", lambda: [
        d for d in berth.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/ECS/ManagedScaling", MetricName="CapacityProviderReservation",
            Dimensions=[{"Name": "CapacityProviderName", "Value": provider}, {"Name": "ClusterName", "Value": cluster}],
            StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60, Statistics=["Maximum", "Minimum"],
        )["Datapoints"] if d["Maximum"] >= 100])  # fmt: skip
    assert all(0 <= d["Minimum"] <= d["Maximum"] <= 200 for d in reservation), reservation
    by_arn = {c["containerInstanceArn"]: c for c in cis}
    per_instance: dict[str, int] = {}
    for t in running:
        assert t["capacityProviderName"] == provider
        per_instance[t["containerInstanceArn"]] = per_instance.get(t["containerInstanceArn"], 0) + 1
    assert sorted(per_instance.values()) == [1, 2, 2] and set(per_instance) <= set(by_arn)
    assert len(containers_of(cluster)) >= 5

    # An instance terminated under its tasks is replaced, and the service heals.
    victim_arn = max(per_instance, key=per_instance.get)
    victim = by_arn[victim_arn]["ec2InstanceId"]
    berth.aws("ec2", "terminate-instances", "--instance-ids", victim)
    berth.client("ec2").get_waiter("instance_terminated").wait(InstanceIds=[victim], WaiterConfig={"Delay": 1, "MaxAttempts": 180})
    wait_for(
        "a replacement in the group",
        lambda: (ids := {i["InstanceId"] for i in group(berth, asg)["Instances"] if i["LifecycleState"] == "InService"})
        and victim not in ids
        and len(ids) == 3,
    )
    healed = wait_for(
        "5 RUNNING tasks again",
        lambda: (t := service_tasks(ecs, cluster, service)) and sum(x["lastStatus"] == "RUNNING" for x in t) == 5 and t,
    )
    assert all(t["containerInstanceArn"] != victim_arn for t in healed)

    # Scaled to 0: once its instances are empty (and warmed up: the seed keeps ECS's 300 s, shortened here), the
    # group comes back to its minimum; no instance is terminated while it runs a task.
    berth.aws(
        "ecs", "update-capacity-provider", "--name", provider, "--auto-scaling-group-provider",
        "managedScaling={status=ENABLED,targetCapacity=100,minimumScalingStepSize=1,maximumScalingStepSize=1,instanceWarmupPeriod=5}",
    )
    berth.aws("ecs", "update-service", "--cluster", cluster, "--service", service, "--desired-count", "0")
    wait_for("the service's tasks to stop", lambda: not service_tasks(ecs, cluster, service))
    stopped_before = {t["taskArn"] for t in service_tasks(ecs, cluster, service, "STOPPED")}
    back = wait_for(
        "the group back at its minimum of 1",
        lambda: (g := group(berth, asg))["DesiredCapacity"] == 1
        and len([i for i in g["Instances"] if i["LifecycleState"] == "InService"]) == 1
        and g,
    )
    assert back["MinSize"] == 1
    stopped_after = service_tasks(ecs, cluster, service, "STOPPED")
    assert {t["taskArn"] for t in stopped_after} >= stopped_before
    assert not [t for t in stopped_after if "terminated" in t.get("stoppedReason", "") and t["taskArn"] not in stopped_before]
    activities = berth.aws("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", asg)["Activities"]
    assert any("Terminating EC2 instance" in a["Description"] for a in activities)

    # The seed's cleanup: every instance of the group terminated, no container left.
    bash(berth, ECS_99_SERVICE_AND_GROUP, env)
    ids = last_line(bash(berth, ECS_99_CAPACITY_AND_WAIT, env)).split()
    assert ids, "the group's instances were listed by their aws:autoscaling:groupName tag"
    wait_for("the cluster's containers to be gone", lambda: not containers_of(cluster), timeout=120)
    wait_for("the group to be gone", lambda: not berth.aws(
        "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", asg)["AutoScalingGroups"])
    assert not container_instances(ecs, cluster)
