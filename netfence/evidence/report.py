"""The security-review report: observed before/after vs predicted, disagreements, blast radius, coverage.

Pure: :func:`build` turns the contents of a run folder (already loaded) into a plain dict, and
:func:`to_markdown` renders it. :func:`load_run` is the only function that reads files, so the
report can be rebuilt from recorded evidence anywhere, with no cluster.

Cells of the matrices read ``before → after (predicted)`` with one letter per outcome:
``Y`` allowed, ``N`` blocked, ``R`` refused, ``D`` dns-error, ``E`` error, ``·`` not probed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from netfence.errors import NetfenceError
from netfence.evidence.predicted import blast_entries, matrix_rows
from netfence.evidence.runs import API_SERVER_FILE, read_json

LETTER = {"allowed": "Y", "blocked": "N", "refused": "R", "dns-error": "D", "error": "E", None: "·"}
_PHASES = ["before", "after"]
PHASE_FILES = {"before": "probes/before.json", "after": "probes/after.json"}
BLAST_FILE = "blast-radius.json"


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """Read whatever evidence the run folder holds; missing parts are None."""
    root = Path(run_dir)
    if not root.is_dir():
        raise NetfenceError(f"run folder {root} does not exist")

    def opt(rel: str) -> Any:
        return read_json(root / rel)

    return {
        "run_dir": str(root),
        "run": opt("run.json") or {},
        "phases": {phase: doc for phase, rel in PHASE_FILES.items() if (doc := opt(rel)) is not None},
        "predicted": opt("predicted/matrix.json"),
        "blast": opt(BLAST_FILE),
        "predicted_blast": opt("predicted/blast-radius.json"),
        "api_server": opt(API_SERVER_FILE),
    }


OUTCOMES = ("allowed", "blocked", "refused", "dns-error", "error")
# The rounds a lab run records (site.yml); the gate fails when one of them is missing or empty.
ROUNDS = ("before", "after", "blast-radius")
ROUND_FILES = {**PHASE_FILES, "blast-radius": BLAST_FILE}


def gate_problems(run: Mapping[str, Any], built: Mapping[str, Any], expected: Iterable[str] = ROUNDS) -> list[str]:
    """Why ``--fail-on-disagreement`` fails: expected rounds missing, empty or all errors, no
    predictions, and every disagreement (probe rounds and blast radius). Empty: the gate passes."""
    problems = []
    rounds = {**(run.get("phases") or {}), **({"blast-radius": run["blast"]} if run.get("blast") is not None else {})}
    for phase in expected:
        where = ROUND_FILES.get(phase, phase)
        records = (rounds.get(phase) or {}).get("records") if isinstance(rounds.get(phase), Mapping) else None
        if phase not in rounds:
            problems.append(f"{where} is missing: the {phase} round was expected")
        elif not records:
            problems.append(f"{where} recorded no probes: the {phase} round measured nothing")
        elif all(r.get("outcome") == "error" for r in records):
            problems.append(f"every probe in {where} errored: the {phase} round measured nothing")
    if "after" in expected and run.get("predicted") is None:
        problems.append("predicted/matrix.json is missing: the after round has no prediction to be judged against")
    if "blast-radius" in expected and run.get("predicted_blast") is None:
        problems.append("predicted/blast-radius.json is missing: the blast radius has no prediction to be judged against")
    dis = built.get("disagreements") or []
    if dis:
        problems.append(f"{len(dis)} probe disagreement(s): " + ", ".join(f"{d['phase']} {d['name']}" for d in dis[:10])
                        + (" ..." if len(dis) > 10 else ""))
    blast = [(b["source"], r) for b in built.get("blast") or [] for r in b["disagreements"]]
    if blast:
        problems.append(f"{len(blast)} blast-radius disagreement(s): " + ", ".join(
            f"{src} -> {r['target']}:{r['port']} observed {r['observed']}, predicted {r['predicted']}" for src, r in blast[:10])
                        + (" ..." if len(blast) > 10 else ""))
    return problems


def likely_cause(outcome: str, wanted: str, detail: str = "", before: str | None = None) -> str:
    """Why an observed outcome may differ from what was predicted or expected."""
    if outcome == "allowed" and wanted == "blocked":
        if before == "allowed":
            return ("allowed both before and after the policies: the CNI may not enforce NetworkPolicy "
                    "(or the policies were not applied, or their selectors do not match the pod's labels)")
        return "allowed although a policy should block it: a broader allow rule, or the CNI not enforcing"
    if outcome == "blocked" and wanted == "allowed":
        return ("blocked although allowed by the model: egress of the source may be restricted without this rule, "
                "or a namespace/pod label differs from the inventory")
    if outcome == "refused":
        return ("reached, but nothing listens on that port: a wrong port (e.g. Service port 80 vs container port 3000) "
                "or the target is not running; not a policy decision")
    if outcome == "dns-error":
        return "the name did not resolve: DNS egress (UDP/TCP 53 to kube-dns) is missing for the source"
    if outcome == "error":
        return f"the probe itself failed: {detail}" if detail else "the probe itself failed"
    return "unexplained disagreement"


def _source_label(record: Mapping[str, Any]) -> str:
    src = record["source"]
    if src.get("workload"):
        return f"{src['namespace']}/{src['workload']}"
    labels = ",".join(f"{k}={v}" for k, v in sorted((src.get("labels") or {}).items()))
    return f"{src['namespace']}/{{{labels}}}"


def _target_label(record: Mapping[str, Any]) -> str:
    tgt = record["target"]
    return tgt["ref"] if tgt["kind"] in ("service", "pod") else f"{tgt['kind']}:{tgt['ref']}"


def _predicted_index(predicted: Any) -> dict[tuple[str, str, int, str], bool]:
    index = {}
    for row in matrix_rows(predicted or []):
        if not isinstance(row, Mapping) or row.get("declared") is False:
            continue  # nothing listens on that port: not a reachability question
        try:
            index[(row["from"], row["to"], int(row["port"]), str(row.get("protocol", "TCP")).upper())] = bool(row["allowed"])
        except (KeyError, TypeError, ValueError):
            continue
    return index


def _service_ports(predicted_blast: Any) -> dict[tuple[str, int, str], int]:
    """Map (ns/workload, Service port, protocol) to the container port the Service targets.

    A probe aimed at a Service connects to the Service port (80), but policies, and so the
    predicted rows, see the container port behind it (3000). The plan's blast-radius prediction
    records both ports for every inventory workload, in the same run folder, so it is the source.
    """
    ports: dict[tuple[str, int, str], int] = {}
    for entry in blast_entries(predicted_blast):
        for wl in entry.get("workloads") or []:
            try:
                if wl.get("service_port") is not None:
                    key = (str(wl["target"]), int(wl["service_port"]), str(wl.get("protocol") or "TCP").upper())
                    ports[key] = int(wl["port"])
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
    return ports


def _policy_port(rec: Mapping[str, Any], service_ports: Mapping[tuple[str, int, str], int]) -> int:
    """The port NetworkPolicies see for this probe: a Service port becomes its container port."""
    port = int(rec["port"])
    if rec["target"].get("kind") == "service":
        return service_ports.get((str(rec["target"]["ref"]), port, str(rec["protocol"]).upper()), port)
    return port


def build(run: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the Markdown report and CI need, as plain data."""
    phases: Mapping[str, Any] = run.get("phases") or {}
    predicted = _predicted_index(run.get("predicted"))
    service_ports = _service_ports(run.get("predicted_blast"))
    cells: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]] = {}
    disagreements: list[dict[str, Any]] = []
    for phase in ("before", "after"):
        for rec in (phases.get(phase) or {}).get("records", []):
            key = (rec["protocol"], int(rec["port"]))
            cell = cells.setdefault(key, {}).setdefault((_source_label(rec), _target_label(rec)), {})
            cell[phase] = rec["outcome"]
            if rec.get("predicted") is not None:
                cell["predicted"] = "allowed" if rec["predicted"] else "blocked"
            elif (p := predicted.get((_source_label(rec), _target_label(rec), _policy_port(rec, service_ports), rec["protocol"]))) is not None:
                cell["predicted"] = "allowed" if p else "blocked"
    for phase in ("before", "after"):
        for rec in (phases.get(phase) or {}).get("records", []):
            cell = cells[(rec["protocol"], int(rec["port"]))][(_source_label(rec), _target_label(rec))]
            wanted, against = rec.get("expected"), ("predicted" if rec.get("origin") == "predicted" else "expected")
            if wanted is None and phase == "after" and cell.get("predicted"):
                wanted, against = cell["predicted"], "predicted"
            if wanted is None or rec["outcome"] == wanted:
                continue
            disagreements.append({
                "phase": phase, "name": rec["name"], "source": _source_label(rec), "target": _target_label(rec),
                "port": rec["port"], "protocol": rec["protocol"], "observed": rec["outcome"], "against": against,
                "wanted": wanted, "cause": likely_cause(rec["outcome"], wanted, rec.get("detail", ""), cell.get("before")),
            })
    api = _api_server(run.get("predicted_blast"), run.get("api_server"))
    matrices = []
    for (protocol, port), grid in sorted(cells.items()):
        sources = sorted({s for s, _ in grid})
        targets = sorted({t for _, t in grid})
        matrices.append({"protocol": protocol, "port": port, "sources": sources, "targets": targets,
                         "cells": {f"{s}|{t}": v for (s, t), v in grid.items()}})
    return {
        "run_id": (run.get("run") or {}).get("run_id") or Path(str(run.get("run_dir", ""))).name,
        "cluster": (run.get("run") or {}).get("cluster", ""),
        "phases": {p: doc.get("summary", {}) for p, doc in phases.items()},
        "matrices": matrices,
        "disagreements": sorted(disagreements, key=lambda d: (d["phase"], d["name"])),
        "blast": _blast(run.get("blast"), run.get("predicted_blast"), api),
        "api_server": api,
        "coverage": _coverage(phases, predicted, service_ports),
    }


