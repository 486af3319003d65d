"""The first two layers of checking a plan: what the API server would refuse.

Layer 3, the mistakes the API server accepts, asks the engine (:mod:`netfence.inventory.checks`);
:func:`netfence.plan.build_plan` runs all three and reports them together with inventory paths:

1. the official OpenAPI schema of the targeted Kubernetes version (kubernetes-validate's bundled,
   strict schema files, loaded once per version: its CLI re-reads them per call, which is 20x
   slower);
2. what the schema does not check but the API server rejects: port ranges, ``endPort``,
   protocols, CIDRs and ``except``, label and name syntax, selector operators. This is the one
   NetworkPolicy reader (:mod:`netfence.policy.reader`), which the engine's model uses too, so
   the plan and the engine accept exactly the same policies;
3. the mistakes engineers make that the API server accepts (:mod:`netfence.inventory.checks`).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import importlib_resources
import jsonschema
import referencing
import referencing.jsonschema

from netfence.errors import NetfenceError
from netfence.inventory.schema import Problem
from netfence.policy.model import Policy
from netfence.policy.reader import read_policy
from netfence.inventory.render import RenderedPolicy, manifest_path

VERSION_VARIABLE = "netfence_kubernetes_version"
_SCHEMA_ROOT = "kubernetes-json-schema"


# --- layer 1: the official schema -------------------------------------------------------------

def _schema_versions() -> dict[tuple[int, int], str]:
    root = importlib_resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT)
    found = {}
    for entry in root.iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if match:
            found[(int(match[1]), int(match[2]))] = entry.name
    return found


def schema_minor(kubernetes_version: Any) -> tuple[int, int]:
    """``v1.35.8`` → ``(1, 35)``; a clear error for a version with no bundled schema."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)(\.\d+)?", str(kubernetes_version).strip())
    if not match:
        raise NetfenceError(f"{VERSION_VARIABLE}: {kubernetes_version!r} is not a Kubernetes version like v1.35.8")
    minor = (int(match[1]), int(match[2]))
    versions = _schema_versions()
    if minor not in versions:
        known = ", ".join(f"{a}.{b}" for a, b in sorted(versions))
        # Ansible hands the module str(1.30) == "1.3": the CLI reads a YAML number the same way, and says why
        hint = (f"; an unquoted {minor[0]}.{minor[1]}0 is the YAML number {minor[0]}.{minor[1]}: quote versions, "
                f'e.g. "v{minor[0]}.{minor[1]}0.0"' if minor[1] < 10 and f"{minor[0]}.{minor[1]}0" in known else "")
        raise NetfenceError(f"{VERSION_VARIABLE}: no NetworkPolicy schema for Kubernetes {minor[0]}.{minor[1]} "
                            f"in kubernetes-validate (bundled: {known}){hint}")
    return minor


@functools.lru_cache(maxsize=8)
def schema_validator(minor: tuple[int, int]) -> jsonschema.protocols.Validator:
    """Build the NetworkPolicy validator for one Kubernetes minor version, once per process."""
    folder = importlib_resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT, _schema_versions()[minor])
    schema = json.loads(folder.joinpath("networkpolicy-networking-v1.json").read_text(encoding="utf-8"))
    definitions = json.loads(folder.joinpath("_definitions.json").read_text(encoding="utf-8"))
    registry: referencing.Registry = referencing.Registry().with_resources([
        (schema.get("$id", ""), referencing.Resource.from_contents(schema)),
        (definitions["$id"], referencing.Resource.from_contents(definitions)),
    ])
    return jsonschema.Draft202012Validator(schema, registry=registry)


def check_schema(policy: RenderedPolicy, validator: jsonschema.protocols.Validator) -> list[Problem]:
    """Every schema violation of one manifest, at its inventory path."""
    problems = []
    for error in sorted(validator.iter_errors(policy.manifest), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        path = policy.inventory_path(manifest_path(error.absolute_path))
        problems.append(Problem(path, f"schema: {message}", rule="schema"))
    return problems


# --- layer 2: what the API server rejects but the schema lets through ---------------------------
# The one NetworkPolicy reader (netfence.policy.reader) applies these rules for the plan and for
# the engine alike; here its problems get inventory paths.

def read_rendered(policy: RenderedPolicy) -> tuple[Policy | None, list[Problem]]:
    """The policy as the engine reads it, and its API-server problems at inventory paths."""
    parsed, found = read_policy(policy.manifest)
    return parsed, [Problem(policy.inventory_path(where), reason, rule="api-server") for where, reason in found]


def not_reported(problems: list[Problem], reported: list[Problem]) -> list[Problem]:
    """``problems`` minus those the schema already ``reported``: one at the same path, or an
    unknown field whose object the schema named ("Additional properties are not allowed").
    One message per mistake is enough."""
    paths = {r.path for r in reported}
    return [p for p in problems if p.path not in paths
            and not (p.message.startswith("unknown field") and p.path.rpartition(".")[0] in paths)]
