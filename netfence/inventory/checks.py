"""The mistakes engineers make that the API server accepts, found by asking the engine.

Every check here is a question to :class:`~netfence.policy.engine.Engine` about the lab
(:mod:`netfence.inventory.lab`: the pods as the workloads stage deploys them, with their effective labels
and named ports), so a plan warning and the engine's prediction cannot contradict each other:

* egress restricted without DNS: a pod isolated for egress that cannot reach a DNS pod on UDP 53;
* a policy port that is the Service port (80) instead of the container port (3000), or a port
  name no selected pod declares;
* ingress from the whole internet to a workload port: the rules admitting that port, together;
* a namespace without default deny: some pod there, whatever its labels, is not isolated;
* inventory settings nothing is rendered from, CIDRs with host bits, unknown namespaces, and
  internet egress that also covers the cluster's own subnets.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from netfence.policy import syntax
from netfence.policy.engine import Engine
from netfence.inventory.schema import Inventory, Namespace, Problem
from netfence.inventory.lab import Lab
from netfence.policy.model import IPBlock, Pod, Policy, Rule
from netfence.inventory.render import RenderedPolicy

Checked = tuple[RenderedPolicy, Policy]


class _Context:
    """The lab, the engine over it, and where each policy came from in the inventory."""

    def __init__(self, lab: Lab, engine: Engine, checked: dict[str, list[Checked]]) -> None:
        self.lab = lab
        self.engine = engine
        self.checked = checked
        self.origin = {policy.key: rendered for policies in checked.values() for rendered, policy in policies}

    def path(self, policy: Policy, field: str) -> str:
        return self.origin[policy.key].inventory_path(field)


# --- egress without DNS ------------------------------------------------------------------------

def _example_pod(namespace: str, policy: Policy) -> Pod | None:
    """A pod the policy selects, built from its selector: the pods the inventory does not declare
    count too. None when the selector's expressions leave no simple example."""
    labels = dict(policy.pod_selector.match_labels)
    for req in policy.pod_selector.expressions:
        if req.operator == "In" and req.key not in labels:
            labels[req.key] = min(req.values)
        elif req.operator == "Exists" and req.key not in labels:
            labels[req.key] = "any"
    if not policy.pod_selector.matches(labels):
        return None
    name = "pods " + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "any pod"
    return Pod(namespace, name, labels)


def dns_egress_allowed(engine: Engine, subject: Pod) -> bool:
    """Does ``subject``'s egress let it reach some DNS pod on UDP 53? Its egress only: whether the
    DNS pods' own ingress admits it is a question about the DNS namespace, not this one."""
    return any(engine.verdict(subject, dns, 53, "UDP").egress.allowed for dns in engine.dns_pods())


def _dns_by_ipblock(engine: Engine, subject: Pod) -> bool:
    """An egress rule of ``subject``'s policies that would allow UDP 53 to an ipBlock: it reaches the
    DNS pods exactly when the block covers their addresses, which only the pod subnet tells."""
    for policy in engine.isolating(subject, "egress"):
        for rule in policy.egress:
            ports = not rule.ports or any(e.covers("UDP", 53) or (e.protocol == "UDP" and isinstance(e.port, str))
                                          for e in rule.ports)
            if ports and any(peer.ip_block is not None for peer in rule.peers):
                return True
    return False


def dns_stranded(engine: Engine, pods: list[Pod], policies: Iterable[Policy]) -> tuple[list[str], Policy | None, list[str]]:
    """Pods isolated for egress whose egress the engine says reaches no DNS pod on UDP 53, and the
    first policy isolating one of them; last, the pods whose only way to DNS is an ipBlock while
    the DNS pods have no address (no pod subnet given): neither stranded nor known to be fine.
    The pods: ``pods`` (the declared workloads), and an example pod of every egress policy that
    selects none of them."""
    subjects = list(pods)
    for policy in policies:
        if policy.affects_egress and not any(policy.pod_selector.matches(p.labels) for p in subjects):
            if (example := _example_pod(policy.namespace, policy)) is not None:
                subjects.append(example)
    stranded: list[str] = []
    unsure: list[str] = []
    restricting = None
    addressless = any(dns.ip is None for dns in engine.dns_pods())
    for subject in subjects:
        isolating = engine.isolating(subject, "egress")
        if not isolating or dns_egress_allowed(engine, subject):
            continue
        if addressless and _dns_by_ipblock(engine, subject):
            unsure.append(subject.name)
            continue
        stranded.append(subject.name)
        restricting = restricting or isolating[0]
    return stranded, restricting, unsure


