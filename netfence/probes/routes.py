"""Refuse to probe addresses that would leave the machine.

Why: a probe is real traffic. On a lab whose "internet" is a test host of its own, a mistyped
external address (or a pod IP that is not a pod here) would send packets through the default
gateway to somebody else's network. With ``netfence_probe_local_only`` set, every literal
target address is checked with the kernel's own route lookup (``ip -j route get``) before any
probe of the round runs: an address is local when the route needs no gateway (a local address,
a pod behind the node's bridge, a test host on a veth of ours). Names (Services, the API's
``kubernetes.default``, cluster DNS) are resolved inside the pods by cluster DNS to Service
addresses that the node translates to pods; they are not checked here.

The decision (``unlocal_reason``) is pure; ``route_lookup`` is the one function that runs ``ip``.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Iterable, Mapping
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


def unlocal_reason(address: str, route: Mapping[str, Any] | None) -> str | None:
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


def require_local(addresses: Iterable[str], lookup: RouteLookup = route_lookup) -> None:
    """Raise NetfenceError naming every address whose route leaves the machine."""
    reasons = [reason for address in sorted(set(addresses)) if is_address(address)
               if (reason := unlocal_reason(address, lookup(address)))]
    if reasons:
        raise NetfenceError(
            "not probing: netfence_probe_local_only is set and these targets are not local to this machine ("
            + "; ".join(reasons) + "). Nothing was probed. Fix the target addresses, or unset "
            "netfence_probe_local_only where probing them is allowed."
        )
