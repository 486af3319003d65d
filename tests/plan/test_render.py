"""Rendering: the reference scenario's content, stable names and labels, same input → same bytes."""

from __future__ import annotations

import copy

import kubernetes_validate
import yaml

from netfence.inventory.schema import parse
from netfence.inventory.render import render, render_files


def _by_name(lab, namespace):
    rendered = render(parse(lab))
    return {p.name: p.manifest for p in rendered[namespace]}


def test_one_file_per_namespace_and_same_bytes_every_time(lab):
    first = render_files(render(parse(lab)))
    second = render_files(render(parse(copy.deepcopy(lab))))
    assert list(first) == ["manifests/dev.yaml", "manifests/prod.yaml", "manifests/monitoring.yaml",
                           "manifests/gateway.yaml"]
    assert first == second


def test_order_of_profiles_and_keys_in_the_inventory_does_not_change_the_bytes(lab):
    before = render_files(render(parse(lab)))
    lab[0]["profiles"].reverse()
    spec = lab[2]["extra_policies"][0]["spec"]
    lab[2]["extra_policies"][0]["spec"] = dict(reversed(list(spec.items())))
    lab[0]["workloads"][0] = dict(reversed(list(lab[0]["workloads"][0].items())))
    assert render_files(render(parse(lab))) == before


def test_policies_are_named_stably_and_labelled_with_their_profile(lab):
    for policies in render(parse(lab)).values():
        for policy in policies:
            meta = policy.manifest["metadata"]
            assert meta["name"].startswith("netfence-")
            assert meta["labels"] == {"app.kubernetes.io/managed-by": "netfence", "netfence.io/profile": policy.profile}
    assert list(_by_name(lab, "dev")) == [
        "netfence-default-deny-ingress", "netfence-default-deny-egress", "netfence-allow-same-namespace",
        "netfence-allow-dns-egress", "netfence-allow-from-namespaces-monitoring",
        "netfence-allow-from-pods-gateway-api-gateway", "netfence-allow-internet-egress"]


def test_reference_scenario_content(lab):
    dev = _by_name(lab, "dev")
    assert dev["netfence-default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert dev["netfence-default-deny-egress"]["spec"] == {"podSelector": {}, "policyTypes": ["Egress"]}
    scrape = dev["netfence-allow-from-namespaces-monitoring"]["spec"]
    assert scrape["podSelector"] == {"matchLabels": {"app": "my-api"}}
    assert scrape["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                  "podSelector": {"matchLabels": {"app": "scraper"}}}],
        "ports": [{"port": 3000, "protocol": "TCP"}]}]
    gateway = dev["netfence-allow-from-pods-gateway-api-gateway"]["spec"]["ingress"][0]["from"][0]
    assert gateway == {"podSelector": {"matchLabels": {"app": "api-gateway"}},
                       "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}
    dns = dev["netfence-allow-dns-egress"]["spec"]["egress"][0]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    internet = dev["netfence-allow-internet-egress"]["spec"]["egress"][0]
    assert internet == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                            "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
                        "ports": [{"port": 443, "protocol": "TCP"}]}


def test_same_namespace_opens_egress_only_where_egress_is_restricted(lab):
    assert _by_name(lab, "dev")["netfence-allow-same-namespace"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    gateway = _by_name(lab, "gateway")["netfence-allow-same-namespace"]["spec"]
    assert gateway["policyTypes"] == ["Ingress"]
    assert "egress" not in gateway


def test_extra_policies_render_as_written_sorted_by_name(lab):
    lab[2]["extra_policies"].insert(0, {"name": "zz-last", "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    monitoring = _by_name(lab, "monitoring")
    assert list(monitoring)[-2:] == ["netfence-extra-scrape-my-api", "netfence-extra-zz-last"]
    assert monitoring["netfence-extra-scrape-my-api"]["spec"] == lab[2]["extra_policies"][1]["spec"]


def test_every_rendered_file_passes_kubernetes_validate_itself(lab):
    for text in render_files(render(parse(lab))).values():
        docs = [d for d in yaml.safe_load_all(text) if d]
        assert docs
        for doc in docs:
            kubernetes_validate.validate(doc, "1.35.8", strict=True)


def test_manifest_paths_map_back_to_the_inventory(lab):
    rendered = render(parse(lab))
    from_ns = next(p for p in rendered["dev"] if p.profile == "allow-from-namespaces")
    assert from_ns.inventory_path("spec.ingress[0].ports[0].port") == \
        "netfence_namespaces[0].allow_from_namespaces[0].ports[0].port"
    extra = next(p for p in rendered["monitoring"] if p.profile == "extra")
    assert extra.inventory_path("spec.egress[0].to[0]") == "netfence_namespaces[2].extra_policies[0].spec.egress[0].to[0]"
    deny = rendered["dev"][0]
    assert deny.inventory_path("") == "netfence_namespaces[0].profiles[0]"
