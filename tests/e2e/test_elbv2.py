"""Elastic Load Balancing v2 over the query protocol: load balancers, target groups, listeners, rules, targets
and tags as the aws CLI and boto3 drive them (seed 004's flow), botocore's waiters, and ELB's error codes for
bad input."""

from __future__ import annotations

import time

import pytest

from berth_harness import assert_cli_error, raises_aws, unique

FAST = {"Delay": 1, "MaxAttempts": 30}


@pytest.fixture
def elbv2(berth):
    return berth.client("elbv2")


@pytest.fixture
def load_balancer(elbv2):
    """A fresh application load balancer (deleted afterwards, with its listeners)."""
    lb = elbv2.create_load_balancer(Name=unique("lb"), Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
    yield lb
    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])


def target_group(elbv2, **members) -> dict:
    args = {"Name": unique("tg"), "Protocol": "HTTP", "Port": 8080, "VpcId": "vpc-1", **members}
    return elbv2.create_target_group(**args)["TargetGroups"][0]


def forward(tg_arn: str) -> list[dict]:
    return [{"Type": "forward", "TargetGroupArn": tg_arn}]


def test_seed_004_flow_with_the_cli(berth):
    """Target group, load balancer, listener on 80 forwarding to the group, as seed 004 types them."""
    name = unique("web")
    tg = berth.aws("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "8080",
                   "--vpc-id", "vpc-1")["TargetGroups"][0]
    assert (tg["Protocol"], tg["Port"], tg["TargetType"], tg["HealthCheckPath"]) == ("HTTP", 8080, "instance", "/")
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthyThresholdCount"], tg["Matcher"]) == (30, 5, {"HttpCode": "200"})
    lb = berth.aws("elbv2", "create-load-balancer", "--name", name, "--subnets", "s-1", "s-2", "s-3",
                   "--security-groups", "sg-1")["LoadBalancers"][0]
    assert lb["State"]["Code"] == "provisioning"
    assert lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert [z["SubnetId"] for z in lb["AvailabilityZones"]] == ["s-1", "s-2", "s-3"]
    assert lb["DNSName"].startswith("127.") and lb["SecurityGroups"] == ["sg-1"]
    berth.aws("elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lb["LoadBalancerArn"])
    listener = berth.aws("elbv2", "create-listener", "--protocol", "HTTP", "--port", "80",
                         f"--load-balancer-arn={lb['LoadBalancerArn']}",
                         "--default-actions", f"Type=forward,TargetGroupArn={tg['TargetGroupArn']}")["Listeners"][0]
    assert listener["Port"] == 80 and listener["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    described = berth.aws("elbv2", "describe-target-groups", "--names", name)["TargetGroups"][0]
    assert described["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    listed = berth.aws("elbv2", "describe-load-balancers")["LoadBalancers"]
    assert lb["LoadBalancerArn"] in [x["LoadBalancerArn"] for x in listed]
    # A target group in use cannot go; the load balancer takes its listeners with it.
    assert_cli_error(berth.aws_run("elbv2", "delete-target-group", "--target-group-arn", tg["TargetGroupArn"]),
                     "ResourceInUse")
    berth.aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])
    berth.aws("elbv2", "wait", "load-balancers-deleted", "--load-balancer-arns", lb["LoadBalancerArn"])
    berth.aws("elbv2", "delete-target-group", "--target-group-arn", tg["TargetGroupArn"])
    assert_cli_error(berth.aws_run("elbv2", "describe-target-groups", "--names", name), "TargetGroupNotFound")


def test_two_load_balancers_get_their_own_addresses(elbv2):
    a = elbv2.create_load_balancer(Name=unique("lba"))["LoadBalancers"][0]
    b = elbv2.create_load_balancer(Name=unique("lbb"))["LoadBalancers"][0]
    try:
        assert a["DNSName"] != b["DNSName"]
        # The same name with the same settings answers the same load balancer.
        again = elbv2.create_load_balancer(Name=a["LoadBalancerName"])["LoadBalancers"][0]
        assert again["LoadBalancerArn"] == a["LoadBalancerArn"]
        with raises_aws("DuplicateLoadBalancerName"):
            elbv2.create_load_balancer(Name=a["LoadBalancerName"], Scheme="internal")
    finally:
        for lb in (a, b):
            elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])


