"""Probe-runner benchmark: 100 probes whose targets all time out, through a simulated exec backend.

Each simulated exec costs ``--api-latency`` (the API round trip and websocket setup) plus the
probe's own timeout (every target drops packets, the worst case for wall time), and every probe
expects ``allowed`` so each one is retried once: 200 execs of about 2.05 s each. Run serially
that is over 400 s; the runner's concurrency has to bring it well under 30 s. The number of
probe pods is printed too: it follows source identities, not probes.

    python bench/probe_bench.py [--probes 100] [--sources 5] [--timeout 2] [--api-latency 0.05]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netfence.probes import plan  # noqa: E402
from netfence.probes.command import ExecResult  # noqa: E402
from netfence.probes.runner import Settings, run_probes  # noqa: E402


class SlowDroppingTransport:
    """Every connect times out after the probe's timeout; the API adds a fixed latency."""

    def __init__(self, timeout: float, api_latency: float) -> None:
        self.cost = timeout + api_latency
        self.execs = 0

    def exec(self, namespace: str, pod: str, argv: list[str], timeout: float) -> ExecResult:
        self.execs += 1
        time.sleep(min(self.cost, timeout))
        return ExecResult(28, "0.000000 000", "curl: (28) Connection timed out")

    def pod_ip(self, namespace, selector):
        time.sleep(0.05)
        return "10.0.0.9"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--sources", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--api-latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=50, help="the probes role default")
    args = parser.parse_args()

    namespaces = [{"name": f"ns{i}", "workloads": [{"name": "app", "labels": {"app": f"a{i}"}}]} for i in range(args.sources)]
    probes = [
        {"name": f"p{i:03d}", "from": {"namespace": f"ns{i % args.sources}", "workload": "app"},
         "to": {"pod": f"ns{(i + 1) % args.sources}/app"}, "port": 3000 + i, "expect": {"after": "allowed"}}
        for i in range(args.probes)
    ]
    specs = plan.from_inventory(probes, namespaces)
    pods = {s.key: s.pod_name("bench") for s in plan.sources(specs)}
    transport = SlowDroppingTransport(args.timeout, args.api_latency)
    settings = Settings(phase="after", run_id="bench", cluster="bench", timeout=args.timeout, retries=1, concurrency=args.concurrency)
    started = time.monotonic()
    records = run_probes(specs, transport, settings, pods)
    wall = time.monotonic() - started
    serial = transport.execs * transport.cost
    blocked = sum(r["outcome"] == "blocked" for r in records)
    print(f"probes: {len(records)} ({blocked} blocked), execs: {transport.execs} (1 retry each), concurrency: {args.concurrency}")
    print(f"probe pods to create: {len(pods)} (source identities: {args.sources}; grows with identities, not probes)")
    print(f"wall time: {wall:.2f} s (serial would be {serial:.0f} s); target: well under 30 s")
    return 0 if wall < 30 else 1


if __name__ == "__main__":
    sys.exit(main())
