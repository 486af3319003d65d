"""Validation of a plan before anything can touch a cluster.

Three layers, all reported together with inventory paths:

1. the official OpenAPI schema of the targeted Kubernetes version (kubernetes-validate's bundled,
   strict schema files, loaded once per version: its CLI re-reads them per call, which is 20x
   slower);
2. what the schema does not check but the API server rejects (:mod:`netfence.syntax`): port
   ranges, ``endPort``, protocols, CIDRs and ``except``, label and name syntax, selector operators;
3. the mistakes engineers make that the API server accepts: egress restricted without DNS, a
   policy written for the Service port instead of the container port (80 vs 3000), ingress from
   the whole internet to workload ports, a namespace left without default-deny, and (given the
   cluster's subnets) an internet-egress block that also covers the pod or Service subnet.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

import importlib_resources
import jsonschema
import referencing
import referencing.jsonschema

from netfence import syntax
from netfence.errors import NetfenceError
from netfence.inventory import Inventory, InventoryError, Namespace, Problem, Workload, parse
from netfence.render import RenderedPolicy, manifest_path, render, render_files

VERSION_VARIABLE = "netfence_kubernetes_version"
_SCHEMA_ROOT = "kubernetes-json-schema"
_ANY_POD = Workload(name="(any pod)", labels={})


@dataclass
class Plan:
    """A rendered inventory and everything found while checking it."""

    inventory: Inventory
    rendered: dict[str, list[RenderedPolicy]]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def files(self) -> dict[str, str]:
        return render_files(self.rendered)

    def policy_count(self) -> int:
        return sum(len(p) for p in self.rendered.values())

    def raise_for_errors(self) -> None:
        """Refuse an inventory with errors: nothing may be written or applied from it."""
        if self.errors:
            raise InventoryError(self.problems)


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
        raise NetfenceError(f"{VERSION_VARIABLE}: no NetworkPolicy schema for Kubernetes {minor[0]}.{minor[1]} "
                            f"in kubernetes-validate (bundled: {known})")
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
        problems.append(Problem(path, f"schema: {message}"))
    return problems


# --- layer 2: what the API server rejects but the schema lets through ---------------------------

def _selector_problems(selector: Any, where: str) -> Iterator[tuple[str, str]]:
    if selector is None:
        return
    if not isinstance(selector, dict):
        yield where, "a selector must be a mapping (matchLabels / matchExpressions)"
        return
    for suffix, reason in syntax.labels(selector.get("matchLabels") or {}):
        yield f"{where}.matchLabels{suffix}", reason
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return
    for index, expr in enumerate(expressions):
        at = f"{where}.matchExpressions[{index}]"
        if not isinstance(expr, dict):
            continue
        reason = syntax.label_key(expr.get("key"))
        if reason:
            yield f"{at}.key", reason
        operator, values = expr.get("operator"), expr.get("values")
        if operator not in syntax.SELECTOR_OPERATORS:
            yield f"{at}.operator", f"operator {operator!r} is not one of {', '.join(syntax.SELECTOR_OPERATORS)}"
        elif operator in ("In", "NotIn") and not values:
            yield f"{at}.values", f"operator {operator} needs at least one value"
        elif operator in ("Exists", "DoesNotExist") and values:
            yield f"{at}.values", f"operator {operator} takes no values"
        if isinstance(values, list):
            for vi, value in enumerate(values):
                reason = syntax.label_value(value)
                if reason:
                    yield f"{at}.values[{vi}]", reason


def _port_problems(ports: Any, where: str) -> Iterator[tuple[str, str]]:
    if not isinstance(ports, list):
        return
    for index, item in enumerate(ports):
        at = f"{where}.ports[{index}]"
        if not isinstance(item, dict):
            continue
        if "protocol" in item:
            reason = syntax.protocol(item["protocol"])
            if reason:
                yield f"{at}.protocol", reason
        if "port" in item:
            reason = syntax.port_value(item["port"])
            if reason:
                yield f"{at}.port", reason
        if "endPort" in item:
            reason = syntax.end_port(item.get("port"), item["endPort"])
            if reason:
                yield f"{at}.endPort", reason


def _peer_problems(peer: Any, at: str) -> Iterator[tuple[str, str]]:
    if not isinstance(peer, dict):
        return
    yield from _selector_problems(peer.get("podSelector"), f"{at}.podSelector")
    yield from _selector_problems(peer.get("namespaceSelector"), f"{at}.namespaceSelector")
    block = peer.get("ipBlock")
    if block is None:
        return
    if "podSelector" in peer or "namespaceSelector" in peer:
        yield at, "ipBlock cannot be combined with podSelector or namespaceSelector in one peer"
    if not isinstance(block, dict):
        return
    outer, reason = syntax.cidr(block.get("cidr"))
    if reason:
        yield f"{at}.ipBlock.cidr", reason
    excepts = block.get("except") or []
    if outer is not None and isinstance(excepts, list):
        for index, item in enumerate(excepts):
            reason = syntax.except_inside(outer, item)
            if reason:
                yield f"{at}.ipBlock.except[{index}]", reason


def policy_problems(manifest: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """API-server rules of one NetworkPolicy manifest as (manifest path, reason) pairs."""
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    reason = syntax.dns_subdomain(metadata.get("name"))
    if reason:
        yield "metadata.name", f"policy name {reason}"
    for suffix, reason in syntax.labels(metadata.get("labels") or {}):
        yield f"metadata.labels{suffix}", reason
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return
    yield from _selector_problems(spec.get("podSelector"), "spec.podSelector")
    types = spec.get("policyTypes")
    if isinstance(types, list):
        for index, value in enumerate(types):
            if value not in syntax.POLICY_TYPES:
                yield f"spec.policyTypes[{index}]", f"{value!r} is not one of Ingress, Egress"
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            at = f"spec.{direction}[{index}]"
            if not isinstance(rule, dict):
                continue
            yield from _port_problems(rule.get("ports"), at)
            peers = rule.get(peers_key)
            if isinstance(peers, list):
                for pi, peer in enumerate(peers):
                    yield from _peer_problems(peer, f"{at}.{peers_key}[{pi}]")


def check_policy(policy: RenderedPolicy) -> list[Problem]:
    return [Problem(policy.inventory_path(where), reason) for where, reason in policy_problems(policy.manifest)]


# --- layer 3: engineers' mistakes ------------------------------------------------------------

def selects(selector: Any, labels: dict[str, str]) -> bool:
    """Label-selector semantics (an empty selector selects everything)."""
    if not isinstance(selector, dict):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in syntax.SELECTOR_OPERATORS:
            return False
    return True


def policy_types(spec: dict[str, Any]) -> list[str]:
    """policyTypes as the API server defaults them when omitted."""
    types = spec.get("policyTypes")
    if isinstance(types, list) and types:
        return types
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _rules(spec: dict[str, Any], direction: str) -> list[tuple[int, dict[str, Any]]]:
    rules = spec.get(direction)
    return [(i, r) for i, r in enumerate(rules) if isinstance(r, dict)] if isinstance(rules, list) else []


def _covers(port_item: dict[str, Any], number: int, protocol: str) -> bool:
    if port_item.get("protocol", "TCP") != protocol:
        return False
    port = port_item.get("port")
    if port is None:
        return True
    if not isinstance(port, int):
        return False
    end = port_item.get("endPort")
    return port <= number <= (end if isinstance(end, int) else port)


def _reaches_dns(ns: Namespace, peer: Any) -> bool:
    """Whether an egress peer can be the cluster DNS (ipBlocks are given the benefit of the doubt)."""
    if not isinstance(peer, dict):
        return False
    if "ipBlock" in peer:
        return True
    dns_ns_labels = {"kubernetes.io/metadata.name": ns.dns.namespace}
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], dns_ns_labels):
            return False
    elif ns.name != ns.dns.namespace:
        return False
    return selects(peer.get("podSelector", {}), ns.dns.pod_labels)


def _allows_dns(ns: Namespace, spec: dict[str, Any]) -> bool:
    for _, rule in _rules(spec, "egress"):
        ports = rule.get("ports")
        if ports and not any(isinstance(p, dict) and _covers(p, 53, "UDP") for p in ports):
            continue
        peers = rule.get("to")
        if not peers or any(_reaches_dns(ns, peer) for peer in peers):
            return True
    return False


def _egress_without_dns(ns: Namespace, policies: list[RenderedPolicy]) -> list[Problem]:
    if ns.acknowledge.egress_without_dns:
        return []
    stranded, restricting = [], None
    for subject in ns.workloads or (_ANY_POD,):
        applying = [p for p in policies if selects(p.manifest["spec"].get("podSelector"), subject.labels)
                    and "Egress" in policy_types(p.manifest["spec"])]
        if applying and not any(_allows_dns(ns, p.manifest["spec"]) for p in applying):
            stranded.append(subject.name)
            restricting = restricting or applying[0]
    if not stranded or restricting is None:
        return []
    return [Problem(restricting.origin,
                    f"egress of {', '.join(stranded)} in namespace {ns.name} is restricted (by {restricting.name}) "
                    "but no egress rule allows DNS (UDP 53), so name lookups will time out. Add the "
                    "'allow-dns-egress' profile, or set acknowledge.egress_without_dns: true if that is intended")]


def _namespaces_matching(inventory: Inventory, own: Namespace, peer: dict[str, Any]) -> list[Namespace]:
    if "namespaceSelector" not in peer:
        return [own]
    return [ns for ns in inventory.namespaces if selects(peer["namespaceSelector"], ns.all_labels)]


def _targets(inventory: Inventory, ns: Namespace, spec: dict[str, Any], direction: str,
             rule: dict[str, Any]) -> list[tuple[Namespace, Workload]]:
    """Workloads whose ports a rule's ``ports`` refer to: the policy's pods (ingress) or the peers (egress)."""
    if direction == "ingress":
        return [(ns, w) for w in ns.workloads if selects(spec.get("podSelector"), w.labels)]
    found = []
    for peer in rule.get("to") or []:
        if not isinstance(peer, dict) or "ipBlock" in peer:
            continue
        for other in _namespaces_matching(inventory, ns, peer):
            found += [(other, w) for w in other.workloads if selects(peer.get("podSelector", {}), w.labels)]
    return found


def _service_port_mix_up(inventory: Inventory, ns: Namespace, policy: RenderedPolicy) -> list[Problem]:
    problems = []
    spec = policy.manifest["spec"]
    for direction in ("ingress", "egress"):
        for ri, rule in _rules(spec, direction):
            targets = _targets(inventory, ns, spec, direction, rule)
            ports = rule.get("ports") if isinstance(rule.get("ports"), list) else []
            for pi, item in enumerate(ports):
                if not isinstance(item, dict):
                    continue
                if isinstance(item.get("port"), str) and targets and not any(
                        w.port_name == item["port"] for _, w in targets):
                    names = ", ".join(f"{o.name}/{w.name}" for o, w in targets)
                    problems.append(Problem(
                        policy.inventory_path(f"spec.{direction}[{ri}].ports[{pi}].port"),
                        f"no selected pod ({names}) has a container port named {item['port']!r}, so this rule "
                        "matches no port of theirs", "warning"))
                if not isinstance(item.get("port"), int):
                    continue
                protocol = item.get("protocol", "TCP")
                if any(w.container_port is not None and _covers(item, w.container_port, w.protocol)
                       for _, w in targets):
                    continue
                culprits = [(o, w) for o, w in targets if w.service_port == item["port"] and w.protocol == protocol]
                if not culprits:
                    continue
                names = ", ".join(f"{o.name}/{w.name}" for o, w in culprits)
                listen = ", ".join(f"{w.container_port}" + (f" (named {w.port_name!r})" if w.port_name else "")
                                   for _, w in culprits)
                problems.append(Problem(
                    policy.inventory_path(f"spec.{direction}[{ri}].ports[{pi}].port"),
                    f"port {item['port']} is the Service port of {names}, but NetworkPolicy ports match the pod's "
                    f"container port (the Service has already translated the port when the policy applies); "
                    f"the selected pods listen on {listen}. Use the container port or its name"))
    return problems


def _world_ingress(ns: Namespace, policy: RenderedPolicy) -> list[Problem]:
    if ns.acknowledge.world_ingress:
        return []
    spec = policy.manifest["spec"]
    if "Ingress" not in policy_types(spec):
        return []
    targets = [w for w in ns.workloads if selects(spec.get("podSelector"), w.labels)]
    if not targets:
        return []
    problems = []
    for ri, rule in _rules(spec, "ingress"):
        ports = rule.get("ports") if isinstance(rule.get("ports"), list) else []
        exposed = [w for w in targets if not ports or any(
            isinstance(p, dict) and ((w.container_port is not None and _covers(p, w.container_port, w.protocol))
                                     or (w.port_name is not None and p.get("port") == w.port_name)) for p in ports)]
        if not exposed:
            continue
        names = ", ".join(w.name for w in exposed)
        peers = rule.get("from")
        if not peers:
            problems.append(Problem(policy.inventory_path(f"spec.ingress[{ri}]"),
                                    f"this ingress rule has no 'from', so it admits every source, the internet "
                                    f"included, to {names} in {ns.name}; name the sources, or set "
                                    "acknowledge.world_ingress: true if the exposure is intended"))
            continue
        for pi, peer in enumerate(peers):
            block = peer.get("ipBlock") if isinstance(peer, dict) else None
            if isinstance(block, dict) and syntax.is_world(block.get("cidr")):
                problems.append(Problem(
                    policy.inventory_path(f"spec.ingress[{ri}].from[{pi}].ipBlock.cidr"),
                    f"{block['cidr']} admits the whole internet to {names} in {ns.name}; narrow the CIDR, or set "
                    "acknowledge.world_ingress: true if the exposure is intended"))
    return problems


def _is_deny_all_ingress(policy: RenderedPolicy) -> bool:
    spec = policy.manifest["spec"]
    return spec.get("podSelector") == {} and "Ingress" in policy_types(spec) and not spec.get("ingress")


def _missing_default_deny(ns: Namespace, policies: list[RenderedPolicy]) -> list[Problem]:
    if any(_is_deny_all_ingress(p) for p in policies):
        return []
    return [Problem(f"{ns.path}.profiles",
                    f"namespace {ns.name} has no default-deny-ingress: its pods that no policy selects accept "
                    "connections from everywhere. Add 'default-deny-ingress' to profiles", "warning")]


def _unknown_namespaces(inventory: Inventory, ns: Namespace) -> list[Problem]:
    known = {n.name for n in inventory.namespaces}
    problems = []
    for entry in ns.allow_from_namespaces:
        for index, name in enumerate(entry.namespaces):
            if name not in known:
                problems.append(Problem(f"{entry.path}.namespaces[{index}]",
                                        f"namespace {name!r} is not in the inventory; check the spelling", "warning"))
    for entry in ns.allow_from_pods:
        if entry.namespace and entry.namespace not in known:
            problems.append(Problem(f"{entry.path}.namespace",
                                    f"namespace {entry.namespace!r} is not in the inventory; check the spelling",
                                    "warning"))
    return problems


def check_mistakes(inventory: Inventory, rendered: dict[str, list[RenderedPolicy]]) -> list[Problem]:
    """The semantic checks that need the whole inventory (workloads, namespace labels)."""
    problems = []
    for ns in inventory.namespaces:
        policies = rendered.get(ns.name, [])
        problems += _egress_without_dns(ns, policies)
        for policy in policies:
            problems += _service_port_mix_up(inventory, ns, policy)
            problems += _world_ingress(ns, policy)
        problems += _missing_default_deny(ns, policies)
        problems += _unknown_namespaces(inventory, ns)
    return problems


def internet_egress_subnets(inventory: Inventory, pod_subnet: str | None = None,
                            service_subnet: str | None = None) -> list[Problem]:
    """Warn when ``allow-internet-egress`` would also open the cluster's own subnets.

    An ipBlock matches pod IPs too: with the default ``0.0.0.0/0`` minus RFC 1918, a pod subnet
    outside the except list (100.64.0.0/10, say) lets every pod reach every pod on the internet
    ports, which is rarely meant. A warning, not an error: some clusters do route pods that way on
    purpose; add the subnet to ``internet_egress.except`` to close it. Unparsable subnets are
    skipped (the preflight role reports them).
    """
    subnets = []
    for label, text in (("pod subnet (netfence_pod_subnet)", pod_subnet), ("service subnet (netfence_service_subnet)", service_subnet)):
        if not text:
            continue
        try:
            subnets.append((label, ipaddress.ip_network(str(text), strict=True)))
        except ValueError:
            continue
    problems = []
    for ns in inventory.namespaces:
        if "allow-internet-egress" not in ns.profiles:
            continue
        try:
            block = ipaddress.ip_network(ns.internet_egress.cidr, strict=True)
            excepts = [ipaddress.ip_network(e, strict=True) for e in ns.internet_egress.except_]
        except ValueError:
            continue  # reported by the syntax layer
        for label, subnet in subnets:
            if subnet.version != block.version or not subnet.overlaps(block):  # type: ignore[arg-type]
                continue
            if any(e.version == subnet.version and subnet.subnet_of(e) for e in excepts):  # type: ignore[arg-type]
                continue
            path = ns.internet_egress.path or ns.profile_path("allow-internet-egress")
            problems.append(Problem(path, f"internet egress {block} in {ns.name} also covers the {label} {subnet}: pods "
                                          f"could reach cluster addresses on the internet ports; add {subnet} to "
                                          "internet_egress.except", "warning"))
    return problems


# --- the whole pipeline ----------------------------------------------------------------------

def build_plan(namespaces: Any, kubernetes_version: Any, pod_subnet: str | None = None,
               service_subnet: str | None = None) -> Plan:
    """Parse, render and check; raise :class:`InventoryError` if the inventory cannot even be parsed.

    The returned :class:`Plan` may still hold errors (call :meth:`Plan.raise_for_errors`); it holds
    every problem of every layer, so a user sees them all at once.
    """
    early: list[Problem] = []
    minor = None
    try:
        minor = schema_minor(kubernetes_version)
    except NetfenceError as exc:
        early.append(Problem(VERSION_VARIABLE, str(exc).split(": ", 1)[1]))
    try:
        inventory = parse(namespaces)
    except InventoryError as exc:
        raise InventoryError(early + exc.problems) from None
    if early:
        raise InventoryError(early)
    assert minor is not None
    rendered = render(inventory)
    validator = schema_validator(minor)
    problems: list[Problem] = []
    for policies in rendered.values():
        for policy in policies:
            problems += check_schema(policy, validator)
            problems += check_policy(policy)
    problems += check_mistakes(inventory, rendered)
    problems += internet_egress_subnets(inventory, pod_subnet, service_subnet)
    return Plan(inventory, rendered, problems)


def summary_lines(plan: Plan) -> list[str]:
    """A few lines for humans: per namespace, how many policies and of which profiles."""
    lines = []
    for name, policies in plan.rendered.items():
        lines.append(f"{name}: {len(policies)} policies ({', '.join(p.name for p in policies) or 'none'})")
    lines.append(f"{plan.policy_count()} policies in {len(plan.rendered)} namespaces; "
                 f"{len(plan.errors)} errors, {len(plan.warnings)} warnings")
    return lines
