"""``netfence render``: print or write the NetworkPolicy manifests of a valid inventory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netfence.commands._inventory import add_arguments, plan_from_args, print_warnings
from netfence.commands._output import check_folder, write_files


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render", help="render per-namespace NetworkPolicy manifests (validated first)",
        description="Render netfence_namespaces into one NetworkPolicy YAML file per namespace. Nothing is "
                    "written for an invalid inventory.")
    add_arguments(parser)
    parser.add_argument("--out", "-o", help="write <namespace>.yaml files into this folder (default: stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_folder(Path(args.out))
    plan, _ = plan_from_args(args)
    if args.out is None:
        sys.stdout.write("".join(plan.files.values()))
        for problem in plan.warnings:
            print(problem, file=sys.stderr)
        return 0
    out = Path(args.out)
    check_folder(out)
    write_files(out, {Path(relpath).name: text for relpath, text in plan.files.items()})
    print_warnings(plan)
    print(f"{len(plan.files)} files written to {out}")
    return 0
