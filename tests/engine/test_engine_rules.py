"""One test per NetworkPolicy semantic rule, on small hand-made worlds."""

from __future__ import annotations

from typing import Any

import pytest

from netfence.policy.engine import Engine
from netfence.errors import NetfenceError
from netfence.policy.model import External, World


def pod(ns: str, name: str, labels: dict[str, str] | None = None, ports: list[tuple[str | None, int, str]] | None = None,
        ip: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": ns, "name": name, "labels": labels or {"pod": name}}
    out["containers"] = [{"name": "c", "ports": [
        {**({"name": n} if n else {}), "containerPort": p, "protocol": proto} for n, p, proto in (ports or [(None, 80, "TCP")])
    ]}]
    if ip:
        out["ip"] = ip
    return out


def policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": name}, "spec": spec}


def world(policies: list[dict[str, Any]], pods: list[dict[str, Any]] | None = None, ns_labels: dict[str, dict[str, str]] | None = None) -> Engine:
    ns_labels = ns_labels or {}
    pods = pods or [pod("x", "a", ip="10.244.1.1"), pod("x", "b", ip="10.244.1.2"), pod("y", "a", ip="10.244.2.1")]
    names = sorted({p["namespace"] for p in pods} | {p["metadata"]["namespace"] for p in policies} | set(ns_labels))
    return Engine(World.from_state({
        "namespaces": [{"name": n, "labels": ns_labels.get(n, {})} for n in names], "pods": pods, "policies": policies,
    }))


def allowed(engine: Engine, src: Any, dst: Any, port: int = 80, proto: str = "TCP") -> bool:
    verdict = engine.verdict(src, dst, port, proto).allowed
    if isinstance(src, str) and isinstance(dst, str):
        keys = [p.key for p in engine.world.pods]
        grid = engine.allowed_matrix((proto, port))
        assert grid[keys.index(src)][keys.index(dst)] == verdict, "matrix and verdict disagree"
    return verdict


DENY_INGRESS = policy("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})


def test_no_policy_allows_everything() -> None:
    e = world([])
    assert allowed(e, "x/a", "y/a") and allowed(e, "y/a", "x/b", 9999, "UDP")


def test_isolation_only_for_selected_pods() -> None:
    e = world([policy("x", "deny-a", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Ingress"]})])
    assert not allowed(e, "x/b", "x/a")
    assert allowed(e, "x/a", "x/b")
    assert allowed(e, "x/b", "y/a"), "a policy in x never isolates pods of y"


def test_isolation_is_per_direction() -> None:
    e = world([DENY_INGRESS])
    assert not allowed(e, "y/a", "x/a")
    assert allowed(e, "x/a", "y/a"), "ingress isolation leaves egress open"


def test_policy_types_default_ingress_only_without_egress_rules() -> None:
    e = world([policy("x", "p", {"podSelector": {}})])
    assert not allowed(e, "y/a", "x/a") and allowed(e, "x/a", "y/a")
    e = world([policy("x", "p", {"podSelector": {}, "egress": []})])
    assert allowed(e, "x/a", "y/a"), "an empty egress list does not imply Egress"


def test_policy_types_egress_implied_by_egress_rules() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]})])
    assert e.verdict("x/a", "x/b", 80).egress.allowed
    assert not e.verdict("x/a", "y/a", 80).egress.allowed
    assert not allowed(e, "x/a", "x/b"), "Ingress is implied too, and there are no ingress rules"


@pytest.mark.parametrize("types", [["Ingress", "Egress"], ["Egress", "Ingress"]])
def test_both_policy_types_in_either_order(types: list[str]) -> None:
    e = world([policy("x", "p", {"podSelector": {}, "policyTypes": types})])
    assert not allowed(e, "x/a", "y/a") and not allowed(e, "y/a", "x/a")


def test_egress_only_policy_ignores_ingress_rules() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]})])
    assert allowed(e, "y/a", "x/a")
    assert not allowed(e, "x/a", "y/a")


def test_policies_are_a_union() -> None:
    allow_b = policy("x", "allow-b", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]})
    e = world([DENY_INGRESS, allow_b])
    assert allowed(e, "x/b", "x/a") and not allowed(e, "y/a", "x/a")


