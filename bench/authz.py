#!/usr/bin/env python3
"""Authorization's cost: DescribeClusters throughput as root (never evaluated) and as an IAM user whose 10
attached customer managed policies of 20 statements each are evaluated on every request, side by side.

    .venv/bin/python bench/authz.py [--seconds 10] [--threads 4] [--rounds 3]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness and creates the user: 199
statements that do not apply to DescribeClusters (other actions, other resources, conditions that fail), and the
one that allows it last, so every request walks all 200. Then --threads threads call DescribeClusters on one
cluster through boto3 clients (one per thread, keep-alive) for --seconds as root, then as the user, --rounds
times, alternating which goes first after a warm-up; medians are compared. The last line is
`authorized/root: N %`.
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
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from berth_harness import Berth, unique  # noqa: E402
from test_iam import client_as  # noqa: E402

POLICIES, STATEMENTS = 10, 20


def statement(server: Berth, p: int, s: int, cluster: str) -> dict:
    """Statement s of policy p: only the very last one allows DescribeClusters."""
    arn = f"arn:aws:ecs:{server.region}:{server.account_id}:cluster/"
    if (p, s) == (POLICIES - 1, STATEMENTS - 1):
        return {"Effect": "Allow", "Action": "ecs:DescribeClusters", "Resource": f"{arn}{cluster}"}
    kinds = [
        {"Effect": "Allow", "Action": [f"ecs:Describe{p}x{s}*", "ecs:ListServices"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": f"{arn}other-{p}-{s}-*"},
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "xx-none-1"}}},
        {"Effect": "Deny", "Action": "ecs:DeleteCluster", "Resource": f"{arn}{cluster}"},
    ]
    return kinds[s % len(kinds)]


def make_user(server: Berth, cluster: str) -> tuple[str, str]:
    iam = server.client("iam")
    user = unique("bench")
    iam.create_user(UserName=user)
    for p in range(POLICIES):
        doc = {"Version": "2012-10-17", "Statement": [statement(server, p, s, cluster) for s in range(STATEMENTS)]}
        arn = iam.create_policy(PolicyName=f"{user}-{p}", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def rate(clients: list, cluster: str, seconds: float) -> float:
    """DescribeClusters per second over `seconds` with one thread per client."""
    counts = [0] * len(clients)
    deadline = time.perf_counter() + seconds

    def run(i: int) -> None:
        while time.perf_counter() < deadline:
            clients[i].describe_clusters(clusters=[cluster])
            counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = Berth(Path(tempfile.mkdtemp(prefix="berth-bench-")) / "server").start()
    try:
        cluster = unique("bench")
        server.client("ecs").create_cluster(clusterName=cluster)
        key = make_user(server, cluster)
        sides = {
            "root": [server.client("ecs") for _ in range(args.threads)],
            "authorized": [client_as(server, "ecs", *key) for _ in range(args.threads)],
        }
        for clients in sides.values():
            assert clients[0].describe_clusters(clusters=[cluster])["clusters"][0]["clusterName"] == cluster
            rate(clients, cluster, 2)
        got: dict[str, list[float]] = {name: [] for name in sides}
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for name in order:
                got[name].append(rate(sides[name], cluster, args.seconds))
                print(f"round {r + 1} {name}: {got[name][-1]:.0f} req/s")
        root, authorized = (statistics.median(got[n]) for n in ("root", "authorized"))
        print(f"DescribeClusters, {args.threads} threads, medians of {args.rounds} x {args.seconds:.0f} s")
        print(f"root: {root:.0f} req/s; user with {POLICIES} x {STATEMENTS} statements: {authorized:.0f} req/s")
        print(f"authorized/root: {100 * authorized / root:.1f} %")
    finally:
        server.close()


if __name__ == "__main__":
    main()
