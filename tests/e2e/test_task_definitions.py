"""Task definitions through boto3: registration (every member echoed, AWS defaults, AWS validation),
revisions, DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
DeregisterTaskDefinition and DeleteTaskDefinitions."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from berth_harness import assert_echoed, container, paginate, raises_aws, register, tags_dict, unique

UNABLE = "Unable to describe task definition."


def td_arn(berth, family: str, revision: int) -> str:
    return f"{berth.arn_prefix}:task-definition/{family}:{revision}"


def families(ecs, prefix: str, **kwargs) -> list[str]:
    return paginate(ecs, "list_task_definition_families", "families", familyPrefix=prefix, **kwargs)


def revisions(ecs, family: str, **kwargs) -> list[str]:
    return paginate(ecs, "list_task_definitions", "taskDefinitionArns", familyPrefix=family, **kwargs)


def everything_task_definition(family: str) -> dict:
    """A RegisterTaskDefinition input using (nearly) every member botocore's shapes have for EC2/bridge."""
    main = {
        "name": "main",
        "image": "127.0.0.1:5000/app:1.2.3",
        "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:000000000000:secret:reg"},
        "cpu": 256,
        "memory": 512,
        "memoryReservation": 256,
        "links": ["sidecar:side"],
        "portMappings": [
            {"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"},
            {"containerPort": 5353, "hostPort": 15353, "protocol": "udp"},
        ],
        "essential": True,
        "restartPolicy": {"enabled": True, "ignoredExitCodes": [0, 2], "restartAttemptPeriod": 120},
        "entryPoint": ["/bin/sh", "-c"],
        "command": ["exec /app --port 8080"],
        "environment": [{"name": "MODE", "value": "test"}, {"name": "EMPTY", "value": ""}],
        "environmentFiles": [{"value": "arn:aws:s3:::config-bucket/app.env", "type": "s3"}],
        "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}],
        "volumesFrom": [{"sourceContainer": "sidecar", "readOnly": True}],
        "linuxParameters": {
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
            "devices": [{"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["read", "write"]}],
            "initProcessEnabled": True,
            "sharedMemorySize": 64,
            "tmpfs": [{"containerPath": "/scratch", "size": 32, "mountOptions": ["rw", "noexec"]}],
            "maxSwap": 1024,
            "swappiness": 10,
        },
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/db-password"}],
        "dependsOn": [{"containerName": "sidecar", "condition": "START"}],
        "startTimeout": 60,
        "stopTimeout": 30,
        "hostname": "main-host",
        "user": "1000:1000",
        "workingDirectory": "/srv",
        "disableNetworking": False,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "dnsServers": ["10.0.0.2"],
        "dnsSearchDomains": ["svc.local"],
        "extraHosts": [{"hostname": "db.local", "ipAddress": "10.0.0.10"}],
        "dockerSecurityOptions": ["no-new-privileges"],
        "interactive": False,
        "pseudoTerminal": False,
        "dockerLabels": {"com.example.team": "platform", "tier": "web"},
        "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/everything",
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "ecs",
            },
            "secretOptions": [{"name": "token", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/log-token"}],
        },
        "healthCheck": {
            "command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 10,
        },
        "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
        "resourceRequirements": [{"type": "GPU", "value": "1"}],
    }
    sidecar = {
        "name": "sidecar",
        "image": "public.ecr.aws/docker/library/busybox:latest",
        "memoryReservation": 64,
        "essential": False,
        "command": ["sleep", "infinity"],
    }
    return {
        "family": family,
        "taskRoleArn": "arn:aws:iam::000000000000:role/app-task",
        "executionRoleArn": "arn:aws:iam::000000000000:role/app-execution",
        "networkMode": "bridge",
        "containerDefinitions": [main, sidecar],
        "volumes": [
            {"name": "data", "host": {"sourcePath": "/var/lib/app"}},
            {"name": "scratch"},
            {
                "name": "shared",
                "dockerVolumeConfiguration": {
                    "scope": "shared",
                    "autoprovision": True,
                    "driver": "local",
                    "driverOpts": {"type": "tmpfs", "device": "tmpfs"},
                    "labels": {"owner": "app"},
                },
            },
        ],
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
        "requiresCompatibilities": ["EC2"],
        "cpu": "512",
        "memory": "1024",
        "pidMode": "task",
        "ipcMode": "task",
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "tags": [{"key": "team", "value": "platform"}, {"key": "cost-center", "value": "42"}],
    }


def without_tags(request: dict) -> dict:
    return {k: v for k, v in request.items() if k != "tags"}


# ----- registration: echo and defaults ---------------------------------------------------------------


def test_register_echoes_every_member(berth, ecs):
    family = unique("td-all")
    request = everything_task_definition(family)
    before = dt.datetime.now(dt.UTC)
    resp = ecs.register_task_definition(**request)
    td = resp["taskDefinition"]
    assert_echoed(without_tags(request), td)
    assert tags_dict(resp.get("tags")) == tags_dict(request["tags"])
    assert td["taskDefinitionArn"] == td_arn(berth, family, 1)
    assert td["revision"] == 1
    assert td["status"] == "ACTIVE"
    assert before - dt.timedelta(minutes=5) <= td["registeredAt"] <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert isinstance(td.get("registeredBy"), str) and td["registeredBy"]

    described = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    assert_echoed(without_tags(request), described["taskDefinition"])
    assert described["taskDefinition"]["taskDefinitionArn"] == td["taskDefinitionArn"]
    assert tags_dict(described["tags"]) == tags_dict(request["tags"])


def test_register_fills_aws_defaults(berth, ecs):
    family = unique("td-defaults")
    td = register(ecs, family, [container("web", portMappings=[{"containerPort": 80}])])["taskDefinition"]
    c = td["containerDefinitions"][0]
    assert c["essential"] is True
    assert c["portMappings"][0]["containerPort"] == 80
    assert td["status"] == "ACTIVE"
    assert "EC2" in td["compatibilities"]
    assert "FARGATE" not in td["compatibilities"], "a bridge-mode task definition is not Fargate-compatible"
    assert isinstance(td.get("requiresAttributes", []), list)
    assert td.get("volumes", []) == []
    assert td.get("placementConstraints", []) == []


def test_essential_defaults_to_true(ecs):
    td = register(ecs, unique("td-ess"), [container("only", essential=None)])["taskDefinition"]
    assert td["containerDefinitions"][0]["essential"] is True


def test_fargate_task_definition_defaults(berth, ecs):
    family = unique("td-fargate")
    td = register(
        ecs,
        family,
        [container("web", memory=None, portMappings=[{"containerPort": 80, "protocol": "tcp"}])],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
    )["taskDefinition"]
    assert td["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 80
    assert {"EC2", "FARGATE"} <= set(td["compatibilities"])
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert (td["cpu"], td["memory"]) == ("256", "512")
    names = {a["name"] for a in td.get("requiresAttributes", [])}
    assert "ecs.capability.task-eni" in names, td.get("requiresAttributes")


# ----- revisions and describe -----------------------------------------------------------------------


def test_revisions_increment_and_describe_forms(berth, ecs):
    family = unique("td-rev")
    for expected in (1, 2, 3):
        td = register(ecs, family, [container(command=[f"v{expected}"])])["taskDefinition"]
        assert td["revision"] == expected
        assert td["taskDefinitionArn"] == td_arn(berth, family, expected)

    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 3
    by_rev = ecs.describe_task_definition(taskDefinition=f"{family}:2")["taskDefinition"]
    assert by_rev["revision"] == 2 and by_rev["containerDefinitions"][0]["command"] == ["v2"]
    by_arn = ecs.describe_task_definition(taskDefinition=td_arn(berth, family, 1))["taskDefinition"]
    assert by_arn["revision"] == 1 and by_arn["containerDefinitions"][0]["command"] == ["v1"]


def test_revisions_are_immutable(ecs):
    family = unique("td-immutable")
    register(ecs, family, [container(image="img:1")])
    register(ecs, family, [container(image="img:2")])
    assert (
        ecs.describe_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]["containerDefinitions"][0]["image"]
        == "img:1"
    )


def test_describe_tags_only_with_include(ecs):
    family = unique("td-tags")
    register(ecs, family, tags=[{"key": "a", "value": "1"}])
    plain = ecs.describe_task_definition(taskDefinition=family)
    assert not plain.get("tags")
    assert tags_dict(ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])["tags"]) == {"a": "1"}


