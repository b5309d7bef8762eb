"""Container secrets as ECS injects them: a task's `secrets` from an SSM parameter and from a JSON key of a
Secrets Manager secret become environment variables of its real Docker container (seen in its awslogs
output), never appear in DescribeTasks; a service's forced new deployment picks up an updated secret; a
missing parameter, or one the task's execution role may not read, fails the task with ECS's
ResourceInitializationError."""

from __future__ import annotations

import json
import time

import pytest

from agent_harness import TEST_IMAGE, AgentProcess
from berth_harness import unique

WAIT = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    name = unique("secrets")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name
    agent.close()


TRUST_ECS_TASKS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})  # fmt: skip


def execution_role(berth, actions: list[str]) -> str:
    """A task execution role allowed `actions` on every resource."""
    iam = berth.client("iam")
    name = unique("exec")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_ECS_TASKS)["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="secrets", PolicyDocument=json.dumps(policy))
    return arn


@pytest.fixture(scope="module")
def reader_role(berth):
    return execution_role(berth, ["ssm:GetParameters", "secretsmanager:GetSecretValue"])


def printer(ecs, group: str, secrets: list[dict], script: str, role: str) -> str:
    c = {
        "name": "printer", "image": TEST_IMAGE, "memory": 32, "essential": True, "command": ["sh", "-c", script],
        "secrets": secrets,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
            "awslogs-create-group": "true"}},
    }  # fmt: skip
    td = ecs.register_task_definition(
        family=unique("secrets"), networkMode="bridge", executionRoleArn=role, containerDefinitions=[c])
    return td["taskDefinition"]["taskDefinitionArn"]


def messages(berth, group: str, task_arn: str) -> list[str]:
    stream = f"ecs/printer/{task_arn.rsplit('/', 1)[-1]}"
    out = berth.aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--start-from-head")
    return [e["message"] for e in out["events"]]


def secrets_and_values(berth):
    ssm, sm = berth.client("ssm"), berth.client("secretsmanager")
    param = f"/{unique('app')}/db-host"
    ssm.put_parameter(Name=param, Value="db.internal:5432", Type="SecureString")
    secret = sm.create_secret(Name=unique("app-creds"), SecretString=json.dumps({"password": "s3cr3t-pw", "user": "app"}))
    return param, secret["ARN"]


def test_secrets_reach_the_container_and_nowhere_in_the_api(berth, cluster, reader_role):
    ecs = berth.client("ecs")
    param, secret_arn = secrets_and_values(berth)
    group = unique("/ecs/secrets")
    secrets = [{"name": "DB_HOST", "valueFrom": param}, {"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"}]
    td = printer(ecs, group, secrets, 'echo "host=$DB_HOST"; echo "password=$DB_PASSWORD"', reader_role)
    arn = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
    assert task["stopCode"] == "EssentialContainerExited" and task["containers"][0]["exitCode"] == 0, task
    assert messages(berth, group, arn) == ["host=db.internal:5432", "password=s3cr3t-pw"]
    described = json.dumps(task, default=str)
    assert "s3cr3t-pw" not in described and "db.internal" not in described
    assert "s3cr3t-pw" not in berth.log_text()


def test_a_forced_new_deployment_picks_up_the_updated_secret(berth, cluster, reader_role):
    ecs, sm = berth.client("ecs"), berth.client("secretsmanager")
    param, secret_arn = secrets_and_values(berth)
    group = unique("/ecs/rotate")
    td = printer(ecs, group, [{"name": "PW", "valueFrom": f"{secret_arn}:password::"}],
                 "trap 'exit 0' TERM; echo \"pw=$PW\"; sleep 600 & wait", reader_role)  # fmt: skip
    service = unique("svc")
    ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=td, desiredCount=1,
                       deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 100})  # fmt: skip
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service], WaiterConfig=WAIT)
    first = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"][0]
    sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({"password": "rotated-pw"}))
    ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        running = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="RUNNING")["taskArns"]
        fresh = [t for t in running if t != first]
        if fresh and messages_or_empty(berth, group, fresh[0]) == ["pw=rotated-pw"]:
            break
        time.sleep(1)
    else:
        raise AssertionError(f"the new deployment's task never printed the rotated secret: {running}")
    assert messages(berth, group, first) == ["pw=s3cr3t-pw"]
    ecs.delete_service(cluster=cluster, service=service, force=True)


def messages_or_empty(berth, group: str, task_arn: str) -> list[str]:
    try:
        return messages(berth, group, task_arn)
    except AssertionError:
        return []


def failed_start(ecs, cluster: str, td: str) -> str:
    """The stoppedReason of a task of `td` that fails to start."""
    arn = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
    assert task["stopCode"] == "TaskFailedToStart", task
    assert task["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets or registry auth: ")
    return task["stoppedReason"]


def test_a_missing_parameter_fails_the_task_with_ecs_reason(berth, cluster, reader_role):
    ecs = berth.client("ecs")
    missing = f"/{unique('nowhere')}/param"
    td = printer(ecs, unique("/ecs/missing"), [{"name": "X", "valueFrom": missing}], "echo never", reader_role)
    reason = failed_start(ecs, cluster, td)
    assert missing in reason and "ParameterNotFound" in reason


def test_an_execution_role_without_the_permission_fails_the_task(berth, cluster):
    ecs = berth.client("ecs")
    param, secret_arn = secrets_and_values(berth)
    params_only = execution_role(berth, ["ssm:GetParameters"])
    td = printer(ecs, unique("/ecs/denied"), [{"name": "PW", "valueFrom": secret_arn}], "echo never", params_only)
    reason = failed_start(ecs, cluster, td)
    role_name = params_only.rsplit("/", 1)[-1]
    assert f"assumed-role/{role_name}/" in reason and "not authorized to perform: secretsmanager:GetSecretValue" in reason
    assert secret_arn in reason


def test_environment_files_come_from_a_parameter_and_the_environment_wins(berth, cluster, reader_role):
    ecs, ssm = berth.client("ecs"), berth.client("ssm")
    env_file = f"/{unique('app')}/app.env"
    ssm.put_parameter(Name=env_file, Type="String",
                      Value="# the app's settings\nMODE=from-file\nLEVEL=from-file\nURL=http://x/?a=b\n")  # fmt: skip
    group = unique("/ecs/envfiles")
    c = {
        "name": "printer", "image": TEST_IMAGE, "memory": 32, "essential": True,
        "command": ["sh", "-c", 'echo "mode=$MODE level=$LEVEL url=$URL"'],
        "environment": [{"name": "LEVEL", "value": "from-environment"}],
        "environmentFiles": [{"value": f"arn:aws:ssm:{berth.region}:{berth.account_id}:parameter{env_file}", "type": "s3"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
            "awslogs-create-group": "true"}},
    }  # fmt: skip
    td = ecs.register_task_definition(family=unique("envfiles"), executionRoleArn=reader_role, containerDefinitions=[c])
    arn = ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinition"]["taskDefinitionArn"])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    assert messages(berth, group, arn) == ["mode=from-file level=from-environment url=http://x/?a=b"]

    s3 = {**c, "environmentFiles": [{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}]}
    td = ecs.register_task_definition(family=unique("envfiles"), executionRoleArn=reader_role, containerDefinitions=[s3])
    reason = failed_start(ecs, cluster, td["taskDefinition"]["taskDefinitionArn"])
    assert "arn:aws:s3:::bucket/app.env" in reason and "berth has no S3" in reason
