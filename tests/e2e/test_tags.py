"""TagResource / UntagResource / ListTagsForResource on clusters and task definitions."""

from __future__ import annotations

import pytest

from berth_harness import raises_aws, register, tags_dict, unique


def tags_of(ecs, arn: str) -> dict[str, str]:
    return tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"])


@pytest.fixture
def cluster_arn(ecs):
    return ecs.create_cluster(clusterName=unique("tag-c"), tags=[{"key": "origin", "value": "create"}])["cluster"][
        "clusterArn"
    ]


@pytest.fixture
def task_definition_arn(ecs):
    resp = register(ecs, unique("tag-td"), tags=[{"key": "origin", "value": "register"}])
    return resp["taskDefinition"]["taskDefinitionArn"]


def test_cluster_tags_lifecycle(ecs, cluster_arn):
    assert tags_of(ecs, cluster_arn) == {"origin": "create"}
    ecs.tag_resource(resourceArn=cluster_arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    assert tags_of(ecs, cluster_arn) == {"origin": "create", "a": "1", "b": "2"}
    # Tagging an existing key replaces its value.
    ecs.tag_resource(resourceArn=cluster_arn, tags=[{"key": "a", "value": "one"}])
    assert tags_of(ecs, cluster_arn) == {"origin": "create", "a": "one", "b": "2"}
    ecs.untag_resource(resourceArn=cluster_arn, tagKeys=["b", "origin", "not-there"])
    assert tags_of(ecs, cluster_arn) == {"a": "one"}
    described = ecs.describe_clusters(clusters=[cluster_arn], include=["TAGS"])["clusters"][0]
    assert tags_dict(described["tags"]) == {"a": "one"}


def test_task_definition_tags_lifecycle(ecs, task_definition_arn):
    assert tags_of(ecs, task_definition_arn) == {"origin": "register"}
    ecs.tag_resource(resourceArn=task_definition_arn, tags=[{"key": "owner", "value": "me"}])
    assert tags_of(ecs, task_definition_arn) == {"origin": "register", "owner": "me"}
    ecs.untag_resource(resourceArn=task_definition_arn, tagKeys=["origin"])
    assert tags_of(ecs, task_definition_arn) == {"owner": "me"}
    described = ecs.describe_task_definition(taskDefinition=task_definition_arn, include=["TAGS"])
    assert tags_dict(described["tags"]) == {"owner": "me"}


def test_task_definition_tags_are_per_revision(ecs):
    family = unique("tag-rev")
    first = register(ecs, family, tags=[{"key": "rev", "value": "1"}])["taskDefinition"]["taskDefinitionArn"]
    second = register(ecs, family)["taskDefinition"]["taskDefinitionArn"]
    assert tags_of(ecs, first) == {"rev": "1"}
    assert tags_of(ecs, second) == {}


def test_tags_on_unknown_cluster(berth, ecs):
    arn = f"{berth.arn_prefix}:cluster/{unique('tag-ghost')}"
    codes = {"ClusterNotFoundException", "ResourceNotFoundException", "InvalidParameterException"}
    with raises_aws(codes):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}])
    with raises_aws(codes):
        ecs.list_tags_for_resource(resourceArn=arn)
    with raises_aws(codes):
        ecs.untag_resource(resourceArn=arn, tagKeys=["a"])


def test_tags_on_unknown_task_definition(berth, ecs):
    arn = f"{berth.arn_prefix}:task-definition/{unique('tag-ghost')}:1"
    with raises_aws({"ClientException", "ResourceNotFoundException", "InvalidParameterException"}):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}])


def test_tags_on_malformed_arn(ecs):
    with raises_aws({"InvalidParameterException", "ClientException"}):
        ecs.list_tags_for_resource(resourceArn="not-an-arn")
