#!/usr/bin/env python3
"""CloudWatch through berth: PutMetricData ingest (datapoints/s through the API) and GetMetricData over 1,000,000
datapoints.

    .venv/bin/python bench/cloudwatch.py [--seconds 15] [--threads 4] [--datapoints 1000000] [--runs 5]

Starts `berth server` (BERTH_BIN, default target/release/berth) with the e2e harness.
  1. Ingest: --threads boto3 clients each send PutMetricData of 1000 single-value data (10 metrics, distinct
     timestamps) for --seconds; every call is acknowledged only after its fsync (group commit shares them).
  2. GetMetricData: --datapoints samples loaded as Values/Counts (150 values per datum, 1000 data per call) over
     one metric and 3 hours, then a query of Sum and Average per minute (180 periods) and a math expression,
     run --runs times through boto3 (HTTP, SigV4, JSON included); median and max.
Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from berth_harness import Berth  # noqa: E402


def ingest(berth: Berth, seconds: float, threads: int) -> None:
    sent = [0] * threads
    deadline = time.monotonic() + seconds
    base = int(time.time()) - 3600

    def worker(i: int) -> None:
        cw = berth.client("cloudwatch")
        n = 0
        while time.monotonic() < deadline:
            data = [{"MetricName": f"m{j % 10}", "Dimensions": [{"Name": "Worker", "Value": str(i)}],
                     "Timestamp": base + (n + j) % 3000, "Value": float(j)} for j in range(1000)]  # fmt: skip
            cw.put_metric_data(Namespace="Bench", MetricData=data)
            n += 1000
        sent[i] = n

    start = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    total = sum(sent)
    print(f"ingest: {total} datapoints in {elapsed:.1f} s with {threads} threads = {total / elapsed:,.0f} datapoints/s "
          f"({total / 1000 / elapsed:.1f} PutMetricData/s of 1000)")  # fmt: skip


def query(berth: Berth, datapoints: int, runs: int) -> None:
    cw = berth.client("cloudwatch")
    end = (int(time.time()) // 60) * 60 - 60
    start = end - 3 * 3600
    per_call = 150 * 1000
    loaded = 0
    t0 = time.monotonic()
    while loaded < datapoints:
        data = []
        for j in range(1000):
            if loaded >= datapoints:
                break
            k = min(150, datapoints - loaded)
            ts = start + (loaded // 150) % (end - start)
            data.append({"MetricName": "Latency", "Timestamp": ts, "Values": [float(v) for v in range(k)],
                         "Counts": [1.0] * k})  # fmt: skip
            loaded += k
        cw.put_metric_data(Namespace="BenchQuery", MetricData=data)
    print(f"load: {loaded} datapoints in {time.monotonic() - t0:.1f} s ({per_call} per PutMetricData)")
    stat = {"Metric": {"Namespace": "BenchQuery", "MetricName": "Latency"}, "Period": 60}
    queries = [
        {"Id": "s", "MetricStat": {**stat, "Stat": "Sum"}},
        {"Id": "n", "MetricStat": {**stat, "Stat": "SampleCount"}, "ReturnData": False},
        {"Id": "avg", "Expression": "s / n"},
    ]
    times = []
    for _ in range(runs):
        t = time.monotonic()
        out = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
        times.append(time.monotonic() - t)
    total = cw.get_metric_statistics(Namespace="BenchQuery", MetricName="Latency", StartTime=start, EndTime=end,
                                     Period=3 * 3600, Statistics=["SampleCount"])["Datapoints"]  # fmt: skip
    assert sum(d["SampleCount"] for d in total) == loaded, total
    points = len(out["MetricDataResults"][0]["Values"])
    print(f"GetMetricData over {loaded} datapoints ({points} periods, 2 stats + math): "
          f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {runs} runs")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--datapoints", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    berth = Berth().start()
    try:
        ingest(berth, args.seconds, args.threads)
        query(berth, args.datapoints, args.runs)
    finally:
        berth.close()


if __name__ == "__main__":
    main()
