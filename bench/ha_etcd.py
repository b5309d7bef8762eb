#!/usr/bin/env python3
"""The HA control plane: leader loss → controllers resumed, and API write throughput on etcd vs SQLite.

    .venv/bin/python bench/ha_etcd.py [--runs 5] [--seconds 10] [--threads 4]

BERTH_BIN (default target/release/berth) is the binary. Uses tests/e2e/ha_harness.py: three etcd members
(Debian's etcd-server, data on /dev/shm) and three `berth server --store etcd://…` with a 3 s leader lease.
  1. Leader loss: kill -9 the leader, time until another server logs "elected leader" (its controllers start
     in the same step), then start the killed server again; --runs times.
  2. Write throughput: --threads boto3 clients doing CreateCluster (one store transaction each) for --seconds,
     against one server on the etcd cluster and, side by side, one `berth server` on its default SQLite store.
Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from berth_harness import Berth, unique  # noqa: E402
from ha_harness import HaCluster  # noqa: E402


def leader_loss(ha: HaCluster, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        leader = ha.leader()
        others = [s for s in ha.servers if s is not leader]
        elected_before = {id(s): s.log_text().count("elected leader") for s in others}
        leader.kill()
        killed = time.monotonic()
        while True:
            if any(s.log_text().count("elected leader") > elected_before[id(s)] for s in others):
                times.append(time.monotonic() - killed)
                break
            if time.monotonic() - killed > 60:
                raise RuntimeError("no new leader within 60 s")
            time.sleep(0.02)
        leader.start(port=leader.port)
    return times


def throughput(server: Berth, seconds: float, threads: int) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def work(i: int):
        ecs = server.client("ecs")
        while time.monotonic() < stop:
            ecs.create_cluster(clusterName=unique("bench"))
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="berth-bench-ha-") as tmp:
        ha = HaCluster(Path(tmp) / "ha")
        sqlite = Berth(Path(tmp) / "sqlite", extra_args=("--no-host",))
        try:
            ha.start()
            losses = leader_loss(ha, args.runs)
            print(f"leader loss → new leader's controllers running, {len(losses)} runs: "
                  f"median {statistics.median(losses):.2f} s, max {max(losses):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in losses)})")  # fmt: skip
            sqlite.start()
            etcd_rate = throughput(ha.servers[0], args.seconds, args.threads)
            sqlite_rate = throughput(sqlite, args.seconds, args.threads)
            print(f"CreateCluster, {args.threads} clients, {args.seconds:.0f} s: etcd {etcd_rate:.0f}/s, "
                  f"SQLite {sqlite_rate:.0f}/s, etcd/SQLite {etcd_rate / sqlite_rate:.2f}x")  # fmt: skip
        finally:
            sqlite.close()
            ha.close()


if __name__ == "__main__":
    main()
