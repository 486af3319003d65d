"""JUnit XML for CI dashboards: one test case per probe and phase.

A probe with an expectation (inventory) or a prediction (after the policies) passes when the
observed outcome matches it and fails otherwise, with the likely cause as the message; a probe
whose command itself failed is an ``<error>``; a probe with neither expectation nor prediction
passes and records its outcome in ``system-out`` (it is evidence, not a check). A blast-radius
probe is judged against the engine's prediction for its rogue pod (``blast_wanted``, from
:func:`netfence.evidence.report.build`). A round the run was expected to record (``expected``) that is
missing or holds no probe is one failing test case: zero test cases never reads as a pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Iterable, Mapping

from netfence.evidence.report import likely_cause

PHASE_ORDER = ("before", "after", "blast-radius")


def _wanted(record: Mapping[str, Any], phase: str, blast_wanted: Mapping[str, str]) -> tuple[str | None, str]:
    if phase == "blast-radius":
        wanted = blast_wanted.get(str(record.get("name")))
        return (wanted, "predicted") if wanted else (None, "")
    if record.get("expected"):
        return record["expected"], "expected"
    if phase == "after" and record.get("predicted") is not None:
        return ("allowed" if record["predicted"] else "blocked"), "predicted"
    return None, ""


def build(phases: Mapping[str, Mapping[str, Any]], *, expected: Iterable[str] = (),
          blast_wanted: Mapping[str, str] | None = None) -> str:
    """``phases`` maps a phase name to its probes/<phase>.json document; ``expected`` names the
    rounds the run should hold; ``blast_wanted`` maps a blast-radius probe's name to its prediction."""
    suites = ET.Element("testsuites", name="netfence")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    blast_wanted = blast_wanted or {}
    names = set(phases) | set(expected)
    for phase in sorted(names, key=lambda p: PHASE_ORDER.index(p) if p in PHASE_ORDER else len(PHASE_ORDER)):
        doc = phases.get(phase) or {}
        records = doc.get("records", [])
        suite = ET.SubElement(suites, "testsuite", name=f"netfence.{phase}", timestamp=str(doc.get("started_at", "")))
        counts = {"tests": 0, "failures": 0, "errors": 0}
        time_total = 0.0
        if not records and phase in expected:
            counts["tests"] += 1
            counts["failures"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"netfence.{phase}", name=f"the {phase} round recorded probes", time="0.000")
            why = "no probe round was recorded" if phase not in phases else "the round recorded no probes"
            ET.SubElement(case, "failure", message=f"{why}, although the run expected the {phase} round: it measured nothing",
                          type="missing-evidence").text = why
        for rec in records:
            counts["tests"] += 1
            time_total += float(rec.get("duration_s", 0))
            case = ET.SubElement(suite, "testcase", classname=f"netfence.{phase}.{rec['source']['namespace']}",
                                 name=rec["name"], time=f"{float(rec.get('duration_s', 0)):.3f}")
            wanted, against = _wanted(rec, phase, blast_wanted)
            outcome = rec["outcome"]
            summary = (f"{rec['source']['namespace']} -> {rec['target']['kind']}:{rec['target']['ref']} "
                       f"{rec['protocol']}/{rec['port']}: {outcome}")
            if wanted is not None and outcome != wanted:
                cause = likely_cause(outcome, wanted, rec.get("detail", ""))
                tag = "error" if outcome == "error" else "failure"
                counts["errors" if tag == "error" else "failures"] += 1
                element = ET.SubElement(case, tag, message=f"{against} {wanted}, observed {outcome}: {cause}", type=outcome)
                element.text = f"{summary}\ncommand: {' '.join(rec.get('command', []))}\ndetail: {rec.get('detail', '')}"
            elif wanted is None and outcome == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=f"the probe failed: {rec.get('detail', '')}", type="error").text = summary
            ET.SubElement(case, "system-out").text = f"{summary}\nattempts: {len(rec.get('attempts', []))}\ndetail: {rec.get('detail', '')}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{time_total:.3f}")
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
