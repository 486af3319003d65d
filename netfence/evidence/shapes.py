"""The shape of a run folder's evidence JSON, checked before anything reads it.

:func:`netfence.evidence.report.load_run` reads whatever a run folder holds; the report then indexes
into it freely. A file of the wrong shape (``run.json`` a list, a probe round a string, a record
without ``protocol``, a malformed ``predicted/matrix.json``) must end in one line that names the
file and the field, not in a traceback or in silently ignored evidence. :func:`check_run` does
that for the dict ``load_run`` returns; :func:`check` does it for one file's data.

Only what the report relies on is checked; extra keys are always allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from netfence.errors import NetfenceError
from netfence.loading import shorten

# load_run's keys -> (file inside the run folder, kind of document)
RUN_FILES: dict[str, tuple[str, str]] = {
    "run": ("run.json", "run"),
    "predicted": ("predicted/matrix.json", "matrix"),
    "blast": ("blast-radius.json", "round"),
    "predicted_blast": ("predicted/blast-radius.json", "predicted_blast"),
    "api_server": ("api-server.json", "api_server"),
}
PHASE_FILE = "probes/{phase}.json"
#: The one version of netfence's evidence documents; a document that says another is refused
#: (read it with the netfence that wrote it) rather than half-understood.
SCHEMA_VERSION = 1
# The predicted matrix and blast radius are written as letters since version 2
# (netfence.evidence.predicted); version 1 files (one object per verdict) still read.
READS: dict[str, tuple[int, ...]] = {"matrix": (1, 2), "predicted_blast": (1, 2)}


class EvidenceShapeError(NetfenceError):
    """An evidence file that is valid JSON but not what netfence records there."""


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__) + ("" if isinstance(value, (dict, list)) else f" {shorten(value, 40)}")


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(field, f"must be a mapping (JSON object), not {_kind(value)}")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(field, f"must be a list, not {_kind(value)}")
    return value


def _text(parent: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> None:
    value = parent.get(key)
    if value is None and key not in parent and not required:
        return
    if value is None and not required:
        return
    if key not in parent:
        raise _Bad(f"{field}.{key}" if field else key, "is missing")
    if not isinstance(value, str):
        raise _Bad(f"{field}.{key}" if field else key, f"must be a string, not {_kind(value)}")


def _port(parent: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> None:
    name = f"{field}.{key}" if field else key
    if key not in parent or parent[key] is None:
        if required:
            raise _Bad(name, "is missing")
        return
    value = parent[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Bad(name, f"must be a port number 1-65535, not {_kind(value)}")


def _boolean(parent: Mapping[str, Any], key: str, field: str, *, required: bool = True) -> None:
    name = f"{field}.{key}" if field else key
    if key not in parent or parent[key] is None:
        if required:
            raise _Bad(name, "is missing")
        return
    if not isinstance(parent[key], bool):
        raise _Bad(name, f"must be true or false, not {_kind(parent[key])}")


def _run(data: Any) -> None:
    run = _mapping(data, "(top level)")
    for key in ("run_id", "cluster"):
        _text(run, key, "", required=False)


def _choice(parent: Mapping[str, Any], key: str, field: str, allowed: tuple[Any, ...]) -> None:
    if parent.get(key) not in allowed:
        raise _Bad(f"{field}.{key}", f"must be one of {', '.join(map(str, allowed))}, not {_kind(parent.get(key))}")


def _record(rec: Any, field: str) -> None:
    from netfence.probes.records import OUTCOMES

    rec = _mapping(rec, field)
    for key in ("name", "protocol", "outcome"):
        _text(rec, key, field)
    _choice(rec, "protocol", field, ("TCP", "UDP", "SCTP"))
    _choice(rec, "outcome", field, tuple(OUTCOMES))
    _port(rec, "port", field)
    source = _mapping(rec.get("source"), f"{field}.source")
    _text(source, "namespace", f"{field}.source")
    _text(source, "workload", f"{field}.source", required=False)
    if source.get("labels") is not None:
        labels = _mapping(source["labels"], f"{field}.source.labels")
        for key, value in labels.items():
            if not isinstance(value, str):
                raise _Bad(f"{field}.source.labels.{key}", f"must be a string, not {_kind(value)}")
    target = _mapping(rec.get("target"), f"{field}.target")
    _text(target, "kind", f"{field}.target")
    _text(target, "ref", f"{field}.target")
    for key in ("detail", "origin"):
        _text(rec, key, field, required=False)
    if rec.get("expected") is not None:
        _choice(rec, "expected", field, tuple(OUTCOMES))
    _boolean(rec, "predicted", field, required=False)


def _round(data: Any) -> None:
    doc = _mapping(data, "(top level)")
    if "records" in doc:
        for i, rec in enumerate(_list(doc["records"], "records")):
            _record(rec, f"records[{i}]")
    if doc.get("summary") is not None:
        _mapping(doc["summary"], "summary")
    if doc.get("pods") is not None and (isinstance(doc["pods"], bool) or not isinstance(doc["pods"], int)):
        raise _Bad("pods", f"must be a number, not {_kind(doc['pods'])}")


def _matrix(data: Any) -> None:
    if isinstance(data, Mapping) and "matrices" in data:
        _letter_matrix(data)
        return
    if isinstance(data, Mapping):
        key = "rows"
        rows = _list(data.get(key), key)
    else:
        key, rows = "", _list(data, "(top level)")
    for i, row in enumerate(rows):
        field = f"{key}[{i}]"
        row = _mapping(row, field)
        _text(row, "from", field)
        _text(row, "to", field)
        _port(row, "port", field)
        _text(row, "protocol", field, required=False)
        _boolean(row, "allowed", field)
        _boolean(row, "declared", field, required=False)


def _letter_matrix(data: Mapping[str, Any]) -> None:
    """Version 2: per probe, the destinations and one string of Y/N per source (``pods``)."""
    sources = _list(data.get("pods"), "pods")
    for i, src in enumerate(sources):
        if not isinstance(src, str):
            raise _Bad(f"pods[{i}]", f"must be a string namespace/name, not {_kind(src)}")
    for i, m in enumerate(_list(data["matrices"], "matrices")):
        field = f"matrices[{i}]"
        m = _mapping(m, field)
        _port(m, "port", field)
        _text(m, "protocol", field, required=False)
        dsts = _list(m.get("to"), f"{field}.to")
        lines = _list(m.get("allowed"), f"{field}.allowed")
        if len(lines) != len(sources):
            raise _Bad(f"{field}.allowed", f"has {len(lines)} lines for {len(sources)} pods")
        for j, line in enumerate(lines):
            if not isinstance(line, str) or len(line) != len(dsts) or line.strip("YN"):
                raise _Bad(f"{field}.allowed[{j}]", f"must be {len(dsts)} letters Y or N, one per destination in 'to'")


def _letters(entry: Mapping[str, Any], count: int, field: str) -> None:
    line = entry.get("workloads")
    if not isinstance(line, str) or len(line) != count or line.strip("YN"):
        raise _Bad(f"{field}.workloads", f"must be {count} letters Y or N, one per entry of 'targets'")



def _blast_target(value: Any, field: str) -> Mapping[str, Any]:
    """A workload target of the blast radius: schema 2's ``targets[]``, or schema 1's per-namespace
    ``workloads[]`` (which add ``allowed``)."""
    wl = _mapping(value, field)
    _text(wl, "target", field)
    _port(wl, "port", field)
    _port(wl, "service_port", field, required=False)
    _text(wl, "protocol", field, required=False)
    return wl

def _predicted_blast(data: Any) -> None:
    if not isinstance(data, Mapping) or "namespaces" not in data:
        rows = data.get("rows") if isinstance(data, Mapping) else data
        key = "rows" if isinstance(data, Mapping) else "(top level)"
        if not isinstance(data, (Mapping, list)):
            raise _Bad("(top level)", f"must be a mapping with namespaces, not {_kind(data)}")
        for i, row in enumerate(_list(rows, key)):
            field = f"{key}[{i}]" if key != "(top level)" else f"[{i}]"
            row = _mapping(row, field)
            if "to" not in row and "target" not in row:
                raise _Bad(f"{field}.to", "is missing")
            _port(row, "port", field)
            _boolean(row, "allowed", field)
        return
    targets = data.get("targets")
    if targets is not None:
        for j, wl in enumerate(_list(targets, "targets")):
            _blast_target(wl, f"targets[{j}]")
    for i, entry in enumerate(_list(data["namespaces"], "namespaces")):
        field = f"namespaces[{i}]"
        entry = _mapping(entry, field)
        _text(entry, "namespace", field)
        if targets is not None:
            _letters(entry, len(targets), field)
        for j, wl in enumerate(_list(entry.get("workloads") or [], f"{field}.workloads") if targets is None else []):
            wfield = f"{field}.workloads[{j}]"
            _boolean(_blast_target(wl, wfield), "allowed", wfield)
        for key in ("api_server", "internet"):
            if entry.get(key) is not None:
                part = _mapping(entry[key], f"{field}.{key}")
                _port(part, "port", f"{field}.{key}", required=key == "api_server")
                _boolean(part, "allowed", f"{field}.{key}", required=False)
        if entry.get("dns") is not None:
            dns = _mapping(entry["dns"], f"{field}.dns")
            for proto in ("udp", "tcp"):
                _boolean(dns, proto, f"{field}.dns", required=False)


def _api_server(data: Any) -> None:
    doc = _mapping(data, "(top level)")
    if doc.get("endpoints") is not None:
        for i, ep in enumerate(_list(doc["endpoints"], "endpoints")):
            if not isinstance(ep, str):
                raise _Bad(f"endpoints[{i}]", f"must be a string ip:port, not {_kind(ep)}")
    if doc.get("predicted") is not None:
        for i, row in enumerate(_list(doc["predicted"], "predicted")):
            _mapping(row, f"predicted[{i}]")


_CHECKS: dict[str, Callable[[Any], None]] = {
    "run": _run, "round": _round, "matrix": _matrix, "predicted_blast": _predicted_blast, "api_server": _api_server,
}


def check(kind: str, data: Any, path: str | Path) -> None:
    """Raise :class:`EvidenceShapeError` naming ``path`` and the field when ``data`` (one file's
    parsed JSON) is not the shape netfence records for ``kind``: ``run``, ``round`` (a probe
    round or the observed blast radius), ``matrix``, ``predicted_blast`` or ``api_server``."""
    try:
        versions = READS.get(kind, (SCHEMA_VERSION,))
        if isinstance(data, Mapping) and "schema_version" in data and data["schema_version"] not in versions:
            raise _Bad("schema_version", f"is {_kind(data['schema_version'])}; this netfence reads version "
                                         f"{' or '.join(map(str, versions))} only (read the run with the netfence version that wrote it)")
        _CHECKS[kind](data)
    except _Bad as bad:
        raise EvidenceShapeError(f"{path}: {bad.field}: {bad.message} (fix: this is not what netfence records there; "
                                 "restore the file from the run, or remove it and re-run the stage that writes it)") from None


def check_run(loaded: Mapping[str, Any]) -> None:
    """Check every document of a loaded run folder (the dict :func:`netfence.evidence.report.load_run`
    returns); absent files (None) are fine."""
    root = Path(str(loaded.get("run_dir", ".")))
    for key, (rel, kind) in RUN_FILES.items():
        if loaded.get(key) is not None:
            check(kind, loaded[key], root / rel)
    for phase, doc in (loaded.get("phases") or {}).items():
        check("round", doc, root / PHASE_FILE.format(phase=phase))
