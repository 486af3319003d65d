"""The one NetworkPolicy reader: a manifest in, every problem with its path and a typed
:class:`~netfence.policy.model.Policy` out.

The plan's validation (:mod:`netfence.inventory.validate`, layer 2) and the engine's model
(:func:`netfence.policy.model.parse_policy`, ``World.from_state``) both read policies here, so a policy
the plan accepts is a policy the engine evaluates, and the reverse. They used to have a grammar
each and disagreed: the model took the port ``"80"`` as 80 and a label key ``bad key!`` as a
key, both of which the API server rejects.

What is accepted follows the API server's ``ValidateNetworkPolicy``
(kubernetes ``pkg/apis/networking/validation``) and the field rules of ``networking.k8s.io/v1``:
names are RFC 1123 (a namespace a label, a policy a subdomain); label keys and values, selector
operators and their values as ``metav1validation.ValidateLabelSelector`` checks them; a port is
a number 1-65535 or an IANA service name (a quoted number is neither); ``endPort`` only with a
numeric ``port`` and not below it; protocols TCP, UDP or SCTP (absent means TCP); a peer is an
``ipBlock`` or selectors, never both; ``except`` entries lie strictly inside ``cidr`` and in its
family; ``policyTypes`` are Ingress and Egress. CIDRs may carry host bits, as the API accepts
them (``10.244.1.5/4`` means ``0.0.0.0/4``). The rules themselves live in :mod:`netfence.policy.syntax`;
this module walks a manifest and applies them.

Paths are relative to the manifest (``spec.ingress[0].ports[1].port``); callers prefix them (an
inventory path, a model position).
"""

from __future__ import annotations

from typing import Any, Mapping

from netfence.policy import syntax
from netfence.policy.model import IPBlock, Peer, Policy, PolicyPort, Rule
from netfence.policy.selectors import LabelSelector, Requirement

Problems = list[tuple[str, str]]
API_VERSION = "networking.k8s.io/v1"
_SPEC_FIELDS = ("podSelector", "ingress", "egress", "policyTypes")
_PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _unknown(problems: Problems, data: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in allowed:
            problems.append((f"{path}.{key}" if path else str(key),
                             f"unknown field {key!r} (expected {', '.join(allowed)})"))


def _items(problems: Problems, raw: Any, path: str) -> list[Any]:
    """A list field: absent or null is empty, anything else but a list is a problem."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append((path, f"must be a list, not {_kind(raw)}"))
        return []
    return raw


def read_labels(problems: Problems, raw: Any, path: str) -> dict[str, str]:
    """A label map (``metadata.labels``, ``matchLabels``, a pod's labels); bad entries are left out."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append((path, f"must be a mapping of label keys to values, not {_kind(raw)}"))
        return {}
    bad = syntax.labels(raw)
    problems.extend((f"{path}{suffix}", reason) for suffix, reason in bad)
    if bad:
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)
                and syntax.label_key(k) is None and syntax.label_value(v) is None}
    return dict(raw)


