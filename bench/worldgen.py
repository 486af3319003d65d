"""Generate benchmark worlds: N pods across namespaces, six baseline policies per namespace.

The shape follows a realistic cluster: application namespaces of ~100 pods made of
Deployments (replicas share labels and ports), a monitoring namespace whose Prometheus scrapes
named ``metrics`` ports, kube-dns in kube-system. Every application namespace gets the baseline
netfence renders: default-deny ingress, default-deny egress, allow-same-namespace, allow DNS
egress, allow from monitoring (named port), internet egress on 443 with private ranges
excepted. Pods carry IPs from 10.244.0.0/16 so ipBlocks are evaluated against them.

Deterministic for a given size and seed. Also writes the same world as a folder of Kubernetes
resources (Namespaces, Pods, NetworkPolicies) for network-config-analyzer.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

PODS_PER_NAMESPACE = 100
# (workload, tier, container ports as (name, port, protocol))
WORKLOADS = [
    ("frontend", "web", [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]),
    ("api", "api", [("http", 3000, "TCP"), ("metrics", 9090, "TCP")]),
    ("worker", "api", [("metrics", 9090, "TCP")]),
    ("cache", "db", [("redis", 6379, "TCP")]),
    ("db", "db", [("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")]),
    ("search", "api", [("http", 9200, "TCP")]),
    ("queue", "api", [("amqp", 5672, "TCP")]),
    ("syslog", "api", [("syslog", 514, "UDP")]),
]
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": ns, "name": name}, "spec": spec}


def baseline(ns: str) -> list[dict[str, Any]]:
    """The six baseline policies of one application namespace."""
    return [
        _np(ns, "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}),
        _np(ns, "default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}),
        _np(ns, "allow-same-namespace", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                         "ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]}),
        _np(ns, "allow-dns-egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}),
        _np(ns, "allow-from-monitoring", {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api", "db"]}]},
                                          "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"purpose": "monitoring"}}, "podSelector": {"matchLabels": {"app": "prometheus"}}}],
            "ports": [{"port": "metrics"}]}]}),
        _np(ns, "allow-internet-egress", {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
                                          "policyTypes": ["Egress"], "egress": [{
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}], "ports": [{"port": 443}]}]}),
    ]


def generate(pods: int, seed: int = 1, per_namespace: int = PODS_PER_NAMESPACE) -> dict[str, Any]:
    """A world state (namespaces, pods, policies) with exactly ``pods`` pods, about
    ``per_namespace`` of them in each application namespace."""
    rng = random.Random(seed)
    namespaces = [
        {"name": "kube-system", "labels": {}},
        {"name": "monitoring", "labels": {"purpose": "monitoring"}},
    ]
    out_pods: list[dict[str, Any]] = []
    ip_counter = [0]

    def add(ns: str, name: str, labels: dict[str, str], ports: list[tuple[str, int, str]]) -> None:
        n = ip_counter[0]
        ip_counter[0] += 1
        out_pods.append({
            "namespace": ns, "name": name, "labels": labels, "ip": f"10.244.{n // 250}.{n % 250 + 2}",
            "containers": [{"name": "main", "ports": [{"name": pn, "containerPort": p, "protocol": pr} for pn, p, pr in ports]}],
        })

    for i in range(2):
        add("kube-system", f"coredns-{i}", {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"},
            [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")])
    for i in range(2):
        add("monitoring", f"prometheus-{i}", {"app": "prometheus"}, [("web", 9090, "TCP")])
    policies: list[dict[str, Any]] = [
        _np("monitoring", "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}),
    ]
    remaining = pods - len(out_pods)
    ns_count = max(1, round(remaining / per_namespace))
    for k in range(ns_count):
        ns = f"team-{k:03d}"
        namespaces.append({"name": ns, "labels": {"team": f"t{k % 7}", "env": rng.choice(["dev", "staging", "prod"])}})
        policies.extend(baseline(ns))
        share = remaining // ns_count + (1 if k < remaining % ns_count else 0)
        for j in range(share):
            wl, tier, ports = WORKLOADS[j % len(WORKLOADS)]
            labels = {"app": wl, "tier": tier, "pod-template-hash": f"{wl}-{k:03d}"}
            add(ns, f"{wl}-{j // len(WORKLOADS)}", labels, ports)
    return {"namespaces": namespaces, "pods": out_pods, "policies": policies}


def write_model(state: dict[str, Any], path: Path) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(state, Dumper=dumper, sort_keys=False), encoding="utf-8")


def write_resources(state: dict[str, Any], folder: Path) -> None:
    """The same world as Kubernetes resources (for network-config-analyzer's --resource_list)."""
    folder.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    nss = [{"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": n["name"], "labels": {**n["labels"], "kubernetes.io/metadata.name": n["name"]}}}
           for n in state["namespaces"]]
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": p["name"], "namespace": p["namespace"], "labels": p["labels"]},
             "spec": {"containers": [{"name": c["name"], "image": "registry.k8s.io/pause",
                                      "ports": c["ports"]} for c in p["containers"]]},
             "status": {"podIP": p["ip"], "podIPs": [{"ip": p["ip"]}]}} for p in state["pods"]]
    (folder / "namespaces.yaml").write_text(yaml.dump_all(nss, Dumper=dumper), encoding="utf-8")
    (folder / "pods.yaml").write_text(yaml.dump_all(pods, Dumper=dumper), encoding="utf-8")
    (folder / "policies.yaml").write_text(yaml.dump_all(state["policies"], Dumper=dumper), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pods", type=int)
    parser.add_argument("--out", type=Path, required=True, help="model file to write")
    parser.add_argument("--resources", type=Path, help="also write a Kubernetes resource folder here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-namespace", type=int, default=PODS_PER_NAMESPACE, help="pods per application namespace")
    args = parser.parse_args()
    state = generate(args.pods, args.seed, args.per_namespace)
    write_model(state, args.out)
    if args.resources:
        write_resources(state, args.resources)


if __name__ == "__main__":
    main()
