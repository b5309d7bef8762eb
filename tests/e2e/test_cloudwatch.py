"""CloudWatch metrics and alarms: the aws CLI v1 and boto3 (JSON 1.0, GraniteServiceVersion20100801) against
berth's metric store and alarm evaluator. Alarm tests run a server whose metric-time minute lasts 2 seconds
(`--metric-minute-seconds 2`), so that a Period of 60 is evaluated every 2 real seconds."""

from __future__ import annotations

import datetime
import json
import time

import pytest

from berth_harness import assert_cli_error, raises_aws, unique

FAST = ("--metric-minute-seconds", "2")


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def minute_start(offset_minutes: int = 0) -> int:
    """The start of a whole minute a few minutes ago (every test's data is in the past, within two weeks)."""
    return (int(time.time()) // 60 - 5 + offset_minutes) * 60


@pytest.fixture
def cw(berth):
    return berth.client("cloudwatch")


def put_cli(berth, namespace: str, data: list[dict]) -> None:
    berth.aws("cloudwatch", "put-metric-data", "--namespace", namespace, "--metric-data", json.dumps(data))


def test_put_metric_data_then_statistics_are_exact(berth, cw):
    ns = unique("App")
    t0 = minute_start()
    dims = [{"Name": "Service", "Value": "web"}]
    put_cli(berth, ns, [
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": iso(t0), "Value": 10, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": iso(t0 + 5), "Value": 30, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": iso(t0 + 61), "Values": [1, 2, 3], "Counts": [1, 1, 2],
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": iso(t0 + 125),
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}, "Unit": "Milliseconds"},
    ])  # fmt: skip
    out = berth.aws(
        "cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "Latency",
        "--dimensions", "Name=Service,Value=web", "--start-time", iso(t0), "--end-time", iso(t0 + 180),
        "--period", "60", "--statistics", "Sum", "Average", "SampleCount", "Minimum", "Maximum",
    )  # fmt: skip
    points = sorted(out["Datapoints"], key=lambda d: d["Timestamp"])
    got = [(p["Sum"], p["Average"], p["SampleCount"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points]
    assert got == [
        (40.0, 20.0, 2.0, 10.0, 30.0, "Milliseconds"),
        (9.0, 2.25, 4.0, 1.0, 3.0, "Milliseconds"),
        (100.0, 25.0, 4.0, 5.0, 50.0, "Milliseconds"),
    ]
    # One period over everything; a percentile from the known samples.
    whole = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0, EndTime=t0 + 120, Period=120,
        ExtendedStatistics=["p50", "p100"],
    )["Datapoints"]  # fmt: skip
    assert len(whole) == 1 and whole[0]["ExtendedStatistics"] == {"p50": 3.0, "p100": 30.0}
    # Another unit, or other dimensions, is other data.
    assert cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
                                    EndTime=t0 + 180, Period=60, Statistics=["Sum"], Unit="Seconds")["Datapoints"] == []
    assert cw.get_metric_statistics(Namespace=ns, MetricName="Latency", StartTime=t0, EndTime=t0 + 180, Period=60,
                                    Statistics=["Sum"])["Datapoints"] == []  # fmt: skip


def test_high_resolution_data_in_one_second_periods(berth, cw):
    ns = unique("HiRes")
    t0 = minute_start()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Req", "Timestamp": t0 + i // 2, "Value": float(i), "StorageResolution": 1} for i in range(6)
    ])  # fmt: skip
    points = cw.get_metric_statistics(Namespace=ns, MetricName="Req", StartTime=t0, EndTime=t0 + 10, Period=1,
                                      Statistics=["Sum", "SampleCount"])["Datapoints"]  # fmt: skip
    got = sorted((int(p["Timestamp"].timestamp()) - t0, p["Sum"], p["SampleCount"]) for p in points)
    assert got == [(0, 1.0, 2.0), (1, 5.0, 2.0), (2, 9.0, 2.0)]


