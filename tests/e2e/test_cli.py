"""The real aws CLI (v1) as a person types it: --cli-input-json with the seed task definitions,
the CLI's own auto-pagination, shorthand syntax, and errors on stderr."""

from __future__ import annotations

import json

import pytest

from berth_harness import assert_cli_error, assert_echoed, load_data, tags_dict, unique

SEEDS = ["td-testunit.json", "web-app-task.json"]


def write_input(tmp_path, name: str, document: dict):
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2))
    return f"file://{path}"


@pytest.mark.parametrize("seed", SEEDS)
def test_register_seed_with_cli_input_json(berth, tmp_path, seed):
    request = load_data(seed)
    request["family"] = unique(request["family"])
    registered = berth.aws("ecs", "register-task-definition", "--cli-input-json", write_input(tmp_path, seed, request))
    described = berth.aws("ecs", "describe-task-definition", "--task-definition", request["family"])
    for td in (registered["taskDefinition"], described["taskDefinition"]):
        assert_echoed(request, td)
        assert td["revision"] == 1
        assert td["status"] == "ACTIVE"
        assert td["taskDefinitionArn"] == f"{berth.arn_prefix}:task-definition/{request['family']}:1"
        assert td.get("registeredAt"), td
        assert td.get("registeredBy"), td
        assert isinstance(td.get("requiresAttributes"), list), td
    assert registered["taskDefinition"] == described["taskDefinition"]


def test_seed_004_bridge_defaults(berth, tmp_path):
    request = load_data("td-testunit.json")
    request["family"] = unique(request["family"])
    td = berth.aws("ecs", "register-task-definition", "--cli-input-json", write_input(tmp_path, "td.json", request))[
        "taskDefinition"
    ]
    assert td["networkMode"] == "bridge"
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]
    assert "EC2" in td["compatibilities"] and "FARGATE" not in td["compatibilities"]
    names = {a["name"] for a in td["requiresAttributes"]}
    assert "com.amazonaws.ecs.capability.logging-driver.awslogs" in names, td["requiresAttributes"]


def test_seed_002_fargate_defaults(berth, tmp_path):
    request = load_data("web-app-task.json")
    request["family"] = unique(request["family"])
    td = berth.aws("ecs", "register-task-definition", "--cli-input-json", write_input(tmp_path, "td.json", request))[
        "taskDefinition"
    ]
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert {"EC2", "FARGATE"} <= set(td["compatibilities"])
    assert (td["cpu"], td["memory"]) == ("256", "512")
    names = {a["name"] for a in td["requiresAttributes"]}
    assert "ecs.capability.task-eni" in names, td["requiresAttributes"]
    assert "com.amazonaws.ecs.capability.logging-driver.awslogs" in names, td["requiresAttributes"]


def test_register_seeds_again_gives_next_revision(berth, tmp_path):
    request = load_data("web-app-task.json")
    request["family"] = unique(request["family"])
    uri = write_input(tmp_path, "td.json", request)
    revisions = [
        berth.aws("ecs", "register-task-definition", "--cli-input-json", uri)["taskDefinition"]["revision"]
        for _ in range(3)
    ]
    assert revisions == [1, 2, 3]


def test_cli_cluster_lifecycle(berth):
    name = unique("cli-c")
    created = berth.aws(
        "ecs",
        "create-cluster",
        "--cluster-name",
        name,
        "--tags",
        "key=team,value=cli",
        "--settings",
        "name=containerInsights,value=enabled",
    )["cluster"]
    assert created["clusterName"] == name and created["status"] == "ACTIVE"
    described = berth.aws("ecs", "describe-clusters", "--clusters", name, "--include", "TAGS", "SETTINGS")
    assert described["failures"] == []
    cluster = described["clusters"][0]
    assert tags_dict(cluster["tags"]) == {"team": "cli"}
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert created["clusterArn"] in berth.aws("ecs", "list-clusters")["clusterArns"]
    assert berth.aws("ecs", "delete-cluster", "--cluster", name)["cluster"]["status"] == "INACTIVE"
    assert created["clusterArn"] not in berth.aws("ecs", "list-clusters")["clusterArns"]


def test_cli_describe_unknown_cluster_is_missing(berth):
    name = unique("cli-ghost")
    out = berth.aws("ecs", "describe-clusters", "--clusters", name)
    assert out["clusters"] == []
    assert out["failures"] == [{"arn": f"{berth.arn_prefix}:cluster/{name}", "reason": "MISSING"}]


def test_cli_list_clusters_auto_pagination(berth):
    names = [unique("cli-page") for _ in range(7)]
    for n in names:
        berth.aws("ecs", "create-cluster", "--cluster-name", n)
    arns = berth.aws("ecs", "list-clusters", "--page-size", "2")["clusterArns"]
    assert len(arns) == len(set(arns)), f"duplicates across pages: {arns}"
    for n in names:
        assert arns.count(f"{berth.arn_prefix}:cluster/{n}") == 1, n


