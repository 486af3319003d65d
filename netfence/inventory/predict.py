"""Predictions for a plan: what the rendered policies will allow in the inventory's world.

From the lab (:mod:`netfence.inventory.lab`: the pods, DNS, API server and internet the inventory
describes) and the engine over it with the rendered policies in force, derive, as plain data:

* the predicted matrix (rows ``{from, to, port, protocol, allowed}``) for every declared
  container port, and a Markdown truth table per port a reviewer can read;
* the blast radius of an unlabelled pod in each namespace: which workloads (via their
  Services: policies see the container port), the API server, DNS and the internet it reaches;
* coverage: pods not isolated for ingress or egress, namespaces without a default-deny.

Pure functions except :func:`load_manifests_dir` at the edge (the plan writes the files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from netfence.inventory.cluster_vars import parse_endpoint
from netfence.policy.engine import Engine
from netfence.errors import NetfenceError
from netfence.inventory.lab import Lab
from netfence.policy.model import External


def markdown_table(proto: str, port: int, sources: Sequence[str], listeners: Sequence[str],
                   allowed: Callable[[str, str], bool]) -> str:
    """Reviewer-readable truth table for one port: rows are every source, columns only the pods
    that listen on the port (a pod that does not listen has no reachability question there)."""
    count = sum(allowed(src, dst) for src in sources for dst in listeners)
    lines = [
        f"# Predicted reachability: {proto}/{port}",
        "",
        "Rows are sources, columns the pods listening on this port: ✅ allowed, ❌ blocked by NetworkPolicy,",
        "(self) a pod to itself. Policies see the destination's container port (after Service translation).",
        f"{count} of {len(sources) * len(listeners)} ordered pairs allowed.",
        "",
    ]
    if not listeners:
        return "\n".join(lines + ["No pod declares this port."]) + "\n"
    lines += ["| from \\ to | " + " | ".join(listeners) + " |", "|---|" + "---|" * len(listeners)]
    for src in sources:
        cells = [("✅" if allowed(src, dst) else "❌") + (" (self)" if src == dst else "") for dst in listeners]
        lines.append(f"| {src} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def blast_radius(lab: Lab, engine: Engine) -> list[dict[str, Any]]:
    """What the unlabelled pod of each inventory namespace reaches: every workload with a port
    (via its Service: policies see the container port), the API server, DNS and the internet."""
    api, net = lab.api_endpoint(), lab.internet_endpoint()
    out = []
    for ns in lab.inventory.namespaces:
        rogue = lab.rogue(ns.name)
        targets = []
        for pod in lab.workload_pods:
            workload = lab.workloads[pod.key][1]
            for cp in pod.ports:
                v = engine.verdict(rogue, pod, cp.port, cp.protocol)
                targets.append({
                    "target": v.dst, "service_port": workload.service_port, "port": v.port,
                    "protocol": cp.protocol, "allowed": v.allowed,
                })
        dns = {proto.lower(): engine.dns_allowed(rogue, proto) for proto in ("UDP", "TCP")}
        out.append({
            "namespace": ns.name,
            "pod": rogue.key,
            "workloads": targets,
            "reachable": [t["target"] for t in targets if t["allowed"]],
            "api_server": {"ip": lab.api_server[0], "port": lab.api_server[1],
                           "allowed": engine.verdict(rogue, api, lab.api_server[1], "TCP").allowed},
            "dns": dns,
            "internet": {"ip": lab.internet[0], "port": lab.internet[1],
                         "allowed": engine.verdict(rogue, net, lab.internet[1], "TCP").allowed},
        })
    return out


def api_server_record(
    lab: Lab | None, engine: Engine | None, endpoints: Sequence[str] | None, error: str | None = None,
) -> dict[str, Any]:
    """``api-server.json``: where the cluster's ``kubernetes`` Service really sends traffic, and
    what the policies allow a rogue pod of each namespace there.

    The plan runs before a cluster exists, so its API server rows are about an assumed endpoint
    (``netfence_api_server_endpoint``). Once the blast-radius stage has read the Service's
    EndpointSlices, this predicts the same rows for the real endpoints, from the same manifests,
    so the report compares the probes with a prediction about the address they really reached.
    ``endpoints`` is None when they could not be read (``error`` says why); without a lab (a
    run that was never planned) the endpoints are recorded with no prediction."""
    if endpoints is None:
        return {"schema_version": 1, "service": "default/kubernetes", "endpoints": None,
                "error": error or "not read", "predicted": []}
    parsed = [(text, parse_endpoint(text)) for text in endpoints]
    if lab is None or engine is None:
        return {"schema_version": 1, "service": "default/kubernetes", "endpoints": list(endpoints), "predicted": []}
    predicted = [
        {"namespace": ns.name, "endpoint": text,
         "allowed": engine.verdict(lab.rogue(ns.name), External(ip, "kubernetes-api"), port, "TCP").allowed}
        for ns in lab.inventory.namespaces for text, (ip, port) in parsed
    ]
    return {"schema_version": 1, "service": "default/kubernetes", "endpoints": list(endpoints), "predicted": predicted}


def coverage(lab: Lab, engine: Engine) -> dict[str, Any]:
    """Workload pods not isolated per direction; namespaces where some pod can escape isolation
    (no policy selects every pod: :meth:`Engine.isolates_every_pod`, the plan's check too)."""
    result: dict[str, Any] = {"pods_not_isolated": {}, "namespaces_without_default_deny": {}}
    for direction in ("ingress", "egress"):
        result["pods_not_isolated"][direction] = [p.key for p in lab.workload_pods if not engine.isolating(p, direction)]
        result["namespaces_without_default_deny"][direction] = [
            ns.name for ns in lab.inventory.namespaces if not engine.isolates_every_pod(ns.name, direction)]
    return result


def predict(lab: Lab, engine: Engine) -> dict[str, Any]:
    """Everything the plan writes: ``files`` (relative path -> JSON data or Markdown) and ``summary``.
    ``engine`` is ``lab.engine(policies)``: the lab's world with the rendered policies in force.

    The matrix holds a row for every source and every pod that listens on the port (``declared``):
    a pod that does not listen there has no reachability question, and listing it made the
    evidence grow with pods x pods x ports."""
    keys = [p.key for p in lab.cluster_pods]
    index = {p.key: i for i, p in enumerate(engine.world.pods)}
    probes = sorted({(cp.protocol, cp.port) for p in lab.cluster_pods for cp in p.ports})
    rows: list[dict[str, Any]] = []
    files: dict[str, Any] = {}
    allowed_pairs = {}
    for proto, port in probes:
        grid = engine.allowed_matrix((proto, port))
        listeners = [p.key for p in lab.cluster_pods if any(cp.port == port and cp.protocol == proto for cp in p.ports)]
        for src in keys:
            line = grid[index[src]]
            rows += [{"from": src, "to": dst, "port": port, "protocol": proto, "allowed": line[index[dst]], "declared": True}
                     for dst in listeners]
        allowed_pairs[f"{proto}/{port}"] = sum(grid[index[src]][index[dst]] for src in keys for dst in listeners)
        files[f"predicted/{proto}-{port}.md"] = markdown_table(
            proto, port, keys, listeners, lambda src, dst, grid=grid: grid[index[src]][index[dst]])
    files["predicted/matrix.json"] = {
        "schema_version": 1,
        "pods": keys,
        "probes": [f"{proto}/{port}" for proto, port in probes],
        "rows": rows,
    }
    radius = blast_radius(lab, engine)
    cov = coverage(lab, engine)
    files["predicted/blast-radius.json"] = {"schema_version": 1, "namespaces": radius}
    files["predicted/coverage.json"] = {"schema_version": 1, **cov}
    summary = {
        "pods": len(keys),
        "policies": len(engine.world.policies),
        "probes": [f"{proto}/{port}" for proto, port in probes],
        "allowed_pairs": allowed_pairs,
        "rogue_reaches": {r["namespace"]: r["reachable"] for r in radius},
        "namespaces_without_default_deny": cov["namespaces_without_default_deny"],
    }
    return {"files": dict(sorted(files.items())), "summary": summary}


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
    """The bytes each prediction file gets (JSON formatted as netfence.evidence.runs writes it)."""
    import json

    return {
        rel: data if isinstance(data, str) else json.dumps(data, indent=2, sort_keys=True) + "\n"
        for rel, data in prediction["files"].items()
    }