def namespaces_without_dns(namespaces: Any, manifests: Iterable[Any], pod_subnet: str | None = None) -> list[str]:
    """The apply stage's guard: namespaces whose manifests restrict egress without allowing DNS.

    The plan's check, on the manifests about to be applied; ``namespaces`` is the inventory's
    ``netfence_namespaces`` (DNS location, workloads, acknowledgements), and a namespace the
    manifests use but the inventory does not declare gets the defaults. With ``pod_subnet`` pods
    get addresses from it, as in the plan, so a DNS rule written as an ipBlock counts."""
    from netfence.inventory.schema import parse
    from netfence.inventory.lab import build
    from netfence.policy.model import parse_policy

    policies = [parse_policy(manifest, f"manifests[{index}]") for index, manifest in enumerate(manifests)]
    by_namespace: dict[str, list[Policy]] = {}
    for policy in policies:
        by_namespace.setdefault(policy.namespace, []).append(policy)
    used = set(by_namespace)
    if not used:
        return []
    declared = list(namespaces or [])
    known = {entry.get("name") for entry in declared if isinstance(entry, dict)}
    lab = build(parse(declared + [{"name": name} for name in sorted(used) if name not in known]), pod_subnet=pod_subnet)
    engine = lab.engine(policies)
    return [ns.name for ns in lab.inventory.namespaces
            if ns.name in used and not ns.acknowledge.egress_without_dns
            and dns_stranded(engine, list(lab.workload_pods_in(ns.name)),  # unsure: not refused
                             by_namespace[ns.name])[1] is not None]


def _egress_without_dns(ctx: _Context, ns: Namespace) -> list[Problem]:
    if ns.acknowledge.egress_without_dns:
        return []
    stranded, restricting, unsure = dns_stranded(ctx.engine, list(ctx.lab.workload_pods_in(ns.name)),
                                                 (p for _, p in ctx.checked.get(ns.name, [])))
    if restricting is None:
        if not unsure:
            return []
        return [Problem(ns.path, f"egress of {', '.join(unsure)} in namespace {ns.name} reaches DNS only through an "
                                 "ipBlock, and without netfence_pod_subnet netfence cannot tell whether it covers the DNS "
                                 "pods; set netfence_pod_subnet so the plan (and its prediction) can", "warning", rule="egress-without-dns")]
    origin = ctx.origin[restricting.key]
    return [Problem(origin.origin,
                    f"egress of {', '.join(stranded)} in namespace {ns.name} is restricted (by {origin.name}) "
                    "but no egress rule allows DNS (UDP 53), so name lookups will time out. Add the "
                    "'allow-dns-egress' profile, or set acknowledge.egress_without_dns: true if that is intended", rule="egress-without-dns")]


# --- Service port instead of container port; port names nobody declares -----------------------

def _rule_targets(ctx: _Context, policy: Policy, direction: str, rule: Rule) -> list[Pod]:
    """The workload pods whose ports a rule's ``ports`` refer to: the policy's own pods (ingress)
    or the pods its peers match (egress)."""
    if direction == "ingress":
        return [p for p in ctx.lab.workload_pods_in(policy.namespace) if policy.pod_selector.matches(p.labels)]
    found: list[Pod] = []
    for peer in rule.peers:
        if peer.ip_block is None:
            found += [p for p in ctx.engine.peer_pods(peer, policy.namespace) if p.key in ctx.lab.workloads and p not in found]
    return found