def test_describe_latest_active_skips_deregistered(ecs):
    family = unique("td-latest")
    for _ in range(3):
        register(ecs, family)
    ecs.deregister_task_definition(taskDefinition=f"{family}:3")
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2


@pytest.mark.parametrize("kind", ["unknown-family", "unknown-revision", "unknown-arn", "all-inactive"])
def test_describe_unknown_task_definition(berth, ecs, kind):
    family = unique("td-unknown")
    if kind in ("unknown-revision", "all-inactive"):
        register(ecs, family)
    if kind == "all-inactive":
        ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    ref = {
        "unknown-family": family,
        "unknown-revision": f"{family}:7",
        "unknown-arn": td_arn(berth, family, 1),
        "all-inactive": family,
    }[kind]
    with raises_aws("ClientException", message=UNABLE):
        ecs.describe_task_definition(taskDefinition=ref)


# ----- task-level cpu and memory ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cpu,memory,want",
    [
        ("256", "512", ("256", "512")),
        ("0.25 vCPU", "512", ("256", "512")),
        ("1 vCPU", "2 GB", ("1024", "2048")),
        ("1 vcpu", "1GB", ("1024", "1024")),
        ("2 vCPU", "4 gb", ("2048", "4096")),
        ("512", "1 GB", ("512", "1024")),
    ],
)
def test_task_cpu_memory_normalized(ecs, cpu, memory, want):
    td = register(ecs, unique("td-units"), [container(memory=None)], cpu=cpu, memory=memory)["taskDefinition"]
    assert (td["cpu"], td["memory"]) == want
    family = td["family"]
    described = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert (described["cpu"], described["memory"]) == want


