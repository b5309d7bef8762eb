"""Auto Scaling through the real aws CLI and boto3 against the binary: seed 000's create-auto-scaling-group (lines
146-157 verbatim) from the seed's launch template (lines 124-143), instances spread over the group's zones as EC2
records, set-desired-capacity up and down (protected instances never go), terminate-instance-in-auto-scaling-group
with and without decrement, an instance EC2 terminated replaced, the activities' wording, tags, suspended
processes, hooks and policies, delete with and without --force-delete, and bad input answered with Auto Scaling's
codes with nothing created.

Without the fleet (another branch) EC2 instances stay `pending` and a terminated one stays `shutting-down`: the
group counts pending instances as capacity on its way (AWS's lifecycle `Pending`), and an instance it terminates
stays `Terminating` in the group until EC2 reports it `terminated`. What needs the fleet (InService, the
Terminating → gone step, a force-deleted group disappearing) is asserted only when EC2 gets there."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from berth_harness import assert_cli_error, aws_cli, raises_aws, unique

DEADLINE = 90  # seconds; generous on a loaded 2-core machine

# Seed 000 lines 124-143 (the launch template), verbatim but for the --query that makes LT_ID the id (as the
# seed's later `LaunchTemplateId=$LT_ID` needs).
SEED_LAUNCH_TEMPLATE = r'''
USERDATA=$(cat <<EOF
#!/bin/bash
echo ECS_CLUSTER=${DDN_ECS_CLUSTER} >> /etc/ecs/ecs.config
EOF
)

LT_ID=$(aws ec2 create-launch-template \
  --launch-template-name "$DDN_LAUNCH_TEMPLATE_NAME" \
  --launch-template-data "{
    \"ImageId\": \"$AMI_ID\",
    \"InstanceType\": \"$DDN_ECS_INSTANCE_TYPE\",
    \"IamInstanceProfile\": {\"Name\": \"ecsInstanceRole\"},
    \"SecurityGroupIds\": [\"$ECS_SG_ID\"],
    \"UserData\": \"$(echo -n "$USERDATA" | base64 -w0)\"
  }" --query LaunchTemplate.LaunchTemplateId --output text)
echo "$LT_ID"
'''

# Seed 000 lines 146-157, verbatim.
SEED_CREATE_GROUP = r'''
aws autoscaling create-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --launch-template "LaunchTemplateId=$LT_ID,Version=\$Latest" \
  --min-size "$DDN_MIN_CAPACITY" \
  --desired-capacity "$DDN_DESIRED_CAPACITY" \
  --max-size "$DDN_MAX_CAPACITY" \
  --vpc-zone-identifier "$DDN_SUBNET_IDS"
'''

# Seed 000's cleanup of the group (lines 406-413), verbatim.
SEED_DELETE_GROUP = r'''
aws autoscaling update-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --min-size 0 --desired-capacity 0

aws autoscaling delete-auto-scaling-group \
  --auto-scaling-group-name "$DDN_ASG_NAME" \
  --force-delete
'''


def sh(berth, script: str, **variables: str) -> str:
    """Runs seed shell lines with the venv's aws CLI first on PATH and VARIABLES set; returns stdout."""
    env = dict(berth.env)
    env.update(variables)
    env["PATH"] = f"{os.path.dirname(aws_cli())}:{env.get('PATH', '/usr/bin:/bin')}"
    result = subprocess.run(["bash", "-eu", "-c", script], env=env, capture_output=True, text=True, timeout=180,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def poll(what: str, fetch, done, timeout: float = DEADLINE):
    """FETCH() until DONE(value) holds; the last value, or an assertion naming WHAT and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}")
        time.sleep(0.5)


@pytest.fixture
def asg(berth):
    return berth.client("autoscaling")


@pytest.fixture
def ec2(berth):
    return berth.client("ec2")


def default_subnets(ec2) -> dict[str, str]:
    """The default VPC's subnets by zone."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return {s["AvailabilityZone"]: s["SubnetId"] for s in subnets}


def instance_profile(berth) -> None:
    """The seed's `ecsInstanceRole` profile (seed lines 20-60 create it): made once per server."""
    iam = berth.client("iam")
    if any(p["InstanceProfileName"] == "ecsInstanceRole" for p in iam.list_instance_profiles()["InstanceProfiles"]):
        return
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    try:
        iam.create_role(RoleName="ecsInstanceRole", AssumeRolePolicyDocument=trust)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    try:
        iam.create_instance_profile(InstanceProfileName="ecsInstanceRole")
        iam.add_role_to_instance_profile(InstanceProfileName="ecsInstanceRole", RoleName="ecsInstanceRole")
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def launch_template(berth, ec2, *, instance_type: str = "t3.micro") -> tuple[str, str]:
    """A launch template made by the seed's lines (its security group in the default VPC): (id, group id)."""
    instance_profile(berth)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName=unique("asg-sg"), Description="ECS GPU instances SG", VpcId=vpc)["GroupId"]
    ami = berth.aws("ssm", "get-parameters", "--names",
                    "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id")["Parameters"][0]["Value"]  # fmt: skip
    out = sh(berth, SEED_LAUNCH_TEMPLATE, DDN_ECS_CLUSTER="ddn-cluster", DDN_LAUNCH_TEMPLATE_NAME=unique("asg-lt"),
             AMI_ID=ami, DDN_ECS_INSTANCE_TYPE=instance_type, ECS_SG_ID=sg)  # fmt: skip
    return out.strip(), sg


