"""Strict input at the front door and in the registry (issue 28, and issue 26's empty query lists):
boto3's empty lists reach query services as `Name=`, forms that AWS refuses are refused, only POST
(and GET for query) runs an operation, JSON bodies end where the object ends, tag contents follow
AWS's rules in every service, and a manifest that disagrees with its blobs never moves a tag."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
import requests
from berth_harness import (
    ACCESS_KEY_ID,
    HTTP_TIMEOUT,
    SECRET_ACCESS_KEY,
    assert_aws_error,
    raises_aws,
    unique,
)
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ELBV2_VERSION = "2015-12-01"


def query(berth, method: str, form: str, service: str = "elasticloadbalancing") -> requests.Response:
    """A signed query-protocol request with FORM as its body, sent with METHOD."""
    url = f"{berth.endpoint}/"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = AWSRequest(method=method, url=url, data=form.encode(), headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, berth.region).add_auth(req)
    return requests.request(method, url, data=form.encode(), headers=dict(req.headers.items()), timeout=HTTP_TIMEOUT)


def target_group(berth) -> dict:
    elbv2 = berth.client("elbv2")
    return elbv2.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=8080, VpcId="vpc-1")["TargetGroups"][0]


def test_boto3_empty_lists_reach_query_services_as_empty_lists(berth):
    tg = target_group(berth)
    elbv2 = berth.client("elbv2")
    # botocore serializes [] as `Names=`: an empty list, so every target group is described.
    listed = elbv2.describe_target_groups(Names=[])["TargetGroups"]
    assert tg["TargetGroupArn"] in [t["TargetGroupArn"] for t in listed]
    assert elbv2.describe_load_balancers(Names=[])["LoadBalancers"] is not None
    groups = berth.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[])
    assert isinstance(groups["AutoScalingGroups"], list)


@pytest.mark.parametrize(
    "extra",
    ["&Names.member.-1=x", "&Names.member.0=x", "&Names.member.99999999999999999999=x", "&Action=DeleteTargetGroup"],
)
def test_malformed_query_forms_are_refused(berth, extra):
    resp = query(berth, "POST", f"Action=DescribeTargetGroups&Version={ELBV2_VERSION}{extra}")
    assert resp.status_code == 400, resp.text
    assert "<Code>MalformedQueryString</Code>" in resp.text, resp.text


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_only_post_and_get_run_query_operations(berth, method):
    tg = target_group(berth)
    form = f"Action=DeleteTargetGroup&Version={ELBV2_VERSION}&TargetGroupArn={tg['TargetGroupArn']}"
    resp = query(berth, method, form)
    assert resp.status_code == 405, resp.text
    assert "<Code>MethodNotAllowed</Code>" in resp.text
    arns = [t["TargetGroupArn"] for t in berth.client("elbv2").describe_target_groups()["TargetGroups"]]
    assert tg["TargetGroupArn"] in arns, "the target group was deleted by a non-POST request"


@pytest.mark.parametrize("suffix", [' {"clusterName":"%s-b"}', " }}}garbage", "{}"])
def test_json_after_the_object_is_refused_and_nothing_is_created(berth, ecs, suffix):
    name = unique("trail")
    body = '{"clusterName":"%s"}' % name + (suffix % name if "%s" in suffix else suffix)
    assert_aws_error(berth.raw("CreateCluster", body), "SerializationException")
    assert ecs.describe_clusters(clusters=[name])["clusters"] == []


def test_an_array_where_the_model_says_structure_is_a_serialization_error(berth, ecs):
    name = unique("arr")
    resp = berth.raw("CreateCluster", {"clusterName": name, "tags": [["k", "v"]]})
    body = assert_aws_error(resp, "SerializationException")
    assert "tags[0]" in body["message"], body
    assert ecs.describe_clusters(clusters=[name])["clusters"] == []


@pytest.mark.parametrize("key,value", [("nul", "a\u0000b"), ("\U0001f600", "emoji"), ("aws:reserved", "x")])
def test_tag_contents_follow_awss_rules_in_every_service(berth, ecs, key, value):
    cluster = ecs.create_cluster(clusterName=unique("tagc"))["cluster"]["clusterArn"]
    with raises_aws("InvalidParameterException"):
        ecs.tag_resource(resourceArn=cluster, tags=[{"key": key, "value": value}])
    assert ecs.list_tags_for_resource(resourceArn=cluster)["tags"] == []

    tg = target_group(berth)["TargetGroupArn"]
    elbv2 = berth.client("elbv2")
    with raises_aws("ValidationError"):
        elbv2.add_tags(ResourceArns=[tg], Tags=[{"Key": key, "Value": value}])
    assert elbv2.describe_tags(ResourceArns=[tg])["TagDescriptions"][0]["Tags"] == []

    logs = berth.client("logs")
    group = unique("tagl")
    with raises_aws("InvalidParameterException"):
        logs.create_log_group(logGroupName=group, tags={key: value})


# ----- the registry: manifests against their blobs ------------------------------------------------


def registry(berth):
    import base64

    token = berth.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    name = f"team/{unique('strict').lower()}"
    berth.client("ecr").create_repository(repositoryName=name)
    return f"{berth.endpoint}/v2/{name}", (user, password)


def push_blob(base: str, auth, content: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    r = requests.post(f"{base}/blobs/uploads/", params={"digest": digest}, data=content, auth=auth, timeout=10)
    assert r.status_code == 201, r.text
    return {"digest": digest, "size": len(content)}


def image_manifest(config: dict, layers: list[dict]) -> bytes:
    gz = "application/vnd.oci.image.layer.v1.tar+gzip"
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": layer.pop("mediaType", gz), **layer} for layer in layers],
    }).encode()  # fmt: skip


def put(base: str, auth, tag: str, manifest: bytes) -> requests.Response:
    headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    return requests.put(f"{base}/manifests/{tag}", data=manifest, headers=headers, auth=auth, timeout=10)


def test_manifests_inconsistent_with_their_blobs_never_move_a_tag(berth):
    base, auth = registry(berth)
    tars = [f"layer {i} {unique('x')}".encode() for i in range(2)]
    layers = [push_blob(base, auth, gzip.compress(t)) for t in tars]
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
    config = push_blob(base, auth, json.dumps({"rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())

    good = image_manifest(config, [dict(layer) for layer in layers])
    assert put(base, auth, "v1", good).status_code == 201
    good_digest = "sha256:" + hashlib.sha256(good).hexdigest()

    forged = {
        "a layer whose size is not its blob's": image_manifest(config, [layers[0], {**layers[1], "size": 1}]),
        "one layer for a two-layer config": image_manifest(config, [dict(layers[0])]),
        "a layer that is not stored": image_manifest(config, [dict(layers[0]), {"digest": "sha256:" + "0" * 64, "size": 3}]),
        "a config whose size is not its blob's": image_manifest({**config, "size": 2}, [dict(x) for x in layers]),
    }  # fmt: skip
    for what, manifest in forged.items():
        resp = put(base, auth, "v1", manifest)
        assert resp.status_code == 400, (what, resp.text)
        assert resp.json()["errors"][0]["code"] in {"MANIFEST_INVALID", "MANIFEST_BLOB_UNKNOWN"}, (what, resp.text)
    # Uncompressed layers are their diff_ids, so reordering them is caught.
    plain = [push_blob(base, auth, t) for t in tars]
    tar = "application/vnd.oci.image.layer.v1.tar"
    reordered = image_manifest(config, [{**plain[1], "mediaType": tar}, {**plain[0], "mediaType": tar}])
    resp = put(base, auth, "v1", reordered)
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "MANIFEST_INVALID", resp.text
    in_order = image_manifest(config, [{**plain[0], "mediaType": tar}, {**plain[1], "mediaType": tar}])
    assert put(base, auth, "plain", in_order).status_code == 201

    head = requests.head(f"{base}/manifests/v1", auth=auth, timeout=10)
    assert head.headers["Docker-Content-Digest"] == good_digest, "a refused manifest moved the tag"


def test_tags_follow_the_distribution_grammar(berth):
    base, auth = registry(berth)
    config = push_blob(base, auth, json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode())
    manifest = image_manifest(config, [])
    assert put(base, auth, "a" * 128, manifest).status_code == 201
    for tag in ["a" * 129, "a" * 200, ".dot", "-dash"]:
        resp = put(base, auth, tag, manifest)
        assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == "TAG_INVALID", (tag, resp.text)
