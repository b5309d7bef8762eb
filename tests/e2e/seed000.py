"""Seed 000's scripts and what its tests share: ecs_00 to ecs_02 (IAM, the cluster, the GPU Auto Scaling group
and its capacity provider) and ecs_99 as the seed writes them, run through bash and the real aws CLI, and the
probes the tests wait on."""

from __future__ import annotations

import subprocess
import time

from agent_harness import docker

CI_LABEL = "dev.berth.container-instance"
ENV = {
    "DDN_ECS_ROLE_NAME": "ecsInstanceRole",
    "DDN_ECS_PROFILE_NAME": "ecsInstanceRole",
    "DDN_ECS_INSTANCE_TYPE": "g4dn.xlarge",
    "DDN_MIN_CAPACITY": "1",
    "DDN_DESIRED_CAPACITY": "2",
    "DDN_MAX_CAPACITY": "3",
}

# ecs_00, ecs_01 and ecs_02 as the seed writes them. Only what the seed's environment provides is added: the
# group's ARN (ASG_ARN), and a --query on create-launch-template, whose whole JSON output the seed's listing
# would otherwise take for the id. The default VPC and its subnets (DDN_VPC_ID, DDN_SUBNET_IDS) come from the
# environment (`vpc_env`), as the seed's .env gives them.
SETUP = r"""
set -euo pipefail
aws sts get-caller-identity >/dev/null || { echo "[ERROR] AWS credentials not configured"; exit 1; }

aws iam create-role \
  --role-name $DDN_ECS_ROLE_NAME \
  --assume-role-policy-document '{
    "Version": "2008-10-17",
    "Statement": [
      {
        "Effect": "Allow",
        "Principal": { "Service": "ec2.amazonaws.com" },
        "Action": "sts:AssumeRole"
      }
    ]
  }'
aws iam attach-role-policy \
  --role-name $DDN_ECS_ROLE_NAME \
  --policy-arn arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role
aws iam create-instance-profile --instance-profile-name $DDN_ECS_PROFILE_NAME
aws iam add-role-to-instance-profile \
  --instance-profile-name $DDN_ECS_PROFILE_NAME \
  --role-name $DDN_ECS_ROLE_NAME

aws ecs create-cluster --cluster-name "$DDN_ECS_CLUSTER" >/dev/null || true

AMI_ID=$(aws ssm get-parameters \
  --names /aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id \
  --query 'Parameters[0].Value' --output text)

ECS_SG_ID=$(aws ec2 create-security-group \
  --vpc-id "$DDN_VPC_ID" \
  --group-name "$DDN_ECS_SG_NAME" \
  --description "ECS GPU instances SG" \
  --query 'GroupId' --output text 2>/dev/null || true)

USERDATA=$(cat <<EOF
#!/bin/bash
echo ECS_CLUSTER=${DDN_ECS_CLUSTER} >> /etc/ecs/ecs.config
EOF
)

LT_ID=$(aws ec2 create-launch-template \
  --launch-template-name "$DDN_LAUNCH_TEMPLATE_NAME" \
  --launch-template-data "{
    \"ImageId\": \"$AMI_ID\",
    \"InstanceType\": \"$DDN_ECS_INSTANCE_TYPE\",
    \"IamInstanceProfile\": {\"Name\": \"ecsInstanceRole\"},
    \"SecurityGroupIds\": [\"$ECS_SG_ID\"],
    \"UserData\": \"$(echo -n "$USERDATA" | base64 -w0)\"
  }" --query 'LaunchTemplate.LaunchTemplateId' --output text)

aws autoscaling create-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --launch-template "LaunchTemplateId=$LT_ID,Version=\$Latest" \
  --min-size "$DDN_MIN_CAPACITY" \
  --desired-capacity "$DDN_DESIRED_CAPACITY" \
  --max-size "$DDN_MAX_CAPACITY" \
  --vpc-zone-identifier "$DDN_SUBNET_IDS"

ASG_ARN=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$DDN_ASG_NAME" \
  --query 'AutoScalingGroups[0].AutoScalingGroupARN' --output text)
CP_NAME="${DDN_ASG_NAME}-cp"

aws ecs create-capacity-provider \
  --name "$CP_NAME" \
  --auto-scaling-group-provider "autoScalingGroupArn=$ASG_ARN,managedScaling={status=ENABLED,targetCapacity=100,minimumScalingStepSize=1,maximumScalingStepSize=1},managedTerminationProtection=DISABLED"

aws ecs put-cluster-capacity-providers \
  --cluster "$DDN_ECS_CLUSTER" \
  --capacity-providers "${DDN_ASG_NAME}-cp" \
  --default-capacity-provider-strategy capacityProvider="${DDN_ASG_NAME}-cp",weight=1
"""

