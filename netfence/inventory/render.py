"""Inventory → NetworkPolicy manifests, one YAML file per namespace.

Rendering is a pure function of the parsed inventory: the same inventory gives the same bytes
(keys sorted, policies in a fixed profile order, extra policies by name, no timestamps), so a
plan can be diffed, checksummed and reviewed. Every policy carries
``app.kubernetes.io/managed-by: netfence`` (what the policies role prunes by, and only that) and
``netfence.io/profile`` (which profile produced it). Each rendered policy remembers which
inventory entry produced it, so a problem found in the manifest is reported at its inventory path.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import yaml

from netfence.inventory.schema import Inventory, Namespace, NamespaceSource, PodSource, Port
from netfence.labels import MANAGED_BY, PROFILE_LABEL

EXTRA_PROFILE = "extra"
NAME_PREFIX = "netfence-"
HEADER = "# Rendered by netfence from the inventory: change the inventory, not this file.\n"
EGRESS_PROFILES = ("default-deny-egress", "allow-dns-egress", "allow-internet-egress")


@dataclass(frozen=True)
class RenderedPolicy:
    """A NetworkPolicy manifest and where in the inventory each part of it came from."""

    namespace: str
    name: str
    profile: str
    manifest: dict[str, Any]
    origin: str
    paths: dict[str, str] = field(default_factory=dict)

    def inventory_path(self, manifest_path: str) -> str:
        """Map ``spec.ingress[0].ports[0].port`` to the inventory path that produced it."""
        best = ""
        for prefix in self.paths:
            if _is_prefix(prefix, manifest_path) and len(prefix) > len(best):
                best = prefix
        if best:
            return self.paths[best] + manifest_path[len(best):]
        return f"{self.origin} (policy {self.name}: {manifest_path})" if manifest_path else self.origin


def _is_prefix(prefix: str, path: str) -> bool:
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] in ".[")


def manifest_path(parts: Iterable[Any]) -> str:
    """``['spec', 'ingress', 0, 'ports']`` → ``spec.ingress[0].ports``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{str(part)!r}]"
    return text


def _selector(labels: dict[str, str] | None) -> dict[str, Any]:
    return {"matchLabels": dict(labels)} if labels else {}


def _ports(ports: Sequence[Port], rule_path: str, paths: dict[str, str]) -> list[dict[str, Any]]:
    for index, port in enumerate(ports):
        paths[f"{rule_path}.ports[{index}]"] = port.path
    return [port.to_api() for port in ports]


def _policy(ns: Namespace, profile: str, name: str, spec: dict[str, Any], origin: str,
            paths: dict[str, str] | None = None) -> RenderedPolicy:
    manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": ns.name,
            "labels": {**MANAGED_BY, PROFILE_LABEL: profile},
        },
        "spec": spec,
    }
    return RenderedPolicy(ns.name, name, profile, manifest, origin, dict(paths or {}))


def egress_restricted(ns: Namespace) -> bool:
    """Whether the profiles put every pod's egress under policy (then same-namespace egress is opened too)."""
    return any(p in ns.profiles for p in EGRESS_PROFILES)


def _default_deny(ns: Namespace, direction: str) -> RenderedPolicy:
    profile = f"default-deny-{direction.lower()}"
    return _policy(ns, profile, NAME_PREFIX + profile, {"podSelector": {}, "policyTypes": [direction]},
                   ns.profile_path(profile))


def _same_namespace(ns: Namespace) -> RenderedPolicy:
    profile = "allow-same-namespace"
    spec: dict[str, Any] = {
        "podSelector": {},
        "ingress": [{"from": [{"podSelector": {}}]}],
        "policyTypes": ["Ingress"],
    }
    if egress_restricted(ns):
        spec["egress"] = [{"to": [{"podSelector": {}}]}]
        spec["policyTypes"] = ["Ingress", "Egress"]
    return _policy(ns, profile, NAME_PREFIX + profile, spec, ns.profile_path(profile))


def _dns(ns: Namespace) -> RenderedPolicy:
    profile = "allow-dns-egress"
    peer = {
        "namespaceSelector": _selector({"kubernetes.io/metadata.name": ns.dns.namespace}),
        "podSelector": _selector(ns.dns.pod_labels),
    }
    spec = {
        "podSelector": {},
        "egress": [{"to": [peer], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}],
        "policyTypes": ["Egress"],
    }
    paths = {"spec.egress[0].to[0]": ns.dns.path} if ns.dns.path else {}
    return _policy(ns, profile, NAME_PREFIX + profile, spec, ns.profile_path(profile), paths)


