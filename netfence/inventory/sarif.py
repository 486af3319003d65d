"""Inventory problems as SARIF 2.1.0, so code scanning shows them on the inventory's own lines.

Every problem names an inventory path (``netfence_namespaces[1].allow_from_namespaces[0].ports[0].port``);
here that path is walked through the YAML node graph of the group_vars file that defines the
variable, down to the deepest node that exists, and its line and column become the result's
location. A path into a rendered policy (``...extra_policies[0].spec.ingress[0]``) lands on the
inventory lines that produced it, because the renderer keeps those paths.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from netfence import __version__, loading
from netfence.errors import NetfenceError
from netfence.inventory.schema import Problem

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_STEP = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]")
_LEVELS = {"error": "error", "warning": "warning"}


def steps(path: str) -> list[str | int]:
    """``a[1].b['c/d'].e`` -> ``["a", 1, "b", "c/d", "e"]``; stops at the first part it cannot read."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None or match.end() == pos:
            break
        out.append(match[1] if match[1] is not None else int(match[2]) if match[2] is not None else match[3])
        pos = match.end()
    return out


def _child(node: Any, step: str | int) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        return next((value for key, value in node.value if getattr(key, "value", None) == step), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def read_nodes(files: Iterable[Path]) -> list[tuple[Path, list[Any]]]:
    """Each file's YAML node graph, read once; a file YAML cannot compose (a JSON file with
    escapes libyaml refuses) gives no nodes: its problems then point at the first file."""
    out = []
    for file in files:
        try:
            out.append((file, loading.yaml_nodes(file, "group_vars file")))
        except NetfenceError:
            out.append((file, []))
    return out


def locate(path: str, nodes: Sequence[tuple[Path, list[Any]]]) -> tuple[Path, int, int] | None:
    """File, line and column (1-based) of the deepest node of ``path`` in the file that defines its
    variable (the last such file, as Ansible lets a later file win); None when no file defines it."""
    parts = steps(path)
    if not parts or not isinstance(parts[0], str):
        return None
    found = None
    for file, documents in nodes:
        for document in documents:
            node = _child(document, parts[0])
            if node is None:
                continue
            for step in parts[1:]:
                deeper = _child(node, step)
                if deeper is None:
                    break
                node = deeper
            found = (file, node.start_mark.line + 1, node.start_mark.column + 1)
    return found


def to_sarif(problems: Sequence[Problem], files: Sequence[Path], base: Path | None = None) -> dict[str, Any]:
    """A SARIF log of one run; artifact URIs are relative to ``base`` (default: the current folder,
    which for code scanning is the repository root)."""
    root = Path(base or os.getcwd())
    rules = sorted({p.rule for p in problems})
    nodes = read_nodes(files)
    results = []
    for problem in problems:
        where = locate(problem.path, nodes) or ((files[0], 1, 1) if files else None)
        result: dict[str, Any] = {
            "ruleId": problem.rule,
            "level": _LEVELS.get(problem.severity, "note"),
            "message": {"text": f"{problem.path}: {problem.message}"},
        }
        if where is not None:
            file, line, column = where
            relative = Path(os.path.relpath(file, root)).as_posix()
            # code scanning places repository-relative paths; a file outside the folder gets its absolute URI
            uri = Path(file).resolve().as_uri() if relative.startswith("../") else relative
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                         "region": {"startLine": line, "startColumn": column}}}]
        results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "netfence", "version": __version__,
                                "rules": [{"id": rule, "shortDescription": {"text": f"netfence check: {rule}"}}
                                          for rule in rules]}},
            "results": results,
        }],
    }