def _port_problems(ctx: _Context, policy: Policy) -> list[Problem]:
    problems = []
    for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
        for ri, rule in enumerate(rules):
            targets = _rule_targets(ctx, policy, direction, rule)
            for pi, entry in enumerate(rule.ports):
                where = ctx.path(policy, f"spec.{direction}[{ri}].ports[{pi}].port")
                if isinstance(entry.port, str):
                    if targets and not any(p.resolve(entry.port, entry.protocol) for p in targets):
                        problems.append(Problem(where, f"no selected pod ({', '.join(p.key for p in targets)}) has a "
                                                       f"{entry.protocol} container port named {entry.port!r}, so this "
                                                       "rule matches no port of theirs", "warning", rule="port-name-unknown"))
                    continue
                if entry.port is None or any(entry.covers(cp.protocol, cp.port) for p in targets for cp in p.ports):
                    continue
                culprits = [p for p in targets if ctx.lab.workloads[p.key][1].service_port == entry.port
                            and any(cp.protocol == entry.protocol for cp in p.ports)]
                if not culprits:
                    if direction == "ingress" and targets:
                        span = f"{entry.port}-{entry.end_port}" if entry.end_port else f"{entry.port}"
                        problems.append(Problem(where, f"no selected pod ({', '.join(p.key for p in targets)}) declares "
                                                       f"{entry.protocol} {span}, so the prediction has no row for this "
                                                       "rule; declare the port (container_port) if a pod listens there",
                                                "warning", rule="port-not-declared"))
                    continue
                listen = ", ".join(f"{cp.port} (named {cp.name!r})" for p in culprits for cp in p.ports)
                problems.append(Problem(
                    where,
                    f"port {entry.port} is the Service port of {', '.join(p.key for p in culprits)}, but NetworkPolicy "
                    f"ports match the pod's container port (the Service has already translated the port when the "
                    f"policy applies); the selected pods listen on {listen}. Use the container port or its name", rule="service-port"))
    return problems


# --- ingress from the whole internet ------------------------------------------------------------

def covered_family(blocks: list[IPBlock]) -> str | None:
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


_FIX = "set acknowledge.world_ingress: true if the exposure is intended"


def world_open(engine: Engine, pod: Pod) -> list[tuple[Policy, int, Rule, int | None, str]]:
    """Why the whole internet may reach one of ``pod``'s container ports, as the engine admits it:
    ``(policy, rule index, rule, peer index, what)`` for a rule without peers, an ipBlock of
    prefix length 0, or (peer index None) the first rule of several whose ipBlocks together
    cover an address family. Empty when no port of the pod is open to the whole internet."""
    found: list[tuple[Policy, int, Rule, int | None, str]] = []
    for cp in pod.ports:
        admitting = engine.admitting_rules(pod, "ingress", cp.port, cp.protocol)
        whole = [(pol, ri, rule, None, "no from") for pol, ri, rule in admitting if not rule.peers]
        whole += [(pol, ri, rule, pi, "cidr") for pol, ri, rule in admitting for pi, peer in enumerate(rule.peers)
                  if peer.ip_block is not None and peer.ip_block.cidr.prefixlen == 0]
        if not whole:
            blocks = [peer.ip_block for _, _, rule in admitting for peer in rule.peers if peer.ip_block is not None]
            if admitting and (family := covered_family(blocks)):
                contributing = [(pol, ri, rule) for pol, ri, rule in admitting if any(p.ip_block for p in rule.peers)]
                pol, ri, rule = contributing[0]
                whole = [(pol, ri, rule, None, family)]
        found += [w for w in whole if w[:2] not in [(f[0], f[1]) for f in found]]
    return found