def test_list_metrics_filters(berth, cw):
    ns = unique("List")
    t0 = minute_start()
    put_cli(berth, ns, [
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": iso(t0), "Value": 1},
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "b"}, {"Name": "Az", "Value": "x"}],
         "Timestamp": iso(t0), "Value": 1},
        {"MetricName": "Mem", "Timestamp": iso(t0), "Value": 1},
    ])  # fmt: skip
    every = berth.aws("cloudwatch", "list-metrics", "--namespace", ns)["Metrics"]
    assert len(every) == 3
    cpu = berth.aws("cloudwatch", "list-metrics", "--namespace", ns, "--metric-name", "CPU")["Metrics"]
    assert {tuple((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in cpu} == {
        (("Host", "a"),), (("Az", "x"), ("Host", "b")),  # dimensions sorted by name
    }
    b = berth.aws("cloudwatch", "list-metrics", "--namespace", ns, "--dimensions", "Name=Host,Value=b")["Metrics"]
    assert [m["MetricName"] for m in b] == ["CPU"]
    with_az = berth.aws("cloudwatch", "list-metrics", "--namespace", ns, "--dimensions", "Name=Az")["Metrics"]
    assert len(with_az) == 1
    recent = cw.list_metrics(Namespace=ns, RecentlyActive="PT3H")["Metrics"]
    assert len(recent) == 3


def test_get_metric_data_with_metric_math_and_paging(berth, cw):
    ns = unique("Math")
    t0 = minute_start()
    cw.put_metric_data(Namespace=ns, MetricData=[
        *[{"MetricName": "Errors", "Timestamp": t0 + 60 * i, "Value": float(i)} for i in range(3)],
        *[{"MetricName": "Requests", "Timestamp": t0 + 60 * i, "Value": 10.0 * (i + 1)} for i in range(3)],
    ])  # fmt: skip

    def stat(id_, name, **extra):
        return {"Id": id_, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name}, "Period": 60, "Stat": "Sum"},
                **extra}  # fmt: skip

    queries = [
        stat("e", "Errors", ReturnData=False),
        stat("r", "Requests", ReturnData=False),
        {"Id": "rate", "Expression": "100 * e / r", "Label": "ErrorRate"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
    ]
    out = cw.get_metric_data(MetricDataQueries=queries, StartTime=t0, EndTime=t0 + 180, ScanBy="TimestampAscending")
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"rate", "total"}
    assert results["rate"]["Label"] == "ErrorRate" and results["rate"]["StatusCode"] == "Complete"
    assert results["rate"]["Values"] == [0.0, 5.0, 100 * 2 / 30]
    assert [int(t.timestamp()) for t in results["rate"]["Timestamps"]] == [t0, t0 + 60, t0 + 120]
    assert results["total"]["Values"] == [10.0, 21.0, 32.0]
    # Newest first by default, and MaxDatapoints pages with NextToken.
    first = cw.get_metric_data(MetricDataQueries=[stat("r", "Requests")], StartTime=t0, EndTime=t0 + 180,
                               MaxDatapoints=2)  # fmt: skip
    assert first["MetricDataResults"][0]["Values"] == [30.0, 20.0]
    assert first["MetricDataResults"][0]["StatusCode"] == "PartialData"
    rest = cw.get_metric_data(MetricDataQueries=[stat("r", "Requests")], StartTime=t0, EndTime=t0 + 180,
                              MaxDatapoints=2, NextToken=first["NextToken"])  # fmt: skip
    assert rest["MetricDataResults"][0]["Values"] == [10.0] and "NextToken" not in rest
    with raises_aws("InvalidParameterValue", "Error in expression bad"):
        cw.get_metric_data(MetricDataQueries=[{"Id": "bad", "Expression": "e +"}], StartTime=t0, EndTime=t0 + 60)
    with raises_aws("InvalidNextToken"):
        cw.get_metric_data(MetricDataQueries=[stat("r", "Requests")], StartTime=t0, EndTime=t0 + 60, NextToken="x")


