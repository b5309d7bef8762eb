"""Seed 000 from its first script to its last, in order, against one server: ecs_00 → ecs_02 (IAM, the cluster,
the GPU Auto Scaling group and its capacity provider), ecs_03 (the ALB's security group, ingress rules by
security group, the load balancer on two subnets, an ip target group with the seed's health check, the
listener, DDN_ALB_DNS written to .env), ecs_04 (`set -a; source .env`, the log group, `envsubst` of
taskdef.json.tpl, `jq empty`, register-task-definition --cli-input-json), ecs_05 (the ARNs by name, the latest
revision by list-task-definitions --sort DESC, create-service --launch-type EC2 in awsvpc behind the target
group), ecs_06 (a new image pushed to ECR, ecs_04 again, update-service to the new revision: a rolling update),
ecs_07 (Application Auto Scaling: min 1 max 4 and a cpu70 target tracking policy), the seed's troubleshooting
and monitoring commands, ecs_98 (the family's task definitions deregistered and deleted) and ecs_99 (the
service, the group, the load balancer, the capacity provider, `aws ec2 wait instance-terminated`). Every
script runs verbatim through bash and the real aws CLI in a directory holding the seed's .env; what the
listings leave out is added and said so in a comment.

What the seed relies on is checked for real: a GET through the listener reaches the flask container of a task
on a GPU instance (the triton container holds the instance's GPU), the target is healthy, the rolling update
serves the new revision, ecs_07's target, policy and alarms exist, the cleanup leaves no instance, group, load
balancer, target group or container, and the task definitions end DELETE_IN_PROGRESS.

The service runs one task (DDN_ECS_DESIRED_COUNT=1): each g4dn.xlarge has one GPU and each task needs one,
so the rolling update's new task takes the second instance's GPU before the old one stops (with two tasks on
two GPUs, ECS's default 100 % minimum healthy leaves a rolling update no room either).
"""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from agent_harness import TEST_IMAGE
from berth_harness import unique
from seed000 import (
    ECS_99_CAPACITY_AND_WAIT,
    ECS_99_LOAD_BALANCER,
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

# Ten scripts, two rolling starts behind health checks, and a group's instances terminated: more than 300 s on a
# loaded CI machine.
pytestmark = pytest.mark.timeout(1800)

# The seed's .env beyond ecs_00–02's values (ENV): the ports, health check and service settings its scripts read.
ENV_FULL = {
    **ENV,
    "DDN_FLASK_PORT": "50101",
    "DDN_TRITON_HTTP_PORT": "50201",
    "DDN_TRITON_GRPC_PORT": "58202",
    "DDN_HEALTH_PATH": "/healthz",
    "DDN_HEALTH_INTERVAL": "5",
    "DDN_HEALTH_TIMEOUT": "2",
    "DDN_HEALTH_HEALTHY": "2",
    "DDN_HEALTH_UNHEALTHY": "2",
    "DDN_ECS_DESIRED_COUNT": "1",
    "DDN_ECS_CONTAINER": "flask",
    "DDN_ECS_EXECUTION_ROLE_NAME": "ecsTaskExecutionRole",
}

# The team's task definition template (the seed does not list it): a flask container answering /healthz on
# the flask port and a triton container on the HTTP and gRPC ports holding one GPU, both logging to
# /ecs/<family> through awslogs. The test image's busybox httpd stands in for both servers; no `$` but the
# template's own placeholders, since envsubst replaces every one.
TASKDEF_TPL = r"""{
  "family": "${DDN_ECS_TASK_FAMILY}",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["EC2"],
  "executionRoleArn": "arn:aws:iam::${AWS_ACCOUNT_ID}:role/${DDN_ECS_EXECUTION_ROLE_NAME}",
  "cpu": "1024",
  "memory": "2048",
  "containerDefinitions": [
    {
      "name": "${DDN_ECS_CONTAINER}",
      "image": "${DDN_ECR_URI}:${DDN_IMAGE_TAG}",
      "essential": true,
      "memory": 512,
      "portMappings": [{ "containerPort": ${DDN_FLASK_PORT}, "protocol": "tcp" }],
      "environment": [
        { "name": "TRITON_URL", "value": "localhost:${DDN_TRITON_HTTP_PORT}" }
      ],
      "command": ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo ok > /www/healthz; echo flask ${DDN_IMAGE_TAG} > /www/index.html; echo flask ${DDN_IMAGE_TAG} serving on ${DDN_FLASK_PORT}; httpd -f -p ${DDN_FLASK_PORT} -h /www & wait"],
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
          "awslogs-group": "/ecs/${DDN_ECS_TASK_FAMILY}",
          "awslogs-region": "${AWS_REGION}",
          "awslogs-stream-prefix": "flask"
        }
      }
    },
    {
      "name": "triton",
      "image": "${DDN_ECR_URI}:${DDN_IMAGE_TAG}",
      "essential": true,
      "memory": 1024,
      "portMappings": [
        { "containerPort": ${DDN_TRITON_HTTP_PORT}, "protocol": "tcp" },
        { "containerPort": ${DDN_TRITON_GRPC_PORT}, "protocol": "tcp" }
      ],
      "resourceRequirements": [{ "type": "GPU", "value": "1" }],
      "command": ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /models; echo ready > /models/index.html; echo triton ready on ${DDN_TRITON_HTTP_PORT} and ${DDN_TRITON_GRPC_PORT}; httpd -f -p ${DDN_TRITON_HTTP_PORT} -h /models & httpd -f -p ${DDN_TRITON_GRPC_PORT} -h /models & wait"],
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
          "awslogs-group": "/ecs/${DDN_ECS_TASK_FAMILY}",
          "awslogs-region": "${AWS_REGION}",
          "awslogs-stream-prefix": "triton"
        }
      }
    }
  ]
}
"""

# Scenario 2's "push a new image to ECR" (the seed gives no commands for it): the test image under the tag
# DDN_IMAGE_TAG of the repository DDN_ECR_REPO, the docker CLI logged in with get-login-password.
PUSH_IMAGE = r"""
set -euo pipefail
REPO_URI=$(aws ecr describe-repositories --repository-names "$DDN_ECR_REPO" \
  --query 'repositories[0].repositoryUri' --output text 2>/dev/null ||
  aws ecr create-repository --repository-name "$DDN_ECR_REPO" --query 'repository.repositoryUri' --output text)
aws ecr get-login-password | docker login --username AWS --password-stdin "${REPO_URI%%/*}" >/dev/null
docker tag "$BASE_IMAGE" "$REPO_URI:$DDN_IMAGE_TAG"
docker push "$REPO_URI:$DDN_IMAGE_TAG" >/dev/null
echo "$REPO_URI"
"""

# The task definition's execution role, which the seed's account has and its scripts do not make: ECS's
# ecsTaskExecutionRole (ECS tasks may assume it; it may pull from ECR and write the awslogs streams).
EXECUTION_ROLE = r"""
set -euo pipefail
aws iam create-role \
  --role-name "$DDN_ECS_EXECUTION_ROLE_NAME" \
  --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [
      { "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }
    ]
  }' >/dev/null
aws iam attach-role-policy \
  --role-name "$DDN_ECS_EXECUTION_ROLE_NAME" \
  --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
"""

# ecs_03 as the seed writes it. Added: ECS_SG_ID, the instances' group ecs_02 made, looked up by its name; a
# --query on each create whose whole JSON output the listing would otherwise take for the id or ARN; ALB_DNS,
# which the listing writes to .env without assigning it.
ECS_03 = r"""
set -euo pipefail
ECS_SG_ID=$(aws ec2 describe-security-groups \
  --filters "Name=group-name,Values=$DDN_ECS_SG_NAME" "Name=vpc-id,Values=$DDN_VPC_ID" \
  --query 'SecurityGroups[0].GroupId' --output text)

ALB_SG_ID=$(aws ec2 create-security-group \
  --vpc-id "$DDN_VPC_ID" \
  --group-name "$DDN_ALB_SG_NAME" \
  --description "ALB SG" --query 'GroupId' --output text)

aws ec2 authorize-security-group-ingress --group-id "$ALB_SG_ID" \
  --ip-permissions "IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}]"

# Flask 포트만 ALB SG에서 허용
aws ec2 authorize-security-group-ingress --group-id "$ECS_SG_ID" \
  --ip-permissions "IpProtocol=tcp,FromPort=$DDN_FLASK_PORT,ToPort=$DDN_FLASK_PORT,UserIdGroupPairs=[{GroupId=$ALB_SG_ID}]"

# Triton 포트는 ECS SG 내부 통신만 허용
for P in "$DDN_TRITON_HTTP_PORT" "$DDN_TRITON_GRPC_PORT"; do
  aws ec2 authorize-security-group-ingress --group-id "$ECS_SG_ID" \
    --ip-permissions "IpProtocol=tcp,FromPort=$P,ToPort=$P,UserIdGroupPairs=[{GroupId=$ECS_SG_ID}]"
done

ALB_ARN=$(aws elbv2 create-load-balancer \
  --name "$DDN_ALB_NAME" \
  --type application \
  --security-groups "$ALB_SG_ID" \
  --subnets $SUBNET1 $SUBNET2 --query 'LoadBalancers[0].LoadBalancerArn' --output text)

TG_FLASK_ARN=$(aws elbv2 create-target-group \
  --name "$DDN_TG_FLASK" \
  --protocol HTTP --port "$DDN_FLASK_PORT" \
  --vpc-id "$DDN_VPC_ID" \
  --target-type ip \
  --health-check-protocol HTTP \
  --health-check-path "$DDN_HEALTH_PATH" \
  --health-check-interval-seconds "$DDN_HEALTH_INTERVAL" \
  --health-check-timeout-seconds "$DDN_HEALTH_TIMEOUT" \
  --healthy-threshold-count "$DDN_HEALTH_HEALTHY" \
  --unhealthy-threshold-count "$DDN_HEALTH_UNHEALTHY" --query 'TargetGroups[0].TargetGroupArn' --output text)

LISTENER_ARN=$(aws elbv2 create-listener \
  --load-balancer-arn "$ALB_ARN" \
  --protocol HTTP --port 80 \
  --default-actions "Type=forward,TargetGroupArn=$TG_FLASK_ARN" --query 'Listeners[0].ListenerArn' --output text)

ALB_DNS=$(aws elbv2 describe-load-balancers --load-balancer-arns "$ALB_ARN" \
  --query 'LoadBalancers[0].DNSName' --output text)

if grep -q '^DDN_ALB_DNS=' .env; then
  sed -i "s|^DDN_ALB_DNS=.*|DDN_ALB_DNS=$ALB_DNS|" .env
else
  echo "DDN_ALB_DNS=$ALB_DNS" >> .env
fi
"""

# ecs_04 as the seed writes it, less `sudo yum install -y -q gettext jq` (the machine has envsubst and jq).
# Added: `|| true` on create-log-group, which the second run (scenario 2) finds existing, as ecs_01 does for
# create-cluster; the revision printed for the test.
ECS_04 = r"""
set -euo pipefail
set -a   # 자동으로 모든 변수 export
source .env
set +a

aws logs create-log-group --log-group-name "/ecs/$DDN_ECS_TASK_FAMILY" || true

envsubst < taskdef.json.tpl > taskdef.json

if ! jq empty taskdef.json >/dev/null 2>&1; then
  echo "[ERROR] taskdef.json is not valid JSON"
  exit 1
fi

REV=$(aws ecs register-task-definition \
  --cli-input-json file://taskdef.json \
  --query 'taskDefinition.revision' --output text)
echo "$REV"
"""

# ecs_05 as the seed writes it. Added: ECS_SG_ID looked up by name as in ecs_03, and SUBNETS_JSON, the .env's
# subnets quoted for the shorthand list.
ECS_05 = r"""
set -euo pipefail
ECS_SG_ID=$(aws ec2 describe-security-groups \
  --filters "Name=group-name,Values=$DDN_ECS_SG_NAME" "Name=vpc-id,Values=$DDN_VPC_ID" \
  --query 'SecurityGroups[0].GroupId' --output text)
SUBNETS_JSON=$(echo "$DDN_SUBNET_IDS" | sed 's/[^,][^,]*/"&"/g')

ALB_ARN=$(aws elbv2 describe-load-balancers \
  --names "$DDN_ALB_NAME" \
  --query 'LoadBalancers[0].LoadBalancerArn' \
  --output text)

TG_FLASK_ARN=$(aws elbv2 describe-target-groups \
  --names "$DDN_TG_FLASK" \
  --query 'TargetGroups[0].TargetGroupArn' \
  --output text)

REV=$(aws ecs list-task-definitions \
  --family-prefix "$DDN_ECS_TASK_FAMILY" \
  --sort DESC --query 'taskDefinitionArns[0]' --output text)

aws ecs create-service \
  --cluster "$DDN_ECS_CLUSTER" \
  --service-name "$DDN_ECS_SERVICE" \
  --task-definition "$REV" \
  --desired-count "$DDN_ECS_DESIRED_COUNT" \
  --launch-type EC2 \
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS_JSON],securityGroups=[\"$ECS_SG_ID\"],assignPublicIp=DISABLED}" \
  --load-balancers "targetGroupArn=$TG_FLASK_ARN,containerName=$DDN_ECS_CONTAINER,containerPort=$DDN_FLASK_PORT" \
  --health-check-grace-period-seconds 60
"""

# ecs_06, which the seed names without commands ("the service to the latest task definition, a rolling
# update"), as an ECS user writes it: the newest revision of the family, update-service to it.
ECS_06 = r"""
set -euo pipefail
TD_ARN=$(aws ecs list-task-definitions \
  --family-prefix "$DDN_ECS_TASK_FAMILY" \
  --sort DESC --query 'taskDefinitionArns[0]' --output text)

aws ecs update-service \
  --cluster "$DDN_ECS_CLUSTER" \
  --service "$DDN_ECS_SERVICE" \
  --task-definition "$TD_ARN" >/dev/null
echo "$TD_ARN"
"""

# ecs_07, which the seed names without commands, as test_application_autoscaling.py writes it: the service's
# desired count between 1 and 4, a target tracking policy holding its average CPU at 70 %.
ECS_07 = r"""
set -euo pipefail
RESOURCE_ID="service/$DDN_ECS_CLUSTER/$DDN_ECS_SERVICE"
aws application-autoscaling register-scalable-target \
  --service-namespace ecs \
  --scalable-dimension ecs:service:DesiredCount \
  --resource-id "$RESOURCE_ID" \
  --min-capacity 1 --max-capacity 4

aws application-autoscaling put-scaling-policy \
  --service-namespace ecs \
  --scalable-dimension ecs:service:DesiredCount \
  --resource-id "$RESOURCE_ID" \
  --policy-name cpu70 \
  --policy-type TargetTrackingScaling \
  --target-tracking-scaling-policy-configuration '{
    "TargetValue": 70.0,
    "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" },
    "ScaleOutCooldown": 60,
    "ScaleInCooldown": 60
  }'
"""

# ecs_98 "Task Definition 정리", which the seed names without commands, as an ECS user writes it: every ACTIVE
# revision of the family deregistered, then every INACTIVE one deleted.
ECS_98 = r"""
set -euo pipefail
for TD in $(aws ecs list-task-definitions --family-prefix "$DDN_ECS_TASK_FAMILY" \
    --query 'taskDefinitionArns[]' --output text); do
  aws ecs deregister-task-definition --task-definition "$TD" >/dev/null
done

INACTIVE=$(aws ecs list-task-definitions --family-prefix "$DDN_ECS_TASK_FAMILY" --status INACTIVE \
  --query 'taskDefinitionArns[]' --output text)
if [ -n "$INACTIVE" ]; then
  aws ecs delete-task-definitions --task-definitions $INACTIVE >/dev/null
fi
"""


@pytest.fixture
def seed(make_berth, test_image, tmp_path):
    """Seed 000's server, its .env and taskdef.json.tpl in a directory of their own, a docker config of its own;
    what a failed run leaves of the cluster's containers and the pushed image tags is removed."""
    # ECS's 15 minutes before an empty instance is scaled in (not the other seed test's 5 s): the rolling
    # update needs the second instance's GPU while the service's one task runs on the first.
    berth = seed_server(make_berth, scale_in_after_seconds=900)
    work = tmp_path / "script"
    work.mkdir()
    (tmp_path / "docker-config").mkdir()
    identity = berth.client("sts").get_caller_identity()
    env = {
        **ENV_FULL,
        **vpc_env(berth),
        "DDN_ECS_CLUSTER": unique("ddn-ecs"),
        "DDN_ASG_NAME": unique("ddn-gpu-asg"),
        "DDN_LAUNCH_TEMPLATE_NAME": unique("ddn-gpu-lt"),
        "DDN_ECS_SG_NAME": unique("ddn-ecs-sg"),
        "DDN_ALB_SG_NAME": unique("ddn-alb-sg"),
        "DDN_ALB_NAME": unique("ddn-alb"),
        "DDN_TG_FLASK": unique("ddn-tg-flask"),
        "DDN_ECS_SERVICE": unique("ddn-svc"),
        "DDN_ECS_TASK_FAMILY": unique("ddn-triton-task"),
        "DDN_ECR_REPO": unique("ddn-flask"),
        "AWS_ACCOUNT_ID": identity["Account"],
        "BASE_IMAGE": TEST_IMAGE,
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
    }
    (work / "taskdef.json.tpl").write_text(TASKDEF_TPL)
    pushed: list[str] = []
    yield berth, env, work, pushed
    remove_containers_of(env["DDN_ECS_CLUSTER"])
    if pushed:
        subprocess.run(["docker", "rmi", "-f", *pushed], capture_output=True)


def write_env(work, env: dict[str, str], **changes: str) -> None:
    """The seed's .env: every DDN_ value (and the region and account envsubst fills in), keeping what a script
    appended (DDN_ALB_DNS)."""
    path = work / ".env"
    kept = {}
    if path.exists():
        kept = dict(line.split("=", 1) for line in path.read_text().splitlines() if line.startswith("DDN_ALB_DNS="))
    values = {k: v for k, v in {**env, **changes}.items() if k.startswith(("DDN_", "AWS_ACCOUNT_ID"))}
    values["AWS_REGION"] = env.get("AWS_REGION", "us-east-1")
    path.write_text("".join(f"{k}={v}\n" for k, v in {**values, **kept}.items()))


def dotenv(work) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (work / ".env").read_text().splitlines() if "=" in line)


