"""``netfence plan``: validate, render and record the manifests in a new evidence run folder."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from netfence import __version__, evidence
from netfence.commands._inventory import add_arguments, plan_from_args, print_warnings
from netfence.commands._output import check_folder, created_folders, os_error, remove_tree
from netfence.validate import summary_lines


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan", help="validate and render into a new run folder; the last line printed is its path",
        description="Offline plan: validate the inventory, render its NetworkPolicies and write them to "
                    "<out>/<cluster>/<run-id>/manifests/<namespace>.yaml. Nothing is written for an invalid "
                    "inventory. The last line printed is the run folder.")
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
            run_dir = evidence.create_run_dir(out, cluster, stage="plan")
        except OSError as exc:
            raise os_error(out, exc, "create the run folder") from None
        try:
            evidence.write_json(run_dir, "run.json", {
                "run_id": run_dir.name,
                "cluster": cluster,
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "netfence_version": __version__,
                "inventory": os.path.abspath(args.inventory),
                "stage": "plan",
            })
            for relpath, text in plan.files.items():
                evidence.write_text(run_dir, relpath, text)
            evidence.seal(run_dir, finished="plan")
        except BaseException as exc:
            remove_tree(run_dir)  # created above, uniquely named: a half-written run is no evidence
            if isinstance(exc, OSError):
                raise os_error(run_dir, exc, "write the run folder") from None
            raise
    print_warnings(plan)
    for line in summary_lines(plan):
        print(line)
    print(run_dir.resolve())
    return 0
