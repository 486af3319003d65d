"""What a workload's pods look like on the cluster, for the workloads template.

A thin adapter over :mod:`netfence.inventory`: the template, the offline prediction and the probe
planner all call :func:`netfence.inventory.effective_pod_labels` and
:func:`netfence.inventory.effective_port_name`, so a policy that selects the labels the template
adds (``app.kubernetes.io/name``, ``app.kubernetes.io/managed-by``) or names the default port
``http`` means the same thing in the manifests, the prediction and the probes.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from netfence.inventory import effective_pod_labels, effective_port_name
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _check(workload: Any) -> None:
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"the netfence package is not importable: {IMPORT_ERROR}. Run 'make setup' and use the .venv interpreter.")
    if not isinstance(workload, dict) or not workload.get("name"):
        raise AnsibleFilterError(f"expected a workload mapping with a name, got {workload!r}")


def pod_labels(workload: Any, managed_by: str = "netfence") -> dict[str, str]:
    """``w | netfence_pod_labels(workloads_managed_by)``: every label of the workload's pods."""
    _check(workload)
    return effective_pod_labels(workload, str(managed_by))


def port_name(workload: Any) -> str:
    """``w | netfence_port_name``: the container port's name (``http`` unless the inventory names one)."""
    _check(workload)
    return effective_port_name(workload)


class FilterModule:
    """netfence_pod_labels, netfence_port_name."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_pod_labels": pod_labels, "netfence_port_name": port_name}
