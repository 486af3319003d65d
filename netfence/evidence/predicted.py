"""The plan's predicted evidence files, compact on disk and plain rows in memory.

``predicted/matrix.json`` and ``predicted/blast-radius.json`` hold one verdict per pod pair (per
listening port) and per rogue pod and workload: quadratic in the inventory. As one JSON object
per verdict they took 6.8 MB each at 200 namespaces and 170 MB at 1,000, and more memory to
build than the prediction itself. Schema version 2 keeps the same facts as one string of
``Y``/``N`` letters per source, aligned with a list of destinations written once (the notation
of every other netfence surface, see docs/evidence.md); readers call :func:`matrix_rows` and
:func:`blast_entries` and see the version 1 rows, whichever version the file has, so a run
folder written before this change still reads.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

ALLOWED, BLOCKED = "Y", "N"


def letters(values: Sequence[bool]) -> str:
    """``[True, False]`` -> ``"YN"``."""
    return "".join(ALLOWED if v else BLOCKED for v in values)


def matrix_doc(pods: Sequence[str], probes: Sequence[tuple[str, int, Sequence[str], Sequence[str]]]) -> dict[str, Any]:
    """``predicted/matrix.json``: per probe ``(protocol, port, destinations, letters per source)``,
    sources being ``pods`` in order and destinations the pods that listen on the port."""
    return {
        "schema_version": 2,
        "pods": list(pods),
        "probes": [f"{proto}/{port}" for proto, port, _, _ in probes],
        "matrices": [{"protocol": proto, "port": port, "to": list(dsts), "allowed": list(rows)} for proto, port, dsts, rows in probes],
    }


def matrix_rows(doc: Any) -> Iterator[dict[str, Any]]:
    """Every ``{from, to, port, protocol, allowed, declared}`` row of a matrix file (version 2:
    expanded from the letters; version 1 or a bare list: the rows as written). Malformed parts are
    for :mod:`netfence.evidence.shapes` to name; here they are skipped."""
    if isinstance(doc, Mapping) and isinstance(doc.get("matrices"), list):
        sources = doc.get("pods") if isinstance(doc.get("pods"), list) else []
        for m in doc["matrices"]:
            if not isinstance(m, Mapping) or not isinstance(m.get("to"), list) or not isinstance(m.get("allowed"), list):
                continue
            for src, line in zip(sources, m["allowed"]):
                if not isinstance(line, str):
                    continue
                for dst, cell in zip(m["to"], line):
                    yield {"from": src, "to": dst, "port": m.get("port"), "protocol": m.get("protocol", "TCP"),
                           "allowed": cell == ALLOWED, "declared": True}
        return
    rows = doc.get("rows", []) if isinstance(doc, Mapping) else doc
    if isinstance(rows, list):
        yield from rows


def blast_doc(targets: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``predicted/blast-radius.json``: the workload targets once, and per namespace the rogue
    pod's verdict for each as letters (``workloads``), its ``reachable`` list spelled out, and
    the API server, DNS and internet verdicts."""
    return {"schema_version": 2, "targets": [dict(t) for t in targets], "namespaces": [dict(e) for e in entries]}


def blast_entries(doc: Any) -> list[dict[str, Any]]:
    """The namespace entries with ``workloads`` as a list of ``{target, service_port, port,
    protocol, allowed}`` (version 2 letters expanded against ``targets``)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("namespaces"), list):
        return []
    targets = doc.get("targets")
    if not isinstance(targets, list):
        return [e for e in doc["namespaces"] if isinstance(e, Mapping)]
    out = []
    for entry in doc["namespaces"]:
        if not isinstance(entry, Mapping):
            continue
        line = entry.get("workloads")
        expanded = [{**t, "allowed": cell == ALLOWED} for t, cell in zip(targets, line) if isinstance(t, Mapping)] if isinstance(line, str) else []
        out.append({**entry, "workloads": expanded})
    return out
