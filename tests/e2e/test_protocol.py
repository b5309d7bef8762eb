"""The JSON 1.1 protocol edge, with hand-made (but SigV4-signed) requests no SDK would send:
unknown operations, malformed JSON, wrong member types, missing required members, oversized bodies.
Every rejected request must leave nothing stored."""

from __future__ import annotations

import pytest

from berth_harness import assert_aws_error, container, unique

# berth refuses API bodies over 2 MiB (crates/api/src/front_door.rs MAX_BODY): a full 1 MiB
# PutLogEvents batch is larger than 1 MiB once JSON-encoded.
MAX_BODY = 2 * 1024 * 1024


def family_exists(berth, family: str) -> bool:
    return family in berth.call("ListTaskDefinitionFamilies", {"familyPrefix": family})["families"]


def cluster_exists(berth, name: str) -> bool:
    return bool(berth.call("DescribeClusters", {"clusters": [name]})["clusters"])


def test_success_response_headers(berth):
    resp = berth.raw("ListClusters", {})
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("x-amzn-requestid"), dict(resp.headers)
    assert "json" in resp.headers.get("content-type", ""), dict(resp.headers)
    assert isinstance(resp.json()["clusterArns"], list)


def test_unknown_operation(berth):
    resp = berth.raw(None, {}, target="AmazonEC2ContainerServiceV20141113.FrobnicateClusters")
    body = assert_aws_error(resp, "UnknownOperationException")
    assert set(body) >= {"__type", "message"}


@pytest.mark.parametrize("target", [None, "NoSuchService_20990101.ListClusters", "ListClusters"])
def test_unroutable_target_is_a_client_error(berth, target):
    resp = berth.raw(None, {}, target=target)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)


@pytest.mark.parametrize(
    "body",
    ['{"clusterName": ', "not json at all", '{"clusterName": "a",}', "[1, 2]", '"just a string"', "\x00\x01"],
    ids=["truncated", "garbage", "trailing-comma", "array", "string", "binary"],
)
def test_malformed_json_is_serialization_exception(berth, body):
    assert_aws_error(berth.raw("CreateCluster", body), "SerializationException")


def _td(family: str, **container_members) -> dict:
    return {"family": family, "containerDefinitions": [container(**container_members)]}


# (operation, body builder taking a unique name, words the message must contain)
WRONG_TYPES = {
    "cluster-name-number": ("CreateCluster", lambda n: {"clusterName": 5}, ["clusterName"]),
    "cluster-tags-not-list": ("CreateCluster", lambda n: {"clusterName": n, "tags": "k=v"}, ["tags"]),
    "cluster-tag-key-number": (
        "CreateCluster",
        lambda n: {"clusterName": n, "tags": [{"key": 1, "value": "v"}]},
        ["tags", "key"],
    ),
    "max-results-string": ("ListClusters", lambda n: {"maxResults": "10"}, ["maxResults"]),
    "memory-string": ("RegisterTaskDefinition", lambda n: _td(n, memory="abc"), ["containerDefinitions", "memory"]),
    "memory-float": ("RegisterTaskDefinition", lambda n: _td(n, memory=1.5), ["containerDefinitions", "memory"]),
    "essential-string": (
        "RegisterTaskDefinition",
        lambda n: _td(n, essential="yes"),
        ["containerDefinitions", "essential"],
    ),
    "container-definitions-object": (
        "RegisterTaskDefinition",
        lambda n: {"family": n, "containerDefinitions": {"name": "app"}},
        ["containerDefinitions"],
    ),
    "task-cpu-number": ("RegisterTaskDefinition", lambda n: {**_td(n), "cpu": 256}, ["cpu"]),
}

# A value outside a member's enum is InvalidParameterException naming the allowed values.
UNKNOWN_ENUMS = {
    "list-sort": ("ListTaskDefinitions", lambda n: {"sort": "UP"}, "'sort'", "[ASC, DESC]"),
    "list-status": (
        "ListTaskDefinitions",
        lambda n: {"status": "GONE"},
        "'status'",
        "[ACTIVE, INACTIVE, DELETE_IN_PROGRESS]",
    ),
    "families-status": ("ListTaskDefinitionFamilies", lambda n: {"status": "GONE"}, "'status'", "[ACTIVE, INACTIVE, ALL]"),
    "run-launch-type": ("RunTask", lambda n: {"taskDefinition": f"{n}:1", "launchType": "EC3"}, "'launchType'", "EC2"),
    "cluster-setting": (
        "CreateCluster",
        lambda n: {"clusterName": n, "settings": [{"name": "noSuchSetting", "value": "x"}]},
        "'settings[0].name'",
        "[containerInsights]",
    ),
    "describe-include": ("DescribeClusters", lambda n: {"clusters": [n], "include": ["BOGUS"]}, "'include[0]'", "TAGS"),
    "port-protocol": (
        "RegisterTaskDefinition",
        lambda n: _td(n, portMappings=[{"containerPort": 80, "protocol": "sctp"}]),
        "portMappings[0].protocol'",
        "[tcp, udp]",
    ),
    "network-mode": (
        "RegisterTaskDefinition",
        lambda n: {**_td(n), "networkMode": "bogus"},
        "'networkMode'",
        "[bridge, host, awsvpc, none]",
    ),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_ENUMS))
