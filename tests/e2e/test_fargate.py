"""Fargate: tasks with launchType FARGATE (or a FARGATE/FARGATE_SPOT strategy) run on capacity berth manages, in a
cluster with no container instance registered. The shared server is a host, so it runs a hidden Fargate pool agent
in each cluster that runs Fargate tasks; ListContainerInstances never shows it. Each task gets its own network
namespace and address (awsvpc) reported as an ENI attachment; spot capacity is reclaimed with
`berth fargate-spot-interrupt`, and services replace the interrupted tasks."""

from __future__ import annotations

import re
import subprocess

import pytest

from agent_harness import TEST_IMAGE, http_get
from berth_harness import raises_aws, unique

WAIT = {"Delay": 1, "MaxAttempts": 120}
HTTPD = ["sh", "-c", "trap 'exit 0' TERM; echo fargate > /www/index.html; httpd -f -p 80 -h /www & wait"]
SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
VPC = {"awsvpcConfiguration": {"subnets": ["subnet-fargate1"], "assignPublicIp": "ENABLED"}}


def seed_002_task_definition() -> dict:
    """Seed 002's Fargate task definition, verbatim (its steps 2 and 4 register this document)."""
    return {
        "family": "web-app-task",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": "web-container",
                "image": "123456789.dkr.ecr.ap-northeast-2.amazonaws.com/web-app:latest",
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "essential": True,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/web-app-task",
                        "awslogs-region": "ap-northeast-2",
                        "awslogs-stream-prefix": "ecs",
                    },
                },
            }
        ],
    }


@pytest.fixture
def cluster(berth, test_image):
    """A cluster with no container instance; its tasks are stopped and it is deleted afterwards."""
    ecs = berth.client("ecs")
    name = unique("fargate")
    ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    yield name
    for service in ecs.list_services(cluster=name)["serviceArns"]:
        ecs.delete_service(cluster=name, service=service, force=True)
    arns = ecs.list_tasks(cluster=name)["taskArns"]
    for arn in arns:
        ecs.stop_task(cluster=name, task=arn)
    if arns:
        ecs.get_waiter("tasks_stopped").wait(cluster=name, tasks=arns, WaiterConfig=WAIT)
    ecs.delete_cluster(cluster=name)


def fargate_family(ecs, command=SLEEP, **container) -> str:
    c = {"name": "app", "image": TEST_IMAGE, "essential": True, "command": command}
    c.update(container)
    td = ecs.register_task_definition(
        family=unique("fg"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[c],
    )  # fmt: skip
    return td["taskDefinition"]["taskDefinitionArn"]


def eni_details(task: dict) -> dict:
    eni = task["attachments"][0]
    assert (eni["type"], eni["status"]) == ("ElasticNetworkInterface", "ATTACHED")
    return {d["name"]: d["value"] for d in eni["details"]}


def test_seed002_runs_on_fargate_with_no_container_instance(berth, cluster):
    ecs = berth.client("ecs")
    logs = berth.client("logs")
    seed = seed_002_task_definition()
    registered = ecs.register_task_definition(**seed)["taskDefinition"]
    assert registered["compatibilities"] == ["EC2", "FARGATE"]
    assert registered["requiresCompatibilities"] == ["FARGATE"]
    assert {"com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.task-eni"} <= {
        a["name"] for a in registered["requiresAttributes"]
    }
    # The same definition with the test image (seed 002's own image is in an account's ECR).
    web = dict(seed["containerDefinitions"][0], image=TEST_IMAGE, command=HTTPD)
    family = unique("seed002")
    logs.create_log_group(logGroupName=web["logConfiguration"]["options"]["awslogs-group"] + "-" + family)
    web["logConfiguration"]["options"]["awslogs-group"] += "-" + family
    td = ecs.register_task_definition(**dict(seed, family=family, containerDefinitions=[web]))["taskDefinition"]

    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []
    ran = ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinitionArn"], launchType="FARGATE",
                       networkConfiguration=VPC)  # fmt: skip
    assert ran["failures"] == []
    arn = ran["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]

    assert task["launchType"] == "FARGATE"
    assert "containerInstanceArn" not in task, "Fargate tasks run on no container instance"
    assert (task["platformVersion"], task["platformFamily"]) == ("1.4.0", "Linux")
    assert task["ephemeralStorage"] == {"sizeInGiB": 20}
    assert (task["cpu"], task["memory"]) == ("256", "512")
    assert task["pullStartedAt"] <= task["pullStoppedAt"] <= task["startedAt"]
    details = eni_details(task)
    assert details["subnetId"] == "subnet-fargate1"
    assert details["networkInterfaceId"].startswith("eni-")
    assert re.fullmatch(r"02:42(:[0-9a-f]{2}){4}", details["macAddress"])
    ip = details["privateIPv4Address"]
    assert details["privateDnsName"] == f"ip-{ip.replace('.', '-')}.ec2.internal"
    assert http_get(f"http://{ip}:80/").strip() == "fargate"
    # The pool that runs it is berth's, not the cluster's.
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] == 0


