#!/usr/bin/env python3
"""Fargate RunTask → RUNNING through berth against `docker run -d` of the same cached image.

    .venv/bin/python bench/fargate_run_task.py [--runs 20]

Starts `berth server` (a host, so it is Fargate's capacity; BERTH_BIN, default target/release/berth) with the e2e
harness and a cluster with no container instance, registers an awsvpc FARGATE task definition (256 CPU, 512 MiB)
and, interleaving the two so that both see the same machine load:
  - berth:  boto3 RunTask --launch-type FARGATE, then DescribeTasks every 10 ms until lastStatus is RUNNING (the
    host's pool agent creates the task's pause container on berth-awsvpc and the container in its namespace);
  - docker: `docker run -d` of the same image and command (bench/run_task.py's).
The first Fargate task of a cluster also waits for the host to start the cluster's pool agent; it is reported
apart. Prints the median and p90 of each and their ratio. Containers are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import TEST_IMAGE, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402
from run_task import COMMAND, summary, time_docker  # noqa: E402

VPC = {"awsvpcConfiguration": {"subnets": ["subnet-bench"]}}


def time_fargate(ecs, cluster: str, td: str) -> tuple[float, str]:
    start = time.perf_counter()
    arn = ecs.run_task(cluster=cluster, taskDefinition=td, launchType="FARGATE", networkConfiguration=VPC)["tasks"][0][
        "taskArn"
    ]
    while ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
        time.sleep(0.01)
    return time.perf_counter() - start, arn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    cluster = unique("fargate-bench")
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    docker_names: list[str] = []
    arns: list[str] = []
    try:
        td = ecs.register_task_definition(
            family=unique("bench"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "c", "image": TEST_IMAGE, "command": COMMAND, "stopTimeout": 2}],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        first, arn = time_fargate(ecs, cluster, td)
        arns.append(arn)
        berth_times, docker_times = [], []
        for i in range(args.runs):
            elapsed, arn = time_fargate(ecs, cluster, td)
            berth_times.append(elapsed)
            arns.append(arn)
            name = f"berth-bench-fargate-docker-{os.getpid()}-{i}"
            docker_names.append(name)
            docker_times.append(time_docker(name))
        b, d = statistics.median(berth_times), statistics.median(docker_times)
        print(f"first Fargate task of the cluster (pool agent starts): {first * 1000:.0f} ms")
        print(f"Fargate RunTask -> RUNNING (berth): {summary(berth_times)}")
        print(f"docker run -d:                      {summary(docker_times)}")
        print(f"ratio berth/docker (median):        {b / d:.2f}x")
    finally:
        for arn in arns:
            ecs.stop_task(cluster=cluster, task=arn)
        if arns:
            ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=arns, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        server.close()
        if docker_names:
            subprocess.run(["docker", "rm", "-f", *docker_names], capture_output=True)


if __name__ == "__main__":
    main()