def test_alarms_describe_filters_set_state_history_tags_and_delete(berth, cw):
    prefix = unique("alarm")
    policy = "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:1:autoScalingGroupName/g:policyName/p"
    for i in range(3):
        actions = ["--alarm-actions", policy] if i == 0 else []
        berth.aws(
            "cloudwatch", "put-metric-alarm", "--alarm-name", f"{prefix}-{i}", "--namespace", "App",
            "--metric-name", "CPU", "--statistic", "Average", "--period", "60", "--evaluation-periods", "3",
            "--datapoints-to-alarm", "2", "--threshold", "70", "--comparison-operator", "GreaterThanThreshold",
            "--treat-missing-data", "ignore", *actions, "--tags", "Key=team,Value=a",
        )  # fmt: skip
    alarms = berth.aws("cloudwatch", "describe-alarms", "--alarm-name-prefix", prefix)["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    a0 = alarms[0]
    assert a0["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{prefix}-0"
    assert (a0["StateValue"], a0["DatapointsToAlarm"], a0["TreatMissingData"]) == ("INSUFFICIENT_DATA", 2, "ignore")
    assert a0["AlarmActions"] == [policy] and a0["ActionsEnabled"] is True
    assert [a["AlarmName"] for a in cw.describe_alarms(ActionPrefix="arn:aws:autoscaling:")["MetricAlarms"]
            if a["AlarmName"].startswith(prefix)] == [f"{prefix}-0"]  # fmt: skip
    page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    assert len(page["MetricAlarms"]) == 2
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix=prefix, NextToken=page["NextToken"])["MetricAlarms"]] == [f"{prefix}-2"]

    berth.aws("cloudwatch", "set-alarm-state", "--alarm-name", f"{prefix}-1", "--state-value", "ALARM",
              "--state-reason", "testing", "--state-reason-data", '{"why": "test"}')  # fmt: skip
    in_alarm = cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
    assert [(a["AlarmName"], a["StateReason"], a["StateReasonData"]) for a in in_alarm] == [
        (f"{prefix}-1", "testing", '{"why": "test"}')
    ]
    history = cw.describe_alarm_history(AlarmName=f"{prefix}-1")["AlarmHistoryItems"]
    assert [h["HistoryItemType"] for h in history] == ["StateUpdate", "ConfigurationUpdate"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    data = json.loads(history[0]["HistoryData"])
    assert data["newState"]["stateValue"] == "ALARM" and data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"
    assert history[1]["HistorySummary"] == f'Alarm "{prefix}-1" created'
    only_config = cw.describe_alarm_history(AlarmName=f"{prefix}-1", HistoryItemType="ConfigurationUpdate")
    assert len(only_config["AlarmHistoryItems"]) == 1

    berth.aws("cloudwatch", "disable-alarm-actions", "--alarm-names", f"{prefix}-0")
    assert cw.describe_alarms(AlarmNames=[f"{prefix}-0"])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=[f"{prefix}-0"])
    assert cw.describe_alarms(AlarmNames=[f"{prefix}-0"])["MetricAlarms"][0]["ActionsEnabled"] is True

    arn = a0["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "b", "env": "prod"}
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    with raises_aws("ResourceNotFoundException"):
        cw.list_tags_for_resource(ResourceARN=arn + "-missing")

    assert_cli_error(berth.aws_run("cloudwatch", "delete-alarms", "--alarm-names", f"{prefix}-0", "nope"), "ResourceNotFound")
    assert len(cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]) == 3, "nothing deleted"
    berth.aws("cloudwatch", "delete-alarms", "--alarm-names", f"{prefix}-0", f"{prefix}-1", f"{prefix}-2")
    assert cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"] == []
    with raises_aws("ResourceNotFound"):
        cw.set_alarm_state(AlarmName=f"{prefix}-0", StateValue="OK", StateReason="x")


def wait_for_state(cw, name: str, state: str, feed, deadline_s: float = 120) -> dict:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        feed()
        alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == state:
            return alarm
        time.sleep(0.5)
    raise AssertionError(f"alarm {name} did not reach {state} within {deadline_s}s: {alarm}")


