#!/usr/bin/env python3
"""A service replaces a killed task: time from `docker kill` of one of its containers to the replacement RUNNING.

    .venv/bin/python bench/service_replace.py [--runs 20] [--desired 3]

Starts `berth server` and one `berth agent` (BERTH_BIN, default target/release/berth) with the e2e harness, creates
a service of --desired tasks (the offline test image, `sleep`), waits for it to be steady, then --runs times: kills
one task's container with `docker kill` and polls ListTasks/DescribeTasks every 10 ms until a task that was not
there before is RUNNING (the agent reports the exit, the service controller places a replacement, the agent starts
it and reports RUNNING); then waits for the service to be steady again. Prints each run, then p50 and p90.
The last line is `kill → replacement RUNNING p50: N ms`.
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

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402

STABLE = {"Delay": 1, "MaxAttempts": 120}


def service_tasks(ecs, cluster: str, service: str) -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def one_run(ecs, cluster: str, service: str) -> float:
    tasks = service_tasks(ecs, cluster, service)
    before = {t["taskArn"] for t in tasks}
    victim = tasks[0]["containers"][0]["runtimeId"]
    start = time.perf_counter()
    subprocess.run(["docker", "kill", victim], check=True, capture_output=True)
    while True:
        if any(t["taskArn"] not in before and t["lastStatus"] == "RUNNING" for t in service_tasks(ecs, cluster, service)):
            return time.perf_counter() - start
        if time.perf_counter() - start > 120:
            raise RuntimeError("no replacement RUNNING within 120 s")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--desired", type=int, default=3)
    args = parser.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    cluster = unique("bench-svc")
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, work / "agent").start()
    try:
        container = {"name": "app", "image": TEST_IMAGE, "memory": 32, "essential": True, "command": SLEEP}
        td = ecs.register_task_definition(family=unique("bench-svc"), containerDefinitions=[container])
        service = unique("bench-svc")
        ecs.create_service(
            cluster=cluster,
            serviceName=service,
            taskDefinition=td["taskDefinition"]["taskDefinitionArn"],
            desiredCount=args.desired,
        )
        waiter = ecs.get_waiter("services_stable")
        waiter.wait(cluster=cluster, services=[service], WaiterConfig=STABLE)
        times = []
        for i in range(args.runs):
            elapsed = one_run(ecs, cluster, service)
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed * 1000:.0f} ms")
            waiter.wait(cluster=cluster, services=[service], WaiterConfig=STABLE)
        times.sort()
        p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
        print(f"runs: {len(times)}, p90 {p90 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
        print(f"kill → replacement RUNNING p50: {statistics.median(times) * 1000:.0f} ms")
    finally:
        agent.close()
        server.close()


if __name__ == "__main__":
    main()
