"""A signature binds the whole request (issue 16): the operation it invokes (X-Amz-Target and every x-amz-*
header signed), the credential scope (service, region, date), and presigned URLs only where AWS honours them.
Each attack is signed by botocore's own signers against a real server, and must leave nothing created."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from berth_harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Berth, assert_aws_error, unique

CREDS = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
ECS = "AmazonEC2ContainerServiceV20141113"
JSON_TYPE = "application/x-amz-json-1.1"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
STS_FORM = "Action=GetCallerIdentity&Version=2011-06-15"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, so that "nothing was created" can be checked exactly."""
    s = Berth(tmp_path_factory.mktemp("sigv4-binding")).start()
    yield s
    s.close()


def cluster_names(server: Berth) -> list[str]:
    return [arn.rsplit("/", 1)[1] for arn in server.client("ecs").list_clusters()["clusterArns"]]


def sign(server: Berth, service: str, headers: dict, body: bytes, *, region: str | None = None) -> dict:
    """The headers of a POST / signed by botocore's SigV4Auth over exactly HEADERS (plus host, x-amz-date)."""
    req = AWSRequest(method="POST", url=f"{server.endpoint}/", data=body, headers=dict(headers))
    SigV4Auth(CREDS, service, region or server.region).add_auth(req)
    return dict(req.headers.items())


def post(server: Berth, headers: dict, body: bytes) -> requests.Response:
    return requests.post(f"{server.endpoint}/", data=body, headers=headers, timeout=30)


def ecs_request(server: Berth, operation: str, body: dict, *, service: str = "ecs", region: str | None = None):
    data = json.dumps(body).encode()
    headers = sign(server, service, {"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS}.{operation}"}, data, region=region)
    return post(server, headers, data)


def query_error(resp: requests.Response, status: int = 403) -> tuple[str, str]:
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert "<ErrorResponse>" in resp.text, resp.text
    code = re.search(r"<Code>(.*?)</Code>", resp.text).group(1)
    message = re.search(r"<Message>(.*?)</Message>", resp.text, re.S).group(1)
    return code, html.unescape(message)


# ----- 1. the operation is covered by the signature ---------------------------------------------------


def test_a_target_left_out_of_the_signature_is_refused(server):
    name = unique("unsigned-target")
    body = json.dumps({"clusterName": name}).encode()
    # Signed over host and x-amz-date only; Content-Type and X-Amz-Target added afterwards.
    headers = sign(server, "ecs", {}, body)
    assert "SignedHeaders=host;x-amz-date," in headers["Authorization"]
    headers.update({"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS}.CreateCluster"})
    resp = post(server, headers, body)
    assert_aws_error(resp, "IncompleteSignatureException", message="content-type, x-amz-target")
    assert name not in cluster_names(server)


def test_a_target_changed_after_signing_is_refused(server):
    # Signed as a read, replayed as a write: CreateCluster with {} would create "default".
    body = b"{}"
    headers = sign(server, "ecs", {"Content-Type": JSON_TYPE}, body)
    headers["X-Amz-Target"] = f"{ECS}.CreateCluster"
    assert_aws_error(post(server, headers, body), "IncompleteSignatureException", message="x-amz-target")
    # Signed with the target, then changed: the signature no longer matches.
    headers = sign(server, "ecs", {"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS}.ListClusters"}, body)
    headers["X-Amz-Target"] = f"{ECS}.CreateCluster"
    assert_aws_error(post(server, headers, body), "InvalidSignatureException", status=403)
    assert "default" not in cluster_names(server)


def test_every_x_amz_header_must_be_signed(server):
    headers = sign(server, "ecs", {"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS}.ListClusters"}, b"{}")
    headers["X-Amz-Meta-Anything"] = "added later"
    assert_aws_error(post(server, headers, b"{}"), "IncompleteSignatureException", message="x-amz-meta-anything")
    form = sign(server, "sts", {"Content-Type": FORM_TYPE}, STS_FORM.encode())
    form["X-Amz-Security-Token"] = "added later"
    code, message = query_error(post(server, form, STS_FORM.encode()), status=400)
    assert code == "IncompleteSignature" and "x-amz-security-token" in message, message


