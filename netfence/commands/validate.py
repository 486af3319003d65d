"""``netfence validate``: check an inventory (schema, API-server rules, common mistakes)."""

from __future__ import annotations

import argparse

from netfence.commands._inventory import add_arguments, plan_from_args, print_warnings
from netfence.inventory.schema import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate", help="check an inventory; exit 2 and list every problem if it is invalid",
        description="Validate netfence_namespaces: the Kubernetes schema of netfence_kubernetes_version, what the "
                    "API server would reject, and common mistakes. Every problem names its inventory path.")
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan, _ = plan_from_args(args)
    print_warnings(plan)
    print(f"{args.inventory}: valid ({plan.policy_count()} policies in {len(plan.rendered)} namespaces, "
          f"{plural(len(plan.warnings), 'warning')})")
    return 0
