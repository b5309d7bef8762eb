"""Services: desired count kept by the service controller with real agents and real containers, rolling
deployments, the circuit breaker with rollback, DAEMON services, deletion, a server restart mid-deployment,
and ECS's errors for bad input. Driven with the aws CLI (create-service --cli-input-json, update-service,
wait services-stable) and boto3, as ECS users drive them."""

from __future__ import annotations

import json
import time

import pytest

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess, docker
from berth_harness import container, raises_aws, unique
from berth_harness import register as register_definition

STABLE = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    """A fresh cluster on the shared server with one agent (4 vCPU, 4 GiB offered)."""
    name = unique("svc")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name, agent
    agent.close()


@pytest.fixture
def two_agents(berth, tmp_path, test_image):
    """A fresh cluster on the shared server with two agents; a test may append more (all are closed)."""
    name = unique("svc2")
    berth.client("ecs").create_cluster(clusterName=name)
    agents = [AgentProcess(berth, name, tmp_path / f"agent-{i}").start() for i in range(2)]
    yield name, agents
    for agent in agents:
        agent.close()


def register(ecs, family: str, command=None, **members) -> str:
    """A bridge-mode revision of FAMILY running the test image (MEMBERS override the container's); its ARN."""
    c = container(**{"image": TEST_IMAGE, "memory": 32, "command": command or SLEEP, **members})
    return register_definition(ecs, family, [c], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]


def describe(ecs, cluster: str, service: str) -> dict:
    return ecs.describe_services(cluster=cluster, services=[service])["services"][0]


def wait_stable(ecs, cluster: str, service: str) -> dict:
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service], WaiterConfig=STABLE)
    return describe(ecs, cluster, service)