def test_cli_max_items_and_starting_token(fresh_berth):
    names = [f"mi-{i}" for i in range(5)]
    for n in names:
        fresh_berth.aws("ecs", "create-cluster", "--cluster-name", n)
    first = fresh_berth.aws("ecs", "list-clusters", "--max-items", "3", "--page-size", "2")
    assert len(first["clusterArns"]) == 3 and first.get("NextToken")
    rest = fresh_berth.aws("ecs", "list-clusters", "--starting-token", first["NextToken"], "--page-size", "2")
    assert not rest.get("NextToken")
    everything = first["clusterArns"] + rest["clusterArns"]
    assert sorted(everything) == sorted(f"{fresh_berth.arn_prefix}:cluster/{n}" for n in names)


def test_cli_list_task_definitions_auto_pagination(berth, tmp_path):
    request = load_data("td-testunit.json")
    request["family"] = unique("cli-tdpage")
    uri = write_input(tmp_path, "td.json", request)
    for _ in range(7):
        berth.aws("ecs", "register-task-definition", "--cli-input-json", uri)
    prefix = f"{berth.arn_prefix}:task-definition/{request['family']}"
    expected = [f"{prefix}:{r}" for r in range(1, 8)]
    listed = berth.aws("ecs", "list-task-definitions", "--family-prefix", request["family"], "--page-size", "2")
    assert listed["taskDefinitionArns"] == expected
    desc = berth.aws(
        "ecs", "list-task-definitions", "--family-prefix", request["family"], "--sort", "DESC", "--page-size", "3"
    )
    assert desc["taskDefinitionArns"] == expected[::-1]
    everything = berth.aws("ecs", "list-task-definitions", "--page-size", "2")["taskDefinitionArns"]
    assert len(everything) == len(set(everything))
    assert [a for a in everything if a.startswith(prefix + ":")] == expected


def test_cli_list_task_definition_families_auto_pagination(berth):
    prefix = unique("cli-fam")
    fams = [f"{prefix}-{i}" for i in range(5)]
    for f in fams:
        berth.aws(
            "ecs",
            "register-task-definition",
            "--family",
            f,
            "--container-definitions",
            json.dumps([{"name": "app", "image": "busybox", "memory": 64}]),
        )
    out = berth.aws("ecs", "list-task-definition-families", "--family-prefix", prefix, "--page-size", "2")
    assert out["families"] == fams


def test_cli_deregister_and_delete(berth):
    family = unique("cli-dereg")
    containers = json.dumps([{"name": "app", "image": "busybox", "memory": 64}])
    for _ in range(2):
        berth.aws("ecs", "register-task-definition", "--family", family, "--container-definitions", containers)
    td = berth.aws("ecs", "deregister-task-definition", "--task-definition", f"{family}:1")["taskDefinition"]
    assert td["status"] == "INACTIVE" and td.get("deregisteredAt")
    deleted = berth.aws("ecs", "delete-task-definitions", "--task-definitions", f"{family}:1")
    assert [t["status"] for t in deleted["taskDefinitions"]] == ["DELETE_IN_PROGRESS"]
    again = berth.aws("ecs", "register-task-definition", "--family", family, "--container-definitions", containers)
    assert again["taskDefinition"]["revision"] == 3


def test_cli_tags(berth):
    arn = berth.aws("ecs", "create-cluster", "--cluster-name", unique("cli-tags"))["cluster"]["clusterArn"]
    berth.aws("ecs", "tag-resource", "--resource-arn", arn, "--tags", "key=a,value=1", "key=b,value=2")
    assert tags_dict(berth.aws("ecs", "list-tags-for-resource", "--resource-arn", arn)["tags"]) == {"a": "1", "b": "2"}
    berth.aws("ecs", "untag-resource", "--resource-arn", arn, "--tag-keys", "a")
    assert tags_dict(berth.aws("ecs", "list-tags-for-resource", "--resource-arn", arn)["tags"]) == {"b": "2"}


def test_cli_errors_on_stderr(berth):
    ghost = unique("cli-ghost")
    assert_cli_error(berth.aws_run("ecs", "delete-cluster", "--cluster", ghost), "ClusterNotFoundException")
    result = berth.aws_run("ecs", "describe-task-definition", "--task-definition", ghost)
    assert_cli_error(result, "ClientException")
    assert "Unable to describe task definition." in result.stderr
    bad = json.dumps([{"name": "a", "image": "busybox", "memory": 64}, {"name": "a", "image": "busybox", "memory": 64}])
    assert_cli_error(
        berth.aws_run("ecs", "register-task-definition", "--family", ghost, "--container-definitions", bad),
        "ClientException",
    )
