"""IAM enforcement: every request by an IAM user is authorized by its policies (inline, attached, its groups'),
as AWS decides and words it, driven by the real aws CLI, boto3 and docker. The root credential is never
evaluated. A policy change takes effect on the caller's next request."""

from __future__ import annotations

import json

import pytest

from berth_harness import assert_cli_error, raises_aws, unique
from test_ecr import Docker, base_image, create_repo  # noqa: F401 (base_image is a fixture)
from test_iam import aws_as, client_as

READ_ONLY_ECR = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*") -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


class User:
    """An IAM user with an access key, and clients signing as it."""

    def __init__(self, berth, *statements: dict):
        self.berth = berth
        self.iam = berth.client("iam")
        self.name = unique("enforced")
        self.arn = f"arn:aws:iam::{berth.account_id}:user/{self.name}"
        self.iam.create_user(UserName=self.name)
        key = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key = (key["AccessKeyId"], key["SecretAccessKey"])
        if statements:
            self.put("base", *statements)

    def put(self, name: str, *statements: dict) -> None:
        self.iam.put_user_policy(UserName=self.name, PolicyName=name, PolicyDocument=policy(*statements))

    def client(self, service: str):
        return client_as(self.berth, service, *self.key)

    def aws(self, *args: str):
        return aws_as(self.berth, *self.key, *args)

    def denial(self, action: str, resource: str, why: str = "no-allow") -> str:
        reason = {
            "no-allow": f"because no identity-based policy allows the {action} action",
            "deny": "with an explicit deny in an identity-based policy",
        }[why]
        return f"User: {self.arn} is not authorized to perform: {action} on resource: {resource} {reason}"


def cluster_arn(berth, name: str) -> str:
    return f"arn:aws:ecs:{berth.region}:{berth.account_id}:cluster/{name}"


def test_describe_only_user_cannot_create_until_an_inline_allow(berth):
    user = User(berth, allow(["ecs:Describe*", "ecs:List*"]))
    ecs = user.client("ecs")
    assert "clusterArns" in ecs.list_clusters()
    assert ecs.describe_clusters(clusters=["default"])["failures"] is not None
    name = unique("denied")
    with raises_aws("AccessDeniedException", user.denial("ecs:CreateCluster", cluster_arn(berth, name))) as info:
        ecs.create_cluster(clusterName=name)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    cli = user.aws("ecs", "create-cluster", "--cluster-name", name)
    assert_cli_error(cli, "AccessDeniedException")
    assert user.denial("ecs:CreateCluster", cluster_arn(berth, name)) in cli.stderr
    assert name not in json.dumps(berth.client("ecs").describe_clusters(clusters=[name])["clusters"])

    user.put("create", allow("ecs:CreateCluster"))
    assert ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"] == cluster_arn(berth, name)
    user.iam.delete_user_policy(UserName=user.name, PolicyName="create")
    with raises_aws("AccessDeniedException"):
        ecs.create_cluster(clusterName=unique("again"))


def test_an_explicit_deny_on_one_cluster_wins_over_ecs_star(berth):
    secret, other = unique("secret"), unique("other")
    root = berth.client("ecs")
    root.create_cluster(clusterName=secret)
    root.create_cluster(clusterName=other)
    user = User(berth, allow("ecs:*"), deny("ecs:*", cluster_arn(berth, secret)))
    ecs = user.client("ecs")
    assert ecs.describe_clusters(clusters=[other])["clusters"][0]["clusterName"] == other
    with raises_aws("AccessDeniedException", user.denial("ecs:DescribeClusters", cluster_arn(berth, secret), "deny")):
        ecs.describe_clusters(clusters=[other, secret])
    with raises_aws("AccessDeniedException", user.denial("ecs:DeleteCluster", cluster_arn(berth, secret), "deny")):
        ecs.delete_cluster(cluster=secret)
    assert root.describe_clusters(clusters=[secret])["clusters"][0]["status"] == "ACTIVE"
    ecs.delete_cluster(cluster=other)


def test_a_request_tag_condition_is_honoured(berth):
    user = User(berth, allow("ecs:CreateCluster", Condition={"StringEquals": {"aws:RequestTag/team": "web"}}))
    ecs = user.client("ecs")
    with raises_aws("AccessDeniedException", "because no identity-based policy allows the ecs:CreateCluster action"):
        ecs.create_cluster(clusterName=unique("untagged"))
    with raises_aws("AccessDeniedException"):
        ecs.create_cluster(clusterName=unique("db"), tags=[{"key": "team", "value": "db"}])
    made = ecs.create_cluster(clusterName=unique("web"), tags=[{"key": "team", "value": "web"}])["cluster"]
    assert made["tags"] == [{"key": "team", "value": "web"}]


