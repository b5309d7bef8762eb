"""IAM permissions boundaries and paths through the real aws CLI and boto3: a boundary set on a user or role is
shown as IAM shows it and caps what the entity's policies grant (AWS's message names the boundary); entities
created under a path carry it in their ARNs, and List* --path-prefix filters by it."""

from __future__ import annotations

import json

from berth_harness import assert_cli_error, raises_aws, unique
from test_iam_enforcement import User, allow, cluster_arn, deny, policy
from test_sts import client_as as session_client


def managed_policy(iam, *statements: dict) -> str:
    return iam.create_policy(PolicyName=unique("cap"), PolicyDocument=policy(*statements))["Policy"]["Arn"]


def boundary_denial(user_arn: str, action: str, resource: str, explicit: bool = False) -> str:
    reason = (
        "with an explicit deny in a permissions boundary"
        if explicit
        else f"because no permissions boundary allows the {action} action"
    )
    return f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} {reason}"


def test_a_users_boundary_caps_its_policies_until_deleted(berth):
    iam = berth.client("iam")
    cap = managed_policy(iam, allow(["ecs:Describe*", "ecs:List*"]))
    user = User(berth, allow("ecs:*"))
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=cap)
    shown = iam.get_user(UserName=user.name)["User"]["PermissionsBoundary"]
    assert shown == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": cap}
    listed = [u for u in iam.list_users()["Users"] if u["UserName"] == user.name]
    assert len(listed) == 1 and "PermissionsBoundary" not in listed[0], "ListUsers leaves the boundary out, as IAM's"

    ecs = user.client("ecs")
    assert "clusterArns" in ecs.list_clusters()
    name = unique("capped")
    with raises_aws("AccessDeniedException", boundary_denial(user.arn, "ecs:CreateCluster", cluster_arn(berth, name))):
        ecs.create_cluster(clusterName=name)
    cli = user.aws("ecs", "create-cluster", "--cluster-name", name)
    assert_cli_error(cli, "AccessDeniedException")
    assert "because no permissions boundary allows the ecs:CreateCluster action" in cli.stderr

    # A Deny in the boundary is explicit, even where both allow.
    iam.create_policy_version(
        PolicyArn=cap, PolicyDocument=policy(allow("ecs:*"), deny("ecs:DeleteCluster")), SetAsDefault=True
    )
    assert ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"] == cluster_arn(berth, name)
    with raises_aws("AccessDeniedException", boundary_denial(user.arn, "ecs:DeleteCluster", cluster_arn(berth, name), True)):
        ecs.delete_cluster(cluster=name)

    iam.delete_user_permissions_boundary(UserName=user.name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user.name)["User"]
    assert ecs.delete_cluster(cluster=name)["cluster"]["status"] == "INACTIVE"


