#!/usr/bin/env python3
"""EC2 instances on a host: how long `RunInstances --count N` takes to give N ACTIVE, connected container
instances, and what an idle instance's in-process agent costs in memory.

    .venv/bin/python bench/fleet.py [--count 10] [--instance-type t3.micro] [--idle 15]

Starts `berth server --no-host` (BERTH_BIN, default target/release/berth) with the e2e harness and one
`berth host` process beside it offering room for the instances (--host-cpus/--host-memory), creates an instance profile
whose role has AmazonEC2ContainerServiceforEC2Role, reads the host's RSS (/proc/PID/status VmRSS), launches
the instances with user data `ECS_CLUSTER=bench` and times until all N are ACTIVE with agentConnected. After
--idle seconds it reads the RSS again: (after - before) / N is the memory of one idle instance agent. Then it
terminates them and times until they are terminated.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from berth_harness import Berth  # noqa: E402

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def connected(ecs, cluster: str) -> int:
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    if not arns:
        return 0
    cis = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]
    return sum(1 for c in cis if c["status"] == "ACTIVE" and c["agentConnected"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--instance-type", default="t3.micro")
    parser.add_argument("--idle", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="berth-bench-fleet-"))
    server = Berth(work / "server", extra_args=("--no-host",)).start()
    host = None
    try:
        ecs, ec2, iam = server.client("ecs"), server.client("ec2"), server.client("iam")
        host_log = (work / "host.log").open("wb")
        host = subprocess.Popen(
            [str(server.binary), "host", "--server", server.endpoint, "--data-dir", str(work / "host"),
             "--region", server.region, "--host-cpus", "256", "--host-memory", str(1024 * 1024)],
            env=dict(server.env), stdout=host_log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        iam.create_role(RoleName="benchInstanceRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(RoleName="benchInstanceRole", PolicyArn=POLICY)
        iam.create_instance_profile(InstanceProfileName="benchInstanceRole")
        iam.add_role_to_instance_profile(InstanceProfileName="benchInstanceRole", RoleName="benchInstanceRole")
        ecs.create_cluster(clusterName="bench")
        ami = server.client("ssm").get_parameters(Names=[AMI_PARAMETER])["Parameters"][0]["Value"]
        time.sleep(3)  # the host registers and settles
        before = rss_kib(host.pid)

        started = time.monotonic()
        launched = ec2.run_instances(
            ImageId=ami, InstanceType=args.instance_type, MinCount=args.count, MaxCount=args.count,
            IamInstanceProfile={"Name": "benchInstanceRole"},
            UserData="#!/bin/bash\necho ECS_CLUSTER=bench >> /etc/ecs/ecs.config\n",
        )["Instances"]  # fmt: skip
        ids = [i["InstanceId"] for i in launched]
        while connected(ecs, "bench") < args.count:
            if time.monotonic() - started > args.timeout:
                raise RuntimeError("the instances did not all join")
            time.sleep(0.1)
        joined = time.monotonic() - started
        time.sleep(args.idle)
        after = rss_kib(host.pid)

        started = time.monotonic()
        ec2.terminate_instances(InstanceIds=ids)
        ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        terminated = time.monotonic() - started

        print(f"binary: {server.binary}")
        print(f"RunInstances --count {args.count} ({args.instance_type}) -> {args.count} ACTIVE, connected: {joined:.2f} s")
        print(f"TerminateInstances -> all terminated: {terminated:.2f} s")
        print(f"host RSS before: {before / 1024:.1f} MiB, with {args.count} idle instance agents: {after / 1024:.1f} MiB")
        print(f"per idle instance agent: {(after - before) / args.count / 1024:.2f} MiB")
    finally:
        if host is not None:
            os.killpg(host.pid, signal.SIGTERM)
            host.wait(timeout=15)
        server.close()


if __name__ == "__main__":
    main()
