"""The world the engine reasons about: namespaces, pods and NetworkPolicies as typed objects.

``World.from_state`` takes the ``state`` mapping of the shared truth-table cases
(``namespaces``, ``pods``, ``policies``; other keys ignored) and validates it the way the API
server would, so a typo surfaces here with the object and field named instead of as a silently
different verdict later. Validation follows the ``networking.k8s.io/v1`` API reference and the
API server's NetworkPolicy validation: one peer kind per ``ipBlock`` peer, ``except`` entries
strictly inside ``cidr``, ``endPort`` only with a numeric ``port`` and not below it, protocols
TCP/UDP/SCTP (defaulting to TCP), ``policyTypes`` defaulting from the rules present.
Non-canonical CIDRs such as ``10.244.1.5/4`` are accepted as the API accepts them and mean
their network (``0.0.0.0/4``).

The records are ``NamedTuple`` classes: immutable like frozen dataclasses (and hashable where
their fields are: a Pod's or Namespace's labels are a dict), but defining them costs a fraction
of the start-up time (``dataclasses`` imports ``inspect`` and compiles code for every class),
which dominates a ``netfence reachability`` call on a model of a thousand pods. Being tuples,
records compare by their values only; nothing compares records of different types.
"""

from __future__ import annotations

import _socket
import ipaddress
from typing import Any, Mapping, NamedTuple, Union

from netfence.errors import NetfenceError
from netfence.policy import syntax
from netfence.labels import NS_NAME_LABEL
from netfence.policy.selectors import LabelSelector

PROTOCOLS = syntax.PROTOCOLS
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise NetfenceError(f"{where}: must be a mapping, got {type(raw).__name__}")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise NetfenceError(f"{where}: must be a list, got {type(raw).__name__}")
    return raw


def _name(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise NetfenceError(f"{where}: required, a non-empty string")
    return raw


def parse_protocol(raw: Any, where: str) -> str:
    """Protocol of a port; absent means TCP (the API server's default)."""
    if raw is None:
        return "TCP"
    if (reason := syntax.protocol(raw)) is not None:
        raise NetfenceError(f"{where}: {reason}")
    return raw


def _port_number(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 65535:
        raise NetfenceError(f"{where}: must be a port number between 1 and 65535, got {raw!r}")
    return raw


def parse_ip(raw: Any, where: str) -> IPAddress:
    try:
        if isinstance(raw, str) and ":" not in raw:
            # inet_pton is strict (dotted quad only) and much faster than ipaddress's parser; it is
            # taken from _socket because the socket module's enums cost more start-up than it saves.
            return ipaddress.IPv4Address(_socket.inet_pton(_socket.AF_INET, raw))
        return ipaddress.ip_address(str(raw))
    except OSError:
        raise NetfenceError(f"{where}: {raw!r} is not an IP address") from None
    except ValueError:
        raise NetfenceError(f"{where}: {raw!r} is not an IP address") from None


class ContainerPort(NamedTuple):
    port: int
    protocol: str = "TCP"
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.protocol}/{self.port}" + (f" ({self.name})" if self.name else "")


class Namespace(NamedTuple):
    name: str
    labels: Mapping[str, str]


class Pod(NamedTuple):
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...] = ()
    ip: IPAddress | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return self.key

    def resolve(self, port_name: str, protocol: str) -> set[int]:
        """Container port numbers a named port means on this pod for a protocol."""
        return {cp.port for cp in self.ports if cp.name == port_name and cp.protocol == protocol}


class _ExternalFields(NamedTuple):
    ip: IPAddress
    label: str | None = None


class External(_ExternalFields):
    """An endpoint outside the pod network: an internet address, the API server endpoint, ...

    Only ``ipBlock`` peers (and rules without peers) can match it; it is never selected by a
    policy, so its own side of a connection is never isolated.
    """

    __slots__ = ()

    def __new__(cls, ip: str | IPAddress, label: str | None = None) -> "External":
        return super().__new__(cls, parse_ip(ip, "external endpoint"), label)

    @property
    def key(self) -> str:
        return self.label or str(self.ip)

    def __str__(self) -> str:
        return f"{self.label} ({self.ip})" if self.label else f"external {self.ip}"


Endpoint = Union[Pod, External]


class IPBlock(NamedTuple):
    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()
    raw: str = ""

    def contains(self, ip: IPAddress | None) -> bool:
        if ip is None or ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in ex for ex in self.excepts)

    def describe(self) -> str:
        text = f"ipBlock {self.raw or self.cidr}"
        if self.raw and self.raw != str(self.cidr):
            text += f" (= {self.cidr})"
        if self.excepts:
            text += " except " + ", ".join(map(str, self.excepts))
        return text


