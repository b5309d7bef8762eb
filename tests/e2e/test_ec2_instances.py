"""EC2 instances that really run: `aws ec2 run-instances` on a berth server (which is a host) starts an ECS agent
for each instance in the server process, and the instance joins the cluster its user data names as a container
instance with its type's resources, GPUs and attributes; its tasks are real containers. Terminating drains and
deregisters it; an instance no host has room for is terminated with EC2's InsufficientInstanceCapacity; an
instance profile whose role may not register never joins; a crashed and restarted server re-adopts its instances'
containers without duplicating them."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent_harness import SLEEP, TEST_IMAGE, docker
from berth_harness import unique

WAIT = {"Delay": 1, "MaxAttempts": 120}
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
GPU_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id"
CI_LABEL = "dev.berth.container-instance"


def wait_for(predicate, timeout: float = 120.0, what: str = "condition", every: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def containers_of(cluster: str) -> list[str]:
    """Docker containers the agents of `cluster`'s container instances created."""
    out = docker("ps", "-a", "--no-trunc", "--filter", f"label={CI_LABEL}", "--format", f'{{{{.ID}}}} {{{{.Label "{CI_LABEL}"}}}}')
    return [line.split()[0] for line in out.splitlines() if f"/{cluster}/" in line]


def has_nvidia_gpus() -> bool:
    listed = shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0
    return bool(listed) or Path("/dev/nvidia0").exists()


@pytest.fixture
def server(fresh_berth, test_image):
    """A server of the test's own (its host's capacity is the test's), whose instances' containers are removed
    afterwards."""
    clusters: list[str] = []
    fresh_berth.clusters = clusters
    yield fresh_berth
    for cluster in clusters:
        ids = containers_of(cluster)
        if ids:
            subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True)


def new_cluster(berth) -> str:
    name = unique("fleet")
    berth.clusters.append(name)
    berth.aws("ecs", "create-cluster", "--cluster-name", name)
    return name


def instance_profile(berth, policy: str | None = INSTANCE_POLICY) -> str:
    """Seed 000's prerequisites: a role EC2 may assume, the ECS instance policy attached, in an instance profile."""
    name = unique("ecsInstanceRole")
    berth.aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", json.dumps(EC2_TRUST))
    if policy:
        berth.aws("iam", "attach-role-policy", "--role-name", name, "--policy-arn", policy)
    berth.aws("iam", "create-instance-profile", "--instance-profile-name", name)
    berth.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", name, "--role-name", name)
    return name


def user_data(tmp_path, cluster: str) -> str:
    path = tmp_path / f"userdata-{cluster}.sh"
    path.write_text(f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n")
    return f"file://{path}"


def gpu_ami(berth) -> str:
    return berth.aws("ssm", "get-parameters", "--names", GPU_AMI_PARAMETER, "--query", "Parameters[0].Value")


def run_instances(berth, *args: str) -> list[dict]:
    return berth.aws("ec2", "run-instances", *args)["Instances"]


def wait_instances(berth, ids: list[str], waiter: str = "instance_running") -> list[dict]:
    ec2 = berth.client("ec2")
    ec2.get_waiter(waiter).wait(InstanceIds=ids, WaiterConfig=WAIT)
    return [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]


def container_instances(berth, cluster: str) -> list[dict]:
    ecs = berth.client("ecs")
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    if not arns:
        return []
    return ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]


def joined(berth, cluster: str, count: int = 1) -> list[dict]:
    return wait_for(
        lambda: (cis := container_instances(berth, cluster)) and len(cis) >= count and all(c["agentConnected"] for c in cis) and cis,
        what=f"{count} container instances in {cluster}",
    )  # fmt: skip


