#!/usr/bin/env python3
"""berth's load balancer against nginx as a reverse proxy, to the same 3 backends: requests/s and p99 (wrk).

    .venv/bin/python bench/lb.py [--seconds 10] [--connections 64] [--threads 2] [--rounds 3]

Starts three backends (one nginx process serving a small static page on three loopback ports), `berth server`
(BERTH_BIN, default target/release/berth) with the e2e harness, an ip target group of the three backends behind a
load balancer's listener on port 80 at its DNSName (a loopback address), and nginx as a reverse proxy (a second
nginx process, one worker, upstream of the same three, keepalive) on another loopback port. The proxies are
separate processes from the backends alike, so each proxied request crosses the same process boundary. Then `wrk` (Debian package `wrk`) runs the same load against
each for --seconds, after a 2 s warm-up, --rounds times, alternating which goes first; medians are compared.
Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
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
    {servers}
}}
"""

PROXY_SERVERS = """
    upstream backends {{
        {upstream}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
"""


def nginx(tmp: Path, servers: str) -> subprocess.Popen:
    """One nginx (one worker process) with its own prefix directory `tmp`."""
    tmp.mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, servers=servers))
    return subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])


def backends(tmp: Path) -> subprocess.Popen:
    """The three backends: one nginx serving a small page on three loopback ports."""
    www = tmp / "www"
    www.mkdir()
    (www / "index.html").write_text("hello from a backend\n")
    return nginx(tmp / "backends", "\n".join(f"server {{ listen 127.0.0.1:{p}; root {www}; }}" for p in BACKEND_PORTS))


def nginx_proxy(tmp: Path) -> subprocess.Popen:
    """nginx as a reverse proxy to the backends: a process of its own, as berth is."""
    upstream = "\n".join(f"server 127.0.0.1:{p};" for p in BACKEND_PORTS)
    return nginx(tmp / "proxy", PROXY_SERVERS.format(upstream=upstream, port=NGINX_PROXY_PORT))


def wrk(url: str, seconds: int, connections: int, threads: int) -> tuple[float, float]:
    """Requests/s and the p99 latency (ms) wrk reports, after a 2 s warm-up."""
    subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d2s", url], capture_output=True, check=True)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  {url}: {errors.group(1)} non-2xx responses", file=sys.stderr)
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="berth and nginx alternate, the first turn alternating too")
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("bench/lb.py needs wrk and nginx (Debian packages wrk, nginx)")
    results: dict[str, list[tuple[float, float]]] = {"berth": [], "nginx": []}
    with tempfile.TemporaryDirectory(prefix="berth-lb-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # nginx's workers (user nobody) serve the backends' page from here
        peers = [backends(tmp), nginx_proxy(tmp)]
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
            urls = {"berth": f"http://{lb['DNSName']}:80/", "nginx": f"http://127.0.0.1:{NGINX_PROXY_PORT}/"}
            for round_ in range(args.rounds):
                for name in sorted(urls, reverse=round_ % 2 == 1):
                    results[name].append(wrk(urls[name], args.seconds, args.connections, args.threads))
        finally:
            server.close()
            for peer in peers:
                peer.terminate()
                peer.wait(timeout=10)
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, 3 nginx backends on loopback, "
          f"{args.rounds} rounds")
    print(f"{'round':>5} {'berth req/s':>12} {'berth p99':>10} {'nginx req/s':>12} {'nginx p99':>10}")
    for i, ((b_rps, b_p99), (n_rps, n_p99)) in enumerate(zip(results["berth"], results["nginx"]), 1):
        print(f"{i:>5} {b_rps:12.0f} {b_p99:8.2f}ms {n_rps:12.0f} {n_p99:8.2f}ms")
    median = {name: (statistics.median(r for r, _ in rs), statistics.median(p for _, p in rs))
              for name, rs in results.items()}
    print(f"median: berth {median['berth'][0]:.0f} req/s p99 {median['berth'][1]:.2f} ms; "
          f"nginx {median['nginx'][0]:.0f} req/s p99 {median['nginx'][1]:.2f} ms")
    print(f"berth / nginx: requests/s {median['berth'][0] / median['nginx'][0]:.2f}x, "
          f"p99 {median['berth'][1] / median['nginx'][1]:.2f}x")


if __name__ == "__main__":
    main()
