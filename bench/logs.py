#!/usr/bin/env python3
"""CloudWatch Logs through berth: events/s end to end from a container, and FilterLogEvents over 1,000,000 events.

    .venv/bin/python bench/logs.py [--lines 200000] [--events 1000000] [--runs 5]

Starts `berth server` and one `berth agent` (BERTH_BIN, default target/release/berth) with the e2e harness.
  1. End to end: a task whose container prints --lines lines as fast as it can (`seq`), shipped by the agent's
     awslogs driver; timed from RunTask until DescribeLogStreams shows every byte stored (polled every 50 ms).
  2. FilterLogEvents: --events events (8,000 per PutLogEvents, spread over 4 streams and ~1 hour) loaded through
     the API, then each query run --runs times through boto3 (HTTP, SigV4, JSON included); median and max.
Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402


def end_to_end(berth: Berth, lines: int) -> None:
    ecs, logs = berth.client("ecs"), berth.client("logs")
    cluster = unique("bench-logs")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(berth, cluster, Path(tempfile.mkdtemp(prefix="berth-bench-agent-"))).start()
    try:
        group = unique("/bench/e2e")
        options = {"awslogs-group": group, "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}
        c = {"name": "spew", "image": TEST_IMAGE, "memory": 64, "essential": True, "command": ["seq", "1", str(lines)],
             "logConfiguration": {"logDriver": "awslogs", "options": options}}  # fmt: skip
        td = ecs.register_task_definition(family=unique("spew"), containerDefinitions=[c])["taskDefinition"]
        expected = sum(len(str(i)) for i in range(1, lines + 1))
        start = time.perf_counter()
        ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinitionArn"])
        stored = 0
        while stored < expected:
            time.sleep(0.05)
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"] if group_exists(logs, group) else []
            stored = sum(s.get("storedBytes", 0) for s in streams)
            if time.perf_counter() - start > 600:
                raise RuntimeError(f"only {stored} of {expected} bytes after 600 s")
        elapsed = time.perf_counter() - start
        print(f"end to end: {lines} lines in {elapsed:.2f} s = {lines / elapsed:,.0f} events/s (RunTask → all stored)")
    finally:
        agent.close()


def group_exists(logs, group: str) -> bool:
    return any(g["logGroupName"] == group for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"])


def filter_latency(berth: Berth, events: int, runs: int) -> None:
    logs = berth.client("logs")
    group = unique("/bench/filter")
    logs.create_log_group(logGroupName=group)
    streams = [f"s{i}" for i in range(4)]
    for s in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    base = int(time.time() * 1000) - 3_600_000
    batch = 8_000  # ~100-byte messages: 8,000 stay under the 1 MiB batch limit
    start = time.perf_counter()
    for b in range(events // batch):
        stream = streams[b % len(streams)]
        evs = []
        for i in range(batch):
            n = b * batch + i
            level = "error" if n % 1000 == 0 else "info"
            msg = json.dumps({"level": level, "n": n, "msg": f"request handled path=/item/{n % 5000} status=200"})
            evs.append({"timestamp": base + n * 3_600_000 // events, "message": msg})
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=evs)
    load = time.perf_counter() - start
    print(f"loaded {events:,} events through PutLogEvents in {load:.1f} s = {events / load:,.0f} events/s")

    queries = {
        "term matching 0.1% (`error`), whole group": {"filterPattern": "error"},
        'JSON `{ $.level = "error" }`, whole group': {"filterPattern": '{ $.level = "error" }'},
        "no match (`nosuchterm`), whole group": {"filterPattern": "nosuchterm"},
        "no pattern, first page of 100": {"limit": 100},
        "term, 5-minute window": {"filterPattern": "error", "startTime": base + 1_800_000, "endTime": base + 2_100_000},
    }
    for name, q in queries.items():
        times, count = [], 0
        for _ in range(runs):
            t = time.perf_counter()
            r = logs.filter_log_events(logGroupName=group, **q)
            times.append(time.perf_counter() - t)
            count = len(r["events"])
        print(f"FilterLogEvents, {name}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms ({count} events)")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    ensure_test_image()
    berth = Berth().start()
    try:
        end_to_end(berth, args.lines)
        filter_latency(berth, args.events, args.runs)
    finally:
        berth.close()


if __name__ == "__main__":
    main()
