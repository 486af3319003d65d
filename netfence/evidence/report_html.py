"""``report.html``: the report a reviewer would rather look at, self-contained.

The same data as ``report.md`` (:func:`netfence.evidence.report.build`), drawn: a namespace graph
per round (who may talk to whom before the policies, after them, and as predicted), heat-map
matrices per port, the disagreements with their likely cause, the blast radius. One file, inline
CSS and SVG, no script and nothing fetched: it opens offline, from the run folder or an archive.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable, Mapping, Sequence

from netfence.evidence.report import LETTER, api_server_lines, likely_cause

ROUNDS = ("before", "after", "predicted")
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2327;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccd0d4}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dcdcde;padding:3px 6px;text-align:center}
th{background:#f6f7f7;font-weight:600}td.src,th.src{text-align:left}
.allowed{background:#c6efce}.blocked{background:#ffc7ce}.refused{background:#ffeb9c}
.dns-error,.error{background:#e0e0e0}.none{background:#fff;color:#8c8f94}.off{outline:3px solid #d63638}
.ok{color:#00a32a;font-weight:600}.bad{color:#d63638;font-weight:600}
.graphs{display:flex;flex-wrap:wrap;gap:16px}.graphs figure{margin:0;border:1px solid #dcdcde;padding:8px}
figcaption{font-weight:600;text-align:center}.legend span{display:inline-block;padding:0 6px;margin-right:6px}
"""


def _round_order(item: tuple[str, Any]) -> tuple[int, str]:
    order = ("before", "after", "blast-radius")
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _namespace(label: str) -> str | None:
    """``ns/pod`` -> ``ns``; targets that are not pods (``api:kubernetes``) have none."""
    return label.split("/", 1)[0] if "/" in label and ":" not in label.split("/", 1)[0] else None


def namespace_edges(report: Mapping[str, Any], round_: str) -> set[tuple[str, str]]:
    """Namespace pairs with at least one allowed connection in ``round_`` (before, after, predicted)."""
    edges = set()
    for matrix in report["matrices"]:
        for src in matrix["sources"]:
            for dst in matrix["targets"]:
                cell = matrix["cells"].get(f"{src}|{dst}") or {}
                a, b = _namespace(src), _namespace(dst)
                if a and b and cell.get(round_) == "allowed":
                    edges.add((a, b))
    return edges


def _graph(names: Sequence[str], edges: set[tuple[str, str]], title: str) -> str:
    size, radius = 320, 115
    centre = size / 2
    spots = {n: (centre + radius * math.cos(2 * math.pi * i / max(len(names), 1) - math.pi / 2),
                 centre + radius * math.sin(2 * math.pi * i / max(len(names), 1) - math.pi / 2))
             for i, n in enumerate(names)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
             f'aria-label="{escape(title)}"><defs><marker id="a-{escape(title)}" viewBox="0 0 10 10" refX="10" '
             'refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#2271b1"/>'
             '</marker></defs>']
    for a, b in sorted(edges):
        (x1, y1), (x2, y2) = spots[a], spots[b]
        if a == b:
            parts.append(f'<circle cx="{x1:.1f}" cy="{y1 - 24:.1f}" r="12" fill="none" stroke="#2271b1" class="edge"/>')
            continue
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1
        sx, sy, ex, ey = x1 + dx / length * 22, y1 + dy / length * 22, x2 - dx / length * 24, y2 - dy / length * 24
        parts.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#2271b1" '
                     f'stroke-width="1.5" marker-end="url(#a-{escape(title)})" class="edge"/>')
    for name, (x, y) in spots.items():
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="20" fill="#f0f6fc" stroke="#2271b1" class="node"/>'
                     f'<text x="{x:.1f}" y="{y + 36:.1f}" text-anchor="middle" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]], raw: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Mapping[str, str] | None) -> str:
    if not value:
        return '<td class="none" title="not probed">·</td>'
    after = value.get("after") or value.get("before") or "none"
    wanted = value.get("predicted")
    off = " off" if wanted and value.get("after") and value["after"] != wanted else ""
    text = f"{LETTER[value.get('before')]}→{LETTER[value.get('after')]} ({LETTER[wanted]})"
    title = f"before {value.get('before') or '-'}, after {value.get('after') or '-'}, predicted {wanted or '-'}"
    return f'<td class="{escape(after)}{off}" title="{escape(title)}">{escape(text)}</td>'


