"""The policies role's DNS guard: netfence_dns_gaps applies the plan's rule to the manifests about to be applied."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

_SPEC = importlib.util.spec_from_file_location(
    "netfence_policies", Path(__file__).resolve().parents[2] / "plugins" / "filter" / "netfence_policies.py")
assert _SPEC and _SPEC.loader
policies_filter = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(policies_filter)
dns_gaps = policies_filter.dns_gaps

DENY_EGRESS = {"podSelector": {}, "policyTypes": ["Egress"]}


def netpol(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def egress_53(to: list[dict[str, Any]] | None = None, protocol: str = "UDP") -> dict[str, Any]:
    rule: dict[str, Any] = {"ports": [{"port": 53, "protocol": protocol}]}
    if to is not None:
        rule["to"] = to
    return {"podSelector": {}, "policyTypes": ["Egress"], "egress": [rule]}


KUBE_DNS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}


def test_rule_to_the_dns_pods_on_udp_53_closes_the_gap() -> None:
    manifests = [netpol("dev", "deny", DENY_EGRESS), netpol("dev", "dns", egress_53([KUBE_DNS]))]
    assert dns_gaps(manifests, [{"name": "dev"}]) == []


def test_port_53_towards_the_own_namespace_does_not_reach_kube_dns() -> None:
    # The old Jinja guard accepted any rule on port 53; the DNS pods live in kube-system.
    only_own_ns = egress_53([{"podSelector": {}}])
    assert dns_gaps([netpol("dev", "deny", DENY_EGRESS), netpol("dev", "dns", only_own_ns)], [{"name": "dev"}]) == ["dev"]


def test_tcp_53_alone_does_not_count_as_dns() -> None:
    assert dns_gaps([netpol("dev", "dns", egress_53([KUBE_DNS], protocol="TCP"))], [{"name": "dev"}]) == ["dev"]


def test_implied_egress_type_restricts_and_undeclared_namespaces_get_the_defaults() -> None:
    implied = {"podSelector": {}, "egress": [{"ports": [{"port": 443}]}]}
    assert dns_gaps([netpol("dev", "web", implied), netpol("prod", "deny-in", {"podSelector": {}})]) == ["dev"]


def test_acknowledged_namespace_is_not_reported() -> None:
    manifests = [netpol("dev", "deny", DENY_EGRESS), netpol("prod", "deny", DENY_EGRESS)]
    ack = [{"name": "prod", "acknowledge": {"egress_without_dns": True}}]
    assert dns_gaps(manifests, ack) == ["dev"]


def test_the_inventory_dns_location_is_honoured() -> None:
    coredns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
               "podSelector": {"matchLabels": {"app": "coredns"}}}
    manifests = [netpol("dev", "dns", egress_53([coredns]))]
    assert dns_gaps(manifests, [{"name": "dev"}]) == ["dev"]
    moved = [{"name": "dev", "dns": {"namespace": "dns", "pod_labels": {"app": "coredns"}}}]
    assert dns_gaps(manifests, moved) == []


def test_pods_the_inventory_does_not_declare_count_too() -> None:
    # Egress restricted for app=batch only: stranded whether or not a batch workload is declared.
    batch_only = {"podSelector": {"matchLabels": {"app": "batch"}}, "policyTypes": ["Egress"]}
    web = [{"name": "dev", "workloads": [{"name": "web", "labels": {"app": "web"}}]}]
    assert dns_gaps([netpol("dev", "batch", batch_only)], web) == ["dev"]
    assert dns_gaps([netpol("dev", "batch", batch_only)], [{"name": "dev"}]) == ["dev"]
    # ... and DNS allowed to exactly those pods closes it
    dns_for_batch = {**egress_53([KUBE_DNS]), "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["batch"]}]}}
    assert dns_gaps([netpol("dev", "batch", batch_only), netpol("dev", "dns", dns_for_batch)], web) == []


def test_a_named_dns_port_counts_as_dns() -> None:
    # CoreDNS names its UDP 53 port "dns"; a policy may use the name, as the engine resolves it.
    named = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [KUBE_DNS], "ports": [{"port": "dns", "protocol": "UDP"}]}]}
    assert dns_gaps([netpol("dev", "dns", named)], [{"name": "dev"}]) == []
    tcp_named = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [KUBE_DNS], "ports": [{"port": "dns-tcp", "protocol": "TCP"}]}]}
    assert dns_gaps([netpol("dev", "dns", tcp_named)], [{"name": "dev"}]) == ["dev"]


def test_a_dns_rule_written_as_an_ipblock_counts_where_the_dns_pods_really_are() -> None:
    # the guard gives pods addresses from the pod subnet, as the plan does: an ipBlock rule on UDP 53
    # reaches the DNS pods only if it covers that subnet
    pods = egress_53([{"ipBlock": {"cidr": "10.244.0.0/16"}}])
    elsewhere = egress_53([{"ipBlock": {"cidr": "172.16.0.0/12"}}])
    assert dns_gaps([netpol("dev", "dns", pods)], [{"name": "dev"}], "10.244.0.0/16") == []
    assert dns_gaps([netpol("dev", "dns", elsewhere)], [{"name": "dev"}], "10.244.0.0/16") == ["dev"]
    # no pod subnet: whether the block covers the DNS pods is unknown; the plan warns, the guard does not refuse
    assert dns_gaps([netpol("dev", "dns", elsewhere)], [{"name": "dev"}]) == []


def test_no_manifests_means_no_gaps() -> None:
    assert dns_gaps([], []) == [] and dns_gaps([], None) == []


class _Tagged(str):
    """Ansible passes tagged subclasses of str and int to filters."""


class _TaggedInt(int):
    pass


def test_subclasses_of_str_and_int_are_plain_values() -> None:
    rule = {"to": [{"namespaceSelector": {"matchLabels": {_Tagged("kubernetes.io/metadata.name"): _Tagged("kube-system")}}}],
            "ports": [{"port": _TaggedInt(53), "protocol": _Tagged("UDP")}]}
    manifests = [netpol("dev", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [rule]})]
    assert dns_gaps(manifests, [{"name": "dev"}]) == []


@pytest.mark.parametrize("manifests, message", [
    ({"kind": "NetworkPolicy"}, "expects a list"),
    ([netpol("dev", "bad", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}})], "operator 'Has' is not one of"),
])
def test_bad_input_is_a_filter_error_naming_the_problem(manifests: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        dns_gaps(manifests, [])