def test_listeners_rules_and_priorities(elbv2, load_balancer):
    api, web = target_group(elbv2), target_group(elbv2)
    lb_arn = load_balancer["LoadBalancerArn"]
    weighted = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": web["TargetGroupArn"], "Weight": 90},
        {"TargetGroupArn": api["TargetGroupArn"], "Weight": 10}]}}]
    listener = elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8081,
                                     DefaultActions=weighted)["Listeners"][0]
    l_arn = listener["ListenerArn"]
    tuples = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert [t["Weight"] for t in tuples] == [90, 10]
    with raises_aws("DuplicateListener"):
        elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8081, DefaultActions=forward(api["TargetGroupArn"]))

    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}
    r1 = elbv2.create_rule(ListenerArn=l_arn, Priority=10, Conditions=[path],
                           Actions=forward(api["TargetGroupArn"]))["Rules"][0]
    host = {"Field": "host-header", "Values": ["static.example.com"]}
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "MessageBody": "gone"}}]
    r2 = elbv2.create_rule(ListenerArn=l_arn, Priority=5, Conditions=[host], Actions=fixed)["Rules"][0]
    header = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["1"]}}
    query = {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}}
    method = {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}
    source = {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}}
    redirect = [{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_301"}}]
    r3 = elbv2.create_rule(ListenerArn=l_arn, Priority=20, Conditions=[header, query, method, source],
                           Actions=redirect)["Rules"][0]
    assert r3["Conditions"][1]["QueryStringConfig"]["Values"] == [{"Key": "v", "Value": "2"}]

    rules = elbv2.describe_rules(ListenerArn=l_arn)["Rules"]
    assert [r["Priority"] for r in rules] == ["5", "10", "20", "default"]
    assert rules[-1]["IsDefault"] and rules[-1]["Actions"] == listener["DefaultActions"]

    with raises_aws("PriorityInUse"):
        elbv2.create_rule(ListenerArn=l_arn, Priority=10, Conditions=[path], Actions=fixed)
    with raises_aws("ValidationError"):
        elbv2.create_rule(ListenerArn=l_arn, Priority=30, Conditions=[{"Field": "cookie", "Values": ["x"]}],
                          Actions=fixed)
    with raises_aws("PriorityInUse"):
        elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": r1["RuleArn"], "Priority": 20}])
    # Swapping two priorities in one call is fine.
    swapped = elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": r1["RuleArn"], "Priority": 5},
                                                        {"RuleArn": r2["RuleArn"], "Priority": 10}])["Rules"]
    assert [(r["RuleArn"], r["Priority"]) for r in swapped] == [(r1["RuleArn"], "5"), (r2["RuleArn"], "10")]
    with raises_aws("OperationNotPermitted"):
        elbv2.delete_rule(RuleArn=rules[-1]["RuleArn"])

    modified = elbv2.modify_rule(RuleArn=r1["RuleArn"], Actions=forward(web["TargetGroupArn"]))["Rules"][0]
    assert modified["Actions"][0]["TargetGroupArn"] == web["TargetGroupArn"]
    elbv2.delete_rule(RuleArn=r2["RuleArn"])
    with raises_aws("RuleNotFound"):
        elbv2.describe_rules(RuleArns=[r2["RuleArn"]])
    moved = elbv2.modify_listener(ListenerArn=l_arn, Port=8082, DefaultActions=forward(web["TargetGroupArn"]))
    assert moved["Listeners"][0]["Port"] == 8082
    assert elbv2.describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"]
    elbv2.delete_listener(ListenerArn=l_arn)
    with raises_aws("ListenerNotFound"):
        elbv2.describe_listeners(ListenerArns=[l_arn])
    with raises_aws("RuleNotFound"):
        elbv2.describe_rules(RuleArns=[r3["RuleArn"]])
    for tg in (api, web):
        elbv2.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])


