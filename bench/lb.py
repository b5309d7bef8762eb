#!/usr/bin/env python3
"""berth's load balancer against nginx as a reverse proxy, to the same 3 backends: requests/s and p99 (wrk).

    .venv/bin/python bench/lb.py [--seconds 10] [--connections 64] [--threads 2]

Starts three backends (one nginx serving a small static page on three loopback ports), `berth server` (BERTH_BIN,
default target/release/berth) with the e2e harness, an ip target group of the three backends behind a load
balancer's listener on port 80 at its DNSName (a loopback address), and nginx as a reverse proxy (upstream of the
same three, keepalive) on another loopback port. Then `wrk` (Debian package `wrk`) runs the same load against
each for --seconds, after a 2 s warm-up. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
os.environ.setdefault("BERTH_BIN", str(ROOT / "target" / "release" / "berth"))

from berth_harness import Berth, unique  # noqa: E402

BACKEND_PORTS = (18181, 18182, 18183)
NGINX_PROXY_PORT = 18180

NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {backends}
    upstream backends {{
        {upstream}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{proxy};
        location / {{
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def nginx(tmp: Path) -> subprocess.Popen:
    www = tmp / "www"
    www.mkdir()
    (www / "index.html").write_text("hello from a backend\n")
    backends = "\n".join(f"server {{ listen 127.0.0.1:{p}; root {www}; }}" for p in BACKEND_PORTS)
    upstream = "\n".join(f"server 127.0.0.1:{p};" for p in BACKEND_PORTS)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, backends=backends, upstream=upstream, proxy=NGINX_PROXY_PORT))
    return subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])


def wrk(url: str, seconds: int, connections: int, threads: int) -> tuple[float, str]:
    """Requests/s and the p99 latency wrk reports."""
    subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d2s", url], capture_output=True, check=True)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  {url}: {errors.group(1)} non-2xx responses", file=sys.stderr)
    return rps, p99


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("bench/lb.py needs wrk and nginx (Debian packages wrk, nginx)")
    with tempfile.TemporaryDirectory(prefix="berth-lb-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # nginx's workers (user nobody) serve the backends' page from here
        proxy = nginx(tmp)
        server = Berth(tmp / "berth").start()
        try:
            elbv2 = server.client("elbv2")
            tg = elbv2.create_target_group(Name=unique("bench"), Protocol="HTTP", Port=80, TargetType="ip",
                                           HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                           HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
            elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": p} for p in BACKEND_PORTS])
            lb = elbv2.create_load_balancer(Name=unique("bench"))["LoadBalancers"][0]
            elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
            elbv2.get_waiter("target_in_service").wait(TargetGroupArn=tg, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            time.sleep(1)
            results = {
                "berth": wrk(f"http://{lb['DNSName']}:80/", args.seconds, args.connections, args.threads),
                "nginx": wrk(f"http://127.0.0.1:{NGINX_PROXY_PORT}/", args.seconds, args.connections, args.threads),
            }
        finally:
            server.close()
            proxy.terminate()
            proxy.wait(timeout=10)
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, 3 nginx backends on loopback")
    print(f"{'proxy':8} {'requests/s':>12} {'p99':>10}")
    for name, (rps, p99) in results.items():
        print(f"{name:8} {rps:12.0f} {p99:>10}")
    print(f"berth / nginx requests/s: {results['berth'][0] / results['nginx'][0]:.2f}")


if __name__ == "__main__":
    main()