FARGATE_VALID = [
    ("256", "512"),
    ("256", "1024"),
    ("256", "2048"),
    ("512", "1024"),
    ("512", "3072"),
    ("512", "4096"),
    ("1024", "2048"),
    ("1024", "5120"),
    ("1024", "8192"),
    ("2048", "4096"),
    ("2048", "9216"),
    ("2048", "16384"),
    ("4096", "8192"),
    ("4096", "20480"),
    ("4096", "30720"),
    ("0.25 vCPU", "1 GB"),
]
FARGATE_INVALID = [
    ("256", "256"),
    ("256", "3072"),
    ("256", "4096"),
    ("512", "512"),
    ("512", "5120"),
    ("1024", "1024"),
    ("1024", "9216"),
    ("2048", "2048"),
    ("2048", "4608"),
    ("2048", "17408"),
    ("4096", "4096"),
    ("4096", "31744"),
    ("4096", "8704"),
    ("128", "512"),
    ("300", "1024"),
    ("256", None),
    (None, "512"),
    (None, None),
]


def fargate(ecs, family, cpu, memory, networkMode="awsvpc", **members):
    """A FARGATE registration; a None cpu, memory or networkMode leaves that member out."""
    extra = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("networkMode", networkMode)) if v is not None}
    return register(
        ecs,
        family,
        [container("app", memory=None, memoryReservation=None)],
        requiresCompatibilities=["FARGATE"],
        **extra,
        **members,
    )


@pytest.mark.parametrize("cpu,memory", FARGATE_VALID)
def test_fargate_valid_cpu_memory(ecs, cpu, memory):
    td = fargate(ecs, unique("td-fg-ok"), cpu, memory)["taskDefinition"]
    assert "FARGATE" in td["compatibilities"]


@pytest.mark.parametrize("cpu,memory", FARGATE_INVALID)
def test_fargate_invalid_cpu_memory(ecs, cpu, memory):
    family = unique("td-fg-bad")
    with raises_aws("ClientException"):
        fargate(ecs, family, cpu, memory)
    assert families(ecs, family) == []


@pytest.mark.parametrize("network_mode", ["bridge", "host", "none", None])
def test_fargate_requires_awsvpc(ecs, network_mode):
    family = unique("td-fg-net")
    with raises_aws("ClientException"):
        fargate(ecs, family, "256", "512", networkMode=network_mode)
    assert families(ecs, family) == []


# ----- port mappings in awsvpc/host mode -------------------------------------------------------------