def test_connection_needs_egress_and_ingress() -> None:
    deny_egress = policy("y", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})
    allow_all = policy("x", "allow-all", {"podSelector": {}, "ingress": [{}]})
    e = world([deny_egress, allow_all])
    v = e.verdict("y/a", "x/a", 80)
    assert not v.allowed and not v.egress.allowed and v.ingress.allowed
    assert "blocked at: egress" in v.explain()


def test_peer_without_namespace_selector_is_namespace_local() -> None:
    p = policy("x", "p", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}]})
    e = world([p])
    assert allowed(e, "x/a", "x/b") and not allowed(e, "y/a", "x/b"), "y/a has pod=a but lives in y"


def test_null_selector_in_a_peer_means_absent() -> None:
    """Peer fields are pointers in the API: ``namespaceSelector: null`` is absent (namespace-local), not ``{}``."""
    peer = {"podSelector": {"matchLabels": {"pod": "a"}}, "namespaceSelector": None}
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": [peer]}]})])
    assert allowed(e, "x/a", "x/b") and not allowed(e, "y/a", "x/b")
    with pytest.raises(NetfenceError, match="needs podSelector, namespaceSelector or ipBlock"):
        world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": [{"podSelector": None}]}]})])


def test_namespace_selector_and_pod_selector_in_one_peer_is_and() -> None:
    both = {"namespaceSelector": {"matchLabels": {"team": "t"}}, "podSelector": {"matchLabels": {"pod": "a"}}}
    pods = [pod("x", "a"), pod("y", "a"), pod("y", "b")]
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": [both]}]})], pods, {"y": {"team": "t"}})
    assert allowed(e, "y/a", "x/a") and not allowed(e, "y/b", "x/a") and not allowed(e, "x/a", "x/a")


def test_separate_peers_are_or() -> None:
    peers = [{"namespaceSelector": {"matchLabels": {"team": "t"}}}, {"podSelector": {"matchLabels": {"pod": "a"}}}]
    pods = [pod("x", "a"), pod("x", "b"), pod("y", "b"), pod("z", "a")]
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": peers}]})], pods, {"y": {"team": "t"}})
    assert allowed(e, "y/b", "x/b") and allowed(e, "x/a", "x/b")
    assert not allowed(e, "z/a", "x/b")


def test_empty_namespace_selector_means_all_namespaces_but_no_externals() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]})])
    assert allowed(e, "y/a", "x/a")
    assert not allowed(e, External("8.8.8.8"), "x/a")


@pytest.mark.parametrize("rule", [{}, {"from": []}])
def test_absent_or_empty_from_allows_every_source_including_external(rule: dict[str, Any]) -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [rule]})])
    assert allowed(e, "y/a", "x/a") and allowed(e, External("8.8.8.8"), "x/a")


@pytest.mark.parametrize("rule", [{"from": [{"podSelector": {}}]}, {"from": [{"podSelector": {}}], "ports": []}])
def test_absent_or_empty_ports_allow_every_port(rule: dict[str, Any]) -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [rule]})])
    assert allowed(e, "x/b", "x/a", 1, "UDP") and allowed(e, "x/b", "x/a", 65535, "SCTP")


def test_empty_ingress_list_denies_all() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": []})])
    assert not allowed(e, "x/b", "x/a")


@pytest.mark.parametrize(("op", "values", "expect_a", "expect_b", "expect_c"), [
    ("In", ["1"], True, False, False),
    ("NotIn", ["1"], False, True, True),   # NotIn also matches pods without the key
    ("Exists", None, True, True, False),
    ("DoesNotExist", None, False, False, True),
])
def test_match_expression_operators(op: str, values: list[str] | None, expect_a: bool, expect_b: bool, expect_c: bool) -> None:
    expr: dict[str, Any] = {"key": "v", "operator": op}
    if values:
        expr["values"] = values
    pods = [pod("x", "a", {"v": "1"}), pod("x", "b", {"v": "2"}), pod("x", "c", {"other": "1"}), pod("x", "t", {"t": "1"})]
    p = policy("x", "p", {"podSelector": {"matchLabels": {"t": "1"}}, "ingress": [{"from": [{"podSelector": {"matchExpressions": [expr]}}]}]})
    e = world([p], pods)
    assert [allowed(e, f"x/{n}", "x/t") for n in "abc"] == [expect_a, expect_b, expect_c]