def read_selector(problems: Problems, raw: Any, path: str) -> LabelSelector:
    """A LabelSelector; absent or null selects everything (``{}``)."""
    if raw is None:
        return LabelSelector()
    if not isinstance(raw, Mapping):
        problems.append((path, f"a label selector must be a mapping (matchLabels, matchExpressions), not {_kind(raw)}"))
        return LabelSelector()
    _unknown(problems, raw, ("matchLabels", "matchExpressions"), path)
    labels = read_labels(problems, raw.get("matchLabels"), f"{path}.matchLabels")
    expressions = []
    for index, expr in enumerate(_items(problems, raw.get("matchExpressions"), f"{path}.matchExpressions")):
        at = f"{path}.matchExpressions[{index}]"
        if not isinstance(expr, Mapping):
            problems.append((at, f"must be a mapping with key, operator and values, not {_kind(expr)}"))
            continue
        _unknown(problems, expr, ("key", "operator", "values"), at)
        key, operator = expr.get("key"), expr.get("operator")
        reason = syntax.label_key(key)
        if reason:
            problems.append((f"{at}.key", reason))
        values = _items(problems, expr.get("values"), f"{at}.values")
        for vi, value in enumerate(values):
            reason = syntax.label_value(value)
            if reason:
                problems.append((f"{at}.values[{vi}]", reason))
        if operator not in syntax.SELECTOR_OPERATORS:
            problems.append((f"{at}.operator", f"operator {operator!r} is not one of {', '.join(syntax.SELECTOR_OPERATORS)}"))
        elif operator in ("In", "NotIn") and not values:
            problems.append((f"{at}.values", f"operator {operator} needs at least one value"))
        elif operator in ("Exists", "DoesNotExist") and values:
            problems.append((f"{at}.values", f"operator {operator} takes no values"))
        else:
            expressions.append(Requirement(str(key), operator, frozenset(v for v in values if isinstance(v, str))))
    return LabelSelector(tuple(sorted(labels.items())), tuple(expressions))


def _read_port(problems: Problems, raw: Any, path: str) -> PolicyPort | None:
    if not isinstance(raw, Mapping):
        problems.append((path, f"must be a mapping (protocol, port, endPort), not {_kind(raw)}"))
        return None
    _unknown(problems, raw, ("protocol", "port", "endPort"), path)
    before = len(problems)
    protocol = raw.get("protocol")
    if protocol is None:
        protocol = "TCP"
    elif (reason := syntax.protocol(protocol)) is not None:
        problems.append((f"{path}.protocol", reason))
    port, end = raw.get("port"), raw.get("endPort")
    if port is not None and (reason := syntax.port_value(port)) is not None:
        problems.append((f"{path}.port", reason))
    if (reason := syntax.end_port(port, end)) is not None:
        problems.append((f"{path}.endPort", reason))
    return PolicyPort(protocol, port, end) if len(problems) == before else None


def _read_ip_block(problems: Problems, raw: Any, path: str) -> IPBlock | None:
    if not isinstance(raw, Mapping):
        problems.append((path, f"must be a mapping (cidr, except), not {_kind(raw)}"))
        return None
    _unknown(problems, raw, ("cidr", "except"), path)
    outer, reason = syntax.cidr(raw.get("cidr"))
    if reason:
        problems.append((f"{path}.cidr", reason))
    excepts = []
    for index, item in enumerate(_items(problems, raw.get("except"), f"{path}.except")):
        if outer is None:
            continue
        reason = syntax.except_inside(outer, item)
        if reason:
            problems.append((f"{path}.except[{index}]", reason))
        else:
            inner, _ = syntax.cidr(item)
            excepts.append(inner)
    if outer is None:
        return None
    return IPBlock(outer, tuple(e for e in excepts if e is not None), str(raw.get("cidr")))


def _read_peer(problems: Problems, raw: Any, path: str) -> Peer | None:
    if not isinstance(raw, Mapping):
        problems.append((path, f"must be a mapping (podSelector, namespaceSelector or ipBlock), not {_kind(raw)}"))
        return None
    _unknown(problems, raw, _PEER_FIELDS, path)
    # The three fields are pointers in the API: JSON null is the same as absent. An explicit
    # `namespaceSelector: null` therefore keeps the peer namespace-local; it is not `{}`.
    peer = {k: v for k, v in raw.items() if v is not None}
    selectors = "podSelector" in peer or "namespaceSelector" in peer
    if "ipBlock" in peer:
        if selectors:
            problems.append((path, "ipBlock cannot be combined with podSelector or namespaceSelector in one peer"))
            return None
        block = _read_ip_block(problems, peer["ipBlock"], f"{path}.ipBlock")
        return Peer(ip_block=block) if block is not None else None
    if not selectors:
        problems.append((path, "a peer needs podSelector, namespaceSelector or ipBlock"))
        return None
    pods = read_selector(problems, peer["podSelector"], f"{path}.podSelector") if "podSelector" in peer else None
    namespaces = (read_selector(problems, peer["namespaceSelector"], f"{path}.namespaceSelector")
                  if "namespaceSelector" in peer else None)
    return Peer(pods, namespaces)