@pytest.mark.parametrize("network_mode", ["awsvpc", "host"])
def test_host_port_must_equal_container_port(ecs, network_mode):
    family = unique("td-ports")
    with raises_aws("ClientException"):
        register(
            ecs, family, [container(portMappings=[{"containerPort": 8080, "hostPort": 8081}])], networkMode=network_mode
        )
    with raises_aws("ClientException"):
        register(
            ecs, family, [container(portMappings=[{"containerPort": 8080, "hostPort": 0}])], networkMode=network_mode
        )
    assert families(ecs, family) == []

    same = register(
        ecs, family, [container(portMappings=[{"containerPort": 8080, "hostPort": 8080}])], networkMode=network_mode
    )
    assert same["taskDefinition"]["revision"] == 1
    assert same["taskDefinition"]["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 8080
    absent = register(ecs, family, [container(portMappings=[{"containerPort": 9090}])], networkMode=network_mode)
    assert absent["taskDefinition"]["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 9090


def test_bridge_mode_allows_other_host_ports(ecs):
    mappings = [{"containerPort": 8080, "hostPort": 0}, {"containerPort": 8443, "hostPort": 443}]
    td = register(ecs, unique("td-bridge"), [container(portMappings=mappings)], networkMode="bridge")["taskDefinition"]
    got = td["containerDefinitions"][0]["portMappings"]
    assert [(p["containerPort"], p["hostPort"]) for p in got] == [(8080, 0), (8443, 443)]


# ----- AWS's validation rules ------------------------------------------------------------------------


def _oversized_containers():
    env = [{"name": f"VAR_{i}", "value": "x" * 1000} for i in range(80)]  # ~80 KiB of JSON
    return [container(environment=env)]


INVALID_REGISTRATIONS = {
    "duplicate-container-names": {"containerDefinitions": [container("app"), container("app")]},
    "more-than-10-containers": {"containerDefinitions": [container(f"c{i}") for i in range(11)]},
    "no-essential-container": {
        "containerDefinitions": [container("a", essential=False), container("b", essential=False)]
    },
    "memory-below-reservation": {"containerDefinitions": [container(memory=128, memoryReservation=256)]},
    "no-memory-without-task-memory": {"containerDefinitions": [container(memory=None)]},
    "depends-on-unknown-container": {
        "containerDefinitions": [container("a", dependsOn=[{"containerName": "ghost", "condition": "START"}])]
    },
    "dependency-cycle": {
        "containerDefinitions": [
            container("a", dependsOn=[{"containerName": "b", "condition": "START"}]),
            container("b", dependsOn=[{"containerName": "c", "condition": "START"}]),
            container("c", dependsOn=[{"containerName": "a", "condition": "START"}]),
        ]
    },
    "self-dependency": {
        "containerDefinitions": [container("a", dependsOn=[{"containerName": "a", "condition": "START"}])]
    },
    "over-64-KiB": {"containerDefinitions": _oversized_containers()},
}


@pytest.mark.parametrize("case", sorted(INVALID_REGISTRATIONS))
def test_invalid_registration_is_client_exception(ecs, case):
    family = unique("td-invalid")
    with raises_aws("ClientException"):
        ecs.register_task_definition(family=family, **INVALID_REGISTRATIONS[case])
    # Nothing stored: no family, and the first good registration is still revision 1.
    assert families(ecs, family) == []
    assert register(ecs, family)["taskDefinition"]["revision"] == 1


VALID_EDGE_REGISTRATIONS = {
    "exactly-10-containers": {"containerDefinitions": [container(f"c{i}") for i in range(10)]},
    "memory-equal-reservation": {"containerDefinitions": [container(memory=256, memoryReservation=256)]},
    "reservation-only": {"containerDefinitions": [container(memory=None, memoryReservation=64)]},
    "task-memory-covers-containers": {"containerDefinitions": [container(memory=None)], "memory": "512"},
    "one-essential-of-two": {"containerDefinitions": [container("a"), container("b", essential=False)]},
    "dependency-chain": {
        "containerDefinitions": [
            container("a", dependsOn=[{"containerName": "b", "condition": "START"}]),
            container("b", dependsOn=[{"containerName": "c", "condition": "COMPLETE"}], essential=False),
            container("c", essential=False),
        ]
    },
    "about-50-KiB": {
        "containerDefinitions": [container(environment=[{"name": f"V{i}", "value": "y" * 1000} for i in range(48)])]
    },
}


@pytest.mark.parametrize("case", sorted(VALID_EDGE_REGISTRATIONS))
def test_valid_edge_registration(ecs, case):
    request = VALID_EDGE_REGISTRATIONS[case]
    td = ecs.register_task_definition(family=unique("td-edge"), **request)["taskDefinition"]
    assert_echoed(request["containerDefinitions"], td["containerDefinitions"])


# ----- ListTaskDefinitions ---------------------------------------------------------------------------


def test_list_task_definitions_family_sort_and_pages(berth, ecs):
    family = unique("td-list")
    for _ in range(5):
        register(ecs, family)
    asc = [td_arn(berth, family, r) for r in range(1, 6)]
    assert revisions(ecs, family) == asc
    assert revisions(ecs, family, sort="ASC") == asc
    assert revisions(ecs, family, sort="DESC") == asc[::-1]
    assert revisions(ecs, family, PaginationConfig={"PageSize": 2}) == asc
    assert revisions(ecs, family, sort="DESC", PaginationConfig={"PageSize": 2}) == asc[::-1]

    first = ecs.list_task_definitions(familyPrefix=family, maxResults=2)
    assert first["taskDefinitionArns"] == asc[:2] and first.get("nextToken")
    second = ecs.list_task_definitions(familyPrefix=family, maxResults=2, nextToken=first["nextToken"])
    assert second["taskDefinitionArns"] == asc[2:4] and second.get("nextToken")
    third = ecs.list_task_definitions(familyPrefix=family, maxResults=2, nextToken=second["nextToken"])
    assert third["taskDefinitionArns"] == asc[4:]
    assert not third.get("nextToken")


def test_list_task_definitions_family_prefix_is_the_full_family(berth, ecs):
    family = unique("td-exact")
    register(ecs, family)
    register(ecs, f"{family}-longer")
    assert revisions(ecs, family) == [td_arn(berth, family, 1)]


def test_list_task_definitions_status(berth, ecs):
    family = unique("td-status")
    for _ in range(3):
        register(ecs, family)
    ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    ecs.deregister_task_definition(taskDefinition=f"{family}:2")
    ecs.delete_task_definitions(taskDefinitions=[f"{family}:1"])
    assert revisions(ecs, family) == [td_arn(berth, family, 3)], "default status is ACTIVE"
    assert revisions(ecs, family, status="ACTIVE") == [td_arn(berth, family, 3)]
    assert revisions(ecs, family, status="INACTIVE") == [td_arn(berth, family, 2)]
    assert revisions(ecs, family, status="DELETE_IN_PROGRESS") == [td_arn(berth, family, 1)]


def test_list_task_definitions_without_filter_includes_ours(berth, ecs):
    family = unique("td-all-list")
    register(ecs, family)
    arns = paginate(ecs, "list_task_definitions", "taskDefinitionArns", PaginationConfig={"PageSize": 7})
    assert len(arns) == len(set(arns))
    assert td_arn(berth, family, 1) in arns


@pytest.mark.parametrize("max_results", [0, 101])
def test_list_task_definitions_max_results_out_of_range(ecs, max_results):
    with raises_aws("InvalidParameterException"):
        ecs.list_task_definitions(maxResults=max_results)


# ----- ListTaskDefinitionFamilies --------------------------------------------------------------------


def test_list_task_definition_families(ecs):
    prefix = unique("tdf")
    active, inactive, other = f"{prefix}-active", f"{prefix}-inactive", f"{prefix}x-other"
    register(ecs, active)
    register(ecs, active)
    ecs.deregister_task_definition(taskDefinition=f"{active}:1")
    register(ecs, inactive)
    ecs.deregister_task_definition(taskDefinition=f"{inactive}:1")
    register(ecs, other)

    assert families(ecs, f"{prefix}-") == [active, inactive], "default lists ACTIVE and INACTIVE families"
    assert families(ecs, f"{prefix}-", status="ALL") == [active, inactive]
    assert families(ecs, f"{prefix}-", status="ACTIVE") == [active]
    assert families(ecs, f"{prefix}-", status="INACTIVE") == [inactive]
    assert families(ecs, prefix) == [active, inactive, other]
    assert families(ecs, prefix, PaginationConfig={"PageSize": 1}) == [active, inactive, other]

    page = ecs.list_task_definition_families(familyPrefix=prefix, maxResults=2)
    assert page["families"] == [active, inactive] and page.get("nextToken")
    rest = ecs.list_task_definition_families(familyPrefix=prefix, maxResults=2, nextToken=page["nextToken"])
    assert rest["families"] == [other] and not rest.get("nextToken")


# ----- DeregisterTaskDefinition ----------------------------------------------------------------------


def test_deregister_task_definition(berth, ecs):
    family = unique("td-dereg")
    register(ecs, family)
    register(ecs, family)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    td = ecs.deregister_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]
    assert td["taskDefinitionArn"] == td_arn(berth, family, 1)
    assert td["status"] == "INACTIVE"
    assert td["deregisteredAt"] >= before

    described = ecs.describe_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]
    assert described["status"] == "INACTIVE"
    assert described["deregisteredAt"] == td["deregisteredAt"]
    assert (
        ecs.describe_task_definition(taskDefinition=td_arn(berth, family, 1))["taskDefinition"]["status"] == "INACTIVE"
    )
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2

    by_arn = ecs.deregister_task_definition(taskDefinition=td_arn(berth, family, 2))["taskDefinition"]
    assert by_arn["status"] == "INACTIVE"
    assert revisions(ecs, family) == []


