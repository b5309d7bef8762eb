"""STS end to end: AssumeRole against roles' trust policies, GetSessionToken, and the temporary credentials
they issue used (and refused once expired) on later requests, with the real aws CLI and boto3."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import boto3
from botocore.config import Config

from berth_harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, assert_cli_error, raises_aws, unique

ACCOUNT = "000000000000"


def trust(principal: dict, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def client_as(berth, service: str, creds: dict, *, validate: bool = True):
    """A boto3 client signing with CREDS (an STS Credentials member, or AccessKeyId/SecretAccessKey alone);
    without `validate`, botocore sends what its model would refuse, so that the server's checks are seen."""
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        region_name=berth.region,
    )
    return session.client(
        service, endpoint_url=berth.endpoint, config=Config(retries={"total_max_attempts": 1}, parameter_validation=validate)
    )


def make_role(iam, name: str, trust_policy: str, **kwargs) -> str:
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **kwargs)["Role"]
    # What the session may do once enforcement is on (the front door's identity policies).
    iam.put_role_policy(
        RoleName=name,
        PolicyName="use",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecs:List*", "sts:*"], "Resource": "*"}]}
        ),
    )
    return role["Arn"]


def make_user(iam, name: str) -> tuple[str, dict]:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}
        ),
    )
    return arn, iam.create_access_key(UserName=name)["AccessKey"]


def test_assume_role_needs_a_trust_policy_that_names_the_caller(berth):
    iam = berth.client("iam")
    user_arn, key = make_user(iam, unique("dev"))
    elsewhere = make_role(iam, unique("other"), trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"}))
    trusting = make_role(iam, unique("deploy"), trust({"AWS": user_arn}))
    sts = client_as(berth, "sts", key)

    with raises_aws(
        "AccessDenied", f"User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: {elsewhere}"
    ):
        sts.assume_role(RoleArn=elsewhere, RoleSessionName="s1")
    with raises_aws("AccessDenied", f"on resource: arn:aws:iam::{ACCOUNT}:role/no-such-role"):
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/no-such-role", RoleSessionName="s1")

    out = sts.assume_role(RoleArn=trusting, RoleSessionName="build-42", DurationSeconds=900)
    role_name = trusting.rsplit("/", 1)[1]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/build-42"
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) >= 100
    lifetime = (creds["Expiration"] - datetime.now(timezone.utc)).total_seconds()
    assert 800 < lifetime <= 900
    assert out["AssumedRoleUser"]["Arn"] == session_arn
    role_id = iam.get_role(RoleName=role_name)["Role"]["RoleId"]
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role_id}:build-42"

    identity = client_as(berth, "sts", creds).get_caller_identity()
    assert (identity["Arn"], identity["UserId"], identity["Account"]) == (session_arn, f"{role_id}:build-42", ACCOUNT)
    assert "clusterArns" in client_as(berth, "ecs", creds).list_clusters()