def push(berth, env, pushed: list[str], tag: str) -> str:
    uri = bash(berth, PUSH_IMAGE, {**env, "DDN_IMAGE_TAG": tag}).strip()
    pushed.append(f"{uri}:{tag}")
    return uri


def wait_stable(ecs, cluster: str, service: str) -> None:
    """Waits for the service to be steady; a failure says what its events and tasks say."""
    try:
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service], WaiterConfig={"Delay": 1, "MaxAttempts": 240})
    except Exception as e:
        s = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        tasks = service_tasks(ecs, cluster, service, "STOPPED") + service_tasks(ecs, cluster, service)
        raise AssertionError(f"{e}\nevents: {[v['message'] for v in s['events']][:10]}\ndeployments: {s['deployments']}\n"
                             f"tasks: {[(t['lastStatus'], t.get('stoppedReason')) for t in tasks]}") from e


def get(url: str) -> tuple[int, str]:
    r = requests.get(url, timeout=10)
    return r.status_code, r.text


def test_seed_000_runs_verbatim_from_ecs_00_to_ecs_99(seed):
    berth, env, work, pushed = seed
    cluster, asg, service, family = (
        env["DDN_ECS_CLUSTER"], env["DDN_ASG_NAME"], env["DDN_ECS_SERVICE"], env["DDN_ECS_TASK_FAMILY"],
    )  # fmt: skip
    ecs, elbv2, ec2 = berth.client("ecs"), berth.client("elbv2"), berth.client("ec2")
    env = {**env, "AWS_REGION": berth.region}

    # What the seed's account holds before its scripts run: the execution role, the image in ECR as v1.
    bash(berth, EXECUTION_ROLE, env)
    env["DDN_ECR_URI"] = push(berth, env, pushed, "v1")
    write_env(work, env, DDN_IMAGE_TAG="v1")

    # ecs_00 → ecs_02: two g4dn.xlarge instances join with one GPU each.
    bash(berth, SETUP, env, cwd=work)
    cis = wait_for("2 container instances", lambda: (c := container_instances(ecs, cluster)) and len(c) == 2 and c)
    assert all(len({r["name"]: r for r in ci["registeredResources"]}["GPU"]["stringSetValue"]) == 1 for ci in cis)

    # ecs_03: the ALB's group open on 80, the instances' group open to it on the flask port and to itself on
    # triton's; the load balancer, the ip target group with the seed's health check, the listener, .env.
    bash(berth, ECS_03, env, cwd=work)
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": [env["DDN_ECS_SG_NAME"], env["DDN_ALB_SG_NAME"]]}])["SecurityGroups"]}  # fmt: skip
    ecs_sg, alb_sg = groups[env["DDN_ECS_SG_NAME"]]["GroupId"], groups[env["DDN_ALB_SG_NAME"]]["GroupId"]
    assert [(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in groups[env["DDN_ALB_SG_NAME"]]["IpPermissions"]] == [
        (80, ["0.0.0.0/0"])]  # fmt: skip
    pairs = {(p["FromPort"], p["ToPort"]): [u["GroupId"] for u in p["UserIdGroupPairs"]]
             for p in groups[env["DDN_ECS_SG_NAME"]]["IpPermissions"]}  # fmt: skip
    assert pairs == {(50101, 50101): [alb_sg], (50201, 50201): [ecs_sg], (58202, 58202): [ecs_sg]}
    lb = elbv2.describe_load_balancers(Names=[env["DDN_ALB_NAME"]])["LoadBalancers"][0]
    assert (lb["Type"], lb["SecurityGroups"]) == ("application", [alb_sg])
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted([env["SUBNET1"], env["SUBNET2"]])
    tg = elbv2.describe_target_groups(Names=[env["DDN_TG_FLASK"]])["TargetGroups"][0]
    assert (tg["TargetType"], tg["Port"], tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"],
            tg["HealthCheckTimeoutSeconds"], tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == (
        "ip", 50101, "/healthz", 5, 2, 2, 2)  # fmt: skip
    assert tg["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    assert dotenv(work)["DDN_ALB_DNS"] == lb["DNSName"]
    # The test's own shortening (as the server's flags shorten other waits): ALB's 300 s deregistration
    # delay would hold the rolling update's old task for five minutes.
    elbv2.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])  # fmt: skip

    # ecs_04: revision 1 from the template.
    assert bash(berth, ECS_04, env, cwd=work).split()[-1] == "1"
    registered = json.loads((work / "taskdef.json").read_text())
    assert registered["containerDefinitions"][0]["image"] == f"{env['DDN_ECR_URI']}:v1"

    # ecs_05: the service in awsvpc on the GPU instances, its task healthy behind the listener.
    bash(berth, ECS_05, env, cwd=work)
    wait_stable(ecs, cluster, service)
    elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg["TargetGroupArn"], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    url = f"http://{dotenv(work)['DDN_ALB_DNS']}/"
    first = check_serving(ecs, elbv2, cluster, service, tg, url, cis, f"{family}:1", "flask v1")

    # Scenario 2 and ecs_06: v2 pushed, ecs_04 again (revision 2), the service rolled to it.
    push(berth, env, pushed, "v2")
    write_env(work, env, DDN_IMAGE_TAG="v2")
    assert bash(berth, ECS_04, env, cwd=work).split()[-1] == "2"
    assert bash(berth, ECS_06, env, cwd=work).strip().endswith(f":task-definition/{family}:2")
    wait_for("the rolling update to complete", lambda: (s := ecs.describe_services(cluster=cluster, services=[service])[
        "services"][0]) and len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED"
        and s["runningCount"] == 1, timeout=300)  # fmt: skip
    wait_for("the new task's target healthy alone", lambda: [
        t["TargetHealth"]["State"] for t in elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"]] == ["healthy"], timeout=120)  # fmt: skip
    second = check_serving(ecs, elbv2, cluster, service, tg, url, cis, f"{family}:2", "flask v2")
    assert second["taskArn"] != first["taskArn"]
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[first["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED" or stopped["desiredStatus"] == "STOPPED"

    # ecs_07: the scalable target, the cpu70 policy and the two alarms AWS makes for it.
    bash(berth, ECS_07, env, cwd=work)
    resource = f"service/{cluster}/{service}"
    targets = berth.aws("application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs",
                        "--resource-ids", resource)["ScalableTargets"]  # fmt: skip
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 4)]
    policies = berth.aws("application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs",
                         "--resource-id", resource)["ScalingPolicies"]  # fmt: skip
    assert [p["PolicyName"] for p in policies] == ["cpu70"]
    alarms = berth.aws("cloudwatch", "describe-alarms", "--alarm-names", *[a["AlarmName"] for a in policies[0]["Alarms"]])
    high, low = sorted(a["AlarmName"] for a in alarms["MetricAlarms"])
    assert high.startswith(f"TargetTracking-{resource}-AlarmHigh-") and low.startswith(f"TargetTracking-{resource}-AlarmLow-")

    # The seed's troubleshooting and monitoring commands.
    troubleshoot(berth, env, tg, ecs_sg, second)

    # ecs_98: both revisions deregistered and deleted; revision 2 still runs, so it is DELETE_IN_PROGRESS.
    bash(berth, ECS_98, env, cwd=work)
    for rev in (1, 2):
        td = ecs.describe_task_definition(taskDefinition=f"{family}:{rev}")["taskDefinition"]
        assert td["status"] == "DELETE_IN_PROGRESS", (rev, td["status"])
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"] == []

    # ecs_99: the service, the group, the load balancer and its target group, the capacity provider; the group's
    # instances terminated.
    bash(berth, ECS_99_SERVICE_AND_GROUP, env, cwd=work)
    bash(berth, ECS_99_LOAD_BALANCER, env, cwd=work)
    ids = last_line(bash(berth, ECS_99_CAPACITY_AND_WAIT, env, cwd=work)).split()
    assert {c["ec2InstanceId"] for c in cis} <= set(ids)
    states = {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}
    assert states == {"terminated"}
    wait_for("the cluster's containers to be gone", lambda: not containers_of(cluster), timeout=120)
    wait_for("the group to be gone", lambda: not berth.aws(
        "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", asg)["AutoScalingGroups"])
    assert not container_instances(ecs, cluster)
    assert not [l for l in elbv2.describe_load_balancers()["LoadBalancers"] if l["LoadBalancerName"] == env["DDN_ALB_NAME"]]
    assert not [t for t in elbv2.describe_target_groups()["TargetGroups"] if t["TargetGroupName"] == env["DDN_TG_FLASK"]]
    providers = ecs.describe_capacity_providers(capacityProviders=[f"{asg}-cp"])
    assert [p["status"] for p in providers.get("capacityProviders", [])] in ([], ["INACTIVE"]), providers


def check_serving(ecs, elbv2, cluster, service, tg, url, cis, revision: str, answer: str) -> dict:
    """The service's one task runs REVISION on one of the GPU instances, its triton container holding that
    instance's GPU; its address is the group's one healthy target; GETs through the listener get ANSWER."""
    tasks = service_tasks(ecs, cluster, service)
    assert len(tasks) == 1, tasks
    task = tasks[0]
    assert task["taskDefinitionArn"].endswith(f":task-definition/{revision}") and task["launchType"] == "EC2"
    by_arn = {c["containerInstanceArn"]: c for c in cis}
    assert task["containerInstanceArn"] in by_arn
    gpus = {r["name"]: r for r in by_arn[task["containerInstanceArn"]]["registeredResources"]}["GPU"]["stringSetValue"]
    containers = {c["name"]: c for c in task["containers"]}
    assert containers["triton"]["gpuIds"] == gpus and "gpuIds" not in containers["flask"]
    ip = containers["flask"]["networkInterfaces"][0]["privateIpv4Address"]
    health = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [(h["Target"]["Id"], h["Target"]["Port"], h["TargetHealth"]["State"]) for h in health] == [(ip, 50101, "healthy")]
    for _ in range(3):
        assert get(url) == (200, f"{answer}\n")
    assert get(url + "healthz") == (200, "ok\n")
    return task


def troubleshoot(berth, env, tg, ecs_sg, task) -> None:
    """The seed's 트러블슈팅 and 모니터링 commands answer about what runs."""
    cluster, family, asg = env["DDN_ECS_CLUSTER"], env["DDN_ECS_TASK_FAMILY"], env["DDN_ASG_NAME"]
    td = berth.aws("ecs", "describe-task-definition", "--task-definition", family)["taskDefinition"]
    assert (td["revision"], [c["name"] for c in td["containerDefinitions"]]) == (2, ["flask", "triton"])
    assert task["containerInstanceArn"] in berth.aws("ecs", "list-container-instances", "--cluster", cluster)["containerInstanceArns"]
    health = berth.aws("elbv2", "describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
    assert [h["TargetHealth"]["State"] for h in health["TargetHealthDescriptions"]] == ["healthy"]
    sg = berth.aws("ec2", "describe-security-groups", "--group-ids", ecs_sg)["SecurityGroups"]
    assert [g["GroupName"] for g in sg] == [env["DDN_ECS_SG_NAME"]] and len(sg[0]["IpPermissions"]) == 3
    activities = berth.aws("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", asg)["Activities"]
    assert len([a for a in activities if a["Description"].startswith("Launching a new EC2 instance")]) >= 2
    assert all(a["StatusCode"] == "Successful" for a in activities if a["Description"].startswith("Launching"))
    providers = berth.aws("ecs", "describe-capacity-providers", "--capacity-providers", f"{asg}-cp")["capacityProviders"]
    assert [(p["status"], p["autoScalingGroupProvider"]["managedScaling"]["status"]) for p in providers] == [("ACTIVE", "ENABLED")]
    # `aws logs tail /ecs/<family>` is CLI v2's; the test tier's CLI (v1) has no tail, so the same question is
    # asked through the call tail makes, FilterLogEvents over the group's streams.
    events = berth.aws("logs", "filter-log-events", "--log-group-name", f"/ecs/{family}")["events"]
    task_id = task["taskArn"].rsplit("/", 1)[1]
    said = {(e["logStreamName"], e["message"]) for e in events}
    assert (f"flask/flask/{task_id}", "flask v2 serving on 50101") in said, said
    assert (f"triton/triton/{task_id}", "triton ready on 50201 and 58202") in said, said
