"""Fixtures for the end-to-end suites.

* `berth`: one server per test session (per xdist worker), shared by read-mostly tests. Tests on it must be
  independent of each other: use `unique()` names and never assume a listing holds only your own objects.
* `fresh_berth`: a server of the test's own (restart/crash tests, the "default" cluster, exact listings).
* `make_berth`: a factory for servers with other flags (`--region`, `--account-id`, `berth up`).
* `test_image`: the test image, built offline if missing. `unused_port`: a free host port for fixed mappings.
* `ecs` / `fresh_ecs`: boto3 ECS clients for those servers.

When a test fails, the part of each server's log written during that test is attached to its report.
"""

from __future__ import annotations

import random
import socket

import pytest

from agent_harness import ensure_test_image
from berth_harness import Berth

_LOG_MARKS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def berth(tmp_path_factory):
    # Shared by many tests' instances at once: room for them all (the capacity is virtual).
    host = ("--host-cpus", "1024", "--host-memory", str(4 * 1024 * 1024), "--host-gpus", "64")
    server = Berth(tmp_path_factory.mktemp("shared-berth"), extra_args=host).start()
    yield server
    server.close()


@pytest.fixture
def make_berth(tmp_path):
    started: list[Berth] = []

    def make(**kwargs) -> Berth:
        server = Berth(tmp_path / f"berth-{len(started)}", **kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def fresh_berth(make_berth) -> Berth:
    return make_berth()


@pytest.fixture(scope="session")
def test_image():
    """The image the agents' tasks run (built offline once per session)."""
    return ensure_test_image()


@pytest.fixture
def unused_port() -> int:
    """A host port nothing listens on right now (below the agents' dynamic range)."""
    for _ in range(50):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no unused port found")


@pytest.fixture
def ecs(berth):
    return berth.client("ecs")


@pytest.fixture
def fresh_ecs(fresh_berth):
    return fresh_berth.client("ecs")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_LOG_MARKS] = {id(b): b.log_size() for b in Berth.instances}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    marks = item.stash.get(_LOG_MARKS, {})
    for server in Berth.instances:
        text = server.log_text(since=marks.get(id(server), 0))
        if text.strip():
            report.sections.append((f"berth log ({server.endpoint}, {server.workdir})", text))
