"""Property-based: the engine's two paths agree with an independent brute-force evaluator.

Random worlds cover every operator, selectors combined or alone, ipBlocks (non-canonical CIDRs,
``except``) against pod IPs and external addresses, named ports that resolve to different
numbers on different pods, ``endPort`` ranges, every ``policyTypes`` spelling (absent, one,
both in either order) and absent vs empty ``from``/``to``/``ports``/rule lists.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_oracle import Oracle
from netfence.policy.engine import Engine
from netfence.policy.model import External, World

KEYS = ["app", "tier", "env"]
VALUES = ["a", "b", "c"]
CONTAINER_PORTS = [
    {"name": "http", "containerPort": 80, "protocol": "TCP"},
    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
    {"name": "web", "containerPort": 81},
    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
    {"name": "sctp-80", "containerPort": 80, "protocol": "SCTP"},
]
PROBES = [("TCP", 80), ("TCP", 81), ("TCP", 8080), ("UDP", 53), ("TCP", 53), ("SCTP", 80), ("TCP", 9000)]
EXTERNALS = ["8.8.8.8", "10.244.9.9", "192.168.1.1"]

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


@st.composite
def selectors(draw: Any) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    if draw(st.booleans()):
        sel["matchLabels"] = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2))
    exprs = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        expr: dict[str, Any] = {"key": draw(st.sampled_from(KEYS)), "operator": op}
        if op in ("In", "NotIn"):
            expr["values"] = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True))
        exprs.append(expr)
    if exprs:
        sel["matchExpressions"] = exprs
    return sel


@st.composite
def ip_blocks(draw: Any, pool: list[str]) -> dict[str, Any]:
    base = draw(st.sampled_from(pool))
    prefix = draw(st.sampled_from([0, 4, 8, 16, 24, 30, 32]))
    net = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
    cidr = f"{base}/{prefix}" if draw(st.booleans()) else str(net)  # non-canonical or canonical
    excepts = []
    inside = [ip for ip in pool if ipaddress.ip_address(ip) in net]
    for _ in range(draw(st.integers(0, 2))):
        longer = [p for p in (8, 24, 28, 32) if p > prefix]
        if not inside or not longer:
            break
        ex = ipaddress.ip_network(f"{draw(st.sampled_from(inside))}/{draw(st.sampled_from(longer))}", strict=False)
        excepts.append(str(ex))
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = excepts
    return {"ipBlock": block}


@st.composite
def peers(draw: Any, pool: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ip"]))
    if kind == "ip":
        return draw(ip_blocks(pool))
    peer: dict[str, Any] = {}
    if kind in ("pod", "both"):
        peer["podSelector"] = draw(selectors())
    if kind in ("ns", "both"):
        peer["namespaceSelector"] = draw(selectors())
    return peer


@st.composite
def policy_ports(draw: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    proto = draw(st.sampled_from([None, "TCP", "UDP", "SCTP"]))
    if proto:
        entry["protocol"] = proto
    kind = draw(st.sampled_from(["none", "number", "range", "name"]))
    if kind in ("number", "range"):
        entry["port"] = draw(st.sampled_from([53, 80, 81, 8080]))
        if kind == "range":
            entry["endPort"] = min(65535, entry["port"] + draw(st.sampled_from([0, 1, 100, 8000])))
    elif kind == "name":
        entry["port"] = draw(st.sampled_from(["http", "web", "dns", "dns-tcp", "sctp-80", "nope"]))
    return entry


def absent_empty_or(draw: Any, strategy: Any) -> Any:
    """Absent (None), empty list, or a drawn non-empty list."""
    choice = draw(st.sampled_from(["absent", "empty", "list", "list"]))
    if choice == "absent":
        return None
    if choice == "empty":
        return []
    return draw(st.lists(strategy, min_size=1, max_size=2))


@st.composite
def rules(draw: Any, peer_key: str, pool: list[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    p = absent_empty_or(draw, peers(pool))
    if p is not None:
        rule[peer_key] = p
    ports = absent_empty_or(draw, policy_ports())
    if ports is not None:
        rule["ports"] = ports
    return rule


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    ns_names = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True))
    namespaces = [{"name": n, "labels": draw(labels_st)} for n in ns_names]
    pods = []
    for i in range(draw(st.integers(1, 5))):
        ns = draw(st.sampled_from(ns_names))
        pod: dict[str, Any] = {"namespace": ns, "name": f"p{i}", "labels": draw(labels_st)}
        ports = draw(st.lists(st.sampled_from(range(len(CONTAINER_PORTS))), max_size=3, unique=True))
        # Two ports named "http" on one pod would be invalid; keep one.
        chosen = []
        for idx in ports:
            if CONTAINER_PORTS[idx]["name"] not in {c["name"] for c in chosen}:
                chosen.append(CONTAINER_PORTS[idx])
        pod["containers"] = [{"name": "c", "ports": chosen}]
        if draw(st.integers(0, 4)):
            pod["ip"] = f"10.244.{i % 3}.{10 + i}"
        pods.append(pod)
    pool = [p["ip"] for p in pods if "ip" in p] + EXTERNALS + ["10.244.0.0"]
    policies = []
    for j in range(draw(st.integers(0, 4))):
        spec: dict[str, Any] = {"podSelector": draw(selectors())}
        types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"]]))
        if types is not None:
            spec["policyTypes"] = types
        for key, peer_key in (("ingress", "from"), ("egress", "to")):
            value = absent_empty_or(draw, rules(peer_key, pool))
            if value is not None:
                spec[key] = value
        policies.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"pol{j}", "namespace": draw(st.sampled_from(ns_names))}, "spec": spec,
        })
    return {"namespaces": namespaces, "pods": pods, "policies": policies}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_engine_matches_bruteforce(state: dict[str, Any]) -> None:
    oracle = Oracle(state)
    engine = Engine(World.from_state(state))
    keys = [f"{p['namespace']}/{p['name']}" for p in state["pods"]]
    rows = engine.reachability(PROBES)
    assert len(rows) == len(PROBES) * len(keys) ** 2
    for row in rows:
        expected = oracle.allowed(row["from"], row["to"], row["protocol"], row["port"])  # type: ignore[arg-type]
        assert row["allowed"] == expected, (row, engine.verdict(row["from"], row["to"], row["port"], row["protocol"]).explain())  # type: ignore[arg-type]
        verdict = engine.verdict(row["from"], row["to"], row["port"], row["protocol"])  # type: ignore[arg-type]
        assert verdict.allowed == expected
    for count in engine.counts(PROBES):
        allowed = sum(1 for r in rows if r["allowed"] and (r["protocol"], r["port"]) == (count["protocol"], count["port"]))
        assert count["allowed"] == allowed
        # the three ways of counting agree, whichever the engine would pick for this world
        for strategy in ("pairs", "egress", "ingress"):
            assert engine.matrix.count(count["protocol"], count["port"], strategy) == allowed, strategy  # type: ignore[arg-type]
    for proto, port in PROBES:
        for ext in EXTERNALS:
            for key in keys:
                assert engine.verdict(key, External(ext), port, proto).allowed == oracle.allowed(key, ext, proto, port)
                assert engine.verdict(External(ext), key, port, proto).allowed == oracle.allowed(ext, key, proto, port)
