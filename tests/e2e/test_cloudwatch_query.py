"""CloudWatch on the query wire, as older SDKs send it (`Action=...&Version=2010-08-01`, form-encoded, answered in
XML, errors as `<ErrorResponse>`): boto3 with botocore's own cloudwatch model, its protocol set to `query`
(current botocore picks JSON 1.0). Every request is checked to have gone out as a form."""

from __future__ import annotations

import datetime
import gzip
import json
import time

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from berth_harness import ACCESS_KEY_ID, SECRET_ACCESS_KEY, unique


@pytest.fixture(scope="module")
def query_models(tmp_path_factory):
    """A data directory holding botocore's cloudwatch model with its protocol set to query."""
    root = tmp_path_factory.mktemp("query-models")
    source = botocore.session.get_session().get_component("data_loader")
    model = source.load_service_model("cloudwatch", "service-2")
    version = model["metadata"]["apiVersion"]
    for key in ("protocols", "jsonVersion", "targetPrefix", "awsQueryCompatible"):
        model["metadata"].pop(key, None)
    model["metadata"]["protocol"] = "query"
    target = root / "cloudwatch" / version
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return root


@pytest.fixture
def cwq(berth, query_models):
    """A boto3 CloudWatch client speaking the query protocol; `cwq.sent` holds each request's body (inflated)."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(berth.aws_config_file))
    core.set_config_variable("credentials_file", str(berth.aws_credentials_file))
    core.get_component("data_loader").search_paths.insert(0, str(query_models))
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                                    region_name=berth.region, botocore_session=core)  # fmt: skip
    client = session.client("cloudwatch", endpoint_url=berth.endpoint,
                            config=Config(retries={"mode": "standard", "total_max_attempts": 1}))  # fmt: skip
    assert client.meta.service_model.protocol == "query"
    sent: list[tuple[dict, bytes]] = []

    def record(request, **_):
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        sent.append((headers, body))

    client.meta.events.register("before-send.cloudwatch", record)
    client.sent = sent
    return client


def iso(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def assert_query(sent, action: str) -> None:
    headers, body = sent[-1]
    assert "x-amz-target" not in headers, headers
    assert body.startswith(f"Action={action}&Version=2010-08-01".encode()), body[:80]


def test_put_metric_data_and_statistics_on_the_query_wire(berth, cwq):
    ns = unique("Query")
    t0 = (int(time.time()) // 60 - 5) * 60
    dims = [{"Name": "Service", "Value": "web"}]
    # 300 data in one call: over 10 KB of form, so botocore gzips it (requestcompression).
    data = [{"MetricName": "Hits", "Dimensions": dims, "Timestamp": iso(t0 + i % 120), "Value": float(i % 7),
             "Unit": "Count"} for i in range(300)]  # fmt: skip
    cwq.put_metric_data(Namespace=ns, MetricData=data)
    headers, body = cwq.sent[-1]
    assert headers.get("content-encoding") == "gzip" and len(body) > 10_000
    assert_query(cwq.sent, "PutMetricData")
    cwq.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Hits", "Dimensions": dims, "Timestamp": iso(t0 + 130),
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}, "Unit": "Count"}])  # fmt: skip

    out = cwq.get_metric_statistics(Namespace=ns, MetricName="Hits", Dimensions=dims, StartTime=iso(t0),
                                    EndTime=iso(t0 + 180), Period=60,
                                    Statistics=["Sum", "SampleCount", "Minimum", "Maximum", "Average"])  # fmt: skip
    assert_query(cwq.sent, "GetMetricStatistics")
    assert out["Label"] == "Hits"
    points = sorted(out["Datapoints"], key=lambda d: d["Timestamp"])
    expected = {}
    for i in range(300):
        expected.setdefault((i % 120) // 60, []).append(float(i % 7))
    got = [(p["Timestamp"], p["Sum"], p["SampleCount"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points]
    assert got == [
        (iso(t0), sum(expected[0]), float(len(expected[0])), 0.0, 6.0, "Count"),
        (iso(t0 + 60), sum(expected[1]), float(len(expected[1])), 0.0, 6.0, "Count"),
        (iso(t0 + 120), 100.0, 4.0, 5.0, 50.0, "Count"),
    ]
    assert points[2]["Average"] == 25.0

    # The same data read through JSON 1.0 agree (one store, one set of handlers).
    js = berth.client("cloudwatch").get_metric_statistics(Namespace=ns, MetricName="Hits", Dimensions=dims,
                                                          StartTime=iso(t0), EndTime=iso(t0 + 180), Period=180,
                                                          Statistics=["Sum"])  # fmt: skip
    assert [p["Sum"] for p in js["Datapoints"]] == [sum(expected[0]) + sum(expected[1]) + 100.0]

    got = cwq.get_metric_data(MetricDataQueries=[
        {"Id": "h", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Hits", "Dimensions": dims},
                                   "Period": 60, "Stat": "Sum"}},
        {"Id": "twice", "Expression": "h * 2"}], StartTime=iso(t0), EndTime=iso(t0 + 180))  # fmt: skip
    assert_query(cwq.sent, "GetMetricData")
    results = {r["Id"]: r for r in got["MetricDataResults"]}
    assert results["twice"]["Values"] == [2 * v for v in results["h"]["Values"]]
    assert sorted(results["h"]["Values"]) == sorted([sum(expected[0]), sum(expected[1]), 100.0])
    assert all(r["StatusCode"] == "Complete" for r in results.values())


def test_alarms_on_the_query_wire(berth, cwq):
    name = unique("q-alarm")
    ns = unique("Query")
    cwq.put_metric_alarm(AlarmName=name, Namespace=ns, MetricName="Depth", Statistic="Average", Period=60,
                         EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=70.5,
                         ComparisonOperator="GreaterThanThreshold", Dimensions=[{"Name": "Queue", "Value": "q"}],
                         AlarmActions=[], Tags=[{"Key": "team", "Value": "a"}])  # fmt: skip
    assert_query(cwq.sent, "PutMetricAlarm")
    alarms = cwq.describe_alarms(AlarmNames=[name])
    assert_query(cwq.sent, "DescribeAlarms")
    assert alarms["CompositeAlarms"] == []
    [a] = alarms["MetricAlarms"]
    assert (a["AlarmName"], a["Namespace"], a["MetricName"], a["Statistic"]) == (name, ns, "Depth", "Average")
    assert (a["Period"], a["EvaluationPeriods"], a["DatapointsToAlarm"], a["Threshold"]) == (60, 3, 2, 70.5)
    assert a["ActionsEnabled"] is True and a["ComparisonOperator"] == "GreaterThanThreshold"
    assert a["Dimensions"] == [{"Name": "Queue", "Value": "q"}]
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert isinstance(a["StateUpdatedTimestamp"], datetime.datetime)
    assert a["AlarmArn"].endswith(f":alarm:{name}")
    cwq.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand")
    history = cwq.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    cwq.delete_alarms(AlarmNames=[name])
    assert_query(cwq.sent, "DeleteAlarms")
    assert cwq.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def error_of(call) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_errors_on_the_query_wire_are_error_responses_with_cloudwatch_codes(berth, cwq):
    ns = unique("Query")
    t0 = (int(time.time()) // 60 - 5) * 60
    status, code, message = error_of(lambda: cwq.get_metric_statistics(
        Namespace=ns, MetricName="m", StartTime=iso(t0), EndTime=iso(t0 + 60), Period=61, Statistics=["Sum"]))
    assert (status, code) == (400, "InvalidParameterValue"), message
    assert "Period" in message
    raw = berth.raw(None, f"Action=GetMetricStatistics&Version=2010-08-01&Namespace={ns}".encode(),
                    service="monitoring", content_type="application/x-www-form-urlencoded; charset=utf-8")  # fmt: skip
    assert raw.status_code == 400, raw.text
    assert raw.text.startswith("<ErrorResponse><Error><Type>Sender</Type><Code>MissingParameter</Code>"), raw.text
    status, code, message = error_of(lambda: cwq.delete_alarms(AlarmNames=[unique("none")]))
    assert (status, code) == (404, "ResourceNotFound"), message
    status, code, _ = error_of(lambda: cwq.put_metric_data(Namespace="AWS/ECS", MetricData=[
        {"MetricName": "m", "Value": 1.0}]))  # fmt: skip
    assert (status, code) == (400, "InvalidParameterValue")
    # Nothing was stored by the refused requests.
    assert cwq.list_metrics(Namespace=ns)["Metrics"] == []
    assert_query(cwq.sent, "ListMetrics")
