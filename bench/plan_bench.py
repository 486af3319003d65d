"""Benchmark the plan pipeline on lab-shaped inventories of 200 and 1,000 namespaces.

What ``make plan`` does in Python, step by step, in a fresh child process per size (so the peak
RSS is that size's alone): parse, render, validate and check the inventory
(:func:`netfence.plan.build_plan`), then predict reachability, blast radius and coverage
(``Plan.prediction``), then format every file of the run folder (``Plan.run_files``: manifests,
predictions, the model). Printed per size: the seconds of each step, the peak RSS, and the bytes
the plan writes.

The inventory repeats the lab's shape: every namespace has my-api (Service 80 -> container 3000,
named http), the seven baseline profiles, a scrape from ``monitoring`` and a named client from
``gateway``, DNS and HTTPS egress. Deterministic.

    .venv/bin/python bench/plan_bench.py                  # 200 and 1,000 namespaces
    .venv/bin/python bench/plan_bench.py --sizes 50 200

Targets (issue: results people can read at 200 namespaces): the plan under 10 s at 200
namespaces and under 60 s and 1 GiB at 1,000, evidence under 5 MB at 200. Besides the library
steps, each size runs the real thing: ``ansible-playbook playbooks/plan.yml`` (what ``make plan``
runs) on a copy of inventories/lab whose namespaces are replaced by the generated ones and
whose evidence goes to a temporary folder; its wall time, peak RSS (the playbook's processes)
and bytes on disk are the figures the targets are judged on (``--no-playbook`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def namespace(name: str) -> dict[str, Any]:
    """One application namespace shaped like the lab's dev."""
    return {
        "name": name,
        "labels": {"env": name},
        "profiles": ["default-deny-ingress", "default-deny-egress", "allow-same-namespace", "allow-dns-egress",
                     "allow-from-namespaces", "allow-from-pods", "allow-internet-egress"],
        "workloads": [{"name": "my-api", "labels": {"app": "my-api"}, "image": IMAGE, "container_port": 3000,
                       "service_port": 80, "port_name": "http", "protocol": "TCP", "replicas": 1}],
        "allow_from_namespaces": [{"namespaces": ["monitoring"], "pod_labels": {"app": "scraper"},
                                   "target_labels": {"app": "my-api"}, "ports": [{"port": 3000, "protocol": "TCP"}]}],
        "allow_from_pods": [{"namespace": "gateway", "pod_labels": {"app": "api-gateway"},
                             "target_labels": {"app": "my-api"}, "ports": [{"port": 3000, "protocol": "TCP"}]}],
        "internet_egress": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                            "ports": [{"port": 443, "protocol": "TCP"}]},
    }


def inventory(count: int) -> list[dict[str, Any]]:
    """``count`` namespaces: monitoring and gateway (the sources) and count-2 application ones."""
    shared = {"profiles": ["default-deny-ingress", "allow-same-namespace"], "labels": {}}
    return [
        {"name": "monitoring", **shared, "workloads": [{"name": "scraper", "labels": {"app": "scraper"}, "image": IMAGE}]},
        {"name": "gateway", **shared, "workloads": [{"name": "api-gateway", "labels": {"app": "api-gateway"}, "image": IMAGE}]},
        *(namespace(f"app-{i:04d}") for i in range(count - 2)),
    ]


