"""Clusters: CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster,
UpdateClusterSettings, PutClusterCapacityProviders, through boto3 (the aws CLI has its own suite)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from berth_harness import paginate, raises_aws, tags_dict, unique

FULL_CONFIGURATION = {
    "executeCommandConfiguration": {
        "kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "logging": "OVERRIDE",
        "logConfiguration": {
            "cloudWatchLogGroupName": "/ecs/exec",
            "cloudWatchEncryptionEnabled": True,
            "s3BucketName": "exec-logs",
            "s3EncryptionEnabled": False,
            "s3KeyPrefix": "exec/",
        },
    },
    "managedStorageConfiguration": {
        "kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/storage",
        "fargateEphemeralStorageKmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/ephemeral",
    },
}
CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"]
STRATEGY = [
    {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
    {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
]
TAGS = [{"key": "team", "value": "platform"}, {"key": "env", "value": "test"}]


def cluster_arn(berth, name: str) -> str:
    return f"{berth.arn_prefix}:cluster/{name}"


def describe_one(ecs, name: str, include: list[str] | None = None) -> dict:
    resp = ecs.describe_clusters(clusters=[name], **({"include": include} if include else {}))
    assert not resp.get("failures"), resp
    assert len(resp["clusters"]) == 1, resp
    return resp["clusters"][0]


def assert_fresh_cluster(berth, cluster: dict, name: str):
    assert cluster["clusterArn"] == cluster_arn(berth, name)
    assert cluster["clusterName"] == name
    assert cluster["status"] == "ACTIVE"
    for count in ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount", "activeServicesCount"):
        assert cluster[count] == 0, (count, cluster)


# ----- CreateCluster ---------------------------------------------------------------------------------


def test_create_cluster_minimal(berth, ecs):
    name = unique("c-min")
    cluster = ecs.create_cluster(clusterName=name)["cluster"]
    assert_fresh_cluster(berth, cluster, name)
    assert cluster_arn(berth, name) in paginate(ecs, "list_clusters", "clusterArns")


def test_create_cluster_stores_every_member(berth, ecs):
    name = unique("c-full")
    settings = [{"name": "containerInsights", "value": "enabled"}]
    cluster = ecs.create_cluster(
        clusterName=name,
        tags=TAGS,
        settings=settings,
        configuration=FULL_CONFIGURATION,
        capacityProviders=CAPACITY_PROVIDERS,
        defaultCapacityProviderStrategy=STRATEGY,
    )["cluster"]
    assert_fresh_cluster(berth, cluster, name)
    assert tags_dict(cluster["tags"]) == tags_dict(TAGS)
    assert cluster["settings"] == settings
    assert cluster["configuration"] == FULL_CONFIGURATION
    assert cluster["capacityProviders"] == CAPACITY_PROVIDERS
    assert cluster["defaultCapacityProviderStrategy"] == STRATEGY

    described = describe_one(ecs, name, ["TAGS", "SETTINGS", "CONFIGURATIONS", "STATISTICS", "ATTACHMENTS"])
    assert_fresh_cluster(berth, described, name)
    assert tags_dict(described["tags"]) == tags_dict(TAGS)
    assert described["settings"] == settings
    assert described["configuration"] == FULL_CONFIGURATION
    assert described["capacityProviders"] == CAPACITY_PROVIDERS
    assert described["defaultCapacityProviderStrategy"] == STRATEGY
    assert isinstance(described.get("statistics"), list)


def test_create_cluster_same_name_returns_existing(berth, ecs):
    name = unique("c-twice")
    first = ecs.create_cluster(clusterName=name, tags=[{"key": "n", "value": "1"}])["cluster"]
    second = ecs.create_cluster(clusterName=name)["cluster"]
    assert second["clusterArn"] == first["clusterArn"]
    assert second["status"] == "ACTIVE"
    arns = paginate(ecs, "list_clusters", "clusterArns")
    assert arns.count(first["clusterArn"]) == 1
    assert tags_dict(describe_one(ecs, name, ["TAGS"])["tags"]) == {"n": "1"}


def test_create_cluster_without_name_creates_default(fresh_berth, fresh_ecs):
    cluster = fresh_ecs.create_cluster()["cluster"]
    assert_fresh_cluster(fresh_berth, cluster, "default")
    # No `clusters` in DescribeClusters means the cluster named "default".
    described = fresh_ecs.describe_clusters()
    assert [c["clusterArn"] for c in described["clusters"]] == [cluster_arn(fresh_berth, "default")]
    assert not described.get("failures")


# ----- DescribeClusters ------------------------------------------------------------------------------


def test_describe_clusters_default_missing(fresh_berth, fresh_ecs):
    resp = fresh_ecs.describe_clusters()
    assert resp["clusters"] == []
    assert resp["failures"] == [{"arn": cluster_arn(fresh_berth, "default"), "reason": "MISSING"}]


def test_describe_clusters_by_name_arn_and_unknown(berth, ecs):
    a, b, missing = unique("c-da"), unique("c-db"), unique("c-missing")
    ecs.create_cluster(clusterName=a)
    ecs.create_cluster(clusterName=b)
    resp = ecs.describe_clusters(clusters=[a, cluster_arn(berth, b), missing])
    assert sorted(c["clusterName"] for c in resp["clusters"]) == sorted([a, b])
    assert resp["failures"] == [{"arn": cluster_arn(berth, missing), "reason": "MISSING"}]


def test_describe_clusters_include_controls_optional_members(berth, ecs):
    name = unique("c-inc")
    ecs.create_cluster(clusterName=name, tags=TAGS, settings=[{"name": "containerInsights", "value": "enabled"}])
    plain = describe_one(ecs, name)
    assert not plain.get("tags"), f"tags are only returned with include=TAGS: {plain}"
    with_tags = describe_one(ecs, name, ["TAGS"])
    assert tags_dict(with_tags["tags"]) == tags_dict(TAGS)
    with_settings = describe_one(ecs, name, ["SETTINGS"])
    assert with_settings["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_describe_clusters_counts_start_at_zero(berth, ecs):
    name = unique("c-counts")
    ecs.create_cluster(clusterName=name)
    assert_fresh_cluster(berth, describe_one(ecs, name), name)


# ----- ListClusters ----------------------------------------------------------------------------------


def test_list_clusters_paginator_returns_each_once(berth, ecs):
    names = [unique("c-page") for _ in range(5)]
    for n in names:
        ecs.create_cluster(clusterName=n)
    arns = paginate(ecs, "list_clusters", "clusterArns", PaginationConfig={"PageSize": 2})
    assert len(arns) == len(set(arns)), f"duplicates across pages: {arns}"
    for n in names:
        assert arns.count(cluster_arn(berth, n)) == 1


def test_list_clusters_pages_exactly(fresh_berth, fresh_ecs):
    names = sorted(f"page-{i}" for i in range(5))
    for n in names:
        fresh_ecs.create_cluster(clusterName=n)
    expected = {cluster_arn(fresh_berth, n) for n in names}

    seen, token, pages = [], None, 0
    while True:
        resp = fresh_ecs.list_clusters(maxResults=2, **({"nextToken": token} if token else {}))
        pages += 1
        assert len(resp["clusterArns"]) <= 2
        seen += resp["clusterArns"]
        token = resp.get("nextToken")
        assert token != "", "an empty nextToken must be omitted, not sent"
        if not token:
            break
        assert pages < 10, "pagination does not end"
    assert pages == 3
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)

    everything = fresh_ecs.list_clusters(maxResults=5)
    assert set(everything["clusterArns"]) == expected
    assert "nextToken" not in everything, "no nextToken once everything fit in the page"
    assert set(fresh_ecs.list_clusters()["clusterArns"]) == expected


@pytest.mark.parametrize("max_results", [0, 101, -1])
def test_list_clusters_max_results_out_of_range(ecs, max_results):
    with raises_aws("InvalidParameterException"):
        ecs.list_clusters(maxResults=max_results)


def test_list_clusters_max_results_bounds_accepted(ecs):
    assert len(ecs.list_clusters(maxResults=1)["clusterArns"]) <= 1
    assert len(ecs.list_clusters(maxResults=100)["clusterArns"]) <= 100


def test_list_clusters_bad_next_token(ecs):
    with raises_aws({"InvalidParameterException", "ClientException"}):
        ecs.list_clusters(nextToken="this-is-not-a-token")


# ----- DeleteCluster ---------------------------------------------------------------------------------


def test_delete_cluster(berth, ecs):
    name = unique("c-del")
    ecs.create_cluster(clusterName=name, tags=TAGS)
    deleted = ecs.delete_cluster(cluster=name)["cluster"]
    assert deleted["clusterArn"] == cluster_arn(berth, name)
    assert deleted["clusterName"] == name
    assert deleted["status"] == "INACTIVE"
    assert cluster_arn(berth, name) not in paginate(ecs, "list_clusters", "clusterArns")
    resp = ecs.describe_clusters(clusters=[name])
    # AWS keeps describing a deleted cluster as INACTIVE for a while; MISSING is acceptable too.
    assert all(c["status"] == "INACTIVE" for c in resp["clusters"]), resp
    assert all(f["reason"] == "MISSING" for f in resp.get("failures", [])), resp


def test_delete_cluster_by_arn(berth, ecs):
    name = unique("c-delarn")
    arn = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    assert ecs.delete_cluster(cluster=arn)["cluster"]["status"] == "INACTIVE"
    assert arn not in paginate(ecs, "list_clusters", "clusterArns")


def test_recreate_cluster_after_delete(berth, ecs):
    name = unique("c-again")
    ecs.create_cluster(clusterName=name, tags=[{"key": "gen", "value": "1"}])
    ecs.delete_cluster(cluster=name)
    again = ecs.create_cluster(clusterName=name)["cluster"]
    assert again["status"] == "ACTIVE"
    assert paginate(ecs, "list_clusters", "clusterArns").count(cluster_arn(berth, name)) == 1
    assert describe_one(ecs, name)["status"] == "ACTIVE"


# ----- UpdateCluster / UpdateClusterSettings / PutClusterCapacityProviders ---------------------------


def test_update_cluster(berth, ecs):
    name = unique("c-upd")
    ecs.create_cluster(clusterName=name)
    settings = [{"name": "containerInsights", "value": "enhanced"}]
    cluster = ecs.update_cluster(cluster=name, settings=settings, configuration=FULL_CONFIGURATION)["cluster"]
    assert cluster["clusterArn"] == cluster_arn(berth, name)
    assert cluster["settings"] == settings
    assert cluster["configuration"] == FULL_CONFIGURATION
    described = describe_one(ecs, name, ["SETTINGS", "CONFIGURATIONS"])
    assert described["settings"] == settings
    assert described["configuration"] == FULL_CONFIGURATION


def test_update_cluster_settings(berth, ecs):
    name = unique("c-set")
    ecs.create_cluster(clusterName=name, settings=[{"name": "containerInsights", "value": "disabled"}])
    settings = [{"name": "containerInsights", "value": "enabled"}]
    cluster = ecs.update_cluster_settings(cluster=cluster_arn(berth, name), settings=settings)["cluster"]
    assert cluster["clusterName"] == name
    assert cluster["settings"] == settings
    assert describe_one(ecs, name, ["SETTINGS"])["settings"] == settings


def test_put_cluster_capacity_providers(berth, ecs):
    name = unique("c-cp")
    ecs.create_cluster(clusterName=name)
    cluster = ecs.put_cluster_capacity_providers(
        cluster=name, capacityProviders=CAPACITY_PROVIDERS, defaultCapacityProviderStrategy=STRATEGY
    )["cluster"]
    assert cluster["capacityProviders"] == CAPACITY_PROVIDERS
    assert cluster["defaultCapacityProviderStrategy"] == STRATEGY
    described = describe_one(ecs, name)
    assert described["capacityProviders"] == CAPACITY_PROVIDERS
    assert described["defaultCapacityProviderStrategy"] == STRATEGY

    # An empty list removes them again.
    cleared = ecs.put_cluster_capacity_providers(cluster=name, capacityProviders=[], defaultCapacityProviderStrategy=[])
    assert cleared["cluster"]["capacityProviders"] == []
    assert describe_one(ecs, name)["capacityProviders"] == []


UNKNOWN_CLUSTER_CALLS = {
    "DeleteCluster": lambda ecs, c: ecs.delete_cluster(cluster=c),
    "UpdateCluster": lambda ecs, c: ecs.update_cluster(
        cluster=c, settings=[{"name": "containerInsights", "value": "enabled"}]
    ),
    "UpdateClusterSettings": lambda ecs, c: ecs.update_cluster_settings(
        cluster=c, settings=[{"name": "containerInsights", "value": "enabled"}]
    ),
    "PutClusterCapacityProviders": lambda ecs, c: ecs.put_cluster_capacity_providers(
        cluster=c, capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
    ),
}


@pytest.mark.parametrize("operation", sorted(UNKNOWN_CLUSTER_CALLS))
def test_unknown_cluster_is_cluster_not_found(berth, ecs, operation):
    name = unique("c-nope")
    with raises_aws("ClusterNotFoundException"):
        UNKNOWN_CLUSTER_CALLS[operation](ecs, name)
    with raises_aws("ClusterNotFoundException"):
        UNKNOWN_CLUSTER_CALLS[operation](ecs, cluster_arn(berth, unique("c-nope")))
    # ...and nothing was created on the way.
    assert ecs.describe_clusters(clusters=[name])["failures"][0]["reason"] == "MISSING"


def test_concurrent_create_same_name_makes_one_cluster(berth, ecs):
    name = unique("c-race")
    with ThreadPoolExecutor(max_workers=8) as pool:
        arns = set(pool.map(lambda _: ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"], range(16)))
    assert arns == {cluster_arn(berth, name)}
    assert paginate(ecs, "list_clusters", "clusterArns").count(cluster_arn(berth, name)) == 1
