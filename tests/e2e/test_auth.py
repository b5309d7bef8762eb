"""Authentication: every request is SigV4-verified against berth's own access keys (JSON and query services
alike), the root credential is bootstrapped into <data-dir>/credentials, and STS GetCallerIdentity names
the caller."""

from __future__ import annotations

import datetime
import os
import stat
import time
from unittest import mock

import botocore.auth
import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from berth_harness import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    Berth,
    assert_aws_error,
    assert_cli_error,
)

STS_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
ECS_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
}


def signed(server: Berth, service: str, headers: dict, body: str, *, secret=SECRET_ACCESS_KEY, key=ACCESS_KEY_ID):
    req = AWSRequest(method="POST", url=f"{server.endpoint}/", data=body.encode(), headers=dict(headers))
    SigV4Auth(Credentials(key, secret), service, server.region).add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers.items()), timeout=30)


def query_error_code(resp: requests.Response) -> str:
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.text
    assert "<ErrorResponse>" in resp.text, resp.text
    return resp.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def test_cli_and_boto3_work_with_the_configured_root_key(berth):
    ident = berth.aws("sts", "get-caller-identity")
    assert ident == {"UserId": berth.account_id, "Account": berth.account_id, "Arn": f"arn:aws:iam::{berth.account_id}:root"}
    assert berth.client("sts").get_caller_identity()["Account"] == berth.account_id


def test_generated_root_credentials_are_written_printed_and_reused(tmp_path):
    server = Berth(tmp_path / "generated")
    for name in ("BERTH_ROOT_ACCESS_KEY_ID", "BERTH_ROOT_SECRET_ACCESS_KEY"):
        server.server_env.pop(name)
    server.start()
    try:
        creds_file = server.data_dir / "credentials"
        text = creds_file.read_text()
        assert text.startswith("[berth]\naws_access_key_id = AKIA")
        key_id = text.split("aws_access_key_id = ", 1)[1].split("\n", 1)[0]
        secret = text.split("aws_secret_access_key = ", 1)[1].split("\n", 1)[0]
        assert len(secret) == 40
        for private in (creds_file, server.data_dir / "master.key"):
            assert stat.S_IMODE(os.stat(private).st_mode) == 0o600, private
        assert f"export AWS_SHARED_CREDENTIALS_FILE={creds_file}" in server.log_text()

        # The CLI with nothing but the written profile.
        harness_env = dict(server.env)
        server.env = {k: v for k, v in harness_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        server.env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds_file), AWS_PROFILE="berth")
        assert server.aws("sts", "get-caller-identity")["Arn"].endswith(":root")
        assert server.aws("ecs", "list-clusters")["clusterArns"] == []
        # The harness's usual key is not one of this server's keys.
        server.env = harness_env
        assert_cli_error(server.aws_run("ecs", "list-clusters"), "UnrecognizedClientException")

        # The secret is sealed in the store: no state file holds it in the clear.
        for f in server.data_dir.glob("state.db*"):
            assert secret.encode() not in f.read_bytes(), f

        server.restart()
        assert creds_file.read_text() == text
        assert "root credentials in" in server.log_text()
        assert key_id in creds_file.read_text()
    finally:
        server.close()


@pytest.mark.parametrize(
    "service,headers,body,code",
    [
        ("ecs", ECS_HEADERS, "{}", "InvalidSignatureException"),
        ("sts", STS_FORM, STS_BODY, "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_secret_is_refused(berth, service, headers, body, code):
    resp = signed(berth, service, headers, body, secret="not-the-secret")
    if service == "ecs":
        assert_aws_error(resp, code, status=403, message="signature we calculated does not match")
    else:
        assert resp.status_code == 403
        assert query_error_code(resp) == code


def test_the_cli_with_a_wrong_secret_or_unknown_key_fails(berth):
    with mock.patch.dict(berth.env, {"AWS_SECRET_ACCESS_KEY": "wrong-secret"}):
        assert_cli_error(berth.aws_run("ecs", "list-clusters"), "InvalidSignatureException")
        assert_cli_error(berth.aws_run("sts", "get-caller-identity"), "SignatureDoesNotMatch")
    with mock.patch.dict(berth.env, {"AWS_ACCESS_KEY_ID": "AKIANOSUCHKEY0000000"}):
        assert_cli_error(berth.aws_run("ecs", "list-clusters"), "UnrecognizedClientException")
        assert_cli_error(berth.aws_run("sts", "get-caller-identity"), "InvalidClientTokenId")


def test_unsigned_requests_are_refused_for_json_and_query_services(berth):
    resp = requests.post(f"{berth.endpoint}/", data=b"{}", headers=ECS_HEADERS, timeout=30)
    assert_aws_error(resp, "MissingAuthenticationTokenException", status=403)
    resp = requests.post(f"{berth.endpoint}/", data=STS_BODY, headers=STS_FORM, timeout=30)
    assert resp.status_code == 403
    assert query_error_code(resp) == "MissingAuthenticationToken"
    resp = requests.get(f"{berth.endpoint}/?{STS_BODY}", timeout=30)
    assert query_error_code(resp) == "MissingAuthenticationToken"


def test_a_request_signed_an_hour_ago_is_refused(berth):
    an_hour_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=an_hour_ago):
        resp = signed(berth, "ecs", ECS_HEADERS, "{}")
    assert_aws_error(resp, "InvalidSignatureException", status=403, message="Signature expired")


def test_a_body_changed_after_signing_is_refused(berth):
    req = AWSRequest(method="POST", url=f"{berth.endpoint}/", data=b"{}", headers=dict(ECS_HEADERS))
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "ecs", berth.region).add_auth(req)
    resp = requests.post(req.url, data=b'{"maxResults": 1}', headers=dict(req.headers.items()), timeout=30)
    assert_aws_error(resp, "InvalidSignatureException", status=403)


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA1 Credential=x, SignedHeaders=host, Signature=00",
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 " + "Credential=" + "A" * 20000,
    ],
)
def test_malformed_authorization_headers_get_aws_errors(berth, authorization):
    headers = dict(ECS_HEADERS, Authorization=authorization, **{"X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})
    resp = requests.post(f"{berth.endpoint}/", data=b"{}", headers=headers, timeout=30)
    assert_aws_error(resp, "IncompleteSignatureException")
    assert berth.running(), "the server must survive malformed authorization headers"


def test_a_presigned_get_caller_identity_url_works_until_it_expires(berth):
    req = AWSRequest(method="GET", url=f"{berth.endpoint}/?{STS_BODY}")
    SigV4QueryAuth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "sts", berth.region, expires=2).add_auth(req)
    url = req.url
    assert "X-Amz-Signature=" in url
    ok = requests.get(url, timeout=30)
    assert ok.status_code == 200, ok.text
    assert f"<Arn>arn:aws:iam::{berth.account_id}:root</Arn>" in ok.text
    time.sleep(3.5)
    expired = requests.get(url, timeout=30)
    assert expired.status_code == 403
    assert query_error_code(expired) == "SignatureDoesNotMatch"
    assert "expired" in expired.text
