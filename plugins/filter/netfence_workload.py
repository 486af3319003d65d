"""The demo workloads' manifests for the workloads role, rendered by :mod:`netfence.inventory.workloads`.

A thin adapter: the manifests come from the lab model (:mod:`netfence.inventory.lab`) that the prediction
and the probe planner read too, so the labels and named ports deployed are the ones predicted.
"""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from netfence.inventory import lab
    from netfence.inventory import workloads
    from netfence.errors import NetfenceError
    from netfence.inventory.schema import parse
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _lab_and_options(namespaces: Any, options: Any) -> tuple[Any, Any]:
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"the netfence package is not importable: {IMPORT_ERROR}. Run 'make setup' and use the .venv interpreter.")
    if not isinstance(options, dict):
        raise AnsibleFilterError(f"expected the workload options as a mapping, got {type(options).__name__}")
    try:
        # Ansible hands filters its own tagged str/int subclasses, which YAML cannot represent:
        # plain JSON types in, so the manifests hold plain values.
        namespaces, options = json.loads(json.dumps([namespaces, options]))
        return lab.build(parse(namespaces)), workloads.Options(**options)
    except TypeError as exc:
        raise AnsibleFilterError(f"netfence workload options: {exc}") from None
    except NetfenceError as exc:  # an inventory the plan would refuse: every problem, with its path
        raise AnsibleFilterError(f"netfence_namespaces: {exc}") from None


def workload_manifests(namespaces: Any, options: Any) -> dict[str, str]:
    """``netfence_namespaces | netfence_workload_manifests(options)``: namespace -> manifest YAML."""
    built, opts = _lab_and_options(namespaces, options)
    return {ns: workloads.to_yaml(docs) for ns, docs in workloads.manifests(built, opts).items()}


def workload_objects(namespaces: Any, options: Any) -> list[dict[str, str]]:
    """``netfence_namespaces | netfence_workload_objects(options)``: the Deployments and Services
    the manifests hold, as ``{kind, api_version, namespace, name}`` (what must not be someone else's)."""
    built, opts = _lab_and_options(namespaces, options)
    return [{"kind": doc["kind"], "api_version": doc["apiVersion"], "namespace": doc["metadata"]["namespace"],
             "name": doc["metadata"]["name"]}
            for docs in workloads.manifests(built, opts).values() for doc in docs]


def unpinned_images(namespaces: Any, options: Any) -> list[str]:
    """``netfence_namespaces | netfence_unpinned_images(options)``: images no digest pins."""
    built, opts = _lab_and_options(namespaces, options)
    return workloads.unpinned_images(built, opts)


class FilterModule:
    """netfence_workload_manifests, netfence_workload_objects, netfence_unpinned_images."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_workload_manifests": workload_manifests, "netfence_workload_objects": workload_objects,
                "netfence_unpinned_images": unpinned_images}
