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

from netfence.evidence import report
from netfence.evidence import report_run
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
                        help="write report.md, report.html and junit.xml into the open run folder and seal it for good (never overwrites)")
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
        built = report_run.write(run_dir, args.expect)
        print(f"wrote {', '.join(str(run_dir / name) for name in report_run.REPORT_FILES)}; sealed {run_dir}")
    else:
        built = report_run.read(run_dir, inspect=args.inspect)
        for line in built.warnings:
            print(f"netfence report: warning: {line}", file=sys.stderr)
        print(built.markdown, end="")
    if not args.fail_on_disagreement:
        return 0
    failed = built.gate(args.expect)
    for line in failed:
        print(f"netfence report: gate: {line}", file=sys.stderr)
    if not failed:
        print("netfence report: gate: passed (every expected round recorded, no disagreement)", file=sys.stderr)
    return 1 if failed else 0
