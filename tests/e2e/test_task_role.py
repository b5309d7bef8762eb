"""Task roles for real: a task with a taskRoleArn reads its role's credentials from inside its container (busybox
wget against AWS_CONTAINER_CREDENTIALS_FULL_URI, as the SDKs' container provider does), those credentials act
as the role's session against berth, and no task can read another's."""

from __future__ import annotations

import json
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from agent_harness import TEST_IMAGE, AgentProcess, docker
from berth_harness import unique
from test_ecr import Docker, create_repo

WAIT = {"Delay": 1, "MaxAttempts": 90}
ACCOUNT = "000000000000"

# Prints the credentials the endpoint answers, then the URI and token it used, then idles.
FETCH = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; "
    'wget -qO- --header "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; '
    'echo; echo "URI=$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo "TOKEN=$AWS_CONTAINER_AUTHORIZATION_TOKEN"; '
    "sleep 600 & wait",
]


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    name = unique("roles")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name
    agent.close()


def role(iam, service: str = "ecs-tasks.amazonaws.com") -> str:
    name = unique("taskrole")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "ecs:List*"], "Resource": "*"}]}  # fmt: skip
    iam.put_role_policy(RoleName=name, PolicyName="task", PolicyDocument=json.dumps(allow))
    return arn


def task_definition(ecs, role_arn: str | None) -> str:
    members = {"taskRoleArn": role_arn} if role_arn else {}
    container = {"name": "app", "image": TEST_IMAGE, "memory": 32, "command": FETCH}
    return ecs.register_task_definition(family=unique("withrole"), containerDefinitions=[container], **members)[
        "taskDefinition"
    ]["taskDefinitionArn"]


def start(ecs, cluster: str, td: str, count: int = 1) -> list[str]:
    resp = ecs.run_task(cluster=cluster, taskDefinition=td, count=count)
    assert not resp["failures"], resp["failures"]
    arns = [t["taskArn"] for t in resp["tasks"]]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=arns, WaiterConfig=WAIT)
    return arns


def container_of(task_arn: str) -> str:
    return docker("ps", "-q", "--filter", f"label=com.amazonaws.ecs.task-arn={task_arn}").strip()


def output_of(container: str) -> tuple[dict, str, str]:
    """The credentials the container read, and the URI and token it read them with."""
    for _ in range(50):
        lines = subprocess.run(["docker", "logs", container], capture_output=True, text=True, check=True).stdout
        lines = lines.splitlines()
        if any(line.startswith("TOKEN=") for line in lines):
            break
        time.sleep(0.2)
    fields = dict(line.split("=", 1) for line in lines if line.startswith(("URI=", "TOKEN=")))
    return json.loads(lines[0]), fields["URI"], fields["TOKEN"]


def fetch_in(container: str, uri: str, token: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", container, "wget", "-qO-", "--header", f"Authorization: {token}", uri],
        capture_output=True,
        text=True,
    )


def sts_as(berth, creds: dict):
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["Token"],
        region_name=berth.region,
    )
    return session.client("sts", endpoint_url=berth.endpoint, config=Config(retries={"total_max_attempts": 1}))


def test_a_task_reads_its_role_credentials_and_they_act_as_the_role(berth, cluster):
    ecs, iam = berth.client("ecs"), berth.client("iam")
    role_arn = role(iam)
    role_name = role_arn.rsplit("/", 1)[1]
    first, second = start(ecs, cluster, task_definition(ecs, role_arn), count=2)
    box_a, box_b = container_of(first), container_of(second)
    creds_a, uri_a, token_a = output_of(box_a)
    creds_b, uri_b, token_b = output_of(box_b)

    assert uri_a.startswith("http://169.254.170.2:") and "/v2/credentials/" in uri_a
    assert creds_a["RoleArn"] == role_arn and creds_a["AccessKeyId"].startswith("ASIA")
    assert creds_a["Expiration"].endswith("Z")
    assert creds_a["AccessKeyId"] != creds_b["AccessKeyId"]
    for task, creds in ((first, creds_a), (second, creds_b)):
        identity = sts_as(berth, creds).get_caller_identity()
        assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{task.rsplit('/', 1)[1]}"

    # Task A's container, with its own token, can read its own credentials but not task B's.
    assert json.loads(fetch_in(box_a, uri_a, token_a).stdout)["AccessKeyId"] == creds_a["AccessKeyId"]
    refused = fetch_in(box_a, uri_b, token_a)
    assert refused.returncode != 0 and "401" in refused.stderr, refused
    guessed = fetch_in(box_a, uri_a.rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef", token_a)
    assert guessed.returncode != 0 and "404" in guessed.stderr, guessed

    # A stopped task's credentials URI answers no more.
    ecs.stop_task(cluster=cluster, task=first)
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[first], WaiterConfig=WAIT)
    gone = fetch_in(box_b, uri_a, token_a)
    assert gone.returncode != 0 and "404" in gone.stderr, gone
    assert json.loads(fetch_in(box_b, uri_b, token_b).stdout)["RoleArn"] == role_arn