def test_a_resource_tag_condition_reads_the_clusters_tags(berth):
    dev, prod = unique("dev"), unique("prod")
    root = berth.client("ecs")
    root.create_cluster(clusterName=dev, tags=[{"key": "env", "value": "dev"}])
    root.create_cluster(clusterName=prod, tags=[{"key": "env", "value": "prod"}])
    user = User(berth, allow("ecs:DescribeClusters", Condition={"StringEquals": {"aws:ResourceTag/env": "dev"}}))
    ecs = user.client("ecs")
    assert ecs.describe_clusters(clusters=[dev])["clusters"][0]["clusterName"] == dev
    with raises_aws("AccessDeniedException", user.denial("ecs:DescribeClusters", cluster_arn(berth, prod))):
        ecs.describe_clusters(clusters=[prod])
    root.tag_resource(resourceArn=cluster_arn(berth, prod), tags=[{"key": "env", "value": "dev"}])
    assert ecs.describe_clusters(clusters=[prod])["clusters"][0]["clusterName"] == prod


def test_not_action_allows_everything_but_what_it_names(berth):
    user = User(berth, {"Effect": "Allow", "NotAction": ["ecs:DeleteCluster", "iam:*"], "Resource": "*"})
    ecs = user.client("ecs")
    name = unique("notaction")
    ecs.create_cluster(clusterName=name)
    with raises_aws("AccessDeniedException", user.denial("ecs:DeleteCluster", cluster_arn(berth, name))):
        ecs.delete_cluster(cluster=name)
    with raises_aws("AccessDenied"):
        user.client("iam").list_users()


def test_a_groups_policies_apply_to_its_members(berth):
    iam = berth.client("iam")
    group = unique("readers")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=policy(allow("ecs:List*")))
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")
    user = User(berth)
    ecs, logs = user.client("ecs"), user.client("logs")
    with raises_aws("AccessDeniedException"):
        ecs.list_clusters()
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    assert "clusterArns" in ecs.list_clusters()
    logs.create_log_group(logGroupName=f"/enforced/{user.name}")
    iam.remove_user_from_group(GroupName=group, UserName=user.name)
    with raises_aws("AccessDeniedException"):
        ecs.list_clusters()


def test_query_services_answer_access_denied(berth):
    user = User(berth, allow("ecs:*"))
    with raises_aws("AccessDenied", user.denial("elasticloadbalancing:DescribeLoadBalancers", "*")) as info:
        user.client("elbv2").describe_load_balancers()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with raises_aws("AccessDenied", user.denial("iam:ListUsers", "*")) as info:
        user.client("iam").list_users()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    victim = f"arn:aws:iam::{berth.account_id}:user/{user.name}"
    with raises_aws("AccessDenied", user.denial("iam:PutUserPolicy", victim)):
        user.client("iam").put_user_policy(UserName=user.name, PolicyName="escalate", PolicyDocument=policy(allow("*")))
    assert_cli_error(user.aws("elbv2", "describe-target-groups"), "AccessDenied")
    # Who am I needs no permission, as in AWS.
    assert json.loads(user.aws("sts", "get-caller-identity").stdout)["Arn"] == user.arn