def group(asg, name: str) -> dict:
    groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert len(groups) == 1, groups
    return groups[0]


def in_capacity(g: dict) -> list[dict]:
    return [i for i in g["Instances"] if i["LifecycleState"] in ("Pending", "InService")]


def wait_capacity(asg, name: str, n: int) -> dict:
    """The group once exactly N instances count toward its capacity (launching or in service)."""
    return poll(f"{name} to hold {n} instances", lambda: group(asg, name), lambda g: len(in_capacity(g)) == n)


def create(asg, name: str, lt_id: str, subnets: list[str], *, min_size=0, desired=2, max_size=4, **extra) -> dict:
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=min_size, MaxSize=max_size,
                                  DesiredCapacity=desired, VPCZoneIdentifier=",".join(subnets),
                                  LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "$Latest"},
                                  **extra)  # fmt: skip
    return wait_capacity(asg, name, desired)


def ec2_states(ec2, ids: list[str]) -> dict[str, str]:
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def test_seed_000_group_launches_two_instances_over_two_zones(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2, instance_type="g4dn.xlarge")
    zones = default_subnets(ec2)
    two = sorted(zones)[:2]
    name = unique("ddn-asg")
    sh(berth, SEED_CREATE_GROUP, DDN_ASG_NAME=name, LT_ID=lt_id, DDN_MIN_CAPACITY="1", DDN_DESIRED_CAPACITY="2",
       DDN_MAX_CAPACITY="3", DDN_SUBNET_IDS=",".join(zones[z] for z in two))  # fmt: skip

    g = wait_capacity(asg, name, 2)
    assert (g["MinSize"], g["DesiredCapacity"], g["MaxSize"]) == (1, 2, 3)
    assert g["AutoScalingGroupARN"].startswith(f"arn:aws:autoscaling:{berth.region}:")
    assert g["AutoScalingGroupARN"].endswith(f":autoScalingGroupName/{name}")
    assert sorted(g["AvailabilityZones"]) == two
    assert g["VPCZoneIdentifier"] == ",".join(zones[z] for z in two)
    assert g["LaunchTemplate"]["LaunchTemplateId"] == lt_id and g["LaunchTemplate"]["Version"] == "$Latest"
    assert (g["HealthCheckType"], g["DefaultCooldown"], g["TerminationPolicies"]) == ("EC2", 300, ["Default"])
    assert g["ServiceLinkedRoleARN"].endswith(":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    # One instance per zone, each a real EC2 instance in the group's subnet, tagged with the group.
    assert sorted(i["AvailabilityZone"] for i in g["Instances"]) == two
    ids = [i["InstanceId"] for i in g["Instances"]]
    described = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    records = {i["InstanceId"]: i for r in described for i in r["Instances"]}
    for inst in g["Instances"]:
        rec = records[inst["InstanceId"]]
        assert rec["Placement"]["AvailabilityZone"] == inst["AvailabilityZone"]
        assert rec["SubnetId"] == zones[inst["AvailabilityZone"]]
        assert rec["InstanceType"] == "g4dn.xlarge" and inst["InstanceType"] == "g4dn.xlarge"
        assert {"Key": "aws:autoscaling:groupName", "Value": name} in rec["Tags"]
        assert rec["State"]["Name"] in ("pending", "running")
        assert inst["HealthStatus"] == "Healthy" and inst["ProtectedFromScaleIn"] is False
    # The seed's cleanup finds them by the group tag.
    tagged = berth.aws("ec2", "describe-instances", "--filters", f"Name=tag:aws:autoscaling:groupName,Values={name}",
                       "--query", "Reservations[].Instances[].InstanceId")  # fmt: skip
    assert sorted(tagged) == sorted(ids)

    details = berth.aws("autoscaling", "describe-auto-scaling-instances", "--instance-ids", *ids)["AutoScalingInstances"]
    assert {d["AutoScalingGroupName"] for d in details} == {name} and {d["HealthStatus"] for d in details} == {"HEALTHY"}

    activities = berth.aws("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", name)["Activities"]
    launches = [a for a in activities if a["Description"].startswith("Launching a new EC2 instance: i-")]
    assert sorted(a["Description"].rsplit(" ", 1)[1] for a in launches) == sorted(ids)
    for a in launches:
        assert "a user request created an AutoScalingGroup changing the desired capacity from 0 to 2." in a["Cause"]
        assert "an instance was started in response to a difference between desired and actual capacity, " \
               "increasing the capacity from 0 to 2." in a["Cause"]  # fmt: skip
        assert a["StatusCode"] in ("InProgress", "Successful") and a["AutoScalingGroupName"] == name

    sh(berth, SEED_DELETE_GROUP, DDN_ASG_NAME=name)
    poll("the seed's cleanup to terminate the group's instances in EC2", lambda: ec2_states(ec2, ids),
         lambda s: set(s.values()) <= {"shutting-down", "terminated"})  # fmt: skip


def test_set_desired_capacity_balances_zones_and_never_takes_a_protected_instance(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    two = sorted(zones)[:2]
    name = unique("asg-desired")
    create(asg, name, lt_id, [zones[z] for z in two], desired=1)
    berth.aws("autoscaling", "set-desired-capacity", "--auto-scaling-group-name", name, "--desired-capacity", "3")
    g = wait_capacity(asg, name, 3)
    per_zone = sorted([sum(1 for i in g["Instances"] if i["AvailabilityZone"] == z) for z in two])
    assert per_zone == [1, 2], g["Instances"]

    # Protect one instance of the fuller zone; scaling in to 1 must keep exactly that one.
    fuller = max(two, key=lambda z: sum(1 for i in g["Instances"] if i["AvailabilityZone"] == z))
    keep = next(i["InstanceId"] for i in g["Instances"] if i["AvailabilityZone"] == fuller)
    berth.aws("autoscaling", "set-instance-protection", "--auto-scaling-group-name", name, "--instance-ids", keep,
              "--protected-from-scale-in")  # fmt: skip
    # The two others go (a host runs them, so they may leave the group before it is read again).
    gone = [i["InstanceId"] for i in in_capacity(g) if i["InstanceId"] != keep]
    berth.aws("autoscaling", "set-desired-capacity", "--auto-scaling-group-name", name, "--desired-capacity", "1")
    g = wait_capacity(asg, name, 1)
    assert [i["InstanceId"] for i in in_capacity(g)] == [keep]
    assert in_capacity(g)[0]["ProtectedFromScaleIn"] is True
    poll("EC2 to terminate the scaled-in instances", lambda: ec2_states(ec2, gone),
         lambda s: len(s) == 2 and set(s.values()) <= {"shutting-down", "terminated"})  # fmt: skip
    terminations = [a for a in asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
                    if a["Description"].startswith("Terminating EC2 instance: ")]  # fmt: skip
    assert sorted(a["Description"].rsplit(" ", 1)[1] for a in terminations) == sorted(gone)
    for a in terminations:
        assert "a user request explicitly set group desired capacity changing the desired capacity from 3 to 1." in a["Cause"]
        assert "shrinking the capacity from 3 to 1." in a["Cause"] and "was selected for termination." in a["Cause"]

    # Out of bounds, and with HonorCooldown inside the cooldown of the last activity.
    with raises_aws("ValidationError", "New SetDesiredCapacity value 5 is above max value 4"):
        asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=5)
    asg.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, DesiredCapacity=0)
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def test_terminate_instance_in_group_with_and_without_decrement(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    name = unique("asg-terminate")
    g = create(asg, name, lt_id, list(zones.values()), min_size=1, desired=3)
    first, second = sorted(i["InstanceId"] for i in g["Instances"])[:2]

    out = berth.aws("autoscaling", "terminate-instance-in-auto-scaling-group", "--instance-id", first,
                    "--should-decrement-desired-capacity")  # fmt: skip
    activity = out["Activity"]
    assert activity["Description"] == f"Terminating EC2 instance: {first}"
    assert f"instance {first} was taken out of service in response to a user request, shrinking the capacity " \
           "from 3 to 2." in activity["Cause"]  # fmt: skip
    g = wait_capacity(asg, name, 2)
    assert g["DesiredCapacity"] == 2 and first not in [i["InstanceId"] for i in in_capacity(g)]

    out = berth.aws("autoscaling", "terminate-instance-in-auto-scaling-group", "--instance-id", second,
                    "--no-should-decrement-desired-capacity")  # fmt: skip
    assert f"instance {second} was taken out of service in response to a user request." in out["Activity"]["Cause"]
    g = poll("a replacement for the terminated instance", lambda: group(asg, name),
             lambda g: len(in_capacity(g)) == 2 and second not in [i["InstanceId"] for i in in_capacity(g)])  # fmt: skip
    assert g["DesiredCapacity"] == 2
    poll("EC2 to terminate both", lambda: ec2_states(ec2, [first, second]),
         lambda s: set(s.values()) <= {"shutting-down", "terminated"})  # fmt: skip

    # At the minimum, decrementing is refused; an instance of no group is unknown.
    asg.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=2)
    survivor = in_capacity(group(asg, name))[0]["InstanceId"]
    with raises_aws("ValidationError", "minimum size"):
        asg.terminate_instance_in_auto_scaling_group(InstanceId=survivor, ShouldDecrementDesiredCapacity=True)
    with raises_aws("ValidationError", "i-0123456789abcdef0"):
        asg.terminate_instance_in_auto_scaling_group(InstanceId="i-0123456789abcdef0",
                                                     ShouldDecrementDesiredCapacity=False)  # fmt: skip
    assert len(in_capacity(group(asg, name))) == 2, "a refusal changes nothing"
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def test_an_instance_terminated_in_ec2_is_replaced(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    name = unique("asg-replace")
    g = create(asg, name, lt_id, list(zones.values()), desired=2)
    victim = g["Instances"][0]
    original = [i["InstanceId"] for i in g["Instances"]]
    ec2.terminate_instances(InstanceIds=[victim["InstanceId"]])
    g = poll("the group to replace an instance EC2 terminated", lambda: group(asg, name),
             lambda g: len(in_capacity(g)) == 2 and victim["InstanceId"] not in [i["InstanceId"] for i in in_capacity(g)])  # fmt: skip
    # Zones stay balanced: the two in service are in two zones.
    assert len({i["AvailabilityZone"] for i in in_capacity(g)}) == 2
    activities = asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    taken_out = [a for a in activities if a["Description"] == f"Terminating EC2 instance: {victim['InstanceId']}"]
    assert len(taken_out) == 1
    assert "an EC2 health check indicating it has been terminated or stopped" in taken_out[0]["Cause"]
    replacement = next(i["InstanceId"] for i in in_capacity(g) if i["InstanceId"] not in original)
    relaunch = next(a for a in activities if a["Description"] == f"Launching a new EC2 instance: {replacement}")
    assert "increasing the capacity from 1 to 2." in relaunch["Cause"]
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def test_delete_without_and_with_force(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    name = unique("asg-delete")
    g = create(asg, name, lt_id, list(zones.values()), desired=2)
    ids = [i["InstanceId"] for i in g["Instances"]]
    result = berth.aws_run("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", name)
    assert_cli_error(result, "ResourceInUse")
    assert "while there are instances" in result.stderr
    assert group(asg, name)["DesiredCapacity"] == 2, "refused: nothing changed"

    berth.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", name, "--force-delete")
    poll("EC2 to terminate the force-deleted group's instances", lambda: ec2_states(ec2, ids),
         lambda s: set(s.values()) <= {"shutting-down", "terminated"})  # fmt: skip
    groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if groups:
        # EC2 has not finished terminating (no fleet on this branch): the group says so and refuses changes.
        assert groups[0]["Status"] == "Delete in progress" and groups[0]["DesiredCapacity"] == 0
        with raises_aws("ScalingActivityInProgress"):
            asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    if set(ec2_states(ec2, ids).values()) == {"terminated"}:
        poll("the group to go once its instances are terminated",
             lambda: asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"],
             lambda gs: gs == [])  # fmt: skip

    # A group without instances goes at once, without --force-delete.
    empty = unique("asg-empty")
    create(asg, empty, lt_id, list(zones.values()), desired=0)
    berth.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", empty)
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[empty])["AutoScalingGroups"] == []
    with raises_aws("ValidationError", "AutoScalingGroup name not found"):
        asg.delete_auto_scaling_group(AutoScalingGroupName=empty)


def test_tags_processes_hooks_and_policies(berth, asg, ec2):
    lt_id, _ = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    name = unique("asg-extras")
    create(asg, name, lt_id, list(zones.values()), desired=0,
           Tags=[{"Key": "team", "Value": "ml", "PropagateAtLaunch": True}, {"Key": "cost", "Value": "1"}])  # fmt: skip
    asg.create_or_update_tags(Tags=[{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "cost",
                                     "Value": "2", "PropagateAtLaunch": False}])  # fmt: skip
    tags = asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": [name]}])["Tags"]
    assert {(t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in tags} == {("cost", "2", False), ("team", "ml", True)}
    found = asg.describe_auto_scaling_groups(Filters=[{"Name": "tag:team", "Values": ["ml"]}])["AutoScalingGroups"]
    assert name in [g["AutoScalingGroupName"] for g in found]

    # Launch suspended: a higher desired capacity launches nothing until it is resumed.
    asg.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=["Launch"])
    assert [p["ProcessName"] for p in group(asg, name)["SuspendedProcesses"]] == ["Launch"]
    asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    time.sleep(3)
    assert in_capacity(group(asg, name)) == []
    asg.resume_processes(AutoScalingGroupName=name, ScalingProcesses=["Launch"])
    g = wait_capacity(asg, name, 1)
    launched = g["Instances"][0]["InstanceId"]
    rec = ec2.describe_instances(InstanceIds=[launched])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in rec["Tags"]}
    assert tags.get("team") == "ml" and "cost" not in tags, "only PropagateAtLaunch tags reach the instance"

    asg.put_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="drain",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout=60)  # fmt: skip
    hook = asg.describe_lifecycle_hooks(AutoScalingGroupName=name)["LifecycleHooks"][0]
    assert (hook["LifecycleHookName"], hook["HeartbeatTimeout"], hook["DefaultResult"]) == ("drain", 60, "ABANDON")
    asg.complete_lifecycle_action(AutoScalingGroupName=name, LifecycleHookName="drain", InstanceId=launched,
                                  LifecycleActionResult="CONTINUE")  # fmt: skip
    with raises_aws("ValidationError"):
        asg.put_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="bad", LifecycleTransition="nope")
    asg.delete_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="drain")
    assert asg.describe_lifecycle_hooks(AutoScalingGroupName=name)["LifecycleHooks"] == []

    arn = asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="cpu", PolicyType="TargetTrackingScaling",
                                 TargetTrackingConfiguration={"TargetValue": 50.0, "PredefinedMetricSpecification": {
                                     "PredefinedMetricType": "ASGAverageCPUUtilization"}})["PolicyARN"]  # fmt: skip
    assert ":scalingPolicy:" in arn and arn.endswith(f":autoScalingGroupName/{name}:policyName/cpu")
    policies = asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"]
    assert [(p["PolicyName"], p["PolicyType"], p["TargetTrackingConfiguration"]["TargetValue"]) for p in policies] == [
        ("cpu", "TargetTrackingScaling", 50.0)]  # fmt: skip
    asg.delete_policy(AutoScalingGroupName=name, PolicyName="cpu")
    assert asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"] == []

    assert "Launch" in [p["ProcessName"] for p in asg.describe_scaling_process_types()["Processes"]]
    assert "OldestInstance" in asg.describe_termination_policy_types()["TerminationPolicyTypes"]
    assert asg.describe_account_limits()["MaxNumberOfAutoScalingGroups"] >= 1
    assert asg.describe_launch_configurations()["LaunchConfigurations"] == []
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)