def test_deregister_needs_a_revision(ecs):
    family = unique("td-dereg-norev")
    register(ecs, family)
    with raises_aws({"ClientException", "InvalidParameterException"}):
        ecs.deregister_task_definition(taskDefinition=family)
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["status"] == "ACTIVE"


def test_deregister_unknown(ecs):
    with raises_aws({"ClientException", "InvalidParameterException"}):
        ecs.deregister_task_definition(taskDefinition=f"{unique('td-ghost')}:1")


# ----- DeleteTaskDefinitions -------------------------------------------------------------------------


def test_delete_task_definitions_only_inactive(berth, ecs):
    family = unique("td-delete")
    for _ in range(3):
        register(ecs, family)
    ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    ecs.deregister_task_definition(taskDefinition=f"{family}:2")

    resp = ecs.delete_task_definitions(taskDefinitions=[f"{family}:1", td_arn(berth, family, 2), f"{family}:3"])
    deleted = {td["taskDefinitionArn"]: td for td in resp["taskDefinitions"]}
    assert set(deleted) == {td_arn(berth, family, 1), td_arn(berth, family, 2)}
    assert all(td["status"] == "DELETE_IN_PROGRESS" for td in deleted.values())
    assert [f["arn"] for f in resp["failures"]] == [td_arn(berth, family, 3)], resp["failures"]
    assert resp["failures"][0].get("reason")

    assert revisions(ecs, family, status="DELETE_IN_PROGRESS") == [td_arn(berth, family, 1), td_arn(berth, family, 2)]
    assert revisions(ecs, family, status="INACTIVE") == []
    assert revisions(ecs, family) == [td_arn(berth, family, 3)]
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 3


