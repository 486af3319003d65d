"""Network checks for the preflight role: CIDR syntax, overlaps with the host's networks.

Why a filter and not ``ansible.utils.ipaddr``: ``ansible.utils`` needs the ``netaddr`` package,
which netfence does not install; Python's :mod:`ipaddress` answers the same questions exactly.
The functions are pure (facts in, plain data out) so the tests call them directly.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ansible.errors import AnsibleFilterError

from netfence.policy import syntax

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: str) -> Network:
    """Parse a CIDR strictly (host bits must be zero), so typos such as 10.96.0.1/12 are caught."""
    net, reason = syntax.subnet(value)
    if net is None:
        raise AnsibleFilterError(reason)
    return net


def cidr_problem(value: Any) -> str:
    """Return why ``value`` is not a usable CIDR, or an empty string when it is (the plan's
    check of netfence_pod_subnet, :func:`netfence.policy.syntax.subnet`)."""
    return syntax.subnet(value)[1] or ""


def host_networks(facts: dict[str, Any]) -> list[str]:
    """The IPv4/IPv6 networks of the host's interfaces, from gathered facts.

    Reads ``facts['interfaces']`` and each ``facts[<iface>]`` (``ipv4``, ``ipv4_secondaries``,
    ``ipv6``), the shape ``ansible.builtin.setup`` returns. Interfaces without addresses are
    skipped; the result is sorted and without duplicates.
    """
    found: set[str] = set()
    for name in facts.get("interfaces", []) or []:
        info = facts.get(str(name).replace("-", "_")) or facts.get(str(name)) or {}
        entries: list[dict[str, Any]] = []
        ipv4 = info.get("ipv4")
        if isinstance(ipv4, dict):
            entries.append(ipv4)
        entries.extend(e for e in info.get("ipv4_secondaries", []) or [] if isinstance(e, dict))
        for entry in entries:
            address, netmask = entry.get("address"), entry.get("netmask")
            if address and netmask:
                found.add(str(ipaddress.ip_interface(f"{address}/{netmask}").network))
        for entry in info.get("ipv6", []) or []:
            if isinstance(entry, dict) and entry.get("address") and entry.get("prefix"):
                found.add(str(ipaddress.ip_interface(f"{entry['address']}/{entry['prefix']}").network))
    return sorted(found)


def overlaps(cidr: str, networks: list[str]) -> list[str]:
    """The members of ``networks`` that share at least one address with ``cidr``."""
    target = _network(cidr)
    hits = []
    for item in networks or []:
        other = ipaddress.ip_network(str(item), strict=False)
        if other.version == target.version and target.overlaps(other):
            hits.append(str(other))
    return hits


def subnet_of(inner: str, outer: str) -> bool:
    """True when every address of ``inner`` lies inside ``outer`` (Calico pool inside pod CIDR)."""
    a, b = _network(inner), _network(outer)
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]


class FilterModule:
    """netfence_cidr_problem, netfence_host_networks, netfence_overlaps, netfence_subnet_of."""

    def filters(self) -> dict[str, Any]:
        return {
            "netfence_cidr_problem": cidr_problem,
            "netfence_host_networks": host_networks,
            "netfence_overlaps": overlaps,
            "netfence_subnet_of": subnet_of,
        }
