"""Placement: ECS's strategies and constraints over real agents (distinctInstance across two agents, memberOf
on an agent attribute, spread and binpack), through the aws CLI and boto3; and simulated instances
(`berth agent --simulate N`) whose tasks run without containers."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess
from berth_harness import raises_aws, unique

WAIT = {"Delay": 1, "MaxAttempts": 90}


@pytest.fixture
def pair(berth, tmp_path, test_image):
    """A fresh cluster with two agents: gold in zone a offering 2 GiB, silver in zone b offering 4 GiB."""
    name = unique("place")
    berth.client("ecs").create_cluster(clusterName=name)
    gold = AgentProcess(berth, name, tmp_path / "gold", memory=2048,
                        extra_args=["--attributes", "tier=gold", "--availability-zone", "us-east-1a"]).start()  # fmt: skip
    silver = AgentProcess(berth, name, tmp_path / "silver", memory=4096,
                          extra_args=["--attributes", "tier=silver", "--availability-zone", "us-east-1b"]).start()  # fmt: skip
    yield name, gold, silver
    ecs = berth.client("ecs")
    arns = ecs.list_tasks(cluster=name)["taskArns"]
    for arn in arns:
        ecs.stop_task(cluster=name, task=arn)
    if arns:
        ecs.get_waiter("tasks_stopped").wait(cluster=name, tasks=arns, WaiterConfig=WAIT)
    gold.close()
    silver.close()


def sleeper(ecs, **extra) -> str:
    td = ecs.register_task_definition(
        family=unique("sleep"),
        containerDefinitions=[{"name": "s", "image": TEST_IMAGE, "memory": 256, "command": SLEEP, "stopTimeout": 2}],
        **extra,
    )
    return td["taskDefinition"]["taskDefinitionArn"]


def hosts(tasks) -> Counter:
    return Counter(t["containerInstanceArn"] for t in tasks)


def test_distinct_instance_across_two_agents_through_the_cli(berth, pair):
    name, gold, silver = pair
    td = sleeper(berth.client("ecs"))
    out = berth.aws(
        "ecs", "run-task", "--cluster", name, "--task-definition", td, "--count", "3", "--group", "batch:one",
        "--placement-constraints", "type=distinctInstance",
    )  # fmt: skip
    assert hosts(out["tasks"]) == Counter({gold.instance_arn: 1, silver.instance_arn: 1})
    assert [f["reason"] for f in out["failures"]] == ["DistinctInstance"]
    # Running tasks of the group count too: a second call finds both instances taken.
    ecs = berth.client("ecs")
    ecs.get_waiter("tasks_running").wait(cluster=name, tasks=[t["taskArn"] for t in out["tasks"]], WaiterConfig=WAIT)
    again = berth.aws(
        "ecs", "run-task", "--cluster", name, "--task-definition", td, "--group", "batch:one",
        "--placement-constraints", "type=distinctInstance",
    )  # fmt: skip
    assert again["tasks"] == [] and again["failures"][0]["reason"] == "DistinctInstance"


def test_member_of_an_agent_attribute(berth, pair):
    name, gold, silver = pair
    ecs = berth.client("ecs")
    td = sleeper(ecs)
    out = berth.aws(
        "ecs", "run-task", "--cluster", name, "--task-definition", td, "--count", "3",
        "--placement-constraints", "type=memberOf,expression=attribute:tier == gold",
    )  # fmt: skip
    assert hosts(out["tasks"]) == Counter({gold.instance_arn: 3}) and out["failures"] == []
    none = ecs.run_task(
        cluster=name, taskDefinition=td,
        placementConstraints=[{"type": "memberOf", "expression": "attribute:tier in [bronze, tin]"}],
    )  # fmt: skip
    assert none["tasks"] == [] and none["failures"][0]["reason"] == "MemberOf"
    # The task definition's own constraints apply to every run of it.
    silver_only = sleeper(ecs, placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == silver"}])
    tasks = ecs.run_task(cluster=name, taskDefinition=silver_only, count=2)["tasks"]
    assert hosts(tasks) == Counter({silver.instance_arn: 2})
    running = ecs.get_waiter("tasks_running")
    running.wait(cluster=name, tasks=[t["taskArn"] for t in out["tasks"] + tasks], WaiterConfig=WAIT)


def test_spread_and_binpack_strategies(berth, pair):
    name, gold, silver = pair
    ecs = berth.client("ecs")
    td = sleeper(ecs)
    spread = ecs.run_task(
        cluster=name, taskDefinition=td, count=4,
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    )["tasks"]  # fmt: skip
    assert hosts(spread) == Counter({gold.instance_arn: 2, silver.instance_arn: 2})
    # binpack(memory): gold has the least memory left, until it is full (2048 - 2*256 leaves room for 6 more).
    packed = ecs.run_task(
        cluster=name, taskDefinition=td, count=8, placementStrategy=[{"type": "binpack", "field": "memory"}]
    )["tasks"]
    assert [t["containerInstanceArn"] for t in packed] == [gold.instance_arn] * 6 + [silver.instance_arn] * 2
    instances = ecs.describe_container_instances(cluster=name, containerInstances=[gold.instance_arn])
    remaining = {r["name"]: r.get("integerValue") for r in instances["containerInstances"][0]["remainingResources"]}
    assert remaining["MEMORY"] == 0


def test_malformed_placement_is_refused_with_the_position(berth, pair):
    name, _, _ = pair
    ecs = berth.client("ecs")
    td = sleeper(ecs)
    with raises_aws("InvalidParameterException", "position 15"):
        ecs.run_task(
            cluster=name, taskDefinition=td,
            placementConstraints=[{"type": "memberOf", "expression": "attribute:tier ~~ gold"}],
        )  # fmt: skip
    with raises_aws("InvalidParameterException", "placementStrategy[1]"):
        ecs.run_task(
            cluster=name, taskDefinition=td,
            placementStrategy=[{"type": "random"}, {"type": "binpack", "field": "disk"}],
        )  # fmt: skip
    with raises_aws("InvalidParameterException", "at most 5"):
        ecs.run_task(cluster=name, taskDefinition=td, placementStrategy=[{"type": "random"}] * 6)


def test_simulated_instances_run_tasks_without_containers(berth, tmp_path):
    name = unique("sim")
    ecs = berth.client("ecs")
    ecs.create_cluster(clusterName=name)
    sim = AgentProcess(berth, name, tmp_path / "sim", extra_args=["--simulate", "6"]).start()
    try:
        deadline = time.monotonic() + 30
        while len(arns := ecs.list_container_instances(cluster=name)["containerInstanceArns"]) < 6:
            assert time.monotonic() < deadline, "the simulated instances did not all register"
            time.sleep(0.2)
        described = ecs.describe_container_instances(cluster=name, containerInstances=arns)["containerInstances"]
        attrs = [{a["name"]: a.get("value") for a in ci["attributes"]} for ci in described]
        assert len({a["ecs.availability-zone"] for a in attrs}) == 3
        assert len({a["ecs.instance-type"] for a in attrs}) == 4
        assert all(a["berth.simulated"] == "true" for a in attrs)

        td = ecs.register_task_definition(
            family=unique("sim"), containerDefinitions=[{"name": "c", "image": "not/pulled:anywhere", "memory": 64}]
        )["taskDefinition"]["taskDefinitionArn"]
        tasks = []
        for _ in range(2):
            tasks += ecs.run_task(
                cluster=name, taskDefinition=td, count=6,
                placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                   {"type": "spread", "field": "instanceId"}],
            )["tasks"]  # fmt: skip
        assert sorted(hosts(tasks).values()) == [2] * 6
        task_arns = [t["taskArn"] for t in tasks]
        ecs.get_waiter("tasks_running").wait(cluster=name, tasks=task_arns, WaiterConfig=WAIT)
        for arn in task_arns:
            ecs.stop_task(cluster=name, task=arn)
        stopped = ecs.get_waiter("tasks_stopped")
        stopped.wait(cluster=name, tasks=task_arns, WaiterConfig=WAIT)
    finally:
        sim.close()