def test_a_second_fargate_task_gets_its_own_address(berth, cluster):
    ecs = berth.client("ecs")
    td = fargate_family(ecs, command=HTTPD, portMappings=[{"containerPort": 80}])
    ran = ecs.run_task(cluster=cluster, taskDefinition=td, launchType="FARGATE", networkConfiguration=VPC, count=2)
    arns = [t["taskArn"] for t in ran["tasks"]]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=arns, WaiterConfig=WAIT)
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    ips = {eni_details(t)["privateIPv4Address"] for t in tasks}
    assert len(ips) == 2
    for ip in ips:
        assert http_get(f"http://{ip}:80/").strip() == "fargate"


def test_a_service_splits_base_then_weights_and_replaces_interrupted_spot_tasks(berth, cluster):
    ecs = berth.client("ecs")
    td = fargate_family(ecs)
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    name = unique("svc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=4,
                       capacityProviderStrategy=strategy, networkConfiguration=VPC)  # fmt: skip
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=WAIT)
    arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    by_provider = sorted(t["capacityProviderName"] for t in tasks)
    assert by_provider == ["FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT"]
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    spot = [t["taskArn"] for t in tasks if t["capacityProviderName"] == "FARGATE_SPOT"]
    target = spot[0]

    out = subprocess.run(
        [str(berth.binary), "fargate-spot-interrupt", "--cluster", cluster, "--task", target],
        env=berth.env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out == [target]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[target], WaiterConfig=WAIT)
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[target])["tasks"][0]
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("SpotInterruption", "Your Spot Task was interrupted.")
    # The service starts a replacement, again on spot (its split is kept 1 + 3).
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=WAIT)
    now = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"])
    live = [t for t in now["tasks"] if t["lastStatus"] == "RUNNING"]
    assert target not in {t["taskArn"] for t in live}
    assert sorted(t["capacityProviderName"] for t in live) == by_provider


@pytest.mark.parametrize(
    "members, message",
    [
        ({"cpu": "256", "memory": "4096"},
         "No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values."),  # fmt: skip
        ({"networkMode": "bridge"}, "Fargate only supports network mode 'awsvpc'."),
        ({"ports": [{"containerPort": 80, "hostPort": 8080}]},
         "When networkMode=awsvpc, the host ports and container ports in port mappings must match."),  # fmt: skip
    ],
)
def test_what_fargate_cannot_run_is_refused_with_ecs_messages(berth, members, message):
    ecs = berth.client("ecs")
    c = {"name": "app", "image": TEST_IMAGE, "essential": True}
    if "ports" in members:
        c["portMappings"] = members.pop("ports")
    request = {"family": unique("bad"), "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
               "cpu": "256", "memory": "512", "containerDefinitions": [c]}  # fmt: skip
    request.update(members)
    with raises_aws("ClientException", message):
        ecs.register_task_definition(**request)


def test_a_fargate_service_behind_an_ip_target_group(berth, cluster):
    import requests

    ecs, elbv2 = berth.client("ecs"), berth.client("elbv2")
    tg = elbv2.create_target_group(Name=unique("fgtg"), Protocol="HTTP", Port=80, VpcId="vpc-1", TargetType="ip",
                                   HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                   HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    lb = elbv2.create_load_balancer(Name=unique("fglb"), Subnets=["subnet-fargate1", "subnet-fargate2"])
    lb = lb["LoadBalancers"][0]
    try:
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])  # fmt: skip
        hostname = ["sh", "-c", "trap 'exit 0' TERM; hostname > /www/index.html; httpd -f -p 80 -h /www & wait"]
        td = fargate_family(ecs, command=hostname, portMappings=[{"containerPort": 80}])
        name = unique("fgweb")
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=2, launchType="FARGATE",
                           networkConfiguration=VPC,
                           loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}])  # fmt: skip
        service = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
        assert service["launchType"] == "FARGATE" and service["platformVersion"] == "LATEST"
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=WAIT)
        elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        tasks = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"])
        ips = {eni_details(t)["privateIPv4Address"] for t in tasks["tasks"]}
        targets = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        assert {(t["Target"]["Id"], t["Target"]["Port"]) for t in targets} == {(ip, 80) for ip in ips}
        seen = {requests.get(f"http://{lb['DNSName']}/", timeout=10).text.strip() for _ in range(10)}
        assert len(seen) == 2, "both Fargate tasks answer through the load balancer"
    finally:
        elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
