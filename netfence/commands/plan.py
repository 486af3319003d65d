"""``netfence plan``: the plan ``make plan`` makes, written into a new evidence run folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from netfence.commands._inventory import add_arguments, plan_from_args, print_warnings
from netfence.commands._output import check_folder, created_folders, os_error
from netfence.plan import write_run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan", help="validate, render and predict into a new run folder; the last line printed is its path",
        description="Offline plan, the same as `make plan`: validate the inventory, render its NetworkPolicies, "
                    "predict reachability, blast radius and coverage, and write it all into "
                    "<out>/<cluster>/<run-id>/ (manifests/, predicted/, run.json, SHA256SUMS). Nothing is "
                    "written for an invalid inventory. The last line printed is the run folder.",
        epilog="example: netfence plan -i inventories/lab --out evidence")
    add_arguments(parser)
    parser.add_argument("--out", "-o", default="evidence", help="evidence root folder (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    check_folder(out)
    plan, variables = plan_from_args(args)
    cluster = str(variables.get("netfence_cluster_name") or "netfence")
    with created_folders(out / cluster):
        try:
            written = write_run(plan, cluster=cluster, root=out, inventory=os.path.abspath(args.inventory))
        except OSError as exc:
            raise os_error(out, exc, "write the run folder") from None
    print_warnings(plan)
    for line in plan.summary_lines() + plan.prediction_lines():
        print(line)
    assert written.run_dir is not None
    print(written.run_dir.resolve())
    return 0