class Peer(NamedTuple):
    """One ``from``/``to`` entry: selectors (AND when both are set) or an ipBlock."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def describe(self, policy_ns: str) -> str:
        if self.ip_block is not None:
            return self.ip_block.describe()
        ns = f"namespace {policy_ns}" if self.namespace_selector is None else f"namespaces {self.namespace_selector.describe()}"
        pods = "all pods" if self.pod_selector is None else f"pods {self.pod_selector.describe()}"
        return f"{pods} in {ns}"


class PolicyPort(NamedTuple):
    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def covers(self, protocol: str, port: int) -> bool:
        """Whether the entry admits ``protocol``/``port`` by number: no ``port`` means every port,
        ``endPort`` a range. A named port is never covered here: only the destination pod's
        container ports can resolve it (``Pod.resolve``)."""
        if self.protocol != protocol:
            return False
        if self.port is None:
            return True
        return isinstance(self.port, int) and self.port <= port <= (self.end_port or self.port)

    def describe(self) -> str:
        if self.port is None:
            return f"{self.protocol}/any"
        if self.end_port is not None:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


class Rule(NamedTuple):
    """An ingress or egress rule. ``peers``/``ports`` empty means "all" (absent or ``[]``)."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


class _PolicyFields(NamedTuple):
    namespace: str
    name: str
    pod_selector: LabelSelector
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    affects_ingress: bool = True
    affects_egress: bool = False


class Policy(_PolicyFields):
    """A parsed NetworkPolicy. ``raw``, the manifest as given (explanations quote it), rides
    beside the fields: it takes no part in equality, hashing or repr, as metadata does not
    change what a policy allows."""

    raw: Mapping[str, Any]

    def __new__(cls, namespace: str, name: str, pod_selector: LabelSelector, ingress: tuple[Rule, ...] = (),
                egress: tuple[Rule, ...] = (), affects_ingress: bool = True, affects_egress: bool = False,
                raw: Mapping[str, Any] | None = None) -> "Policy":
        self = super().__new__(cls, namespace, name, pod_selector, ingress, egress, affects_ingress, affects_egress)
        self.raw = {} if raw is None else raw
        return self

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def parse_policy(raw: Any, where: str = "policy") -> Policy:
    """One NetworkPolicy manifest as a :class:`Policy`, read by :mod:`netfence.policy.reader`
    (the plan reads policies there too); the first problem is a NetfenceError naming the policy
    and the field."""
    from netfence.policy.reader import first_problem, read_policy

    policy, problems = read_policy(raw)
    if policy is None:
        meta = raw.get("metadata") if isinstance(raw, Mapping) else None
        if isinstance(meta, Mapping) and isinstance(meta.get("name"), str):
            where = f"NetworkPolicy {meta.get('namespace', '?')}/{meta['name']}"
        raise NetfenceError(first_problem(problems, where))
    return policy


def parse_labels(raw: Any, where: str) -> dict[str, str]:
    """A label map checked as the API checks labels (:func:`netfence.policy.reader.read_labels`)."""
    from netfence.policy.reader import first_problem, read_labels

    problems: list[tuple[str, str]] = []
    labels = read_labels(problems, raw, "")
    if problems:
        raise NetfenceError(first_problem(problems, where))
    return labels


def _parse_container_port(p: Any, where: str) -> ContainerPort:
    p = _mapping(p, where)
    number = p.get("containerPort")
    if type(number) is not int or not 1 <= number <= 65535:
        _port_number(number, f"{where}.containerPort")
    proto = p.get("protocol")
    if proto is None:
        proto = "TCP"
    elif proto not in PROTOCOLS:
        parse_protocol(proto, f"{where}.protocol")
    pname = p.get("name")
    if pname is not None and (reason := syntax.port_name(pname)) is not None:
        raise NetfenceError(f"{where}.name: {reason}")
    return ContainerPort(number, proto, pname)


def _parse_container_ports(containers: Any, at: str) -> tuple[ContainerPort, ...]:
    """Every container's ports, in order. ``at`` names the pod; the field path of an error is
    only spelled out when there is one (models of thousands of pods spend no time on it)."""
    ports: list[ContainerPort] = []
    if type(containers) is not list:
        containers = _list(containers, f"{at}: containers")
    for ci, container in enumerate(containers):
        if type(container) is not dict:
            container = _mapping(container, f"{at}: containers[{ci}]")
        raw_ports = container.get("ports")
        if raw_ports is None:
            continue
        if type(raw_ports) is not list:
            raw_ports = _list(raw_ports, f"{at}: containers[{ci}].ports")
        for pi, p in enumerate(raw_ports):
            ports.append(_parse_container_port(p, f"{at}: containers[{ci}].ports[{pi}]"))
    return tuple(ports)


def _parse_pod(raw: Any, where: str) -> Pod:
    pod = _mapping(raw, where)
    ns = pod.get("namespace")
    name = pod.get("name")
    if type(ns) is not str or not ns:
        _name(ns, f"{where}.namespace")
    if type(name) is not str or not name:
        _name(name, f"{where}.name")
    at = f"pod {ns}/{name}"
    labels = parse_labels(pod.get("labels"), f"{at}: labels")
    containers = pod.get("containers")
    ports = _parse_container_ports(containers, at) if containers is not None else ()
    ip = pod.get("ip")
    return Pod(ns, name, labels, ports, parse_ip(ip, f"{at}: ip") if ip is not None else None)


