#!/usr/bin/env python3
"""Capacity that berth provisions, timed end to end: an Auto Scaling group's SetDesiredCapacity +N until N new
container instances are ACTIVE and connected, and a service's PROVISIONING tasks until they are RUNNING through
ECS managed scaling (the group scaled out by its capacity provider).

    .venv/bin/python bench/capacity_scale.py [--count 10] [--instance-type m5.large] [--rounds 3]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness, as a host offering room for
every instance (--host-cpus/--host-memory), creates an instance profile whose role has
AmazonEC2ContainerServiceforEC2Role and a launch template whose user data names the cluster. Each round:

1. a group of desired 0 is set to --count; timed until --count container instances are ACTIVE and connected;
2. a second group (desired 0, max --count) behind a capacity provider with managed scaling (target 100, step up
   to --count) is the cluster's default strategy; a service of --count tasks, each needing a whole instance's
   CPU, is created: its tasks wait in PROVISIONING; timed until all are RUNNING.

Prints each round and the median. Tasks run berth's test image (tests/images/build.sh).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import SLEEP, TEST_IMAGE, ensure_test_image  # noqa: E402
from berth_harness import Berth  # noqa: E402

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"
VCPUS = {"t3.micro": 2, "m5.large": 2, "m5.xlarge": 4, "c5.large": 2}


def connected(ecs, cluster: str) -> int:
    arns = ecs.list_container_instances(cluster=cluster, status="ACTIVE")["containerInstanceArns"]
    if not arns:
        return 0
    cis = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]
    return sum(1 for c in cis if c["agentConnected"])


def running(ecs, cluster: str, service: str) -> int:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return 0
    return sum(t["lastStatus"] == "RUNNING" for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"])


def until(what: str, probe, timeout: float) -> float:
    started = time.monotonic()
    while not probe():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"timed out: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--instance-type", default="m5.large", choices=sorted(VCPUS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    ensure_test_image()

    host = ("--host-cpus", "1024", "--host-memory", str(4 * 1024 * 1024))
    server = Berth(extra_args=host).start()
    try:
        ecs, ec2, iam, asg = (server.client(s) for s in ("ecs", "ec2", "iam", "autoscaling"))
        iam.create_role(RoleName="benchInstanceRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(RoleName="benchInstanceRole", PolicyArn=POLICY)
        iam.create_instance_profile(InstanceProfileName="benchInstanceRole")
        iam.add_role_to_instance_profile(InstanceProfileName="benchInstanceRole", RoleName="benchInstanceRole")
        ami = server.client("ssm").get_parameters(Names=[AMI_PARAMETER])["Parameters"][0]["Value"]
        subnets = ",".join(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["DefaultForAz"])
        cpu = VCPUS[args.instance_type] * 1024
        scale, provisioning = [], []
        for r in range(args.rounds):
            for kind in ("asg", "cp"):
                cluster = f"bench-{kind}-{r}"
                ecs.create_cluster(clusterName=cluster)
                user_data = f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n"
                lt = ec2.create_launch_template(LaunchTemplateName=f"lt-{cluster}", LaunchTemplateData={
                    "ImageId": ami, "InstanceType": args.instance_type, "IamInstanceProfile": {"Name": "benchInstanceRole"},
                    "UserData": base64.b64encode(user_data.encode()).decode()})["LaunchTemplate"]["LaunchTemplateId"]  # fmt: skip
                asg.create_auto_scaling_group(
                    AutoScalingGroupName=f"g-{cluster}", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"},
                    MinSize=0, MaxSize=args.count, DesiredCapacity=0, VPCZoneIdentifier=subnets,
                    NewInstancesProtectedFromScaleIn=kind == "cp",
                )  # fmt: skip
            # 1. SetDesiredCapacity +N → N ACTIVE container instances.
            asg.set_desired_capacity(AutoScalingGroupName=f"g-bench-asg-{r}", DesiredCapacity=args.count)
            scale.append(until("instances joined", lambda: connected(ecs, f"bench-asg-{r}") >= args.count, args.timeout))
            # 2. PROVISIONING tasks → RUNNING through managed scaling.
            cluster = f"bench-cp-{r}"
            group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"g-{cluster}"])["AutoScalingGroups"][0]
            ecs.create_capacity_provider(name=f"cp-{cluster}", autoScalingGroupProvider={
                "autoScalingGroupArn": group["AutoScalingGroupARN"], "managedTerminationProtection": "ENABLED",
                "managedScaling": {"status": "ENABLED", "targetCapacity": 100, "minimumScalingStepSize": 1,
                                   "maximumScalingStepSize": args.count}})  # fmt: skip
            ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[f"cp-{cluster}"],
                                               defaultCapacityProviderStrategy=[{"capacityProvider": f"cp-{cluster}",
                                                                                 "weight": 1}])  # fmt: skip
            ecs.register_task_definition(family=f"td-{cluster}", containerDefinitions=[
                {"name": "app", "image": TEST_IMAGE, "cpu": cpu, "memory": 64, "command": SLEEP}])  # fmt: skip
            ecs.create_service(cluster=cluster, serviceName="svc", taskDefinition=f"td-{cluster}",
                               desiredCount=args.count)  # fmt: skip
            provisioning.append(until("tasks RUNNING", lambda: running(ecs, cluster, "svc") >= args.count, args.timeout))
            print(f"round {r + 1}: SetDesiredCapacity +{args.count} -> {args.count} ACTIVE: {scale[-1]:.2f} s; "
                  f"{args.count} PROVISIONING tasks -> RUNNING: {provisioning[-1]:.2f} s", flush=True)  # fmt: skip
            for kind in ("asg", "cp"):
                if kind == "cp":
                    ecs.update_service(cluster=f"bench-cp-{r}", service="svc", desiredCount=0)
                    ecs.delete_service(cluster=f"bench-cp-{r}", service="svc", force=True)
                asg.delete_auto_scaling_group(AutoScalingGroupName=f"g-bench-{kind}-{r}", ForceDelete=True)
        print(f"binary: {server.binary}; instance type {args.instance_type}; {args.rounds} rounds")
        print(f"median SetDesiredCapacity +{args.count} -> {args.count} ACTIVE container instances: "
              f"{statistics.median(scale):.2f} s")  # fmt: skip
        print(f"median {args.count} PROVISIONING tasks -> RUNNING through managed scaling: "
              f"{statistics.median(provisioning):.2f} s")  # fmt: skip
    finally:
        server.close()


if __name__ == "__main__":
    main()
