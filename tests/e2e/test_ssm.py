"""SSM Parameter Store through the real aws CLI and boto3: parameters with versions, labels, tags,
SecureStrings read with and without decryption, paths and filters, AWS's public ECS AMI parameters, and
bad input answered with SSM's error codes."""

from __future__ import annotations

import json
import subprocess

import pytest

from berth_harness import assert_aws_error, assert_cli_error, aws_cli, paginate, raises_aws, unique

AL2_GPU = "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended"


@pytest.fixture
def ssm(berth):
    return berth.client("ssm")


def test_seed_000_reads_the_recommended_gpu_ami_with_the_cli(berth):
    # Seed 000's command, verbatim.
    seed = [aws_cli(), "ssm", "get-parameters", "--names", f"{AL2_GPU}/image_id",
            "--query", "Parameters[0].Value", "--output", "text"]  # fmt: skip
    result = subprocess.run(seed, env=berth.env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip()
    assert image_id.startswith("ami-") and len(image_id) == 21, image_id
    doc = berth.aws("ssm", "get-parameter", "--name", AL2_GPU)["Parameter"]
    recommended = json.loads(doc["Value"])
    assert recommended["image_id"] == image_id
    assert "gpu" in recommended["image_name"] and recommended["schema_version"] == 1
    assert set(recommended) == {"ecs_agent_version", "ecs_runtime_version", "image_id", "image_name", "os",
                                "schema_version", "source_image_name"}  # fmt: skip
    assert doc["ARN"].endswith(f"::parameter{AL2_GPU}")


def test_public_parameters_walk_by_path_and_are_read_only(ssm):
    found = paginate(ssm, "get_parameters_by_path", "Parameters",
                     Path="/aws/service/ecs/optimized-ami/amazon-linux-2023", Recursive=True)  # fmt: skip
    names = [p["Name"] for p in found]
    assert names == sorted(names)
    for variant in ["", "/gpu", "/arm64"]:
        assert f"/aws/service/ecs/optimized-ami/amazon-linux-2023{variant}/recommended/image_id" in names
    one_level = ssm.get_parameters_by_path(Path="/aws/service/ecs/optimized-ami/amazon-linux-2/recommended")
    assert {p["Name"].rsplit("/", 1)[-1] for p in one_level["Parameters"]} >= {"image_id", "image_name", "os"}
    with raises_aws("ValidationException"):
        ssm.put_parameter(Name=f"{AL2_GPU}/image_id", Value="ami-0", Type="String", Overwrite=True)


def test_versions_overwrite_history_and_selectors(ssm):
    name = f"/{unique('app')}/db/url"
    assert ssm.put_parameter(Name=name, Value="v1", Type="String")["Version"] == 1
    with raises_aws("ParameterAlreadyExists"):
        ssm.put_parameter(Name=name, Value="v2", Type="String")
    assert ssm.put_parameter(Name=name, Value="v2", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=name)["Parameter"]
    assert (got["Value"], got["Version"], got["Type"], got["DataType"]) == ("v2", 2, "String", "text")
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "v1"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Selector"] == ":1"
    with raises_aws("ParameterVersionNotFound"):
        ssm.get_parameter(Name=f"{name}:9")
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "v1"), (2, "v2")]
    by_arn = ssm.get_parameter(Name=got["ARN"])["Parameter"]
    assert by_arn["Name"] == name


def test_labels_move_and_select(ssm):
    name = unique("labelled")
    ssm.put_parameter(Name=name, Value="a", Type="String")
    ssm.put_parameter(Name=name, Value="b", Type="String", Overwrite=True)
    out = ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod", "1bad"])
    assert out["InvalidLabels"] == ["1bad"] and out["ParameterVersion"] == 1
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "a"
    ssm.label_parameter_version(Name=name, Labels=["prod"])
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Version"] == 2
    labels = {h["Version"]: h["Labels"] for h in ssm.get_parameter_history(Name=name)["Parameters"]}
    assert labels == {1: [], 2: ["prod"]}
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["prod", "nope"])
    assert (removed["RemovedLabels"], removed["InvalidLabels"]) == (["prod"], ["nope"])
    with raises_aws("ParameterVersionNotFound"):
        ssm.label_parameter_version(Name=name, ParameterVersion=7, Labels=["x"])


def test_secure_strings_with_and_without_decryption(berth, ssm):
    name = f"/{unique('secure')}/password"
    ssm.put_parameter(Name=name, Value="hunter2", Type="SecureString")
    hidden = ssm.get_parameter(Name=name)["Parameter"]
    assert hidden["Type"] == "SecureString" and hidden["Value"] != "hunter2" and "hunter2" not in hidden["Value"]
    shown = berth.aws("ssm", "get-parameter", "--name", name, "--with-decryption")["Parameter"]
    assert shown["Value"] == "hunter2"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert meta[0]["KeyId"] == "alias/aws/ssm" and "Value" not in meta[0]
    assert "hunter2" not in str(meta)
    with raises_aws("InvalidKeyId"):
        ssm.put_parameter(Name=f"{name}2", Value="x", Type="SecureString", KeyId="not-a-key")