def _collect(raw: Any, field_name: str, parse: Any, kind: str, namespaces: Mapping[str, Namespace]) -> list[Any]:
    """Parse a list of namespaced objects (pods or policies), each in a known namespace and
    listed once; input order is kept because it is the order of every matrix and table."""
    out = []
    seen: set[str] = set()
    for i, raw_item in enumerate(_list(raw, field_name)):
        item = parse(raw_item, f"{field_name}[{i}]")
        key = item.key
        if item.namespace not in namespaces:
            raise NetfenceError(f"{kind} {key}: namespace {item.namespace!r} is not in namespaces")
        if key in seen:
            raise NetfenceError(f"{kind} {key}: listed twice")
        seen.add(key)
        out.append(item)
    return out


class World:
    """Namespaces, pods and policies in force; pods and policies keep their input order."""

    def __init__(self, namespaces: dict[str, Namespace], pods: list[Pod], policies: list[Policy]) -> None:
        self.namespaces = namespaces
        self.pods = pods
        self.policies = policies
        self._by_key = {p.key: p for p in pods}

    @classmethod
    def from_state(cls, state: Any) -> "World":
        """Build from a case ``state`` / CLI model: ``{namespaces, pods, policies}``."""
        state = _mapping(state, "model")
        namespaces: dict[str, Namespace] = {}
        for i, raw in enumerate(_list(state.get("namespaces"), "namespaces")):
            raw = _mapping(raw, f"namespaces[{i}]")
            name = raw.get("name")
            if (reason := syntax.dns_label(name)) is not None:
                raise NetfenceError(f"namespaces[{i}].name: namespace name {reason}")
            if name in namespaces:
                raise NetfenceError(f"namespaces[{i}]: namespace {name!r} is listed twice")
            labels = parse_labels(raw.get("labels"), f"namespace {name}: labels")
            # The API server always sets this label to the namespace's name.
            labels[NS_NAME_LABEL] = name
            namespaces[name] = Namespace(name, labels)
        pods = _collect(state.get("pods"), "pods", _parse_pod, "pod", namespaces)
        policies = _collect(state.get("policies"), "policies", parse_policy, "NetworkPolicy", namespaces)
        return cls(namespaces, pods, policies)

    def pod(self, key: str) -> Pod:
        """Look a pod up by ``ns/name``."""
        try:
            return self._by_key[key]
        except KeyError:
            raise NetfenceError(f"pod {key!r} is not in the model (expected namespace/name)") from None

    def holds(self, pod: Pod) -> bool:
        """Is ``pod`` this world's own record (not merely a pod with the same key)?"""
        return self._by_key.get(pod.key) is pod

    def declared_ports(self) -> list[tuple[str, int]]:
        """Every (protocol, port) a pod declares, sorted: the default probes."""
        return sorted({(cp.protocol, cp.port) for pod in self.pods for cp in pod.ports})


def parse_probe(text: Any) -> tuple[str, int]:
    """``TCP/80`` (protocol case-insensitive) -> ("TCP", 80)."""
    if not isinstance(text, str) or "/" not in text:
        raise NetfenceError(f"probe {text!r}: expected PROTOCOL/PORT, e.g. TCP/80")
    proto, _, port = text.partition("/")
    proto = proto.strip().upper()
    if proto not in PROTOCOLS:
        raise NetfenceError(f"probe {text!r}: unknown protocol {proto!r} (expected one of {', '.join(PROTOCOLS)})")
    if not port.strip().isdigit() or not 1 <= int(port) <= 65535:
        raise NetfenceError(f"probe {text!r}: port must be a number between 1 and 65535")
    return proto, int(port)


def load_world(path: str) -> World:
    """Read MODEL.yaml (keys namespaces/pods/policies; other keys ignored) into a World.

    Read through :mod:`netfence.loading`: size, UTF-8, nesting depth and YAML aliases are
    bounded, JSON is parsed as JSON (~50x faster than any YAML loader in Python, which matters
    for generated models of thousands of pods), and every problem is one-line NetfenceError.
    """
    from netfence import loading

    data = loading.load_data(loading.read_text(path, "model"), path)
    if not isinstance(data, Mapping) or not ({"namespaces", "pods", "policies"} & set(data)):
        raise NetfenceError(
            f"model {path}: expected a mapping with keys namespaces, pods and policies "
            "(as a `state` of a netpol case), found "
            + (loading.clip(", ".join(map(str, data))) if isinstance(data, Mapping) else type(data).__name__)
        )
    import gc

    # Building thousands of small objects triggers the cyclic GC over and over although none of
    # them can form garbage cycles yet; pausing it keeps large models linear.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return World.from_state(data)
    finally:
        if enabled:
            gc.enable()
