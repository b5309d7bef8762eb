"""Agents for the end-to-end suites: `berth agent` processes joined to a harness server, running real Docker
containers, and the test image they run (tests/images/build.sh: FROM scratch + Debian's busybox-static).

Every agent gets its own cluster-scoped data dir; closing it removes every container it created (they carry
the label dev.berth.container-instance), so tests leave no containers behind and can run in parallel.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from berth_harness import REPO_ROOT, Berth

TEST_IMAGE = "berth-test/busybox:latest"
# A shell as PID 1 ignores SIGTERM unless it traps it: this one exits promptly on `docker stop`.
SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
REGISTERED_RE = re.compile(r"agent registered")
START_TIMEOUT = 30.0


def ensure_test_image() -> str:
    """Builds the test image unless it exists (no pulls: it is built FROM scratch)."""
    subprocess.run(["bash", str(REPO_ROOT / "tests" / "images" / "build.sh")], check=True, capture_output=True)
    return TEST_IMAGE


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def http_get(url: str, timeout: float = 5.0, connect_within: float = 15.0) -> str:
    """GET `url`. A task is RUNNING once its process has started, which may be before it listens (as on
    ECS), so a refused connection is retried for `connect_within` seconds."""
    deadline = time.monotonic() + connect_within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback and berth's own networks
                return resp.read().decode()
        except urllib.error.URLError as err:
            if not isinstance(err.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class AgentProcess:
    """One `berth agent` for CLUSTER on SERVER, with its own data dir."""

    def __init__(self, server: Berth, cluster: str, workdir: Path, *, cpu: int = 4096, memory: int = 4096, extra_args=()):
        self.server = server
        self.cluster = cluster
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "agent-data"
        self.log_path = self.workdir / "agent.log"
        self.args = [
            "--cluster", cluster, "--data-dir", str(self.data_dir), "--region", server.region,
            "--cpu", str(cpu), "--memory", str(memory), *extra_args,
        ]  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def start(self) -> AgentProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = dict(self.server.env)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.server.binary), "agent", "--server", self.server.endpoint, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if REGISTERED_RE.search(self.log_path.read_bytes()[offset:].decode(errors="replace")):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"berth agent did not register:\n{self.log_text()[-4000:]}")

    @property
    def instance_arn(self) -> str:
        return json.loads((self.data_dir / "agent.json").read_text())["containerInstanceArn"]

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the agent dies; its containers keep running."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def restart(self) -> AgentProcess:
        if self.running():
            self.kill()
        return self.start()

    def containers(self, *, all_: bool = True) -> list[str]:
        """Ids of the Docker containers this agent created."""
        out = docker("ps", *(["-a"] if all_ else []), "-q", "--no-trunc", "--filter", f"label=dev.berth.container-instance={self.instance_arn}")
        return sorted(out.split())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if (self.data_dir / "agent.json").exists():
            ids = self.containers()
            if ids:
                subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True)