def test_a_form_whose_content_type_is_unsigned_is_refused(server):
    headers = sign(server, "sts", {}, STS_FORM.encode())
    headers["Content-Type"] = FORM_TYPE
    code, message = query_error(post(server, headers, STS_FORM.encode()), status=400)
    assert code == "IncompleteSignature" and "content-type" in message, message


# ----- 2. the credential scope names this service, region and date -------------------------------------


@pytest.mark.parametrize(
    "service,region,message",
    [
        ("sts", None, "Credential should be scoped to correct service: 'ecs'."),
        ("ecr", None, "Credential should be scoped to correct service: 'ecs'."),
        ("ecs", "eu-west-9", "Credential should be scoped to a valid region, not 'eu-west-9'."),
    ],
)
def test_an_ecs_request_scoped_elsewhere_is_refused(server, service, region, message):
    name = unique("scoped")
    resp = ecs_request(server, "CreateCluster", {"clusterName": name}, service=service, region=region)
    assert_aws_error(resp, "InvalidSignatureException", status=403, message=message)
    assert name not in cluster_names(server)


def test_each_service_is_scoped_by_its_own_signing_name(server):
    # ECR's API signs as ecr, not as the ECS it came with.
    target = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"
    for service, ok in [("ecr", True), ("ecs", False)]:
        resp = post(server, sign(server, service, {"Content-Type": JSON_TYPE, "X-Amz-Target": target}, b"{}"), b"{}")
        if ok:
            assert resp.status_code == 200, resp.text
        else:
            assert_aws_error(resp, "InvalidSignatureException", status=403, message="scoped to correct service: 'ecr'")
    # ELBv2 signs as elasticloadbalancing, STS as sts: query errors.
    elb = b"Action=DescribeLoadBalancers&Version=2015-12-01"
    ok = post(server, sign(server, "elasticloadbalancing", {"Content-Type": FORM_TYPE}, elb), elb)
    assert ok.status_code == 200, ok.text
    for service, body, want in [
        ("elbv2", elb, "Credential should be scoped to correct service: 'elasticloadbalancing'."),
        ("ecs", STS_FORM.encode(), "Credential should be scoped to correct service: 'sts'."),
    ]:
        code, message = query_error(post(server, sign(server, service, {"Content-Type": FORM_TYPE}, body), body))
        assert (code, message) == ("SignatureDoesNotMatch", want)
    wrong_region = sign(server, "sts", {"Content-Type": FORM_TYPE}, STS_FORM.encode(), region="ap-south-7")
    code, message = query_error(post(server, wrong_region, STS_FORM.encode()))
    assert (code, message) == ("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'ap-south-7'.")


def test_a_scope_dated_another_day_is_refused(server):
    name = unique("other-day")
    body = json.dumps({"clusterName": name}).encode()
    headers = sign(server, "ecs", {"Content-Type": JSON_TYPE, "X-Amz-Target": f"{ECS}.CreateCluster"}, body)
    amz_date = headers["X-Amz-Date"]
    other_day = "20200101" if not amz_date.startswith("20200101") else "20200102"
    headers["Authorization"] = headers["Authorization"].replace(f"/{amz_date[:8]}/", f"/{other_day}/")
    resp = post(server, headers, body)
    assert_aws_error(resp, "InvalidSignatureException", status=403, message="Date in Credential scope does not match")
    assert name not in cluster_names(server)


def test_a_server_for_another_region_expects_that_region(make_berth):
    eu = make_berth(region="eu-west-1")
    assert eu.client("ecs").list_clusters()["clusterArns"] == []
    resp = ecs_request(eu, "ListClusters", {}, region="us-east-1")
    assert_aws_error(resp, "InvalidSignatureException", status=403, message="not 'us-east-1'")


