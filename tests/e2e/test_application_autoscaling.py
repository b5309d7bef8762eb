"""Application Auto Scaling for ECS services against the real binary, with real agents and containers.

Seed 000's ecs_07 as an ECS user writes it (register-scalable-target min 1 max 4, put-scaling-policy cpu70
TargetTracking on ECSServiceAverageCPUUtilization) creates the two alarms AWS creates; a scheduled action
`at(...)` a few seconds ahead changes min/max and the service's desired count (tasks really start); a step
scaling policy acts from a user's alarm set by set-alarm-state; a target tracking policy on a customized
metric fed with put-metric-data scales out and back in; bad input is refused with AAS's codes and
nothing is created. The server runs with the fast metric clock (a metric minute = 2 s)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from agent_harness import SLEEP, TEST_IMAGE, AgentProcess
from berth_harness import Berth, container, raises_aws, unique
from berth_harness import register as register_definition

DIMENSION = "ecs:service:DesiredCount"
HTTPD = ["sh", "-c", "trap 'exit 0' TERM; hostname > /www/index.html; httpd -f -p 8080 -h /www & wait"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Berth(tmp_path_factory.mktemp("aas-berth"), extra_args=("--metric-minute-seconds", "2")).start()
    yield s
    s.close()


@pytest.fixture
def service(server, tmp_path, test_image):
    """A cluster with one agent and a service of one sleeping task: (cluster, service)."""
    cluster, name = unique("aas"), unique("web")
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, tmp_path / "agent").start()
    c = container(image=TEST_IMAGE, memory=32, command=SLEEP)
    td = register_definition(ecs, unique("web"), [c], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=1)
    yield cluster, name
    ecs.update_service(cluster=cluster, service=name, desiredCount=0)
    ecs.delete_service(cluster=cluster, service=name, force=True)
    agent.close()


def wait_for(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def desired(server, cluster: str, name: str) -> int:
    return server.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]["desiredCount"]


def running(server, cluster: str, name: str) -> int:
    return server.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]["runningCount"]


def register_target(server, resource: str, lo: int = 1, hi: int = 4) -> None:
    server.aws(
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource,
        "--min-capacity", str(lo), "--max-capacity", str(hi),
    )


def activities(server, resource: str) -> list[dict]:
    return server.aws(
        "application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs",
        "--resource-id", resource,
    )["ScalingActivities"]


def test_seed_ecs_07_registers_and_creates_the_target_tracking_alarms(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    register_target(server, resource)
    policy = server.aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "cpu70",
        "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
        json.dumps({
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 60, "ScaleInCooldown": 60,
        }),
    )
    assert policy["PolicyARN"].startswith("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:")
    assert policy["PolicyARN"].endswith(f":resource/ecs/{resource}:policyName/cpu70")
    names = sorted(a["AlarmName"] for a in policy["Alarms"])
    assert len(names) == 2
    assert names[0].startswith(f"TargetTracking-{resource}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{resource}-AlarmLow-")
    assert all(a["AlarmARN"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{a['AlarmName']}" for a in policy["Alarms"])
    alarms = {a["AlarmName"]: a for a in server.aws("cloudwatch", "describe-alarms", "--alarm-names", *names)["MetricAlarms"]}
    high, low = alarms[names[0]], alarms[names[1]]
    for a in (high, low):
        assert (a["Namespace"], a["MetricName"], a["Statistic"], a["Period"]) == ("AWS/ECS", "CPUUtilization", "Average", 60)
        assert sorted((d["Name"], d["Value"]) for d in a["Dimensions"]) == [("ClusterName", cluster), ("ServiceName", name)]
        assert a["AlarmActions"] == [policy["PolicyARN"]]
        assert a["AlarmDescription"] == f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy['PolicyARN']}."
    assert (high["EvaluationPeriods"], high["DatapointsToAlarm"], high["Threshold"], high["ComparisonOperator"]) == (
        3, 3, 70.0, "GreaterThanThreshold")
    assert (low["EvaluationPeriods"], low["DatapointsToAlarm"], low["ComparisonOperator"]) == (15, 15, "LessThanThreshold")
    assert abs(low["Threshold"] - 63.0) < 1e-9

    targets = server.aws(
        "application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs",
        "--resource-ids", resource,
    )["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(resource, 1, 4)]
    assert targets[0]["RoleARN"].endswith(
        ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
    )
    assert targets[0]["SuspendedState"] == {
        "DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False, "ScheduledScalingSuspended": False,
    }
    policies = server.aws(
        "application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs",
        "--resource-id", resource,
    )["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["cpu70"]
    tt = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert (tt["TargetValue"], tt["ScaleOutCooldown"], tt["ScaleInCooldown"]) == (70.0, 60, 60)

    # Re-registering updates the bounds in place; deregistering takes the policies with it.
    register_target(server, resource, 1, 6)
    again = server.aws(
        "application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs",
        "--resource-ids", resource,
    )["ScalableTargets"]
    assert again[0]["MaxCapacity"] == 6 and again[0]["ScalableTargetARN"] == targets[0]["ScalableTargetARN"]
    server.aws(
        "application-autoscaling", "deregister-scalable-target", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource,
    )
    aas = server.client("application-autoscaling")
    assert aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"] == []
    assert server.aws("cloudwatch", "describe-alarms", "--alarm-names", *names)["MetricAlarms"] == [], "its alarms went too"
    with raises_aws("ObjectNotFoundException", f"No scalable target registered for service namespace: ecs, resource ID: {resource}, scalable dimension: ecs:service:DesiredCount"):
        aas.deregister_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource)


def test_a_scheduled_action_changes_min_max_and_the_capacity_at_its_time(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    register_target(server, resource, 1, 4)
    at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%S")
    server.aws(
        "application-autoscaling", "put-scheduled-action", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--scheduled-action-name", "peak",
        "--schedule", f"at({at})", "--scalable-target-action", "MinCapacity=3,MaxCapacity=5",
    )
    actions = server.aws(
        "application-autoscaling", "describe-scheduled-actions", "--service-namespace", "ecs",
        "--resource-id", resource,
    )["ScheduledActions"]
    assert [(a["ScheduledActionName"], a["Schedule"], a["ScalableTargetAction"]) for a in actions] == [
        ("peak", f"at({at})", {"MinCapacity": 3, "MaxCapacity": 5})
    ]
    wait_for(lambda: desired(server, cluster, name) == 3, 60, "the scheduled action's capacity")
    wait_for(lambda: running(server, cluster, name) == 3, 120, "three running tasks")
    target = server.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource]
    )["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 5)
    acts = activities(server, resource)
    assert acts[0]["Description"] == "Setting desired count to 3."
    assert acts[0]["Cause"] == "minimum capacity was set to 3 and maximum capacity was set to 5"
    assert acts[0]["StatusCode"] == "Successful"
    assert acts[1]["Description"] == "Setting min capacity to 3 and max capacity to 5"
    assert acts[1]["Cause"] == "scheduled action name peak was triggered"

    # A manual update outside the bounds is allowed (as on AWS); it stays until the scaler acts.
    server.client("ecs").update_service(cluster=cluster, service=name, desiredCount=1)
    time.sleep(3)
    assert desired(server, cluster, name) == 1
    server.aws(
        "application-autoscaling", "delete-scheduled-action", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--scheduled-action-name", "peak",
    )
    assert server.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace="ecs", ResourceId=resource
    )["ScheduledActions"] == []


def test_step_scaling_acts_from_a_user_alarm(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    register_target(server, resource, 1, 5)
    arn = server.aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "step-out",
        "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
        json.dumps({"AdjustmentType": "ChangeInCapacity", "Cooldown": 600, "MetricAggregationType": "Average",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 2}]}),
    )["PolicyARN"]
    alarm = unique("queue-deep")
    server.aws(
        "cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--namespace", "App", "--metric-name", "Backlog",
        "--statistic", "Average", "--period", "60", "--evaluation-periods", "1", "--threshold", "100",
        "--comparison-operator", "GreaterThanThreshold", "--alarm-actions", arn,
    )
    # The alarm breaches on real data (set-alarm-state is the next test's).
    with feeding(server, "App", "Backlog", [], [150.0], seconds=120):
        wait_for(lambda: desired(server, cluster, name) == 3, 90, "the step's +2")
    acts = activities(server, resource)
    assert acts[0]["Description"] == "Setting desired count to 3."
    assert acts[0]["Cause"] == f"monitor alarm {alarm} in state ALARM triggered policy step-out"
    assert acts[0]["StatusMessage"] == "Successfully set desired count to 3. Change successfully fulfilled by ecs."
    wait_for(lambda: running(server, cluster, name) == 3, 120, "three running tasks")
    time.sleep(3)
    assert desired(server, cluster, name) == 3, "the policy's cooldown holds it"
    server.aws("cloudwatch", "delete-alarms", "--alarm-names", alarm)


def test_set_alarm_state_alarm_runs_a_step_policy_on_the_transition(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    register_target(server, resource, 1, 5)
    arn = server.aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "step-out",
        "--policy-type", "StepScaling", "--step-scaling-policy-configuration",
        json.dumps({"AdjustmentType": "ChangeInCapacity", "Cooldown": 600, "MetricAggregationType": "Average",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 2}]}),
    )["PolicyARN"]
    alarm = unique("manual")
    # A metric nobody puts: the evaluator holds the alarm in INSUFFICIENT_DATA, and moves it back there
    # within a fraction of a second of the fast clock after set-alarm-state; the transition alone acts.
    server.aws(
        "cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--namespace", unique("Quiet"),
        "--metric-name", "Nothing", "--statistic", "Average", "--period", "60", "--evaluation-periods", "1",
        "--threshold", "100", "--comparison-operator", "GreaterThanThreshold", "--alarm-actions", arn,
    )
    wait_for(lambda: desired(server, cluster, name) == 1 and server.aws(
        "cloudwatch", "describe-alarms", "--alarm-names", alarm)["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA",
        30, "the alarm evaluated")  # fmt: skip
    server.aws("cloudwatch", "set-alarm-state", "--alarm-name", alarm, "--state-value", "ALARM",
               "--state-reason", "testing the step policy")  # fmt: skip
    wait_for(lambda: desired(server, cluster, name) == 3, 30, "the step's +2 from the transition")
    acts = activities(server, resource)
    assert acts[0]["Description"] == "Setting desired count to 3."
    assert acts[0]["Cause"] == f"monitor alarm {alarm} in state ALARM triggered policy step-out"
    assert acts[0]["StatusCode"] == "Successful"
    history = server.aws("cloudwatch", "describe-alarm-history", "--alarm-name", alarm)["AlarmHistoryItems"]
    summaries = [h["HistorySummary"] for h in history]
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in summaries, summaries
    executed = [h for h in history if h["HistoryItemType"] == "Action"]
    assert [h["HistorySummary"] for h in executed] == [f"Successfully executed action {arn}"], summaries
    assert json.loads(executed[0]["HistoryData"])["actionState"] == "Succeeded"
    wait_for(lambda: running(server, cluster, name) == 3, 120, "three running tasks")

    # Another transition within the policy's cooldown does nothing.
    wait_for(lambda: server.aws("cloudwatch", "describe-alarms", "--alarm-names", alarm)["MetricAlarms"][0][
        "StateValue"] == "INSUFFICIENT_DATA", 30, "the alarm re-evaluated")  # fmt: skip
    server.aws("cloudwatch", "set-alarm-state", "--alarm-name", alarm, "--state-value", "ALARM", "--state-reason", "again")
    time.sleep(3)
    assert desired(server, cluster, name) == 3, "the policy's cooldown holds it"
    assert len(activities(server, resource)) == len(acts)
    server.aws("cloudwatch", "delete-alarms", "--alarm-names", alarm)


@contextmanager
def feeding(server, namespace: str, metric: str, dimensions: list[dict], value: list[float], seconds: float = 240):
    """Puts `value[0]` into the metric every half second (bounded in time) while the block runs."""
    cw = server.client("cloudwatch")
    stop = threading.Event()

    def feed():
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            cw.put_metric_data(Namespace=namespace, MetricData=[
                {"MetricName": metric, "Dimensions": dimensions, "Value": value[0]}])
            stop.wait(0.5)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def test_target_tracking_on_a_customized_metric_scales_out_and_back_in(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    register_target(server, resource, 1, 4)
    namespace, dims = unique("App"), [{"Name": "Queue", "Value": name}]
    policy = server.aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "backlog50",
        "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
        json.dumps({
            "TargetValue": 50.0, "ScaleOutCooldown": 10, "ScaleInCooldown": 4,
            "CustomizedMetricSpecification": {"Namespace": namespace, "MetricName": "Backlog",
                                              "Dimensions": dims, "Statistic": "Average"},
        }),
    )
    high = next(a["AlarmName"] for a in policy["Alarms"] if "-AlarmHigh-" in a["AlarmName"])
    value = [200.0]
    with feeding(server, namespace, "Backlog", dims, value):
        wait_for(lambda: desired(server, cluster, name) == 4, 120, "a scale-out to max")
        out = activities(server, resource)[0]
        assert out["Description"] == "Setting desired count to 4.", out
        assert out["Cause"] == f"monitor alarm {high} in state ALARM triggered policy backlog50"
        wait_for(lambda: running(server, cluster, name) == 4, 120, "four running tasks")
        value[0] = 1.0
        wait_for(lambda: desired(server, cluster, name) == 1, 180, "a scale-in back to min")
    counts = [a["Description"] for a in activities(server, resource)]
    assert counts[:3] == ["Setting desired count to 1.", "Setting desired count to 2.", "Setting desired count to 4."], counts
    low = next(a["AlarmName"] for a in policy["Alarms"] if "-AlarmLow-" in a["AlarmName"])
    assert activities(server, resource)[0]["Cause"] == f"monitor alarm {low} in state ALARM triggered policy backlog50"


# Burns a core for at most 4 minutes (bounded load on a shared machine), then sleeps.
BURN = ["sh", "-c", "end=$(( $(date +%s) + 240 )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 600"]


def test_seed_cpu70_scales_a_cpu_burning_service_out_and_back_in(server, service):
    cluster, name = service
    resource = f"service/{cluster}/{name}"
    ecs = server.client("ecs")
    register_target(server, resource, 1, 4)
    server.aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "cpu70",
        "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
        json.dumps({"TargetValue": 70.0, "ScaleOutCooldown": 10, "ScaleInCooldown": 4,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}),
    )
    burn = register_definition(ecs, unique("burn"), [container(image=TEST_IMAGE, memory=32, command=BURN)],
                               networkMode="bridge", cpu="256", memory="64")["taskDefinition"]["taskDefinitionArn"]
    idle = register_definition(ecs, unique("idle"), [container(image=TEST_IMAGE, memory=32, command=SLEEP)],
                               networkMode="bridge", cpu="256", memory="64")["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=name, taskDefinition=burn)
    wait_for(lambda: desired(server, cluster, name) > 1, 180, "a scale-out on the service's CPU")
    out = activities(server, resource)[0]
    assert out["Cause"].startswith(f"monitor alarm TargetTracking-{resource}-AlarmHigh-"), out
    assert out["Cause"].endswith("in state ALARM triggered policy cpu70")
    assert desired(server, cluster, name) <= 4, "within max"
    peak = desired(server, cluster, name)

    # The load stops: the service's tasks are replaced by idle ones, its CPU falls below 90 % of the
    # target, AlarmLow goes to ALARM and the service scales back in to min.
    ecs.update_service(cluster=cluster, service=name, taskDefinition=idle)
    wait_for(lambda: desired(server, cluster, name) == 1, 240, "a scale-in back to min once the load stopped")
    acts = activities(server, resource)
    ins = [a for a in acts if "-AlarmLow-" in a["Cause"]]
    outs = [a for a in acts if "-AlarmHigh-" in a["Cause"]]
    assert ins and outs, acts
    assert ins[0]["Description"] == "Setting desired count to 1.", ins[0]
    assert ins[0]["Cause"].startswith(f"monitor alarm TargetTracking-{resource}-AlarmLow-")
    assert ins[0]["Cause"].endswith("in state ALARM triggered policy cpu70")
    assert all(a["StatusCode"] == "Successful" for a in ins + outs)
    assert acts.index(ins[-1]) < acts.index(outs[0]), "the scale-in came after the scale-out (newest first)"
    assert peak > 1
    wait_for(lambda: running(server, cluster, name) == 1, 120, "one running task")


def test_alb_request_count_per_target_scales_a_service_behind_a_load_balancer(server, tmp_path):
    ecs, elbv2 = server.client("ecs"), server.client("elbv2")
    cluster, name = unique("aas-alb"), unique("web")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, tmp_path / "agent").start()
    stop = threading.Event()
    try:
        lb = elbv2.create_load_balancer(Name=unique("lb"), Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elbv2.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=8080, VpcId="vpc-1",
                                       HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                       HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]  # fmt: skip
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
        web = container(name="web", image=TEST_IMAGE, memory=32, command=HTTPD,
                        portMappings=[{"containerPort": 8080, "hostPort": 0}])  # fmt: skip
        td = register_definition(ecs, name, [web], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=1,
                           loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web",
                                           "containerPort": 8080}])  # fmt: skip
        elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg["TargetGroupArn"],
                                                   WaiterConfig={"Delay": 1, "MaxAttempts": 120})  # fmt: skip

        resource = f"service/{cluster}/{name}"
        register_target(server, resource, 1, 3)
        label = lb["LoadBalancerArn"].split(":loadbalancer/")[1] + "/" + tg["TargetGroupArn"].split(":")[-1]
        server.aws(
            "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
            "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "req10",
            "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
            json.dumps({"TargetValue": 10.0, "ScaleOutCooldown": 5, "ScaleInCooldown": 600,
                        "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget",
                                                          "ResourceLabel": label}}),
        )  # fmt: skip

        # A bounded loopback load: far more than 10 requests per target per (2 s) metric minute, for at most 150 s.
        def load():
            deadline = time.monotonic() + 150
            with requests.Session() as s:
                while not stop.is_set() and time.monotonic() < deadline:
                    s.get(f"http://{lb['DNSName']}:80/", timeout=5)
                    time.sleep(0.02)

        threading.Thread(target=load, daemon=True).start()
        wait_for(lambda: desired(server, cluster, name) > 1, 150, "a scale-out on RequestCountPerTarget")
        out = activities(server, resource)[0]
        assert out["Cause"].startswith(f"monitor alarm TargetTracking-{resource}-AlarmHigh-"), out
        assert out["Cause"].endswith("in state ALARM triggered policy req10"), out
        assert desired(server, cluster, name) <= 3, "within max"
        wait_for(lambda: running(server, cluster, name) > 1, 120, "the new task running behind the load balancer")
    finally:
        stop.set()
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        ecs.delete_service(cluster=cluster, service=name, force=True)
        agent.close()


def test_bad_input_is_refused_with_aas_codes_and_nothing_is_created(server, service):
    cluster, name = service
    aas = server.client("application-autoscaling")
    missing = f"service/{cluster}/no-such-service"
    with raises_aws("ValidationException", f"ECS service doesn't exist: {missing}"):
        aas.register_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=missing,
                                     MinCapacity=1, MaxCapacity=2)
    resource = f"service/{cluster}/{name}"
    with raises_aws("ValidationException", "Minimum capacity cannot be greater than maximum capacity"):
        aas.register_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource,
                                     MinCapacity=5, MaxCapacity=2)
    with raises_aws("ValidationException"):
        aas.register_scalable_target(ServiceNamespace="ecs", ScalableDimension=DIMENSION,
                                     ResourceId=f"cluster/{cluster}", MinCapacity=1, MaxCapacity=2)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource, missing])["ScalableTargets"] == []

    # A policy on a target that is not registered.
    cpu = {"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
    with raises_aws("ObjectNotFoundException", f"No scalable target registered for service namespace: ecs, resource ID: {resource}"):
        aas.put_scaling_policy(PolicyName="cpu70", ServiceNamespace="ecs", ResourceId=resource,
                               ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration=cpu)
    register_target(server, resource)
    # An unknown predefined metric (the aws CLI sends it as given).
    bad = server.aws_run(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", DIMENSION, "--resource-id", resource, "--policy-name", "nope",
        "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
        json.dumps({"TargetValue": 50.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageDiskIO"}}),
    )
    assert bad.returncode != 0 and "ValidationException" in bad.stderr, bad.stderr
    with raises_aws("ValidationException", "ResourceLabel is required for the predefined metric type ALBRequestCountPerTarget"):
        aas.put_scaling_policy(PolicyName="alb", ServiceNamespace="ecs", ResourceId=resource,
                               ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 10.0,
                                   "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget"}})
    with raises_aws("ValidationException", "Step adjustments may not overlap"):
        aas.put_scaling_policy(PolicyName="step", ServiceNamespace="ecs", ResourceId=resource,
                               ScalableDimension=DIMENSION, PolicyType="StepScaling",
                               StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
                                   {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0, "ScalingAdjustment": 1},
                                   {"MetricIntervalLowerBound": 5.0, "ScalingAdjustment": 2}]})
    with raises_aws("ValidationException", "Invalid schedule expression"):
        aas.put_scheduled_action(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource,
                                 ScheduledActionName="s", Schedule="every(5 minutes)")
    with raises_aws("ValidationException", "Invalid timezone"):
        aas.put_scheduled_action(ServiceNamespace="ecs", ScalableDimension=DIMENSION, ResourceId=resource,
                                 ScheduledActionName="s", Schedule="cron(0 8 * * ? *)", Timezone="Mars/Olympus_Mons")
    assert aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"] == []
    assert aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource)["ScheduledActions"] == []
    with raises_aws("ObjectNotFoundException"):
        aas.delete_scaling_policy(PolicyName="cpu70", ServiceNamespace="ecs", ResourceId=resource,
                                  ScalableDimension=DIMENSION)