def test_delete_unknown_task_definition_is_refused(berth, ecs):
    family = unique("td-delete-ghost")
    try:
        resp = ecs.delete_task_definitions(taskDefinitions=[f"{family}:1"])
    except ClientError as e:  # AWS may refuse the whole call instead of listing a failure
        assert e.response["Error"]["Code"] in {"ClientException", "InvalidParameterException"}, e.response
        return
    assert resp.get("taskDefinitions", []) == []
    assert len(resp["failures"]) == 1


def test_revisions_never_reused(berth, ecs):
    family = unique("td-reuse")
    register(ecs, family)
    register(ecs, family)
    for rev in (1, 2):
        ecs.deregister_task_definition(taskDefinition=f"{family}:{rev}")
    ecs.delete_task_definitions(taskDefinitions=[f"{family}:1", f"{family}:2"])
    td = register(ecs, family)["taskDefinition"]
    assert td["revision"] == 3
    assert td["taskDefinitionArn"] == td_arn(berth, family, 3)
    assert register(ecs, family)["taskDefinition"]["revision"] == 4


def test_concurrent_registrations_get_distinct_revisions(berth, ecs):
    family = unique("td-race")
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda _: register(ecs, family)["taskDefinition"]["revision"], range(24)))
    assert sorted(got) == list(range(1, 25))
    assert revisions(ecs, family) == [td_arn(berth, family, r) for r in range(1, 25)]
