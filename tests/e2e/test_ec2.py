"""EC2 through the real aws CLI and boto3: seed 000's security group and launch template steps verbatim, the
default VPC, security group rules, launch template versions, key pairs, tags, the instance type catalog,
RunInstances → DescribeInstances (pending, then running) → TerminateInstances (shutting-down), and bad input answered with
EC2's error codes with nothing created. Instances stay pending without the fleet; nothing here waits for them
to run."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from berth_harness import assert_cli_error, aws_cli, raises_aws, unique

ED25519_PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGl2qj3sDqJqf0mmuYBUqyiYx9V0DmRUCJH3Ocm3Q8QI berth@test"
AMI = "ami-0a3c14e1ddbe7f23c"

# Seed 000 lines 104-145 (the SSM lookup, the ECS security group, the launch template), verbatim after the
# variables the seed's .env sets.
SEED_LAUNCH_TEMPLATE = r'''
AMI_ID=$(aws ssm get-parameters \
  --names /aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id \
  --query 'Parameters[0].Value' --output text)
ECS_SG_ID=$(aws ec2 create-security-group \
  --vpc-id "$DDN_VPC_ID" \
  --group-name "$DDN_ECS_SG_NAME" \
  --description "ECS GPU instances SG" \
  --query 'GroupId' --output text 2>/dev/null || true)
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
echo "$AMI_ID $ECS_SG_ID $LT_ID"
'''

# Seed 000 lines 185-212: the ALB security group and the rules, verbatim (the group id taken as the first
# field of the text output the seed's environment printed).
SEED_RULES = r'''
ALB_SG_ID=$(aws ec2 create-security-group \
  --vpc-id "$DDN_VPC_ID" \
  --group-name "$DDN_ALB_SG_NAME" \
  --description "ALB SG" --output text | cut -f1)

aws ec2 authorize-security-group-ingress --group-id "$ALB_SG_ID" \
  --ip-permissions "IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}]"

# Flask 포트만 ALB SG에서 허용
aws ec2 authorize-security-group-ingress --group-id "$ECS_SG_ID" \
  --ip-permissions "IpProtocol=tcp,FromPort=$DDN_FLASK_PORT,ToPort=$DDN_FLASK_PORT,UserIdGroupPairs=[{GroupId=$ALB_SG_ID}]"

# Triton 포트는 ECS SG 내부 통신만 허용
for P in "$DDN_TRITON_HTTP_PORT" "$DDN_TRITON_GRPC_PORT"; do
  aws ec2 authorize-security-group-ingress --group-id "$ECS_SG_ID" \
    --ip-permissions "IpProtocol=tcp,FromPort=$P,ToPort=$P,UserIdGroupPairs=[{GroupId=$ECS_SG_ID}]"
done
echo "ALB=$ALB_SG_ID"
'''


def tags_dict(tags: list[dict] | None) -> dict[str, str]:
    """EC2's tags (`Key`/`Value`) as a dict."""
    return {t["Key"]: t["Value"] for t in tags or []}


@pytest.fixture
def ec2(berth):
    return berth.client("ec2")


def sh(berth, script: str, **variables: str) -> str:
    """Runs seed shell lines with the venv's aws CLI first on PATH and VARIABLES set; returns stdout."""
    env = dict(berth.env)
    env.update(variables)
    env["PATH"] = f"{os.path.dirname(aws_cli())}:{env.get('PATH', '/usr/bin:/bin')}"
    result = subprocess.run(["bash", "-eu", "-c", script], env=env, capture_output=True, text=True, timeout=180,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def default_vpc(berth) -> str:
    vpcs = berth.aws("ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true")["Vpcs"]
    assert len(vpcs) == 1
    return vpcs[0]["VpcId"]


def test_the_default_vpc_has_a_subnet_per_zone(berth):
    vpc_id = default_vpc(berth)
    vpc = berth.aws("ec2", "describe-vpcs", "--vpc-ids", vpc_id)["Vpcs"][0]
    assert (vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]) == ("172.31.0.0/16", True, "available")
    subnets = berth.aws("ec2", "describe-subnets", "--filters", f"Name=vpc-id,Values={vpc_id}",
                        "Name=default-for-az,Values=true")["Subnets"]  # fmt: skip
    assert sorted(s["AvailabilityZone"] for s in subnets) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(s["CidrBlock"].endswith("/20") and 0 < s["AvailableIpAddressCount"] <= 4091 for s in subnets)
    zones = berth.aws("ec2", "describe-availability-zones")["AvailabilityZones"]
    assert (zones[0]["ZoneName"], zones[0]["ZoneId"], zones[0]["State"]) == ("us-east-1a", "use1-az1", "available")
    assert [r["RegionName"] for r in berth.aws("ec2", "describe-regions")["Regions"]] == ["us-east-1"]
    default_group = berth.aws("ec2", "describe-security-groups", "--filters", f"Name=vpc-id,Values={vpc_id}",
                              "Name=group-name,Values=default")["SecurityGroups"]  # fmt: skip
    assert len(default_group) == 1


