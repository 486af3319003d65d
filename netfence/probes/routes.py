"""Refuse to probe addresses that would leave the machine.

Why: a probe is real traffic. On a lab whose "internet" is a test host of its own, a mistyped
external address (or a pod IP that is not a pod here) would send packets through the default
gateway to somebody else's network. With ``netfence_probe_local_only`` set, every literal
target address is checked with the kernel's own route lookup (``ip -j route get``) before any
probe of the round runs: an address is local when it is one of this machine's own addresses, or
its route needs no gateway and leaves through one of the lab's own devices
(``netfence_probe_local_devices``: the pod bridge, the test host's veth). "No gateway" alone is
not enough: a neighbour on the machine's own LAN is on-link too. Names of Services, of the API's
``kubernetes.default`` and DNS lookups are resolved inside the pods by cluster DNS to Service
addresses that the node translates to pods; they are not checked here. An external target must
be a literal address.

The decision (``unlocal_reason``) is pure; ``route_lookup`` is the one function that runs ``ip``.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from netfence.errors import NetfenceError

RouteLookup = Callable[[str], Mapping[str, Any] | None]


def is_address(host: str) -> bool:
    """True for a literal IPv4 or IPv6 address (a name is resolved in the pod, not checked here)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def unlocal_reason(address: str, route: Mapping[str, Any] | None, devices: Collection[str]) -> str | None:
    """Why ``address`` is not local according to its route, or None when it is."""
    if route is None:
        return f"{address}: no route"
    kind = route.get("type", "unicast")
    if kind == "local":
        return None
    if kind != "unicast":
        return f"{address}: route type {kind}"
    if route.get("gateway"):
        return f"{address}: routed via gateway {route['gateway']} on {route.get('dev', '?')}"
    if route.get("dev") not in devices:
        return f"{address}: on-link on {route.get('dev', '?')}, which is not one of the lab's devices ({', '.join(sorted(devices)) or 'none set'})"
    return None


def route_lookup(address: str) -> Mapping[str, Any] | None:
    """The kernel's route for ``address`` (``ip -j route get``), or None when there is none."""
    try:
        done = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetfenceError(f"cannot check the route to {address}: {exc}") from exc
    if done.returncode != 0:
        return None
    try:
        routes = json.loads(done.stdout or "[]")
    except ValueError as exc:
        raise NetfenceError(f"cannot read `ip -j route get {address}`: {exc}") from exc
    return routes[0] if routes else None


def require_local(targets: Iterable[tuple[str, str]], devices: Collection[str],
                  lookup: RouteLookup = route_lookup) -> None:
    """Raise NetfenceError naming every target whose route leaves the machine.

    ``targets`` are ``(kind, host)`` pairs; ``devices`` the lab's own interfaces."""
    reasons = []
    for kind, host in sorted(set(targets)):
        if not is_address(host):
            if kind == "external":
                reasons.append(f"{host}: an external target must be a literal address (a name is resolved elsewhere)")
            continue
        if reason := unlocal_reason(host, lookup(host), devices):
            reasons.append(reason)
    if reasons:
        raise NetfenceError(
            "not probing: netfence_probe_local_only is set and these targets are not local to this machine ("
            + "; ".join(reasons) + "). Nothing was probed. Fix the target addresses or netfence_probe_local_devices, "
            "or unset netfence_probe_local_only where probing them is allowed."
        )