def test_unknown_enum_value_is_invalid_parameter(berth, case):
    operation, build, member, allowed = UNKNOWN_ENUMS[case]
    name = unique("proto-enum")
    message = assert_aws_error(berth.raw(operation, build(name)), "InvalidParameterException")["message"]
    assert member in message and allowed in message, message
    assert not family_exists(berth, name)
    assert not cluster_exists(berth, name)


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_wrong_member_type_is_serialization_exception(berth, case):
    operation, build, words = WRONG_TYPES[case]
    name = unique("proto")
    body = assert_aws_error(berth.raw(operation, build(name)), "SerializationException")
    for word in words:
        assert word in body["message"], f"the message should name the member path ({words}): {body['message']!r}"
    assert not family_exists(berth, name)
    assert not cluster_exists(berth, name)


MISSING_REQUIRED = {
    "DeleteCluster": ("DeleteCluster", lambda n: {}),
    "UpdateCluster": ("UpdateCluster", lambda n: {"settings": []}),
    "UpdateClusterSettings": ("UpdateClusterSettings", lambda n: {"cluster": n}),
    "PutClusterCapacityProviders": ("PutClusterCapacityProviders", lambda n: {"cluster": n, "capacityProviders": []}),
    "Register-no-family": ("RegisterTaskDefinition", lambda n: {"containerDefinitions": [container()]}),
    "Register-no-containers": ("RegisterTaskDefinition", lambda n: {"family": n}),
    "Register-healthcheck-no-command": (
        "RegisterTaskDefinition",
        lambda n: _td(n, healthCheck={"interval": 30}),
    ),
    "Register-log-no-driver": (
        "RegisterTaskDefinition",
        lambda n: _td(n, logConfiguration={"options": {"a": "b"}}),
    ),
    "Register-depends-no-condition": (
        "RegisterTaskDefinition",
        lambda n: {
            "family": n,
            "containerDefinitions": [container("a", dependsOn=[{"containerName": "b"}]), container("b")],
        },
    ),
    "DescribeTaskDefinition": ("DescribeTaskDefinition", lambda n: {}),
    "DeregisterTaskDefinition": ("DeregisterTaskDefinition", lambda n: {}),
    "DeleteTaskDefinitions": ("DeleteTaskDefinitions", lambda n: {}),
    "TagResource": ("TagResource", lambda n: {"resourceArn": f"arn:aws:ecs:us-east-1:000000000000:cluster/{n}"}),
    "UntagResource": ("UntagResource", lambda n: {"resourceArn": f"arn:aws:ecs:us-east-1:000000000000:cluster/{n}"}),
    "ListTagsForResource": ("ListTagsForResource", lambda n: {}),
}


@pytest.mark.parametrize("case", sorted(MISSING_REQUIRED))
def test_missing_required_member_is_invalid_parameter(berth, case):
    operation, build = MISSING_REQUIRED[case]
    name = unique("proto-req")
    assert_aws_error(berth.raw(operation, build(name)), "InvalidParameterException")
    assert not family_exists(berth, name)


def test_rejected_cluster_request_stores_nothing(berth):
    name = unique("proto-nothing")
    bad = {"clusterName": name, "tags": [{"key": "ok", "value": "v"}], "settings": [{"name": 7}]}
    assert_aws_error(berth.raw("CreateCluster", bad), "SerializationException")
    assert not cluster_exists(berth, name)
    arn = f"{berth.arn_prefix}:cluster/{name}"
    assert arn not in berth.call("ListClusters", {"maxResults": 100})["clusterArns"]


def test_body_over_2_mib_is_413(berth):
    name = unique("proto-big")
    body = b'{"clusterName": "' + name.encode() + b'"}'
    body += b" " * (MAX_BODY + 1 - len(body))
    assert len(body) == MAX_BODY + 1
    resp = berth.raw("CreateCluster", body)
    assert resp.status_code == 413, (resp.status_code, resp.text[:500])
    err = resp.json()
    assert err.get("__type") and err.get("message"), err
    assert not cluster_exists(berth, name)


def test_body_of_exactly_2_mib_is_accepted(berth):
    name = unique("proto-1mib")
    body = b'{"clusterName": "' + name.encode() + b'"}'
    body += b" " * (MAX_BODY - len(body))
    assert len(body) == MAX_BODY
    resp = berth.raw("CreateCluster", body)
    assert resp.status_code == 200, (resp.status_code, resp.text[:500])
    assert cluster_exists(berth, name)


def test_errors_parse_in_boto3(berth, ecs):
    """botocore reads the error code from __type: the SDK must see the exact exception class."""
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.delete_cluster(cluster=unique("proto-ghost"))
    with pytest.raises(ecs.exceptions.ClientException):
        ecs.describe_task_definition(taskDefinition=unique("proto-ghost"))