def test_seed_000_security_groups_and_launch_template_verbatim(berth):
    vpc_id = default_vpc(berth)
    ecs_sg, alb_sg, lt_name = unique("ecs-gpu-sg"), unique("alb-sg"), unique("ecs-gpu-lt")
    out = sh(berth, SEED_LAUNCH_TEMPLATE, DDN_VPC_ID=vpc_id, DDN_ECS_SG_NAME=ecs_sg, DDN_ECS_CLUSTER="ddn-cluster",
             DDN_LAUNCH_TEMPLATE_NAME=lt_name, DDN_ECS_INSTANCE_TYPE="g4dn.xlarge")  # fmt: skip
    ami_id, ecs_sg_id, lt_id = out.split()
    assert ami_id.startswith("ami-") and ecs_sg_id.startswith("sg-") and lt_id.startswith("lt-")
    image = berth.aws("ec2", "describe-images", "--image-ids", ami_id)["Images"][0]
    assert "gpu" in image["Name"] and image["State"] == "available"

    version = berth.aws("ec2", "describe-launch-template-versions", "--launch-template-id", lt_id,
                        "--versions", "$Latest")["LaunchTemplateVersions"][0]  # fmt: skip
    data = version["LaunchTemplateData"]
    assert (version["VersionNumber"], version["DefaultVersion"], version["LaunchTemplateName"]) == (1, True, lt_name)
    assert (data["ImageId"], data["InstanceType"]) == (ami_id, "g4dn.xlarge")
    assert data["IamInstanceProfile"] == {"Name": "ecsInstanceRole"}
    assert data["SecurityGroupIds"] == [ecs_sg_id]
    user_data = base64.b64decode(data["UserData"]).decode()
    assert user_data == "#!/bin/bash\necho ECS_CLUSTER=ddn-cluster >> /etc/ecs/ecs.config"

    out = sh(berth, SEED_RULES, DDN_VPC_ID=vpc_id, DDN_ALB_SG_NAME=alb_sg, ECS_SG_ID=ecs_sg_id,
             DDN_FLASK_PORT="50101", DDN_TRITON_HTTP_PORT="50201", DDN_TRITON_GRPC_PORT="58202")  # fmt: skip
    alb_sg_id = out.strip().splitlines()[-1].removeprefix("ALB=")
    groups = berth.aws("ec2", "describe-security-groups", "--group-ids", alb_sg_id, ecs_sg_id)["SecurityGroups"]
    by_id = {g["GroupId"]: g for g in groups}
    alb = by_id[alb_sg_id]
    assert (alb["GroupName"], alb["VpcId"], alb["Description"]) == (alb_sg, vpc_id, "ALB SG")
    assert alb["IpPermissions"] == [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                     "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
                                     "UserIdGroupPairs": []}]  # fmt: skip
    assert alb["IpPermissionsEgress"][0]["IpProtocol"] == "-1"
    ecs_rules = {(p["FromPort"], pair["GroupId"]) for p in by_id[ecs_sg_id]["IpPermissions"]
                 for pair in p["UserIdGroupPairs"]}  # fmt: skip
    assert ecs_rules == {(50101, alb_sg_id), (50201, ecs_sg_id), (58202, ecs_sg_id)}
    rules = berth.aws("ec2", "describe-security-group-rules", "--filters", f"Name=group-id,Values={ecs_sg_id}")
    assert len([r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]) == 3