# ecs_99 as the seed writes it, in three parts: the service and the group; the load balancer, its listeners and
# target group (for a run that made them); the capacity provider and the wait for the group's instances.
ECS_99_SERVICE_AND_GROUP = r"""
set -euo pipefail
aws ecs update-service \
  --cluster "$DDN_ECS_CLUSTER" \
  --service "$DDN_ECS_SERVICE" \
  --desired-count 0

aws ecs delete-service \
  --cluster "$DDN_ECS_CLUSTER" \
  --service "$DDN_ECS_SERVICE" \
  --force

aws autoscaling update-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --min-size 0 --desired-capacity 0

aws autoscaling delete-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --force-delete
"""

# ALB_ARN and TG_ARN are looked up by name as ecs_05 does (the listing uses them without assigning them).
ECS_99_LOAD_BALANCER = r"""
set -euo pipefail
ALB_ARN=$(aws elbv2 describe-load-balancers \
  --names "$DDN_ALB_NAME" \
  --query 'LoadBalancers[0].LoadBalancerArn' \
  --output text)
TG_ARN=$(aws elbv2 describe-target-groups \
  --names "$DDN_TG_FLASK" \
  --query 'TargetGroups[0].TargetGroupArn' \
  --output text)

LISTENERS=$(aws elbv2 describe-listeners --load-balancer-arn "$ALB_ARN" \
  --query 'Listeners[].ListenerArn' --output text)
for L in $LISTENERS; do aws elbv2 delete-listener --listener-arn "$L"; done

aws elbv2 delete-load-balancer --load-balancer-arn "$ALB_ARN"

aws elbv2 delete-target-group --target-group-arn "$TG_ARN"
"""

# The instance ids are printed at the end (an addition) so that the test can check them.
ECS_99_CAPACITY_AND_WAIT = r"""
set -euo pipefail
aws ecs put-cluster-capacity-providers \
  --cluster "$DDN_ECS_CLUSTER" \
  --capacity-providers [] \
  --default-capacity-provider-strategy []

aws ecs delete-capacity-provider --capacity-provider "${DDN_ASG_NAME}-cp"

INSTANCE_IDS=$(aws ec2 describe-instances \
  --filters "Name=tag:aws:autoscaling:groupName,Values=$DDN_ASG_NAME" \
  --query 'Reservations[].Instances[].InstanceId' --output text)

if [ -n "$INSTANCE_IDS" ]; then
  aws ec2 wait instance-terminated --instance-ids $INSTANCE_IDS
fi
echo "$INSTANCE_IDS"
"""


def vpc_env(berth) -> dict[str, str]:
    """What the seed's .env says of the network: the default VPC and its subnets (DDN_SUBNET_IDS, comma
    separated, and the first two as SUBNET1, SUBNET2 for the load balancer)."""
    ec2 = berth.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    return {"DDN_VPC_ID": vpc, "DDN_SUBNET_IDS": ",".join(subnets), "SUBNET1": subnets[0], "SUBNET2": subnets[1]}


def seed_server(make_berth, scale_in_after_seconds: int = 5):
    """A server of the test's own (its host offers room for three g4dn.xlarge), scaling in instances that have
    been empty for `scale_in_after_seconds` (ECS's is 900), with a metric minute of 2 s."""
    return make_berth(extra_args=(
        "--capacity-scale-in-after-seconds", str(scale_in_after_seconds), "--metric-minute-seconds", "2"))  # fmt: skip


def remove_containers_of(cluster: str) -> None:
    """Removes what a failed test left of the cluster's containers."""
    leftovers = containers_of(cluster)
    if leftovers:
        subprocess.run(["docker", "rm", "-f", "-v", *leftovers], capture_output=True)


def bash(berth, script: str, env: dict[str, str], timeout: float = 600, cwd=None) -> str:
    """Runs SCRIPT in bash with the server's aws CLI environment and ENV (in CWD: where the seed's .env is)."""
    p = subprocess.run(
        ["bash", "-c", script], env={**berth.env, **env}, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
    assert p.returncode == 0, f"script exited {p.returncode}\n--- stderr ---\n{p.stderr}\n--- stdout ---\n{p.stdout}"
    return p.stdout


def last_line(output: str) -> str:
    """The last line a script printed (ecs_99's instance ids follow the JSON its other commands print)."""
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def wait_for(what, probe, timeout: float = 180.0, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def containers_of(cluster: str) -> list[str]:
    out = docker("ps", "-a", "--no-trunc", "--filter", f"label={CI_LABEL}", "--format", f'{{{{.ID}}}} {{{{.Label "{CI_LABEL}"}}}}')
    return [line.split()[0] for line in out.splitlines() if f"/{cluster}/" in line]


def container_instances(ecs, cluster: str) -> list[dict]:
    arns = ecs.list_container_instances(cluster=cluster, status="ACTIVE")["containerInstanceArns"]
    return ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"] if arns else []


def service_tasks(ecs, cluster: str, service: str, status: str = "RUNNING") -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def group(berth, name: str) -> dict:
    return berth.aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name)[
        "AutoScalingGroups"
    ][0]


