"""Secrets Manager through the real aws CLI and boto3: secrets with ARNs carrying AWS's random suffix, looked
up by name, full and partial ARN; versions and staging labels; values never in DescribeSecret or ListSecrets;
deletion with a recovery window and restore; bad input answered with Secrets Manager's error codes."""

from __future__ import annotations

import json
import re

import pytest

from berth_harness import assert_cli_error, paginate, raises_aws, unique

ARN_RE = re.compile(r"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$")


@pytest.fixture
def sm(berth):
    return berth.client("secretsmanager")


def test_create_and_read_by_name_full_and_partial_arn(berth, sm):
    name = f"app/{unique('db')}"
    created = sm.create_secret(Name=name, SecretString='{"username":"app","password":"hunter2"}',
                               Description="the database", Tags=[{"Key": "team", "Value": "core"}])  # fmt: skip
    match = ARN_RE.match(created["ARN"])
    assert match and match.group(1) == name, created["ARN"]
    partial = created["ARN"][:-7]
    for secret_id in [name, created["ARN"], partial]:
        got = sm.get_secret_value(SecretId=secret_id)
        assert json.loads(got["SecretString"])["password"] == "hunter2"
        assert got["VersionStages"] == ["AWSCURRENT"] and got["VersionId"] == created["VersionId"]
    cli = berth.aws("secretsmanager", "get-secret-value", "--secret-id", name, "--query", "SecretString")
    assert json.loads(cli)["username"] == "app"
    described = sm.describe_secret(SecretId=name)
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert described["Description"] == "the database" and described["Tags"] == [{"Key": "team", "Value": "core"}]
    listed = paginate(sm, "list_secrets", "SecretList", Filters=[{"Key": "name", "Values": [name]}])
    assert [s["ARN"] for s in listed] == [created["ARN"]]
    assert "hunter2" not in json.dumps(described, default=str) + json.dumps(listed, default=str)


def test_put_value_moves_current_to_previous(sm):
    name = unique("rotating")
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    token = "a" * 32
    v2 = sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)
    assert v2["VersionId"] == token and v2["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"
    # The same token and value again is a retry; another value under it is refused.
    assert sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=token)["VersionId"] == token
    with raises_aws("ResourceExistsException"):
        sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=token)
    staged = sm.put_secret_value(SecretId=name, SecretString="next", VersionStages=["PENDING"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionStage="PENDING")["VersionId"] == staged["VersionId"]
    updated = sm.update_secret(SecretId=name, SecretString="three", Description="now described")
    assert sm.get_secret_value(SecretId=name)["VersionId"] == updated["VersionId"]
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages[token] == ["AWSPREVIOUS"] and stages[updated["VersionId"]] == ["AWSCURRENT"]
    assert v1 not in stages, "a version without labels is dropped"
    with raises_aws("ResourceNotFoundException"):
        sm.get_secret_value(SecretId=name, VersionId="b" * 32)


def test_binary_secrets(sm):
    name = unique("binary")
    sm.create_secret(Name=name, SecretBinary=b"\x00\x01secret")
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == b"\x00\x01secret"


def test_delete_with_recovery_window_restore_and_force(sm):
    name = unique("deleted")
    sm.create_secret(Name=name, SecretString="v")
    out = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert out["DeletionDate"]
    with raises_aws("InvalidRequestException", "marked for deletion"):
        sm.get_secret_value(SecretId=name)
    assert sm.describe_secret(SecretId=name)["DeletedDate"]
    assert name not in [s["Name"] for s in paginate(sm, "list_secrets", "SecretList")]
    assert name in [s["Name"] for s in paginate(sm, "list_secrets", "SecretList", IncludePlannedDeletion=True)]
    with raises_aws("InvalidRequestException"):
        sm.create_secret(Name=name, SecretString="again")
    sm.restore_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with raises_aws("ResourceNotFoundException", "can't find the specified secret"):
        sm.describe_secret(SecretId=name)
    assert sm.create_secret(Name=name, SecretString="reborn")["Name"] == name


def test_tags(sm):
    name = unique("tags")
    sm.create_secret(Name=name, SecretString="v")
    sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    found = paginate(sm, "list_secrets", "SecretList", Filters=[{"Key": "tag-key", "Values": ["b"]},
                                                                 {"Key": "name", "Values": [name]}])  # fmt: skip
    assert [s["Name"] for s in found] == [name]


def test_bad_input_gets_secrets_manager_error_codes(berth, sm):
    name = unique("bad")
    assert_cli_error(berth.aws_run("secretsmanager", "get-secret-value", "--secret-id", name), "ResourceNotFoundException")
    with raises_aws("ValidationException", "Invalid name"):
        sm.create_secret(Name="bad name!", SecretString="v")
    with raises_aws("InvalidParameterException"):
        sm.create_secret(Name=name, SecretString="v", SecretBinary=b"x")
    with raises_aws("ValidationException"):
        sm.create_secret(Name=name, SecretString="x" * 65537)
    sm.create_secret(Name=name, SecretString="v")
    with raises_aws("ResourceExistsException"):
        sm.create_secret(Name=name, SecretString="v")
    with raises_aws("InvalidParameterException", "between 7 and 30"):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=3)
    with raises_aws("InvalidParameterException"):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    with raises_aws("ResourceNotFoundException"):
        sm.get_secret_value(SecretId=name, VersionStage="NOPE")
    with raises_aws("InvalidNextTokenException"):
        sm.list_secrets(NextToken="garbage")
    # Nothing refused changed the secret.
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