def to_html(report: Mapping[str, Any]) -> str:
    """The whole page."""
    dis = report["disagreements"]
    title = f"netfence report: {report['cluster'] or 'cluster'} run {report['run_id']}"
    names = sorted({n for m in report["matrices"] for label in (*m["sources"], *m["targets"])
                    if (n := _namespace(label))})
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"]
    out.append(f'<p class="{"bad" if dis else "ok"}">' + (f"{len(dis)} disagreement(s) between observed and "
               "expected/predicted reachability." if dis else "No disagreements between observed and "
               "expected/predicted reachability.") + "</p>")
    out.append("<h2>Who may talk to whom</h2><p>An arrow: at least one probed pod of the first namespace "
               "reached (or, predicted, may reach) a pod of the second.</p><div class=\"graphs\">")
    out += [_graph(names, namespace_edges(report, r), r) for r in ROUNDS]
    out.append("</div><h2>Probe rounds</h2>")
    out.append(_table(["phase", "probes", "allowed", "blocked", "refused", "dns-error", "error", "mismatches"],
                      [[p, s.get("total", 0), *(s.get("outcomes", {}).get(o, 0) for o in
                                                ("allowed", "blocked", "refused", "dns-error", "error")),
                        len(s.get("mismatches", []))] for p, s in sorted(report["phases"].items(), key=_round_order)]))
    out.append('<h2>Matrices per port</h2><p class="legend">Cells read <code>before→after (predicted)</code>: '
               'Y allowed, N blocked, R refused, D dns-error, E error, · not probed; the colour is the after round. '
               '<span class="allowed">allowed</span><span class="blocked">blocked</span><span class="refused">refused'
               '</span><span class="off">disagrees with the prediction</span></p>')
    for matrix in report["matrices"]:
        head = "".join(f"<th>{escape(t)}</th>" for t in matrix["targets"])
        rows = "".join(f'<tr><th class="src">{escape(s)}</th>'
                       + "".join(_cell(matrix["cells"].get(f"{s}|{t}")) for t in matrix["targets"]) + "</tr>"
                       for s in matrix["sources"])
        out.append(f'<h3>{escape(matrix["protocol"])}/{matrix["port"]}</h3><table class="matrix">'
                   f'<tr><th class="src">from \\ to</th>{head}</tr>{rows}</table>')
    out.append("<h2>Disagreements</h2>")
    out.append(_table(["phase", "probe", "from", "to", "port", "observed", "wanted", "likely cause"],
                      [[d["phase"], d["name"], d["source"], d["target"], f"{d['protocol']}/{d['port']}", d["observed"],
                        f"{d['wanted']} ({d['against']})", d["cause"]] for d in dis]) if dis else "<p>None.</p>")
    out.append("<h2>Blast radius</h2>")
    for blast in report.get("blast") or []:
        reached = ", ".join(blast["reachable"]) or "nothing"
        out.append(f"<h3>A rogue pod {escape(blast['source'])} still reaches: {escape(reached)}</h3>")
        out.append(_table(["target", "port", "observed", "predicted"],
                          [[r["target"], f"{r['protocol']}/{r['port']}", r["observed"], r["predicted"] or "·"]
                           for r in blast["rows"]]))
        for row in blast["disagreements"]:
            out.append(f'<p class="bad">{escape(row["target"])}:{row["port"]}: observed {escape(row["observed"])}, '
                       f'predicted {escape(row["predicted"])}: {escape(likely_cause(row["observed"], row["predicted"]))}</p>')
    if not report.get("blast"):
        out.append("<p>Not run (playbooks/blast_radius.yml).</p>")
    out += [f"<p>{escape(line.replace('`', '').replace('**', ''))}</p>" for line in api_server_lines(report.get("api_server"))]
    cov = report["coverage"]
    items = [f"probes per phase: {', '.join(f'{p} {n}' for p, n in sorted(cov['probes'].items())) or 'none'}",
             f"probe pods per phase (one per source identity): "
             f"{', '.join(f'{p} {n}' for p, n in sorted(cov['probe_pods'].items())) or 'none'}",
             f"predicted pairs: {cov['predicted_rows']}, not probed after the policies: {len(cov['predicted_unprobed'])}"]
    items += [f"phases without evidence: {', '.join(cov['phases_missing'])}"] if cov["phases_missing"] else []
    out.append("<h2>Coverage</h2><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
    if cov["predicted_unprobed"]:
        out.append("<details><summary>predicted pairs not probed</summary><ul>"
                   + "".join(f"<li>{escape(str(row))}</li>" for row in cov["predicted_unprobed"][:200]) + "</ul></details>")
    out.append("</body></html>\n")
    return "".join(out)