def test_targets_register_drain_and_deregister(elbv2, load_balancer):
    tg = target_group(elbv2, TargetType="ip")
    arn = tg["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": 9}, {"Id": "127.0.0.2"}])
    health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert sorted((h["Target"]["Id"], h["Target"]["Port"]) for h in health) == [("127.0.0.1", 9), ("127.0.0.2", 8080)]
    # No listener uses the group yet.
    assert {h["TargetHealth"]["Reason"] for h in health} == {"Target.NotInUse"}
    with raises_aws("InvalidTarget"):
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "i-0123456789abcdef0"}])

    attrs = elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "2"},
        {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])["Attributes"]
    assert {a["Key"]: a["Value"] for a in attrs}["deregistration_delay.timeout_seconds"] == "2"
    with raises_aws("ValidationError"):
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "load_balancing.algorithm.type", "Value": "random"}])

    elbv2.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.2"}])
    draining = elbv2.describe_target_health(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.2"}])
    assert draining["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "draining"
    elbv2.get_waiter("target_deregistered").wait(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.2"}], WaiterConfig=FAST)
    left = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert [h["Target"]["Id"] for h in left] == ["127.0.0.1"]
    elbv2.delete_target_group(TargetGroupArn=arn)


def test_attributes_tags_and_limits(elbv2, load_balancer):
    lb_arn = load_balancer["LoadBalancerArn"]
    defaults = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb_arn)["Attributes"]}
    assert defaults["deletion_protection.enabled"] == "false" and defaults["idle_timeout.timeout_seconds"] == "60"
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"}])
    with raises_aws("OperationNotPermitted"):
        elbv2.delete_load_balancer(LoadBalancerArn=lb_arn)
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])

    tg = target_group(elbv2, Tags=[{"Key": "team", "Value": "web"}])
    tg_attrs = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert tg_attrs["deregistration_delay.timeout_seconds"] == "300"
    assert tg_attrs["load_balancing.algorithm.type"] == "round_robin"
    elbv2.add_tags(ResourceArns=[lb_arn, tg["TargetGroupArn"]], Tags=[{"Key": "env", "Value": "test"}])
    elbv2.remove_tags(ResourceArns=[tg["TargetGroupArn"]], TagKeys=["team"])
    described = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]} for d in
                 elbv2.describe_tags(ResourceArns=[lb_arn, tg["TargetGroupArn"]])["TagDescriptions"]}
    assert described == {lb_arn: {"env": "test"}, tg["TargetGroupArn"]: {"env": "test"}}
    with raises_aws("DuplicateTagKeys"):
        elbv2.add_tags(ResourceArns=[lb_arn], Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])

    limits = {x["Name"]: x["Max"] for x in elbv2.describe_account_limits()["Limits"]}
    assert limits["application-load-balancers"] == "50"
    elbv2.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])


def test_bad_input_gets_elb_error_codes(elbv2, berth, load_balancer):
    prefix = f"arn:aws:elasticloadbalancing:{berth.region}:{berth.account_id}"
    missing_tg = f"{prefix}:targetgroup/nope/0123456789abcdef"
    missing_lb = f"{prefix}:loadbalancer/app/nope/0123456789abcdef"
    missing_listener = f"{prefix}:listener/app/nope/0123456789abcdef/0123456789abcdef"
    with raises_aws("TargetGroupNotFound"):
        elbv2.describe_target_groups(TargetGroupArns=[missing_tg])
    with raises_aws("TargetGroupNotFound"):
        elbv2.describe_target_health(TargetGroupArn=missing_tg)
    with raises_aws("LoadBalancerNotFound"):
        elbv2.describe_load_balancers(LoadBalancerArns=[missing_lb])
    with raises_aws("LoadBalancerNotFound"):
        elbv2.create_listener(LoadBalancerArn=missing_lb, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])
    with raises_aws("ListenerNotFound"):
        elbv2.describe_rules(ListenerArn=missing_listener)
    with raises_aws("TargetGroupNotFound"):
        elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=forward(missing_tg))
    with raises_aws("ValidationError"):
        elbv2.describe_target_groups(TargetGroupArns=["not-an-arn"])
    with raises_aws("ValidationError"):
        elbv2.create_target_group(Name="bad_name", Protocol="HTTP", Port=80, VpcId="vpc-1")
    with raises_aws("ValidationError"):
        target_group(elbv2, HealthCheckPath="health")
    with raises_aws("InvalidConfigurationRequest"):
        target_group(elbv2, HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=20)
    with raises_aws("UnsupportedProtocol"):
        target_group(elbv2, Protocol="HTTPS")
    tg = target_group(elbv2)
    with raises_aws("DuplicateTargetGroupName"):
        target_group(elbv2, Name=tg["TargetGroupName"], Port=9090)
    same = target_group(elbv2, Name=tg["TargetGroupName"])
    assert same["TargetGroupArn"] == tg["TargetGroupArn"]
    with raises_aws("InvalidLoadBalancerAction"):
        elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward"}])
    with raises_aws("ValidationError"):
        elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                                  {"TargetGroupArn": tg["TargetGroupArn"], "Weight": 1000}]}}])
    with raises_aws("ValidationError"):
        elbv2.create_load_balancer(Name="internal-x")
    with raises_aws("ValidationError"):
        elbv2.create_load_balancer(Name="nlb", Type="network")
    elbv2.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
    # Deleting what is already gone is no error, as in ELB.
    elbv2.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
    elbv2.delete_load_balancer(LoadBalancerArn=missing_lb)


