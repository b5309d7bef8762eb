"""ECS capacity providers over Auto Scaling groups, through the aws CLI (and boto3 for error codes): provider
CRUD and its errors, put-cluster-capacity-providers with a default strategy and ECS's managed scaling
attachment, and capacity provider strategies on run-task and create-service — tasks that have no capacity
wait in PROVISIONING (not a failure), shared out over providers by base and weight, and managed scaling
raises the group's desired capacity for them.

The groups here are made as seed 000 makes its own (launch template of the ECS GPU AMI, default subnets) but
with desired capacity 0, so nothing needs an instance to run unless a test asks managed scaling for one.
"""

from __future__ import annotations

import json
import time

import pytest

from berth_harness import assert_aws_error, assert_cli_error, container, raises_aws, register, unique

GPU_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id"


def wait_for(what, probe, timeout: float = 90.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def make_group(berth, *, max_size: int = 0, protected: bool = False, instance_type: str = "g4dn.xlarge") -> dict:
    """A launch template and an Auto Scaling group of it (min 0, desired 0) in the default subnets, made with
    boto3 (the aws CLI drives what the tests are about); returns its name and ARN."""
    ssm, ec2, autoscaling = berth.client("ssm"), berth.client("ec2"), berth.client("autoscaling")
    ami = ssm.get_parameters(Names=[GPU_AMI_PARAMETER])["Parameters"][0]["Value"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    name = unique("cp-asg")
    lt = ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": ami, "InstanceType": instance_type}
    )["LaunchTemplate"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"], "Version": "$Latest"},
        MinSize=0,
        DesiredCapacity=0,
        MaxSize=max_size,
        VPCZoneIdentifier=",".join(s["SubnetId"] for s in subnets),
        NewInstancesProtectedFromScaleIn=protected,
    )
    return {"name": name, "arn": describe_group(berth, name)["AutoScalingGroupARN"]}


def describe_group(berth, name: str) -> dict:
    return berth.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def delete_group(berth, name: str) -> None:
    berth.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def create_provider(berth, name: str, group_arn: str, scaling: dict | None = None, protection: str = "DISABLED"):
    return berth.client("ecs").create_capacity_provider(
        name=name,
        autoScalingGroupProvider={
            "autoScalingGroupArn": group_arn,
            "managedScaling": scaling or {"status": "DISABLED"},
            "managedTerminationProtection": protection,
        },
    )["capacityProvider"]


def describe_providers(berth, *names: str, include_tags: bool = False) -> dict:
    args = ["ecs", "describe-capacity-providers"]
    if names:
        args += ["--capacity-providers", *names]
    if include_tags:
        args += ["--include", "TAGS"]
    return berth.aws(*args)


@pytest.fixture
def group(berth):
    g = make_group(berth)
    yield g
    delete_group(berth, g["name"])


# ----- CreateCapacityProvider / Describe / Update / Delete -------------------------------------------


def test_provider_lifecycle_through_the_cli(berth, group):
    name = unique("cp")
    created = berth.aws(
        "ecs",
        "create-capacity-provider",
        "--name",
        name,
        "--auto-scaling-group-provider",
        f"autoScalingGroupArn={group['arn']},managedScaling={{status=ENABLED,targetCapacity=100,"
        "minimumScalingStepSize=1,maximumScalingStepSize=1},managedTerminationProtection=DISABLED",
        "--tags",
        "key=team,value=ml",
    )["capacityProvider"]
    assert created["name"] == name
    assert created["capacityProviderArn"] == f"{berth.arn_prefix}:capacity-provider/{name}"
    assert created["status"] == "ACTIVE"
    assert created["type"] == "EC2_AUTOSCALING"
    asg = created["autoScalingGroupProvider"]
    assert asg["autoScalingGroupArn"] == group["arn"]
    # What was given, and ECS's defaults for the rest.
    assert asg["managedScaling"] == {
        "status": "ENABLED",
        "targetCapacity": 100,
        "minimumScalingStepSize": 1,
        "maximumScalingStepSize": 1,
        "instanceWarmupPeriod": 300,
    }
    assert asg["managedTerminationProtection"] == "DISABLED"
    assert asg["managedDraining"] == "ENABLED"

    # Listed with Fargate's two; tags only when asked for; by name or ARN.
    listed = {p["name"]: p for p in describe_providers(berth)["capacityProviders"]}
    assert {"FARGATE", "FARGATE_SPOT", name} <= set(listed)
    assert "tags" not in listed[name]
    by_name = describe_providers(berth, name, include_tags=True)
    assert by_name["failures"] == []
    assert by_name["capacityProviders"][0]["tags"] == [{"key": "team", "value": "ml"}]
    assert describe_providers(berth, created["capacityProviderArn"])["capacityProviders"][0]["name"] == name
    missing = describe_providers(berth, "no-such-provider")
    assert missing["capacityProviders"] == []
    assert missing["failures"] == [
        {"arn": f"{berth.arn_prefix}:capacity-provider/no-such-provider", "reason": "MISSING"}
    ]

    updated = berth.aws(
        "ecs",
        "update-capacity-provider",
        "--name",
        name,
        "--auto-scaling-group-provider",
        "managedScaling={status=ENABLED,targetCapacity=80,instanceWarmupPeriod=60},managedDraining=DISABLED",
    )["capacityProvider"]
    assert updated["updateStatus"] == "UPDATE_COMPLETE"
    assert updated["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 80
    assert updated["autoScalingGroupProvider"]["managedScaling"]["instanceWarmupPeriod"] == 60
    assert updated["autoScalingGroupProvider"]["managedDraining"] == "DISABLED"

    deleted = berth.aws("ecs", "delete-capacity-provider", "--capacity-provider", name)["capacityProvider"]
    assert deleted["updateStatus"] == "DELETE_IN_PROGRESS"
    assert describe_providers(berth, name)["capacityProviders"][0]["status"] == "INACTIVE"
    assert name not in {p["name"] for p in describe_providers(berth)["capacityProviders"]}
    # Its group is free for a new provider again.
    again = create_provider(berth, unique("cp"), group["arn"])
    berth.aws("ecs", "delete-capacity-provider", "--capacity-provider", again["name"])


def test_describe_pages_through_providers(berth):
    ecs = berth.client("ecs")
    first = ecs.describe_capacity_providers(maxResults=1)
    assert len(first["capacityProviders"]) == 1 and first["nextToken"]
    seen = [first["capacityProviders"][0]["name"]]
    token = first["nextToken"]
    while token:
        page = ecs.describe_capacity_providers(maxResults=1, nextToken=token)
        seen += [p["name"] for p in page["capacityProviders"]]
        token = page.get("nextToken")
    assert {"FARGATE", "FARGATE_SPOT"} <= set(seen) and len(seen) == len(set(seen))
    assert_aws_error(berth.raw("DescribeCapacityProviders", {"maxResults": 11}), "InvalidParameterException")


def test_bad_providers_are_refused_and_nothing_is_created(berth, group):
    ecs = berth.client("ecs")

    def refused(code: str, name: str, message: str | None = None, **asg):
        # Raw requests: botocore itself refuses some of these out-of-range values before sending.
        provider = {"autoScalingGroupArn": group["arn"], **asg}
        resp = berth.raw("CreateCapacityProvider", {"name": name, "autoScalingGroupProvider": provider})
        assert_aws_error(resp, code, message=message)
        assert ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"] == []

    refused("ClientException", "ecs-mine", "cannot start with 'aws', 'ecs', or 'fargate'")
    refused("ClientException", "AWSmine")
    refused("ClientException", "fargate-2")
    refused("InvalidParameterException", "has space")
    refused("InvalidParameterException", unique("cp"), "targetCapacity", managedScaling={"targetCapacity": 0})
    refused("InvalidParameterException", unique("cp"), "targetCapacity", managedScaling={"targetCapacity": 101})
    refused("InvalidParameterException", unique("cp"), None, managedScaling={"maximumScalingStepSize": 10001})
    refused("InvalidParameterException", unique("cp"), None, managedScaling={"instanceWarmupPeriod": 10001})
    # Termination protection needs the group's scale-in protection (this group has none).
    refused(
        "ClientException",
        unique("cp"),
        "the Auto Scaling group must have instance protection from scale in enabled",
        managedScaling={"status": "ENABLED"},
        managedTerminationProtection="ENABLED",
    )
    # A group that does not exist.
    name = unique("cp")
    with raises_aws("ClientException"):
        ecs.create_capacity_provider(
            name=name, autoScalingGroupProvider={"autoScalingGroupArn": group["arn"].replace(group["name"], "nope")}
        )
    assert ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"] == []

    # The same name twice, and a group already used by another provider.
    taken = create_provider(berth, unique("cp"), group["arn"])
    with raises_aws("ClientException", "The specified capacity provider already exists."):
        ecs.create_capacity_provider(name=taken["name"], autoScalingGroupProvider={"autoScalingGroupArn": group["arn"]})
    with raises_aws("ClientException", "already being used by another capacity provider"):
        ecs.create_capacity_provider(name=unique("cp"), autoScalingGroupProvider={"autoScalingGroupArn": group["arn"]})
    # Fargate's cannot be deleted; an unknown one is an error; the CLI reports the code.
    assert_cli_error(berth.aws_run("ecs", "delete-capacity-provider", "--capacity-provider", "FARGATE"), "ClientException")
    assert_cli_error(berth.aws_run("ecs", "delete-capacity-provider", "--capacity-provider", unique("x")), "ClientException")
    resp = berth.raw(
        "UpdateCapacityProvider",
        {"name": taken["name"], "autoScalingGroupProvider": {"managedScaling": {"targetCapacity": 0}}},
    )
    assert_aws_error(resp, "InvalidParameterException", message="targetCapacity")
    berth.aws("ecs", "delete-capacity-provider", "--capacity-provider", taken["name"])


def test_termination_protection_needs_a_protected_group(berth):
    g = make_group(berth, protected=True)
    try:
        p = create_provider(berth, unique("cp"), g["arn"], scaling={"status": "ENABLED"}, protection="ENABLED")
        assert p["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
        # ...and managed scaling.
        with raises_aws("ClientException", "managed scaling must be enabled"):
            berth.client("ecs").update_capacity_provider(
                name=p["name"], autoScalingGroupProvider={"managedScaling": {"status": "DISABLED"}}
            )
        berth.aws("ecs", "delete-capacity-provider", "--capacity-provider", p["name"])
    finally:
        delete_group(berth, g["name"])


# ----- PutClusterCapacityProviders -----------------------------------------------------------------


def test_cluster_capacity_providers_and_the_managed_scaling_attachment(berth, group):
    cluster = unique("cp-cluster")
    berth.aws("ecs", "create-cluster", "--cluster-name", cluster)
    name = unique("cp")
    create_provider(berth, name, group["arn"], scaling={"status": "ENABLED", "targetCapacity": 100})
    # The seed's own call, verbatim in form.
    out = berth.aws(
        "ecs",
        "put-cluster-capacity-providers",
        "--cluster",
        cluster,
        "--capacity-providers",
        name,
        "--default-capacity-provider-strategy",
        f"capacityProvider={name},weight=1",
    )["cluster"]
    assert out["capacityProviders"] == [name]
    assert out["defaultCapacityProviderStrategy"] == [{"capacityProvider": name, "weight": 1, "base": 0}] or out[
        "defaultCapacityProviderStrategy"
    ] == [{"capacityProvider": name, "weight": 1}]
    shown = berth.aws("ecs", "describe-clusters", "--clusters", cluster, "--include", "ATTACHMENTS")["clusters"][0]
    assert shown["attachmentsStatus"] == "UPDATE_COMPLETE"
    [attachment] = shown["attachments"]
    assert attachment["type"] == "as_policy"
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["capacityProviderName"] == name
    assert details["scalingPolicyName"].startswith("ECSManagedAutoScalingPolicy-")
    # ECS's target tracking policy appears on the group.
    policy = wait_for(
        "ECS's scaling policy on the group",
        lambda: [
            p
            for p in berth.aws("autoscaling", "describe-policies", "--auto-scaling-group-name", group["name"])[
                "ScalingPolicies"
            ]
            if p["PolicyName"] == details["scalingPolicyName"]
        ],
    )[0]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    metric = policy["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]
    assert metric["MetricName"] == "CapacityProviderReservation"
    assert metric["Namespace"] == "AWS/ECS/ManagedScaling"
    assert policy["TargetTrackingConfiguration"]["TargetValue"] == 100.0

    ecs = berth.client("ecs")
    # In use by a cluster: it cannot be deleted, nor associated with a second cluster.
    with raises_aws("ClientException", "in use"):
        ecs.delete_capacity_provider(capacityProvider=name)
    other = unique("cp-cluster")
    berth.aws("ecs", "create-cluster", "--cluster-name", other)
    with raises_aws("ClientException", "already associated"):
        ecs.put_cluster_capacity_providers(cluster=other, capacityProviders=[name], defaultCapacityProviderStrategy=[])
    # Unknown providers, a strategy naming a provider the cluster lacks, two bases, all weights 0.
    for providers, strategy in [
        ([unique("nope")], []),
        ([name], [{"capacityProvider": "FARGATE", "weight": 1}]),
        ([name, "FARGATE"], [{"capacityProvider": name, "base": 1, "weight": 1}, {"capacityProvider": "FARGATE", "base": 1}]),
        ([name], [{"capacityProvider": name, "weight": 0}]),
    ]:
        with raises_aws("InvalidParameterException"):
            ecs.put_cluster_capacity_providers(
                cluster=cluster, capacityProviders=providers, defaultCapacityProviderStrategy=strategy
            )
    assert berth.aws("ecs", "describe-clusters", "--clusters", cluster)["clusters"][0]["capacityProviders"] == [name]

    # The seed's cleanup: detach, then delete.
    berth.aws(
        "ecs", "put-cluster-capacity-providers", "--cluster", cluster, "--capacity-providers", "[]",
        "--default-capacity-provider-strategy", "[]",
    )
    berth.aws("ecs", "delete-capacity-provider", "--capacity-provider", name)
    for c in (cluster, other):
        berth.aws("ecs", "delete-cluster", "--cluster", c)


# ----- strategies on RunTask / CreateService ---------------------------------------------------------


@pytest.fixture
def two_providers(berth):
    """A cluster with providers a and b (managed scaling off: their tasks just wait) on groups of their own."""
    cluster = unique("cp-tasks")
    groups = [make_group(berth), make_group(berth)]
    names = [unique("cpa"), unique("cpb")]
    for n, g in zip(names, groups, strict=True):
        create_provider(berth, n, g["arn"])
    berth.aws(
        "ecs", "create-cluster", "--cluster-name", cluster, "--capacity-providers", *names,
        "--default-capacity-provider-strategy", f"capacityProvider={names[0]},weight=1",
    )
    family = unique("cp-td")
    register(berth.client("ecs"), family, [container(cpu=256)])
    yield {"cluster": cluster, "providers": names, "family": family}
    ecs = berth.client("ecs")
    services = ecs.list_services(cluster=cluster)["serviceArns"]
    for s in services:
        ecs.delete_service(cluster=cluster, service=s, force=True)
    for t in ecs.list_tasks(cluster=cluster)["taskArns"]:
        ecs.stop_task(cluster=cluster, task=t)
    wait_for("the cluster's tasks to stop", lambda: not ecs.list_tasks(cluster=cluster)["taskArns"])
    if services:
        wait_for(
            "the services to be INACTIVE",
            lambda: all(s["status"] == "INACTIVE" for s in ecs.describe_services(cluster=cluster, services=services)["services"]),
        )
    ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[], defaultCapacityProviderStrategy=[])
    for n in names:
        ecs.delete_capacity_provider(capacityProvider=n)
    for g in groups:
        delete_group(berth, g["name"])

    def deleted():
        # A waiting task asked to stop is STOPPED by the next managed scaling pass (1 s).
        try:
            return ecs.delete_cluster(cluster=cluster)
        except ecs.exceptions.ClusterContainsTasksException:
            return None

    wait_for("the cluster to be deleted", deleted, timeout=30)


def test_run_task_without_capacity_waits_in_provisioning(berth, two_providers):
    c, (a, b), family = two_providers["cluster"], two_providers["providers"], two_providers["family"]
    # No launch type and no strategy: the cluster's default strategy (provider a).
    out = berth.aws("ecs", "run-task", "--cluster", c, "--task-definition", family, "--count", "2")
    assert out["failures"] == []
    assert len(out["tasks"]) == 2
    for t in out["tasks"]:
        assert t["lastStatus"] == "PROVISIONING" and t["desiredStatus"] == "RUNNING"
        assert t["capacityProviderName"] == a
        assert "containerInstanceArn" not in t
    # A strategy of its own, a weight 1 and b weight 3 with base 1: b gets the first (its base), then the
    # other four go a:b = 1:3 → a 1, b 3 + 1.
    out = berth.aws(
        "ecs", "run-task", "--cluster", c, "--task-definition", family, "--count", "5",
        "--capacity-provider-strategy", f"capacityProvider={a},weight=1", f"capacityProvider={b},weight=3,base=1",
    )
    got = sorted(t["capacityProviderName"] for t in out["tasks"])
    assert got == sorted([a] + [b] * 4), got
    described = berth.aws("ecs", "describe-tasks", "--cluster", c, "--tasks", out["tasks"][0]["taskArn"])["tasks"][0]
    assert described["lastStatus"] == "PROVISIONING"
    # Stopping a task that waits stops it at once (no agent has it).
    berth.aws("ecs", "stop-task", "--cluster", c, "--task", described["taskArn"])
    wait_for(
        "the waiting task to stop",
        lambda: berth.aws("ecs", "describe-tasks", "--cluster", c, "--tasks", described["taskArn"])["tasks"][0][
            "lastStatus"
        ]
        == "STOPPED",
    )
    ecs = berth.client("ecs")
    # Bad strategies: a provider the cluster does not have, both a launch type and a strategy, two bases.
    with raises_aws("InvalidParameterException", "not associated with the cluster"):
        ecs.run_task(cluster=c, taskDefinition=family, capacityProviderStrategy=[{"capacityProvider": unique("x"), "weight": 1}])
    with raises_aws("InvalidParameterException", "both a launch type and capacity provider strategy"):
        ecs.run_task(cluster=c, taskDefinition=family, launchType="EC2", capacityProviderStrategy=[{"capacityProvider": a, "weight": 1}])
    with raises_aws("InvalidParameterException", "Only one capacity provider in a strategy can have a base"):
        ecs.run_task(
            cluster=c, taskDefinition=family,
            capacityProviderStrategy=[{"capacityProvider": a, "base": 1, "weight": 1}, {"capacityProvider": b, "base": 1}],
        )
    # An explicit launch type bypasses the providers: with no instance at all, ECS's error.
    with raises_aws("InvalidParameterException", "No Container Instances were found in your cluster."):
        ecs.run_task(cluster=c, taskDefinition=family, launchType="EC2")


def test_a_service_with_a_strategy_keeps_it_and_its_tasks_wait(berth, two_providers):
    c, (a, b), family = two_providers["cluster"], two_providers["providers"], two_providers["family"]
    name = unique("cp-svc")
    svc = berth.aws(
        "ecs", "create-service", "--cluster", c, "--service-name", name, "--task-definition", family,
        "--desired-count", "4",
        "--capacity-provider-strategy", f"capacityProvider={a},weight=1", f"capacityProvider={b},weight=1",
    )["service"]
    strategy = [{"capacityProvider": a, "weight": 1, "base": 0}, {"capacityProvider": b, "weight": 1, "base": 0}]
    strip = lambda items: [{k: v for k, v in i.items() if k != "base" or v} for i in items]  # noqa: E731
    assert strip(svc["capacityProviderStrategy"]) == strip(strategy)
    assert "launchType" not in svc
    assert strip(svc["deployments"][0]["capacityProviderStrategy"]) == strip(strategy)
    ecs = berth.client("ecs")

    def waiting():
        arns = ecs.list_tasks(cluster=c, serviceName=name)["taskArns"]
        return ecs.describe_tasks(cluster=c, tasks=arns)["tasks"] if arns else []

    tasks = wait_for("the service's four tasks", lambda: (t := waiting()) and len(t) == 4 and t)
    assert sorted(t["capacityProviderName"] for t in tasks) == sorted([a, a, b, b])
    assert all(t["lastStatus"] == "PROVISIONING" for t in tasks)
    # The controller counts them as the service's: no duplicates are started meanwhile.
    time.sleep(3)
    assert len(waiting()) == 4
    # No strategy and no launch type: the cluster's default (a) is the service's strategy.
    dflt = berth.aws(
        "ecs", "create-service", "--cluster", c, "--service-name", unique("cp-svc"), "--task-definition", family,
        "--desired-count", "0",
    )["service"]
    assert [i["capacityProvider"] for i in dflt["capacityProviderStrategy"]] == [a]
    # A strategy naming a provider the cluster lacks is refused, on create and update.
    with raises_aws("InvalidParameterException", "not associated with the cluster"):
        ecs.create_service(
            cluster=c, serviceName=unique("bad"), taskDefinition=family, desiredCount=1,
            capacityProviderStrategy=[{"capacityProvider": unique("x"), "weight": 1}],
        )
    with raises_aws("InvalidParameterException", "not associated with the cluster"):
        ecs.update_service(
            cluster=c, service=name, capacityProviderStrategy=[{"capacityProvider": unique("x"), "weight": 1}]
        )
    # The cluster cannot drop a provider the service uses.
    with raises_aws("ResourceInUseException"):
        ecs.put_cluster_capacity_providers(cluster=c, capacityProviders=[a], defaultCapacityProviderStrategy=[])
    # Scaled to 0: the waiting tasks are stopped.
    berth.aws("ecs", "update-service", "--cluster", c, "--service", name, "--desired-count", "0")
    wait_for("the waiting tasks to stop", lambda: not ecs.list_tasks(cluster=c, serviceName=name)["taskArns"])


def test_managed_scaling_raises_the_desired_capacity_for_waiting_tasks(berth):
    """1 task of 3000 CPU on g4dn.xlarge (4096 CPU): M = 1, N = 0 → CapacityProviderReservation 200, desired 1."""
    g = make_group(berth, max_size=1)
    cluster, name = unique("cp-scale"), unique("cp")
    try:
        create_provider(berth, name, g["arn"], scaling={"status": "ENABLED", "targetCapacity": 100})
        berth.aws(
            "ecs", "create-cluster", "--cluster-name", cluster, "--capacity-providers", name,
            "--default-capacity-provider-strategy", f"capacityProvider={name},weight=1",
        )
        family = unique("cp-td")
        register(berth.client("ecs"), family, [container(cpu=3000, memory=1024)])
        task = berth.aws("ecs", "run-task", "--cluster", cluster, "--task-definition", family)["tasks"][0]
        assert task["lastStatus"] == "PROVISIONING"
        wait_for("the group's desired capacity to become 1", lambda: describe_group(berth, g["name"])["DesiredCapacity"] == 1)
        berth.aws("ecs", "stop-task", "--cluster", cluster, "--task", task["taskArn"])
    finally:
        ecs = berth.client("ecs")
        ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[], defaultCapacityProviderStrategy=[])
        ecs.delete_capacity_provider(capacityProvider=name)
        delete_group(berth, g["name"])
