"""``netfence validate``: check an inventory (schema, API-server rules, common mistakes)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from netfence.commands._inventory import add_arguments, group_vars_files, plan_from_args, print_warnings
from netfence.inventory.schema import InventoryError, plural


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate", help="check an inventory; exit 2 and list every problem if it is invalid",
        description="Validate netfence_namespaces: the Kubernetes schema of netfence_kubernetes_version, what the "
                    "API server would reject, and common mistakes. Every problem names its inventory path. "
                    "--format sarif prints them as SARIF 2.1.0 for code scanning, each on its inventory line.",
        epilog="examples:\n  netfence validate -i inventories/lab\n"
               "  netfence validate -i inventories/lab --format sarif > netfence.sarif",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--format", choices=("text", "sarif"), default="text",
                        help="text (default), or SARIF 2.1.0 on stdout (exit status 2 still means errors)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.format == "sarif":
        return _sarif(args)
    plan, _ = plan_from_args(args)
    print_warnings(plan)
    print(f"{args.inventory}: valid ({plan.policy_count()} policies in {len(plan.rendered)} namespaces, "
          f"{plural(len(plan.warnings), 'warning')})")
    return 0


def _sarif(args: argparse.Namespace) -> int:
    from netfence.inventory.sarif import to_sarif

    try:
        problems = plan_from_args(args)[0].problems
    except InventoryError as exc:
        problems = exc.problems
    files = group_vars_files(Path(args.inventory))
    json.dump(to_sarif(problems, files), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 2 if any(p.severity == "error" for p in problems) else 0