def sleeper(berth, **container) -> str:
    spec = {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": SLEEP, **container}
    return berth.client("ecs").register_task_definition(family=unique("fleet"), containerDefinitions=[spec])[
        "taskDefinition"
    ]["taskDefinitionArn"]


def run_task(berth, cluster: str, td: str) -> dict:
    ecs = berth.client("ecs")
    resp = ecs.run_task(cluster=cluster, taskDefinition=td)
    assert not resp["failures"], resp["failures"]
    arn = resp["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    return ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]


def task_container(task: dict) -> str:
    """The Docker container of the task's `app` container."""
    ids = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.amazonaws.ecs.task-arn={task['taskArn']}").split()
    assert len(ids) == 1, ids
    return ids[0]


def test_a_gpu_instance_joins_its_cluster_runs_a_gpu_task_and_terminates(server, tmp_path):
    cluster = new_cluster(server)
    profile = instance_profile(server)
    ami = gpu_ami(server)
    [launched] = run_instances(
        server, "--image-id", ami, "--instance-type", "g4dn.xlarge", "--iam-instance-profile", f"Name={profile}",
        "--user-data", user_data(tmp_path, cluster), "--count", "1",
    )  # fmt: skip
    assert launched["State"]["Name"] == "pending"
    [instance] = wait_instances(server, [launched["InstanceId"]])
    assert instance["State"] == {"Code": 16, "Name": "running"}

    [ci] = joined(server, cluster)
    assert ci["ec2InstanceId"] == instance["InstanceId"]
    resources = {r["name"]: r for r in ci["registeredResources"]}
    assert resources["CPU"]["integerValue"] == 4096
    assert resources["MEMORY"]["integerValue"] == 15970, "16 GiB as ECS's agent registers it (7985/8192 of it)"
    [gpu_id] = resources["GPU"]["stringSetValue"]
    assert gpu_id.startswith("GPU-")
    attrs = {a["name"]: a.get("value") for a in ci["attributes"]}
    assert attrs["ecs.instance-type"] == "g4dn.xlarge"
    assert attrs["ecs.ami-id"] == ami
    assert attrs["ecs.availability-zone"] == instance["Placement"]["AvailabilityZone"]
    assert attrs["ecs.os-type"] == "linux"
    if not has_nvidia_gpus():
        assert attrs["berth.gpu-emulated"] == "true"

    td = sleeper(server, resourceRequirements=[{"type": "GPU", "value": "1"}])
    task = run_task(server, cluster, td)
    assert task["containerInstanceArn"] == ci["containerInstanceArn"]
    assert task["containers"][0]["gpuIds"] == [gpu_id]
    env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", task_container(task)))
    assert f"NVIDIA_VISIBLE_DEVICES={gpu_id}" in env
    # A second GPU task does not fit the instance's one GPU.
    refused = server.client("ecs").run_task(cluster=cluster, taskDefinition=td)
    assert refused["failures"][0]["reason"] == "RESOURCE:GPU"

    changes = server.aws("ec2", "terminate-instances", "--instance-ids", instance["InstanceId"])["TerminatingInstances"]
    assert changes[0]["CurrentState"]["Name"] == "shutting-down"
    wait_instances(server, [instance["InstanceId"]], "instance_terminated")
    ecs = server.client("ecs")
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stoppedReason"] == f"Host EC2 (instance {instance['InstanceId']}) terminated."
    assert stopped["stopCode"] == "TerminationNotice"
    assert container_instances(server, cluster) == []
    [gone] = ecs.describe_container_instances(cluster=cluster, containerInstances=[ci["containerInstanceArn"]])[
        "containerInstances"
    ]
    assert (gone["status"], gone["ec2InstanceId"]) == ("INACTIVE", instance["InstanceId"])
    wait_for(lambda: not containers_of(cluster), what="the task's container removed")


def test_more_instances_than_the_host_holds_are_terminated_for_capacity(server):
    ami = gpu_ami(server)
    launched = run_instances(server, "--image-id", ami, "--instance-type", "g4dn.xlarge", "--count", "4")
    ids = [i["InstanceId"] for i in launched]
    ec2 = server.client("ec2")

    def settled():
        found = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]
        states = sorted(i["State"]["Name"] for i in found)
        return found if states == ["running", "running", "running", "terminated"] else None

    found = wait_for(settled, what="three running, one terminated")
    [failed] = [i for i in found if i["State"]["Name"] == "terminated"]
    assert failed["StateReason"]["Code"] == "Server.InsufficientInstanceCapacity"
    assert failed["StateReason"]["Message"].startswith("Server.InsufficientInstanceCapacity: ")
    # Without an instance profile the agents cannot sign: EC2 shows them running, and no agent ever created
    # the `default` cluster its ecs.config (none) names, as ECS's agent would.
    assert server.client("ecs").list_clusters()["clusterArns"] == []
    server.aws("ec2", "terminate-instances", "--instance-ids", *ids)
    wait_instances(server, ids, "instance_terminated")


def test_an_instance_whose_role_may_not_register_never_joins(server, tmp_path):
    cluster = new_cluster(server)
    profile = instance_profile(server, policy=None)
    offset = server.log_size()
    [launched] = run_instances(
        server, "--image-id", gpu_ami(server), "--instance-type", "m5.large", "--iam-instance-profile",
        f"Name={profile}", "--user-data", user_data(tmp_path, cluster),
    )  # fmt: skip
    wait_instances(server, [launched["InstanceId"]])
    session = f"assumed-role/{profile}/{launched['InstanceId']}"
    wait_for(lambda: session in server.log_text(offset) and "AccessDenied" in server.log_text(offset), what="the agent's refusal in the log")  # fmt: skip
    assert "ecs:RegisterContainerInstance" in server.log_text(offset)
    assert container_instances(server, cluster) == []
    server.aws("ec2", "terminate-instances", "--instance-ids", launched["InstanceId"])
    wait_instances(server, [launched["InstanceId"]], "instance_terminated")


def test_a_crashed_server_readopts_its_instances_containers(server, tmp_path):
    cluster = new_cluster(server)
    profile = instance_profile(server)
    [launched] = run_instances(
        server, "--image-id", gpu_ami(server), "--instance-type", "t3.medium", "--iam-instance-profile",
        f"Name={profile}", "--user-data", user_data(tmp_path, cluster),
    )  # fmt: skip
    wait_instances(server, [launched["InstanceId"]])
    [ci] = joined(server, cluster)
    task = run_task(server, cluster, sleeper(server))
    before = task_container(task)

    server.restart(crash=True)
    [again] = joined(server, cluster)
    assert again["containerInstanceArn"] == ci["containerInstanceArn"], "the same container instance"
    ecs = server.client("ecs")
    time.sleep(5)  # a few polls: a duplicate would have been started by now
    now = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]
    assert now["lastStatus"] == "RUNNING"
    assert task_container(now) == before, "the same container, adopted"
    assert len(containers_of(cluster)) == 1
    [instance] = wait_instances(server, [launched["InstanceId"]])
    assert instance["State"]["Name"] == "running"