def test_rule_shorthand_duplicates_and_revocation(berth, ec2):
    vpc_id = default_vpc(berth)
    gid = ec2.create_security_group(GroupName=unique("web"), Description="web", VpcId=vpc_id)["GroupId"]
    shorthand = ["ec2", "authorize-security-group-ingress", "--group-id", gid, "--protocol", "tcp", "--port", "443",
                 "--cidr", "10.0.0.0/8"]  # fmt: skip
    berth.aws(*shorthand)
    assert_cli_error(berth.aws_run(*shorthand), "InvalidPermission.Duplicate")
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "dns"}]}])  # fmt: skip
    perms = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    assert {(p["IpProtocol"], p["FromPort"]) for p in perms} == {("tcp", 443), ("udp", 53)}
    with raises_aws("InvalidPermission.NotFound"):
        ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.0.0.0/8")
    perms = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    assert [p["IpProtocol"] for p in perms] == ["udp"]
    with raises_aws("InvalidParameterValue"):
        ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=80, ToPort=70000,
                                             CidrIp="0.0.0.0/0")  # fmt: skip
    ec2.delete_security_group(GroupId=gid)
    with raises_aws("InvalidGroup.NotFound"):
        ec2.describe_security_groups(GroupIds=[gid])


def test_launch_template_versions_and_defaults(ec2):
    name = unique("lt")
    created = ec2.create_launch_template(LaunchTemplateName=name, VersionDescription="first",
                                         LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})  # fmt: skip
    lt_id = created["LaunchTemplate"]["LaunchTemplateId"]
    assert created["LaunchTemplate"]["LatestVersionNumber"] == 1
    v2 = ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                            LaunchTemplateData={"InstanceType": "m5.large"})["LaunchTemplateVersion"]  # fmt: skip
    assert (v2["VersionNumber"], v2["DefaultVersion"]) == (2, False)
    assert v2["LaunchTemplateData"] == {"ImageId": AMI, "InstanceType": "m5.large"}
    versions = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=["$Default", "$Latest"])
    assert [v["VersionNumber"] for v in versions["LaunchTemplateVersions"]] == [1, 2]
    modified = ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="2")["LaunchTemplate"]
    assert modified["DefaultVersionNumber"] == 2
    with raises_aws("InvalidLaunchTemplateId.VersionNotFound"):
        ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="9")
    with raises_aws("InvalidLaunchTemplateName.AlreadyExistsException"):
        ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"InstanceType": "t3.micro"})
    listed = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    assert [t["LaunchTemplateId"] for t in listed] == [lt_id]
    ec2.delete_launch_template(LaunchTemplateId=lt_id)
    with raises_aws("InvalidLaunchTemplateName.NotFoundException"):
        ec2.describe_launch_templates(LaunchTemplateNames=[name])


def test_key_pairs_import_describe_delete(berth, tmp_path):
    name = unique("key")
    pub = tmp_path / "id.pub"
    pub.write_text(ED25519_PUB + "\n")
    imported = berth.aws("ec2", "import-key-pair", "--key-name", name, "--public-key-material", f"fileb://{pub}")
    assert imported["KeyName"] == name and imported["KeyPairId"].startswith("key-")
    dup = berth.aws_run("ec2", "import-key-pair", "--key-name", name, "--public-key-material", f"fileb://{pub}")
    assert_cli_error(dup, "InvalidKeyPair.Duplicate")
    described = berth.aws("ec2", "describe-key-pairs", "--key-names", name, "--include-public-key")["KeyPairs"][0]
    assert (described["KeyType"], described["PublicKey"]) == ("ed25519", ED25519_PUB)
    assert described["KeyFingerprint"] == imported["KeyFingerprint"]
    assert_cli_error(berth.aws_run("ec2", "create-key-pair", "--key-name", unique("gen")), "UnsupportedOperation")
    berth.aws("ec2", "delete-key-pair", "--key-name", name)
    assert_cli_error(berth.aws_run("ec2", "describe-key-pairs", "--key-names", name), "InvalidKeyPair.NotFound")


