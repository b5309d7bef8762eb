"""A highly available berth for tests and benchmarks: three etcd members (Debian's etcd-server) and three
`berth server`s sharing them (`--store etcd://…`), all on loopback ports, their leader found from the logs."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from botocore.exceptions import ClientError

from agent_harness import AgentProcess
from berth_harness import Berth

LEASE_SECONDS = 3


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (ClientError, requests.RequestException):
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EtcdMember:
    def __init__(self, name: str, workdir: Path, client: int, peer: int, cluster: str, token: str):
        self.name, self.client, self.peer = name, client, peer
        self.data_dir = workdir / f"etcd-{name}"
        self.log_path = workdir / f"etcd-{name}.log"
        self.args = [
            "etcd", "--name", name, "--data-dir", str(self.data_dir),
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", token,
            "--heartbeat-interval", "100", "--election-timeout", "1000", "--max-txn-ops", "10000",
        ]  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def start(self) -> EtcdMember:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def healthy(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.client}/health", timeout=2).json().get("health") == "true"
        except (requests.RequestException, ValueError):
            return False


class HaCluster:
    """Three etcd members and three berth servers on them; closes everything it started."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        ports = [(free_port(), free_port()) for _ in range(3)]
        initial = ",".join(f"e{i}=http://127.0.0.1:{peer}" for i, (_, peer) in enumerate(ports))
        # etcd's data on tmpfs when there is one: its fsyncs are what make a commit slow.
        shm = Path("/dev/shm")
        self.etcd_dir = Path(tempfile.mkdtemp(prefix="berth-ha-", dir=shm if shm.is_dir() else None))
        self.members = [EtcdMember(f"e{i}", self.etcd_dir, c, p, initial, self.etcd_dir.name) for i, (c, p) in enumerate(ports)]
        self.url = "etcd://" + ",".join(f"127.0.0.1:{m.client}" for m in self.members)
        self.servers: list[Berth] = []
        self.agents: list[AgentProcess] = []

    def start(self) -> HaCluster:
        for m in self.members:
            m.start()
        wait_for(lambda: all(m.healthy() for m in self.members), 30, "etcd members healthy")
        shared = self.workdir / "shared"
        for i in range(3):
            args = ("--store", self.url, "--shared-dir", str(shared), "--no-host",
                    "--leader-lease-seconds", str(LEASE_SECONDS))  # fmt: skip
            self.servers.append(Berth(self.workdir / f"server-{i}", extra_args=args).start())
        self.leader()
        return self

    def leader(self, among=None) -> Berth:
        """The running server whose log says it was elected last (waits for one)."""

        def elected():
            running = [s for s in (among or self.servers) if s.running()]
            leaders = [s for s in running if s.log_text().count("elected leader") > s.log_text().count("leadership lost")]
            return leaders[0] if len(leaders) == 1 else None

        return wait_for(elected, 30, "one elected leader")

    def close(self) -> None:
        for a in self.agents:
            a.close()
        for s in self.servers:
            s.close()
        for m in self.members:
            m.kill()
        shutil.rmtree(self.etcd_dir, ignore_errors=True)
