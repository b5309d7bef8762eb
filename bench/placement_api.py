#!/usr/bin/env python3
"""Placement through the real API on simulated container instances: RunTask at count 10 in a loop.

    .venv/bin/python bench/placement_api.py [--instances 1000] [--tasks 5000]

Starts `berth server` and one `berth agent --simulate N` process (BERTH_BIN, default target/release/berth) with
the e2e harness: N container instances of several types in three zones whose tasks run without containers.
Then calls RunTask (count 10, spread(attribute:ecs.availability-zone) + binpack(memory), memberOf on the
instance type) until --tasks tasks are placed, and prints the placement rate as RunTask answered it, then the
time until every task was reported RUNNING by its (simulated) agent. The last line is `placements/s: N`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import AgentProcess  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402

STRATEGY = [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
CONSTRAINTS = [{"type": "memberOf", "expression": "attribute:ecs.instance-type != c5.2xlarge"}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    cluster = unique("bench")
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    # The simulation's own sizes per instance type (AgentProcess passes --cpu/--memory: override them back).
    sim = AgentProcess(server, cluster, work / "sim", extra_args=["--simulate", str(args.instances)])
    sim.args = [a for i, a in enumerate(sim.args) if a not in ("--cpu", "--memory") and sim.args[i - 1] not in ("--cpu", "--memory")]
    sim.start()
    try:
        started = time.perf_counter()
        while True:
            n = len(ecs.list_container_instances(cluster=cluster, maxResults=100)["containerInstanceArns"])
            described = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
            if described["registeredContainerInstancesCount"] >= args.instances:
                break
            time.sleep(0.5)
        print(f"instances: {args.instances} registered in {time.perf_counter() - started:.1f} s")
        td = ecs.register_task_definition(
            family=unique("bench"), containerDefinitions=[{"name": "c", "image": "simulated", "memory": 256}]
        )["taskDefinition"]["taskDefinitionArn"]
        arns: list[str] = []
        failures = 0
        started = time.perf_counter()
        while len(arns) < args.tasks:
            out = ecs.run_task(
                cluster=cluster, taskDefinition=td, count=min(10, args.tasks - len(arns)),
                placementStrategy=STRATEGY, placementConstraints=CONSTRAINTS,
            )  # fmt: skip
            arns += [t["taskArn"] for t in out["tasks"]]
            failures += len(out["failures"])
            if out["failures"] and not out["tasks"]:
                break
        placed_s = time.perf_counter() - started
        while True:
            running = sum(
                t["lastStatus"] == "RUNNING"
                for chunk in range(0, len(arns), 100)
                for t in ecs.describe_tasks(cluster=cluster, tasks=arns[chunk : chunk + 100])["tasks"]
            )
            if running == len(arns) or time.perf_counter() - started > 600:
                break
            time.sleep(1)
        all_running_s = time.perf_counter() - started
        print(f"RunTask (count 10) placed {len(arns)} tasks in {placed_s:.1f} s ({failures} failures)")
        print(f"all RUNNING after {all_running_s:.1f} s: {running / all_running_s:.0f} tasks/s end to end")
        print(f"placements/s: {len(arns) / placed_s:.0f}")
    finally:
        sim.close()
        server.close()


if __name__ == "__main__":
    main()