def test_a_role_that_does_not_trust_ecs_tasks_fails_the_task(berth, cluster):
    ecs, iam = berth.client("ecs"), berth.client("iam")
    role_arn = role(iam, service="ec2.amazonaws.com")
    resp = ecs.run_task(cluster=cluster, taskDefinition=task_definition(ecs, role_arn))
    arn = resp["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
    assert "ecs-tasks.amazonaws.com is not authorized to perform: sts:AssumeRole" in task["stoppedReason"], task


def test_a_task_without_a_role_gets_no_credentials_endpoint(berth, cluster):
    ecs = berth.client("ecs")
    (arn,) = start(ecs, cluster, task_definition(ecs, None))
    env = docker("inspect", "--format", "{{json .Config.Env}}", container_of(arn))
    assert "AWS_CONTAINER_CREDENTIALS" not in env and "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in env


@pytest.fixture
def registry(berth, tmp_path, test_image):
    client = Docker(berth, tmp_path)
    yield client
    client.cleanup()


def pushed_image(berth, registry) -> str:
    """An image only berth's registry has (the local copies are removed): the agent must pull it."""
    repo = create_repo(berth)
    registry.login()
    local = registry.build(unique("local").lower() + ":1")
    ref = registry.tag(local, f"{repo['repositoryUri']}:run")
    registry.push(ref)
    registry.rmi(ref, local)
    return ref


def execution_role(iam, service: str, allow: list[str] | None = None) -> str:
    """A role trusting `service`, with AWS's AmazonECSTaskExecutionRolePolicy, or only `allow` if given."""
    name = unique("execrole")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]
    if allow is None:
        iam.attach_role_policy(
            RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
        )
    else:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allow, "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="only", PolicyDocument=json.dumps(policy))
    return arn


def test_the_execution_role_pulls_the_image_must_trust_ecs_tasks_and_be_allowed(berth, cluster, registry):
    ecs, iam = berth.client("ecs"), berth.client("iam")
    ref = pushed_image(berth, registry)
    command = ["sh", "-c", "trap 'exit 0' TERM; test -f /marker && sleep 600 & wait"]

    def run_with(role_arn: str) -> dict:
        td = ecs.register_task_definition(
            family=unique("exec"),
            executionRoleArn=role_arn,
            containerDefinitions=[{"name": "app", "image": ref, "memory": 64, "command": command}],
        )["taskDefinition"]["taskDefinitionArn"]
        arn = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
        describe = lambda: ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]  # noqa: E731
        while describe()["lastStatus"] not in ("RUNNING", "STOPPED"):
            time.sleep(0.5)
        return describe()

    # Trusted, and allowed the token but not the pull: the registry refuses the role's session (first,
    # while the engine has no copy of the image to fall back on).
    token_only = run_with(execution_role(iam, "ecs-tasks.amazonaws.com", allow=["ecr:GetAuthorizationToken"]))
    assert token_only["stopCode"] == "TaskFailedToStart"
    reason = token_only["stoppedReason"]
    assert reason.startswith("CannotPullContainerError:") and "not authorized" in reason, reason
    assert "ecr:BatchGetImage" in reason or "ecr:GetDownloadUrlForLayer" in reason, reason
    running = run_with(execution_role(iam, "ecs-tasks.amazonaws.com"))
    assert running["lastStatus"] == "RUNNING", running.get("stoppedReason")
    refused = run_with(execution_role(iam, "ec2.amazonaws.com"))
    assert refused["stopCode"] == "TaskFailedToStart"
    assert refused["stoppedReason"].startswith("CannotPullContainerError:"), refused
    assert "not authorized to perform: sts:AssumeRole" in refused["stoppedReason"]
