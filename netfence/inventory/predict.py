"""Predictions for a plan: what the rendered policies will allow in the inventory's world.

From the lab (:mod:`netfence.inventory.lab`: the pods, DNS, API server and internet the inventory
describes) and the engine over it with the rendered policies in force, derive, as plain data:

* the predicted matrix (a verdict per source and listening pod) for every declared container
  port, the allowed pairs counted per namespace pair, and a Markdown view per port a reviewer
  can read (namespaces first, then pods);
* the blast radius of an unlabelled pod in each namespace: which workloads (via their
  Services: policies see the container port), the API server, DNS and the internet it reaches;
* coverage: pods not isolated for ingress or egress, namespaces without a default-deny.

Pure functions except :func:`load_manifests_dir` at the edge (the plan writes the files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from netfence.inventory.cluster_vars import parse_endpoint
from netfence.errors import NetfenceError
from netfence.evidence.predicted import blast_doc, letters, matrix_doc
from netfence.policy.engine import Engine
from netfence.inventory.lab import Lab
from netfence.policy.model import External


GRID_LIMIT = 12  # namespaces up to which the summary is a full grid; beyond, a list of the open pairs
POD_GRID_LIMIT = 40  # listening pods up to which the pod view is a grid; beyond, each one's allowed sources


def namespace_counts(sources: Sequence[str], listeners: Sequence[str], grid: Sequence[Sequence[bool]]) -> dict[tuple[str, str], list[int]]:
    """``(from namespace, to namespace) -> [allowed pairs, pairs]`` over the pod grid."""
    counts: dict[tuple[str, str], list[int]] = {}
    dst_ns = [key.partition("/")[0] for key in listeners]
    for src, line in zip(sources, grid):
        src_ns = src.partition("/")[0]
        for ns, ok in zip(dst_ns, line):
            cell = counts.setdefault((src_ns, ns), [0, 0])
            cell[0] += ok
            cell[1] += 1
    return counts


def namespace_summary(counts: Mapping[tuple[str, str], Sequence[int]]) -> list[str]:
    """The namespace-by-namespace view of one port, Markdown: a grid of ``allowed/pairs`` for a
    few namespaces; for many, only the namespace pairs with an allowed connection (the rest,
    counted, are closed)."""
    sources = sorted({s for s, _ in counts})
    targets = sorted({t for _, t in counts})
    if len(sources) <= GRID_LIMIT and len(targets) <= GRID_LIMIT:
        lines = ["| from \\ to | " + " | ".join(targets) + " |", "|---|" + "---|" * len(targets)]
        for src in sources:
            cells = [("{}/{}".format(*counts[(src, t)]) if (src, t) in counts else "-") for t in targets]
            lines.append(f"| {src} | " + " | ".join(cells) + " |")
        return lines
    open_pairs = sorted((k, v) for k, v in counts.items() if v[0])
    lines = [f"{len(open_pairs)} of {len(counts)} namespace pairs have an allowed connection; the others are closed.", ""]
    if open_pairs:
        lines += ["| from | to | allowed / pairs |", "|---|---|---|"]
        lines += [f"| {s} | {t} | {a}/{n} |" for (s, t), (a, n) in open_pairs]
    return lines


def pod_grid(sources: Sequence[str], listeners: Sequence[str], grid: Sequence[Sequence[bool]]) -> list[str]:
    """The pod view of one port, Markdown: a Y/N grid for a few listening pods; for many (a
    1,000-column grid is unreadable and megabytes long), one row per listening pod naming the
    sources allowed to it, so the size grows with what is open, not with pods squared."""
    if len(listeners) <= POD_GRID_LIMIT:
        lines = ["| from \\ to | " + " | ".join(listeners) + " |", "|---|" + "---|" * len(listeners)]
        for src, line in zip(sources, grid):
            cells = [cell + (" (self)" if src == dst else "") for dst, cell in zip(listeners, letters(line))]
            lines.append(f"| {src} | " + " | ".join(cells) + " |")
        return lines
    lines = [f"{len(listeners)} pods listen on this port; for each, the sources allowed to reach it "
             f"(Y; every other of the {len(sources)} sources is N).", "", "| to | allowed | Y from |", "|---|---|---|"]
    for column, dst in enumerate(listeners):
        allowed = [src + (" (self)" if src == dst else "") for src, line in zip(sources, grid) if line[column]]
        lines.append(f"| {dst} | {len(allowed)}/{len(sources)} | {', '.join(allowed) or '-'} |")
    return lines


def markdown_table(proto: str, port: int, sources: Sequence[str], listeners: Sequence[str], grid: Sequence[Sequence[bool]],
                   counts: Mapping[tuple[str, str], Sequence[int]]) -> str:
    """Reviewer-readable view of one port: the namespace summary first, then the pods (rows are
    every source, columns only the pods that listen on the port: a pod that does not listen has
    no reachability question there). Y allowed, N blocked, as everywhere in netfence."""
    count = sum(map(sum, grid))
    lines = [
        f"# Predicted reachability: {proto}/{port}",
        "",
        "Y allowed, N blocked by NetworkPolicy, (self) a pod to itself. Policies see the destination's",
        "container port (after Service translation). "
        f"{count} of {len(sources) * len(listeners)} ordered pod pairs allowed.",
        "`netfence explain --run RUN --probe " + f"{proto}/{port}" + "` names the policy and rule that decide each cell.",
        "",
    ]
    if not listeners:
        return "\n".join(lines + ["No pod declares this port."]) + "\n"
    lines += ["## Namespaces", "", "Allowed pod pairs of all pod pairs, from each namespace to each:", ""]
    lines += namespace_summary(counts)
    lines += ["", "## Pods", ""] + pod_grid(sources, listeners, grid)
    return "\n".join(lines) + "\n"


def blast_radius(lab: Lab, engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the unlabelled pod of each inventory namespace reaches: every workload with a port
    (via its Service: policies see the container port), the API server, DNS and the internet.
    Returns the workload targets (in order) and one entry per namespace whose ``workloads`` are
    the letters of :mod:`netfence.evidence.predicted`, aligned with the targets."""
    api, net = lab.api_endpoint(), lab.internet_endpoint()
    targets: list[dict[str, Any]] = []
    pairs = []
    for pod in lab.workload_pods:
        workload = lab.workloads[pod.key][1]
        for cp in pod.ports:
            targets.append({"target": pod.key, "service_port": workload.service_port, "port": cp.port, "protocol": cp.protocol})
            pairs.append((pod, (cp.protocol, cp.port)))
    lookups = {probe: engine.allows(probe) for probe in {probe for _, probe in pairs}}
    out = []
    for ns in lab.inventory.namespaces:
        rogue = lab.rogue(ns.name)
        verdicts = [lookups[probe](rogue, pod) for pod, probe in pairs]
        dns = {proto.lower(): engine.dns_allowed(rogue, proto) for proto in ("UDP", "TCP")}
        out.append({
            "namespace": ns.name,
            "pod": rogue.key,
            "workloads": letters(verdicts),
            "reachable": [t["target"] for t, ok in zip(targets, verdicts) if ok],
            "api_server": {"ip": lab.api_server[0], "port": lab.api_server[1],
                           "allowed": engine.verdict(rogue, api, lab.api_server[1], "TCP").allowed},
            "dns": dns,
            "internet": {"ip": lab.internet[0], "port": lab.internet[1],
                         "allowed": engine.verdict(rogue, net, lab.internet[1], "TCP").allowed},
        })
    return targets, out


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

    The matrix holds a verdict for every source and every pod that listens on the port: a pod
    that does not listen there has no reachability question, and listing it made the evidence
    grow with pods x pods x ports. Verdicts are written as letters
    (:mod:`netfence.evidence.predicted`); ``predicted/namespaces.json`` counts them per
    namespace pair."""
    pods = lab.cluster_pods
    keys = [p.key for p in pods]
    probes = sorted({(cp.protocol, cp.port) for p in pods for cp in p.ports})
    files: dict[str, Any] = {}
    allowed_pairs = {}
    matrices = []
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for proto, port in probes:
        allows = engine.allows((proto, port))
        listeners = [p for p in pods if any(cp.port == port and cp.protocol == proto for cp in p.ports)]
        grid = [[allows(src, dst) for dst in listeners] for src in pods]
        matrices.append((proto, port, [p.key for p in listeners], [letters(line) for line in grid]))
        allowed_pairs[f"{proto}/{port}"] = sum(map(sum, grid))
        counts = namespace_counts(keys, [p.key for p in listeners], grid)
        files[f"predicted/{proto}-{port}.md"] = markdown_table(proto, port, keys, [p.key for p in listeners], grid, counts)
        by_namespace[f"{proto}/{port}"] = [{"from": s, "to": t, "allowed": a, "pairs": n} for (s, t), (a, n) in sorted(counts.items()) if a]
    files["predicted/matrix.json"] = matrix_doc(keys, matrices)
    # the namespace-by-namespace counts, open pairs only: what a reviewer of 200 namespaces reads first
    files["predicted/namespaces.json"] = {"schema_version": 1, "namespaces": sorted({k.partition("/")[0] for k in keys}),
                                          "open": by_namespace}
    targets, radius = blast_radius(lab, engine)
    files["predicted/blast-radius.json"] = blast_doc(targets, radius)
    cov = coverage(lab, engine)
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
