"""The end-to-end harness: runs the real `berth` binary and talks to it as AWS clients do.

`Berth` starts `berth server` (or `berth up`) on a free loopback port with its own data dir and an isolated
AWS client environment, then offers the three ways in that real users have:

* `aws(...)` / `aws_run(...)`: the real aws CLI (v1, from the venv) as a subprocess, `--output json`;
* `client(service)`: a boto3 client pointed at the server;
* `raw(op, body)`: a hand-made, SigV4-signed HTTP request, for input no SDK would send.

Kept free of pytest fixtures (those live in conftest.py) so later suites can import it as a plain module.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]

ACCESS_KEY_ID = "AKIDBERTHTEST0000001"
SECRET_ACCESS_KEY = "berth-test-secret-key-0000000000000000000"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"

# X-Amz-Target prefixes and signing names of the JSON-protocol services (see shared WIRE.md).
JSON_TARGETS = {
    "ecs": "AmazonEC2ContainerServiceV20141113",
    "ecr": "AmazonEC2ContainerRegistry_V20150921",
    "logs": "Logs_20140328",
    "application-autoscaling": "AnyScaleFrontendService",
    "ssm": "AmazonSSM",
    "secretsmanager": "secretsmanager",
    "servicediscovery": "Route53AutoNaming_v20170314",
}

LISTENING_RE = re.compile(r"berth: listening on (http://127\.0\.0\.1:(\d+))")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
CLI_TIMEOUT = 120.0
HTTP_TIMEOUT = 30.0


def berth_binary() -> Path:
    """The server binary under test: $BERTH_BIN, else target/debug/berth in the repo."""
    env_bin = os.environ.get("BERTH_BIN")
    path = Path(env_bin) if env_bin else REPO_ROOT / "target" / "debug" / "berth"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def aws_cli() -> str:
    """The aws CLI of the running interpreter's venv when there is one, else the first on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    found = shutil.which("aws")
    if not found:
        raise RuntimeError("aws CLI not found: install tests/e2e/requirements.txt (scripts/test does)")
    return found


