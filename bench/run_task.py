#!/usr/bin/env python3
"""RunTask → RUNNING through berth against `docker run -d` of the same cached image, and the agent's memory.

    .venv/bin/python bench/run_task.py [--runs 20] [--tasks 50]

Starts `berth server` and one `berth agent` (BERTH_BIN, default target/release/berth) with the e2e harness,
then, interleaving the two so that both see the same machine load:
  - berth:  boto3 RunTask, then DescribeTasks every 10 ms until lastStatus is RUNNING;
  - docker: `docker run -d` of the same image and command (it returns once the container has started).
Prints the median and p90 of each and their ratio; then the agent's RSS idle and with --tasks tasks running.
Everything runs on loopback and stops by itself; containers are removed at the end.
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

from agent_harness import TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402

COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def time_berth(ecs, cluster: str, td: str) -> tuple[float, str]:
    start = time.perf_counter()
    arn = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
    while ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
        time.sleep(0.01)
    return time.perf_counter() - start, arn


def time_docker(name: str) -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "run", "-d", "--name", name, TEST_IMAGE, *COMMAND], check=True, capture_output=True)
    return time.perf_counter() - start


def summary(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.0f} ms, p90 {xs[int(len(xs) * 0.9) - 1] * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    cluster = unique("bench")
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, work / "agent", cpu=65536, memory=65536).start()
    docker_names: list[str] = []
    try:
        td = ecs.register_task_definition(
            family=unique("bench"),
            containerDefinitions=[{"name": "c", "image": TEST_IMAGE, "memory": 16, "command": COMMAND, "stopTimeout": 2}],
        )["taskDefinition"]["taskDefinitionArn"]
        time.sleep(1)
        idle_rss = rss_kib(agent.proc.pid)

        berth_times, docker_times, arns = [], [], []
        for i in range(args.runs):
            elapsed, arn = time_berth(ecs, cluster, td)
            berth_times.append(elapsed)
            arns.append(arn)
            name = f"berth-bench-docker-{os.getpid()}-{i}"
            docker_names.append(name)
            docker_times.append(time_docker(name))

        for _ in range(args.tasks - len(arns)):
            arns.append(ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"])
        deadline = time.monotonic() + 300
        while True:
            running = sum(
                t["lastStatus"] == "RUNNING"
                for chunk in range(0, len(arns), 100)
                for t in ecs.describe_tasks(cluster=cluster, tasks=arns[chunk : chunk + 100])["tasks"]
            )
            if running == len(arns) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(2)
        busy_rss = rss_kib(agent.proc.pid)

        b, d = statistics.median(berth_times), statistics.median(docker_times)
        print(f"RunTask -> RUNNING (berth):  {summary(berth_times)}")
        print(f"docker run -d:               {summary(docker_times)}")
        print(f"ratio berth/docker (median): {b / d:.2f}x")
        print(f"agent RSS idle: {idle_rss / 1024:.1f} MiB; with {running} tasks running: {busy_rss / 1024:.1f} MiB")
    finally:
        agent.close()
        server.close()
        if docker_names:
            subprocess.run(["docker", "rm", "-f", *docker_names], capture_output=True)


if __name__ == "__main__":
    main()
