#!/usr/bin/env python3
"""Parameter Store and task secrets through berth: GetParametersByPath over 10,000 parameters, and how much
resolving 10 secrets adds to a task's start.

    .venv/bin/python bench/secrets.py [--parameters 10000] [--runs 15]

Starts `berth server` and one `berth agent` (BERTH_BIN, default target/release/berth) with the e2e harness.
  1. --parameters String parameters under one path (PutParameter through boto3, 8 threads), then the whole
     walk `GetParametersByPath(Path, Recursive)` page by page (10 per page, AWS's maximum) through boto3,
     timed end to end (HTTP, SigV4 and JSON included).
  2. RunTask → RUNNING (DescribeTasks every 10 ms) of a task definition with no secrets and of one with 10
     (5 SSM SecureStrings, 5 JSON keys of Secrets Manager secrets), interleaved, --runs each; the medians'
     difference is the overhead of ResolveSecrets.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import TEST_IMAGE, AgentProcess, ensure_test_image  # noqa: E402
from berth_harness import Berth, unique  # noqa: E402

COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def walk(ssm, path: str) -> tuple[int, int, float]:
    start = time.perf_counter()
    count, pages, token = 0, 0, None
    while True:
        kwargs = {"Path": path, "Recursive": True, "MaxResults": 10}
        if token:
            kwargs["NextToken"] = token
        page = ssm.get_parameters_by_path(**kwargs)
        count += len(page["Parameters"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            return count, pages, time.perf_counter() - start


def time_start(ecs, cluster: str, td: str) -> tuple[float, str]:
    start = time.perf_counter()
    arn = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "RUNNING":
            return time.perf_counter() - start, arn
        if task["lastStatus"] == "STOPPED":
            raise RuntimeError(f"the task stopped: {task.get('stoppedReason')}")
        time.sleep(0.01)


def time_resolve(server: Berth, cluster: str, instance_arn: str, task_arn: str, calls: int = 5) -> list[float]:
    """The agent's ResolveSecrets request for a running task, timed on its own."""
    body = {"cluster": cluster, "containerInstance": instance_arn, "taskArn": task_arn}
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        resp = server.raw(None, body, target="BerthAgent_V1.ResolveSecrets")
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200 and "failure" not in resp.json(), resp.text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parameters", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    ensure_test_image()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    server = Berth(work / "server").start()
    ssm, sm, ecs = server.client("ssm"), server.client("secretsmanager"), server.client("ecs")
    cluster = unique("bench")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, work / "agent", cpu=65536, memory=65536).start()
    try:
        path = f"/{unique('bench')}"
        clients = [server.client("ssm") for _ in range(8)]

        def put(i: int) -> None:
            clients[i % 8].put_parameter(Name=f"{path}/g{i % 100:02}/p{i:05}", Value=f"value-{i}", Type="String")

        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(args.parameters)))
        loaded = time.perf_counter() - start
        count, pages, elapsed = walk(ssm, path)
        assert count == args.parameters, count
        print(f"PutParameter x {args.parameters} (8 threads): {loaded:.1f} s")
        print(f"GetParametersByPath walk: {count} parameters in {pages} pages, {elapsed:.2f} s "
              f"({elapsed / pages * 1000:.1f} ms per page)")  # fmt: skip

        secrets = []
        for i in range(5):
            name = f"{path}-secret/s{i}"
            ssm.put_parameter(Name=name, Value=f"ssm-{i}", Type="SecureString")
            secrets.append({"name": f"SSM_{i}", "valueFrom": name})
            arn = sm.create_secret(Name=unique(f"bench-{i}"), SecretString=json.dumps({"k": f"asm-{i}"}))["ARN"]
            secrets.append({"name": f"ASM_{i}", "valueFrom": f"{arn}:k::"})
        # Secrets are read as the task's execution role (evaluated like any request).
        iam, role_name = server.client("iam"), unique("bench-exec")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                "Action": "sts:AssumeRole"}]}  # fmt: skip
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        read = {"Statement": [{"Effect": "Allow", "Resource": "*",
                               "Action": ["ssm:GetParameters", "secretsmanager:GetSecretValue"]}]}  # fmt: skip
        iam.put_role_policy(RoleName=role_name, PolicyName="read", PolicyDocument=json.dumps(read))
        container = {"name": "c", "image": TEST_IMAGE, "memory": 16, "command": COMMAND, "stopTimeout": 2}
        plain = ecs.register_task_definition(family=unique("plain"), containerDefinitions=[container])
        with_secrets = ecs.register_task_definition(family=unique("secrets"), executionRoleArn=role,
                                                    containerDefinitions=[{**container, "secrets": secrets}])  # fmt: skip
        tds = {"none": plain["taskDefinition"]["taskDefinitionArn"],
               "10 secrets": with_secrets["taskDefinition"]["taskDefinitionArn"]}  # fmt: skip
        times: dict[str, list[float]] = {k: [] for k in tds}
        resolve_times: list[float] = []
        for _ in range(args.runs):
            for kind, td in tds.items():
                elapsed, arn = time_start(ecs, cluster, td)
                times[kind].append(elapsed)
                if kind == "10 secrets":
                    resolve_times.extend(time_resolve(server, cluster, agent.instance_arn, arn))
                ecs.stop_task(cluster=cluster, task=arn)
        for kind, xs in times.items():
            print(f"RunTask -> RUNNING, {kind}: median {statistics.median(xs) * 1000:.0f} ms "
                  f"(min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})")  # fmt: skip
        overhead = statistics.median(times["10 secrets"]) - statistics.median(times["none"])
        print(f"overhead of 10 secrets (difference of medians): {overhead * 1000:.0f} ms")
        print(f"ResolveSecrets alone (10 values, signed HTTP round trip, {len(resolve_times)} calls): "
              f"median {statistics.median(resolve_times) * 1000:.1f} ms")  # fmt: skip
    finally:
        agent.close()
        server.close()


if __name__ == "__main__":
    main()
