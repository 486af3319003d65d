"""Checks the policies role runs on the manifests it is about to apply.

A thin adapter over :func:`netfence.inventory.checks.namespaces_without_dns`, so the apply stage refuses
exactly what the plan stage reports (egress restricted without a DNS rule), with the engine's
semantics, instead of a second and weaker rendition of the rule in Jinja.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError


def dns_gaps(manifests: Any, namespaces: Any = None, pod_subnet: Any = "") -> list[str]:
    """``policies | netfence_dns_gaps(netfence_namespaces, netfence_pod_subnet)``: namespaces
    restricting egress without DNS (pods get addresses from ``pod_subnet``, as in the plan)."""
    try:  # imported here: validation pulls in jsonschema, which other filters' users need not load
        from netfence.errors import NetfenceError
        from netfence.inventory.checks import namespaces_without_dns
    except ImportError as exc:
        raise AnsibleFilterError(f"the netfence package is not importable: {exc}. Run 'make setup' and use the .venv interpreter.") from None
    if not isinstance(manifests, list):
        raise AnsibleFilterError(f"netfence_dns_gaps expects a list of NetworkPolicy manifests, got {type(manifests).__name__}")
    try:
        return namespaces_without_dns(namespaces, manifests, pod_subnet=str(pod_subnet or "") or None)
    except NetfenceError as exc:
        raise AnsibleFilterError(f"netfence_dns_gaps: {exc}") from None


class FilterModule:
    """netfence_dns_gaps."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_dns_gaps": dns_gaps}
