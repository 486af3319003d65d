"""A run folder's report, written and judged: what ``netfence report`` and the ``netfence_report``
module both do, so the report stage reaches the library the way every other stage does.

:func:`write` builds ``report.md``, ``report.html`` and ``junit.xml`` from an open, intact, finished run and seals
it for good; :func:`read` verifies a run and builds its report without writing; :func:`gate`
lists why a run must fail CI (fails closed: missing, empty or all-error rounds, no prediction,
an inspected run, every disagreement).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from netfence.evidence import runs as evidence
from netfence.evidence import shapes as evidence_shapes
from netfence.evidence import junit
from netfence.evidence import report
from netfence.evidence import report_html
from netfence.errors import NetfenceError


REPORT_FILES = ("report.md", "report.html", "junit.xml")


@dataclass
class Report:
    """A run's evidence as loaded, the report built from it, and what reading it warned about."""

    run_dir: Path
    loaded: dict[str, Any]
    built: dict[str, Any]
    warnings: list[str]

    @property
    def markdown(self) -> str:
        return report.to_markdown(self.built)

    @property
    def html(self) -> str:
        return report_html.to_html(self.built)

    def junit(self, expect: Sequence[str]) -> str:
        phases = dict(self.loaded["phases"])
        if self.loaded["blast"]:
            phases["blast-radius"] = self.loaded["blast"]
        blast_wanted = {r["name"]: r["predicted"] for b in self.built["blast"] for r in b["rows"] if r["predicted"]}
        return junit.build(phases, expected=list(expect), blast_wanted=blast_wanted)

    def gate(self, expect: Sequence[str]) -> list[str]:
        """Why this run fails the gate; empty when every expected round is there and agrees."""
        return self.warnings + report.gate_problems(self.loaded, self.built, list(expect))


def _build(run_dir: Path, warnings: list[str]) -> Report:
    loaded = report.load_run(run_dir)
    evidence_shapes.check_run(loaded)
    return Report(run_dir, loaded, report.build(loaded), warnings)


def read(run_dir: Path, *, inspect: bool = False) -> Report:
    """The report of a sealed, intact run; with ``inspect`` any run, its problems as warnings."""
    return _build(run_dir, evidence.check_readable(run_dir, inspect=inspect))


def check_writable(run_dir: Path) -> None:
    """Refuse what may not get a report: a missing, sealed, unsealed or tampered run, or one whose
    last stage did not finish."""
    current = evidence.state(run_dir)
    if current == "missing":
        raise NetfenceError(f"run folder {run_dir} does not exist")
    if current != "open":
        raise NetfenceError(f"{run_dir} is {current}, not open: a report is written only into an open run, which it "
                            "then seals; a sealed run is never written again")
    problems = evidence.verify(run_dir)
    if problems:
        raise NetfenceError(f"{run_dir} does not match its {evidence.CHECKSUMS}: {'; '.join(problems)}; no report written")
    stage = evidence.interrupted_stage(run_dir)
    if stage is not None:
        raise NetfenceError(f"{run_dir} is incomplete: stage {stage!r} started writing and did not finish (still running, "
                            "or interrupted); a run is sealed only after its last stage finished: run that stage "
                            "again (or plan a new run); no report written")
    for name in REPORT_FILES:
        if (run_dir / name).exists():
            raise NetfenceError(f"{run_dir / name} already exists; evidence is never overwritten")


def write(run_dir: Path, expect: Sequence[str]) -> Report:
    """Write ``report.md``, ``report.html`` and ``junit.xml`` into an open run and seal it for good
    (all are built before any is written; a failure removes them all, so the run is never left
    half-reported)."""
    check_writable(run_dir)
    built = _build(run_dir, [])
    texts = dict(zip(REPORT_FILES, (built.markdown, built.html, built.junit(expect))))
    try:
        for name, text in texts.items():
            evidence.write_text(run_dir, name, text)
    except BaseException:
        for name in REPORT_FILES:
            (run_dir / name).unlink(missing_ok=True)
        raise
    evidence.finalize(run_dir)
    return built
