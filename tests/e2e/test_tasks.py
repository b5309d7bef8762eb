"""Container instances and tasks: a real `berth agent` runs task definitions as Docker containers, driven
through the aws CLI and boto3 exactly as ECS is."""

from __future__ import annotations

import time

import pytest

from agent_harness import TEST_IMAGE, AgentProcess, docker, http_get
from berth_harness import raises_aws, unique

WAIT = {"Delay": 1, "MaxAttempts": 90}

# A shell as PID 1 ignores SIGTERM unless it traps it: these exit promptly on `docker stop`.
def until_stopped(script: str) -> list[str]:
    return ["sh", "-c", f"trap 'exit 0' TERM; {script} & wait"]


# Writes its own hostname into the page it serves, so a response tells which container answered.
HTTPD = until_stopped("hostname > /www/index.html; httpd -f -p 8080 -h /www")
SLEEP = until_stopped("sleep 600")


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    """A fresh cluster on the shared server with one agent (4 vCPU, 4 GiB offered)."""
    name = unique("tasks")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name, agent
    agent.close()


def web_task_definition(ecs, *, host_port=0, **container):
    c = {"name": "web", "image": TEST_IMAGE, "memory": 64, "essential": True, "command": HTTPD,
         "portMappings": [{"containerPort": 8080, "hostPort": host_port, "protocol": "tcp"}]}  # fmt: skip
    c.update(container)
    td = ecs.register_task_definition(family=unique("web"), networkMode="bridge", containerDefinitions=[c])
    return td["taskDefinition"]["taskDefinitionArn"]


def run(ecs, cluster, td, **kwargs):
    resp = ecs.run_task(cluster=cluster, taskDefinition=td, **kwargs)
    assert not resp["failures"], resp["failures"]
    return resp["tasks"]


def wait_running(ecs, cluster, arns):
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=arns, WaiterConfig=WAIT)
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]


def wait_stopped(ecs, cluster, arns):
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=arns, WaiterConfig=WAIT)
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]


