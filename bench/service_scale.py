#!/usr/bin/env python3
"""Services at work: a rolling deploy of real tasks, and a large service on simulated instances.

    .venv/bin/python bench/service_scale.py [--deploy-tasks 10] [--instances 1000] [--service-tasks 10000]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness, then:
  1. Rolling deploy: one real `berth agent`, a service of --deploy-tasks tasks (the offline test image, `sleep`,
     minimumHealthyPercent 50 / maximumPercent 200) steady; UpdateService to a new revision, timed until
     DescribeServices shows one deployment, COMPLETED, with every task RUNNING on the new revision.
  2. Scale: `berth agent --simulate --instances` (simulated container instances whose tasks run without
     containers) in a second cluster; CreateService of --service-tasks tasks, timed until runningCount reaches
     desiredCount with one deployment (steady).
Each phase polls every 200 ms and gives up after 600 s. Everything runs on loopback and stops by itself.
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

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402

LIMIT_S = 600


def wait_steady(ecs, cluster: str, service: str, td_arn: str, start: float) -> float:
    """Seconds from `start` until the service has one COMPLETED deployment of `td_arn` with every task running."""
    while True:
        s = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        deployments = s["deployments"]
        if (
            len(deployments) == 1
            and deployments[0]["taskDefinition"] == td_arn
            and deployments[0].get("rolloutState") == "COMPLETED"
            and s["runningCount"] == s["desiredCount"]
        ):
            return time.perf_counter() - start
        if time.perf_counter() - start > LIMIT_S:
            raise RuntimeError(f"not steady after {LIMIT_S} s: running {s['runningCount']} of {s['desiredCount']}")
        time.sleep(0.2)


def rolling_deploy(server: Berth, work: Path, tasks: int) -> None:
    ecs = server.client("ecs")
    cluster = unique("bench-deploy")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, work / "agent").start()
    try:
        family = unique("bench-deploy")
        container = {"name": "app", "image": TEST_IMAGE, "memory": 16, "essential": True, "command": SLEEP}
        first = ecs.register_task_definition(family=family, containerDefinitions=[container])
        first_arn = first["taskDefinition"]["taskDefinitionArn"]
        service = unique("web")
        ecs.create_service(
            cluster=cluster,
            serviceName=service,
            taskDefinition=first_arn,
            desiredCount=tasks,
            deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200},
        )
        created = wait_steady(ecs, cluster, service, first_arn, time.perf_counter())
        print(f"rolling deploy: create → steady ({tasks} tasks): {created:.2f} s")
        container["environment"] = [{"name": "REVISION", "value": "2"}]
        second = ecs.register_task_definition(family=family, containerDefinitions=[container])
        second_arn = second["taskDefinition"]["taskDefinitionArn"]
        start = time.perf_counter()
        ecs.update_service(cluster=cluster, service=service, taskDefinition=second_arn)
        print(f"rolling deploy of {tasks} tasks, UpdateService → steady: {wait_steady(ecs, cluster, service, second_arn, start):.2f} s")
        ecs.delete_service(cluster=cluster, service=service, force=True)
    finally:
        agent.close()


def large_service(server: Berth, work: Path, instances: int, tasks: int) -> None:
    ecs = server.client("ecs")
    cluster = unique("bench-scale")
    ecs.create_cluster(clusterName=cluster)
    sim = AgentProcess(server, cluster, work / "sim", extra_args=["--simulate", str(instances)])
    # The simulation sizes each instance by its type: drop the harness's --cpu/--memory.
    sim.args = [a for i, a in enumerate(sim.args) if a not in ("--cpu", "--memory") and sim.args[i - 1] not in ("--cpu", "--memory")]
    sim.start()
    try:
        start = time.perf_counter()
        while ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] < instances:
            if time.perf_counter() - start > LIMIT_S:
                raise RuntimeError("the simulated instances did not all register")
            time.sleep(0.5)
        print(f"{instances} simulated instances registered in {time.perf_counter() - start:.1f} s")
        td = ecs.register_task_definition(
            family=unique("bench-scale"), containerDefinitions=[{"name": "c", "image": "simulated", "memory": 64}]
        )["taskDefinition"]["taskDefinitionArn"]
        service = unique("big")
        start = time.perf_counter()
        ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=td, desiredCount=tasks)
        elapsed = wait_steady(ecs, cluster, service, td, start)
        print(f"service of {tasks} tasks on {instances} instances, CreateService → steady: {elapsed:.1f} s ({tasks / elapsed:.0f} tasks/s)")
    finally:
        sim.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deploy-tasks", type=int, default=10)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--service-tasks", type=int, default=10_000)
    args = parser.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    try:
        rolling_deploy(server, work, args.deploy_tasks)
        large_service(server, work, args.instances, args.service_tasks)
    finally:
        server.close()


if __name__ == "__main__":
    main()