# ----- the data plane: listeners really listen on the load balancer's address ---------------------------


class Backend:
    """A loopback HTTP server answering its name (and the X-Forwarded-* headers it got); /health answers
    `health_status`; /slow answers after 3 s; /headers answers the names of the headers it got."""

    def __init__(self, name: str):
        import http.server
        import threading

        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path == "/health":
                    status, body = backend.health_status, b"health"
                elif self.path == "/slow":
                    time.sleep(3)
                    status, body = 200, b"slow"
                elif self.path == "/headers":
                    status, body = 200, ",".join(self.headers.keys()).encode()
                else:
                    fwd = ",".join(self.headers.get(h, "") for h in
                                   ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port"))
                    status, body = 200, f"{backend.name} {fwd}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.name, self.health_status = name, 200
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backends():
    made: list[Backend] = []

    def make(name: str) -> Backend:
        made.append(Backend(name))
        return made[-1]

    yield make
    for b in made:
        b.close()


def ip_group(elbv2, backends_: list[Backend]) -> str:
    """An ip target group of BACKENDS with fast health checks (every 5 s, healthy after 2); its ARN."""
    arn = target_group(elbv2, TargetType="ip", HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                       HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroupArn"]
    if backends_:
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": b.port} for b in backends_])
    return arn


def wait_healthy(elbv2, arn: str):
    elbv2.get_waiter("target_in_service").wait(TargetGroupArn=arn, WaiterConfig=FAST)


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    import requests

    r = requests.get(url, headers=headers or {}, timeout=10, allow_redirects=False)
    return r.status_code, r.text


def test_listener_routes_by_rules_and_weights(elbv2, load_balancer, backends):
    blue, green, api = backends("blue"), backends("green"), backends("api")
    blue_tg, green_tg, api_tg = ip_group(elbv2, [blue]), ip_group(elbv2, [green]), ip_group(elbv2, [api])
    weighted = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": blue_tg, "Weight": 90}, {"TargetGroupArn": green_tg, "Weight": 10}]}}]
    listener = elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                     DefaultActions=weighted)["Listeners"][0]
    elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Actions=forward(api_tg),
                      Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}])
    elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=2, Conditions=[
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Teapot", "Values": ["yes"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "MessageBody": "teapot"}}])
    elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=3, Conditions=[
        {"Field": "path-pattern", "Values": ["/old"]}],
        Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_301"}}])
    for arn in (blue_tg, green_tg, api_tg):
        wait_healthy(elbv2, arn)
    base = f"http://{load_balancer['DNSName']}:80"

    status, body = get(f"{base}/api/users")
    assert status == 200 and body.startswith("api ")
    assert body.split(" ", 1)[1] == "127.0.0.1,http,80"  # X-Forwarded-For, -Proto, -Port
    assert get(f"{base}/", {"X-Teapot": "yes"}) == (418, "teapot")
    import requests

    moved = requests.get(f"{base}/old", timeout=10, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/new")

    counts = {"blue": 0, "green": 0}
    with requests.Session() as s:  # one keep-alive connection
        for _ in range(1000):
            r = s.get(f"{base}/", timeout=10)
            assert r.status_code == 200
            counts[r.text.split(" ")[0]] += 1
    assert 850 <= counts["blue"] <= 950, counts


def test_unhealthy_targets_fail_open_and_errors(elbv2, load_balancer, backends):
    a, b = backends("a"), backends("b")
    tg = ip_group(elbv2, [a, b])
    elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=forward(tg))
    wait_healthy(elbv2, tg)
    base = f"http://{load_balancer['DNSName']}:80"
    assert {get(f"{base}/")[1].split(" ")[0] for _ in range(6)} == {"a", "b"}

    b.health_status = 500
    deadline = time.time() + 30
    while time.time() < deadline:
        states = {d["Target"]["Port"]: d["TargetHealth"] for d in
                  elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}
        if states[b.port]["State"] == "unhealthy":
            break
        time.sleep(1)
    assert states[b.port] == {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                              "Description": "Health checks failed with these codes: [500]"}
    assert {get(f"{base}/")[1].split(" ")[0] for _ in range(6)} == {"a"}

    # Every target unhealthy: ALB fails open and sends to all of them.
    a.health_status = 500
    deadline = time.time() + 30
    while time.time() < deadline and any(d["TargetHealth"]["State"] != "unhealthy" for d in
                                         elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]):
        time.sleep(1)
    assert {get(f"{base}/")[1].split(" ")[0] for _ in range(6)} == {"a", "b"}

    # A target that refuses connections: 502.
    elbv2.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": p} for p in (a.port, b.port)])
    refusing = free_port()
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": refusing}])
    assert eventually(lambda: get(f"{base}/")[0], want=502) == 502
    # No target at all: 503.
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": refusing}])
    assert eventually(lambda: get(f"{base}/")[0], want=503) == 503


