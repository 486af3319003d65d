"""The probe runner against a fake exec transport: retries, timeouts, errors, pod reuse."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest

from probe_fakes import CONNECTED, NXDOMAIN, REFUSED, TIMED_OUT, FakeTransport
from netfence.errors import NetfenceError
from netfence.probes import plan
from netfence.probes.command import ExecResult
from netfence.probes.records import PHASE_SCHEMA, RECORD_SCHEMA, phase_document
from netfence.probes.runner import Settings, run_probes, wait_for_pods

NAMESPACES = [
    {"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "dev"}}]},
    {"name": "monitoring", "workloads": [{"name": "scraper", "labels": {"app": "scraper"}}]},
]
PROBES = [
    {"name": "scraper-to-api", "from": {"namespace": "monitoring", "workload": "scraper"}, "to": {"pod": "dev/my-api"},
     "port": 3000, "expect": {"before": "allowed", "after": "allowed"}},
    {"name": "rogue-to-api", "from": {"namespace": "monitoring", "labels": {}}, "to": {"service": "dev/my-api"},
     "port": 80, "expect": {"before": "allowed", "after": "blocked"}},
    {"name": "api-to-internet", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}},
]


def specs():
    return plan.from_inventory(PROBES, NAMESPACES)


def pods_for(specs_, run_id="r1"):
    return {s.key: s.pod_name(run_id) for s in plan.sources(specs_)}


def settings(**kw):
    return Settings(**{"phase": "after", "run_id": "r1", "cluster": "lab", "context": "kind-lab", **kw})


def test_records_follow_the_schema_and_expectations():
    transport = FakeTransport(lambda ns, pod, argv, n: TIMED_OUT if "my-api.dev" in argv[-1] else CONNECTED, {"dev": "10.0.0.7"})
    s = specs()
    records = run_probes(s, transport, settings(), pods_for(s))
    by_name = {r["name"]: r for r in records}
    for record in records:
        jsonschema.validate(record, RECORD_SCHEMA)
    assert by_name["scraper-to-api"]["outcome"] == "allowed"
    assert by_name["scraper-to-api"]["target"]["host"] == "10.0.0.7"
    assert by_name["scraper-to-api"]["command"][-1] == "http://10.0.0.7:3000/"
    assert by_name["rogue-to-api"]["outcome"] == "blocked" and by_name["rogue-to-api"]["matches"] is True
    assert by_name["api-to-internet"]["expected"] is None and by_name["api-to-internet"]["matches"] is None
    doc = phase_document(run_id="r1", phase="after", cluster="lab", context="kind-lab", started_at="a", finished_at="b", pods=3, records=records)
    jsonschema.validate(doc, PHASE_SCHEMA)
    assert doc["summary"]["outcomes"]["allowed"] == 2 and doc["summary"]["mismatches"] == []


def test_a_disagreement_is_retried_a_bounded_number_of_times():
    # blocked on the first attempt (policy not programmed yet), allowed afterwards
    transport = FakeTransport(lambda ns, pod, argv, n: TIMED_OUT if n == 0 else CONNECTED, {"dev": "10.0.0.7"})
    s = [x for x in specs() if x.name == "scraper-to-api"]
    [record] = run_probes(s, transport, settings(retries=2), pods_for(s))
    assert [a["outcome"] for a in record["attempts"]] == ["blocked", "allowed"]
    assert record["outcome"] == "allowed" and record["matches"] is True

    always_wrong = FakeTransport(lambda *a: REFUSED, {"dev": "10.0.0.7"})
    s = [dataclasses.replace(s[0], listens=None)]  # not known to listen: a refusal stays a refusal
    [record] = run_probes(s, always_wrong, settings(retries=2), pods_for(s))
    assert len(always_wrong.calls) == 3 and record["outcome"] == "refused" and record["matches"] is False


def test_agreeing_and_unexpected_probes_are_not_retried():
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.0.0.7"})
    s = specs()
    records = {r["name"]: r for r in run_probes(s, transport, settings(retries=3), pods_for(s))}
    assert len(records["scraper-to-api"]["attempts"]) == 1  # agrees with "allowed"
    assert len(records["api-to-internet"]["attempts"]) == 1  # no expectation: recorded, never retried
    assert len(records["rogue-to-api"]["attempts"]) == 4  # expected blocked: 1 + 3 retries
    assert len(transport.calls) == 6


def test_probes_of_one_identity_share_one_pod_and_targets_resolve_once():
    many = [dict(PROBES[0], name=f"p{i}", port=3000 + i) for i in range(20)]
    s = plan.from_inventory(many, NAMESPACES)
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.0.0.7"})
    run_probes(s, transport, settings(concurrency=8), pods_for(s))
    assert len({pod for _, pod, _, _ in transport.calls}) == 1
    assert transport.ip_lookups == ["dev"]


def test_transport_failures_and_timeouts_become_error_records():
    def script(ns, pod, argv, n):
        if "1.1.1.1" in argv[-1]:
            raise ConnectionError("API server closed the connection")
        return ExecResult(None, error="no exit status within 7s")

    s = specs()
    records = {r["name"]: r for r in run_probes(s, FakeTransport(script, {"dev": "10.0.0.7"}), settings(retries=0), pods_for(s))}
    assert records["api-to-internet"]["outcome"] == "error"
    assert "API server closed" in records["api-to-internet"]["detail"]
    assert records["rogue-to-api"]["detail"] == "no exit status within 7s"


def test_missing_target_pod_and_missing_probe_pod_are_errors_not_crashes():
    s = specs()
    pods = pods_for(s)
    monitoring_key = next(k for k in pods if k.startswith("monitoring/{app=scraper,"))
    pods[monitoring_key] = None
    records = {r["name"]: r for r in run_probes(s, FakeTransport(lambda *a: NXDOMAIN), settings(), pods, {monitoring_key: "probe pod is Pending (ImagePullBackOff)"})}
    assert records["scraper-to-api"]["outcome"] == "error"
    assert "ImagePullBackOff" in records["scraper-to-api"]["detail"]
    assert records["rogue-to-api"]["outcome"] == "dns-error"


def test_exec_timeout_passed_to_transport_is_bounded():
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.0.0.7"})
    s = specs()
    run_probes(s, transport, settings(timeout=2.0, exec_grace=3.0), pods_for(s))
    assert {timeout for *_, timeout in transport.calls} == {5.0}


def test_bad_settings_are_refused():
    with pytest.raises(NetfenceError, match="retries"):
        settings(retries=9)


def test_wait_for_pods_fails_fast_on_image_pull_and_bounds_the_wait():
    clock = iter(range(0, 1000)).__next__
    states = {"a": ("Pending", "ImagePullBackOff"), "b": ("Running", None), "c": ("Pending", "ContainerCreating")}
    transport = FakeTransport(lambda *a: CONNECTED, states=states)
    failed = wait_for_pods(transport, {"ka": ("dev", "a"), "kb": ("dev", "b"), "kc": ("dev", "c")}, timeout=5,
                           clock=lambda: float(clock()), sleep=lambda s: None)
    assert set(failed) == {"ka", "kc"}
    assert "ImagePullBackOff" in failed["ka"] and "not running after 5s" in failed["kc"]


def test_progress_is_told_of_every_finished_probe_and_every_settled_pod():
    many = [dict(PROBES[0], name=f"p{i}", port=3000 + i) for i in range(30)]
    s = plan.from_inventory(many, NAMESPACES)
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.0.0.7"})
    finished = []
    records = run_probes(s, transport, settings(concurrency=8), pods_for(s), progress=lambda: finished.append(1))
    assert len(finished) == len(records) == 30
    # pods: two settle in the first pass (one running, one failing), the third never does
    clock = iter(range(0, 1000)).__next__
    states = {"a": ("Pending", "ImagePullBackOff"), "b": ("Running", None), "c": ("Pending", "ContainerCreating")}
    settled = []
    wait_for_pods(FakeTransport(lambda *a: CONNECTED, states=states), {"ka": ("dev", "a"), "kb": ("dev", "b"), "kc": ("dev", "c")},
                  timeout=3, clock=lambda: float(clock()), sleep=lambda s: None, progress=settled.append)
    assert settled == [2]
