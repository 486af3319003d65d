"""``netfence report --run-dir DIR``: the Markdown report and JUnit XML from recorded evidence.

The run folder is verified first (docs/evidence.md): reading needs a sealed, intact run unless
``--inspect``; ``--write`` needs an open, intact run and seals it for good. The gate
(``--fail-on-disagreement``) fails closed: missing, empty or all-error rounds, no prediction, an
inspected (incomplete or tampered) run, and every disagreement, blast radius included.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netfence import evidence, evidence_shapes, junit, report
from netfence.errors import NetfenceError


def _rounds(text: str) -> list[str]:
    rounds = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in rounds if r not in report.ROUNDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown round(s) {', '.join(unknown)}; choose from {', '.join(report.ROUNDS)}")
    return rounds


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="Markdown report and JUnit XML of a run folder (no cluster needed)",
        description="Build the security-review report (before vs after vs predicted, disagreements with "
                    "likely causes, blast radius, coverage) and JUnit XML from a run folder's evidence. "
                    "The run's SHA256SUMS is verified first; an incomplete or tampered run is refused.",
    )
    parser.add_argument("--run-dir", required=True, type=Path, help="evidence/<cluster>/<run-id>")
    parser.add_argument("--write", action="store_true",
                        help="write report.md and junit.xml into the open run folder and seal it for good (never overwrites)")
    parser.add_argument("--fail-on-disagreement", action="store_true",
                        help="exit 1 on any disagreement, or evidence that is missing, empty, all errors or not sealed")
    parser.add_argument("--inspect", action="store_true",
                        help="read an incomplete, unsealed or tampered run anyway (says what is wrong; any gate fails)")
    parser.add_argument("--expect", type=_rounds, default=list(report.ROUNDS), metavar="ROUNDS",
                        help="comma-separated probe rounds the run must hold (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir
    if args.write:
        if args.inspect:
            raise NetfenceError("--write and --inspect exclude each other: only an intact open run is sealed")
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
        warnings: list[str] = []
    else:
        warnings = evidence.check_readable(run_dir, inspect=args.inspect)
        for line in warnings:
            print(f"netfence report: warning: {line}", file=sys.stderr)
    loaded = report.load_run(run_dir)
    evidence_shapes.check_run(loaded)
    built = report.build(loaded)
    markdown = report.to_markdown(built)
    phases = dict(loaded["phases"])
    if loaded["blast"]:
        phases["blast-radius"] = loaded["blast"]
    blast_wanted = {r["name"]: r["predicted"] for b in built["blast"] for r in b["rows"] if r["predicted"]}
    if args.write:
        for name in ("report.md", "junit.xml"):
            if (run_dir / name).exists():
                raise NetfenceError(f"{run_dir / name} already exists; evidence is never overwritten")
        xml = junit.build(phases, expected=args.expect, blast_wanted=blast_wanted)  # both built before either is written
        try:
            evidence.write_text(run_dir, "report.md", markdown)
            evidence.write_text(run_dir, "junit.xml", xml)
        except BaseException:
            for name in ("report.md", "junit.xml"):  # half a report would leave the run unlisted and stuck
                (run_dir / name).unlink(missing_ok=True)
            raise
        evidence.finalize(run_dir)
        print(f"wrote {run_dir / 'report.md'} and {run_dir / 'junit.xml'}; sealed {run_dir}")
    else:
        print(markdown, end="")
    if not args.fail_on_disagreement:
        return 0
    failed = warnings + report.gate_problems(loaded, built, args.expect)
    for line in failed:
        print(f"netfence report: gate: {line}", file=sys.stderr)
    if not failed:
        print("netfence report: gate: passed (every expected round recorded, no disagreement)", file=sys.stderr)
    return 1 if failed else 0
