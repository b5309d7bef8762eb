#!/usr/bin/env python3
"""`docker push` + `docker pull` of a ~100 MB image: berth's registry against Debian's `docker-registry`
(distribution 2.8), both on loopback.

    .venv/bin/python bench/registry.py [--runs 5] [--mb 100]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness and `docker-registry serve`
with filesystem storage in a temp dir. Each run builds a fresh image (FROM the test image, plus one layer of
MB random bytes, so no registry has its blobs yet), then, alternating which registry goes first:
  - push: `docker push` of the image tagged for that registry;
  - pull: `docker rmi` of every tag of the image, then `docker pull` from that registry.
berth is logged in with `aws ecr get-login-password | docker login` (not timed); docker-registry runs without
auth, as Debian configures it. Prints the median of each and the ratio docker-registry / berth (> 1: berth is
faster). Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from agent_harness import TEST_IMAGE, ensure_test_image  # noqa: E402
from berth_harness import Berth  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docker(env, *args: str) -> str:
    p = subprocess.run(["docker", *args], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {p.stderr}")
    return p.stdout


def timed(env, *args: str) -> float:
    start = time.perf_counter()
    docker(env, *args)
    return time.perf_counter() - start


def start_distribution(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'distribution'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"127.0.0.1:{port}"
        time.sleep(0.05)
    raise RuntimeError("docker-registry did not start")


def build(env, workdir: Path, mb: int) -> str:
    ctx = workdir / f"ctx-{uuid.uuid4().hex[:8]}"
    ctx.mkdir()
    with (ctx / "payload").open("wb") as f:
        f.write(os.urandom(mb * 1024 * 1024))
    (ctx / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nCOPY payload /payload\n")
    ref = f"bench-registry/{uuid.uuid4().hex[:8]}:1"
    docker(env, "build", "-q", "-t", ref, str(ctx))
    (ctx / "payload").unlink()
    return ref


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mb", type=int, default=100)
    args = ap.parse_args()
    ensure_test_image()

    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        workdir = Path(tmp)
        berth = Berth(workdir / "berth").start()
        dist, dist_host = start_distribution(workdir)
        env = {**berth.env, "DOCKER_CONFIG": str(workdir / "docker-config")}
        berth_host = f"127.0.0.1:{berth.port}"
        refs: list[str] = []
        times: dict[str, dict[str, list[float]]] = {n: {"push": [], "pull": []} for n in ("berth", "distribution")}
        try:
            subprocess.run(
                f"aws ecr get-login-password | docker login --username AWS --password-stdin {berth_host}",
                shell=True, env=env, check=True, capture_output=True,
            )  # fmt: skip
            for run in range(args.runs):
                repo = f"bench/run{run}-{uuid.uuid4().hex[:6]}"
                berth.aws("ecr", "create-repository", "--repository-name", repo)
                local = build(env, workdir, args.mb)
                targets = {"berth": f"{berth_host}/{repo}:1", "distribution": f"{dist_host}/{repo}:1"}
                for ref in targets.values():
                    docker(env, "tag", local, ref)
                refs += [local, *targets.values()]
                order = ["berth", "distribution"] if run % 2 == 0 else ["distribution", "berth"]
                for name in order:
                    times[name]["push"].append(timed(env, "push", targets[name]))
                docker(env, "rmi", "-f", local, *targets.values())
                for name in order:
                    times[name]["pull"].append(timed(env, "pull", targets[name]))
                    docker(env, "rmi", "-f", targets[name])
                line = ", ".join(f"{n} push {times[n]['push'][-1]:.2f}s pull {times[n]['pull'][-1]:.2f}s" for n in order)
                print(f"run {run}: {line}", flush=True)
        finally:
            subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True)
            dist.terminate()
            dist.wait()
            berth.close()

    print(f"\n{args.runs} runs, {args.mb} MiB random layer + the test image (2 MB)")
    for op in ("push", "pull"):
        b, d = statistics.median(times["berth"][op]), statistics.median(times["distribution"][op])
        print(f"{op}: berth median {b:.2f}s, docker-registry median {d:.2f}s, ratio docker-registry/berth {d / b:.2f}x")
    b = statistics.median([p + q for p, q in zip(times["berth"]["push"], times["berth"]["pull"])])
    d = statistics.median([p + q for p, q in zip(times["distribution"]["push"], times["distribution"]["pull"])])
    print(f"push+pull: berth median {b:.2f}s, docker-registry median {d:.2f}s, ratio {d / b:.2f}x")


if __name__ == "__main__":
    main()