def test_instance_types_catalog(berth):
    types = berth.aws("ec2", "describe-instance-types", "--instance-types", "g4dn.xlarge", "t3.micro")["InstanceTypes"]
    by = {t["InstanceType"]: t for t in types}
    g = by["g4dn.xlarge"]
    assert (g["VCpuInfo"]["DefaultVCpus"], g["MemoryInfo"]["SizeInMiB"]) == (4, 16384)
    assert g["GpuInfo"]["Gpus"] == [{"Name": "T4", "Manufacturer": "NVIDIA", "Count": 1,
                                     "MemoryInfo": {"SizeInMiB": 16384}}]  # fmt: skip
    assert "GpuInfo" not in by["t3.micro"]
    gpus = berth.aws("ec2", "describe-instance-types", "--filters", "Name=gpu-info.gpus.manufacturer,Values=NVIDIA",
                     "--query", "InstanceTypes[].InstanceType")  # fmt: skip
    assert "p4d.24xlarge" in gpus and "m5.large" not in gpus
    unknown = berth.aws_run("ec2", "describe-instance-types", "--instance-types", "t3.enormous")
    assert_cli_error(unknown, "InvalidInstanceType")


def test_run_describe_terminate_and_tags(berth, ec2):
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-ecs-hvm-*"]}])
    ami = images["Images"][0]["ImageId"]
    subnet = berth.aws("ec2", "describe-subnets", "--filters", "Name=availability-zone,Values=us-east-1b",
                       "Name=default-for-az,Values=true")["Subnets"][0]  # fmt: skip
    name = unique("web")
    reservation = berth.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--count", "2",
                            "--subnet-id", subnet["SubnetId"],
                            "--tag-specifications", f"ResourceType=instance,Tags=[{{Key=Name,Value={name}}}]")  # fmt: skip
    instances = reservation["Instances"]
    assert len(instances) == 2 and reservation["ReservationId"].startswith("r-")
    ids = [i["InstanceId"] for i in instances]
    first = instances[0]
    assert first["State"] == {"Code": 0, "Name": "pending"}
    assert (first["InstanceType"], first["ImageId"], first["SubnetId"]) == ("t3.micro", ami, subnet["SubnetId"])
    assert first["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert first["PrivateIpAddress"].startswith("172.31.") and first["PrivateDnsName"].endswith(".ec2.internal")
    assert first["SecurityGroups"][0]["GroupName"] == "default"
    assert tags_dict(first["Tags"]) == {"Name": name}

    found = berth.aws("ec2", "describe-instances", "--filters", f"Name=tag:Name,Values={name}",
                      "Name=instance-state-name,Values=pending,running",
                      "--query", "Reservations[].Instances[].InstanceId")  # fmt: skip
    assert sorted(found) == sorted(ids)
    after = berth.aws("ec2", "describe-subnets", "--subnet-ids", subnet["SubnetId"])["Subnets"][0]
    assert after["AvailableIpAddressCount"] <= subnet["AvailableIpAddressCount"] - 2

    berth.aws("ec2", "create-tags", "--resources", ids[0], "--tags", "Key=team,Value=ml")
    tags = berth.aws("ec2", "describe-tags", "--filters", f"Name=resource-id,Values={ids[0]}")["Tags"]
    assert {(t["Key"], t["Value"], t["ResourceType"]) for t in tags} == {("Name", name, "instance"),
                                                                         ("team", "ml", "instance")}  # fmt: skip
    berth.aws("ec2", "delete-tags", "--resources", ids[0], "--tags", "Key=team")
    described = ec2.describe_instances(InstanceIds=[ids[0]])["Reservations"][0]["Instances"][0]
    assert tags_dict(described["Tags"]) == {"Name": name}

    # The server is a host: the instances run (the fleet's part, tests/e2e/test_ec2_instances.py).
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    status = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)["InstanceStatuses"]
    assert {s["InstanceState"]["Name"] for s in status} == {"running"}

    changes = berth.aws("ec2", "terminate-instances", "--instance-ids", *ids)["TerminatingInstances"]
    assert {(c["PreviousState"]["Name"], c["CurrentState"]["Name"]) for c in changes} == {("running", "shutting-down")}
    described = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    assert {i["State"]["Name"] for i in described} <= {"shutting-down", "terminated"}
    assert all(i["StateTransitionReason"].startswith("User initiated (") for i in described)
    assert_cli_error(berth.aws_run("ec2", "stop-instances", "--instance-ids", ids[0]), "IncorrectInstanceState")


