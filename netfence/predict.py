"""Predictions for a plan: what the rendered policies will allow in the inventory's world.

From the inventory's namespaces (``netfence_namespaces``: name, labels, workloads) and the
rendered NetworkPolicy manifests, build the world a lab would have (one pod per workload, the
namespace name label the API server adds, kube-dns in kube-system, the API server endpoint and
an internet address) and derive, as plain data:

* the predicted matrix (rows ``{from, to, port, protocol, allowed}``) for every declared
  container port, and a Markdown truth table per port a reviewer can read;
* the blast radius of an unlabelled pod in each namespace: which workloads (via their
  Services: policies see the container port), the API server, DNS and the internet it reaches;
* coverage: pods not isolated for ingress or egress, namespaces without a default-deny.

Pure functions except :func:`load_manifests_dir` and :func:`write_prediction` at the edge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from netfence import syntax
from netfence.cluster_vars import parse_endpoint
from netfence.engine import DnsSelector, Engine
from netfence.errors import NetfenceError
from netfence.inventory import DEFAULT_DNS_LABELS, DEFAULT_DNS_NAMESPACE, effective_pod_labels, effective_port_name
from netfence.model import External, World
from netfence.wellknown import DNS_PORTS

ROGUE = "netfence-rogue"
# The API server is host-networked: policies see its endpoint (node IP, port 6443), not the
# Service's ClusterIP and port 443. 172.18.0.2 is where kind's first control-plane node usually
# lands on Docker's "kind" network; pass the real one (kubectl get endpoints kubernetes).
DEFAULT_API_SERVER = ("172.18.0.2", 6443)
DEFAULT_INTERNET = ("1.1.1.1", 443)


def _workloads(ns: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    workloads = ns.get("workloads") or []
    if not isinstance(workloads, list):
        raise NetfenceError(f"namespace {ns.get('name')!r}: workloads must be a list")
    return workloads


def dns_selectors(namespaces: Sequence[Mapping[str, Any]]) -> list[DnsSelector]:
    """Distinct ``(namespace, pod labels)`` of the cluster DNS the inventory's ``dns`` settings name.

    ``allow-dns-egress`` renders its peer from these settings, so the predicted DNS pods must
    carry them too; otherwise the policy allows DNS and the prediction says blocked.
    """
    out: list[DnsSelector] = []
    for ns in namespaces:
        dns = ns.get("dns") if isinstance(ns, Mapping) else None
        dns = dns if isinstance(dns, Mapping) else {}
        labels = dns.get("pod_labels")
        entry = (str(dns.get("namespace") or DEFAULT_DNS_NAMESPACE),
                 {str(k): str(v) for k, v in (labels if isinstance(labels, Mapping) else DEFAULT_DNS_LABELS).items()})
        if entry not in out:
            out.append(entry)
    return out or [(DEFAULT_DNS_NAMESPACE, dict(DEFAULT_DNS_LABELS))]


def _assign_ips(pods: list[dict[str, Any]], pod_subnet: str) -> None:
    """Give every predicted pod an address of the pod subnet, in order, so ipBlock rules match pods
    as they will on the cluster (an internet-egress ``except`` that misses the pod subnet opens
    pod-to-pod traffic there)."""
    net, reason = syntax.subnet(pod_subnet)
    if net is None:
        raise NetfenceError(f"pod subnet: {reason}")
    if net.num_addresses < len(pods) + 2:
        raise NetfenceError(f"pod subnet {pod_subnet} is too small for {len(pods)} predicted pods")
    for i, pod in enumerate(pods):
        pod["ip"] = str(net.network_address + i + 1)


def build_state(
    namespaces: Sequence[Mapping[str, Any]], manifests: Sequence[Any], rogue: bool = False, pod_subnet: str | None = None,
) -> dict[str, Any]:
    """The predicted world as a model ``state`` (namespaces, pods, policies).

    Workload pods carry :func:`netfence.inventory.effective_pod_labels` and port name, exactly
    what the workloads template deploys. With ``pod_subnet`` every pod gets an IP from it.
    """
    if not isinstance(namespaces, (list, tuple)):
        raise NetfenceError("namespaces: must be a list (netfence_namespaces)")
    ns_out: list[dict[str, Any]] = []
    pods: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, ns in enumerate(namespaces):
        if not isinstance(ns, Mapping) or not isinstance(ns.get("name"), str):
            raise NetfenceError(f"namespaces[{i}]: needs a name")
        name = ns["name"]
        names.add(name)
        ns_out.append({"name": name, "labels": dict(ns.get("labels") or {})})
        for j, wl in enumerate(_workloads(ns)):
            where = f"namespace {name}: workloads[{j}]"
            if not isinstance(wl, Mapping) or not isinstance(wl.get("name"), str):
                raise NetfenceError(f"{where}: needs a name")
            pod: dict[str, Any] = {"namespace": name, "name": wl["name"], "labels": effective_pod_labels(wl)}
            if wl.get("container_port") is not None:
                port: dict[str, Any] = {"containerPort": wl["container_port"], "protocol": wl.get("protocol") or "TCP",
                                        "name": effective_port_name(wl)}
                pod["containers"] = [{"name": wl["name"], "ports": [port]}]
            pods.append(pod)
    policies = [m for m in manifests if m is not None]
    for pol in policies:
        meta = pol.get("metadata") if isinstance(pol, Mapping) else None
        ns_name = meta.get("namespace") if isinstance(meta, Mapping) else None
        if isinstance(ns_name, str) and ns_name not in names:
            names.add(ns_name)
            ns_out.append({"name": ns_name, "labels": {}})
    for dns_ns, dns_labels in dns_selectors(namespaces):
        if dns_ns not in names:
            names.add(dns_ns)
            ns_out.append({"name": dns_ns, "labels": {}})
        if any(p["namespace"] == dns_ns and all(p["labels"].get(k) == v for k, v in dns_labels.items()) for p in pods):
            continue
        taken = {p["name"] for p in pods if p["namespace"] == dns_ns}
        pod_name = next(n for n in ["coredns", *(f"coredns-{k}" for k in range(2, len(taken) + 3))] if n not in taken)
        pods.append({"namespace": dns_ns, "name": pod_name, "labels": dict(dns_labels),
                     "containers": [{"name": "coredns", "ports": [dict(p) for p in DNS_PORTS]}]})
    if rogue:
        for ns in namespaces:
            pods.append({"namespace": ns["name"], "name": ROGUE, "labels": {}})
    if pod_subnet:
        _assign_ips(pods, pod_subnet)
    return {"namespaces": ns_out, "pods": pods, "policies": policies}


def build_engine(
    namespaces: Sequence[Mapping[str, Any]], manifests: Sequence[Any], rogue: bool = False, pod_subnet: str | None = None,
) -> Engine:
    """The engine over :func:`build_state`, with the cluster DNS the inventory names."""
    return Engine(World.from_state(build_state(namespaces, manifests, rogue, pod_subnet)), dns=dns_selectors(namespaces))


def markdown_table(engine: Engine, proto: str, port: int, keys: Sequence[str]) -> str:
    """Reviewer-readable truth table for one port: rows are sources, columns destinations."""
    grid = engine.allowed_matrix((proto, port))
    index = {p.key: i for i, p in enumerate(engine.world.pods)}
    listening = [p.key for p in engine.world.pods if p.key in keys and any(cp.port == port and cp.protocol == proto for cp in p.ports)]
    allowed = sum(grid[index[s]][index[d]] for s in keys for d in keys)
    lines = [
        f"# Predicted reachability: {proto}/{port}",
        "",
        "Rows are sources, columns destinations: ✅ allowed, ❌ blocked by NetworkPolicy. Policies see the",
        "destination's container port (after Service translation).",
        f"Pods listening on {proto}/{port}: {', '.join(listening) or 'none'}.",
        f"{allowed} of {len(keys) ** 2} ordered pairs allowed.",
        "",
        "| from \\ to | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for s in keys:
        lines.append(f"| {s} | " + " | ".join("✅" if grid[index[s]][index[d]] else "❌" for d in keys) + " |")
    return "\n".join(lines) + "\n"


def blast_radius(
    namespaces: Sequence[Mapping[str, Any]],
    engine: Engine,
    api_server: tuple[str, int] = DEFAULT_API_SERVER,
    internet: tuple[str, int] = DEFAULT_INTERNET,
) -> list[dict[str, Any]]:
    """What an unlabelled pod in each namespace reaches (the engine's world holds the rogues)."""
    api = External(api_server[0], "kubernetes-api")
    net = External(internet[0], "internet")
    out = []
    for ns in namespaces:
        src = f"{ns['name']}/{ROGUE}"
        targets = []
        for target_ns in namespaces:
            for wl in _workloads(target_ns):
                if wl.get("container_port") is None:
                    continue
                proto = wl.get("protocol") or "TCP"
                v = engine.verdict(src, f"{target_ns['name']}/{wl['name']}", int(wl["container_port"]), proto)
                targets.append({
                    "target": v.dst, "service_port": wl.get("service_port"), "port": v.port,
                    "protocol": proto, "allowed": v.allowed,
                })
        dns = {proto.lower(): engine.dns_allowed(src, proto) for proto in ("UDP", "TCP")}
        out.append({
            "namespace": ns["name"],
            "pod": src,
            "workloads": targets,
            "reachable": [t["target"] for t in targets if t["allowed"]],
            "api_server": {"ip": api_server[0], "port": api_server[1], "allowed": engine.verdict(src, api, api_server[1], "TCP").allowed},
            "dns": dns,
            "internet": {"ip": internet[0], "port": internet[1], "allowed": engine.verdict(src, net, internet[1], "TCP").allowed},
        })
    return out


def api_server_record(
    namespaces: Sequence[Mapping[str, Any]],
    manifests: Sequence[Any],
    endpoints: Sequence[str] | None,
    pod_subnet: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """``api-server.json``: where the cluster's ``kubernetes`` Service really sends traffic, and
    what the policies allow a rogue pod of each namespace there.

    The plan runs before a cluster exists, so its API server rows are about an assumed endpoint
    (``netfence_api_server_endpoint``). Once the blast-radius stage has read the Service's
    EndpointSlices, this predicts the same rows for the real endpoints, from the same manifests,
    so the report compares the probes with a prediction about the address they really reached.
    ``endpoints`` is None when they could not be read (``error`` says why)."""
    if endpoints is None:
        return {"schema_version": 1, "service": "default/kubernetes", "endpoints": None,
                "error": error or "not read", "predicted": []}
    parsed = [(text, parse_endpoint(text)) for text in endpoints]
    engine = build_engine(namespaces, manifests, rogue=True, pod_subnet=pod_subnet)
    predicted = [
        {"namespace": ns["name"], "endpoint": text,
         "allowed": engine.verdict(f"{ns['name']}/{ROGUE}", External(ip, "kubernetes-api"), port, "TCP").allowed}
        for ns in namespaces for text, (ip, port) in parsed
    ]
    return {"schema_version": 1, "service": "default/kubernetes", "endpoints": list(endpoints), "predicted": predicted}


def coverage(namespaces: Sequence[Mapping[str, Any]], engine: Engine) -> dict[str, Any]:
    """Pods not isolated per direction; namespaces without a default-deny (empty podSelector)."""
    inventory = {ns["name"] for ns in namespaces}
    pods = [p for p in engine.world.pods if p.namespace in inventory and p.name != ROGUE]
    result: dict[str, Any] = {"pods_not_isolated": {}, "namespaces_without_default_deny": {}}
    for direction in ("ingress", "egress"):
        result["pods_not_isolated"][direction] = [p.key for p in pods if not engine.isolating(p, direction)]
        covered = {
            pol.namespace for pol in engine.world.policies
            if pol.pod_selector.is_empty and (pol.affects_ingress if direction == "ingress" else pol.affects_egress)
        }
        result["namespaces_without_default_deny"][direction] = [ns["name"] for ns in namespaces if ns["name"] not in covered]
    return result


def predict(
    namespaces: Sequence[Mapping[str, Any]],
    manifests: Sequence[Any],
    api_server: tuple[str, int] = DEFAULT_API_SERVER,
    internet: tuple[str, int] = DEFAULT_INTERNET,
    pod_subnet: str | None = None,
) -> dict[str, Any]:
    """Everything the plan writes: ``files`` (relative path -> JSON data or Markdown) and ``summary``."""
    engine = build_engine(namespaces, manifests, rogue=True, pod_subnet=pod_subnet)
    keys = [p.key for p in engine.world.pods if p.name != ROGUE]
    key_set = set(keys)
    probes = sorted({(cp.protocol, cp.port) for p in engine.world.pods if p.key in key_set for cp in p.ports})
    rows = [r for r in engine.reachability(probes) if r["from"] in key_set and r["to"] in key_set]
    listening = {(p.key, cp.protocol, cp.port) for p in engine.world.pods for cp in p.ports}
    for r in rows:
        r["declared"] = (r["to"], r["protocol"], r["port"]) in listening
    files: dict[str, Any] = {
        "predicted/matrix.json": {
            "schema_version": 1,
            "pods": keys,
            "probes": [f"{proto}/{port}" for proto, port in probes],
            "rows": rows,
        }
    }
    for proto, port in probes:
        files[f"predicted/{proto}-{port}.md"] = markdown_table(engine, proto, port, keys)
    radius = blast_radius(namespaces, engine, api_server, internet)
    cov = coverage(namespaces, engine)
    files["predicted/blast-radius.json"] = {"schema_version": 1, "namespaces": radius}
    files["predicted/coverage.json"] = {"schema_version": 1, **cov}
    summary = {
        "pods": len(keys),
        "policies": len(engine.world.policies),
        "probes": [f"{proto}/{port}" for proto, port in probes],
        "allowed_pairs": {f"{proto}/{port}": sum(1 for r in rows if r["allowed"] and (r["protocol"], r["port"]) == (proto, port)) for proto, port in probes},
        "rogue_reaches": {r["namespace"]: r["reachable"] for r in radius},
        "namespaces_without_default_deny": cov["namespaces_without_default_deny"],
    }
    return {"files": files, "summary": summary}


def load_manifests_dir(path: str | Path) -> list[Any]:
    """Every document of every ``*.yaml``/``*.yml`` file in a folder (sorted), empty docs dropped."""
    from netfence import loading

    folder = Path(path)
    if not folder.is_dir():
        raise NetfenceError(f"manifests_dir {folder} is not a folder")
    docs: list[Any] = []
    for file in sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml"))):
        docs.extend(d for d in loading.load_yaml_all(loading.read_text(file, "manifest"), file) if d is not None)
    expanded: list[Any] = []
    for doc in docs:
        if isinstance(doc, Mapping) and doc.get("kind") == "List":
            expanded.extend(doc.get("items") or [])
        else:
            expanded.append(doc)
    return expanded


def file_texts(prediction: Mapping[str, Any]) -> dict[str, str]:
    """The bytes each prediction file gets (JSON formatted as netfence.evidence writes it)."""
    import json

    return {
        rel: data if isinstance(data, str) else json.dumps(data, indent=2, sort_keys=True) + "\n"
        for rel, data in prediction["files"].items()
    }


def write_prediction(run_dir: str | Path, prediction: Mapping[str, Any], dry_run: bool = False) -> list[str]:
    """Write the files whose bytes differ from what the run folder holds; return those paths.

    Equal bytes are left alone, so predicting twice into one run folder changes nothing.
    With ``dry_run`` nothing is written and the paths that would change are returned.
    """
    from netfence.evidence import write_text

    run = Path(run_dir)
    changed = []
    for rel, text in file_texts(prediction).items():
        target = run / rel
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        if not dry_run:
            write_text(run, rel, text, overwrite=True)
        changed.append(rel)
    return changed