# ----- 3. presigned URLs only where AWS honours them ------------------------------------------------------


def presigned_identity_url(server: Berth) -> tuple[str, dict]:
    """A presigned STS GetCallerIdentity URL signed with X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, as a
    "sign in with AWS" client hands out, and the headers it must be sent with."""
    req = AWSRequest(
        method="GET", url=f"{server.endpoint}/?{STS_FORM}", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    )
    SigV4QueryAuth(CREDS, "sts", server.region, expires=300).add_auth(req)
    return req.url, dict(req.headers.items())


def test_a_presigned_identity_url_cannot_become_a_create_cluster(server):
    url, headers = presigned_identity_url(server)
    ok = requests.get(url, headers=headers, timeout=30)
    assert ok.status_code == 200 and "<GetCallerIdentityResult>" in ok.text, ok.text

    name = unique("presigned")
    body = json.dumps({"clusterName": name}).encode()
    attack = dict(headers, **{"X-Amz-Target": f"{ECS}.CreateCluster", "Content-Type": JSON_TYPE})
    # A JSON-protocol target reaches no handler by GET (JSON APIs take POST only); by POST, the signature
    # (scoped to sts) is what refuses it.
    resp = requests.get(url, headers=attack, data=body, timeout=30)
    assert_aws_error(resp, "MethodNotAllowed", status=405, message="The HTTP method GET is not allowed")
    resp = requests.post(url, headers=attack, data=body, timeout=30)
    assert_aws_error(resp, "InvalidSignatureException", status=403, message="scoped to correct service: 'ecs'")
    assert name not in cluster_names(server)

    # Sent to STS as it was issued, but with a body, or as a POST: refused too.
    code, message = query_error(requests.get(url, headers=headers, data=body, timeout=30), status=400)
    assert code == "IncompleteSignature" and "must not carry a body" in message, message
    code, message = query_error(requests.post(url, headers=headers, data=STS_FORM, timeout=30), status=400)
    assert code == "IncompleteSignature" and "GET" in message, message


def test_a_presigned_json_request_is_refused_even_when_it_covers_the_target(server):
    name = unique("presigned-ecs")
    body = json.dumps({"clusterName": name}).encode()
    req = AWSRequest(
        method="GET",
        url=f"{server.endpoint}/",
        headers={"X-Amz-Target": f"{ECS}.CreateCluster", "Content-Type": JSON_TYPE},
        data=body,
    )
    SigV4QueryAuth(CREDS, "ecs", server.region, expires=300).add_auth(req)
    assert "content-type%3Bhost%3Bx-amz-target" in req.url
    resp = requests.get(req.url, headers=dict(req.headers.items()), data=body, timeout=30)
    # A JSON API takes only POST: the presigned GET is refused before its signature is read.
    assert_aws_error(resp, "MethodNotAllowed", status=405, message="The HTTP method GET is not allowed")
    assert name not in cluster_names(server)
    # Presigned as a POST (the query string carrying the signature), the signature check refuses it.
    resp = requests.post(req.url, headers=dict(req.headers.items()), data=body, timeout=30)
    assert_aws_error(resp, "IncompleteSignatureException", message="Presigned URLs are accepted only for query-protocol")
    assert name not in cluster_names(server)


def test_what_the_sdks_send_still_works(server):
    # Each service through boto3 and the CLI, signed as the SDKs sign them.
    assert server.client("sts").get_caller_identity()["Account"] == server.account_id
    assert server.client("ecr").describe_repositories()["repositories"] == []
    assert server.client("logs").describe_log_groups()["logGroups"] == []
    assert server.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert server.aws("ecs", "list-clusters")["clusterArns"] == server.client("ecs").list_clusters()["clusterArns"]
    url, headers = presigned_identity_url(server)
    assert requests.get(url, headers=headers, timeout=30).status_code == 200
