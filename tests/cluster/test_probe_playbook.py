"""playbooks/probe.yml with the real ansible-playbook against the API double.

The double has no exec (no websocket), so every probe is recorded as ``error``: these tests prove
pod lifecycle, evidence and failure handling, not reachability (the runner and command tests do).
"""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from netfence.evidence import runs as evidence
from cluster_support import failure_messages
from netfence.probes.records import PHASE_SCHEMA

pytestmark = pytest.mark.playbook

NAMESPACES = [
    {"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "dev"}}]},
    {"name": "prod", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "prod"}}]},
]
PROBES = [
    {"name": "dev-to-prod", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"service": "prod/my-api"}, "port": 80,
     "expect": {"before": "allowed", "after": "blocked"}},
    {"name": "dev-to-api", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"api": True}},
    {"name": "rogue-in-prod", "from": {"namespace": "prod", "labels": {}}, "to": {"pod": "dev/my-api"}, "port": 3000},
]


def extra(run_dir, **kw):
    return {"netfence_run_dir": str(run_dir), "netfence_namespaces": NAMESPACES, "netfence_probes": PROBES,
            "phase": "before", "probes_retries": 0, "probes_pod_wait_timeout": 10, **kw}


def test_probe_round_uses_one_pod_per_identity_writes_evidence_and_removes_pods(api, playbook, run_dir):
    (run_dir / "predicted").mkdir()
    (run_dir / "predicted" / "matrix.json").write_text(json.dumps({"schema_version": 1, "rows": [
        {"from": "dev/my-api", "to": "prod/my-api", "port": 3000, "protocol": "TCP", "allowed": False, "declared": True},
        {"from": "dev/my-api", "to": "prod/my-api", "port": 8080, "protocol": "TCP", "allowed": False, "declared": False}]}))
    evidence.seal(run_dir, finished="plan")  # as the plan stage leaves it
    rc, out, err = playbook.run("probe.yml", extra(run_dir))
    assert rc == 0, failure_messages(out) or err
    created = [c for c in api.writes("POST", "pods")]
    assert len(created) == 2  # two identities (dev my-api, unlabelled prod), four probes
    labels = sorted(json.dumps(c["body"]["metadata"]["labels"], sort_keys=True) for c in created)
    assert labels == [
        # exactly the labels the workload's own pods carry (see the workloads template), plus netfence's two
        json.dumps({"app": "my-api", "app.kubernetes.io/managed-by": "netfence", "app.kubernetes.io/name": "my-api",
                    "env": "dev", "netfence.io/role": "probe"}, sort_keys=True),
        json.dumps({"app.kubernetes.io/managed-by": "netfence", "netfence.io/role": "probe"}, sort_keys=True),
    ]
    deleted = sorted(c["name"] for c in api.writes("DELETE", "pods"))
    assert deleted == sorted(c["body"]["metadata"]["name"] for c in created)
    assert api.names("pods") == []
    doc = json.loads((run_dir / "probes" / "before.json").read_text())
    jsonschema.validate(doc, PHASE_SCHEMA)
    assert doc["pods"] == 2 and doc["summary"]["total"] == 4
    # the action plugin relayed the module's progress while it ran: the last line of each wait
    shown = playbook.stdout[:playbook.stdout.index("{")]
    assert "probe round 'before': probe pods running: 2/2 pods (100%)" in shown
    assert "probe round 'before': 4/4 probes (100%)" in shown
    assert not list(playbook.tmp_path.glob("netfence-progress-*"))  # the relay's file is gone (TMPDIR is tmp_path)
    assert "predicted dev/my-api -> prod/my-api TCP/3000" in {r["name"] for r in doc["records"]}
    assert {r["outcome"] for r in doc["records"]} == {"error"}
    assert any("exec" in r["detail"] for r in doc["records"])
    assert (run_dir / "SHA256SUMS").is_file()

    # evidence is never overwritten: a second 'before' round in the same run folder is refused
    # before any probe pod is created
    api.calls.clear()
    rc, out, _ = playbook.run("probe.yml", extra(run_dir))
    assert rc != 0 and "never overwritten" in failure_messages(out)
    assert api.writes() == []


def test_check_mode_creates_nothing_and_writes_nothing(api, playbook, run_dir):
    rc, out, err = playbook.run("probe.yml", extra(run_dir), "--check")
    assert rc == 0, failure_messages(out) or err
    assert api.writes(dry_run=False) == []
    assert not (run_dir / "probes").exists()


def test_unpullable_image_ends_in_bounded_time_keeps_evidence_and_leaves_no_pod(api, playbook, run_dir):
    started = time.monotonic()
    rc, out, _ = playbook.run("probe.yml", extra(run_dir, probes_image="registry.example/does-not-exist:1"))
    assert rc != 0
    message = failure_messages(out)
    assert "probe pods did not start" in message and "ImagePullBackOff" in message
    doc = json.loads((run_dir / "probes" / "before.json").read_text())
    assert all(r["outcome"] == "error" and "ImagePullBackOff" in r["detail"] for r in doc["records"])
    assert len(api.writes("DELETE", "pods")) == 2 and api.names("pods") == []
    assert time.monotonic() - started < 120


def test_missing_source_namespace_is_a_clear_message_and_no_pod_is_created(api, playbook, run_dir):
    probes = [{"name": "ghost", "from": {"namespace": "ghost", "labels": {}}, "to": {"api": True}}]
    rc, out, _ = playbook.run("probe.yml", extra(run_dir, netfence_probes=probes))
    assert rc != 0 and "Probe source namespace(s) ghost do not exist" in failure_messages(out)
    assert api.writes("POST", "pods") == [] and api.names("pods") == []


def test_a_probe_source_namespace_the_identity_may_not_read_is_named_and_no_pod_is_created(api, playbook, run_dir):
    api.scoped_to = {"dev"}  # rogue-in-prod's pod goes to prod
    rc, out, _ = playbook.run("probe.yml", extra(run_dir))
    message = failure_messages(out)
    assert rc != 0 and "reading namespace prod:" in message and "No probe pod was created" in message
    assert api.writes("POST", "pods") == []
