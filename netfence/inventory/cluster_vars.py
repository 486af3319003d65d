"""The inventory's cluster-wide variables: which ``netfence_*`` names exist, and their values.

Ansible accepts any variable name, so a typo (``netfence_kubernetes_versoin``) is silently ignored
and a role default is used instead; and a malformed subnet or endpoint used to fail only in the
prediction, after the run folder had been written. :func:`check` finds both before anything is
written. ``netfence validate`` and the plan stage (``netfence_plan``) both reach it through
:func:`netfence.plan.build_plan`, so the two agree.
"""

from __future__ import annotations

import difflib
import ipaddress
from typing import Iterable

from netfence.policy import syntax
from netfence.errors import NetfenceError
from netfence.inventory.schema import Problem

# Inventory variables a user sets in group_vars; docs/inventory.md and docs/providers.md describe
# each (tests/core/test_cluster_vars.py keeps this list, the docs and the roles in step).
INVENTORY_VARIABLES = (
    "netfence_api_server_endpoint", "netfence_api_server_port", "netfence_bin_dir",
    "netfence_blast_radius_external", "netfence_cache_dir", "netfence_calico_encapsulation",
    "netfence_calico_install_method", "netfence_calico_version", "netfence_cluster_name",
    "netfence_cluster_workers", "netfence_cni", "netfence_evidence_dir", "netfence_external_namespaces", "netfence_image_pull_policy",
    "netfence_instance", "netfence_kube_context", "netfence_kubeconfig", "netfence_kubernetes_version",
    "netfence_local_state_dir", "netfence_minikube_driver", "netfence_namespaces", "netfence_pod_subnet",
    "netfence_probe_image", "netfence_probe_local_devices", "netfence_probe_local_only", "netfence_probes",
    "netfence_provider", "netfence_service_subnet", "netfence_teardown_delete_foreign",
)
# Given on the command line (-e) or passed between stages, never in group_vars; known, so not warned about.
RUN_VARIABLES = (
    "netfence_run_dir", "netfence_gather_facts", "netfence_project_dir", "netfence_planned_manifests",
    "netfence_rollback_run_dir", "netfence_last_run_file",
)
KNOWN = frozenset(INVENTORY_VARIABLES + RUN_VARIABLES)
PREFIX = "netfence_"


def parse_endpoint(text: str) -> tuple[str, int]:
    """``"ip:port"`` (``"[v6]:port"`` for IPv6) as ``(ip, port)``; raises NetfenceError when malformed."""
    host, sep, port = str(text).rpartition(":")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        # "fd00::1:6443" is itself an IPv6 address: without brackets the port is a guess
        raise NetfenceError(f"api server endpoint {text!r}: write an IPv6 address in brackets, e.g. [fd00::1]:6443")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise NetfenceError(f"api server endpoint {text!r} must be ip:port, e.g. 172.18.0.2:6443") from None
    if not sep or not 1 <= number <= 65535:
        raise NetfenceError(f"api server endpoint {text!r} must be ip:port with a port 1-65535")
    return host, number


def _templated(value: object) -> bool:
    """A Jinja expression the CLI reads unrendered (Ansible renders it before the plan stage sees it)."""
    return isinstance(value, str) and "{{" in value


def unknown_names(names: Iterable[str]) -> list[Problem]:
    """A warning for every ``netfence_*`` name netfence does not read, with the nearest known one."""
    problems = []
    for name in sorted({str(n) for n in names}):
        if not name.startswith(PREFIX) or name in KNOWN:
            continue
        # compared without the shared prefix, which would make every netfence_* name look alike
        near = difflib.get_close_matches(name[len(PREFIX):], [v[len(PREFIX):] for v in INVENTORY_VARIABLES], n=1,
                                         cutoff=0.75)
        hint = f"did you mean {PREFIX}{near[0]}?" if near else "see docs/inventory.md for the variables netfence reads"
        problems.append(Problem(name, f"netfence does not read this variable, so it has no effect; {hint}", "warning", rule="unknown-variable"))
    return problems


def _subnet(variable: str, value: object) -> list[Problem]:
    _, reason = syntax.subnet(value)
    return [Problem(variable, f"{reason}; write the network address and prefix, e.g. 10.244.0.0/16", rule="cluster-variable")] if reason else []


def check(*, pod_subnet: object = None, service_subnet: object = None, api_server_endpoint: object = None,
          names: Iterable[str] = ()) -> list[Problem]:
    """Errors for a malformed subnet or API server endpoint, warnings for unknown variable names.

    Empty and templated values are not checked (unset means unknown; Ansible renders the others).
    """
    problems = unknown_names(names)
    for variable, value in (("netfence_pod_subnet", pod_subnet), ("netfence_service_subnet", service_subnet)):
        if value not in (None, "") and not _templated(value):
            problems += _subnet(variable, value)
    if api_server_endpoint not in (None, "") and not _templated(api_server_endpoint):
        try:
            parse_endpoint(str(api_server_endpoint))
        except NetfenceError as exc:
            problems.append(Problem("netfence_api_server_endpoint", str(exc), rule="cluster-variable"))
    return problems
