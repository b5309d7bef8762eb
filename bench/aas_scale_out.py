#!/usr/bin/env python3
"""From load start to the first scale-out, with the fast metric clock (a metric minute = --minute seconds).

    .venv/bin/python bench/aas_scale_out.py [--load metric|cpu] [--minute 2] [--rounds 3]

Starts `berth server --metric-minute-seconds N` (BERTH_BIN, default target/debug/berth) with one agent and, per
round, a fresh service of one task with a target (min 1, max 4) and a target tracking policy at 50:
- `--load metric`: on a customized metric; the load is put-metric-data of 200 every half second;
- `--load cpu`: on ECSServiceAverageCPUUtilization; the load is an update of the service to a task definition
  whose busybox container burns CPU (`while :; do :; done`, cpu 256), published by the agents' sampling.
It reports, per round, seconds from load start to the scale-out (desiredCount above 1, the activity recorded)
and to the new tasks RUNNING, and the medians. AlarmHigh needs 3 of 3 periods, so the floor is 3 metric
minutes plus the evaluator's and the scaler's ticks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "debug" / "berth"))

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, container, unique  # noqa: E402
from berth_harness import register as register_definition  # noqa: E402

DIMENSION = "ecs:service:DesiredCount"
BURN = ["sh", "-c", "while :; do :; done"]


def until(predicate, timeout: float = 300.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.2)
    raise SystemExit("timed out")


def round_once(server: Berth, cluster: str, load: str) -> tuple[float, float]:
    ecs, aas, cw = server.client("ecs"), server.client("application-autoscaling"), server.client("cloudwatch")
    name = unique("bench")
    sleeping = register_definition(ecs, unique("idle"), [container(image=TEST_IMAGE, memory=32, command=SLEEP)],
                                   networkMode="bridge", cpu="256", memory="64")["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=sleeping, desiredCount=1)
    until(lambda: ecs.describe_services(cluster=cluster, services=[name])["services"][0]["runningCount"] == 1)
    resource = f"service/{cluster}/{name}"
    aas.register_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource,
                                 MinCapacity=1, MaxCapacity=4)
    dims = [{"Name": "Queue", "Value": name}]
    spec = ({"PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
            if load == "cpu" else
            {"CustomizedMetricSpecification": {"Namespace": "Bench", "MetricName": "Backlog", "Dimensions": dims,
                                               "Statistic": "Average"}})
    aas.put_scaling_policy(PolicyName="t50", ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
                           PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={"TargetValue": 50.0, "ScaleOutCooldown": 60,
                                                                     "ScaleInCooldown": 60, **spec})
    stop = threading.Event()
    start = time.monotonic()
    if load == "cpu":
        burning = register_definition(ecs, unique("burn"), [container(image=TEST_IMAGE, memory=32, command=BURN)],
                                      networkMode="bridge", cpu="256", memory="64")["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=cluster, service=name, taskDefinition=burning)
    else:
        def feed():
            while not stop.is_set() and time.monotonic() < start + 300:
                cw.put_metric_data(Namespace="Bench", MetricData=[{"MetricName": "Backlog", "Dimensions": dims,
                                                                   "Value": 200.0}])
                stop.wait(0.5)
        threading.Thread(target=feed, daemon=True).start()
    try:
        service = lambda: ecs.describe_services(cluster=cluster, services=[name])["services"][0]  # noqa: E731
        scaled = until(lambda: service()["desiredCount"] > 1)
        want = service()["desiredCount"]
        ran = until(lambda: service()["runningCount"] >= want)
    finally:
        stop.set()
        aas.deregister_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource)
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        ecs.delete_service(cluster=cluster, service=name, force=True)
    return scaled - start, ran - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--load", choices=["metric", "cpu"], default="metric")
    p.add_argument("--minute", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-aas-"))
    server = Berth(work / "server", extra_args=("--metric-minute-seconds", str(args.minute))).start()
    cluster = unique("bench")
    server.client("ecs").create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, work / "agent").start()
    try:
        results = []
        for i in range(args.rounds):
            scaled, ran = round_once(server, cluster, args.load)
            results.append((scaled, ran))
            print(f"round {i + 1}: scale-out after {scaled:.1f} s, new tasks RUNNING after {ran:.1f} s", flush=True)
        print(json.dumps({
            "load": args.load, "minute_seconds": args.minute,
            "median_scale_out_s": round(statistics.median(r[0] for r in results), 1),
            "median_running_s": round(statistics.median(r[1] for r in results), 1),
        }))
    finally:
        agent.close()
        server.close()


if __name__ == "__main__":
    main()