def service_tasks(ecs, cluster: str, service: str) -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def messages(service: dict) -> list[str]:
    return [e["message"] for e in service["events"]]


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_create_service_keeps_three_tasks_and_replaces_a_killed_one(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    family = unique("web")
    td = register(ecs, family)
    service = unique("web")
    spec = {"cluster": name, "serviceName": service, "taskDefinition": family, "desiredCount": 3,
            "tags": [{"key": "team", "value": "web"}], "propagateTags": "SERVICE", "enableECSManagedTags": True}  # fmt: skip
    created = berth.aws("ecs", "create-service", "--cli-input-json", json.dumps(spec))["service"]
    assert created["status"] == "ACTIVE" and created["taskDefinition"] == td
    assert created["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert created["deploymentConfiguration"]["maximumPercent"] == 200
    assert created["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": False, "rollback": False}
    assert created["schedulingStrategy"] == "REPLICA" and created["launchType"] == "EC2"
    assert created["deploymentController"] == {"type": "ECS"}
    assert created["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "spread", "field": "instanceId"},
    ]
    (deployment,) = created["deployments"]
    assert deployment["status"] == "PRIMARY" and deployment["rolloutState"] == "IN_PROGRESS"
    assert deployment["id"].startswith("ecs-svc/") and len(deployment["id"]) == len("ecs-svc/") + 19

    stable = wait_stable(ecs, name, service)
    # The CLI's own waiter agrees (it succeeds on its first look).
    berth.aws("ecs", "wait", "services-stable", "--cluster", name, "--services", service)
    assert stable["runningCount"] == 3 and stable["pendingCount"] == 0
    (deployment,) = stable["deployments"]
    assert deployment["rolloutState"] == "COMPLETED" and deployment["runningCount"] == 3
    tasks = service_tasks(ecs, name, service)
    assert len(tasks) == 3
    assert all(t["startedBy"] == deployment["id"] and t["group"] == f"service:{service}" for t in tasks)
    assert all(t["lastStatus"] == "RUNNING" for t in tasks)
    tagged = ecs.describe_tasks(cluster=name, tasks=[tasks[0]["taskArn"]], include=["TAGS"])["tasks"][0]
    assert {t["key"]: t["value"] for t in tagged["tags"]} == {
        "team": "web", "aws:ecs:clusterName": name, "aws:ecs:serviceName": service,
    }  # fmt: skip
    assert f"(service {service}) has reached a steady state." in messages(stable)
    assert any(m.startswith(f"(service {service}) has started 3 tasks:") for m in messages(stable))
    assert ecs.describe_clusters(clusters=[name])["clusters"][0]["activeServicesCount"] == 1

    victim = tasks[0]
    docker("kill", victim["containers"][0]["runtimeId"])
    old_ids = {t["taskArn"] for t in tasks}

    def replaced():
        now = service_tasks(ecs, name, service)
        new = [t for t in now if t["taskArn"] not in old_ids and t["lastStatus"] == "RUNNING"]
        return new if len(now) == 3 and new else None

    (replacement,) = wait_for(replaced, what="the killed task's replacement")
    stable = wait_stable(ecs, name, service)
    assert stable["runningCount"] == 3
    new_id = replacement["taskArn"].rsplit("/", 1)[1]
    assert f"(service {service}) has started 1 tasks: (task {new_id})." in messages(stable)
    stopped = ecs.describe_tasks(cluster=name, tasks=[victim["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED" and stopped["stopCode"] == "EssentialContainerExited"
    assert stable["deployments"][0]["failedTasks"] == 1


def test_rolling_update_to_a_new_revision(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    family = unique("roll")
    v1 = register(ecs, family)
    service = unique("roll")
    ecs.create_service(cluster=name, serviceName=service, taskDefinition=v1, desiredCount=3)
    wait_stable(ecs, name, service)
    old = {t["taskArn"] for t in service_tasks(ecs, name, service)}
    v2 = register(ecs, family, ["sh", "-c", "trap 'exit 0' TERM; sleep 601 & wait"])
    updated = berth.aws(
        "ecs", "update-service", "--cluster", name, "--service", service, "--task-definition", v2,
        "--deployment-configuration", "minimumHealthyPercent=50,maximumPercent=200",
    )["service"]  # fmt: skip
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert updated["deploymentConfiguration"]["minimumHealthyPercent"] == 50

    stable = wait_stable(ecs, name, service)
    (deployment,) = stable["deployments"]
    assert deployment["taskDefinition"] == v2 and deployment["rolloutState"] == "COMPLETED"
    assert stable["taskDefinition"] == v2
    tasks = service_tasks(ecs, name, service)
    assert len(tasks) == 3 and all(t["taskDefinitionArn"] == v2 for t in tasks)
    assert not old & {t["taskArn"] for t in tasks}
    gone = ecs.describe_tasks(cluster=name, tasks=sorted(old))["tasks"]
    assert all(t["desiredStatus"] == "STOPPED" and t["stopCode"] == "ServiceSchedulerInitiated" for t in gone)
    assert any(m.startswith(f"(service {service}) has stopped") for m in messages(stable))
    assert messages(stable)[0] == f"(service {service}) has reached a steady state.", "steady again after the rollout"
    listed = ecs.list_service_deployments(cluster=name, service=service)["serviceDeployments"]
    assert {d["status"] for d in listed} == {"SUCCESSFUL"} and len(listed) == 2
    assert listed[0]["serviceDeploymentArn"] == stable["currentServiceDeployment"]
    assert listed[0]["serviceDeploymentArn"].endswith(deployment["id"].removeprefix("ecs-svc/"))
    described = ecs.describe_service_deployments(serviceDeploymentArns=[listed[0]["serviceDeploymentArn"]])
    assert described["serviceDeployments"][0]["serviceArn"] == stable["serviceArn"]


def test_fixed_host_port_rollout_stops_the_old_task_before_starting_the_new(berth, cluster, unused_port):
    """minimumHealthyPercent 0 / maximumPercent 100, as a service on a fixed host port is deployed: the old task
    releases the port before the new one is placed, so no placement ever fails."""
    name, _ = cluster
    ecs = berth.client("ecs")
    family = unique("fixed")

    def revision(seconds: int) -> str:
        command = ["sh", "-c", f"trap 'exit 0' TERM; sleep {seconds} & wait"]
        return register(ecs, family, command, portMappings=[{"containerPort": 8080, "hostPort": unused_port}])

    service = unique("fixed")
    ecs.create_service(
        cluster=name, serviceName=service, taskDefinition=revision(600), desiredCount=1,
        deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 100},
    )  # fmt: skip
    wait_stable(ecs, name, service)
    v2 = revision(601)
    ecs.update_service(cluster=name, service=service, taskDefinition=v2)
    stable = wait_stable(ecs, name, service)
    (task,) = service_tasks(ecs, name, service)
    assert task["taskDefinitionArn"] == v2
    assert task["containers"][0]["networkBindings"][0]["hostPort"] == unused_port
    assert not [m for m in messages(stable) if "unable to place" in m]


def test_the_circuit_breaker_rolls_back_a_broken_revision(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    family = unique("cb")
    good = register(ecs, family)
    service = unique("cb")
    ecs.create_service(
        cluster=name, serviceName=service, taskDefinition=good, desiredCount=2,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )  # fmt: skip
    first = wait_stable(ecs, name, service)["deployments"][0]["id"]
    broken = register(ecs, family, ["sh", "-c", "exit 1"])
    failed = ecs.update_service(cluster=name, service=service, taskDefinition=broken)["service"]["deployments"][0]

    def rolled_back():
        s = describe(ecs, name, service)
        return s if any(m.endswith("deployment failed: tasks failed to start.") for m in messages(s)) else None

    wait_for(rolled_back, timeout=120, what="the circuit breaker")
    stable = wait_stable(ecs, name, service)
    assert stable["taskDefinition"] == good
    (deployment,) = stable["deployments"]
    assert deployment["taskDefinition"] == good and deployment["id"] not in (first, failed["id"])
    events = messages(stable)
    assert f"(service {service}) (deployment {failed['id']}) deployment failed: tasks failed to start." in events
    assert f"(service {service}) rolling back to deployment {first}." in events
    tasks = service_tasks(ecs, name, service)
    assert len(tasks) == 2 and all(t["taskDefinitionArn"] == good for t in tasks)
    listed = ecs.list_service_deployments(cluster=name, service=service)["serviceDeployments"]
    assert "ROLLBACK_SUCCESSFUL" in {d["status"] for d in listed}


def test_daemon_runs_one_task_per_instance_including_one_that_joins(berth, two_agents, tmp_path):
    name, agents = two_agents
    ecs = berth.client("ecs")
    td = register(ecs, unique("daemon"))
    service = unique("daemon")
    created = ecs.create_service(cluster=name, serviceName=service, taskDefinition=td, schedulingStrategy="DAEMON")
    assert created["service"]["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert created["service"]["deploymentConfiguration"]["maximumPercent"] == 100
    stable = wait_stable(ecs, name, service)
    assert stable["desiredCount"] == 2 and stable["runningCount"] == 2
    placed = sorted(t["containerInstanceArn"] for t in service_tasks(ecs, name, service))
    assert placed == sorted(a.instance_arn for a in agents)

    agents.append(AgentProcess(berth, name, tmp_path / "agent-2", extra_args=["--attributes", "tier=gold"]).start())
    wait_for(lambda: describe(ecs, name, service)["desiredCount"] == 3, what="the third instance counted")
    stable = wait_stable(ecs, name, service)
    assert stable["runningCount"] == 3
    placed = sorted(t["containerInstanceArn"] for t in service_tasks(ecs, name, service))
    assert placed == sorted(a.instance_arn for a in agents)

    # A daemon with a memberOf constraint runs only on the instances it admits.
    gold = unique("gold")
    only_gold = [{"type": "memberOf", "expression": "attribute:tier == gold"}]
    created = ecs.create_service(
        cluster=name, serviceName=gold, taskDefinition=td, schedulingStrategy="DAEMON", placementConstraints=only_gold
    )["service"]
    assert created["desiredCount"] == 1
    stable = wait_stable(ecs, name, gold)
    assert stable["runningCount"] == 1
    assert [t["containerInstanceArn"] for t in service_tasks(ecs, name, gold)] == [agents[2].instance_arn]

    # A DRAINING instance's daemon task is stopped.
    ecs.update_container_instances_state(cluster=name, containerInstances=[agents[0].instance_arn], status="DRAINING")
    stable = wait_for(
        lambda: (s := describe(ecs, name, service))["runningCount"] == 2 and s["desiredCount"] == 2 and s,
        what="the draining instance's task stopped",
    )
    assert agents[0].instance_arn not in {t["containerInstanceArn"] for t in service_tasks(ecs, name, service)}


def test_delete_service_force_drains_to_inactive_and_removes_the_containers(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    td = register(ecs, unique("del"))
    service = unique("del")
    ecs.create_service(cluster=name, serviceName=service, taskDefinition=td, desiredCount=2)
    wait_stable(ecs, name, service)
    # A deregistered (INACTIVE) task definition keeps serving the services that run it, and scales.
    ecs.deregister_task_definition(taskDefinition=td)
    ecs.update_service(cluster=name, service=service, desiredCount=3)
    assert wait_stable(ecs, name, service)["runningCount"] == 3
    with raises_aws("InvalidParameterException", "inactive"):
        ecs.create_service(cluster=name, serviceName=unique("late"), taskDefinition=td, desiredCount=1)
    ecs.update_service(cluster=name, service=service, desiredCount=2)
    wait_stable(ecs, name, service)
    assert len(agent.containers(all_=False)) == 2
    with raises_aws("InvalidParameterException", "scaled above 0"):
        ecs.delete_service(cluster=name, service=service)
    with raises_aws("ClusterContainsServicesException"):
        ecs.delete_cluster(cluster=name)
    deleted = berth.aws("ecs", "delete-service", "--cluster", name, "--service", service, "--force")["service"]
    assert deleted["status"] == "DRAINING" and deleted["desiredCount"] == 0
    wait_for(lambda: describe(ecs, name, service)["status"] == "INACTIVE", what="INACTIVE")
    wait_for(lambda: agent.containers(all_=False) == [], what="the containers gone")
    assert service not in "".join(ecs.list_services(cluster=name)["serviceArns"])
    assert ecs.describe_clusters(clusters=[name])["clusters"][0]["activeServicesCount"] == 0
    with raises_aws("ServiceNotActiveException"):
        ecs.update_service(cluster=name, service=service, desiredCount=1)
    # The name can be used again once the service is INACTIVE.
    td = register(ecs, unique("del"))
    again = ecs.create_service(cluster=name, serviceName=service, taskDefinition=td, desiredCount=0)["service"]
    assert again["status"] == "ACTIVE"


def test_a_deployment_finishes_after_the_server_restarts(fresh_berth, tmp_path, test_image):
    ecs = fresh_berth.client("ecs")
    name = unique("restart")
    ecs.create_cluster(clusterName=name)
    agent = AgentProcess(fresh_berth, name, tmp_path / "agent").start()
    try:
        family = unique("restart")
        v1 = register(ecs, family)
        service = unique("restart")
        ecs.create_service(cluster=name, serviceName=service, taskDefinition=v1, desiredCount=2)
        wait_stable(ecs, name, service)
        v2 = register(ecs, family, ["sh", "-c", "trap 'exit 0' TERM; sleep 602 & wait"])
        new = ecs.update_service(cluster=name, service=service, taskDefinition=v2)["service"]["deployments"][0]["id"]

        def mid_deployment():
            s = describe(ecs, name, service)
            return len(s["deployments"]) == 2 and any(t["startedBy"] == new for t in service_tasks(ecs, name, service))

        wait_for(mid_deployment, what="the deployment under way")
        fresh_berth.kill()
        fresh_berth.restart()
        ecs = fresh_berth.client("ecs")
        stable = wait_stable(ecs, name, service)
        assert stable["taskDefinition"] == v2 and len(stable["deployments"]) == 1
        tasks = service_tasks(ecs, name, service)
        assert len(tasks) == 2 and all(t["taskDefinitionArn"] == v2 for t in tasks)
    finally:
        agent.close()


def test_bad_input_gets_ecs_errors(berth):
    ecs = berth.client("ecs")
    name = unique("svc-bad")
    ecs.create_cluster(clusterName=name)
    td = register(ecs, unique("bad"))
    with raises_aws("ClusterNotFoundException"):
        ecs.create_service(cluster=unique("nope"), serviceName="s", taskDefinition=td, desiredCount=1)
    with raises_aws("ClientException"):
        ecs.create_service(cluster=name, serviceName="s", taskDefinition=unique("nope"), desiredCount=1)
    with raises_aws("InvalidParameterException"):
        ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, desiredCount=-1)
    for bad in ({"minimumHealthyPercent": 150}, {"maximumPercent": 50}):
        with raises_aws("InvalidParameterException"):
            ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, desiredCount=1, deploymentConfiguration=bad)
    with raises_aws("InvalidParameterException"):
        ecs.create_service(cluster=name, serviceName="bad name!", taskDefinition=td, desiredCount=1)
    with raises_aws("InvalidParameterException", "DAEMON"):
        spread = [{"type": "spread", "field": "instanceId"}]
        ecs.create_service(cluster=name, serviceName="d", taskDefinition=td, schedulingStrategy="DAEMON", placementStrategy=spread)
    with raises_aws("InvalidParameterException", "deployment controller"):
        ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, deploymentController={"type": "CODE_DEPLOY"})

    first = ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, desiredCount=0, clientToken="tok-1")
    again = ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, desiredCount=0, clientToken="tok-1")
    assert again["service"]["serviceArn"] == first["service"]["serviceArn"]
    assert again["service"]["createdAt"] == first["service"]["createdAt"]
    with raises_aws("InvalidParameterException", "Creation of service was not idempotent."):
        ecs.create_service(cluster=name, serviceName="s", taskDefinition=td, desiredCount=0)

    missing = ecs.describe_services(cluster=name, services=["s", "ghost"])
    assert [s["serviceName"] for s in missing["services"]] == ["s"]
    assert missing["failures"] == [{"arn": f"{berth.arn_prefix}:service/{name}/ghost", "reason": "MISSING"}]
    with raises_aws("ServiceNotFoundException"):
        ecs.update_service(cluster=name, service="ghost", desiredCount=1)
    with raises_aws("ServiceNotFoundException"):
        ecs.delete_service(cluster=name, service="ghost")
    with raises_aws("InvalidParameterException"):
        ecs.update_service(cluster=name, service="s", desiredCount=-2)
    assert ecs.list_services(cluster=name)["serviceArns"] == [first["service"]["serviceArn"]]
    with raises_aws("InvalidParameterException"):
        ecs.create_service(cluster=name, serviceName="t", taskDefinition=td, desiredCount=0, clientToken="x" * 37)
    # Fargate: awsvpc needs a network configuration, as for RunTask; the platform version shows LATEST.
    fargate = register_definition(
        ecs, unique("fargate"), [container(image=TEST_IMAGE, memory=None, command=SLEEP)],
        networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    with raises_aws("InvalidParameterException", "Network Configuration must be provided"):
        ecs.create_service(cluster=name, serviceName="f", taskDefinition=fargate, desiredCount=0, launchType="FARGATE")
    vpc = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
    created = ecs.create_service(
        cluster=name, serviceName="f", taskDefinition=fargate, desiredCount=0, launchType="FARGATE", networkConfiguration=vpc
    )["service"]  # fmt: skip
    assert (created["launchType"], created["platformVersion"]) == ("FARGATE", "LATEST")
    assert created["deployments"][0]["networkConfiguration"] == vpc

    # The waiter fails at once on a missing service.
    result = berth.aws_run("ecs", "wait", "services-stable", "--cluster", name, "--services", "ghost")
    assert result.returncode != 0


def test_health_checked_tasks_count_once_healthy_and_unhealthy_ones_are_replaced(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")

    def checked(family: str, check: str) -> str:
        health = {"command": ["CMD-SHELL", check], "interval": 5, "timeout": 2, "retries": 1}
        return register(ecs, family, healthCheck=health)

    good = unique("healthy")
    ecs.create_service(cluster=name, serviceName=good, taskDefinition=checked(good, "exit 0"), desiredCount=1)
    wait_for(
        lambda: describe(ecs, name, good)["deployments"][0]["rolloutState"] == "COMPLETED",
        what="the deployment completed",
    )
    (task,) = service_tasks(ecs, name, good)
    assert task["healthStatus"] == "HEALTHY", "COMPLETED only once the container health check passes"
    assert f"(service {good}) has reached a steady state." in messages(describe(ecs, name, good))

    bad = unique("sick")
    td = checked(bad, "exit 1")
    ecs.create_service(cluster=name, serviceName=bad, taskDefinition=td, desiredCount=1, healthCheckGracePeriodSeconds=0)

    def replaced_unhealthy():
        arns = ecs.list_tasks(cluster=name, serviceName=bad, desiredStatus="STOPPED")["taskArns"]
        stopped = ecs.describe_tasks(cluster=name, tasks=arns)["tasks"] if arns else []
        return [t for t in stopped if t.get("stoppedReason") == "Task failed container health checks."]

    (sick,) = wait_for(replaced_unhealthy, what="the unhealthy task stopped")[:1]
    assert sick["stopCode"] == "ServiceSchedulerInitiated"
    s = describe(ecs, name, bad)
    assert s["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    wait_for(lambda: describe(ecs, name, bad)["deployments"][0]["failedTasks"] >= 1, what="the failure counted")


def test_draining_an_instance_moves_replica_tasks_and_unplaceable_tasks_are_reported(berth, two_agents):
    name, agents = two_agents
    ecs = berth.client("ecs")
    service = unique("drain")
    ecs.create_service(cluster=name, serviceName=service, taskDefinition=register(ecs, unique("drain")), desiredCount=2)
    wait_stable(ecs, name, service)
    placed = {t["containerInstanceArn"] for t in service_tasks(ecs, name, service)}
    assert placed == {a.instance_arn for a in agents}, "spread across instances by default"
    ecs.update_container_instances_state(cluster=name, containerInstances=[agents[0].instance_arn], status="DRAINING")
    wait_for(
        lambda: {t["containerInstanceArn"] for t in service_tasks(ecs, name, service)} == {agents[1].instance_arn},
        what="the tasks moved off the draining instance",
    )
    stable = wait_stable(ecs, name, service)
    assert stable["runningCount"] == 2

    big = register(ecs, unique("big"), memory=8192)
    huge = unique("huge")
    ecs.create_service(cluster=name, serviceName=huge, taskDefinition=big, desiredCount=1)
    instance_id = agents[1].instance_arn.rsplit("/", 1)[1]
    expected = (
        f"(service {huge}) was unable to place a task because no container instance met all of its requirements. "
        f"The closest matching (container-instance {instance_id}) has insufficient memory available."
    )
    wait_for(lambda: expected in messages(describe(ecs, name, huge)), what="the placement failure event")
    assert messages(describe(ecs, name, huge)).count(expected) == 1, "repeated failures are not repeated events"


def test_the_seed_walkthrough_create_from_a_file_scale_to_zero_then_delete(berth, tmp_path):
    """Seed 004's steps: create-service --cluster=NAME --cli-input-json file://..., update-service
    --desired-count=0, delete-service (no --force needed at 0); loadBalancers and role are stored. The target group
    must exist and a listener must forward to it, as ECS checks."""
    ecs, elbv2 = berth.client("ecs"), berth.client("elbv2")
    name = unique("seed")
    ecs.create_cluster(clusterName=name)
    family = unique("seed")
    register(ecs, family, name="web", portMappings=[{"containerPort": 8080, "hostPort": 0}])
    service = unique("seed")
    tg = elbv2.create_target_group(Name=unique("web"), Protocol="HTTP", Port=80)["TargetGroups"][0]["TargetGroupArn"]
    missing = f"arn:aws:elasticloadbalancing:{berth.region}:{berth.account_id}:targetgroup/web/0123456789abcdef"
    web = {"containerName": "web", "containerPort": 8080}
    for not_there in (missing, "web"):  # a group that does not exist; a name where the ARN belongs
        with raises_aws("InvalidParameterException", "Unable to assume role and validate the specified targetGroupArn"):
            ecs.create_service(cluster=name, serviceName=service, taskDefinition=f"{family}:1",
                               loadBalancers=[{"targetGroupArn": not_there, **web}])  # fmt: skip
    with raises_aws("InvalidParameterException",
                    f"The target group with targetGroupArn {tg} does not have an associated load balancer."):
        ecs.create_service(cluster=name, serviceName=service, taskDefinition=f"{family}:1",
                           loadBalancers=[{"targetGroupArn": tg, **web}])  # fmt: skip
    assert ecs.describe_services(cluster=name, services=[service])["services"] == [], "nothing was created"
    lb = elbv2.create_load_balancer(Name=unique("web"))["LoadBalancers"][0]
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])  # fmt: skip
    spec = {
        "serviceName": service, "taskDefinition": f"{family}:1", "desiredCount": 10,
        "role": f"arn:aws:iam::{berth.account_id}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        "loadBalancers": [{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
        "tags": [{"key": "team", "value": "a"}],
    }  # fmt: skip
    path = tmp_path / "service.json"
    path.write_text(json.dumps(spec))
    created = berth.aws("ecs", "create-service", f"--cluster={name}", "--cli-input-json", f"file://{path}")["service"]
    assert created["loadBalancers"] == spec["loadBalancers"] and created["roleArn"] == spec["role"]
    volumes = [{"name": "data", "managedEBSVolume": {"roleArn": spec["role"], "sizeInGiB": 1}}]
    updated = ecs.update_service(cluster=name, service=service, volumeConfigurations=volumes)["service"]
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"], "new volumes: a new deployment"
    assert updated["deployments"][0]["volumeConfigurations"] == volumes
    assert created["desiredCount"] == 10

    # No container instance: the service says why nothing runs.
    expected = (
        f"(service {service}) was unable to place a task because no container instance met all of its requirements. "
        "Reason: No Container Instances were found in your cluster."
    )
    wait_for(lambda: expected in messages(describe(ecs, name, service)), what="the placement failure event")

    arn = created["serviceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "stage", "value": "dev"}])
    tags = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    assert sorted((t["key"], t["value"]) for t in tags) == [("stage", "dev"), ("team", "a")]
    shown = ecs.describe_services(cluster=name, services=[arn], include=["TAGS"])["services"][0]
    assert len(shown["tags"]) == 2 and "tags" not in describe(ecs, name, service)

    with raises_aws("InvalidParameterException", "did not have a container port 9090 defined"):
        ecs.update_service(
            cluster=name, service=service,
            loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 9090}],
        )  # fmt: skip
    berth.aws("ecs", "update-service", f"--cluster={name}", f"--service={service}", "--desired-count=0")
    deleted = berth.aws("ecs", "delete-service", f"--cluster={name}", f"--service={service}")["service"]
    assert deleted["status"] == "DRAINING"
    wait_for(lambda: describe(ecs, name, service)["status"] == "INACTIVE", what="INACTIVE")
    ecs.delete_cluster(cluster=name)


def test_list_services_pages_as_ecs_does(berth):
    ecs = berth.client("ecs")
    name = unique("svc-list")
    ecs.create_cluster(clusterName=name)
    td = register(ecs, unique("list"))
    names = sorted(f"s{i:02}" for i in range(12))
    for n in names:
        ecs.create_service(cluster=name, serviceName=n, taskDefinition=td, desiredCount=0)
    ecs.create_service(cluster=name, serviceName="daemon", taskDefinition=td, schedulingStrategy="DAEMON")
    first = ecs.list_services(cluster=name)
    assert len(first["serviceArns"]) == 10 and "nextToken" in first
    everything = berth.aws("ecs", "list-services", "--cluster", name)["serviceArns"]
    assert len(everything) == 13
    replicas = ecs.list_services(cluster=name, schedulingStrategy="REPLICA", maxResults=100)["serviceArns"]
    assert sorted(a.rsplit("/", 1)[1] for a in replicas) == names
    with raises_aws("InvalidParameterException"):
        ecs.list_services(cluster=name, maxResults=101)
