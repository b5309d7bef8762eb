"""The server process itself: durability across a crash (SIGKILL) and a clean stop (SIGTERM),
`berth up`, and the --region / --account-id flags. Each test runs its own server."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from berth_harness import REPO_ROOT, Berth, container, paginate, raises_aws, register, tags_dict


def populate(ecs) -> None:
    ecs.create_cluster(clusterName="alpha", tags=[{"key": "k", "value": "v"}])
    ecs.create_cluster(clusterName="beta", settings=[{"name": "containerInsights", "value": "enabled"}])
    ecs.create_cluster(clusterName="gamma")
    ecs.delete_cluster(cluster="gamma")
    ecs.put_cluster_capacity_providers(
        cluster="beta",
        capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )
    for i in range(3):
        register(ecs, "web", [container(command=[f"v{i + 1}"])], tags=[{"key": "rev", "value": str(i + 1)}])
    register(ecs, "worker")
    ecs.deregister_task_definition(taskDefinition="web:2")
    ecs.deregister_task_definition(taskDefinition="worker:1")
    ecs.delete_task_definitions(taskDefinitions=["worker:1"])


def assert_populated(berth, ecs) -> None:
    arn = f"{berth.arn_prefix}:cluster"
    assert sorted(paginate(ecs, "list_clusters", "clusterArns")) == [f"{arn}/alpha", f"{arn}/beta"]
    clusters = {
        c["clusterName"]: c
        for c in ecs.describe_clusters(clusters=["alpha", "beta"], include=["TAGS", "SETTINGS"])["clusters"]
    }
    assert tags_dict(clusters["alpha"]["tags"]) == {"k": "v"}
    assert clusters["beta"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert clusters["beta"]["capacityProviders"] == ["FARGATE"]

    td = f"{berth.arn_prefix}:task-definition"
    assert paginate(ecs, "list_task_definitions", "taskDefinitionArns", familyPrefix="web") == [
        f"{td}/web:1",
        f"{td}/web:3",
    ]
    assert paginate(ecs, "list_task_definitions", "taskDefinitionArns", familyPrefix="web", status="INACTIVE") == [
        f"{td}/web:2"
    ]
    assert paginate(
        ecs, "list_task_definitions", "taskDefinitionArns", familyPrefix="worker", status="DELETE_IN_PROGRESS"
    ) == [f"{td}/worker:1"]
    latest = ecs.describe_task_definition(taskDefinition="web", include=["TAGS"])
    assert latest["taskDefinition"]["revision"] == 3
    assert latest["taskDefinition"]["containerDefinitions"][0]["command"] == ["v3"]
    assert tags_dict(latest["tags"]) == {"rev": "3"}
    assert ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]["status"] == "INACTIVE"


def test_state_survives_kill_9_and_revisions_continue(fresh_berth):
    ecs = fresh_berth.client()
    populate(ecs)
    fresh_berth.kill()
    fresh_berth.restart()
    ecs = fresh_berth.client()
    assert_populated(fresh_berth, ecs)
    assert register(ecs, "web")["taskDefinition"]["revision"] == 4
    assert register(ecs, "worker")["taskDefinition"]["revision"] == 2, "a deleted revision is never reused"


def test_last_write_before_kill_survives(fresh_berth):
    ecs = fresh_berth.client()
    for i in range(20):
        ecs.create_cluster(clusterName=f"burst-{i}")
    register(ecs, "last")
    fresh_berth.kill()
    fresh_berth.restart()
    ecs = fresh_berth.client()
    assert len(paginate(ecs, "list_clusters", "clusterArns")) == 20
    assert ecs.describe_task_definition(taskDefinition="last")["taskDefinition"]["revision"] == 1


def test_sigterm_is_a_clean_stop_and_state_is_kept(fresh_berth):
    ecs = fresh_berth.client()
    populate(ecs)
    fresh_berth.stop()
    fresh_berth.restart()
    assert_populated(fresh_berth, fresh_berth.client())
    fresh_berth.restart(crash=True)
    assert_populated(fresh_berth, fresh_berth.client())


def test_berth_up_is_a_working_single_machine_ecs(make_berth):
    """`berth up` serves the API and runs a local agent in the `default` cluster."""
    up = make_berth(command="up")
    ecs = up.client()
    deadline = time.monotonic() + 30
    while not ecs.list_container_instances(cluster="default")["containerInstanceArns"]:
        assert time.monotonic() < deadline, f"berth up registered no container instance:\n{up.log_tail()}"
        time.sleep(0.2)
    ecs.create_cluster(clusterName="from-up")
    clusters = up.aws("ecs", "list-clusters")["clusterArns"]
    assert clusters == [f"{up.arn_prefix}:cluster/default", f"{up.arn_prefix}:cluster/from-up"]
    default = ecs.describe_clusters(clusters=["default"])["clusters"][0]
    assert default["registeredContainerInstancesCount"] == 1
    up.stop()


def test_region_and_account_flags_shape_arns(make_berth):
    server = make_berth(region="eu-west-1", account_id="123456789012")
    ecs = server.client()
    cluster = ecs.create_cluster(clusterName="euro")["cluster"]
    assert cluster["clusterArn"] == "arn:aws:ecs:eu-west-1:123456789012:cluster/euro"
    td = register(ecs, "euro-td")["taskDefinition"]
    assert td["taskDefinitionArn"] == "arn:aws:ecs:eu-west-1:123456789012:task-definition/euro-td:1"
    out = server.aws("ecs", "describe-clusters", "--clusters", "nope")
    assert out["failures"] == [{"arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/nope", "reason": "MISSING"}]


def test_fresh_server_is_empty(fresh_berth, fresh_ecs):
    assert fresh_ecs.list_clusters()["clusterArns"] == []
    assert fresh_ecs.list_task_definitions()["taskDefinitionArns"] == []
    assert fresh_ecs.list_task_definition_families()["families"] == []
    with raises_aws("ClientException"):
        fresh_ecs.describe_task_definition(taskDefinition="anything")


def test_a_second_server_on_the_same_data_dir_is_refused(fresh_berth):
    second = Berth(fresh_berth.workdir)
    try:
        with pytest.raises(RuntimeError):
            second.start()
        assert "another berth server is already using the data dir" in second.log_text()
    finally:
        second.close()
    # The first one is unaffected.
    assert fresh_berth.client().list_clusters()["clusterArns"] == []


def test_the_readme_start_command_starts_berth(tmp_path):
    """The README's first command, as written (less --release: the debug build every tier shares), starts berth."""
    block = (REPO_ROOT / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    start = block.splitlines()[0].split("#", 1)[0].split()
    assert start[:2] == ["cargo", "run"] and start[-1] == "up", f"the README should open with the start command: {start}"
    command = [a for a in start if a != "--release"] + ["--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("berth: listening on http://127.0.0.1:"):
                break
        else:
            pytest.fail("the README's start command ended without serving:\n" + "".join(seen[-30:]))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert (tmp_path / "data" / "credentials").exists()
