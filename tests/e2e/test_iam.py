"""IAM: users, groups, roles, managed and inline policies, instance profiles and access keys, driven by the
real aws CLI and boto3, kept in the store across restarts. Access keys that IAM creates sign requests as
their user; deactivated and deleted ones are refused."""

from __future__ import annotations

import json
import subprocess

import boto3
import botocore.session
import pytest
from botocore.config import Config

from berth_harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, CliResult, assert_cli_error, aws_cli, paginate, raises_aws, unique

EC2_TRUST = (
    '{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" }, '
    '"Action": "sts:AssumeRole"}]}'
)
TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
ECS_READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"}]}
EC2_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
TASK_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def client_as(server, service: str, key_id: str = ACCESS_KEY_ID, secret: str = SECRET_ACCESS_KEY, **config):
    """A boto3 client signing with another access key than the harness's root key (or with other Config)."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(server.aws_config_file))
    core.set_config_variable("credentials_file", str(server.aws_credentials_file))
    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=server.region, botocore_session=core
    )
    return session.client(service, endpoint_url=server.endpoint, config=Config(retries={"total_max_attempts": 1}, **config))


def aws_as(server, key_id: str, secret: str, *args: str) -> CliResult:
    """`aws ARGS` signed with another access key."""
    env = {**server.env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
    p = subprocess.run([aws_cli(), *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=60)
    return CliResult(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def iam(berth):
    return berth.client("iam")


def test_seed_000_prerequisites_pass_verbatim(fresh_berth):
    b = fresh_berth
    role = b.aws("iam", "create-role", "--role-name", "ecsInstanceRole", "--assume-role-policy-document", EC2_TRUST)
    assert role["Role"]["Arn"] == f"arn:aws:iam::{b.account_id}:role/ecsInstanceRole"
    assert role["Role"]["RoleId"].startswith("AROA") and len(role["Role"]["RoleId"]) == 21
    # The CLI decodes the URL-encoded document IAM answers back into JSON.
    assert role["Role"]["AssumeRolePolicyDocument"] == json.loads(EC2_TRUST)
    b.aws("iam", "attach-role-policy", "--role-name", "ecsInstanceRole", "--policy-arn", EC2_ROLE_POLICY)
    profile = b.aws("iam", "create-instance-profile", "--instance-profile-name", "ecsInstanceProfile")
    assert profile["InstanceProfile"]["Roles"] == []
    assert profile["InstanceProfile"]["InstanceProfileId"].startswith("AIPA")
    b.aws(
        "iam", "add-role-to-instance-profile", "--instance-profile-name", "ecsInstanceProfile", "--role-name", "ecsInstanceRole"
    )

    got = b.aws("iam", "get-instance-profile", "--instance-profile-name", "ecsInstanceProfile")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["ecsInstanceRole"]
    assert got["Roles"][0]["AssumeRolePolicyDocument"] == json.loads(EC2_TRUST)
    attached = b.aws("iam", "list-attached-role-policies", "--role-name", "ecsInstanceRole")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonEC2ContainerServiceforEC2Role", "PolicyArn": EC2_ROLE_POLICY}]
    policy = b.aws("iam", "get-policy", "--policy-arn", EC2_ROLE_POLICY)["Policy"]
    assert policy["AttachmentCount"] == 1 and policy["Path"] == "/service-role/"
    version = b.aws("iam", "get-policy-version", "--policy-arn", EC2_ROLE_POLICY, "--version-id", policy["DefaultVersionId"])
    actions = version["PolicyVersion"]["Document"]["Statement"][0]["Action"]
    assert "ecs:RegisterContainerInstance" in actions and "ecr:BatchGetImage" in actions
    for_role = b.aws("iam", "list-instance-profiles-for-role", "--role-name", "ecsInstanceRole")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == ["ecsInstanceProfile"]


def test_ecs_service_linked_role(fresh_berth):
    b = fresh_berth
    created = b.aws("iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com")["Role"]
    assert created["RoleName"] == "AWSServiceRoleForECS"
    # Seed 004's check, as the seed runs it (jq's select done here).
    roles = b.aws("iam", "list-roles")["Roles"]
    linked = [r for r in roles if r["RoleName"] == "AWSServiceRoleForECS"]
    assert len(linked) == 1
    assert linked[0]["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    assert linked[0]["Arn"] == f"arn:aws:iam::{b.account_id}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    assert linked[0]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    attached = b.aws("iam", "list-attached-role-policies", "--role-name", "AWSServiceRoleForECS")["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == ["AmazonECSServiceRolePolicy"]

    again = b.aws_run("iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com")
    assert_cli_error(again, "InvalidInput")
    assert_cli_error(b.aws_run("iam", "delete-role", "--role-name", "AWSServiceRoleForECS"), "UnmodifiableEntity")
    # Its policy is for the service alone.
    b.aws("iam", "create-role", "--role-name", "plain", "--assume-role-policy-document", EC2_TRUST)
    attach = b.aws_run(
        "iam", "attach-role-policy", "--role-name", "plain", "--policy-arn",
        "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy",
    )
    assert_cli_error(attach, "PolicyNotAttachable")


def test_role_lifecycle_tags_and_delete_conflicts(iam):
    name = unique("role")
    created = iam.create_role(
        RoleName=name,
        Path="/app/",
        AssumeRolePolicyDocument=json.dumps(TASKS_TRUST),
        Description="task role",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "a"}],
        PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
    )["Role"]
    assert created["Arn"].endswith(f":role/app/{name}")
    role = iam.get_role(RoleName=name.upper())["Role"]  # names are not case-sensitive
    assert role["RoleName"] == name and role["MaxSessionDuration"] == 7200 and role["Description"] == "task role"
    assert role["AssumeRolePolicyDocument"] == TASKS_TRUST
    assert role["Tags"] == [{"Key": "team", "Value": "a"}]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    }

    iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=43200)
    trust = {**TASKS_TRUST, "Statement": [{**TASKS_TRUST["Statement"][0], "Principal": {"AWS": "*"}}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    role = iam.get_role(RoleName=name)["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("changed", 43200)
    assert role["AssumeRolePolicyDocument"] == trust

    iam.tag_role(RoleName=name, Tags=[{"Key": "TEAM", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    iam.untag_role(RoleName=name, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "TEAM", "Value": "b"}]
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/app/")["Roles"]]
    assert name not in [r["RoleName"] for r in iam.list_roles(PathPrefix="/other/")["Roles"]]

    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(ECS_READ))
    got = iam.get_role_policy(RoleName=name, PolicyName="read")
    assert got["PolicyDocument"] == ECS_READ and got["RoleName"] == name
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["read"]
    with raises_aws("DeleteConflict", "must delete policies first"):
        iam.delete_role(RoleName=name)
    iam.delete_role_policy(RoleName=name, PolicyName="read")
    with raises_aws("NoSuchEntity", "The role policy with name read cannot be found."):
        iam.get_role_policy(RoleName=name, PolicyName="read")

    iam.attach_role_policy(RoleName=name, PolicyArn=TASK_EXECUTION_POLICY)
    with raises_aws("DeleteConflict", "must detach all policies first"):
        iam.delete_role(RoleName=name)
    iam.detach_role_policy(RoleName=name, PolicyArn=TASK_EXECUTION_POLICY)
    with raises_aws("NoSuchEntity"):
        iam.detach_role_policy(RoleName=name, PolicyArn=TASK_EXECUTION_POLICY)

    profile = unique("profile")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)
    other = unique("role")
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=EC2_TRUST)
    with raises_aws("LimitExceeded", "InstanceSessionsPerInstanceProfile: 1"):
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=other)
    with raises_aws("DeleteConflict", "must remove roles from instance profile first"):
        iam.delete_role(RoleName=name)
    with raises_aws("DeleteConflict"):
        iam.delete_instance_profile(InstanceProfileName=profile)
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=name)
    iam.delete_instance_profile(InstanceProfileName=profile)
    with raises_aws("NoSuchEntity", f"Instance Profile {profile} cannot be found."):
        iam.get_instance_profile(InstanceProfileName=profile)

    iam.delete_role(RoleName=name)
    with raises_aws("NoSuchEntity", f"The role with name {name} cannot be found."):
        iam.get_role(RoleName=name)


def test_bad_input_gets_iams_codes_and_changes_nothing(berth):
    # botocore checks some minimums itself; without that the server's checks are seen.
    iam = client_as(berth, "iam", parameter_validation=False)
    name = unique("role")
    with raises_aws("ValidationError", "Member must satisfy regular expression pattern"):
        iam.create_role(RoleName="has space", AssumeRolePolicyDocument=EC2_TRUST)
    with raises_aws("ValidationError", "Member must have length less than or equal to 64"):
        iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=EC2_TRUST)
    with raises_aws("ValidationError", "greater than or equal to 3600"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST, MaxSessionDuration=100)
    with raises_aws("ValidationError", "must begin and end with /"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST, Path="nope")
    with raises_aws("MalformedPolicyDocument", "Syntax errors in policy."):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{not json")
    with raises_aws("MalformedPolicyDocument", "The passed in policy has a statement with no principals!"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ECS_READ))
    with raises_aws("NoSuchEntity", "was not found"):
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=EC2_TRUST, PermissionsBoundary=f"arn:aws:iam::{berth.account_id}:policy/none"
        )
    with raises_aws("NoSuchEntity"):
        iam.get_role(RoleName=name)  # none of the refused creates left anything

    iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST)
    with raises_aws("EntityAlreadyExists", f"Role with name {name.lower()} already exists."):
        iam.create_role(RoleName=name.lower(), AssumeRolePolicyDocument=EC2_TRUST)
    with raises_aws("MalformedPolicyDocument", "Policy document should not specify a principal."):
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=EC2_TRUST)
    with raises_aws("InvalidInput", "is not valid"):
        iam.attach_role_policy(RoleName=name, PolicyArn="not-an-arn")
    with raises_aws("NoSuchEntity"):
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    with raises_aws("ValidationError", "Member must have value greater than or equal to 1"):
        iam.list_roles(MaxItems=0)
    with raises_aws("ValidationError", "The parameter RoleName is required"):
        iam.get_role()
    with raises_aws("InvalidInput", "Duplicate tag keys"):
        iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert "Tags" not in iam.get_role(RoleName=name)["Role"]
    with raises_aws("NoSuchEntity", "The user with name nobody-here cannot be found."):
        iam.get_user(UserName="nobody-here")


def test_managed_policies_versions_and_attachments(iam):
    name, role, user, group = unique("policy"), unique("role"), unique("user"), unique("group")
    policy = iam.create_policy(PolicyName=name, Path="/team/", PolicyDocument=json.dumps(ECS_READ), Description="d")["Policy"]
    arn = policy["Arn"]
    assert arn.endswith(f":policy/team/{name}") and policy["PolicyId"].startswith("ANPA")
    assert (policy["DefaultVersionId"], policy["AttachmentCount"]) == ("v1", 0)
    with raises_aws("EntityAlreadyExists", f"A policy called {name} already exists."):
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(ECS_READ))
    with raises_aws("MalformedPolicyDocument", "Policy statement must contain resources."):
        iam.create_policy(PolicyName=unique("p"), PolicyDocument='{"Statement":[{"Effect":"Allow","Action":"*"}]}')

    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)  # again: no change
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert only_roles["PolicyUsers"] == [] and len(only_roles["PolicyRoles"]) == 1
    assert [a["PolicyArn"] for a in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]] == [arn]
    assert [a["PolicyName"] for a in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]] == [name]
    assert iam.list_attached_role_policies(RoleName=role, PathPrefix="/other/")["AttachedPolicies"] == []
    with raises_aws("DeleteConflict", "Cannot delete a policy attached to entities."):
        iam.delete_policy(PolicyArn=arn)

    docs = [{**ECS_READ, "Statement": [{**ECS_READ["Statement"][0], "Sid": f"S{i}"}]} for i in range(2, 6)]
    for doc in docs:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc))
    with raises_aws("LimitExceeded", "up to 5 versions"):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ECS_READ), SetAsDefault=True)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, False, False, True]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"] == docs[1]
    with raises_aws("DeleteConflict", "Cannot delete the default version of a policy."):
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    with raises_aws("NoSuchEntity", "version v9 does not exist"):
        iam.get_policy_version(PolicyArn=arn, VersionId="v9")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    added = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ECS_READ), SetAsDefault=True)
    assert added["PolicyVersion"]["VersionId"] == "v6" and added["PolicyVersion"]["IsDefaultVersion"] is True

    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    with raises_aws("DeleteConflict", "more than one version"):
        iam.delete_policy(PolicyArn=arn)
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with raises_aws("NoSuchEntity", f"Policy {arn} was not found."):
        iam.get_policy(PolicyArn=arn)


def test_list_policies_scopes_filters_and_paging(fresh_berth):
    iam = fresh_berth.client("iam")
    aws_names = {p["PolicyName"] for p in paginate(iam, "list_policies", "Policies", Scope="AWS")}
    for expected in (
        "AdministratorAccess", "ReadOnlyAccess", "AmazonECSTaskExecutionRolePolicy", "AmazonEC2ContainerServiceforEC2Role",
        "AmazonECS_FullAccess", "AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser",
        "AmazonEC2ContainerRegistryFullAccess", "CloudWatchLogsFullAccess", "AmazonSSMReadOnlyAccess",
        "AmazonECSServiceRolePolicy",
    ):
        assert expected in aws_names
    for i in range(5):
        iam.create_policy(PolicyName=f"local-{i}", Path="/paged/", PolicyDocument=json.dumps(ECS_READ))
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == [f"local-{i}" for i in range(5)]
    assert all(p["Arn"].startswith(f"arn:aws:iam::{fresh_berth.account_id}:policy/paged/") for p in local)

    # Paging: MaxItems 2 over every policy, following Marker, sees each exactly once.
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"MaxItems": 2, **({"Marker": marker} if marker else {})}
        page = iam.list_policies(**kwargs)
        seen += [p["Arn"] for p in page["Policies"]]
        pages += 1
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
        assert len(page["Policies"]) == 2
    assert len(seen) == len(set(seen)) == len(aws_names) + 5 and pages == (len(seen) + 1) // 2
    cli_all = fresh_berth.aws("iam", "list-policies", "--page-size", "3")["Policies"]
    assert sorted(p["Arn"] for p in cli_all) == sorted(seen)

    assert iam.list_policies(OnlyAttached=True)["Policies"] == []
    iam.create_role(RoleName="holder", AssumeRolePolicyDocument=EC2_TRUST)
    iam.attach_role_policy(RoleName="holder", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.attach_role_policy(RoleName="holder", PolicyArn=local[0]["Arn"])
    attached = iam.list_policies(OnlyAttached=True)["Policies"]
    assert sorted(p["PolicyName"] for p in attached) == ["AdministratorAccess", "local-0"]
    assert all(p["AttachmentCount"] == 1 for p in attached)
    assert [p["PolicyName"] for p in iam.list_policies(PathPrefix="/paged/", MaxItems=1)["Policies"]] == ["local-0"]
    admin = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess", VersionId="v1")
    assert admin["PolicyVersion"]["Document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    with raises_aws("UnmodifiableEntity"):
        iam.delete_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def test_list_roles_pages_with_marker(iam):
    prefix = f"/{unique('pg')}/"
    names = [unique("paged") for _ in range(5)]
    for n in names:
        iam.create_role(RoleName=n, Path=prefix, AssumeRolePolicyDocument=EC2_TRUST)
    first = iam.list_roles(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Roles"]) == 2
    everything = paginate(iam, "list_roles", "Roles", PathPrefix=prefix, PaginationConfig={"PageSize": 2})
    assert sorted(r["RoleName"] for r in everything) == sorted(names)


def test_users_groups_and_the_caller(berth, iam):
    user, group = unique("user"), unique("group")
    created = iam.create_user(UserName=user, Path="/people/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Arn"] == f"arn:aws:iam::{berth.account_id}:user/people/{user}"
    iam.create_group(GroupName=group)
    with raises_aws("EntityAlreadyExists", f"Group with name {group} already exists."):
        iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    with raises_aws("DeleteConflict", "must remove users from group first"):
        iam.delete_user(UserName=user)
    with raises_aws("DeleteConflict", "must remove users from group first"):
        iam.delete_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=json.dumps(ECS_READ))
    assert iam.get_group_policy(GroupName=group, PolicyName="g")["PolicyDocument"] == ECS_READ
    iam.put_user_policy(UserName=user, PolicyName="u", PolicyDocument=json.dumps(ECS_READ))
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["u"]
    assert iam.get_user_policy(UserName=user, PolicyName="u")["PolicyDocument"] == ECS_READ

    iam.tag_user(UserName=user, Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_user(UserName=user, TagKeys=["k"])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "k2", "Value": "v2"}]

    renamed = unique("renamed")
    iam.update_user(UserName=user, NewUserName=renamed, NewPath="/moved/")
    with raises_aws("NoSuchEntity"):
        iam.get_user(UserName=user)
    moved = iam.get_user(UserName=renamed)["User"]
    assert moved["Arn"].endswith(f":user/moved/{renamed}") and moved["UserId"] == created["UserId"]
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [renamed]
    assert renamed in [u["UserName"] for u in paginate(iam, "list_users", "Users", PathPrefix="/moved/")]

    iam.remove_user_from_group(GroupName=group, UserName=renamed)
    with raises_aws("NoSuchEntity"):
        iam.remove_user_from_group(GroupName=group, UserName=renamed)
    iam.delete_group_policy(GroupName=group, PolicyName="g")
    iam.delete_group(GroupName=group)
    with raises_aws("DeleteConflict", "must delete policies first"):
        iam.delete_user(UserName=renamed)
    iam.delete_user_policy(UserName=renamed, PolicyName="u")
    iam.delete_user(UserName=renamed)

    # GetUser without a name answers the caller: here the root user, as IAM answers it (no name, no path).
    root = berth.aws("iam", "get-user")["User"]
    assert root["Arn"] == f"arn:aws:iam::{berth.account_id}:root" and root["UserId"] == berth.account_id
    assert "UserName" not in root and "Path" not in root


def test_access_keys_sign_as_their_user_until_deactivated_or_deleted(berth, iam):
    user = unique("keyed")
    created = iam.create_user(UserName=user, Path="/ops/")["User"]
    # What the user does below, and no more (test_iam_enforcement covers the denials).
    own = {"Effect": "Allow", "Action": ["iam:GetUser", "iam:CreateAccessKey"], "Resource": "*"}
    iam.put_user_policy(
        UserName=user, PolicyName="own", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [ECS_READ["Statement"][0], own]})
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40 and key["UserName"] == user
    kid, secret = key["AccessKeyId"], key["SecretAccessKey"]
    never = iam.get_access_key_last_used(AccessKeyId=kid)["AccessKeyLastUsed"]
    assert never["ServiceName"] == "N/A" and never["Region"] == "N/A" and "LastUsedDate" not in never

    ident = json.loads(aws_as(berth, kid, secret, "sts", "get-caller-identity").stdout)
    assert ident == {"UserId": created["UserId"], "Account": berth.account_id, "Arn": f"arn:aws:iam::{berth.account_id}:user/ops/{user}"}
    ecs_as_user = client_as(berth, "ecs", kid, secret)
    assert "clusterArns" in ecs_as_user.list_clusters()
    listed = aws_as(berth, kid, secret, "ecs", "list-clusters")
    assert listed.returncode == 0, listed.stderr
    # The user's own calls name it: GetUser and CreateAccessKey without UserName.
    iam_as_user = client_as(berth, "iam", kid, secret)
    assert iam_as_user.get_user()["User"]["UserName"] == user
    second = iam_as_user.create_access_key()["AccessKey"]
    assert second["UserName"] == user
    with raises_aws("LimitExceeded", "AccessKeysPerUser: 2"):
        iam.create_access_key(UserName=user)
    metadata = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert sorted(m["AccessKeyId"] for m in metadata) == sorted([kid, second["AccessKeyId"]])
    last = iam.get_access_key_last_used(AccessKeyId=kid)
    assert last["UserName"] == user
    used = last["AccessKeyLastUsed"]
    assert used["ServiceName"] == "iam" and used["Region"] == "us-east-1" and used["LastUsedDate"], used
    assert iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    with raises_aws("DeleteConflict", "must delete access keys first"):
        iam.delete_user(UserName=user)

    iam.update_access_key(UserName=user, AccessKeyId=kid, Status="Inactive")
    assert {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}[kid] == "Inactive"
    assert_cli_error(aws_as(berth, kid, secret, "sts", "get-caller-identity"), "InvalidClientTokenId")
    with raises_aws("UnrecognizedClientException"):
        ecs_as_user.list_clusters()
    iam.update_access_key(UserName=user, AccessKeyId=kid, Status="Active")
    assert "clusterArns" in ecs_as_user.list_clusters()

    iam.delete_access_key(UserName=user, AccessKeyId=kid)
    assert_cli_error(aws_as(berth, kid, secret, "sts", "get-caller-identity"), "InvalidClientTokenId")
    with raises_aws("UnrecognizedClientException"):
        ecs_as_user.list_clusters()
    with raises_aws("NoSuchEntity", f"The Access Key with id {kid} cannot be found."):
        iam.update_access_key(UserName=user, AccessKeyId=kid, Status="Active")
    iam.delete_access_key(UserName=user, AccessKeyId=second["AccessKeyId"])
    iam.delete_user_policy(UserName=user, PolicyName="own")
    iam.delete_user(UserName=user)


def test_iam_state_and_keys_survive_a_crash(fresh_berth):
    iam = fresh_berth.client("iam")
    iam.create_role(RoleName="durable", AssumeRolePolicyDocument=EC2_TRUST)
    iam.attach_role_policy(RoleName="durable", PolicyArn=EC2_ROLE_POLICY)
    iam.put_role_policy(RoleName="durable", PolicyName="inline", PolicyDocument=json.dumps(ECS_READ))
    arn = iam.create_policy(PolicyName="kept", PolicyDocument=json.dumps(ECS_READ))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ECS_READ), SetAsDefault=True)
    iam.create_user(UserName="survivor")
    key = iam.create_access_key(UserName="survivor")["AccessKey"]
    iam.create_instance_profile(InstanceProfileName="kept-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="kept-profile", RoleName="durable")

    fresh_berth.restart(crash=True)
    iam = fresh_berth.client("iam")
    assert iam.get_role(RoleName="durable")["Role"]["AssumeRolePolicyDocument"] == json.loads(EC2_TRUST)
    assert [a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName="durable")["AttachedPolicies"]] == [EC2_ROLE_POLICY]
    assert iam.get_role_policy(RoleName="durable", PolicyName="inline")["PolicyDocument"] == ECS_READ
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    profile = iam.get_instance_profile(InstanceProfileName="kept-profile")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["durable"]
    ident = client_as(fresh_berth, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{fresh_berth.account_id}:user/survivor"