def test_a_roles_boundary_set_by_the_cli_caps_its_sessions(berth):
    iam = berth.client("iam")
    name = unique("bounded")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{berth.account_id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    created = berth.aws(
        "iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust,
        "--permissions-boundary", read_only,
    )
    assert created["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == read_only
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": read_only,
    }
    assert all("PermissionsBoundary" not in r for r in iam.list_roles()["Roles"])

    creds = berth.client("sts").assume_role(RoleArn=f"arn:aws:iam::{berth.account_id}:role/{name}", RoleSessionName="s1")
    ecs = session_client(berth, "ecs", creds["Credentials"])
    assert "clusterArns" in ecs.list_clusters()
    cluster = unique("capped")
    session = f"arn:aws:sts::{berth.account_id}:assumed-role/{name}/s1"
    with raises_aws("AccessDeniedException", boundary_denial(session, "ecs:CreateCluster", cluster_arn(berth, cluster))):
        ecs.create_cluster(clusterName=cluster)

    missing = f"arn:aws:iam::{berth.account_id}:policy/{unique('none')}"
    with raises_aws("NoSuchEntity"):
        iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=missing)
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == read_only
    with raises_aws("NoSuchEntity"):
        iam.put_role_permissions_boundary(RoleName=unique("nobody"), PermissionsBoundary=read_only)

    berth.aws("iam", "delete-role-permissions-boundary", "--role-name", name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    assert ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"] == cluster_arn(berth, cluster)
    berth.client("ecs").delete_cluster(cluster=cluster)


def test_paths_are_in_arns_and_filter_lists(berth):
    iam = berth.client("iam")
    account = berth.account_id
    team = f"/{unique('team')}/"
    trust = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    )
    role, user, group, profile = unique("r"), unique("u"), unique("g"), unique("p")
    made = {
        "role": iam.create_role(RoleName=role, Path=team, AssumeRolePolicyDocument=trust)["Role"],
        "user": iam.create_user(UserName=user, Path=team)["User"],
        "group": iam.create_group(GroupName=group, Path=team)["Group"],
        "instance-profile": iam.create_instance_profile(InstanceProfileName=profile, Path=team)["InstanceProfile"],
    }
    names = {"role": role, "user": user, "group": group, "instance-profile": profile}
    for kind, entity in made.items():
        assert entity["Arn"] == f"arn:aws:iam::{account}:{kind}{team}{names[kind]}", entity
        assert entity["Path"] == team
    cli = berth.aws(
        "iam", "create-policy", "--policy-name", (pname := unique("pol")), "--path", team,
        "--policy-document", policy(allow("ecs:List*")),
    )
    created = cli["Policy"]
    assert created["Arn"] == f"arn:aws:iam::{account}:policy{team}{pname}" and created["Path"] == team

    assert iam.get_role(RoleName=role)["Role"]["Arn"] == made["role"]["Arn"]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix=team)["Roles"]] == [role]
    assert [u["UserName"] for u in iam.list_users(PathPrefix=team)["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix=team)["Groups"]] == [group]
    profiles = iam.list_instance_profiles(PathPrefix=team)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in profiles] == [profile]
    local = iam.list_policies(Scope="Local", PathPrefix=team)["Policies"]
    assert [p["PolicyName"] for p in local] == [pname]
    listed = berth.aws("iam", "list-roles", "--path-prefix", team[:-1])
    assert [r["RoleName"] for r in listed["Roles"]] == [role]
    # A policy attached by its ARN must name the path it has.
    with raises_aws("NoSuchEntity"):
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::{account}:policy/{pname}")
    iam.attach_role_policy(RoleName=role, PolicyArn=created["Arn"])

    message = (
        "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
        "characters and/or / characters."
    )
    for bad in ["team", "/team", "team/"]:
        with raises_aws("ValidationError", message):
            iam.create_user(UserName=unique("bad"), Path=bad)
    bad_cli = berth.aws_run("iam", "create-role", "--role-name", unique("bad"), "--path", "/x",
                        "--assume-role-policy-document", trust)
    assert_cli_error(bad_cli, "ValidationError")
    assert message in bad_cli.stderr
    with raises_aws("ValidationError"):
        iam.list_users(PathPrefix="team")


def test_ec2_denials_carry_a_message_that_sts_decodes(berth):
    user = User(berth)
    with raises_aws("UnauthorizedOperation") as info:
        user.client("ec2").describe_instances()
    message = info.value.response["Error"]["Message"]
    denial = user.denial("ec2:DescribeInstances", "*")
    prefix = f"You are not authorized to perform this operation. {denial}. Encoded authorization failure message: "
    assert message.startswith(prefix), message
    encoded = message[len(prefix):]
    assert encoded and " " not in encoded

    # Decoding needs sts:DecodeAuthorizationMessage: the user lacks it, root has it.
    with raises_aws("AccessDenied", user.denial("sts:DecodeAuthorizationMessage", "*")):
        user.client("sts").decode_authorization_message(EncodedMessage=encoded)
    decoded = json.loads(berth.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["matchedStatements"] == {"items": []} and decoded["failures"] == {"items": []}
    context = decoded["context"]
    user_id = berth.client("iam").get_user(UserName=user.name)["User"]["UserId"]
    assert context["principal"] == {"id": user_id, "arn": user.arn}
    assert context["action"] == "ec2:DescribeInstances" and context["resource"] == "*"
    conditions = {c["key"]: [v["value"] for v in c["values"]["items"]] for c in context["conditions"]["items"]}
    assert conditions["aws:username"] == [user.name]
    assert conditions["aws:requestedregion"] == [berth.region]

    user.put("decode", allow("sts:DecodeAuthorizationMessage"))
    cli = user.aws("sts", "decode-authorization-message", "--encoded-message", encoded)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(json.loads(cli.stdout)["DecodedMessage"])["context"]["action"] == "ec2:DescribeInstances"

    # An explicit Deny is told as one.
    user.put("no-ec2", allow("ec2:*"), deny("ec2:DescribeInstances"))
    with raises_aws("UnauthorizedOperation", "with an explicit deny in an identity-based policy") as info:
        user.client("ec2").describe_instances()
    encoded = info.value.response["Error"]["Message"].rsplit(" ", 1)[1]
    assert json.loads(berth.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])[
        "explicitDeny"
    ] is True

    for bad in ["not-a-message", encoded[:-8] + "AAAAAAAA"]:
        with raises_aws("InvalidAuthorizationMessageException"):
            berth.client("sts").decode_authorization_message(EncodedMessage=bad)