def child(count: int) -> dict[str, Any]:
    """Run the steps in this process and return their figures (called in a fresh child)."""
    import resource

    from netfence.plan import build_plan

    namespaces = inventory(count)
    figures: dict[str, Any] = {"namespaces": count}
    t0 = time.perf_counter()
    plan = build_plan(namespaces, "v1.35.8", pod_subnet="10.244.0.0/16", service_subnet="10.96.0.0/12")
    plan.raise_for_errors()
    manifests = [p.manifest for policies in plan.rendered.values() for p in policies]
    t1 = time.perf_counter()
    prediction = plan.prediction
    t2 = time.perf_counter()
    texts = plan.run_files()  # every file of the run folder but run.json: manifests, predictions, model
    t3 = time.perf_counter()
    figures.update(
        policies=len(manifests), validate_s=t1 - t0, predict_s=t2 - t1, format_s=t3 - t2, total_s=t3 - t0,
        evidence_bytes=sum(len(t.encode()) for t in texts.values()),
        largest_file=max(((len(t.encode()), rel) for rel, t in texts.items()))[1],
        largest_bytes=max(len(t.encode()) for t in texts.values()),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return figures


TARGETS = {200: (10.0, None, 5e6), 1000: (60.0, 1024.0, None)}  # size: (seconds, peak MB, evidence bytes)


def playbook(count: int) -> dict[str, Any]:
    """``ansible-playbook playbooks/plan.yml`` on a generated inventory of ``count`` namespaces, in
    this (fresh child) process's children: wall seconds, peak RSS of the largest child, bytes
    written (called in a fresh child, so RUSAGE_CHILDREN is this run's alone)."""
    import resource

    import yaml

    with tempfile.TemporaryDirectory(prefix="netfence-plan-bench-") as tmp:
        inv = Path(tmp) / "inventory"
        shutil.copytree(REPO / "inventories" / "lab", inv)
        variables = inv / "group_vars" / "all"
        (variables / "namespaces.yml").write_text(yaml.safe_dump({"netfence_namespaces": inventory(count)}), encoding="utf-8")
        probes = yaml.safe_load((variables / "probes.yml").read_text(encoding="utf-8"))
        probes["netfence_probes"] = []  # the lab's probes name dev and prod, which this inventory has not
        (variables / "probes.yml").write_text(yaml.safe_dump(probes), encoding="utf-8")
        evidence = Path(tmp) / "evidence"
        env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
        t0 = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), "playbooks/plan.yml",
                               "-e", f"netfence_evidence_dir={evidence}"], cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode:
            raise SystemExit(f"plan.yml failed on {count} namespaces:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        written = sum(f.stat().st_size for f in evidence.rglob("*") if f.is_file())
    return {"playbook_s": wall, "playbook_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "playbook_bytes": written}


def verdict(size: int, seconds: float, rss_mb: float, evidence: float) -> str:
    """``met``/``MISSED`` against the issue's targets for this size (``-`` when it has none)."""
    if size not in TARGETS:
        return "-"
    limit_s, limit_mb, limit_b = TARGETS[size]
    missed = [f"{seconds:.1f}s >= {limit_s:.0f}s"] if seconds >= limit_s else []
    missed += [f"{rss_mb:.0f}MB >= {limit_mb:.0f}MB"] if limit_mb and rss_mb >= limit_mb else []
    missed += [f"{evidence / 1e6:.1f}MB evidence >= {limit_b / 1e6:.0f}MB"] if limit_b and evidence >= limit_b else []
    return "MISSED: " + ", ".join(missed) if missed else "met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000], help="namespace counts (default: 200 1000)")
    parser.add_argument("--no-playbook", action="store_true", help="skip the ansible-playbook plan.yml run per size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--playbook-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    if args.playbook_child:
        print(json.dumps(playbook(args.playbook_child)))
        return 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    print(f"{'namespaces':>10} {'policies':>8} {'validate':>9} {'predict':>8} {'format':>7} {'total':>7} "
          f"{'peak RSS':>9} {'evidence':>9}  largest file")
    results = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], env=env, capture_output=True, text=True,
                             check=True)
        f = json.loads(out.stdout)
        print(f"{f['namespaces']:>10} {f['policies']:>8} {f['validate_s']:>8.2f}s {f['predict_s']:>7.2f}s "
              f"{f['format_s']:>6.2f}s {f['total_s']:>6.2f}s {f['peak_rss_mb']:>7.0f}MB "
              f"{f['evidence_bytes'] / 1e6:>7.1f}MB  {f['largest_file']} ({f['largest_bytes'] / 1e6:.1f} MB)")
        results.append(f)
    if args.no_playbook:
        return 0
    print(f"\n{'namespaces':>10} {'plan.yml':>9} {'peak RSS':>9} {'evidence':>9}  target (make plan: <10 s and <5 MB at 200; "
          "<60 s and <1 GiB at 1,000)")
    for f in results:
        size = f["namespaces"]
        out = subprocess.run([sys.executable, __file__, "--playbook-child", str(size)], env=env, capture_output=True,
                             text=True, check=True)
        p = json.loads(out.stdout)
        print(f"{size:>10} {p['playbook_s']:>8.2f}s {p['playbook_rss_mb']:>7.0f}MB {p['playbook_bytes'] / 1e6:>7.1f}MB  "
              f"{verdict(size, p['playbook_s'], p['playbook_rss_mb'], p['playbook_bytes'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
