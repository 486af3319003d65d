"""``netfence report --run-dir DIR``: the Markdown report and JUnit XML from recorded evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from netfence import evidence, evidence_shapes, junit, report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="Markdown report and JUnit XML of a run folder (no cluster needed)",
        description="Build the security-review report (before vs after vs predicted, disagreements with "
                    "likely causes, blast radius, coverage) and JUnit XML from a run folder's evidence.",
    )
    parser.add_argument("--run-dir", required=True, type=Path, help="evidence/<cluster>/<run-id>")
    parser.add_argument("--write", action="store_true", help="write report.md and junit.xml into the run folder (never overwrites)")
    parser.add_argument("--fail-on-disagreement", action="store_true", help="exit 1 when observed and expected/predicted disagree")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = report.load_run(args.run_dir)
    evidence_shapes.check_run(loaded)
    built = report.build(loaded)
    markdown = report.to_markdown(built)
    phases = dict(loaded["phases"])
    if loaded["blast"]:
        phases["blast-radius"] = loaded["blast"]
    if args.write:
        evidence.write_text(args.run_dir, "report.md", markdown)
        evidence.write_text(args.run_dir, "junit.xml", junit.build(phases))
        print(f"wrote {args.run_dir / 'report.md'} and {args.run_dir / 'junit.xml'}")
    else:
        print(markdown, end="")
    return 1 if args.fail_on_disagreement and built["disagreements"] else 0