def unique(prefix: str) -> str:
    """A name no other test (or xdist worker) on the same server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


class AwsCliError(AssertionError):
    def __init__(self, args: list[str], result: CliResult):
        self.result = result
        super().__init__(
            f"aws {' '.join(args)} exited {result.returncode}\n--- stderr ---\n{result.stderr}"
            f"\n--- stdout ---\n{result.stdout}"
        )


class Berth:
    """One berth server process with its own data dir, port and client environment."""

    # Every instance started in this process, so conftest can attach server logs to failed tests.
    instances: list[Berth] = []

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        command: str = "server",
        region: str = DEFAULT_REGION,
        account_id: str | None = None,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ):
        self.binary = berth_binary()
        if not self.binary.exists():
            raise RuntimeError(
                f"berth binary not found at {self.binary}: run `cargo build --workspace` or set BERTH_BIN"
            )
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="berth-e2e-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "server.log"
        self.command = command
        self.region = region
        self.account_id = account_id or DEFAULT_ACCOUNT
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.endpoint: str | None = None

        aws_home = self.workdir / "aws-home"
        aws_home.mkdir(exist_ok=True)
        self.aws_config_file = aws_home / "config"
        self.aws_credentials_file = aws_home / "credentials"
        self.aws_config_file.write_text("")
        self.aws_credentials_file.write_text("")

        self.server_env = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("BERTH_")
        }
        self.server_env.update(
            {
                "BERTH_ROOT_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "BERTH_ROOT_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "RUST_BACKTRACE": "1",
            }
        )
        self.server_env.update(extra_env or {})
        self.env: dict[str, str] = {}
        Berth.instances.append(self)

    # ----- process lifecycle -------------------------------------------------------------------------

    @property
    def arn_prefix(self) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account_id}"

    def start(self, port: int = 0) -> Berth:
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        args = [str(self.binary), self.command, "--listen", f"127.0.0.1:{port}", "--data-dir", str(self.data_dir)]
        args += ["--region", self.region]
        if self.account_id != DEFAULT_ACCOUNT:
            args += ["--account-id", self.account_id]
        args += list(self.extra_args)

        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            with self.log_path.open("ab") as log:
                log.write(f"\n===== harness: starting {' '.join(args)}\n".encode())
                log.flush()  # before the child writes to the same file
                offset = log.tell()
                self.proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.server_env,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            found = self._wait_for_listening(offset, deadline)
            if found:
                break
            # A fixed port (restart) may be held briefly by the dying process: retry until the deadline.
            if port != 0 and self.proc.poll() is not None and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            self._abort_start()
            raise RuntimeError(f"berth did not print its listening line within {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

        self.endpoint, self.port = found[0], int(found[1])
        if port:
            assert self.port == port, f"asked for port {port}, server listens on {self.port}"
        self.env = self._client_env()
        return self

    def _wait_for_listening(self, offset: int, deadline: float):
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                m = LISTENING_RE.search(f.read().decode(errors="replace"))
            if m:
                return m.group(1), m.group(2)
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def _abort_start(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_PAGER": "",
                "AWS_CONFIG_FILE": str(self.aws_config_file),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.aws_credentials_file),
                "AWS_EC2_METADATA_DISABLED": "true",
                # Every failure must be visible: no silent retries of a 5xx.
                "AWS_RETRY_MODE": "standard",
                "AWS_MAX_ATTEMPTS": "1",
            }
        )
        # The aws CLI of the venv first on PATH, so that shell-outs from tests use it too.
        env["PATH"] = f"{Path(aws_cli()).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash. Whatever answered 200 before this must survive it."""
        assert self.running(), "server is not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM and assert a clean (exit code 0) shutdown."""
        assert self.running(), "server is not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"berth did not exit within {STOP_TIMEOUT}s of SIGTERM:\n{self.log_tail()}") from None
        assert rc == 0, f"berth exited {rc} on SIGTERM, expected 0:\n{self.log_tail()}"

    def restart(self, *, crash: bool = False) -> Berth:
        """Start again on the same data dir and port (after kill()/stop(), or doing one of them here)."""
        if self.running():
            self.kill() if crash else self.stop()
        return self.start(port=self.port)

    def close(self) -> None:
        """Teardown: stop whatever is still running, without judging how it exits."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in Berth.instances:
            Berth.instances.remove(self)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, since: int = 0, limit: int = 200_000) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as f:
            f.seek(since)
            data = f.read()
        text = data.decode(errors="replace")
        if len(text) > limit:
            text = f"[... {len(text) - limit} earlier characters cut ...]\n" + text[-limit:]
        return text

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # ----- the aws CLI --------------------------------------------------------------------------------

    def aws_run(self, *args: str, input: str | None = None) -> CliResult:
        """Run `aws ARGS --output json`; return (returncode, stdout, stderr) whatever the outcome."""
        cmd = [aws_cli(), *args, "--output", "json"]
        p = subprocess.run(
            cmd,
            env=self.env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            cwd=self.workdir,
        )
        return CliResult(p.returncode, p.stdout, p.stderr)

    def aws(self, *args: str, input: str | None = None) -> Any:
        """Run `aws ARGS --output json` and return the parsed output (None when it prints nothing)."""
        result = self.aws_run(*args, input=input)
        if result.returncode != 0:
            raise AwsCliError(list(args), result)
        return json.loads(result.stdout) if result.stdout.strip() else None

    # ----- boto3 --------------------------------------------------------------------------------------

    def client(self, service: str = "ecs", *, retries: bool = False):
        """A boto3 client for SERVICE on this server, isolated from ~/.aws; no retries unless asked."""
        core = botocore.session.Session()
        core.set_config_variable("config_file", str(self.aws_config_file))
        core.set_config_variable("credentials_file", str(self.aws_credentials_file))
        session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=self.region,
            botocore_session=core,
        )
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 5 if retries else 1},
            connect_timeout=10,
            read_timeout=60,
        )
        return session.client(service, endpoint_url=self.endpoint, config=config)

    # ----- raw HTTP -----------------------------------------------------------------------------------

    def raw(
        self,
        operation: str | None,
        body: Any = None,
        *,
        service: str = "ecs",
        target: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-amz-json-1.1",
        sign: bool = True,
    ) -> requests.Response:
        """POST / with a JSON-protocol request, SigV4-signed as botocore signs.

        BODY: a dict/list is JSON-encoded; str/bytes are sent verbatim (malformed input); None sends `{}`.
        TARGET overrides the X-Amz-Target header (default: the service's prefix + "." + OPERATION).
        """
        if body is None:
            data = b"{}"
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        hdrs = {"Content-Type": content_type}
        if target is None and operation is not None:
            target = f"{JSON_TARGETS[service]}.{operation}"
        if target is not None:
            hdrs["X-Amz-Target"] = target
        hdrs.update(headers or {})
        url = f"{self.endpoint}/"
        if sign:
            req = AWSRequest(method="POST", url=url, data=data, headers=hdrs)
            SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, self.region).add_auth(req)
            hdrs = dict(req.headers.items())
        return requests.post(url, data=data, headers=hdrs, timeout=HTTP_TIMEOUT)

    def call(self, operation: str, body: Any = None, *, service: str = "ecs") -> dict:
        """A raw request that must succeed: returns the JSON body."""
        resp = self.raw(operation, body, service=service)
        assert resp.status_code == 200, f"{operation} -> HTTP {resp.status_code}: {resp.text[:2000]}"
        return resp.json()


# ----- assertions shared by the suites ------------------------------------------------------------------


def assert_aws_error(resp: requests.Response, code: str | set[str], *, status: int = 400, message: str | None = None):
    """A JSON-protocol error: HTTP STATUS, body {"__type": CODE, "message": ...}. Returns the body."""
    assert resp.status_code == status, f"expected HTTP {status} {code}, got {resp.status_code}: {resp.text[:2000]}"
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {resp.text[:2000]!r}") from None
    got = str(body.get("__type", "")).rsplit("#", 1)[-1]
    codes = {code} if isinstance(code, str) else set(code)
    assert got in codes, f"expected __type in {sorted(codes)}, got {body}"
    msg = body.get("message", body.get("Message"))
    assert isinstance(msg, str) and msg, f"error without a message: {body}"
    if message is not None:
        assert message in msg, f"expected {message!r} in the error message, got {msg!r}"
    return body


@contextlib.contextmanager
def raises_aws(code: str | set[str], message: str | None = None):
    """`with raises_aws("ClientException"): client.op(...)`: boto3 must raise ClientError with CODE."""
    with pytest.raises(ClientError) as info:
        yield info
    err = info.value.response["Error"]
    codes = {code} if isinstance(code, str) else set(code)
    assert err.get("Code") in codes, f"expected error code in {sorted(codes)}, got {info.value.response}"
    if message is not None:
        assert message in err.get("Message", ""), f"expected {message!r} in {err.get('Message')!r}"


def assert_cli_error(result: CliResult, code: str | set[str]):
    """The aws CLI failed (non-zero exit) and named the error CODE on stderr."""
    codes = {code} if isinstance(code, str) else set(code)
    assert result.returncode != 0, f"expected the aws CLI to fail with {codes}, it succeeded: {result.stdout}"
    assert any(c in result.stderr for c in codes), f"expected one of {sorted(codes)} in stderr: {result.stderr}"


def assert_echoed(sent: Any, got: Any, path: str = "$") -> None:
    """Every member SENT comes back equal in GOT; GOT may add members (defaults AWS fills in)."""
    if isinstance(sent, dict):
        assert isinstance(got, dict), f"{path}: expected an object, got {got!r}"
        for key, value in sent.items():
            assert key in got, f"{path}.{key}: sent {value!r}, missing from the response (has {sorted(got)})"
            assert_echoed(value, got[key], f"{path}.{key}")
    elif isinstance(sent, list):
        assert isinstance(got, list), f"{path}: expected a list, got {got!r}"
        assert len(sent) == len(got), f"{path}: sent {len(sent)} items, got {len(got)}: {got!r}"
        for i, (s, g) in enumerate(zip(sent, got, strict=False)):
            assert_echoed(s, g, f"{path}[{i}]")
    else:
        assert sent == got and type(sent) is type(got), f"{path}: sent {sent!r}, got {got!r}"


def tags_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


def paginate(client, operation: str, key: str, **kwargs) -> list:
    """All items of KEY over every page of a boto3 paginator for OPERATION (snake_case)."""
    items: list = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


# ----- ECS builders -----------------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"
IMAGE = "public.ecr.aws/docker/library/busybox:latest"


def load_data(name: str) -> dict:
    """A JSON document from tests/e2e/data/."""
    return json.loads((DATA_DIR / name).read_text())


def container(name: str = "app", **members: Any) -> dict:
    """A minimal valid EC2 container definition; MEMBERS override it (a None value drops a member)."""
    c: dict[str, Any] = {"name": name, "image": IMAGE, "memory": 128, "essential": True}
    c.update(members)
    return {k: v for k, v in c.items() if v is not None}


def register(ecs, family: str, containers: list[dict] | None = None, **members: Any) -> dict:
    """RegisterTaskDefinition through boto3; returns the whole response."""
    return ecs.register_task_definition(family=family, containerDefinitions=containers or [container()], **members)
