"""Kubernetes syntax rules the OpenAPI schema does not check.

The API server enforces these when an object is created, so a plan that only ran the JSON
schema would pass locally and fail on the cluster. Each function returns ``None`` when the value
is fine, or a short reason a user can act on; callers add the inventory path.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Mapping

PROTOCOLS = ("TCP", "UDP", "SCTP")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
POLICY_TYPES = ("Ingress", "Egress")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def dns_label(value: Any) -> str | None:
    """RFC 1123 label (namespace names, port-less names): at most 63 lowercase alphanumerics or '-'."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > 63:
        return f"{value!r} is longer than 63 characters (RFC 1123 label)"
    if not _DNS_LABEL.match(value):
        return (f"{value!r} is not an RFC 1123 label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit")
    return None


def dns_subdomain(value: Any) -> str | None:
    """RFC 1123 subdomain (object names such as NetworkPolicy names): dot-separated labels, at most 253."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > 253:
        return f"{value!r} is longer than 253 characters (RFC 1123 subdomain)"
    if not all(_DNS_LABEL.match(part) for part in value.split(".")):
        return (f"{value!r} is not an RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    return None


_VALID_KEYS: set[str] = set()
_VALID_VALUES: set[str] = set()


def _remembered(valid: set[str], check: Callable[[Any], str | None], value: Any) -> str | None:
    """``check(value)``, skipped for a string already found valid: a large model repeats a
    handful of label keys and values on thousands of pods."""
    if isinstance(value, str) and value in valid:
        return None
    reason = check(value)
    if reason is None and len(valid) < 10_000:
        valid.add(value)
    return reason


def label_key(key: Any) -> str | None:
    """Label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    return _remembered(_VALID_KEYS, _label_key, key)


def _label_key(key: Any) -> str | None:
    if not isinstance(key, str) or not key:
        return "label key must be a non-empty string"
    prefix, slash, name = key.rpartition("/")
    if slash:
        reason = dns_subdomain(prefix)
        if reason:
            return f"label key {key!r} has an invalid prefix: {reason}"
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return (f"label key {key!r} is invalid: the name part must be 1-63 characters of letters, digits, "
                "'-', '_' or '.', starting and ending with a letter or digit")
    return None


def label_value(value: Any) -> str | None:
    """Label value: empty, or at most 63 characters like a label name. Numbers must be quoted."""
    return _remembered(_VALID_VALUES, _label_value, value)


def _label_value(value: Any) -> str | None:
    if not isinstance(value, str):
        return (f"label value {value!r} must be a string (quote it in YAML: "
                f"{value!r} is read as {type(value).__name__})")
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return (f"label value {value!r} is invalid: at most 63 characters of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def labels(mapping: Any) -> list[tuple[str, str]]:
    """Problems of a label map as (suffix, reason) pairs; the suffix is appended to the map's path."""
    if not isinstance(mapping, Mapping):
        return [("", f"must be a mapping of label keys to values, not {type(mapping).__name__}")]
    found = []
    for key, value in mapping.items():
        reason = label_key(key)
        if reason:
            found.append((f"[{key!r}]" if isinstance(key, str) else f"[{key}]", reason))
            continue
        reason = label_value(value)
        if reason:
            found.append((f".{key}" if "." not in key and "/" not in key else f"[{key!r}]", reason))
    return found


_PORT_NAMES: dict[str, bool] = {}


def port_name(name: Any) -> str | None:
    """IANA_SVC_NAME, as the API validates named ports (a container port's ``name``, a policy's
    named ``port``): 1-15 lowercase letters, digits and single '-', at least one letter, no '-'
    at either end. Memoised: a large model repeats a handful of names thousands of times."""
    if not isinstance(name, str):
        return f"a port name must be a string, not {type(name).__name__}"
    ok = _PORT_NAMES.get(name)
    if ok is None:
        ok = (len(name) <= 15 and bool(_IANA_SVC_NAME.match(name)) and "--" not in name
              and re.search("[a-z]", name) is not None)
        if len(_PORT_NAMES) < 10_000:
            _PORT_NAMES[name] = ok
    if ok:
        return None
    if name.isdigit():
        return f"{name!r} is a quoted number: write the port unquoted, or use a port name"
    return (f"{name!r} is not a valid port name: at most 15 lowercase letters, digits and single '-', "
            "with at least one letter")


def port_value(port: Any) -> str | None:
    """A NetworkPolicy port: an integer 1-65535 or an IANA service name (a container port's name)."""
    if isinstance(port, bool):
        return "must be a number 1-65535 or a port name, not a boolean"
    if isinstance(port, int):
        if not 1 <= port <= 65535:
            return f"{port} is out of range: a port is 1-65535"
        return None
    if isinstance(port, str):
        return port_name(port)
    return f"must be a number 1-65535 or a port name, not {type(port).__name__}"


def end_port(port: Any, end: Any) -> str | None:
    """endPort is only valid with a numeric port and must not be below it."""
    if end is None:
        return None
    if isinstance(end, bool) or not isinstance(end, int):
        return f"endPort must be a number, not {type(end).__name__}"
    if not 1 <= end <= 65535:
        return f"endPort {end} is out of range: a port is 1-65535"
    if not isinstance(port, int) or isinstance(port, bool):
        return "endPort is only allowed together with a numeric port (not a port name, and not without a port)"
    if end < port:
        return f"endPort {end} is lower than port {port}"
    return None


def protocol(value: Any) -> str | None:
    """TCP, UDP or SCTP, upper case as the API requires."""
    if value not in PROTOCOLS:
        return f"protocol {value!r} is not one of {', '.join(PROTOCOLS)} (upper case)"
    return None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def cidr(value: Any) -> tuple[Network | None, str | None]:
    """A NetworkPolicy ``ipBlock`` CIDR: host bits are tolerated (as the API does:
    ``10.244.1.5/4`` means ``0.0.0.0/4``) but an address without a prefix is not."""
    if not isinstance(value, str) or "/" not in value:
        return None, f"{value!r} is not a CIDR (address/prefix, e.g. 10.0.0.0/8)"
    try:
        return ipaddress.ip_network(value, strict=False), None
    except ValueError as exc:
        return None, f"{value!r} is not a valid CIDR: {exc}"


def subnet(value: Any) -> tuple[Network | None, str | None]:
    """A cluster's pod or Service subnet (or an inventory CIDR netfence compares with one): host
    bits must be zero, so a typo such as ``10.96.0.1/12`` is caught rather than read as its network."""
    try:
        return ipaddress.ip_network(str(value), strict=True), None
    except ValueError as exc:
        return None, f"{str(value)!r} is not a network in CIDR notation ({exc})"


def except_inside(outer: Network, value: Any) -> str | None:
    """An ``except`` entry must be a CIDR strictly inside the block's ``cidr`` (API server rule)."""
    inner, reason = cidr(value)
    if reason:
        return reason
    assert inner is not None
    if inner.version != outer.version:
        return f"{value!r} is IPv{inner.version} but the cidr {outer} is IPv{outer.version}"
    if not inner.subnet_of(outer) or inner.prefixlen <= outer.prefixlen:  # type: ignore[arg-type]
        return f"{value!r} is not strictly inside the cidr {outer}"
    return None
