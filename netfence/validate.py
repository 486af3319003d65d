"""Validation of a plan before anything can touch a cluster.

Three layers, all reported together with inventory paths:

1. the official OpenAPI schema of the targeted Kubernetes version (kubernetes-validate's bundled,
   strict schema files, loaded once per version: its CLI re-reads them per call, which is 20x
   slower);
2. what the schema does not check but the API server rejects: port ranges, ``endPort``,
   protocols, CIDRs and ``except``, label and name syntax, selector operators. This is the one
   NetworkPolicy reader (:mod:`netfence.policy_reader`), which the engine's model uses too, so
   the plan and the engine accept exactly the same policies;
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
from typing import Any, Iterable

import importlib_resources
import jsonschema
import referencing
import referencing.jsonschema

from netfence import cluster_vars, syntax
from netfence.errors import NetfenceError
from netfence.inventory import Inventory, InventoryError, Namespace, Problem, Workload, parse, plural
from netfence.labels import NS_NAME_LABEL
from netfence.model import IPBlock, Peer, Policy, PolicyPort, Rule, parse_policy
from netfence.policy_reader import read_policy
from netfence.render import RenderedPolicy, manifest_path, render, render_files
from netfence.wellknown import DNS_PORTS

VERSION_VARIABLE = "netfence_kubernetes_version"
_SCHEMA_ROOT = "kubernetes-json-schema"


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
        # Ansible hands the module str(1.30) == "1.3": the CLI reads a YAML number the same way, and says why
        hint = (f"; an unquoted {minor[0]}.{minor[1]}0 is the YAML number {minor[0]}.{minor[1]}: quote versions, "
                f'e.g. "v{minor[0]}.{minor[1]}0.0"' if minor[1] < 10 and f"{minor[0]}.{minor[1]}0" in known else "")
        raise NetfenceError(f"{VERSION_VARIABLE}: no NetworkPolicy schema for Kubernetes {minor[0]}.{minor[1]} "
                            f"in kubernetes-validate (bundled: {known}){hint}")
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
# The one NetworkPolicy reader (netfence.policy_reader) applies these rules for the plan and for
# the engine alike; here its problems get inventory paths.

def read_rendered(policy: RenderedPolicy) -> tuple[Policy | None, list[Problem]]:
    """The policy as the engine reads it, and its API-server problems at inventory paths."""
    parsed, found = read_policy(policy.manifest)
    return parsed, [Problem(policy.inventory_path(where), reason) for where, reason in found]


def policy_problems(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """API-server rules of one NetworkPolicy manifest as (manifest path, reason) pairs."""
    return read_policy(manifest)[1]


def _not_reported(problems: list[Problem], reported: list[Problem]) -> list[Problem]:
    """``problems`` minus those the schema already ``reported``: one at the same path, or an
    unknown field whose object the schema named ("Additional properties are not allowed").
    One message per mistake is enough."""
    paths = {r.path for r in reported}
    return [p for p in problems if p.path not in paths
            and not (p.message.startswith("unknown field") and p.path.rpartition(".")[0] in paths)]


# --- layer 3: engineers' mistakes ------------------------------------------------------------
# These checks read the policies as the engine does (netfence.model), so "selects", "restricts
# egress" and "covers a port" mean exactly what they mean in a prediction.

Checked = tuple[RenderedPolicy, Policy]


def _selected(policy: Policy, workloads: Iterable[Workload]) -> list[Workload]:
    return [w for w in workloads if policy.pod_selector.matches(w.labels)]


def _workload_covered(entry: PolicyPort, workload: Workload) -> bool:
    """The entry admits the workload's container port, by number or by the port's name."""
    if workload.container_port is not None and entry.covers(workload.protocol, workload.container_port):
        return True
    return workload.port_name is not None and entry.port == workload.port_name


def _reaches_dns(ns: Namespace, peer: Peer) -> bool:
    """Whether an egress peer can be the cluster DNS (ipBlocks are given the benefit of the doubt)."""
    if peer.ip_block is not None:
        return True
    if peer.namespace_selector is None:
        if ns.name != ns.dns.namespace:
            return False
    elif not peer.namespace_selector.matches({NS_NAME_LABEL: ns.dns.namespace}):
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(ns.dns.pod_labels)


# Port names that mean UDP 53 on the DNS pods (CoreDNS names its ports; a policy may use the name).
_DNS_UDP_NAMES = {p["name"] for p in DNS_PORTS if p["protocol"] == "UDP" and p["containerPort"] == 53}


def _covers_dns(entry: PolicyPort) -> bool:
    return entry.covers("UDP", 53) or (entry.protocol == "UDP" and entry.port in _DNS_UDP_NAMES)


def _allows_dns(ns: Namespace, policy: Policy) -> bool:
    for rule in policy.egress:
        if rule.ports and not any(_covers_dns(entry) for entry in rule.ports):
            continue
        if not rule.peers or any(_reaches_dns(ns, peer) for peer in rule.peers):
            return True
    return False


def _selected_pod(policy: Policy) -> Workload | None:
    """A pod the policy selects, built from its selector: the pods the inventory does not declare
    count too. None when the selector's expressions leave no simple example (the declared
    workloads are then all there is to check)."""
    labels = dict(policy.pod_selector.match_labels)
    for req in policy.pod_selector.expressions:
        if req.operator == "In" and req.key not in labels:
            labels[req.key] = min(req.values)
        elif req.operator == "Exists" and req.key not in labels:
            labels[req.key] = "any"
    if not policy.pod_selector.matches(labels):
        return None
    return Workload(name="pods " + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "any pod", labels=labels)


def _dns_stranded(ns: Namespace, policies: list[Policy]) -> tuple[list[str], Policy | None]:
    """Pods of ``ns`` whose egress some policy restricts while none of the policies selecting them
    allows DNS, and the first such policy. The pods: the declared workloads, and an example pod of
    every egress-restricting policy that selects none of them (pods the inventory does not declare)."""
    subjects = list(ns.workloads)
    for policy in policies:
        if policy.affects_egress and not any(policy.pod_selector.matches(w.labels) for w in subjects):
            example = _selected_pod(policy)
            if example is not None:
                subjects.append(example)
    stranded, restricting = [], None
    for subject in subjects:
        applying = [p for p in policies if p.affects_egress and p.pod_selector.matches(subject.labels)]
        if applying and not any(_allows_dns(ns, p) for p in applying):
            stranded.append(subject.name)
            restricting = restricting or applying[0]
    return stranded, restricting


def _egress_without_dns(ns: Namespace, policies: list[Checked]) -> list[Problem]:
    if ns.acknowledge.egress_without_dns:
        return []
    stranded, restricting = _dns_stranded(ns, [p for _, p in policies])
    if restricting is None:
        return []
    origin = next(r for r, p in policies if p is restricting)
    return [Problem(origin.origin,
                    f"egress of {', '.join(stranded)} in namespace {ns.name} is restricted (by {origin.name}) "
                    "but no egress rule allows DNS (UDP 53), so name lookups will time out. Add the "
                    "'allow-dns-egress' profile, or set acknowledge.egress_without_dns: true if that is intended")]


def namespaces_without_dns(namespaces: Any, manifests: Iterable[Any]) -> list[str]:
    """The apply stage's guard: namespaces whose manifests restrict egress without allowing DNS.

    The same check as the plan's, on the manifests about to be applied; ``namespaces`` is the
    inventory's ``netfence_namespaces`` (DNS location, workloads, acknowledgements), and a
    namespace the manifests use but the inventory does not declare gets the defaults.
    """
    by_ns: dict[str, list[Policy]] = {}
    for index, manifest in enumerate(manifests):
        policy = parse_policy(manifest, f"manifests[{index}]")
        by_ns.setdefault(policy.namespace, []).append(policy)
    if not by_ns:
        return []
    declared = list(namespaces or [])
    known = {entry.get("name") for entry in declared if isinstance(entry, dict)}
    inventory = parse(declared + [{"name": name} for name in sorted(by_ns) if name not in known])
    gaps = []
    for ns in inventory.namespaces:
        if ns.name in by_ns and not ns.acknowledge.egress_without_dns and _dns_stranded(ns, by_ns[ns.name])[1]:
            gaps.append(ns.name)
    return gaps


def _targets(inventory: Inventory, ns: Namespace, policy: Policy, direction: str,
             rule: Rule) -> list[tuple[Namespace, Workload]]:
    """Workloads whose ports a rule's ``ports`` refer to: the policy's pods (ingress) or the peers (egress)."""
    if direction == "ingress":
        return [(ns, w) for w in _selected(policy, ns.workloads)]
    found = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            continue
        others = [ns] if peer.namespace_selector is None else [
            n for n in inventory.namespaces if peer.namespace_selector.matches(n.all_labels)]
        for other in others:
            found += [(other, w) for w in other.workloads if peer.pod_selector is None or peer.pod_selector.matches(w.labels)]
    return found


def _service_port_mix_up(inventory: Inventory, ns: Namespace, rendered: RenderedPolicy, policy: Policy) -> list[Problem]:
    problems = []
    for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
        for ri, rule in enumerate(rules):
            targets = _targets(inventory, ns, policy, direction, rule)
            for pi, entry in enumerate(rule.ports):
                where = rendered.inventory_path(f"spec.{direction}[{ri}].ports[{pi}].port")
                if isinstance(entry.port, str) and targets and not any(w.port_name == entry.port for _, w in targets):
                    names = ", ".join(f"{o.name}/{w.name}" for o, w in targets)
                    problems.append(Problem(where, f"no selected pod ({names}) has a container port named {entry.port!r}, "
                                                   "so this rule matches no port of theirs", "warning"))
                if not isinstance(entry.port, int):
                    continue
                if any(w.container_port is not None and entry.covers(w.protocol, w.container_port) for _, w in targets):
                    continue
                culprits = [(o, w) for o, w in targets if w.service_port == entry.port and w.protocol == entry.protocol]
                if not culprits:
                    continue
                names = ", ".join(f"{o.name}/{w.name}" for o, w in culprits)
                listen = ", ".join(f"{w.container_port}" + (f" (named {w.port_name!r})" if w.port_name else "")
                                   for _, w in culprits)
                problems.append(Problem(
                    where,
                    f"port {entry.port} is the Service port of {names}, but NetworkPolicy ports match the pod's "
                    f"container port (the Service has already translated the port when the policy applies); "
                    f"the selected pods listen on {listen}. Use the container port or its name"))
    return problems


def _world_ingress(ns: Namespace, rendered: RenderedPolicy, policy: Policy) -> list[Problem]:
    if ns.acknowledge.world_ingress or not policy.affects_ingress:
        return []
    targets = _selected(policy, ns.workloads)
    if not targets:
        return []
    problems = []
    for ri, rule in enumerate(policy.ingress):
        exposed = [w for w in targets if not rule.ports or any(_workload_covered(entry, w) for entry in rule.ports)]
        if not exposed:
            continue
        names = ", ".join(w.name for w in exposed)
        if not rule.peers:
            problems.append(Problem(rendered.inventory_path(f"spec.ingress[{ri}]"),
                                    f"this ingress rule has no 'from', so it admits every source, the internet "
                                    f"included, to {names} in {ns.name}; name the sources, or set "
                                    "acknowledge.world_ingress: true if the exposure is intended"))
            continue
        whole = False
        for pi, peer in enumerate(rule.peers):
            if peer.ip_block is not None and peer.ip_block.cidr.prefixlen == 0:
                whole = True
                problems.append(Problem(
                    rendered.inventory_path(f"spec.ingress[{ri}].from[{pi}].ipBlock.cidr"),
                    f"{peer.ip_block.raw} admits the whole internet to {names} in {ns.name}; narrow the CIDR, or set "
                    "acknowledge.world_ingress: true if the exposure is intended"))
        if not whole and (family := _covered_family([p.ip_block for p in rule.peers if p.ip_block is not None])):
            problems.append(Problem(
                rendered.inventory_path(f"spec.ingress[{ri}].from"),
                f"together, this rule's ipBlocks cover every {family} address, which admits the whole internet to "
                f"{names} in {ns.name}; narrow them, or set acknowledge.world_ingress: true if the exposure is intended"))
    return problems


def _covered_family(blocks: list[IPBlock]) -> str | None:
    """``IPv4``/``IPv6`` when the blocks (each minus its excepts) add up to the whole address
    space of that family: ``0.0.0.0/1`` and ``128.0.0.0/1`` are the internet as surely as ``0.0.0.0/0``."""
    for version, whole in ((4, ipaddress.ip_network("0.0.0.0/0")), (6, ipaddress.ip_network("::/0"))):
        parts: list[Any] = []
        for block in blocks:
            if block.cidr.version != version:
                continue
            pieces = [block.cidr]
            for ex in block.excepts:
                pieces = [rest for piece in pieces for rest in
                          ((piece,) if not piece.overlaps(ex) else piece.address_exclude(ex) if ex.subnet_of(piece) else ())]
            parts += pieces
        if parts and list(ipaddress.collapse_addresses(parts)) == [whole]:
            return f"IPv{version}"
    return None


def _missing_default_deny(ns: Namespace, policies: list[Checked]) -> list[Problem]:
    # A deny-all-ingress policy: every pod of the namespace, isolated for ingress, no rule.
    if any(p.pod_selector.is_empty and p.affects_ingress and not p.ingress for _, p in policies):
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


def _dead_configuration(ns: Namespace) -> list[Problem]:
    """Settings written for a profile the namespace does not use: nothing is rendered from them,
    which usually means the profile was forgotten (allow_from_* entries without theirs are errors
    in the parser; ``internet_egress`` has defaults, so only its explicit block is flagged)."""
    if ns.internet_egress.given and "allow-internet-egress" not in ns.profiles:
        return [Problem(ns.internet_egress.path, "is set but the profile 'allow-internet-egress' is not in profiles, "
                                                 "so nothing is rendered from it; add the profile, or remove the block",
                        "warning")]
    return []


def _host_bits(ns: Namespace) -> list[Problem]:
    """An internet-egress CIDR written with host bits (``10.1.2.3/8``): the API server accepts it
    and means its network (``10.0.0.0/8``), which is rarely what was typed."""
    if "allow-internet-egress" not in ns.profiles:
        return []
    egress = ns.internet_egress
    problems = []
    for where, text in [(f"{egress.path}.cidr", egress.cidr),
                        *((f"{egress.path}.except[{i}]", e) for i, e in enumerate(egress.except_))]:
        net, reason = syntax.cidr(text)
        if net is not None and syntax.subnet(text)[1] is not None:
            problems.append(Problem(where, f"{text!r} has host bits set: Kubernetes reads it as {net}; write {net}",
                                    "warning"))
    return problems


def check_mistakes(inventory: Inventory, checked: dict[str, list[Checked]]) -> list[Problem]:
    """The semantic checks that need the whole inventory (workloads, namespace labels), on each
    namespace's policies as layer 2 read them (a policy that did not parse is left out: layers 1
    and 2 already report what is wrong with it)."""
    problems = []
    for ns in inventory.namespaces:
        policies = checked.get(ns.name, [])
        problems += _egress_without_dns(ns, policies)
        for rendered_policy, policy in policies:
            problems += _service_port_mix_up(inventory, ns, rendered_policy, policy)
            problems += _world_ingress(ns, rendered_policy, policy)
        problems += _missing_default_deny(ns, policies)
        problems += _unknown_namespaces(inventory, ns)
        problems += _dead_configuration(ns)
        problems += _host_bits(ns)
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
        if text and (net := syntax.subnet(text)[0]) is not None:
            subnets.append((label, net))
    problems = []
    for ns in inventory.namespaces:
        if "allow-internet-egress" not in ns.profiles:
            continue
        block = syntax.subnet(ns.internet_egress.cidr)[0]
        parsed = [syntax.subnet(e)[0] for e in ns.internet_egress.except_]
        excepts = [e for e in parsed if e is not None]
        if block is None or len(excepts) != len(parsed):
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

def check_probes(probes: Any, namespaces: Any) -> list[Problem]:
    """``netfence_probes`` checked offline, as the probe stage will read it (used to be read only
    there, after the cluster was provisioned): errors name the probe's path; a source namespace
    outside the inventory is a warning (the probe pod needs that namespace to exist)."""
    from netfence.probes.plan import from_inventory

    if probes is None:
        return []
    if not isinstance(probes, list):
        return [Problem("netfence_probes", f"must be a list of probes, not {type(probes).__name__}")]
    try:
        from_inventory(probes, namespaces if isinstance(namespaces, list) else [])
    except NetfenceError as exc:
        path, _, reason = str(exc).partition(" ")
        if path.startswith("netfence_probes"):
            return [Problem(path.rstrip(":"), reason)]
        return [Problem("netfence_probes", str(exc))]
    known = {ns.get("name") for ns in namespaces if isinstance(ns, dict)} if isinstance(namespaces, list) else set()
    problems = []
    for index, probe in enumerate(probes):
        source = probe.get("from") if isinstance(probe, dict) else None
        namespace = source.get("namespace") if isinstance(source, dict) else None
        if namespace and namespace not in known:
            problems.append(Problem(f"netfence_probes[{index}].from.namespace",
                                    f"namespace {namespace!r} is not in the inventory; check the spelling "
                                    "(the probe pod is created there, so it must exist)", "warning"))
    return problems


def build_plan(namespaces: Any, kubernetes_version: Any, pod_subnet: str | None = None,
               service_subnet: str | None = None, api_server_endpoint: str | None = None,
               variable_names: Iterable[str] = (), probes: Any = None) -> Plan:
    """Parse, render and check; raise :class:`InventoryError` if the inventory cannot even be parsed,
    or when a cluster-wide variable (version, subnet, API server endpoint) is malformed.

    ``variable_names``: every ``netfence_*`` variable the inventory sets, so a typo warns;
    ``probes``: ``netfence_probes``, checked as the probe stage reads it. The
    returned :class:`Plan` may still hold errors (call :meth:`Plan.raise_for_errors`); it holds
    every problem of every layer, so a user sees them all at once.
    """
    early: list[Problem] = []
    minor = None
    try:
        minor = schema_minor(kubernetes_version)
    except NetfenceError as exc:
        early.append(Problem(VERSION_VARIABLE, str(exc).split(": ", 1)[1]))
    early += cluster_vars.check(pod_subnet=pod_subnet, service_subnet=service_subnet,
                                api_server_endpoint=api_server_endpoint, names=variable_names)
    try:
        inventory = parse(namespaces)
    except InventoryError as exc:
        raise InventoryError(early + exc.problems) from None
    early += check_probes(probes, namespaces)  # after the namespaces parse: no follow-on errors
    if any(p.severity == "error" for p in early):
        raise InventoryError(early)
    assert minor is not None
    rendered = render(inventory)
    validator = schema_validator(minor)
    problems: list[Problem] = list(early)  # warnings only by now
    checked: dict[str, list[Checked]] = {}
    for namespace, policies in rendered.items():
        for policy in policies:
            schema = check_schema(policy, validator)
            parsed, found = read_rendered(policy)
            problems += schema + _not_reported(found, schema)
            if parsed is not None:
                checked.setdefault(namespace, []).append((policy, parsed))
    problems += check_mistakes(inventory, checked)
    problems += internet_egress_subnets(inventory, pod_subnet, service_subnet)
    return Plan(inventory, rendered, problems)


def summary_lines(plan: Plan) -> list[str]:
    """A few lines for humans: per namespace, how many policies and of which profiles."""
    lines = []
    for name, policies in plan.rendered.items():
        lines.append(f"{name}: {len(policies)} policies ({', '.join(p.name for p in policies) or 'none'})")
    lines.append(f"{plan.policy_count()} policies in {len(plan.rendered)} namespaces; "
                 f"{plural(len(plan.errors), 'error')}, {plural(len(plan.warnings), 'warning')}")
    return lines