def test_an_alarm_goes_to_alarm_and_back_to_ok(make_berth):
    server = make_berth(extra_args=FAST)
    cw = server.client("cloudwatch")
    server.aws(
        "cloudwatch", "put-metric-alarm", "--alarm-name", "cpu-high", "--namespace", "App", "--metric-name", "CPU",
        "--dimensions", "Name=Service,Value=web", "--statistic", "Average", "--period", "60",
        "--evaluation-periods", "2", "--threshold", "70", "--comparison-operator", "GreaterThanThreshold",
    )  # fmt: skip

    def feed(value: float):
        return lambda: cw.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "CPU", "Dimensions": [{"Name": "Service", "Value": "web"}], "Value": value,
             "StorageResolution": 1}])  # fmt: skip

    alarm = wait_for_state(cw, "cpu-high", "ALARM", feed(91.0))
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 datapoints [91.0 ("), alarm["StateReason"]
    assert alarm["StateReason"].endswith("were greater than the threshold (70.0)."), alarm["StateReason"]
    reason = json.loads(alarm["StateReasonData"])
    assert reason["threshold"] == 70.0 and reason["recentDatapoints"] == [91.0, 91.0]
    alarm = wait_for_state(cw, "cpu-high", "OK", feed(10.0))
    assert "were not greater than the threshold (70.0)" in alarm["StateReason"]
    summaries = [h["HistorySummary"] for h in cw.describe_alarm_history(AlarmName="cpu-high",
                                                                         HistoryItemType="StateUpdate")["AlarmHistoryItems"]]
    assert summaries[:2] == ["Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    # Without data the alarm has nothing to judge: INSUFFICIENT_DATA (TreatMissingData missing).
    wait_for_state(cw, "cpu-high", "INSUFFICIENT_DATA", lambda: None)


def test_acknowledged_data_and_alarms_survive_a_server_crash(fresh_berth):
    cw = fresh_berth.client("cloudwatch")
    t0 = minute_start()
    for i in range(20):
        cw.put_metric_data(Namespace="Durable", MetricData=[{"MetricName": "n", "Timestamp": t0 + i, "Value": float(i)}])
    cw.put_metric_alarm(AlarmName="kept", Namespace="Durable", MetricName="n", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1e9, ComparisonOperator="GreaterThanThreshold")  # fmt: skip
    fresh_berth.restart(crash=True)
    cw = fresh_berth.client("cloudwatch")
    points = cw.get_metric_statistics(Namespace="Durable", MetricName="n", StartTime=t0, EndTime=t0 + 60, Period=60,
                                      Statistics=["Sum", "SampleCount"])["Datapoints"]  # fmt: skip
    assert [(p["Sum"], p["SampleCount"]) for p in points] == [(190.0, 20.0)]
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["kept"]
    # Twice, so that the replay after the first restart was not counted twice.
    fresh_berth.restart(crash=True)
    points = fresh_berth.client("cloudwatch").get_metric_statistics(
        Namespace="Durable", MetricName="n", StartTime=t0, EndTime=t0 + 60, Period=60, Statistics=["Sum"])["Datapoints"]
    assert [p["Sum"] for p in points] == [190.0]


def test_bad_input_gets_cloudwatch_codes_and_stores_nothing(berth, cw):
    ns = unique("Bad")
    t0 = minute_start()
    ok = {"MetricName": "m", "Timestamp": t0, "Value": 1.0}
    too_many_dims = [{"Name": f"d{i}", "Value": "v"} for i in range(31)]
    bad_puts = [
        ([ok, {"MetricName": "m", "Timestamp": t0, "Value": 1.0, "StatisticValues":
               {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}], "InvalidParameterCombination"),
        ([ok, {"MetricName": "m", "Timestamp": t0, "Value": 1.0, "Dimensions": too_many_dims}], "InvalidParameterValue"),
        ([ok, {"MetricName": "m", "Timestamp": t0 - 15 * 86400, "Value": 1.0}], "InvalidParameterValue"),
        ([ok, {"MetricName": "m", "Timestamp": t0, "Value": 1.0, "StorageResolution": 7}], "InvalidParameterValue"),
        ([ok] * 1001, "InvalidParameterValue"),
    ]  # fmt: skip
    for data, code in bad_puts:
        with raises_aws(code):
            cw.put_metric_data(Namespace=ns, MetricData=data)
    with raises_aws("InvalidParameterValue", "reserved for AWS"):
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[ok])
    assert_cli_error(berth.aws_run("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "m",
                                   "--value", "1", "--unit", "Parsecs"), "InvalidParameterValue")  # fmt: skip
    assert cw.list_metrics(Namespace=ns)["Metrics"] == [], "a refused batch stores nothing"

    def stats(**kw):
        args = {"Namespace": ns, "MetricName": "m", "StartTime": t0, "EndTime": t0 + 3600, "Period": 60,
                "Statistics": ["Sum"], **kw}  # fmt: skip
        return cw.get_metric_statistics(**{k: v for k, v in args.items() if v is not None})

    for kw, code in [
        ({"Period": 45}, "InvalidParameterValue"),
        ({"Period": 1}, "InvalidParameterCombination"),  # 3600 datapoints > 1440
        ({"EndTime": t0 - 60}, "InvalidParameterValue"),
        ({"Statistics": None}, "MissingParameter"),
        ({"Statistics": None, "ExtendedStatistics": ["p101"]}, "InvalidParameterValue"),
        ({"Dimensions": too_many_dims}, "InvalidParameterValue"),
    ]:
        with raises_aws(code):
            stats(**kw)
    assert_cli_error(berth.aws_run("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "m",
                                   "--start-time", iso(t0), "--end-time", iso(t0 + 60), "--period", "60",
                                   "--statistics", "Median"), "InvalidParameterValue")  # fmt: skip
    bad_alarms = [
        ({"Period": 45}, "InvalidParameterValue"),
        ({"DatapointsToAlarm": 5}, "InvalidParameterCombination"),
        ({"TreatMissingData": "sometimes"}, "InvalidParameterValue"),
        ({"AlarmActions": ["not-an-arn"]}, "InvalidParameterValue"),
        ({"Statistic": None}, "InvalidParameterCombination"),
    ]
    for kw, code in bad_alarms:
        args = {"AlarmName": f"{ns}-alarm", "Namespace": ns, "MetricName": "m", "Statistic": "Sum", "Period": 60,
                "EvaluationPeriods": 3, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold", **kw}  # fmt: skip
        with raises_aws(code):
            cw.put_metric_alarm(**{k: v for k, v in args.items() if v is not None})
    assert cw.describe_alarms(AlarmNames=[f"{ns}-alarm"])["MetricAlarms"] == []
    with raises_aws("InvalidNextToken"):
        cw.describe_alarms(NextToken="garbage")
