"""Reject-style enforcement: a refusal by a target known to listen is a block, not a closed port.

kube-router (and so k3s) answers a denied packet with ICMP port-unreachable (its rule:
``-j REJECT --reject-with icmp-port-unreachable``, seen on the local cluster). curl then fails
exactly as for a closed port: since 7.87 it prints "Couldn't connect to server" in both cases.
REJECTED below is what curl 7.88.1 printed in a probe pod of the local cluster for a port denied
by a NetworkPolicy; the same bytes come back for a port nothing listens on.
"""

from __future__ import annotations

from probe_fakes import CONNECTED, FakeTransport
from netfence.probes import plan
from netfence.probes.command import ExecResult
from netfence.probes.runner import Settings, run_probes

REJECTED = ExecResult(7, "0.000000 000", "curl: (7) Failed to connect to 10.244.0.4 port 3000 after 0 ms: Couldn't connect to server")

NAMESPACES = [
    {"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api"}, "container_port": 3000, "service_port": 80}]},
    {"name": "prod", "workloads": [{"name": "my-api", "labels": {"app": "my-api"}, "container_port": 3000, "service_port": 80}]},
]


def probe(name, to, port):
    return {"name": name, "from": {"namespace": "dev", "workload": "my-api"}, "to": to, "port": port,
            "expect": {"before": "allowed", "after": "blocked"}}


def run(specs, result):
    transport = FakeTransport(lambda *a: result, {"prod": "10.244.0.4"})
    pods = {s.key: s.pod_name("r1") for s in plan.sources(specs)}
    return {r["name"]: r for r in run_probes(specs, transport, Settings(phase="after", run_id="r1", cluster="c"), pods)}


def test_declared_ports_listen_and_others_are_unknown():
    specs = {s.name: s for s in plan.from_inventory([
        probe("svc-80", {"service": "prod/my-api"}, 80),
        probe("svc-3000", {"service": "prod/my-api"}, 3000),   # the Service port is 80, not 3000
        probe("pod-3000", {"pod": "prod/my-api"}, 3000),
        probe("pod-8080", {"pod": "prod/my-api"}, 8080),
        probe("ext", {"external": "203.0.113.10"}, 443),
    ], NAMESPACES)}
    assert specs["svc-80"].listens is True and specs["pod-3000"].listens is True
    assert specs["svc-3000"].listens is None and specs["pod-8080"].listens is None and specs["ext"].listens is None


def test_a_refusal_from_a_listening_target_is_recorded_as_blocked_with_the_raw_evidence():
    specs = plan.from_inventory([probe("pod-3000", {"pod": "prod/my-api"}, 3000)], NAMESPACES)
    record = run(specs, REJECTED)["pod-3000"]
    assert record["outcome"] == "blocked" and record["matches"] is True
    assert "rejected" in record["detail"] and "Couldn't connect to server" in record["detail"]
    assert [a["outcome"] for a in record["attempts"]] == ["refused"]


def test_a_refusal_from_an_undeclared_port_stays_refused():
    specs = plan.from_inventory([probe("pod-8080", {"pod": "prod/my-api"}, 8080)], NAMESPACES)
    assert run(specs, REJECTED)["pod-8080"]["outcome"] == "refused"


def test_a_target_that_refused_before_the_policies_does_not_listen():
    specs = plan.from_inventory([probe("pod-3000", {"pod": "prod/my-api"}, 3000), probe("svc-80", {"service": "prod/my-api"}, 80)],
                                NAMESPACES)
    # the real before round: pod-3000 refuses (nothing listens), svc-80 answers
    transport = FakeTransport(lambda ns, pod, argv, n: REJECTED if ":3000/" in argv[-1] else CONNECTED, {"prod": "10.244.0.4"})
    pods = {s.key: s.pod_name("r1") for s in plan.sources(specs)}
    before_records = run_probes(specs, transport, Settings(phase="before", run_id="r1", cluster="c"), pods)
    before = {"records": before_records}
    assert {r["name"]: r["outcome"] for r in before_records}["pod-3000"] == "blocked"  # the rule applies before too
    after = plan.refused_before(specs, before)
    records = run(after, REJECTED)
    assert records["pod-3000"]["outcome"] == "refused"   # it never listened: not a policy decision
    assert records["svc-80"]["outcome"] == "blocked"
    assert plan.refused_before(specs, None) == specs


def test_an_allowed_connection_is_untouched():
    specs = plan.from_inventory([probe("pod-3000", {"pod": "prod/my-api"}, 3000)], NAMESPACES)
    assert run(specs, CONNECTED)["pod-3000"]["outcome"] == "allowed"


def test_the_blast_radius_knows_declared_service_ports_and_the_api_server():
    services = [{"metadata": {"namespace": "prod", "name": "my-api"}, "spec": {"ports": [{"port": 80}, {"port": 9090}]}}]
    specs = {s.name: s for s in plan.blast_radius(["dev"], {}, services, external="203.0.113.10", inventory=NAMESPACES)}
    assert specs["blast from dev to prod/my-api:80"].listens is True
    assert specs["blast from dev to prod/my-api:9090"].listens is None
    assert specs["blast from dev to kubernetes-api:443"].listens is True
    assert specs["blast from dev to internet 203.0.113.10:443"].listens is None


def test_listens_survives_the_round_trip_through_ansible():
    [spec] = plan.from_inventory([probe("pod-3000", {"pod": "prod/my-api"}, 3000)], NAMESPACES)
    assert type(spec).from_dict(spec.to_dict()) == spec


def test_a_refusal_by_a_target_that_answered_another_source_in_the_round_is_a_reject():
    # the blast radius's test host is not declared anywhere, but one rogue pod reached it
    specs = plan.blast_radius(["dev", "prod"], {}, [], external="203.0.113.10", inventory=NAMESPACES)
    specs = [s for s in specs if s.target.kind == "external"]
    transport = FakeTransport(lambda ns, pod, argv, n: CONNECTED if ns == "dev" else REJECTED, {})
    pods = {s.key: s.pod_name("r1") for s in plan.sources(specs)}
    records = {r["source"]["namespace"]: r for r in run_probes(specs, transport, Settings(phase="blast-radius", run_id="r1", cluster="c"), pods)}
    assert records["dev"]["outcome"] == "allowed"
    assert records["prod"]["outcome"] == "blocked" and "another source" in records["prod"]["detail"]
    # with nobody answering, a refusal stays a refusal
    alone = FakeTransport(lambda *a: REJECTED, {})
    assert {r["outcome"] for r in run_probes(specs, alone, Settings(phase="blast-radius", run_id="r1", cluster="c"), pods)} == {"refused"}