def _world_ingress(ctx: _Context, ns: Namespace) -> list[Problem]:
    if ns.acknowledge.world_ingress:
        return []
    exposed: dict[tuple[str, int, int | None, str], tuple[Policy, Rule, list[str]]] = {}
    for pod in ctx.lab.workload_pods_in(ns.name):
        for pol, ri, rule, pi, what in world_open(ctx.engine, pod):
            exposed.setdefault((pol.key, ri, pi, what), (pol, rule, []))[2].append(pod.name)
    problems = []
    for (_, ri, pi, what), (pol, rule, names) in exposed.items():
        whom = f"{', '.join(names)} in {ns.name}"
        if what == "no from":
            problems.append(Problem(ctx.path(pol, f"spec.ingress[{ri}]"),
                                    f"this ingress rule has no 'from', so it admits every source, the internet "
                                    f"included, to {whom}; name the sources, or {_FIX}", rule="world-ingress"))
        elif what == "cidr":
            block = rule.peers[pi].ip_block  # type: ignore[index]
            problems.append(Problem(ctx.path(pol, f"spec.ingress[{ri}].from[{pi}].ipBlock.cidr"),
                                    f"{block.raw} admits the whole internet to {whom}; narrow the CIDR, or {_FIX}", rule="world-ingress"))
        else:
            problems.append(Problem(ctx.path(pol, f"spec.ingress[{ri}].from"),
                                    f"together, the ipBlocks of the rules admitting this port cover every {what} "
                                    f"address, which admits the whole internet to {whom}; narrow them, or {_FIX}", rule="world-ingress"))
    return problems


# --- namespaces without default deny ------------------------------------------------------------

def _missing_default_deny(ctx: _Context, ns: Namespace) -> list[Problem]:
    if ctx.engine.isolates_every_pod(ns.name, "ingress"):
        return []
    return [Problem(f"{ns.path}.profiles",
                    f"namespace {ns.name} has no default-deny-ingress: no policy there selects every pod, so a pod "
                    "no policy selects accepts connections from everywhere. Add 'default-deny-ingress' to profiles",
                    "warning", rule="missing-default-deny")]


# --- inventory settings -------------------------------------------------------------------------

UNKNOWN_NAMESPACE_HINT = ("check the spelling, or list it in netfence_external_namespaces if it is deliberately "
                          "outside netfence (the prediction has no pods there)")


def _unknown_namespaces(inventory: Inventory, ns: Namespace) -> list[Problem]:
    problems = []
    for entry in ns.allow_from_namespaces:
        for index, name in enumerate(entry.namespaces):
            if not inventory.knows(name):
                problems.append(Problem(f"{entry.path}.namespaces[{index}]",
                                        f"namespace {name!r} is not in the inventory; {UNKNOWN_NAMESPACE_HINT}", "warning",
                                        rule="unknown-namespace"))
    for entry in ns.allow_from_pods:
        if entry.namespace and not inventory.knows(entry.namespace):
            problems.append(Problem(f"{entry.path}.namespace",
                                    f"namespace {entry.namespace!r} is not in the inventory; {UNKNOWN_NAMESPACE_HINT}",
                                    "warning", rule="unknown-namespace"))
    return problems


def _dead_configuration(ns: Namespace) -> list[Problem]:
    """Settings written for a profile the namespace does not use: nothing is rendered from them,
    which usually means the profile was forgotten (allow_from_* entries without theirs are errors
    in the parser; ``internet_egress`` has defaults, so only its explicit block is flagged)."""
    if ns.internet_egress.given and "allow-internet-egress" not in ns.profiles:
        return [Problem(ns.internet_egress.path, "is set but the profile 'allow-internet-egress' is not in profiles, "
                                                 "so nothing is rendered from it; add the profile, or remove the block",
                        "warning", rule="dead-configuration")]
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
                                    "warning", rule="host-bits"))
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
                                          "internet_egress.except", "warning", rule="cluster-subnet-egress"))
    return problems


def check_mistakes(lab: Lab, engine: Engine, checked: dict[str, list[Checked]]) -> list[Problem]:
    """Every mistake check, per inventory namespace, on the policies as layer 2 read them (a policy
    that did not parse is left out: the earlier layers report what is wrong with it).
    ``engine`` is ``lab.engine(...)`` over exactly those policies."""
    ctx = _Context(lab, engine, checked)
    problems = []
    for ns in lab.inventory.namespaces:
        problems += _egress_without_dns(ctx, ns)
        for _, policy in checked.get(ns.name, []):
            problems += _port_problems(ctx, policy)
        problems += _world_ingress(ctx, ns)
        problems += _missing_default_deny(ctx, ns)
        problems += _unknown_namespaces(lab.inventory, ns)
        problems += _dead_configuration(ns)
        problems += _host_bits(ns)
    return problems

