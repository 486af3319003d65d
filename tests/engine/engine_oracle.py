"""A deliberately naive NetworkPolicy evaluator, written from the API reference alone.

It shares no code with ``netfence``: it reads the raw state dicts (manifests as YAML gives
them) and answers one connection at a time by walking every policy. It is slow and simple
on purpose, so the property tests can hold the engine's fast paths against it.

Reference: kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
"""

from __future__ import annotations

import ipaddress
from typing import Any, Optional

NS_LABEL = "kubernetes.io/metadata.name"


def _selector_ok(sel: Optional[dict], labels: dict) -> bool:
    if not sel:
        return True
    for k, v in (sel.get("matchLabels") or {}).items():
        if k not in labels or labels[k] != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e["key"], e["operator"], e.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in vals):
            return False
        if op == "NotIn" and present and labels[key] in vals:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _types(spec: dict) -> list:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    types = ["Ingress"]
    if spec.get("egress"):
        types.append("Egress")
    return types


class Oracle:
    def __init__(self, state: dict[str, Any]) -> None:
        self.ns_labels = {}
        for ns in state.get("namespaces") or []:
            labels = dict(ns.get("labels") or {})
            labels[NS_LABEL] = ns["name"]
            self.ns_labels[ns["name"]] = labels
        self.pods = {f"{p['namespace']}/{p['name']}": p for p in state.get("pods") or []}
        self.policies = state.get("policies") or []

    # An endpoint is ("pod", podDict) or ("ext", ip string).
    def endpoint(self, ref: str) -> tuple[str, Any]:
        if ref in self.pods:
            return ("pod", self.pods[ref])
        return ("ext", ref)

    @staticmethod
    def _ip(ep: tuple[str, Any]) -> Optional[str]:
        return ep[1].get("ip") if ep[0] == "pod" else ep[1]

    def _peer_ok(self, peer: dict, policy_ns: str, other: tuple[str, Any]) -> bool:
        if "ipBlock" in peer:
            ip = self._ip(other)
            if ip is None:
                return False
            addr = ipaddress.ip_address(ip)
            net = ipaddress.ip_network(peer["ipBlock"]["cidr"], strict=False)
            if addr.version != net.version or addr not in net:
                return False
            for ex in peer["ipBlock"].get("except") or []:
                if addr in ipaddress.ip_network(ex, strict=False):
                    return False
            return True
        if other[0] != "pod":
            return False
        pod = other[1]
        if peer.get("namespaceSelector") is not None:  # JSON null is an absent pointer
            if not _selector_ok(peer["namespaceSelector"], self.ns_labels[pod["namespace"]]):
                return False
        elif pod["namespace"] != policy_ns:
            return False
        if "podSelector" in peer:
            return _selector_ok(peer["podSelector"], pod.get("labels") or {})
        return True

    @staticmethod
    def _port_ok(ports: list, dst: tuple[str, Any], proto: str, port: int) -> bool:
        if not ports:
            return True
        for p in ports:
            if p.get("protocol", "TCP") != proto:
                continue
            want = p.get("port")
            if want is None:
                return True
            if isinstance(want, int):
                if want <= port <= p.get("endPort", want):
                    return True
                continue
            if dst[0] != "pod":
                continue
            for c in dst[1].get("containers") or []:
                for cp in c.get("ports") or []:
                    if cp.get("name") == want and cp.get("protocol", "TCP") == proto and cp["containerPort"] == port:
                        return True
        return False

    def _side_ok(self, kind: str, subject: tuple[str, Any], other: tuple[str, Any], dst: tuple[str, Any], proto: str, port: int) -> bool:
        if subject[0] != "pod":
            return True
        pod = subject[1]
        isolated = False
        for pol in self.policies:
            if pol["metadata"]["namespace"] != pod["namespace"]:
                continue
            spec = pol.get("spec") or {}
            if not _selector_ok(spec.get("podSelector"), pod.get("labels") or {}):
                continue
            if kind not in _types(spec):
                continue
            isolated = True
            key, peer_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
            for rule in spec.get(key) or []:
                rule = rule or {}
                if not self._port_ok(rule.get("ports") or [], dst, proto, port):
                    continue
                peers = rule.get(peer_key) or []
                if not peers or any(self._peer_ok(p, pol["metadata"]["namespace"], other) for p in peers):
                    return True
        return not isolated

    def allowed(self, src: str, dst: str, proto: str, port: int) -> bool:
        s, d = self.endpoint(src), self.endpoint(dst)
        return self._side_ok("Egress", s, d, d, proto, port) and self._side_ok("Ingress", d, s, d, proto, port)