def _namespaces_peer(entry: NamespaceSource) -> dict[str, Any]:
    """``allow_from_namespaces``: the source namespaces by name or label, optionally some pods."""
    if len(entry.namespaces) == 1:
        ns_selector = _selector({"kubernetes.io/metadata.name": entry.namespaces[0]})
    elif entry.namespaces:
        ns_selector = {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(entry.namespaces)}]}
    else:
        ns_selector = _selector(entry.namespace_labels)
    peer: dict[str, Any] = {"namespaceSelector": ns_selector}
    if entry.pod_labels is not None:
        peer["podSelector"] = _selector(entry.pod_labels)
    return peer


def _pods_peer(entry: PodSource) -> dict[str, Any]:
    """``allow_from_pods``: the source pods by label, here or in one named namespace."""
    peer: dict[str, Any] = {"podSelector": _selector(entry.pod_labels)}
    if entry.namespace:
        peer["namespaceSelector"] = _selector({"kubernetes.io/metadata.name": entry.namespace})
    return peer


def _allow_from(ns: Namespace, profile: str, entries: tuple[Any, ...],
                peer_of: Callable[[Any], dict[str, Any]]) -> list[RenderedPolicy]:
    """One ingress policy per entry: its peer, its ports, onto its target pods.

    ``allow-from-namespaces`` and ``allow-from-pods`` differ only in the peer they build.
    """
    result = []
    for entry in entries:
        paths = {"spec.ingress[0].from[0]": entry.path, "spec.podSelector": f"{entry.path}.target_labels"}
        rule: dict[str, Any] = {"from": [peer_of(entry)]}
        if entry.ports:
            rule["ports"] = _ports(entry.ports, "spec.ingress[0]", paths)
        spec = {"podSelector": _selector(entry.target_labels), "ingress": [rule], "policyTypes": ["Ingress"]}
        result.append(_policy(ns, profile, f"{NAME_PREFIX}{profile}-{entry.name}", spec, entry.path, paths))
    return result


def _internet(ns: Namespace) -> RenderedPolicy:
    profile = "allow-internet-egress"
    egress = ns.internet_egress
    block: dict[str, Any] = {"cidr": egress.cidr}
    paths = {"spec.egress[0].to[0].ipBlock.cidr": f"{egress.path}.cidr"}
    if egress.except_:
        block["except"] = list(egress.except_)
        paths["spec.egress[0].to[0].ipBlock.except"] = f"{egress.path}.except"
    rule: dict[str, Any] = {"to": [{"ipBlock": block}]}
    if egress.ports:
        rule["ports"] = _ports(egress.ports, "spec.egress[0]", paths)
    spec = {"podSelector": {}, "egress": [rule], "policyTypes": ["Egress"]}
    return _policy(ns, profile, NAME_PREFIX + profile, spec, ns.profile_path(profile), paths)


def render_namespace(ns: Namespace) -> list[RenderedPolicy]:
    """The policies of one namespace, in the fixed order of :data:`netfence.inventory.schema.PROFILES`."""
    policies: list[RenderedPolicy] = []
    if "default-deny-ingress" in ns.profiles:
        policies.append(_default_deny(ns, "Ingress"))
    if "default-deny-egress" in ns.profiles:
        policies.append(_default_deny(ns, "Egress"))
    if "allow-same-namespace" in ns.profiles:
        policies.append(_same_namespace(ns))
    if "allow-dns-egress" in ns.profiles:
        policies.append(_dns(ns))
    if "allow-from-namespaces" in ns.profiles:
        policies.extend(_allow_from(ns, "allow-from-namespaces", ns.allow_from_namespaces, _namespaces_peer))
    if "allow-from-pods" in ns.profiles:
        policies.extend(_allow_from(ns, "allow-from-pods", ns.allow_from_pods, _pods_peer))
    if "allow-internet-egress" in ns.profiles:
        policies.append(_internet(ns))
    for extra in sorted(ns.extra_policies, key=lambda e: e.name):
        policies.append(_policy(ns, EXTRA_PROFILE, f"{NAME_PREFIX}{EXTRA_PROFILE}-{extra.name}",
                                copy.deepcopy(extra.spec), extra.path, {"spec": f"{extra.path}.spec"}))
    return policies


def render(inventory: Inventory) -> dict[str, list[RenderedPolicy]]:
    """Every namespace's policies, keyed by namespace name in inventory order."""
    return {ns.name: render_namespace(ns) for ns in inventory.namespaces}


def to_yaml(policies: Sequence[RenderedPolicy]) -> str:
    """One namespace's file: a header comment, then one YAML document per policy, keys sorted."""
    docs = [yaml.safe_dump(p.manifest, sort_keys=True, default_flow_style=False, width=1000) for p in policies]
    return HEADER + "".join(f"---\n{doc}" for doc in docs)


def render_files(rendered: dict[str, list[RenderedPolicy]]) -> dict[str, str]:
    """``manifests/<ns>.yaml`` relative path → file content, for every namespace."""
    return {f"manifests/{namespace}.yaml": to_yaml(policies) for namespace, policies in rendered.items()}