def test_get_parameters_lists_the_missing_and_by_path_pages(ssm):
    root = f"/{unique('tree')}"
    for i in range(12):
        ssm.put_parameter(Name=f"{root}/p{i:02}", Value=str(i), Type="String")
    ssm.put_parameter(Name=f"{root}/deep/er", Value="d", Type="StringList")
    got = ssm.get_parameters(Names=[f"{root}/p00", f"{root}/missing", f"{root}/p01:5"])
    assert [p["Name"] for p in got["Parameters"]] == [f"{root}/p00"]
    assert sorted(got["InvalidParameters"]) == sorted([f"{root}/missing", f"{root}/p01:5"])
    first = ssm.get_parameters_by_path(Path=root, MaxResults=5)
    assert len(first["Parameters"]) == 5 and first["NextToken"]
    flat = paginate(ssm, "get_parameters_by_path", "Parameters", Path=root)
    assert [p["Name"] for p in flat] == [f"{root}/p{i:02}" for i in range(12)]
    deep = paginate(ssm, "get_parameters_by_path", "Parameters", Path=root, Recursive=True,
                    ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}])  # fmt: skip
    assert [p["Name"] for p in deep] == [f"{root}/deep/er"]
    with raises_aws("InvalidFilterKey"):
        ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    deleted = ssm.delete_parameters(Names=[f"{root}/p00", f"{root}/nope"])
    assert (deleted["DeletedParameters"], deleted["InvalidParameters"]) == ([f"{root}/p00"], [f"{root}/nope"])
    with raises_aws("ParameterNotFound"):
        ssm.delete_parameter(Name=f"{root}/p00")


def test_describe_filters_and_tags(ssm):
    name = f"/{unique('tagged')}/x"
    ssm.put_parameter(Name=name, Value="v", Type="String", Description="d", Tags=[{"Key": "team", "Value": "core"}])
    found = paginate(ssm, "describe_parameters", "Parameters",
                     ParameterFilters=[{"Key": "tag:team", "Values": ["core"]}, {"Key": "Name", "Values": [name]}])  # fmt: skip
    assert [(p["Name"], p["Description"], p["Version"]) for p in found] == [(name, "d", 1)]
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "env", "Value": "prod"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "core", "env": "prod"}
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["team"])
    assert [t["Key"] for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]] == ["env"]
    with raises_aws("InvalidResourceId"):
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{name}-missing")
    with raises_aws("ValidationException", "tags and overwrite"):
        ssm.put_parameter(Name=name, Value="v", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])


def test_bad_input_gets_ssm_error_codes(berth, ssm):
    base = unique("bad")
    assert_cli_error(berth.aws_run("ssm", "get-parameter", "--name", f"/{base}/missing"), "ParameterNotFound")
    with raises_aws("ValidationException"):
        ssm.put_parameter(Name=f"/{base}/bad name!", Value="v", Type="String")
    with raises_aws("ValidationException", "fully qualified"):
        ssm.put_parameter(Name=f"{base}/no-slash", Value="v", Type="String")
    with raises_aws("HierarchyLevelLimitExceededException"):
        ssm.put_parameter(Name="".join(f"/l{i}" for i in range(16)), Value="v", Type="String")
    with raises_aws("ValidationException", "Standard tier"):
        ssm.put_parameter(Name=f"/{base}/big", Value="x" * 4097, Type="String")
    assert ssm.put_parameter(Name=f"/{base}/big", Value="x" * 4097, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    with raises_aws("ValidationException"):
        ssm.put_parameter(Name=f"/{base}/huge", Value="x" * 8193, Type="String", Tier="Advanced")
    with raises_aws("ParameterPatternMismatchException"):
        ssm.put_parameter(Name=f"/{base}/n", Value="12a", Type="String", AllowedPattern=r"^\d+$")
    with raises_aws("ValidationException", "type is required"):
        ssm.put_parameter(Name=f"/{base}/untyped", Value="v")
    with raises_aws("ValidationException"):
        ssm.put_parameter(Name=f"/{base}/img", Value="ubuntu", Type="String", DataType="aws:ec2:image")
    ok = ssm.put_parameter(Name=f"/{base}/img", Value="ami-0a3c14e1ddbe7f23c", Type="String", DataType="aws:ec2:image")
    assert ok["Version"] == 1
    with raises_aws("InvalidNextToken"):
        ssm.get_parameters_by_path(Path=f"/{base}", NextToken="not a token!")
    assert_aws_error(berth.raw("GetParameter", {"Name": 7}, service="ssm"), "SerializationException")
    # Nothing refused was stored.
    with raises_aws("ParameterNotFound"):
        ssm.get_parameter(Name=f"/{base}/n")
