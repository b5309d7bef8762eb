"""Metrics from what really runs: agents sample their containers' Docker stats and the server publishes AWS/ECS
(CPUUtilization, MemoryUtilization, CPUReservation, MemoryReservation) and ECS/ContainerInsights; the load
balancer counts what it proxies into AWS/ApplicationELB. Read back with the aws CLI's cloudwatch commands, as a
user would. The server runs with a fast metric clock (a metric minute of MINUTE real seconds)."""

from __future__ import annotations

import datetime
import time

import pytest
import requests

from agent_harness import TEST_IMAGE, AgentProcess
from berth_harness import container, unique
from berth_harness import register as register_definition

MINUTE = "3"
STABLE = {"Delay": 1, "MaxAttempts": 120}
BURN = ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]
IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
# 40 MiB in the container's /dev/shm (tmpfs: charged to its memory, and not file cache that can be dropped).
FILL = ["sh", "-c", "trap 'exit 0' TERM; head -c 41943040 /dev/zero > /dev/shm/fill; sleep 600 & wait"]
HTTPD = ["sh", "-c", "trap 'exit 0' TERM; hostname > /www/index.html; httpd -f -p 8080 -h /www & wait"]


@pytest.fixture
def server(make_berth, test_image):
    return make_berth(extra_args=("--metric-minute-seconds", MINUTE))


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def statistics(berth, namespace: str, metric: str, dimensions: dict[str, str], since: float) -> list[dict]:
    """Every 60 s datapoint of the metric since SINCE, oldest first, through the aws CLI."""
    dims = [f"Name={k},Value={v}" for k, v in dimensions.items()]
    out = berth.aws("cloudwatch", "get-metric-statistics", "--namespace", namespace, "--metric-name", metric,
                    "--dimensions", *dims, "--start-time", iso(since - 60), "--end-time", iso(time.time() + 60),
                    "--period", "60", "--statistics", "Sum", "Maximum", "Minimum", "Average", "SampleCount")
    return sorted(out["Datapoints"], key=lambda d: d["Timestamp"])


def wait_for(what: str, predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def service(ecs, cluster: str, name: str, command: list[str], **task) -> str:
    c = container(image=TEST_IMAGE, memory=128, command=command)
    arn = register_definition(ecs, name, [c], networkMode="bridge", **task)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=1)
    return name


def test_cpu_memory_reservation_and_container_insights_from_real_containers(server, tmp_path):
    ecs = server.client("ecs")
    insights, plain = unique("ins"), unique("plain")
    server.aws("ecs", "create-cluster", "--cluster-name", insights, "--settings", "name=containerInsights,value=enabled")
    server.aws("ecs", "create-cluster", "--cluster-name", plain)
    agents = [AgentProcess(server, c, tmp_path / c).start() for c in (insights, plain)]
    try:
        since = time.time()
        burn = service(ecs, insights, unique("burn"), BURN, cpu="256", memory="256")
        idle = service(ecs, insights, unique("idle"), IDLE, cpu="256", memory="256")
        fill = service(ecs, insights, unique("fill"), FILL, cpu="256", memory="128")
        quiet = service(ecs, plain, unique("quiet"), IDLE, cpu="512", memory="256")
        ecs.get_waiter("services_stable").wait(cluster=insights, services=[burn, idle, fill], WaiterConfig=STABLE)
        ecs.get_waiter("services_stable").wait(cluster=plain, services=[quiet], WaiterConfig=STABLE)

        def of(cluster, svc, metric):
            dims = {"ClusterName": cluster, **({"ServiceName": svc} if svc else {})}
            return statistics(server, "AWS/ECS", metric, dims, since)

        # A busy loop uses a whole core: far beyond its 256 units (at least ~50 % even on a loaded machine).
        hot = wait_for("the busy service's CPUUtilization", lambda: [
            d for d in of(insights, burn, "CPUUtilization") if d["Maximum"] >= 50])
        assert hot[0]["Unit"] == "Percent"
        assert hot[0]["SampleCount"] >= 1
        # One task: each metric minute is one sample, so every minute's average is its own maximum or less.
        assert all(d["Minimum"] <= d["Average"] <= d["Maximum"] for d in hot)
        # ... the sleeping one uses next to nothing.
        calm = wait_for("the idle service's CPUUtilization", lambda: of(insights, idle, "CPUUtilization"))
        assert max(d["Maximum"] for d in calm) < 10, calm
        # 40 MiB of its 128 MiB, about 31 %.
        full = wait_for("the filling service's MemoryUtilization", lambda: [
            d for d in of(insights, fill, "MemoryUtilization") if d["Maximum"] >= 25])
        assert full[-1]["Maximum"] < 60, full
        # Reservation: cpu 256 × 3 of the 4096 units the agent registered = 18.75 %; 512 of 4096 = 12.5 %.
        wait_for("CPUReservation", lambda: [d for d in of(insights, None, "CPUReservation") if d["Maximum"] == 18.75])
        wait_for("CPUReservation", lambda: [d for d in of(plain, None, "CPUReservation") if d["Maximum"] == 12.5])
        memory = wait_for("MemoryReservation", lambda: of(plain, None, "MemoryReservation"))
        assert memory[-1]["Maximum"] == 256 / 4096 * 100
        # The cluster's utilization is its tasks' usage over what its instances registered.
        cluster_cpu = wait_for("the cluster's CPUUtilization", lambda: [
            d for d in of(insights, None, "CPUUtilization") if d["Maximum"] >= 50 * 256 / 4096])
        assert cluster_cpu[-1]["Maximum"] <= 100

        # Container Insights on the cluster that enabled it, and not on the other.
        def insight(cluster, svc, metric):
            dims = {"ClusterName": cluster, **({"ServiceName": svc} if svc else {})}
            return statistics(server, "ECS/ContainerInsights", metric, dims, since)

        running = wait_for("RunningTaskCount", lambda: [
            d for d in insight(insights, None, "RunningTaskCount") if d["Maximum"] == 3])
        assert running[-1]["Unit"] == "Count"
        assert wait_for("DesiredTaskCount", lambda: insight(insights, burn, "DesiredTaskCount"))[-1]["Maximum"] == 1
        assert wait_for("CpuReserved", lambda: insight(insights, burn, "CpuReserved"))[-1]["Maximum"] == 256
        used = wait_for("CpuUtilized", lambda: [d for d in insight(insights, burn, "CpuUtilized") if d["Maximum"] >= 128])
        assert used[-1]["Maximum"] <= 2 * 1024 + 1, "at most both cores"
        filled = wait_for("MemoryUtilized", lambda: [
            d for d in insight(insights, fill, "MemoryUtilized") if d["Maximum"] >= 35])
        assert filled[-1]["Unit"] == "Megabytes"
        names = {m["MetricName"] for m in server.aws("cloudwatch", "list-metrics", "--namespace",
                                                    "ECS/ContainerInsights")["Metrics"]}
        assert {"RunningTaskCount", "PendingTaskCount", "DesiredTaskCount", "CpuUtilized", "CpuReserved",
                "MemoryUtilized", "MemoryReserved", "NetworkRxBytes", "NetworkTxBytes"} <= names, names
        listed = server.aws("cloudwatch", "list-metrics", "--namespace", "ECS/ContainerInsights",
                            "--dimensions", f"Name=ClusterName,Value={plain}")["Metrics"]
        assert listed == []
        # The plain cluster still gets AWS/ECS utilization for its service.
        assert wait_for("the quiet service's CPUUtilization", lambda: of(plain, quiet, "CPUUtilization"))

    finally:
        for agent in agents:
            agent.close()