def test_bad_input_gets_auto_scaling_codes_and_creates_nothing(berth, asg, ec2):
    lt_id, sg = launch_template(berth, ec2)
    zones = default_subnets(ec2)
    subnets = ",".join(zones.values())
    name = unique("asg-bad")

    def create_cli(*extra: str, group_name: str = name):
        return berth.aws_run("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", group_name,
                             "--launch-template", f"LaunchTemplateId={lt_id},Version=$Latest",
                             "--vpc-zone-identifier", subnets, *extra)  # fmt: skip

    def nothing_created():
        assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"] == []

    result = create_cli("--min-size", "5", "--max-size", "1")
    assert_cli_error(result, "ValidationError")
    assert "Max bound, 1, must be greater than or equal to min bound, 5" in result.stderr
    nothing_created()
    result = create_cli("--min-size", "1", "--max-size", "2", "--desired-capacity", "3")
    assert "Desired capacity:3 must be between the specified min size:1 and max size:2" in result.stderr
    nothing_created()

    result = berth.aws_run("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", name,
                           "--launch-template", "LaunchTemplateId=lt-0123456789abcdef0", "--min-size", "0",
                           "--max-size", "1", "--vpc-zone-identifier", subnets)  # fmt: skip
    assert_cli_error(result, "ValidationError")
    assert "You must use a valid fully-formed launch template." in result.stderr and "lt-0123456789abcdef0" in result.stderr
    with raises_aws("ValidationError", "with template name nope-lt, does not exist"):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1, VPCZoneIdentifier=subnets,
                                      LaunchTemplate={"LaunchTemplateName": "nope-lt"})  # fmt: skip
    with raises_aws("ValidationError", "Valid requests must contain either LaunchTemplate"):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1, VPCZoneIdentifier=subnets)
    with raises_aws("ValidationError", "The subnet ID 'subnet-0123456789abcdef0' does not exist"):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1,
                                      VPCZoneIdentifier="subnet-0123456789abcdef0",
                                      LaunchTemplate={"LaunchTemplateId": lt_id})  # fmt: skip
    nothing_created()

    # A subnet of another VPC than the template's security group; subnets of two VPCs.
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24", AvailabilityZone=sorted(zones)[0])["Subnet"]["SubnetId"]
    with raises_aws("ValidationError", f"Security group {sg} and subnet {other} belong to different networks"):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1, VPCZoneIdentifier=other,
                                      LaunchTemplate={"LaunchTemplateId": lt_id})  # fmt: skip
    with raises_aws("ValidationError", "different VPCs"):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1,
                                      VPCZoneIdentifier=f"{next(iter(zones.values()))},{other}",
                                      LaunchTemplate={"LaunchTemplateId": lt_id})  # fmt: skip
    nothing_created()

    # A duplicate name; an unknown group.
    assert create_cli("--min-size", "0", "--max-size", "1").returncode == 0
    result = create_cli("--min-size", "0", "--max-size", "1")
    assert_cli_error(result, "AlreadyExists")
    assert f"A group with the name {name} already exists" in result.stderr
    assert len(asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]) == 1
    for call in (lambda: asg.set_desired_capacity(AutoScalingGroupName="nope-asg", DesiredCapacity=1),
                 lambda: asg.update_auto_scaling_group(AutoScalingGroupName="nope-asg", MaxSize=3)):  # fmt: skip
        with raises_aws("ValidationError", "AutoScalingGroup name not found"):
            call()
    with raises_aws("ValidationError", "Max bound"):
        asg.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=3, MaxSize=2)
    assert group(asg, name)["MaxSize"] == 1, "a refused update changes nothing"
    with raises_aws("ValidationError"):
        asg.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=["Nope"])
    with raises_aws("ValidationError"):
        asg.create_auto_scaling_group(AutoScalingGroupName=unique("asg-bad"), MinSize=0, MaxSize=1,
                                      VPCZoneIdentifier=subnets, LaunchTemplate={"LaunchTemplateId": lt_id},
                                      TerminationPolicies=["Newest"])  # fmt: skip
    asg.delete_auto_scaling_group(AutoScalingGroupName=name)