def test_match_labels_and_expressions_are_anded() -> None:
    sel = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}
    pods = [pod("x", "a", {"app": "web"}), pod("x", "b", {"app": "web", "tier": "db"}), pod("x", "c", {"app": "api"})]
    e = world([policy("x", "p", {"podSelector": sel, "policyTypes": ["Ingress"]})], pods)
    assert [e.verdict("x/c", f"x/{n}", 80).ingress.isolated for n in "abc"] == [True, False, False]


def test_ip_block_with_except_applies_to_pod_ips_and_externals() -> None:
    to = [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.1.2/32"]}}]
    e = world([policy("x", "p", {"podSelector": {"matchLabels": {"pod": "a"}}, "egress": [{"to": to}], "policyTypes": ["Egress"]})])
    assert allowed(e, "x/a", "y/a") and not allowed(e, "x/a", "x/b")
    assert allowed(e, "x/a", External("10.244.77.1")) and not allowed(e, "x/a", External("8.8.8.8"))


def test_non_canonical_cidr_means_its_network() -> None:
    to = [{"ipBlock": {"cidr": "10.244.1.5/4"}}]
    e = world([policy("x", "p", {"podSelector": {}, "egress": [{"to": to}], "policyTypes": ["Egress"]})])
    assert allowed(e, "x/a", External("15.1.1.1")) and not allowed(e, "x/a", External("16.0.0.1"))


def test_pod_without_ip_never_matches_ip_block() -> None:
    pods = [pod("x", "a"), pod("x", "b")]
    frm = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    e = world([policy("x", "p", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"from": frm}]})], pods)
    assert not allowed(e, "x/b", "x/a") and allowed(e, External("8.8.8.8"), "x/a")


def test_ip_block_ipv6_never_matches_ipv4() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "::/0"}}]}]})])
    assert not allowed(e, "x/a", External("8.8.8.8")) and allowed(e, "x/a", External("2001:db8::1"))


def test_named_port_resolves_against_destination_for_ingress() -> None:
    pods = [pod("x", "a", ports=[("http", 8080, "TCP")]), pod("x", "b", ports=[("http", 80, "TCP")]), pod("x", "c")]
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]})], pods)
    assert allowed(e, "x/c", "x/a", 8080) and not allowed(e, "x/c", "x/a", 80)
    assert allowed(e, "x/c", "x/b", 80) and not allowed(e, "x/c", "x/b", 8080)


def test_named_port_resolves_against_destination_for_egress() -> None:
    pods = [pod("x", "a", ports=[("http", 8080, "TCP")]), pod("x", "b", ports=[("http", 80, "TCP")]), pod("x", "c", ports=[("web", 81, "TCP")])]
    e = world([policy("x", "p", {"podSelector": {"matchLabels": {"pod": "c"}}, "policyTypes": ["Egress"],
                                 "egress": [{"ports": [{"port": "http"}]}]})], pods)
    assert allowed(e, "x/c", "x/a", 8080) and allowed(e, "x/c", "x/b", 80)
    assert not allowed(e, "x/c", "x/a", 80), "the source's own ports do not matter"
    assert not allowed(e, "x/c", External("8.8.8.8"), 80), "an external destination has no named ports"


def test_named_port_needs_matching_protocol() -> None:
    pods = [pod("x", "a", ports=[("dns", 53, "UDP")]), pod("x", "b")]
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "dns"}]}]})], pods)
    assert not allowed(e, "x/b", "x/a", 53, "UDP"), "rule protocol defaults to TCP"
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "dns", "protocol": "UDP"}]}]})], pods)
    assert allowed(e, "x/b", "x/a", 53, "UDP") and not allowed(e, "x/b", "x/a", 53, "TCP")


def test_end_port_range_is_inclusive() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 8000, "endPort": 8080}]}]})])
    assert [allowed(e, "x/b", "x/a", p) for p in (7999, 8000, 8040, 8080, 8081)] == [False, True, True, True, False]