def test_a_source_ip_condition_sees_the_peer_address(berth):
    user = User(berth, allow("ecs:ListClusters", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    with raises_aws("AccessDeniedException"):
        user.client("ecs").list_clusters()
    user.put("base", allow("ecs:ListClusters", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    assert "clusterArns" in user.client("ecs").list_clusters()


def test_policy_variables_name_the_caller(berth):
    user = User(berth, allow(["iam:GetUser", "iam:ListAccessKeys"], "arn:aws:iam::*:user/${aws:username}"))
    iam = user.client("iam")
    assert iam.get_user(UserName=user.name)["User"]["Arn"] == user.arn
    assert len(iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]) == 1
    with raises_aws("AccessDenied"):
        iam.get_user(UserName="someone-else")


def test_root_stays_all_powerful(berth):
    root = berth.client("ecs")
    name = unique("root")
    root.create_cluster(clusterName=name, tags=[{"key": "any", "value": "thing"}])
    root.delete_cluster(cluster=name)
    assert "Users" in berth.client("iam").list_users()
    assert "LoadBalancers" in berth.client("elbv2").describe_load_balancers()


@pytest.fixture
def docker_as(berth, tmp_path, base_image):
    made: list[Docker] = []

    def make(user: User | None) -> Docker:
        home = tmp_path / f"docker-{len(made)}"
        home.mkdir()
        d = Docker(berth, home)
        if user is not None:
            d.env = {**d.env, "AWS_ACCESS_KEY_ID": user.key[0], "AWS_SECRET_ACCESS_KEY": user.key[1]}
        made.append(d)
        return d

    yield make
    for d in made:
        d.cleanup()


def test_docker_pull_needs_ecr_permissions(berth, docker_as):
    repo = create_repo(berth)
    root = docker_as(None)
    root.login()
    ref = root.tag(root.build(unique("local").lower() + ":1"), f"{repo['repositoryUri']}:v1")
    digest = root.push(ref)
    root.rmi(ref)

    user = User(berth, allow("ecr:GetAuthorizationToken"))
    puller = docker_as(user)
    puller.login()
    puller.refs.add(ref)
    p = puller.run("pull", ref, check=False)
    assert p.returncode != 0
    repo_arn = f"arn:aws:ecr:{berth.region}:{berth.account_id}:repository/{repo['repositoryName']}"
    assert user.denial("ecr:BatchGetImage", repo_arn) in p.stderr, p.stderr

    user.iam.attach_user_policy(UserName=user.name, PolicyArn=READ_ONLY_ECR)
    puller.run("pull", ref)
    assert puller.repo_digest(ref) == digest
    # Read-only: a push of the same repository is refused.
    pushed = puller.run("push", puller.tag(ref, f"{repo['repositoryUri']}:pushed"), check=False)
    assert pushed.returncode != 0 and "ecr:" in pushed.stderr, pushed.stderr


def test_a_repository_policy_grants_a_pull(berth, docker_as):
    repo = create_repo(berth)
    root = docker_as(None)
    root.login()
    ref = root.tag(root.build(unique("local").lower() + ":1"), f"{repo['repositoryUri']}:v1")
    root.push(ref)
    root.rmi(ref)
    user = User(berth, allow("ecr:GetAuthorizationToken"))
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "pull",
                "Effect": "Allow",
                "Principal": {"AWS": user.arn},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
    berth.client("ecr").set_repository_policy(repositoryName=repo["repositoryName"], policyText=json.dumps(grant))
    puller = docker_as(user)
    puller.login()
    puller.refs.add(ref)
    puller.run("pull", ref)


def test_simulate_principal_policy_answers_as_enforcement_decides(berth):
    user = User(berth, allow("ecs:Describe*"), deny("ecs:DescribeClusters", cluster_arn(berth, "secret")))
    iam = berth.client("iam")
    results = iam.simulate_principal_policy(
        PolicySourceArn=user.arn,
        ActionNames=["ecs:DescribeServices", "ecs:CreateCluster", "ecs:DescribeClusters"],
        ResourceArns=[cluster_arn(berth, "secret")],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {
        "ecs:DescribeServices": "allowed",
        "ecs:CreateCluster": "implicitDeny",
        "ecs:DescribeClusters": "explicitDeny",
    }
    with raises_aws("NoSuchEntity"):
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{berth.account_id}:user/nobody", ActionNames=["ecs:*"])
    with raises_aws("AccessDenied"):
        user.client("iam").simulate_principal_policy(PolicySourceArn=user.arn, ActionNames=["ecs:ListClusters"])


def test_cli_users_see_awss_message(berth):
    user = User(berth)
    result = user.aws("ecs", "list-clusters")
    assert_cli_error(result, "AccessDeniedException")
    assert user.denial("ecs:ListClusters", "*") in result.stderr


def test_parameters_and_secrets_are_authorized_on_their_own_arns(berth):
    team, other = unique("team-a"), unique("team-b")
    root_ssm, root_sm = berth.client("ssm"), berth.client("secretsmanager")
    for path in (team, other):
        root_ssm.put_parameter(Name=f"/{path}/db", Value=f"{path}-value", Type="SecureString")
    mine = root_sm.create_secret(Name=f"{team}-creds", SecretString="pw")["ARN"]
    theirs = root_sm.create_secret(Name=f"{other}-creds", SecretString="pw")["ARN"]
    region, account = berth.region, berth.account_id
    user = User(
        berth,
        allow(["ssm:GetParameter", "ssm:GetParameters"], f"arn:aws:ssm:{region}:{account}:parameter/{team}/*"),
        allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{region}:{account}:secret:{team}-*"),
    )
    ssm, sm = user.client("ssm"), user.client("secretsmanager")
    assert ssm.get_parameter(Name=f"/{team}/db", WithDecryption=True)["Parameter"]["Value"] == f"{team}-value"
    assert ssm.get_parameter(Name=f"/{team}/db:1")["Parameter"]["Version"] == 1, "a selector names the parameter"
    denied = f"arn:aws:ssm:{region}:{account}:parameter/{other}/db"
    with raises_aws("AccessDeniedException", user.denial("ssm:GetParameter", denied)):
        ssm.get_parameter(Name=f"/{other}/db")
    with raises_aws("AccessDeniedException", user.denial("ssm:GetParameters", denied)):
        ssm.get_parameters(Names=[f"/{team}/db", f"/{other}/db"])
    assert sm.get_secret_value(SecretId=mine)["SecretString"] == "pw"
    with raises_aws("AccessDeniedException", user.denial("secretsmanager:GetSecretValue", theirs)):
        sm.get_secret_value(SecretId=theirs)
    with raises_aws("AccessDeniedException", user.denial("ssm:PutParameter", f"arn:aws:ssm:{region}:{account}:parameter/{team}/new")):
        ssm.put_parameter(Name=f"/{team}/new", Value="x", Type="String")
    assert root_ssm.get_parameters(Names=[f"/{team}/new"])["InvalidParameters"] == [f"/{team}/new"], "nothing was written"