def behind_listener(elbv2, load_balancer, backend: Backend) -> str:
    """BACKEND in an ip group that a listener on port 80 forwards to, once healthy; the listener's URL."""
    tg = ip_group(elbv2, [backend])
    elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=forward(tg))
    wait_healthy(elbv2, tg)
    return f"http://{load_balancer['DNSName']}:80"


def test_the_idle_timeout_attribute_bounds_a_slow_target(elbv2, load_balancer, backends):
    base = behind_listener(elbv2, load_balancer, backends("slow"))
    assert get(f"{base}/slow") == (200, "slow")  # 3 s, within the default 60 s
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=load_balancer["LoadBalancerArn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    assert eventually(lambda: get(f"{base}/slow")[0], want=504) == 504


def test_load_balancer_attributes_shape_the_headers_targets_get(elbv2, load_balancer, backends):
    base = behind_listener(elbv2, load_balancer, backends("b"))
    sent = {"X-Forwarded-For": "203.0.113.7", "X_Secret": "s"}
    assert get(f"{base}/", sent)[1] == "b 203.0.113.7, 127.0.0.1,http,80"  # appended, by default
    assert "X_Secret" in get(f"{base}/headers", sent)[1].split(",")

    def attributes(**values):
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=load_balancer["LoadBalancerArn"], Attributes=[
            {"Key": k.replace("__", "."), "Value": v} for k, v in values.items()])

    attributes(routing__http__xff_header_processing__mode="preserve")
    assert eventually(lambda: get(f"{base}/", sent)[1], want="b 203.0.113.7,http,80") == "b 203.0.113.7,http,80"
    attributes(routing__http__xff_header_processing__mode="remove",
               routing__http__drop_invalid_header_fields__enabled="true")
    assert eventually(lambda: get(f"{base}/", sent)[1], want="b ,http,80") == "b ,http,80"
    assert "X_Secret" not in get(f"{base}/headers", sent)[1].split(",")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(probe, want, seconds: float = 10):
    """PROBE's value once it equals WANT, or its last value after SECONDS."""
    deadline = time.time() + seconds
    value = probe()
    while time.time() < deadline and value != want:
        time.sleep(0.2)
        value = probe()
    return value


# ----- ECS services behind a load balancer: real containers, real HTTP ------------------------------------

# Writes its own hostname into the page it serves, so a response tells which task answered.
HTTPD = ["sh", "-c", "trap 'exit 0' TERM; hostname > /www/index.html; httpd -f -p 8080 -h /www & wait"]


@pytest.fixture
def cluster(berth, tmp_path, test_image):
    """A fresh cluster on the shared server with one real agent."""
    from agent_harness import AgentProcess

    name = unique("lbc")
    berth.client("ecs").create_cluster(clusterName=name)
    agent = AgentProcess(berth, name, tmp_path / "agent").start()
    yield name
    agent.close()