def test_protocol_defaults_to_tcp_and_udp_sctp_are_distinct() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]})])
    assert allowed(e, "x/b", "x/a", 80, "TCP") and not allowed(e, "x/b", "x/a", 80, "UDP") and not allowed(e, "x/b", "x/a", 80, "SCTP")
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "SCTP"}]}]})])
    assert allowed(e, "x/b", "x/a", 81, "SCTP") and not allowed(e, "x/b", "x/a", 81, "TCP")


def test_namespace_name_label_is_always_present() -> None:
    frm = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]
    e = world([policy("x", "p", {"podSelector": {}, "ingress": [{"from": frm}]})])
    assert allowed(e, "y/a", "x/a") and not allowed(e, "x/b", "x/a")


def test_external_source_is_never_isolated() -> None:
    e = world([policy("x", "p", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})])
    v = e.verdict(External("8.8.8.8"), "x/a", 80)
    assert v.egress.allowed and not v.egress.is_pod and not v.allowed


def test_explain_names_isolating_policy_and_allowing_rule() -> None:
    allow_b = policy("x", "allow-b", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}], "ports": [{"port": 80}]}]})
    e = world([DENY_INGRESS, allow_b])
    text = e.verdict("x/b", "x/a", 80).explain()
    assert "ALLOWED" in text and "isolated by x/deny, x/allow-b" in text and "x/allow-b ingress[0]" in text and "TCP/80" in text
    text = e.verdict("y/a", "x/a", 80).explain()
    assert "DENIED" in text and "no ingress rule" in text and "blocked at: ingress" in text


def test_dns_endpoint_is_the_kube_dns_pods() -> None:
    pods = [pod("x", "a"), pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, [("dns", 53, "UDP")])]
    dns_egress = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"port": 53, "protocol": "UDP"}]}
    e = world([policy("x", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [dns_egress]})], pods)
    assert [p.key for p in e.dns_pods()] == ["kube-system/coredns"]
    assert e.dns_allowed("x/a", "UDP") and not e.dns_allowed("x/a", "TCP")


def test_counts_include_self_pairs() -> None:
    e = world([DENY_INGRESS])
    [row] = e.counts([("TCP", 80)])
    assert row == {"protocol": "TCP", "port": 80, "allowed": 3, "denied": 6, "pairs": 9}


def test_equivalent_pods_share_a_class_but_keep_their_own_rows() -> None:
    pods = [pod("x", f"r{i}", {"app": "w"}) for i in range(4)] + [pod("x", "other", {"app": "o"})]
    e = world([policy("x", "p", {"podSelector": {"matchLabels": {"app": "w"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "o"}}}]}]})], pods)
    assert len(e.matrix.size) == 2
    rows = e.reachability([("TCP", 80)])
    assert len(rows) == 25 and sum(r["allowed"] for r in rows) == 4 + 5


BAD = [
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}, "operator 'Equals' is not one of In, NotIn, Exists, DoesNotExist"),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}, "needs at least one value"),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}}, "takes no values"),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.300/8"}}]}]}, "spec.egress[0].to[0].ipBlock.cidr"),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}]}]}, "is not a CIDR"),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]}, "'11.0.0.0/16' is not strictly inside the cidr 10.0.0.0/8"),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}]}]}, "'10.0.0.0/8' is not strictly inside the cidr"),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}, "cannot be combined"),
    ({"podSelector": {}, "ingress": [{"from": [{}]}]}, "a peer needs"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}, "endPort is only allowed together with a numeric port"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}, "lower than port 90"),
    ({"podSelector": {}, "ingress": [{"ports": [{"endPort": 80}]}]}, "spec.ingress[0].ports[0].endPort: endPort is only allowed together with a numeric port"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]}, "protocol 'ICMP' is not one of TCP, UDP, SCTP"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "tcp"}]}]}, "protocol 'tcp' is not one of TCP, UDP, SCTP (upper case)"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}, "70000 is out of range: a port is 1-65535"),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": "Not_A_Name"}]}]}, "valid port name"),
    ({"podSelector": {}, "policyTypes": ["ingress"]}, "spec.policyTypes[0]: 'ingress' is not one of Ingress, Egress"),
    ({"podSelector": {"matchLabels": {"a": 1}}}, "label value 1 must be a string"),
    ({"podSelectr": {}}, "spec.podSelectr: unknown field 'podSelectr'"),
    # one grammar with the plan: the API server rejects both, so the engine does too
    ({"podSelector": {}, "ingress": [{"ports": [{"port": "80"}]}]}, "'80' is a quoted number"),
    ({"podSelector": {"matchLabels": {"bad key!": "x"}}}, "label key 'bad key!' is invalid"),
]


