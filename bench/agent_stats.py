#!/usr/bin/env python3
"""The agent's metrics sampling overhead: CPU of the `berth agent` process (and of dockerd) with N idle containers.

    .venv/bin/python bench/agent_stats.py [--containers 50] [--seconds 60]

For each mode — sampling off (ECS_DISABLE_METRICS=true), on at AWS's clock (a sample every 20 s) and on at a fast
metric clock (`--metric-minute-seconds 3`: a sample every second) — starts `berth server` (BERTH_BIN, default
target/release/berth) with the e2e harness, one agent, a service of N busybox `sleep` tasks, waits until it is
stable, then reads the agent's and dockerd's utime+stime (/proc/PID/stat) over --seconds. Everything it starts
it removes (the harness closes the agent, which removes its containers).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, container, register, unique  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def dockerd_pid() -> int | None:
    out = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def measure(mode: str, minute: str | None, disable: bool, n: int, seconds: int, workdir: Path) -> dict:
    extra = ("--metric-minute-seconds", minute) if minute else ()
    server = Berth(workdir / f"{mode}-server", extra_args=extra).start()
    agent = None
    try:
        ecs = server.client("ecs")
        cluster = unique("bench")
        ecs.create_cluster(clusterName=cluster)
        if disable:
            server.env["ECS_DISABLE_METRICS"] = "true"
        agent = AgentProcess(server, cluster, workdir / f"{mode}-agent", memory=8192).start()
        server.env.pop("ECS_DISABLE_METRICS", None)
        td = register(ecs, "idle", [container(image=TEST_IMAGE, memory=16, command=SLEEP)], networkMode="bridge")
        ecs.create_service(cluster=cluster, serviceName="idle", desiredCount=n,
                           taskDefinition=td["taskDefinition"]["taskDefinitionArn"])
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=["idle"],
                                               WaiterConfig={"Delay": 2, "MaxAttempts": 300})
        time.sleep(5)
        docker = dockerd_pid()
        a0, d0, t0 = cpu_seconds(agent.proc.pid), cpu_seconds(docker) if docker else 0.0, time.monotonic()
        time.sleep(seconds)
        a1, d1, t1 = cpu_seconds(agent.proc.pid), cpu_seconds(docker) if docker else 0.0, time.monotonic()
        wall = t1 - t0
        return {"mode": mode, "agent_pct": (a1 - a0) / wall * 100, "dockerd_pct": (d1 - d0) / wall * 100}
    finally:
        if agent:
            agent.close()
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    ensure_test_image()
    print(f"binary {os.environ['BERTH_BIN']}, {args.containers} idle containers, {args.seconds} s each, "
          f"nproc {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="berth-bench-stats-") as tmp:
        rows = [
            measure("off", None, True, args.containers, args.seconds, Path(tmp)),
            measure("on, every 20 s", None, False, args.containers, args.seconds, Path(tmp)),
            measure("on, every 1 s", "3", False, args.containers, args.seconds, Path(tmp)),
        ]
    print("| sampling | agent CPU % | dockerd CPU % |")
    print("| --- | --- | --- |")
    for r in rows:
        print(f"| {r['mode']} | {r['agent_pct']:.2f} | {r['dockerd_pct']:.2f} |")


if __name__ == "__main__":
    main()
