"""CloudWatch Logs: the API (aws CLI v1 / boto3 against berth's Logs_20140328), the agent's awslogs driver
shipping real container output into it, and `berth logs` printing a group as `aws logs tail` does."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from agent_harness import TEST_IMAGE, AgentProcess
from berth_harness import raises_aws, unique

WAIT = {"Delay": 1, "MaxAttempts": 120}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def logs(berth):
    return berth.client("logs")


@pytest.fixture
def group(logs):
    name = unique("/berth/test")
    logs.create_log_group(logGroupName=name)
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except Exception:  # noqa: BLE001 - a test may have deleted it
        pass


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    name = unique("logs")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name, agent
    agent.close()


def awslogs_task(ecs, group: str, script: str, *, create_group: bool = True, name: str = "printer") -> str:
    options = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}
    if create_group:
        options["awslogs-create-group"] = "true"
    c = {"name": name, "image": TEST_IMAGE, "memory": 32, "essential": True, "command": ["sh", "-c", script],
         "logConfiguration": {"logDriver": "awslogs", "options": options}}  # fmt: skip
    td = ecs.register_task_definition(family=unique("logs"), networkMode="bridge", containerDefinitions=[c])
    return td["taskDefinition"]["taskDefinitionArn"]


def run_and_wait_stopped(ecs, cluster: str, td: str) -> dict:
    resp = ecs.run_task(cluster=cluster, taskDefinition=td)
    assert not resp["failures"], resp["failures"]
    arn = resp["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=WAIT)
    return ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]


def stream_messages(berth, group: str, stream: str) -> list[str]:
    out = berth.aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--start-from-head")
    return [e["message"] for e in out["events"]]


# ----- the awslogs driver -----------------------------------------------------------------------------------


def test_a_task_s_500_lines_arrive_in_order_and_filter_finds_exactly_the_matches(berth, cluster):
    name, _agent = cluster
    ecs = berth.client("ecs")
    group = unique("/ecs/printer")
    td = awslogs_task(ecs, group, 'i=1; while [ $i -le 500 ]; do echo "line $i"; i=$((i+1)); done')
    task = run_and_wait_stopped(ecs, name, td)
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert task["stopCode"] == "EssentialContainerExited", task

    stream = f"ecs/printer/{task_id}"
    messages = stream_messages(berth, group, stream)
    assert messages == [f"line {i}" for i in range(1, 501)]

    streams = berth.aws("logs", "describe-log-streams", "--log-group-name", group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    assert streams[0]["firstEventTimestamp"] <= streams[0]["lastEventTimestamp"]

    found = berth.aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", '"line 42"')
    assert [e["message"] for e in found["events"]] == [m for m in messages if "line 42" in m]
    assert all(e["logStreamName"] == stream and e["eventId"] for e in found["events"])
    optional = berth.aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", '?"line 7" ?"line 9"', "--log-stream-names", stream)
    assert [e["message"] for e in optional["events"]] == [m for m in messages if "line 7" in m or "line 9" in m]


def test_a_missing_group_without_create_group_fails_the_task_start(berth, cluster):
    name, _agent = cluster
    ecs = berth.client("ecs")
    td = awslogs_task(ecs, unique("/ecs/absent"), "echo hi", create_group=False)
    task = run_and_wait_stopped(ecs, name, td)
    assert task["stopCode"] == "TaskFailedToStart", task
    assert task["stoppedReason"].startswith("ResourceInitializationError: failed to validate logger args")
    assert "The specified log group does not exist" in task["stoppedReason"]


def test_restarting_the_agent_while_a_container_prints_loses_and_repeats_nothing(berth, cluster):
    name, agent = cluster
    ecs = berth.client("ecs")
    group = unique("/ecs/restart")
    n = 600
    td = awslogs_task(ecs, group, f'i=1; while [ $i -le {n} ]; do echo "tick $i"; i=$((i+1)); usleep 10000; done')
    resp = ecs.run_task(cluster=name, taskDefinition=td)
    arn = resp["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=name, tasks=[arn], WaiterConfig=WAIT)
    time.sleep(2)
    agent.kill()
    time.sleep(2)
    agent.start()
    ecs.get_waiter("tasks_stopped").wait(cluster=name, tasks=[arn], WaiterConfig=WAIT)
    stream = f"ecs/printer/{arn.rsplit('/', 1)[-1]}"
    assert stream_messages(berth, group, stream) == [f"tick {i}" for i in range(1, n + 1)]


# ----- the API ----------------------------------------------------------------------------------------------


def test_groups_streams_retention_and_tags(berth, logs):
    prefix = unique("/berth/g")
    for i in range(3):
        logs.create_log_group(logGroupName=f"{prefix}/{i}", tags={"team": "a"})
    with raises_aws("ResourceAlreadyExistsException"):
        logs.create_log_group(logGroupName=f"{prefix}/0")
    with raises_aws("InvalidParameterException"):
        logs.create_log_group(logGroupName="bad name!")

    page1 = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2)
    assert [g["logGroupName"] for g in page1["logGroups"]] == [f"{prefix}/0", f"{prefix}/1"]
    page2 = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2, nextToken=page1["nextToken"])
    assert [g["logGroupName"] for g in page2["logGroups"]] == [f"{prefix}/2"]
    assert "nextToken" not in page2
    cli = berth.aws("logs", "describe-log-groups", "--log-group-name-prefix", prefix, "--page-size", "1")
    assert len(cli["logGroups"]) == 3

    g = f"{prefix}/0"
    logs.put_retention_policy(logGroupName=g, retentionInDays=7)
    with raises_aws("InvalidParameterException"):
        logs.put_retention_policy(logGroupName=g, retentionInDays=8)
    described = logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
    assert described["retentionInDays"] == 7 and described["storedBytes"] == 0
    assert described["arn"].endswith(f":log-group:{g}:*")
    logs.delete_retention_policy(logGroupName=g)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]

    arn = described["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a", "env": "dev"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_log_group(logGroupName=g)["tags"] == {"env": "dev"}

    for s in ["b", "a", "c"]:
        logs.create_log_stream(logGroupName=g, logStreamName=s)
    with raises_aws("ResourceAlreadyExistsException"):
        logs.create_log_stream(logGroupName=g, logStreamName="a")
    t = now_ms()
    logs.put_log_events(logGroupName=g, logStreamName="c", logEvents=[{"timestamp": t - 1000, "message": "x"}])
    logs.put_log_events(logGroupName=g, logStreamName="a", logEvents=[{"timestamp": t, "message": "y"}])
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=g)["logStreams"]]
    assert names == ["a", "b", "c"]
    by_time = logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["a", "c", "b"]
    assert by_time[0]["lastEventTimestamp"] == t
    page = logs.describe_log_streams(logGroupName=g, limit=2)
    assert len(page["logStreams"]) == 2 and page["nextToken"]
    logs.delete_log_stream(logGroupName=g, logStreamName="b")
    with raises_aws("ResourceNotFoundException"):
        logs.delete_log_stream(logGroupName=g, logStreamName="b")
    for i in range(3):
        logs.delete_log_group(logGroupName=f"{prefix}/{i}")
    with raises_aws("ResourceNotFoundException"):
        logs.delete_log_group(logGroupName=g)


def test_put_log_events_follows_aws_rules(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    with raises_aws("InvalidParameterException", "chronological"):
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    with raises_aws("InvalidParameterException"):
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t, "message": "x" * (1_048_576 - 25)}])
    with raises_aws("ResourceNotFoundException", "log group does not exist"):
        logs.put_log_events(logGroupName=unique("/absent"), logStreamName="s", logEvents=[{"timestamp": t, "message": "m"}])
    with raises_aws("ResourceNotFoundException", "log stream does not exist"):
        logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=[{"timestamp": t, "message": "m"}])
    # Exactly 1 MiB counting 26 bytes per event is accepted.
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t, "message": "x" * (1_048_576 - 26)}])
    day = 86_400_000
    resp = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t - 15 * day, "message": "old"}])
    assert resp["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
    resp = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": t + 1, "message": "ok"}, {"timestamp": t + 3 * 3600_000, "message": "new"}])
    assert resp["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    # A response carries at most 1 MB: the big event, then the next page.
    first = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert [e["message"][:2] for e in first["events"]] == ["xx"]
    second = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=first["nextForwardToken"])
    assert [e["message"] for e in second["events"]] == ["ok"]


def test_get_log_events_tokens_and_filter_patterns(berth, logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="app")
    logs.create_log_stream(logGroupName=group, logStreamName="web")
    t = now_ms() - 60_000
    app = [{"timestamp": t + i * 2, "message": json.dumps({"level": "error" if i % 3 == 0 else "info", "n": i})} for i in range(30)]
    web = [{"timestamp": t + i * 2 + 1, "message": f"GET /item/{i} {'500' if i % 10 == 0 else '200'}"} for i in range(30)]
    logs.put_log_events(logGroupName=group, logStreamName="app", logEvents=app)
    logs.put_log_events(logGroupName=group, logStreamName="web", logEvents=web)

    # Forward from the head in pages of 7: everything once, then the same token back.
    token, seen = None, []
    while True:
        kw = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName=group, logStreamName="web", limit=7, **kw)
        assert page["nextForwardToken"].startswith("f/") and page["nextBackwardToken"].startswith("b/")
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [e["message"] for e in web]
    tail = logs.get_log_events(logGroupName=group, logStreamName="web", limit=5)
    assert [e["message"] for e in tail["events"]] == [e["message"] for e in web[-5:]]
    back = logs.get_log_events(logGroupName=group, logStreamName="web", limit=5, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == [e["message"] for e in web[-10:-5]]
    with raises_aws("InvalidParameterException"):
        logs.get_log_events(logGroupName=group, logStreamName="web", nextToken="garbage")

    def filt(pattern, **kw):
        out = berth.aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", pattern, *kw.get("args", []))
        return [e["message"] for e in out["events"]]

    assert filt('{ $.level = "error" }') == [e["message"] for e in app if '"error"' in e["message"]]
    assert filt("{ $.n >= 28 }") == [app[28]["message"], app[29]["message"]]
    assert filt("GET 500") == [e["message"] for e in web if e["message"].endswith("500")]
    assert filt("GET -200 -500") == []
    # Interleaved across streams, inclusive startTime and endTime.
    both = filt("", args=["--start-time", str(t + 2), "--end-time", str(t + 5)])
    assert both == [app[1]["message"], web[1]["message"], app[2]["message"], web[2]["message"]]
    with raises_aws("InvalidParameterException"):
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.level = ")

    # Pages never repeat a token, eventIds are stable across queries.
    tokens, ids = set(), []
    kw = {}
    while True:
        page = logs.filter_log_events(logGroupName=group, limit=9, **kw)
        ids += [e["eventId"] for e in page["events"]]
        if "nextToken" not in page:
            break
        assert page["nextToken"] not in tokens
        tokens.add(page["nextToken"])
        kw = {"nextToken": page["nextToken"]}
    assert len(ids) == 60 and len(set(ids)) == 60
    again = [e["eventId"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert again == ids


def test_berth_logs_follow_shows_new_lines_as_they_come(berth, logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "before"}])
    env = dict(berth.env)
    proc = subprocess.Popen(
        [str(berth.binary), "logs", group, "--follow", "--since", "10m", "--poll-interval", "300ms"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []

    def pump():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:

        def wait_for(count):
            deadline = time.monotonic() + 15
            while len(lines) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(lines) >= count, (lines, proc.stderr.read() if proc.poll() is not None else "")

        wait_for(1)
        for i in range(3):
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": f"new {i}"}])
            wait_for(2 + i)
        time.sleep(1)
        assert [line.split(" ", 2)[2] for line in lines] == ["before", "new 0", "new 1", "new 2"]
        assert all(line.split(" ")[0].endswith("+00:00") and line.split(" ")[1] == "s" for line in lines)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    once = subprocess.run([str(berth.binary), "logs", group, "--filter", "new -1"], capture_output=True, text=True, env=env, timeout=30)
    assert once.returncode == 0, once.stderr
    assert [line.split(" ", 2)[2] for line in once.stdout.splitlines()] == ["new 0", "new 2"]


def test_acknowledged_events_survive_a_server_crash(fresh_berth):
    logs = fresh_berth.client("logs")
    logs.create_log_group(logGroupName="/crash")
    logs.put_retention_policy(logGroupName="/crash", retentionInDays=30)
    logs.create_log_stream(logGroupName="/crash", logStreamName="s")
    t = now_ms()
    for i in range(20):
        logs.put_log_events(logGroupName="/crash", logStreamName="s", logEvents=[{"timestamp": t + i, "message": f"e{i}"}])
    ids = [e["eventId"] for e in logs.filter_log_events(logGroupName="/crash")["events"]]
    fresh_berth.restart(crash=True)
    logs = fresh_berth.client("logs")
    events = logs.get_log_events(logGroupName="/crash", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == [f"e{i}" for i in range(20)]
    assert [e["eventId"] for e in logs.filter_log_events(logGroupName="/crash")["events"]] == ids
    group = logs.describe_log_groups(logGroupNamePrefix="/crash")["logGroups"][0]
    assert group["retentionInDays"] == 30 and group["storedBytes"] == sum(len(f"e{i}") for i in range(20))
    result = fresh_berth.aws_run("logs", "get-log-events", "--log-group-name", "/nope", "--log-stream-name", "s")
    assert result.returncode != 0 and "ResourceNotFoundException" in result.stderr