def _read_rules(problems: Problems, raw: Any, path: str, peer_field: str) -> tuple[Rule, ...]:
    rules = []
    for index, rule in enumerate(_items(problems, raw, path)):
        at = f"{path}[{index}]"
        rule = {} if rule is None else rule
        if not isinstance(rule, Mapping):
            problems.append((at, f"must be a mapping ({peer_field}, ports), not {_kind(rule)}"))
            continue
        _unknown(problems, rule, (peer_field, "ports"), at)
        peers = [_read_peer(problems, p, f"{at}.{peer_field}[{i}]")
                 for i, p in enumerate(_items(problems, rule.get(peer_field), f"{at}.{peer_field}"))]
        ports = [_read_port(problems, p, f"{at}.ports[{i}]")
                 for i, p in enumerate(_items(problems, rule.get("ports"), f"{at}.ports"))]
        rules.append(Rule(tuple(p for p in peers if p is not None), tuple(p for p in ports if p is not None)))
    return tuple(rules)


def read_policy(raw: Any) -> tuple[Policy | None, Problems]:
    """Read one NetworkPolicy manifest: the typed policy (None when any problem was found) and
    every problem as ``(path in the manifest, reason)``."""
    problems: Problems = []
    if not isinstance(raw, Mapping):
        return None, [("", f"a NetworkPolicy must be a mapping, not {_kind(raw)}")]
    if raw.get("kind", "NetworkPolicy") != "NetworkPolicy":
        problems.append(("kind", f"expected NetworkPolicy, got {raw.get('kind')!r}"))
    if raw.get("apiVersion", API_VERSION) != API_VERSION:
        problems.append(("apiVersion", f"expected {API_VERSION}, got {raw.get('apiVersion')!r}"))
    meta = raw.get("metadata")
    if not isinstance(meta, Mapping):
        problems.append(("metadata", f"must be a mapping with name and namespace, not {_kind(meta)}"))
        meta = {}
    name, namespace = meta.get("name"), meta.get("namespace")
    if (reason := syntax.dns_subdomain(name)) is not None:
        problems.append(("metadata.name", f"policy name {reason}"))
    if (reason := syntax.dns_label(namespace)) is not None:
        problems.append(("metadata.namespace", f"namespace {reason}"))
    read_labels(problems, meta.get("labels"), "metadata.labels")
    spec = raw.get("spec")
    spec = {} if spec is None else spec
    if not isinstance(spec, Mapping):
        problems.append(("spec", f"must be a mapping, not {_kind(spec)}"))
        return None, problems
    _unknown(problems, spec, _SPEC_FIELDS, "spec")
    selector = read_selector(problems, spec.get("podSelector"), "spec.podSelector")
    ingress = _read_rules(problems, spec.get("ingress"), "spec.ingress", "from")
    egress = _read_rules(problems, spec.get("egress"), "spec.egress", "to")
    types = _items(problems, spec.get("policyTypes"), "spec.policyTypes")
    for index, value in enumerate(types):
        if value not in syntax.POLICY_TYPES:
            problems.append((f"spec.policyTypes[{index}]", f"{value!r} is not one of {', '.join(syntax.POLICY_TYPES)}"))
    if problems:
        return None, problems
    if not types:
        # API server defaulting: Ingress always, Egress when the policy has egress rules.
        affects_ingress, affects_egress = True, bool(egress)
    else:
        affects_ingress, affects_egress = "Ingress" in types, "Egress" in types
    return Policy(str(namespace), str(name), selector, ingress, egress, affects_ingress, affects_egress, raw=raw), problems


def first_problem(problems: Problems, where: str) -> str:
    """One line for code that stops at the first problem (the engine's model): ``where: path: reason``
    and how many more there are."""
    path, reason = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}{': ' + path if path else ''}: {reason}{more}"
