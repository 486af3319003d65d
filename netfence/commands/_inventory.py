"""Shared by the inventory commands: read an inventory folder's group_vars without Ansible.

The CLI reads ``group_vars/all/*.yml`` as plain YAML; Jinja expressions stay unrendered strings,
which is fine because validation and rendering only use plain values (``netfence_namespaces``,
``netfence_kubernetes_version``, ``netfence_cluster_name``, the subnets and the API server
endpoint; a templated one is left to the plan stage, which sees it rendered).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from netfence import loading
from netfence.errors import NetfenceError
from netfence.inventory.schema import load_variables
from netfence.plan import Plan, build_plan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inventory", "-i", default="inventories/lab",
                        help="inventory folder with group_vars/all/*.yml (default: %(default)s)")
    parser.add_argument("--kubernetes-version", help="override netfence_kubernetes_version (selects the schema)")


# The files Ansible's host_group_vars reads for the group ``all`` (ansible.cfg's
# yaml_valid_extensions default), so the CLI and the playbooks see the same variables.
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")


def _folder_files(folder: Path) -> list[Path]:
    """One folder as Ansible's DataLoader._get_dir_vars_files lists it: names sorted, hidden and
    backup (``~``) entries skipped, sub-folders without an extension read in turn (symlinks
    followed), files with a known extension or none."""
    found: list[Path] = []
    for name in sorted(os.listdir(folder)):
        if name.startswith(".") or name.endswith("~"):
            continue
        path, ext = folder / name, os.path.splitext(name)[1]
        if path.is_dir():
            if not ext:
                found += _folder_files(path)
        elif (path.exists() or path.is_symlink()) and ext in VARS_EXTENSIONS:
            found.append(path)  # a dangling link is listed, so reading it names it
    return found


def group_vars_files(root: Path) -> list[Path]:
    """The files Ansible loads for the group ``all``, in its order (DataLoader.find_vars_files):
    the first of ``group_vars/all``, ``all.yml``, ``all.yaml``, ``all.json`` that exists, a
    folder read as above."""
    base = root / "group_vars"
    for ext in VARS_EXTENSIONS:
        candidate = base / f"all{ext}"
        if candidate.exists():
            return _folder_files(candidate) if candidate.is_dir() else [candidate]
    return []


def read_group_vars(inventory: str | Path) -> dict[str, Any]:
    """Merge the ``all`` group's variable files (sorted, later files win), as Ansible does."""
    root = Path(inventory)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise NetfenceError(f"inventory folder {root} {what} (fix: pass the folder that holds group_vars/, e.g. -i inventories/lab)")
    files = group_vars_files(root)
    if not files:
        raise NetfenceError(f"{root} has no group_vars/all/*.yml files")
    merged: dict[str, Any] = {}
    for path in files:
        data = loading.load_data(loading.read_text(path, "inventory file"), path)  # JSON first, as Ansible reads
        if data is None:
            continue
        if not isinstance(data, dict):
            raise NetfenceError(f"{path}: must hold a mapping of variables, not {type(data).__name__} "
                                "(fix: write `name: value` lines)")
        merged.update(data)
    return merged


def plan_from_args(args: argparse.Namespace) -> tuple[Plan, dict[str, Any]]:
    """Validate and render the inventory named on the command line; refuse one with errors."""
    variables = read_group_vars(args.inventory)
    if "netfence_namespaces" not in variables:
        read = ", ".join(str(p.relative_to(args.inventory)) for p in group_vars_files(Path(args.inventory)))
        raise NetfenceError(f"{args.inventory}: netfence_namespaces is not defined in the files read ({loading.clip(read)}) "
                            "(fix: define it in group_vars/all/namespaces.yml; a folder there is read as a folder "
                            "of variable files, as Ansible reads it)")
    version = args.kubernetes_version or variables.get("netfence_kubernetes_version")
    if not version:
        raise NetfenceError("netfence_kubernetes_version is not set in the inventory (group_vars/all/cluster.yml); "
                            "pass --kubernetes-version")
    plan = build_plan(load_variables(variables), version,
                      pod_subnet=variables.get("netfence_pod_subnet"),
                      service_subnet=variables.get("netfence_service_subnet"),
                      api_server_endpoint=variables.get("netfence_api_server_endpoint"),
                      variable_names=variables,
                      probes=variables.get("netfence_probes"),
                      external_namespaces=variables.get("netfence_external_namespaces"))
    plan.raise_for_errors()
    return plan, variables


def print_warnings(plan: Plan) -> None:
    for problem in plan.warnings:
        print(problem)