def test_the_load_balancer_counts_exactly_what_it_proxies(server, tmp_path):
    ecs, elbv2 = server.client("ecs"), server.client("elbv2")
    cluster = unique("alb")
    ecs.create_cluster(clusterName=cluster)
    agent = AgentProcess(server, cluster, tmp_path / "agent").start()
    try:
        lb = elbv2.create_load_balancer(Name=unique("lb"), Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elbv2.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=8080, VpcId="vpc-1",
                                       HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                       HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]
        tg_arn = tg["TargetGroupArn"]
        listener = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                         DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
        elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=1,
                          Conditions=[{"Field": "path-pattern", "Values": ["/missing"]}],
                          Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
        c = container(name="web", image=TEST_IMAGE, memory=32, command=HTTPD,
                      portMappings=[{"containerPort": 8080, "hostPort": 0}])
        name = unique("web")
        td = register_definition(ecs, name, [c], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=2,
                           loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "web", "containerPort": 8080}])
        wait_for("two registered targets", lambda: len(
            elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]) == 2)
        elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg_arn, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

        since = time.time()
        sent, missing = 300, 7
        with requests.Session() as s:
            for _ in range(sent):
                assert s.get(f"http://{lb['DNSName']}:80/", timeout=10).status_code == 200
            for _ in range(missing):
                assert s.get(f"http://{lb['DNSName']}:80/missing", timeout=10).status_code == 404

        lb_dim = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
        tg_dim = tg_arn.split(":")[-1]
        assert lb_dim.startswith("app/") and tg_dim.startswith("targetgroup/")
        both = {"TargetGroup": tg_dim, "LoadBalancer": lb_dim}

        def total(metric, dims):
            return sum(d["Sum"] for d in statistics(server, "AWS/ApplicationELB", metric, dims, since))

        wait_for("RequestCount", lambda: total("RequestCount", {"LoadBalancer": lb_dim}) >= sent)
        # Two more metric minutes: nothing else arrives; the counts are exact.
        time.sleep(2 * int(MINUTE))
        assert total("RequestCount", {"LoadBalancer": lb_dim}) == sent
        assert total("RequestCount", both) == sent
        assert total("HTTPCode_Target_2XX_Count", {"LoadBalancer": lb_dim}) == sent
        assert total("HTTPCode_Target_2XX_Count", both) == sent
        assert total("HTTPCode_ELB_4XX_Count", {"LoadBalancer": lb_dim}) == missing
        # Over the two healthy targets.
        assert total("RequestCountPerTarget", {"TargetGroup": tg_dim}) == sent / 2
        healthy = statistics(server, "AWS/ApplicationELB", "HealthyHostCount", both, since)
        assert healthy and healthy[-1]["Maximum"] == 2
        assert statistics(server, "AWS/ApplicationELB", "UnHealthyHostCount", both, since)[-1]["Maximum"] == 0
        rt = statistics(server, "AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": lb_dim}, since)
        assert sum(d["SampleCount"] for d in rt) == sent
        assert all(0 < d["Average"] < 5 and d["Unit"] == "Seconds" for d in rt)
        ecs.delete_service(cluster=cluster, service=name, force=True)
    finally:
        agent.close()