def test_the_aws_cli_assumes_a_role_and_uses_the_session(berth):
    name = unique("cli")
    arn = berth.aws(
        "iam", "create-role", "--role-name", name,
        "--assume-role-policy-document", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    )["Role"]["Arn"]
    creds = berth.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name", "cli-session")["Credentials"]
    env = dict(
        berth.env,
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    saved, berth.env = berth.env, env
    try:
        assert berth.aws("sts", "get-caller-identity")["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/cli-session"
        # A session token that is not the one issued with the key.
        berth.env = dict(env, AWS_SESSION_TOKEN=creds["SessionToken"][:-4] + "AAAA")
        assert_cli_error(berth.aws_run("sts", "get-caller-identity"), "InvalidClientTokenId")
        assert_cli_error(berth.aws_run("ecs", "list-clusters"), "UnrecognizedClientException")
        # A temporary key without its token is no key at all.
        berth.env = {k: v for k, v in env.items() if k != "AWS_SESSION_TOKEN"}
        assert_cli_error(berth.aws_run("sts", "get-caller-identity"), "InvalidClientTokenId")
    finally:
        berth.env = saved


def test_durations_session_names_and_external_ids_are_checked(berth):
    iam = berth.client("iam")
    root_key = {"AccessKeyId": ACCESS_KEY_ID, "SecretAccessKey": SECRET_ACCESS_KEY}
    sts = client_as(berth, "sts", root_key, validate=False)
    root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    arn = make_role(iam, unique("dur"), trust(root), MaxSessionDuration=7200)
    assert sts.assume_role(RoleArn=arn, RoleSessionName="long", DurationSeconds=7200)["Credentials"]
    with raises_aws("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."):
        sts.assume_role(RoleArn=arn, RoleSessionName="longer", DurationSeconds=7201)
    with raises_aws("ValidationError", "Member must have value greater than or equal to 900"):
        sts.assume_role(RoleArn=arn, RoleSessionName="short", DurationSeconds=899)
    with raises_aws("ValidationError", "Member must have length greater than or equal to 2"):
        sts.assume_role(RoleArn=arn, RoleSessionName="x")
    with raises_aws("ValidationError", "Member must satisfy regular expression pattern"):
        sts.assume_role(RoleArn=arn, RoleSessionName="has space")
    with raises_aws("ValidationError"):
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:user/not-a-role", RoleSessionName="s1")

    guarded = make_role(iam, unique("ext"), trust(root, {"StringEquals": {"sts:ExternalId": "acme-7"}}))
    with raises_aws("AccessDenied"):
        sts.assume_role(RoleArn=guarded, RoleSessionName="s1")
    with raises_aws("AccessDenied"):
        sts.assume_role(RoleArn=guarded, RoleSessionName="s1", ExternalId="acme-8")
    assert sts.assume_role(RoleArn=guarded, RoleSessionName="s1", ExternalId="acme-7")["AssumedRoleUser"]


def test_get_session_token_acts_as_the_user(berth):
    iam = berth.client("iam")
    user_arn, key = make_user(iam, unique("gst"))
    out = client_as(berth, "sts", key).get_session_token(DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session_sts = client_as(berth, "sts", creds)
    assert session_sts.get_caller_identity()["Arn"] == user_arn
    with raises_aws("AccessDenied", "Cannot call GetSessionToken with session credentials"):
        session_sts.get_session_token()
    with raises_aws("ValidationError", "less than or equal to 129600"):
        client_as(berth, "sts", key, validate=False).get_session_token(DurationSeconds=129601)


def test_sessions_survive_a_restart_and_expire(make_berth):
    # Test-only server option: every session lives 3 s, so expiry can be watched (STS's minimum is 900 s).
    berth = make_berth(extra_env={"BERTH_TEST_SESSION_LIFETIME_SECONDS": "3"})
    iam, sts = berth.client("iam"), berth.client("sts")
    arn = make_role(iam, unique("exp"), trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="short-lived", DurationSeconds=900)["Credentials"]
    assert client_as(berth, "sts", creds).get_caller_identity()["Arn"].endswith("/short-lived")

    durable = make_berth()
    durable_arn = make_role(durable.client("iam"), unique("keep"), trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    kept = durable.client("sts").assume_role(RoleArn=durable_arn, RoleSessionName="kept")["Credentials"]
    durable.restart()
    assert client_as(durable, "sts", kept).get_caller_identity()["Arn"].endswith("/kept")

    while datetime.now(timezone.utc) <= creds["Expiration"]:
        time.sleep(0.2)
    with raises_aws("ExpiredTokenException", "The security token included in the request is expired"):
        client_as(berth, "ecs", creds).list_clusters()
    # The expired key is deleted once refused: presented again, it is unknown.
    with raises_aws("InvalidClientTokenId"):
        client_as(berth, "sts", creds).get_caller_identity()
    fresh = sts.assume_role(RoleArn=arn, RoleSessionName="again")["Credentials"]
    while datetime.now(timezone.utc) <= fresh["Expiration"]:
        time.sleep(0.2)
    with raises_aws("ExpiredToken", "The security token included in the request is expired"):
        client_as(berth, "sts", fresh).get_caller_identity()