def test_run_instances_from_a_launch_template(ec2):
    name = unique("lt")
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "c5.large", "UserData": base64.b64encode(b"#!/bin/bash\necho hi").decode(),
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "from", "Value": "template"}]}]})  # fmt: skip
    r = ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
                          InstanceType="m5.large")  # fmt: skip
    inst = r["Instances"][0]
    assert inst["InstanceType"] == "m5.large", "explicit parameters win over the template's"
    assert tags_dict(inst["Tags"]) == {"from": "template"}
    ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])


def test_bad_input_gets_ec2_codes_and_creates_nothing(berth, ec2):
    vpc_id = default_vpc(berth)
    before = len(ec2.describe_instances()["Reservations"])
    cases = [
        (dict(ImageId=AMI, InstanceType="t3.enormous"), "InvalidParameterValue"),
        (dict(ImageId="ami-12345", InstanceType="t3.micro"), "InvalidAMIID.Malformed"),
        (dict(ImageId="ami-0123456789abcdef0", InstanceType="t3.micro"), "InvalidAMIID.NotFound"),
        (dict(ImageId=AMI, InstanceType="t3.micro", SubnetId="subnet-0123456789abcdef0"), "InvalidSubnetID.NotFound"),
        (dict(ImageId=AMI, InstanceType="t3.micro", SecurityGroupIds=["sg-0123456789abcdef0"]), "InvalidGroup.NotFound"),
        (dict(ImageId=AMI, InstanceType="t3.micro", KeyName="no-such-key"), "InvalidKeyPair.NotFound"),
        (dict(ImageId=AMI, InstanceType="t3.micro", IamInstanceProfile={"Name": "no-such-profile"}),
         "InvalidParameterValue"),
        (dict(ImageId=AMI, InstanceType="t4g.micro"), "InvalidParameterValue"),
    ]  # fmt: skip
    for params, code in cases:
        with raises_aws(code):
            ec2.run_instances(MinCount=1, MaxCount=1, **params)
    # A subnet of another VPC than the security group's.
    other = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other, CidrBlock="10.77.1.0/24", AvailabilityZone="us-east-1a")
    other_subnet = other_subnet["Subnet"]["SubnetId"]
    default_sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "group-name", "Values": ["default"]}])  # fmt: skip
    default_sg = default_sg["SecurityGroups"][0]["GroupId"]
    with raises_aws("InvalidParameter"):
        ec2.run_instances(MinCount=1, MaxCount=1, ImageId=AMI, SubnetId=other_subnet, SecurityGroupIds=[default_sg])
    assert len(ec2.describe_instances()["Reservations"]) == before

    malformed = berth.aws_run("ec2", "describe-instances", "--instance-ids", "i-123")
    assert_cli_error(malformed, "InvalidInstanceID.Malformed")
    missing = berth.aws_run("ec2", "terminate-instances", "--instance-ids", "i-0123456789abcdef0")
    assert_cli_error(missing, "InvalidInstanceID.NotFound")
    group = unique("dup")
    ec2.create_security_group(GroupName=group, Description="d", VpcId=vpc_id)
    with raises_aws("InvalidGroup.Duplicate"):
        ec2.create_security_group(GroupName=group, Description="d", VpcId=vpc_id)
    with raises_aws("InvalidVpcID.NotFound"):
        ec2.create_security_group(GroupName=unique("g"), Description="d", VpcId="vpc-0123456789abcdef0")
    with raises_aws("InvalidSubnet.Range"):
        ec2.create_subnet(VpcId=other, CidrBlock="10.78.0.0/24")
    with raises_aws("InvalidSubnet.Conflict"):
        ec2.create_subnet(VpcId=other, CidrBlock="10.77.1.0/25")
    with raises_aws("DependencyViolation"):
        ec2.delete_vpc(VpcId=other)
    with raises_aws("InvalidParameterValue"):
        ec2.describe_instances(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    ec2.delete_subnet(SubnetId=other_subnet)
    ec2.delete_vpc(VpcId=other)
    with raises_aws("InvalidVpcID.NotFound"):
        ec2.describe_vpcs(VpcIds=[other])


def test_errors_are_ec2_error_documents(berth):
    result = berth.aws_run("ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0", "--debug")
    assert result.returncode != 0
    assert "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>" in result.stderr
    assert "<RequestID>" in result.stderr
