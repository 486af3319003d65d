"""Regenerate fixtures/run-lab: recorded evidence of a lab run, made with the real runner and a
scripted transport (python tests/cluster/make_fixture.py). The report tests read the files only."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from probe_fakes import CONNECTED, NXDOMAIN, REFUSED, TIMED_OUT, FakeTransport  # noqa: E402
from netfence.probes import plan  # noqa: E402
from netfence.probes.records import phase_document  # noqa: E402
from netfence.probes.runner import Settings, run_probes  # noqa: E402

OUT = Path(__file__).parent / "fixtures" / "run-lab"
NAMESPACES = [
    {"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "dev"}}]},
    {"name": "prod", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "prod"}}]},
    {"name": "monitoring", "workloads": [{"name": "scraper", "labels": {"app": "scraper"}}]},
    {"name": "gateway", "workloads": [{"name": "api-gateway", "labels": {"app": "api-gateway"}}]},
]
PROBES = [
    {"name": "dev-to-prod-api-blocked", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"service": "prod/my-api"}, "port": 80,
     "expect": {"before": "allowed", "after": "blocked"}},
    {"name": "gateway-to-prod-api-allowed", "from": {"namespace": "gateway", "workload": "api-gateway"}, "to": {"service": "prod/my-api"}, "port": 80,
     "expect": {"before": "allowed", "after": "allowed"}},
    {"name": "dev-to-internet-https-allowed", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}, "port": 443,
     "expect": {"before": "allowed", "after": "allowed"}},
]
# The plan's format (netfence/predict.py); "declared": false rows (nothing listens) are not probed.
PREDICTED = [
    {"from": "monitoring/scraper", "to": "dev/my-api", "port": 3000, "protocol": "TCP", "allowed": True, "declared": True},
    {"from": "monitoring/scraper", "to": "dev/my-api", "port": 80, "protocol": "TCP", "allowed": True, "declared": True},
    {"from": "dev/my-api", "to": "prod/my-api", "port": 3000, "protocol": "TCP", "allowed": False, "declared": True},
    {"from": "prod/my-api", "to": "dev/my-api", "port": 3000, "protocol": "TCP", "allowed": False, "declared": True},
    {"from": "dev/my-api", "to": "monitoring/scraper", "port": 3000, "protocol": "TCP", "allowed": False, "declared": False},
]
PREDICTED_BLAST = {"schema_version": 1, "namespaces": [{
    "namespace": "dev", "pod": "dev/netfence-rogue",
    "workloads": [{"target": "dev/my-api", "service_port": 80, "port": 3000, "protocol": "TCP", "allowed": False},
                  {"target": "prod/my-api", "service_port": 80, "port": 3000, "protocol": "TCP", "allowed": False}],
    "reachable": [],
    "api_server": {"ip": "172.18.0.2", "port": 6443, "allowed": True},
    "dns": {"udp": True, "tcp": True},
    "internet": {"ip": "1.1.1.1", "port": 443, "allowed": True},
}, {
    "namespace": "prod", "pod": "prod/netfence-rogue",
    "workloads": [{"target": "dev/my-api", "service_port": 80, "port": 3000, "protocol": "TCP", "allowed": False},
                  {"target": "prod/my-api", "service_port": 80, "port": 3000, "protocol": "TCP", "allowed": True}],
    "reachable": ["prod/my-api"],
    "api_server": {"ip": "172.18.0.2", "port": 6443, "allowed": False},
    "dns": {"udp": True, "tcp": True},
    "internet": {"ip": "1.1.1.1", "port": 443, "allowed": False},
}]}
POD_IPS = {"dev": "192.168.1.10", "prod": "192.168.2.10"}


def after_script(ns, pod, argv, attempt):
    url = argv[-1]
    if ns == "gateway":
        return NXDOMAIN  # DNS egress forgotten for the gateway
    if "prod.svc" in url or ("192.168.1.10:3000" in url and ns == "prod"):
        return TIMED_OUT
    if ":80/" in url and "192.168.1.10" in url:
        return REFUSED  # the pod listens on 3000, not on the Service port 80
    return CONNECTED  # includes dev -> prod:3000, predicted blocked: a CNI that does not enforce


def blast_script(ns, pod, argv, attempt):
    if argv[0] == "dig":
        from netfence.probes.command import ExecResult
        return ExecResult(0, "10.96.0.1\n", "")
    if ns == "prod":  # prod's rogue pod reaches its own Service only; the API is blocked, as predicted
        return CONNECTED if "my-api.prod.svc" in argv[-1] else TIMED_OUT
    return CONNECTED if "kubernetes.default" in argv[-1] else TIMED_OUT


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "predicted").mkdir(parents=True)
    (OUT / "probes").mkdir()
    (OUT / "run.json").write_text(json.dumps({"run_id": "20261126T110500Z-abc123", "cluster": "netfence-lab"}, indent=2) + "\n")
    (OUT / "predicted" / "matrix.json").write_text(json.dumps({"schema_version": 1, "rows": PREDICTED}, indent=2) + "\n")
    stamps = {"started_at": "2026-11-26T11:05:00.000Z", "finished_at": "2026-11-26T11:05:09.000Z"}
    for phase, script in (("before", lambda *a: CONNECTED), ("after", after_script)):
        specs = plan.from_inventory(PROBES, NAMESPACES) + plan.from_predicted(PREDICTED, NAMESPACES, phase=phase)[0]
        pods = {s.key: s.pod_name("20261126T110500Z-abc123") for s in plan.sources(specs)}
        records = run_probes(specs, FakeTransport(script, POD_IPS), Settings(phase=phase, run_id="20261126T110500Z-abc123",
                             cluster="netfence-lab", context="kind-netfence-lab", retries=1), pods)
        doc = phase_document(run_id="20261126T110500Z-abc123", phase=phase, cluster="netfence-lab", context="kind-netfence-lab",
                             pods=len(pods), records=records, **stamps)
        (OUT / "probes" / f"{phase}.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    services = [{"metadata": {"namespace": "prod", "name": "my-api"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}},
                {"metadata": {"namespace": "dev", "name": "my-api"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}}]
    specs = plan.blast_radius(["dev", "prod"], {}, services, external="1.1.1.1")
    pods = {s.key: s.pod_name("20261126T110500Z-abc123") for s in plan.sources(specs)}
    records = run_probes(specs, FakeTransport(blast_script), Settings(phase="blast-radius", run_id="20261126T110500Z-abc123",
                         cluster="netfence-lab", context="kind-netfence-lab", retries=0), pods)
    doc = phase_document(run_id="20261126T110500Z-abc123", phase="blast-radius", cluster="netfence-lab", context="kind-netfence-lab",
                         pods=len(pods), records=records, **stamps)
    (OUT / "blast-radius.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    (OUT / "predicted" / "blast-radius.json").write_text(json.dumps(PREDICTED_BLAST, indent=2) + "\n")


if __name__ == "__main__":
    main()
