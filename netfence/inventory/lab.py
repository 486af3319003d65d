"""The lab an inventory describes, built once: the one description every later step reads.

A parsed :class:`~netfence.inventory.schema.Inventory` says which namespaces and workloads exist; the lab
says what the cluster will hold once they are deployed: one pod per workload with the labels and
named container port the workloads stage really gives it, the cluster DNS pods where the
namespaces' ``dns`` settings say, an unlabelled "rogue" pod per inventory namespace (the blast
radius), pod IPs from the pod subnet (so ipBlock rules match pods as they will on the cluster),
the API server endpoint and an address standing for the internet.

The prediction, the plan's mistake checks, the probe planner and the workload manifests
(:mod:`netfence.inventory.workloads`) all read this one model, so what is deployed, what is probed and what
was predicted cannot drift apart: the labels and port names below exist in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

from netfence.policy import syntax
from netfence.policy.engine import DnsSelector, Engine
from netfence.errors import NetfenceError
from netfence.inventory.schema import Inventory, Namespace as InventoryNamespace, Workload
from netfence.labels import MANAGED_BY_LABEL, MANAGED_BY_VALUE, NS_NAME_LABEL, WORKLOAD_NAME_LABEL
from netfence.policy.model import ContainerPort, External, Namespace, Pod, Policy, World, parse_ip
from netfence.wellknown import DNS_PORTS

ROGUE = "netfence-rogue"
#: The container port name of a workload whose inventory names none.
DEFAULT_PORT_NAME = "http"
# The API server is host-networked: policies see its endpoint (node IP, port 6443), not the
# Service's ClusterIP and port 443. 172.18.0.2 is where kind's first control-plane node usually
# lands on Docker's "kind" network; pass the real one (kubectl get endpoints kubernetes).
DEFAULT_API_SERVER = ("172.18.0.2", 6443)
DEFAULT_INTERNET = ("1.1.1.1", 443)


def pod_labels(workload: Workload) -> dict[str, str]:
    """The labels a workload's pods carry on the cluster, not just the inventory's.

    The workload manifests add ``app.kubernetes.io/name`` (the Deployment's selector) and
    ``app.kubernetes.io/managed-by``; a policy selecting either selects these pods, so the
    prediction, the checks and the probe pods must carry them too. The inventory requires labels,
    but an empty mapping falls back to ``app: <name>``.
    """
    labels = dict(workload.labels) or {"app": workload.name}
    return {**labels, WORKLOAD_NAME_LABEL: workload.name, MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def container_ports(workload: Workload) -> tuple[ContainerPort, ...]:
    """The workload's container port as deployed (named ``http`` unless the inventory names it);
    none for a client without ``container_port``, which runs without listening."""
    if workload.container_port is None:
        return ()
    return (ContainerPort(workload.container_port, workload.protocol, workload.port_name or DEFAULT_PORT_NAME),)


def dns_selectors(inventory: Inventory) -> list[DnsSelector]:
    """Distinct ``(namespace, pod labels)`` of the cluster DNS the namespaces' ``dns`` settings name.

    ``allow-dns-egress`` renders its peer from these settings, so the predicted DNS pods must
    carry them too; otherwise the policy allows DNS and the prediction says blocked."""
    out: list[DnsSelector] = []
    for ns in inventory.namespaces:
        entry = (ns.dns.namespace, dict(ns.dns.pod_labels))
        if entry not in out:
            out.append(entry)
    return out


@dataclass(frozen=True)
class Lab:
    """The cluster an inventory describes. ``pods``: one per workload (inventory order), then the
    DNS pods, then one rogue pod per inventory namespace; ``workloads`` maps a workload pod's key
    to its inventory records."""

    inventory: Inventory
    namespaces: Mapping[str, Namespace]
    pods: tuple[Pod, ...]
    workloads: Mapping[str, tuple[InventoryNamespace, Workload]]
    dns: tuple[DnsSelector, ...]
    api_server: tuple[str, int] = DEFAULT_API_SERVER
    internet: tuple[str, int] = DEFAULT_INTERNET

    # Derived once: the checks, the prediction and the blast radius ask these per namespace, so a
    # scan of every pod per question would make a 1,000-namespace plan quadratic.
    @cached_property
    def workload_pods(self) -> tuple[Pod, ...]:
        """The pods the workloads stage deploys, in inventory order."""
        return tuple(p for p in self.pods if p.key in self.workloads)

    @cached_property
    def cluster_pods(self) -> tuple[Pod, ...]:
        """The workload pods and the DNS pods: what the predicted matrix lists (not the rogues)."""
        return tuple(p for p in self.pods if p.name != ROGUE or p.key in self.workloads)

    @cached_property
    def _workloads_by_namespace(self) -> dict[str, tuple[Pod, ...]]:
        index: dict[str, list[Pod]] = {}
        for pod in self.workload_pods:
            index.setdefault(pod.namespace, []).append(pod)
        return {ns: tuple(pods) for ns, pods in index.items()}

    @cached_property
    def _rogues(self) -> dict[str, Pod]:
        return {p.namespace: p for p in self.pods if p.name == ROGUE and p.key not in self.workloads}

    def workload_pods_in(self, namespace: str) -> tuple[Pod, ...]:
        """The workload pods of one namespace, in inventory order."""
        return self._workloads_by_namespace.get(namespace, ())

    def rogue(self, namespace: str) -> Pod:
        """The unlabelled pod of an inventory namespace (what a newcomer's pod would be)."""
        return self._rogues[namespace]

    def api_endpoint(self) -> External:
        return External(self.api_server[0], "kubernetes-api")

    def internet_endpoint(self) -> External:
        return External(self.internet[0], "internet")

    def world(self, policies: Sequence[Policy]) -> World:
        """The world with ``policies`` in force; a policy's namespace outside the lab is added
        (without labels), as the API server would hold it."""
        namespaces = dict(self.namespaces)
        for policy in policies:
            namespaces.setdefault(policy.namespace, Namespace(policy.namespace, {NS_NAME_LABEL: policy.namespace}))
        return World(namespaces, list(self.pods), list(policies))

    def state(self, manifests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The lab as a model file (``netfence reachability --model``; the plan writes it as
        ``predicted/model.json``), with ``manifests`` as its policies and the cluster DNS under
        ``dns`` (read by ``--run``; ``--model`` ignores the key and assumes kube-system/kube-dns)."""
        def pod(p: Pod) -> dict[str, Any]:
            out: dict[str, Any] = {"namespace": p.namespace, "name": p.name, "labels": dict(p.labels)}
            if p.ip is not None:
                out["ip"] = str(p.ip)
            if p.ports:
                out["containers"] = [{"name": p.name, "ports": [
                    {"name": cp.name, "containerPort": cp.port, "protocol": cp.protocol} for cp in p.ports]}]
            return out
        namespaces = [{"name": ns.name, "labels": {k: v for k, v in ns.labels.items() if k != NS_NAME_LABEL}}
                      for ns in self.namespaces.values()]
        return {"schema_version": 1, "namespaces": namespaces, "pods": [pod(p) for p in self.pods],
                "policies": list(manifests), "dns": [{"namespace": ns, "pod_labels": dict(labels)} for ns, labels in self.dns]}

    def engine(self, policies: Sequence[Policy]) -> Engine:
        """The engine over :meth:`world`, with the cluster DNS the inventory names."""
        return Engine(self.world(policies), dns=self.dns)


def _namespace(name: str, labels: Mapping[str, str]) -> Namespace:
    return Namespace(name, {**labels, NS_NAME_LABEL: name})


def _dns_pod(namespace: str, labels: Mapping[str, str], taken: Iterable[str]) -> Pod:
    names = set(taken)
    name = next(n for n in ["coredns", *(f"coredns-{k}" for k in range(2, len(names) + 3))] if n not in names)
    ports = tuple(ContainerPort(p["containerPort"], p["protocol"], p["name"]) for p in DNS_PORTS)
    return Pod(namespace, name, dict(labels), ports)


def _with_ips(pods: list[Pod], pod_subnet: str) -> list[Pod]:
    """Give every pod an address of the pod subnet, in order, so ipBlock rules match pods as they
    will on the cluster (an internet-egress ``except`` that misses the pod subnet opens
    pod-to-pod traffic there)."""
    net, reason = syntax.subnet(pod_subnet)
    if net is None:
        raise NetfenceError(f"pod subnet: {reason}")
    if net.num_addresses < len(pods) + 2:
        raise NetfenceError(f"pod subnet {pod_subnet} is too small for {len(pods)} predicted pods")
    return [pod._replace(ip=parse_ip(str(net.network_address + i + 1), "pod ip")) for i, pod in enumerate(pods)]


def build(
    inventory: Inventory,
    *,
    pod_subnet: str | None = None,
    api_server: tuple[str, int] = DEFAULT_API_SERVER,
    internet: tuple[str, int] = DEFAULT_INTERNET,
) -> Lab:
    """The lab of a parsed inventory; with ``pod_subnet`` every pod gets an IP from it."""
    namespaces = {ns.name: _namespace(ns.name, ns.labels) for ns in inventory.namespaces}
    pods: list[Pod] = []
    workloads: dict[str, tuple[InventoryNamespace, Workload]] = {}
    for ns in inventory.namespaces:
        for workload in ns.workloads:
            pod = Pod(ns.name, workload.name, pod_labels(workload), container_ports(workload))
            pods.append(pod)
            workloads[pod.key] = (ns, workload)
    dns = dns_selectors(inventory)
    for dns_ns, dns_labels in dns:
        namespaces.setdefault(dns_ns, _namespace(dns_ns, {}))
        if any(p.namespace == dns_ns and all(p.labels.get(k) == v for k, v in dns_labels.items()) for p in pods):
            continue  # the inventory declares its own DNS workload
        pods.append(_dns_pod(dns_ns, dns_labels, (p.name for p in pods if p.namespace == dns_ns)))
    pods += [Pod(ns.name, ROGUE, {}) for ns in inventory.namespaces]
    if pod_subnet:
        pods = _with_ips(pods, pod_subnet)
    return Lab(inventory, namespaces, tuple(pods), workloads, tuple(dns), api_server, internet)