def test_the_agent_registers_as_ecs_describes_an_instance(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    arns = ecs.list_container_instances(cluster=name)["containerInstanceArns"]
    assert arns == [agent.instance_arn]
    ci = ecs.describe_container_instances(cluster=name, containerInstances=arns)["containerInstances"][0]
    assert ci["status"] == "ACTIVE" and ci["agentConnected"] is True
    registered = {r["name"]: r for r in ci["registeredResources"]}
    assert registered["CPU"]["integerValue"] == 4096 and registered["MEMORY"]["integerValue"] == 4096
    assert set(registered["PORTS"]["stringSetValue"]) >= {"22", "2375", "2376", "51678", "51679"}
    attrs = {a["name"]: a.get("value") for a in ci["attributes"]}
    assert attrs["ecs.os-type"] == "linux"
    assert attrs["ecs.availability-zone"] == f"{berth.region}a"
    assert "ecs.capability.task-eni" in attrs


def test_run_task_serves_http_on_its_dynamic_port_then_stops(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    td = web_task_definition(ecs)
    task_arn = run(ecs, name, td)[0]["taskArn"]
    # The aws CLI's own waiter, as scripts use it.
    berth.aws("ecs", "wait", "tasks-running", "--cluster", name, "--tasks", task_arn)
    task = ecs.describe_tasks(cluster=name, tasks=[task_arn])["tasks"][0]
    assert task["lastStatus"] == "RUNNING" and task["desiredStatus"] == "RUNNING"
    for field in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt"):
        assert field in task, field
    binding = task["containers"][0]["networkBindings"][0]
    assert binding["containerPort"] == 8080 and 49153 <= binding["hostPort"] <= 65535
    runtime_id = task["containers"][0]["runtimeId"]
    assert http_get(f"http://127.0.0.1:{binding['hostPort']}/").strip() == runtime_id[:12]
    labels = docker("inspect", "-f", "{{json .Config.Labels}}", runtime_id)
    assert f'"com.amazonaws.ecs.task-arn":"{task_arn}"' in labels

    ecs.stop_task(cluster=name, task=task_arn, reason="done testing")
    berth.aws("ecs", "wait", "tasks-stopped", "--cluster", name, "--tasks", task_arn)
    task = ecs.describe_tasks(cluster=name, tasks=[task_arn])["tasks"][0]
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "done testing"
    assert "stoppedAt" in task and "stoppingAt" in task and "executionStoppedAt" in task
    assert task["containers"][0]["lastStatus"] == "STOPPED"


def test_an_essential_container_that_exits_stops_the_task(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    td = ecs.register_task_definition(
        family=unique("exit3"),
        containerDefinitions=[
            {"name": "main", "image": TEST_IMAGE, "memory": 32, "command": ["sh", "-c", "sleep 1; exit 3"]},
            {"name": "side", "image": TEST_IMAGE, "memory": 32, "essential": False, "command": SLEEP},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    arn = run(ecs, name, td)[0]["taskArn"]
    task = wait_stopped(ecs, name, [arn])[0]
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    containers = {c["name"]: c for c in task["containers"]}
    assert containers["main"]["exitCode"] == 3
    assert containers["side"]["lastStatus"] == "STOPPED"


def test_depends_on_and_health_checks_order_the_start(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    health = {"command": ["CMD-SHELL", "test -f /tmp/ready"], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 0}
    td = ecs.register_task_definition(
        family=unique("deps"),
        containerDefinitions=[
            {"name": "db", "image": TEST_IMAGE, "memory": 32, "healthCheck": health,
             "command": until_stopped("sleep 1; touch /tmp/ready; sleep 600")},
            {"name": "init", "image": TEST_IMAGE, "memory": 32, "essential": False, "command": ["true"]},
            {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": SLEEP,
             "dependsOn": [{"containerName": "db", "condition": "HEALTHY"},
                           {"containerName": "init", "condition": "SUCCESS"}]},
        ],  # fmt: skip
    )["taskDefinition"]["taskDefinitionArn"]
    arn = run(ecs, name, td)[0]["taskArn"]
    task = wait_running(ecs, name, [arn])[0]
    containers = {c["name"]: c for c in task["containers"]}
    assert containers["db"]["healthStatus"] == "HEALTHY"
    assert containers["init"]["exitCode"] == 0
    db_started = docker("inspect", "-f", "{{.State.StartedAt}}", containers["db"]["runtimeId"])
    app_started = docker("inspect", "-f", "{{.State.StartedAt}}", containers["app"]["runtimeId"])
    assert app_started > db_started
    # The task's health follows its essential container with a health check.
    deadline = time.monotonic() + 30
    while ecs.describe_tasks(cluster=name, tasks=[arn])["tasks"][0].get("healthStatus") != "HEALTHY":
        assert time.monotonic() < deadline, "task health never became HEALTHY"
        time.sleep(0.5)


def test_a_failed_success_dependency_fails_the_task_start(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    td = ecs.register_task_definition(
        family=unique("depfail"),
        containerDefinitions=[
            {"name": "init", "image": TEST_IMAGE, "memory": 32, "essential": False, "command": ["false"]},
            {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": SLEEP,
             "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}]},
        ],  # fmt: skip
    )["taskDefinition"]["taskDefinitionArn"]
    task = wait_stopped(ecs, name, [run(ecs, name, td)[0]["taskArn"]])[0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert "init" in task["stoppedReason"]


def test_two_tasks_cannot_share_a_fixed_host_port(berth, cluster, unused_port):
    name, agent = cluster
    ecs = berth.client("ecs")
    td = web_task_definition(ecs, host_port=unused_port)
    first = run(ecs, name, td)[0]["taskArn"]
    second = ecs.run_task(cluster=name, taskDefinition=td)
    assert second["tasks"] == []
    assert second["failures"] == [{"arn": agent.instance_arn, "reason": "RESOURCE:PORTS"}]
    wait_running(ecs, name, [first])
    assert http_get(f"http://127.0.0.1:{unused_port}/")


def test_an_awsvpc_task_is_reachable_at_its_own_address(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    td = ecs.register_task_definition(
        family=unique("vpc"),
        networkMode="awsvpc",
        containerDefinitions=[
            {"name": "web", "image": TEST_IMAGE, "memory": 64, "command": HTTPD, "portMappings": [{"containerPort": 8080}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    arn = run(ecs, name, td, networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-berth"]}})[0]["taskArn"]
    task = wait_running(ecs, name, [arn])[0]
    eni = task["attachments"][0]
    assert eni["type"] == "ElasticNetworkInterface" and eni["status"] == "ATTACHED"
    ip = {d["name"]: d["value"] for d in eni["details"]}["privateIPv4Address"]
    assert task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] == ip
    assert http_get(f"http://{ip}:8080/").strip()


def test_a_restarted_agent_adopts_its_running_containers(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    td = web_task_definition(ecs)
    arns = [t["taskArn"] for t in run(ecs, name, td, count=2)]
    wait_running(ecs, name, arns)
    before = agent.containers()
    assert len(before) == 2
    agent.kill()
    agent.start()
    time.sleep(2)  # let the restarted agent poll, adopt and report
    assert agent.containers() == before, "the restarted agent must neither duplicate nor remove containers"
    tasks = ecs.describe_tasks(cluster=name, tasks=arns)["tasks"]
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    assert sorted(ecs.list_tasks(cluster=name)["taskArns"]) == sorted(arns)
    # It still manages them: stopping works.
    ecs.stop_task(cluster=name, task=arns[0])
    wait_stopped(ecs, name, [arns[0]])


def test_a_container_removed_while_the_agent_was_down_is_reported(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    arn = run(ecs, name, web_task_definition(ecs))[0]["taskArn"]
    runtime_id = wait_running(ecs, name, [arn])[0]["containers"][0]["runtimeId"]
    agent.kill()
    docker("rm", "-f", runtime_id)
    agent.start()
    task = wait_stopped(ecs, name, [arn])[0]
    assert task["stopCode"] == "EssentialContainerExited"


def test_tasks_survive_a_server_restart(fresh_berth, tmp_path, test_image):
    ecs = fresh_berth.client("ecs")
    name = unique("restart")
    ecs.create_cluster(clusterName=name)
    agent = AgentProcess(fresh_berth, name, tmp_path / "agent").start()
    try:
        arn = run(ecs, name, web_task_definition(ecs))[0]["taskArn"]
        task = wait_running(ecs, name, [arn])[0]
        fresh_berth.restart(crash=True)
        ecs = fresh_berth.client("ecs")
        again = ecs.describe_tasks(cluster=name, tasks=[arn])["tasks"][0]
        assert again["lastStatus"] == "RUNNING"
        assert again["containers"][0]["runtimeId"] == task["containers"][0]["runtimeId"]
        port = again["containers"][0]["networkBindings"][0]["hostPort"]
        assert http_get(f"http://127.0.0.1:{port}/")
        # The agent reconnects and still acts on the server's word.
        ecs.stop_task(cluster=name, task=arn)
        wait_stopped(ecs, name, [arn])
    finally:
        agent.close()


@pytest.mark.parametrize(
    "container,reason",
    [
        ({"image": "berth-test/does-not-exist:latest"}, "CannotPullContainerError"),
        ({"command": ["/no/such/binary"]}, "CannotStartContainerError"),
    ],
)
def test_tasks_that_cannot_start_stop_with_the_reason(berth, cluster, container, reason):
    name, _ = cluster
    ecs = berth.client("ecs")
    c = {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": SLEEP}
    c.update(container)
    td = ecs.register_task_definition(family=unique("broken"), containerDefinitions=[c])["taskDefinition"]
    task = wait_stopped(ecs, name, [run(ecs, name, td["taskDefinitionArn"])[0]["taskArn"]])[0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert reason in task["stoppedReason"], task["stoppedReason"]


def test_a_container_over_its_memory_limit_is_killed(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    hog = "x=a; while true; do x=$x$x; done"
    td = ecs.register_task_definition(
        family=unique("oom"), containerDefinitions=[{"name": "hog", "image": TEST_IMAGE, "memory": 8, "command": ["sh", "-c", hog]}]
    )["taskDefinition"]["taskDefinitionArn"]
    task = wait_stopped(ecs, name, [run(ecs, name, td)[0]["taskArn"]])[0]
    hog_container = task["containers"][0]
    assert hog_container["exitCode"] == 137
    assert "OutOfMemory" in hog_container.get("reason", "")


def test_unknown_names_get_ecs_errors(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    with raises_aws("ClusterNotFoundException"):
        ecs.run_task(cluster=unique("nope"), taskDefinition=web_task_definition(ecs))
    with raises_aws({"InvalidParameterException", "ClientException"}):
        ecs.stop_task(cluster=name, task="0123456789abcdef0123456789abcdef")
    missing = ecs.describe_tasks(cluster=name, tasks=["0123456789abcdef0123456789abcdef"])
    assert missing["tasks"] == [] and missing["failures"][0]["reason"] == "MISSING"


def test_container_overrides_replace_command_and_environment(berth, cluster):
    name, _ = cluster
    ecs = berth.client("ecs")
    td = ecs.register_task_definition(
        family=unique("override"),
        containerDefinitions=[{"name": "app", "image": TEST_IMAGE, "memory": 32, "command": SLEEP,
                               "environment": [{"name": "CODE", "value": "1"}, {"name": "KEEP", "value": "4"}]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    overrides = {"containerOverrides": [{"name": "app", "command": ["sh", "-c", "exit $((CODE + KEEP))"],
                                         "environment": [{"name": "CODE", "value": "3"}]}]}  # fmt: skip
    task = wait_stopped(ecs, name, [run(ecs, name, td, overrides=overrides)[0]["taskArn"]])[0]
    assert task["overrides"]["containerOverrides"][0]["command"] == overrides["containerOverrides"][0]["command"]
    assert task["containers"][0]["exitCode"] == 7, "the override's CODE=3 plus the definition's KEEP=4"


def test_host_volumes_are_mounted(berth, cluster, tmp_path):
    name, _ = cluster
    ecs = berth.client("ecs")
    shared = tmp_path / "shared"
    shared.mkdir()
    td = ecs.register_task_definition(
        family=unique("volume"),
        volumes=[{"name": "data", "host": {"sourcePath": str(shared)}}],
        containerDefinitions=[{"name": "writer", "image": TEST_IMAGE, "memory": 32,
                               "command": ["sh", "-c", "echo written-by-task > /data/out.txt"],
                               "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    task = wait_stopped(ecs, name, [run(ecs, name, td)[0]["taskArn"]])[0]
    assert task["containers"][0]["exitCode"] == 0
    assert (shared / "out.txt").read_text().strip() == "written-by-task"


def test_a_host_network_task_listens_on_the_host(berth, cluster, unused_port):
    name, _ = cluster
    ecs = berth.client("ecs")
    serve = until_stopped(f"hostname > /www/index.html; httpd -f -p {unused_port} -h /www")
    td = ecs.register_task_definition(
        family=unique("hostnet"),
        networkMode="host",
        containerDefinitions=[{"name": "web", "image": TEST_IMAGE, "memory": 32, "command": serve,
                               "portMappings": [{"containerPort": unused_port}]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    task = wait_running(ecs, name, [run(ecs, name, td)[0]["taskArn"]])[0]
    assert http_get(f"http://127.0.0.1:{unused_port}/").strip()
    # The fixed port is the instance's now: a second copy cannot be placed.
    again = ecs.run_task(cluster=name, taskDefinition=td)
    assert again["failures"][0]["reason"] == "RESOURCE:PORTS"
    ecs.stop_task(cluster=name, task=task["taskArn"])
    wait_stopped(ecs, name, [task["taskArn"]])
