#!/usr/bin/env python3
"""The console's service page at 1,000 tasks: server-side time and bytes per page.

    .venv/bin/python bench/console.py [--instances 20] [--tasks 1000] [--runs 30]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness, registers --instances
simulated container instances (`berth agent --simulate`), creates a service of --tasks tasks and waits until they
all run, signs in to the console with the root key and GETs the service page, the cluster page and a task page
--runs times each, and the same ECS reads over HTTP with boto3 for comparison. Reports the server's own time per page (the console's `Server-Timing: app;dur=` header: every
API read the page makes, in process, plus rendering) as p50/p90/max, the client's wall time, and the bytes of
HTML. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import AgentProcess  # noqa: E402
from berth_harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Berth, unique  # noqa: E402

LIMIT_S = 600


def measure(session: requests.Session, url: str, runs: int) -> dict:
    server, wall, sizes = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        resp = session.get(url, allow_redirects=False)
        wall.append((time.perf_counter() - start) * 1000)
        resp.raise_for_status()
        server.append(float(re.search(r"dur=([0-9.]+)", resp.headers["server-timing"]).group(1)))
        sizes.append(len(resp.content))
    server.sort()
    return {
        "p50": statistics.median(server),
        "p90": server[int(len(server) * 0.9) - 1],
        "max": server[-1],
        "wall_p50": statistics.median(wall),
        "bytes": sizes[-1],
    }


def api_reads(ecs, cluster: str, service: str, runs: int) -> float:
    """p50 ms of the reads the service page makes, asked over HTTP with boto3 (ListTasks pages, DescribeTasks
    batches of 100, DescribeServices): what the page costs before the console does anything."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ecs.describe_services(cluster=cluster, services=[service])
        arns, token = [], None
        while True:
            page = ecs.list_tasks(cluster=cluster, serviceName=service, maxResults=100, **({"nextToken": token} if token else {}))
            arns += page["taskArns"]
            token = page.get("nextToken")
            if not token:
                break
        for i in range(0, len(arns), 100):
            ecs.describe_tasks(cluster=cluster, tasks=arns[i : i + 100])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-console-"))
    server = Berth(work / "server", extra_args=("--no-host",)).start()
    try:
        ecs = server.client("ecs")
        cluster = unique("bench-console")
        ecs.create_cluster(clusterName=cluster)
        sim = AgentProcess(server, cluster, work / "sim", extra_args=["--simulate", str(args.instances)])
        sim.args = [a for i, a in enumerate(sim.args) if a not in ("--cpu", "--memory") and sim.args[i - 1] not in ("--cpu", "--memory")]
        sim.start()
        try:
            start = time.perf_counter()
            while ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] < args.instances:
                if time.perf_counter() - start > LIMIT_S:
                    raise RuntimeError("the simulated instances did not all register")
                time.sleep(0.5)
            td = ecs.register_task_definition(
                family=unique("bench-console"), containerDefinitions=[{"name": "c", "image": "simulated", "memory": 16}]
            )["taskDefinition"]["taskDefinitionArn"]
            service = unique("big")
            ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=td, desiredCount=args.tasks)
            start = time.perf_counter()
            while ecs.describe_services(cluster=cluster, services=[service])["services"][0]["runningCount"] < args.tasks:
                if time.perf_counter() - start > LIMIT_S:
                    raise RuntimeError("the service's tasks did not all start")
                time.sleep(0.5)
            task = ecs.list_tasks(cluster=cluster, serviceName=service, maxResults=1)["taskArns"][0].rsplit("/", 1)[1]

            session = requests.Session()
            session.post(f"{server.endpoint}/console/sign-in",
                         data={"accessKeyId": ACCESS_KEY_ID, "secretAccessKey": SECRET_ACCESS_KEY}).raise_for_status()  # fmt: skip
            base = f"{server.endpoint}/console/clusters/{cluster}"
            pages = {"service page": f"{base}/services/{service}", "cluster page": base, "task page": f"{base}/tasks/{task}"}
            print(f"{args.tasks} tasks on {args.instances} simulated instances, {args.runs} GETs per page")
            print("| page | server p50 | p90 | max | client wall p50 | bytes |")
            print("| --- | --- | --- | --- | --- | --- |")
            for name, url in pages.items():
                m = measure(session, url, args.runs)
                print(f"| {name} | {m['p50']:.1f} ms | {m['p90']:.1f} ms | {m['max']:.1f} ms | {m['wall_p50']:.1f} ms | {m['bytes']:,} |")
            reads = api_reads(ecs, cluster, service, min(args.runs, 10))
            print(f"the service page's ECS reads over HTTP (boto3), p50: {reads:.1f} ms")
        finally:
            sim.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