def _endpoint_text(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _api_server(predicted_blast: Any, observed: Any) -> dict[str, Any] | None:
    """The API server endpoint the plan assumed (its API rows are about that address) against the
    endpoints the cluster's ``kubernetes`` Service really has (``api-server.json``, recorded by the
    blast-radius stage, with the engine's verdict for each real endpoint). ``by_namespace`` is
    the prediction for the real endpoints: allowed, blocked, or None when they disagree or are
    unknown. None when either side is missing."""
    assumed = next((e["api_server"] for e in blast_entries(predicted_blast) if isinstance(e.get("api_server"), Mapping)), None)
    if assumed is None or not isinstance(observed, Mapping):
        return None
    text = _endpoint_text(str(assumed.get("ip")), assumed.get("port"))
    if not isinstance(observed.get("endpoints"), list):
        return {"assumed": text, "observed": None, "agrees": None, "error": str(observed.get("error") or "not recorded"),
                "by_namespace": {}}
    verdicts: dict[str, set[bool]] = {}
    for row in observed.get("predicted") or []:
        if isinstance(row, Mapping) and isinstance(row.get("allowed"), bool):
            verdicts.setdefault(str(row.get("namespace")), set()).add(row["allowed"])
    return {"assumed": text, "observed": [str(e) for e in observed["endpoints"]], "agrees": text in observed["endpoints"],
            "by_namespace": {ns: (next(iter(v)) if len(v) == 1 else None) for ns, v in verdicts.items()}}


def _predicted_blast(predicted: Any, namespace: str) -> dict[tuple[str, str, int], bool]:
    """Index the engine's blast radius for one namespace by (target kind, ref, port).

    Understands the plan's format (``{"namespaces": [{namespace, workloads, api_server, dns,
    internet}]}``) and a plain list of ``{to|target, port, allowed}`` rows.
    """
    index: dict[tuple[str, str, int], bool] = {}
    if isinstance(predicted, Mapping) and isinstance(predicted.get("namespaces"), list):
        entry = next((e for e in blast_entries(predicted) if e.get("namespace") == namespace), None)
        if entry is None:
            return index
        for wl in entry.get("workloads") or []:
            port = wl.get("service_port") or wl.get("port")
            if port is not None:
                index[("service", str(wl["target"]), int(port))] = bool(wl["allowed"])
        if isinstance(entry.get("api_server"), Mapping):
            index[("api", "kubernetes", 443)] = bool(entry["api_server"].get("allowed"))
        dns = entry.get("dns") or {}
        for proto in ("udp", "tcp"):
            if proto in dns:
                index[("dns", proto.upper(), 53)] = bool(dns[proto])
        if isinstance(entry.get("internet"), Mapping):
            index[("external", str(entry["internet"].get("ip")), int(entry["internet"].get("port", 443)))] = bool(entry["internet"].get("allowed"))
        return index
    rows = predicted.get("rows", []) if isinstance(predicted, Mapping) else (predicted or [])
    for row in rows if isinstance(rows, list) else []:
        target = row.get("to", row.get("target")) if isinstance(row, Mapping) else None
        if target is not None and "port" in row and "allowed" in row:
            index[("any", str(target), int(row["port"]))] = bool(row["allowed"])
    return index


def _blast(observed: Any, predicted: Any, api: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One entry per rogue pod (source namespace, in the order the records name them): what it
    reached, each row next to the engine's prediction for that namespace. The API server row is
    predicted for the endpoints the cluster really has when they were read (``api``), not for the
    plan's assumption."""
    by_namespace: dict[str, list[Mapping[str, Any]]] = {}
    for rec in (observed or {}).get("records", []):
        by_namespace.setdefault(rec["source"]["namespace"], []).append(rec)
    entries = []
    for namespace, records in by_namespace.items():
        pred = _predicted_blast(predicted, namespace)
        if api and namespace in api.get("by_namespace", {}):
            pred[("api", "kubernetes", 443)] = api["by_namespace"][namespace]
        rows = []
        for rec in records:
            tgt, port = rec["target"], int(rec["port"])
            key = ("dns", rec["protocol"], 53) if tgt["kind"] == "dns" else (tgt["kind"], tgt["ref"], port)
            p = pred.get(key, pred.get(("any", tgt["ref"], port), pred.get(("any", _target_label(rec), port))))
            rows.append({"name": rec["name"], "target": _target_label(rec), "port": rec["port"], "protocol": rec["protocol"], "observed": rec["outcome"],
                         "predicted": None if p is None else ("allowed" if p else "blocked")})
        entries.append({
            "source": _source_label(records[0]),
            "rows": rows,
            "reachable": sorted(f"{r['target']}:{r['port']}" for r in rows if r["observed"] == "allowed"),
            "disagreements": [r for r in rows if r["predicted"] and r["observed"] != r["predicted"]],
        })
    return entries


def _coverage(phases: Mapping[str, Any], predicted: Mapping[tuple[str, str, int, str], bool],
              service_ports: Mapping[tuple[str, int, str], int] | None = None) -> dict[str, Any]:
    after = (phases.get("after") or {}).get("records", [])
    probed = {(_source_label(r), _target_label(r), int(r["port"]), r["protocol"]) for r in after}
    probed |= {(_source_label(r), _target_label(r), _policy_port(r, service_ports or {}), r["protocol"]) for r in after}
    unprobed = sorted(f"{s} -> {t} {proto}/{port}" for (s, t, port, proto) in predicted if (s, t, port, proto) not in probed and s != t)
    return {
        "probes": {p: len(doc.get("records", [])) for p, doc in phases.items()},
        "probe_pods": {p: doc.get("pods", 0) for p, doc in phases.items()},
        "predicted_rows": len(predicted),
        "predicted_unprobed": unprobed,
        "phases_missing": [p for p in ("before", "after") if p not in phases],
    }


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _cell(value: Mapping[str, str] | None) -> str:
    if not value:
        return "·"
    return f"{LETTER[value.get('before')]}→{LETTER[value.get('after')]} ({LETTER[value.get('predicted')]})"


def api_server_lines(api: Mapping[str, Any] | None) -> list[str]:
    """What the report says about the API server endpoint the plan assumed and the one the cluster
    has (Markdown; report.html strips the marks)."""
    if not api:
        return []
    if api["observed"] is None:
        return [f"The prediction's API server rows assume the endpoint `{api['assumed']}`; the cluster's real "
                f"endpoints could not be read ({api['error']}), so that assumption is unchecked."]
    observed = ", ".join(f"`{e}`" for e in api["observed"]) or "none"
    lines = [f"The cluster's `kubernetes` Service sends to {observed}; the API server rows above are predicted "
             f"for {'that endpoint' if len(api['observed']) == 1 else 'those endpoints'} from this run's manifests. "
             f"The plan assumed `{api['assumed']}`."]
    if not api["agrees"]:
        lines.append(f"**The plan's assumption was another address**: its `predicted/blast-radius.json` API rows are "
                     f"about `{api['assumed']}`. Set `netfence_api_server_endpoint` to {observed} in the inventory "
                     f"so later plans predict the real endpoint offline.")
    return lines


def to_markdown(report: Mapping[str, Any]) -> str:
    """The reviewer's report."""
    out = [f"# netfence report: {report['cluster'] or 'cluster'} run {report['run_id']}", ""]
    dis = report["disagreements"]
    out += [f"**{len(dis)} disagreement(s)** between observed and expected/predicted reachability." if dis
            else "**No disagreements** between observed and expected/predicted reachability.", ""]
    out += ["## Probe rounds", ""]
    out += _table(["phase", "probes", "allowed", "blocked", "refused", "dns-error", "error", "mismatches"],
                  [[p, s.get("total", 0), *(s.get("outcomes", {}).get(o, 0) for o in ("allowed", "blocked", "refused", "dns-error", "error")),
                    len(s.get("mismatches", []))] for p, s in sorted(report["phases"].items(), key=lambda i: _PHASES.index(i[0]))])
    out += ["", "## Matrices per port", "",
            "Cells read `before→after (predicted)`: Y allowed, N blocked, R refused, D dns-error, E error, · not probed.", ""]
    for matrix in report["matrices"]:
        out += [f"### {matrix['protocol']}/{matrix['port']}", ""]
        out += _table(["from \\ to", *matrix["targets"]],
                      [[s, *(_cell(matrix["cells"].get(f"{s}|{t}")) for t in matrix["targets"])] for s in matrix["sources"]])
        out.append("")
    out += ["## Disagreements", ""]
    if dis:
        out += _table(["phase", "probe", "from", "to", "port", "observed", "wanted", "likely cause"],
                      [[d["phase"], d["name"], d["source"], d["target"], f"{d['protocol']}/{d['port']}", d["observed"],
                        f"{d['wanted']} ({d['against']})", d["cause"]] for d in dis])
    else:
        out.append("None.")
    out += ["", "## Blast radius", ""]
    for i, blast in enumerate(report.get("blast") or []):
        out += ([""] if i else []) + [f"A rogue pod `{blast['source']}` still reaches: "
                                      + (", ".join(f"`{r}`" for r in blast["reachable"]) or "nothing") + ".", ""]
        out += _table(["target", "port", "observed", "predicted"],
                      [[r["target"], f"{r['protocol']}/{r['port']}", r["observed"], r["predicted"] or "·"] for r in blast["rows"]])
        if blast["disagreements"]:
            out += ["", "Disagreements with the prediction:", ""]
        for row in blast["disagreements"]:
            out.append(f"- {row['target']}:{row['port']}: observed {row['observed']}, predicted {row['predicted']}: "
                       f"{likely_cause(row['observed'], row['predicted'])}")
    if not report.get("blast"):
        out.append("Not run (playbooks/blast_radius.yml).")
    lines = api_server_lines(report.get("api_server"))
    out += [""] + lines if lines else []
    cov = report["coverage"]
    out += ["", "## Coverage", "",
            f"- probes per phase: {', '.join(f'{p} {n}' for p, n in sorted(cov['probes'].items())) or 'none'}",
            f"- probe pods per phase (one per source identity): {', '.join(f'{p} {n}' for p, n in sorted(cov['probe_pods'].items())) or 'none'}",
            f"- predicted pairs: {cov['predicted_rows']}, not probed after the policies: {len(cov['predicted_unprobed'])}"]
    out += [f"  - {row}" for row in cov["predicted_unprobed"][:50]]
    if cov["phases_missing"]:
        out.append(f"- phases without evidence: {', '.join(cov['phases_missing'])}")
    return "\n".join(out) + "\n"