def web_definition(ecs, family: str) -> str:
    from agent_harness import TEST_IMAGE
    from berth_harness import container
    from berth_harness import register as register_definition

    c = container(name="web", image=TEST_IMAGE, memory=32, command=HTTPD,
                  portMappings=[{"containerPort": 8080, "hostPort": 0}])
    return register_definition(ecs, family, [c], networkMode="bridge")["taskDefinition"]["taskDefinitionArn"]


def web_service(berth, elbv2, cluster: str, load_balancer: dict, count: int, **group_args) -> tuple[str, str]:
    """Target group + listener on 80 + a service of COUNT bridge tasks (hostPort 0) behind it: (service, group)."""
    ecs = berth.client("ecs")
    args = {"HealthCheckIntervalSeconds": 5, "HealthCheckTimeoutSeconds": 2, "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 2, **group_args}
    tg = target_group(elbv2, **args)["TargetGroupArn"]
    elbv2.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3"}])
    elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=forward(tg))
    name = unique("web")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=web_definition(ecs, name), desiredCount=count,
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
                       deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})
    return name, tg


def events(ecs, cluster: str, service: str) -> list[str]:
    return [e["message"] for e in ecs.describe_services(cluster=cluster, services=[service])["services"][0]["events"]]


def wait_in_service(elbv2, tg: str, count: int):
    deadline = time.time() + 120
    while time.time() < deadline:
        if len(elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]) >= count:
            break
        time.sleep(1)
    elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def test_seed_004_service_tasks_behind_the_load_balancer(berth, elbv2, cluster, load_balancer):
    ecs = berth.client("ecs")
    service, tg = web_service(berth, elbv2, cluster, load_balancer, 10)
    wait_in_service(elbv2, tg, 10)
    targets = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert len(targets) == 10 and len({t["Target"]["Port"] for t in targets}) == 10
    tasks = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"])
    host_ports = {t["containers"][0]["networkBindings"][0]["hostPort"] for t in tasks["tasks"]}
    assert host_ports == {t["Target"]["Port"] for t in targets}
    import requests

    seen = set()
    with requests.Session() as s:
        for _ in range(100):
            r = s.get(f"http://{load_balancer['DNSName']}:80/", timeout=10)
            assert r.status_code == 200
            seen.add(r.text.strip())
    assert len(seen) == 10, seen
    messages = events(ecs, cluster, service)
    # ECS's words (identical events in a row are recorded once, as ECS does).
    assert any(m.startswith(f"(service {service}) registered ") and m.endswith(f"targets in (target-group {tg})")
               for m in messages), messages
    # The target group is in use by the service: it cannot be deleted.
    with raises_aws("ResourceInUse"):
        elbv2.delete_target_group(TargetGroupArn=tg)
    ecs.delete_service(cluster=cluster, service=service, force=True)
    deadline = time.time() + 60
    while time.time() < deadline and elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]:
        time.sleep(1)
    assert elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"] == []
    assert any("has begun draining connections on" in m for m in events(ecs, cluster, service))


def test_task_failing_elb_health_checks_is_replaced(berth, elbv2, cluster, load_balancer):
    ecs = berth.client("ecs")
    service, tg = web_service(berth, elbv2, cluster, load_balancer, 1, HealthCheckPath="/health")
    deadline = time.time() + 90
    while time.time() < deadline:
        failed = [m for m in events(ecs, cluster, service) if "failed ELB health checks in (target-group" in m]
        if failed:
            break
        time.sleep(1)
    assert failed and failed[0].startswith(f"(service {service}) (task ") and tg in failed[0]
    deadline = time.time() + 60
    stopped = []
    while time.time() < deadline and not stopped:
        arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")["taskArns"]
        stopped = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
        time.sleep(1)
    assert stopped[0]["stoppedReason"].startswith("Task failed ELB health checks in (target-group ")
    ecs.delete_service(cluster=cluster, service=service, force=True)