@pytest.mark.parametrize(("spec", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_policy_names_object_and_field(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(NetfenceError) as info:
        world([policy("x", "bad-one", spec)])
    assert message in str(info.value)
    assert "x/bad-one" in str(info.value)


def test_bad_model_errors() -> None:
    with pytest.raises(NetfenceError, match="namespace 'q' is not in namespaces"):
        World.from_state({"namespaces": [], "pods": [pod("q", "a")], "policies": []})
    with pytest.raises(NetfenceError, match="pod x/a: ip"):
        World.from_state({"namespaces": [{"name": "x"}], "pods": [pod("x", "a", ip="10.1.1")], "policies": []})
    with pytest.raises(NetfenceError, match="listed twice"):
        World.from_state({"namespaces": [{"name": "x"}], "pods": [pod("x", "a"), pod("x", "a")], "policies": []})
    with pytest.raises(NetfenceError, match="protocol 'ICMP' is not one of TCP, UDP, SCTP"):
        World.from_state({"namespaces": [{"name": "x"}], "pods": [pod("x", "a", ports=[(None, 80, "ICMP")])], "policies": []})
    e = world([])
    with pytest.raises(NetfenceError, match="protocol 'ICMP' is not one of TCP, UDP, SCTP"):
        e.verdict("x/a", "x/b", 80, "ICMP")
    with pytest.raises(NetfenceError, match="not in the model"):
        e.verdict("x/a", "x/zz", 80)


def test_a_policys_manifest_rides_along_but_takes_no_part_in_equality_or_hashing() -> None:
    from netfence.policy.model import parse_policy

    labelled = parse_policy({"metadata": {"name": "a", "namespace": "x", "labels": {"team": "t"}}, "spec": {"podSelector": {}}})
    plain = parse_policy({"metadata": {"name": "a", "namespace": "x"}, "spec": {"podSelector": {}}})
    assert labelled == plain and hash(labelled) == hash(plain) and len({labelled, plain}) == 1
    assert labelled.raw["metadata"]["labels"] == {"team": "t"} and "team" not in repr(labelled)
    other = parse_policy({"metadata": {"name": "a", "namespace": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"]}})
    assert other != plain


def test_isolating_is_per_namespace_and_remembers_only_the_worlds_own_pods():
    """The index behind verdicts: a policy selects pods of its own namespace only, and a pod that
    is not the world's record (same key, other labels) is judged on its own labels, not a memo."""
    from netfence.policy.model import Pod

    engine = world([policy("x", "deny-a", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Ingress"]}),
                    policy("y", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})])
    xa, ya = engine.world.pod("x/a"), engine.world.pod("y/a")
    assert [p.name for p in engine.isolating(xa, "ingress")] == ["deny-a"]
    assert engine.isolating(xa, "egress") == []
    assert [p.name for p in engine.isolating(ya, "egress")] == ["deny-all"]
    relabelled = Pod(xa.namespace, xa.name, {"pod": "other"}, xa.ports, xa.ip)
    assert engine.isolating(relabelled, "ingress") == []
    assert [p.name for p in engine.isolating(xa, "ingress")] == ["deny-a"]
    engine.isolating(xa, "ingress").clear()  # callers get a copy: the memo stays intact
    assert not allowed(engine, "y/a", "x/a") and not allowed(engine, "x/b", "x/a")


@pytest.mark.parametrize(("spec", "message"), BAD, ids=[m for _, m in BAD])
def test_the_plan_refuses_every_policy_the_engine_refuses_with_the_same_words(spec: dict[str, Any], message: str) -> None:
    """One grammar: the plan's API-server layer and the engine's model read policies through the
    same reader, so they cannot disagree on what is valid (they once did on port "80")."""
    from netfence.policy.reader import read_policy

    manifest = policy("x", "bad-one", spec)
    found = read_policy(manifest)[1]  # what validate.read_rendered reports at inventory paths
    assert found, "the plan accepted a policy the engine refuses"
    assert any(message.split(": ")[-1] in f"{path}: {reason}" for path, reason in found)
