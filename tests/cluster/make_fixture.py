"""Regenerate fixtures/run-lab: recorded evidence of a lab run, made with the real runner and a
scripted transport (python tests/cluster/make_fixture.py). The predictions are what
netfence.inventory.predict.predict() makes of the lab inventory (inventories/lab), as the plan stage writes
them; the probes are planned from them. The folder is an open run (INCOMPLETE, SHA256SUMS), as
the report stage finds it. The report tests read the files only; test_report.py checks that the
fixture's predictions are still the engine's."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from probe_fakes import CONNECTED, NXDOMAIN, REFUSED, TIMED_OUT, FakeTransport  # noqa: E402
import yaml  # noqa: E402

from netfence.evidence import runs as evidence  # noqa: E402
from netfence.plan import build_plan  # noqa: E402
from netfence.inventory.predict import file_texts  # noqa: E402
from netfence.probes import plan  # noqa: E402
from netfence.probes.records import phase_document  # noqa: E402
from netfence.probes.runner import Settings, run_probes  # noqa: E402

OUT = Path(__file__).parent / "fixtures" / "run-lab"
LAB = Path(__file__).parents[2] / "inventories" / "lab" / "group_vars" / "all" / "namespaces.yml"
RUN_ID = "20261126T110500Z-abc123"
PROBES = [
    {"name": "dev-to-prod-api-blocked", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"service": "prod/my-api"}, "port": 80,
     "expect": {"before": "allowed", "after": "blocked"}},
    {"name": "gateway-to-prod-api-allowed", "from": {"namespace": "gateway", "workload": "api-gateway"}, "to": {"service": "prod/my-api"}, "port": 80,
     "expect": {"before": "allowed", "after": "allowed"}},
    {"name": "dev-to-internet-https-allowed", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}, "port": 443,
     "expect": {"before": "allowed", "after": "allowed"}},
]


def lab_prediction() -> tuple[list, dict]:
    """The lab inventory's namespaces and the prediction of its plan (netfence.plan.build_plan):
    the same files the plan stage writes into a run folder."""
    namespaces = yaml.safe_load(LAB.read_text())["netfence_namespaces"]
    return namespaces, build_plan(namespaces, "v1.35.8").prediction


POD_IPS = {"dev": "192.168.1.10", "prod": "192.168.2.10", "monitoring": "192.168.3.10", "gateway": "192.168.4.10"}


def after_script(ns, pod, argv, attempt):
    url = argv[-1]
    if ns == "gateway":
        return NXDOMAIN  # DNS egress forgotten for the gateway
    if "prod.svc" in url or ("192.168.1.10:3000" in url and ns == "prod"):
        return TIMED_OUT
    if ns == "monitoring" and "192.168.2.10:3000" in url:
        return REFUSED  # nothing listens on prod's pod: not a policy decision
    if ns == "dev" and "192.168.2.10:3000" in url:
        return CONNECTED  # dev -> prod:3000, predicted blocked: a CNI that does not enforce
    if ":8080/" in url or ":9153/" in url or ":53/" in url:
        return TIMED_OUT  # the blocked rows are blocked, as predicted
    return CONNECTED


def blast_script(ns, pod, argv, attempt):
    if argv[0] == "dig":
        from netfence.probes.command import ExecResult
        return ExecResult(0, "10.96.0.1\n", "")
    if ns == "prod":  # prod's rogue pod reaches its own Service and the internet; the API is blocked, as predicted
        return CONNECTED if "my-api.prod.svc" in argv[-1] or "1.1.1.1" in argv[-1] else TIMED_OUT
    # dev's reaches the API server (predicted blocked) and not the internet (predicted allowed)
    return CONNECTED if "kubernetes.default" in argv[-1] or "my-api.dev.svc" in argv[-1] else TIMED_OUT


def main() -> None:
    namespaces, prediction = lab_prediction()
    shutil.rmtree(OUT, ignore_errors=True)
    # an open run, as the blast-radius stage leaves it for the report: INCOMPLETE and a checkpoint SHA256SUMS
    evidence.start_run(OUT, {"run_id": RUN_ID, "cluster": "netfence-lab"}, "blast-radius")
    for rel, text in file_texts(prediction).items():
        evidence.write_text(OUT, rel, text)
    rows = prediction["files"]["predicted/matrix.json"]
    stamps = {"started_at": "2026-11-26T11:05:00.000Z", "finished_at": "2026-11-26T11:05:09.000Z"}
    for phase, script in (("before", lambda *a: CONNECTED), ("after", after_script)):
        specs = plan.from_inventory(PROBES, namespaces) + plan.from_predicted(rows, namespaces, phase=phase)[0]
        pods = {s.key: s.pod_name(RUN_ID) for s in plan.sources(specs)}
        records = run_probes(specs, FakeTransport(script, POD_IPS), Settings(phase=phase, run_id=RUN_ID,
                             cluster="netfence-lab", context="kind-netfence-lab", retries=1), pods)
        doc = phase_document(run_id=RUN_ID, phase=phase, cluster="netfence-lab", context="kind-netfence-lab",
                             pods=len(pods), records=records, **stamps)
        evidence.write_text(OUT, f"probes/{phase}.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")
    services = [{"metadata": {"namespace": "prod", "name": "my-api"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}},
                {"metadata": {"namespace": "dev", "name": "my-api"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}}]
    specs = plan.blast_radius(["dev", "prod"], {}, services, external="1.1.1.1")
    pods = {s.key: s.pod_name(RUN_ID) for s in plan.sources(specs)}
    records = run_probes(specs, FakeTransport(blast_script), Settings(phase="blast-radius", run_id=RUN_ID,
                         cluster="netfence-lab", context="kind-netfence-lab", retries=0), pods)
    doc = phase_document(run_id=RUN_ID, phase="blast-radius", cluster="netfence-lab", context="kind-netfence-lab",
                         pods=len(pods), records=records, **stamps)
    evidence.write_text(OUT, "blast-radius.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")
    evidence.seal(OUT, finished="blast-radius")  # as the last stage leaves the run before the report


if __name__ == "__main__":
    main()