def test_rolling_deploy_behind_the_load_balancer_drops_nothing(berth, elbv2, cluster, load_balancer):
    import threading

    import requests

    ecs = berth.client("ecs")
    service, tg = web_service(berth, elbv2, cluster, load_balancer, 2)
    wait_in_service(elbv2, tg, 2)
    statuses: list[int] = []
    hosts: set[str] = set()
    stop = threading.Event()

    def load():
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    r = s.get(f"http://{load_balancer['DNSName']}:80/", timeout=10)
                    statuses.append(r.status_code)
                    hosts.add(r.text.strip())
                except requests.RequestException:
                    statuses.append(0)
                time.sleep(0.02)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        before = set(ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"])
        ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service],
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        after = set(ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"])
        time.sleep(1)
    finally:
        stop.set()
        worker.join()
    assert before.isdisjoint(after)
    assert len(statuses) > 100
    bad = [s for s in statuses if not 200 <= s < 300]
    assert bad == [], f"{len(bad)} of {len(statuses)} requests failed: {sorted(set(bad))}"
    assert len(hosts) >= 4  # old and new tasks both answered
    ecs.delete_service(cluster=cluster, service=service, force=True)


def test_awsvpc_tasks_behind_an_ip_target_group(berth, elbv2, cluster, load_balancer):
    from agent_harness import TEST_IMAGE

    ecs = berth.client("ecs")
    tg = target_group(elbv2, TargetType="ip", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                      HealthyThresholdCount=2)["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=forward(tg))
    family = unique("vpcweb")
    td = ecs.register_task_definition(family=family, networkMode="awsvpc", containerDefinitions=[
        {"name": "web", "image": TEST_IMAGE, "memory": 32, "command": HTTPD, "portMappings": [{"containerPort": 8080}]}
    ])["taskDefinition"]["taskDefinitionArn"]
    # An instance target group does not suit awsvpc tasks, as ECS says.
    instance_tg = target_group(elbv2)["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=load_balancer["LoadBalancerArn"], Protocol="HTTP", Port=8081,
                          DefaultActions=forward(instance_tg))
    with raises_aws("InvalidParameterException", f"The provided target group {instance_tg} has target type instance, "
                    "which is incompatible with the awsvpc network mode specified in the task definition."):
        ecs.create_service(cluster=cluster, serviceName=family, taskDefinition=td, desiredCount=2,
                           networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-berth"]}},
                           loadBalancers=[{"targetGroupArn": instance_tg, "containerName": "web", "containerPort": 8080}])
    ecs.create_service(cluster=cluster, serviceName=family, taskDefinition=td, desiredCount=2,
                       networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-berth"]}},
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}])
    wait_in_service(elbv2, tg, 2)
    tasks = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName=family)["taskArns"])
    ips = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks["tasks"]}
    targets = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert {(t["Target"]["Id"], t["Target"]["Port"]) for t in targets} == {(ip, 8080) for ip in ips}
    seen = {get(f"http://{load_balancer['DNSName']}/")[1].strip() for _ in range(10)}
    assert len(seen) == 2
    ecs.delete_service(cluster=cluster, service=family, force=True)


def test_listeners_come_back_after_a_server_restart(fresh_berth, backends):
    elbv2 = fresh_berth.client("elbv2")
    backend = backends("kept")
    tg = ip_group(elbv2, [backend])
    lb = elbv2.create_load_balancer(Name=unique("lbr"))["LoadBalancers"][0]
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward(tg))
    wait_healthy(elbv2, tg)
    url = f"http://{lb['DNSName']}/"
    assert get(url)[1].startswith("kept ")
    fresh_berth.restart()
    assert eventually(lambda: get_or_none(url), want=200) == 200
    # Deleting the load balancer closes its listener.
    fresh_berth.client("elbv2").delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert eventually(lambda: get_or_none(url), want=None) is None


def get_or_none(url: str) -> int | None:
    """The status of GET URL, or None when nothing listens there."""
    import requests

    try:
        return get(url)[0]
    except requests.ConnectionError:
        return None


def test_listeners_bind_the_configured_interface_address(make_berth, unused_port):
    """`--lb-listen-address`: listeners bind that address (a real interface in production, loopback here)."""
    server = make_berth(extra_args=("--lb-listen-address", "127.0.0.1"))
    elbv2 = server.client("elbv2")
    port = unused_port
    lb = elbv2.create_load_balancer(Name=unique("lbi"))["LoadBalancers"][0]
    body = {"StatusCode": "200", "ContentType": "text/plain", "MessageBody": "on the interface"}
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                          DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": body}])  # fmt: skip
    assert eventually(lambda: get_or_none(f"http://127.0.0.1:{port}/"), want=200) == 200
    assert get(f"http://127.0.0.1:{port}/") == (200, "on the interface")
    # Not on the load balancer's own loopback address.
    assert get_or_none(f"http://{lb['DNSName']}:{port}/") is None
