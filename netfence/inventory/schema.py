"""The inventory model: ``netfence_namespaces`` parsed into typed, validated objects.

Everything downstream (rendering, the semantic checks, the engine's world) works on these
objects, never on raw YAML, so a typo is caught once, here, with the inventory path of the
mistake (``netfence_namespaces[1].allow_from_namespaces[0].ports[0].port``). Parsing collects
every problem before it gives up: a user fixes an inventory in one pass, not one error per run.

The variable is documented key by key in docs/inventory.md.
"""

from __future__ import annotations

import difflib

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from netfence.policy import syntax
from netfence.errors import NetfenceError
from netfence.labels import NS_NAME_LABEL
from netfence.wellknown import DEFAULT_DNS_LABELS, DEFAULT_DNS_NAMESPACE

VARIABLE = "netfence_namespaces"

PROFILES = (
    "default-deny-ingress",
    "default-deny-egress",
    "allow-same-namespace",
    "allow-dns-egress",
    "allow-from-namespaces",
    "allow-from-pods",
    "allow-internet-egress",
)

#: Every key the reader knows, per section of docs/inventory.md (a test holds the docs to these).
KEYS: dict[str, tuple[str, ...]] = {
    "workloads[]": ("name", "labels", "image", "container_port", "service_port", "port_name", "protocol", "replicas"),
    "allow_from_namespaces[]": ("name", "namespaces", "namespace_labels", "pod_labels", "target_labels", "ports"),
    "allow_from_pods[]": ("name", "pod_labels", "namespace", "target_labels", "ports"),
    "ports[]": ("port", "protocol", "end_port"),
    "internet_egress": ("cidr", "except", "ports"),
    "dns": ("namespace", "pod_labels"),
    "acknowledge": ("egress_without_dns", "world_ingress"),
    "extra_policies[]": ("name", "spec"),
}

DEFAULT_INTERNET_CIDR = "0.0.0.0/0"
DEFAULT_INTERNET_EXCEPT = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
DEFAULT_INTERNET_PORTS = ({"port": 443, "protocol": "TCP"},)



@dataclass(frozen=True)
class Problem:
    """One finding: where in the inventory, what is wrong, and how bad (error or warning)."""

    path: str
    message: str
    severity: str = "error"
    # which check found it (SARIF's ruleId): schema, api-server, world-ingress, ...; metadata, so two
    # problems with the same place, message and severity are the same problem whatever found them
    rule: str = field(default="inventory", compare=False)

    def __post_init__(self) -> None:
        # A message may quote the offending value; a huge (or alias-expanded) one is cut.
        from netfence.loading import elide

        object.__setattr__(self, "path", elide(str(self.path), 200))
        object.__setattr__(self, "message", elide(str(self.message)))

    def __str__(self) -> str:
        return f"{self.severity.upper()} {self.path}: {self.message}"


class InventoryError(NetfenceError):
    """The inventory cannot be used; ``problems`` lists every error found, each with its path."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{count_text(problems)} in the inventory:\n" + "\n".join(f"  {p}" for p in problems))


def plural(count: int, word: str) -> str:
    """``1 warning``, ``0 warnings``, ``2 policies``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else f"{count} {word}s"


def count_text(problems: list[Problem]) -> str:
    """``1 error``, ``2 errors and 1 warning``: the header above a list of problems counts what it lists."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return plural(errors, "error") + (f" and {plural(warnings, 'warning')}" if warnings else "")


@dataclass(frozen=True)
class Port:
    """A port as written in the inventory (``end_port`` becomes the API's ``endPort``)."""

    port: int | str
    protocol: str = "TCP"
    end_port: int | None = None
    path: str = ""

    def to_api(self) -> dict[str, Any]:
        item: dict[str, Any] = {"port": self.port, "protocol": self.protocol}
        if self.end_port is not None:
            item["endPort"] = self.end_port
        return item


@dataclass(frozen=True)
class Workload:
    """A Deployment (and optional Service) the lab runs; the checks use its ports and labels."""

    name: str
    labels: dict[str, str]
    image: str | None = None
    container_port: int | None = None
    service_port: int | None = None
    port_name: str | None = None
    protocol: str = "TCP"
    replicas: int = 1
    path: str = ""


@dataclass(frozen=True)
class NamespaceSource:
    """``allow_from_namespaces`` entry: pods of other namespaces (by name or labels) may connect in."""

    name: str
    namespaces: tuple[str, ...] = ()
    namespace_labels: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] | None = None
    target_labels: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    path: str = ""


@dataclass(frozen=True)
class PodSource:
    """``allow_from_pods`` entry: pods with given labels (here or in one other namespace) may connect in."""

    name: str
    pod_labels: dict[str, str]
    namespace: str | None = None
    target_labels: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    path: str = ""


@dataclass(frozen=True)
class InternetEgress:
    """Where ``allow-internet-egress`` lets pods connect: a CIDR minus private ranges, on some ports."""

    cidr: str = DEFAULT_INTERNET_CIDR
    except_: tuple[str, ...] = DEFAULT_INTERNET_EXCEPT
    ports: tuple[Port, ...] = tuple(Port(**p) for p in DEFAULT_INTERNET_PORTS)
    path: str = ""
    given: bool = False  # written in the inventory (not the defaults): dead without its profile


@dataclass(frozen=True)
class Dns:
    """Where the cluster DNS runs; ``allow-dns-egress`` opens UDP and TCP 53 to it."""

    namespace: str = DEFAULT_DNS_NAMESPACE
    pod_labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DNS_LABELS))
    path: str = ""


@dataclass(frozen=True)
class Acknowledge:
    """Risks the user accepts knowingly; each turns one error of the semantic checks off."""

    egress_without_dns: bool = False
    world_ingress: bool = False


@dataclass(frozen=True)
class ExtraPolicy:
    """A free-form NetworkPolicy ``spec`` for what the profiles cannot say."""

    name: str
    spec: dict[str, Any]
    path: str = ""


@dataclass(frozen=True)
class Namespace:
    """One namespace with its workloads and the policies to render for it."""

    name: str
    labels: dict[str, str]
    profiles: tuple[str, ...]
    workloads: tuple[Workload, ...] = ()
    allow_from_namespaces: tuple[NamespaceSource, ...] = ()
    allow_from_pods: tuple[PodSource, ...] = ()
    internet_egress: InternetEgress = InternetEgress()
    dns: Dns = Dns()
    acknowledge: Acknowledge = Acknowledge()
    extra_policies: tuple[ExtraPolicy, ...] = ()
    path: str = ""

    def profile_path(self, profile: str) -> str:
        return f"{self.path}.profiles[{self.profiles.index(profile)}]"


@dataclass(frozen=True)
class Inventory:
    """The parsed ``netfence_namespaces``, and the namespaces declared outside netfence
    (``netfence_external_namespaces``): referring to one of those is deliberate, not a typo."""

    namespaces: tuple[Namespace, ...]
    external: tuple[str, ...] = ()

    def knows(self, name: str) -> bool:
        """Is ``name`` a namespace of the inventory, managed or declared external?"""
        return name in self.external or any(ns.name == name for ns in self.namespaces)

    def namespace(self, name: str) -> Namespace | None:
        return next((ns for ns in self.namespaces if ns.name == name), None)


class _Reader:
    """Collects problems while walking raw YAML; every check names the inventory path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: str, allowed: Iterable[str], required: Iterable[str] = ()) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping, not {_kind(value)}")
            return None
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.75)
                hint = f"did you mean {near[0]!r}? " if near else ""
                self.error(f"{path}.{key}", f"unknown key {key!r}; {hint}allowed keys: {', '.join(allowed)}")
        for key in required:
            if value.get(key) is None:
                self.error(f"{path}.{key}", "is required")
        return value

    def items(self, value: Any, path: str) -> list[tuple[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"must be a list, not {_kind(value)}")
            return []
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]

    def labels(self, value: Any, path: str, *, required: bool = False) -> dict[str, str]:
        if value is None:
            if required:
                self.error(path, "is required (a mapping of label keys to values)")
            return {}
        for suffix, reason in syntax.labels(value):
            self.error(f"{path}{suffix}", reason)
        if required and value == {}:
            self.error(path, "must not be empty: an empty selector would match every pod")
        return dict(value) if isinstance(value, dict) else {}

    def dns_label(self, value: Any, path: str) -> str:
        reason = syntax.dns_label(value)
        if reason:
            self.error(path, reason)
        return value if isinstance(value, str) else ""

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(path, f"must be true or false, not {value!r}")
            return default
        return value

    def integer(self, value: Any, path: str, low: int, high: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"must be a number {low}-{high}, not {value!r}")
            return None
        if not low <= value <= high:
            self.error(path, f"{value} is out of range {low}-{high}")
        return value

    def protocol(self, value: Any, path: str) -> str:
        if value is None:
            return "TCP"
        reason = syntax.protocol(value)
        if reason:
            self.error(path, reason)
        return value if isinstance(value, str) else "TCP"

    def ports(self, value: Any, path: str) -> tuple[Port, ...]:
        result = []
        for item_path, item in self.items(value, path):
            raw = self.mapping(item, item_path, KEYS["ports[]"], required=("port",))
            if raw is None or raw.get("port") is None:
                continue
            reason = syntax.port_value(raw["port"])
            if reason:
                self.error(f"{item_path}.port", reason)
            protocol = self.protocol(raw.get("protocol"), f"{item_path}.protocol")
            end = raw.get("end_port")
            reason = syntax.end_port(raw["port"], end)
            if reason:
                self.error(f"{item_path}.end_port", reason)
            result.append(Port(raw["port"], protocol, end if isinstance(end, int) else None, item_path))
        return tuple(result)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: f"the string {value!r}", bool: f"{value}"}.get(
        type(value), f"{type(value).__name__} {value!r}")


def _slug(*parts: str) -> str:
    """A name fragment from labels or namespace names: lowercase, '-' for anything else."""
    text = "-".join(p for p in parts if p).lower()
    text = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in text)
    while "--" in text:
        text = text.replace("--", "-")
    return text.strip("-")[:40].strip("-")


def _workload(reader: _Reader, raw: Any, path: str) -> Workload | None:
    data = reader.mapping(raw, path, KEYS["workloads[]"], required=("name", "labels"))
    if data is None:
        return None
    name = reader.dns_label(data.get("name"), f"{path}.name") if data.get("name") is not None else ""
    labels = reader.labels(data.get("labels"), f"{path}.labels", required=True)
    container_port = reader.integer(data.get("container_port"), f"{path}.container_port", 1, 65535)
    service_port = reader.integer(data.get("service_port"), f"{path}.service_port", 1, 65535)
    port_name = data.get("port_name")
    if port_name is not None:
        reason = syntax.port_value(port_name) if isinstance(port_name, str) else "must be a string"
        if reason or not isinstance(port_name, str):
            reader.error(f"{path}.port_name", reason or "must be a string")
        if container_port is None:
            reader.error(f"{path}.port_name", "names a container port, so container_port is required")
    if service_port is not None and container_port is None:
        reader.error(f"{path}.service_port", "a Service needs a target: set container_port too")
    replicas = reader.integer(data.get("replicas"), f"{path}.replicas", 0, 1000)
    image = data.get("image")
    if image is not None and not isinstance(image, str):
        reader.error(f"{path}.image", "must be a string (an image reference)")
    return Workload(
        name=name,
        labels=labels,
        image=image if isinstance(image, str) else None,
        container_port=container_port,
        service_port=service_port,
        port_name=port_name if isinstance(port_name, str) else None,
        protocol=reader.protocol(data.get("protocol"), f"{path}.protocol"),
        replicas=1 if replicas is None else replicas,
        path=path,
    )


def _namespace_source(reader: _Reader, raw: Any, path: str) -> NamespaceSource | None:
    data = reader.mapping(raw, path, KEYS["allow_from_namespaces[]"])
    if data is None:
        return None
    namespaces = tuple(reader.dns_label(v, p) for p, v in reader.items(data.get("namespaces"), f"{path}.namespaces"))
    ns_labels = reader.labels(data.get("namespace_labels"), f"{path}.namespace_labels")
    if bool(namespaces) == bool(ns_labels):
        reader.error(path, "set exactly one of 'namespaces' (a list of names) or 'namespace_labels' (a selector)")
    pod_labels = None
    if data.get("pod_labels") is not None:
        pod_labels = reader.labels(data.get("pod_labels"), f"{path}.pod_labels")
    name = data.get("name")
    if name is None:
        name = _slug(*namespaces)
        if not name:
            reader.error(f"{path}.name", "is required when the sources are chosen by namespace_labels")
    else:
        reader.dns_label(name, f"{path}.name")
    return NamespaceSource(
        name=name if isinstance(name, str) else "",
        namespaces=namespaces,
        namespace_labels=ns_labels,
        pod_labels=pod_labels,
        target_labels=reader.labels(data.get("target_labels"), f"{path}.target_labels"),
        ports=reader.ports(data.get("ports"), f"{path}.ports"),
        path=path,
    )


def _pod_source(reader: _Reader, raw: Any, path: str, own: str) -> PodSource | None:
    data = reader.mapping(raw, path, KEYS["allow_from_pods[]"], required=("pod_labels",))
    if data is None:
        return None
    pod_labels = reader.labels(data.get("pod_labels"), f"{path}.pod_labels", required=data.get("pod_labels") is not None)
    namespace = data.get("namespace")
    if namespace is not None:
        reader.dns_label(namespace, f"{path}.namespace")
    name = data.get("name")
    if name is None:
        name = _slug(namespace or own, *(str(pod_labels[k]) for k in sorted(pod_labels)))
    else:
        reader.dns_label(name, f"{path}.name")
    return PodSource(
        name=name if isinstance(name, str) else "",
        pod_labels=pod_labels,
        namespace=namespace if isinstance(namespace, str) and namespace != own else None,
        target_labels=reader.labels(data.get("target_labels"), f"{path}.target_labels"),
        ports=reader.ports(data.get("ports"), f"{path}.ports"),
        path=path,
    )


def _internet(reader: _Reader, raw: Any, path: str) -> InternetEgress:
    if raw is None:
        return InternetEgress(path=path)
    data = reader.mapping(raw, path, KEYS["internet_egress"])
    if data is None:
        return InternetEgress(path=path)
    block = data.get("cidr", DEFAULT_INTERNET_CIDR)
    outer, reason = syntax.cidr(block)
    if reason:
        reader.error(f"{path}.cidr", reason)
    excepts = tuple(DEFAULT_INTERNET_EXCEPT) if "except" not in data else ()
    if "except" in data:
        collected = []
        for item_path, item in reader.items(data.get("except"), f"{path}.except"):
            if outer is not None:
                reason = syntax.except_inside(outer, item)
                if reason:
                    reader.error(item_path, reason)
            collected.append(item)
        excepts = tuple(collected)
    ports = reader.ports(data["ports"], f"{path}.ports") if "ports" in data else InternetEgress().ports
    return InternetEgress(cidr=block if isinstance(block, str) else "", except_=excepts, ports=ports, path=path,
                          given=True)


def _dns(reader: _Reader, raw: Any, path: str) -> Dns:
    if raw is None:
        return Dns(path=path)
    data = reader.mapping(raw, path, KEYS["dns"])
    if data is None:
        return Dns(path=path)
    namespace = reader.dns_label(data.get("namespace", DEFAULT_DNS_NAMESPACE), f"{path}.namespace")
    pod_labels = reader.labels(data.get("pod_labels", DEFAULT_DNS_LABELS), f"{path}.pod_labels", required=True)
    return Dns(namespace=namespace, pod_labels=pod_labels, path=path)


def _acknowledge(reader: _Reader, raw: Any, path: str) -> Acknowledge:
    if raw is None:
        return Acknowledge()
    data = reader.mapping(raw, path, KEYS["acknowledge"])
    if data is None:
        return Acknowledge()
    return Acknowledge(
        egress_without_dns=reader.boolean(data.get("egress_without_dns"), f"{path}.egress_without_dns", False),
        world_ingress=reader.boolean(data.get("world_ingress"), f"{path}.world_ingress", False),
    )


def _extra(reader: _Reader, raw: Any, path: str) -> ExtraPolicy | None:
    data = reader.mapping(raw, path, KEYS["extra_policies[]"], required=("name", "spec"))
    if data is None:
        return None
    name = reader.dns_label(data.get("name"), f"{path}.name") if data.get("name") is not None else ""
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        reader.error(f"{path}.spec", f"must be a NetworkPolicy spec (a mapping), not {_kind(spec)}")
        spec = None
    return ExtraPolicy(name=name, spec=spec or {}, path=path)


def _profiles(reader: _Reader, raw: Any, path: str) -> tuple[str, ...]:
    result = []
    for item_path, item in reader.items(raw, path):
        if item not in PROFILES:
            reader.error(item_path, f"unknown profile {item!r}; profiles: {', '.join(PROFILES)}")
        elif item in result:
            reader.error(item_path, f"profile {item!r} is listed twice")
        else:
            result.append(item)
    return tuple(result)


NAMESPACE_KEYS = (
    "name", "labels", "profiles", "workloads", "allow_from_namespaces", "allow_from_pods",
    "internet_egress", "dns", "acknowledge", "extra_policies",
)


def _namespace(reader: _Reader, raw: Any, path: str) -> Namespace | None:
    data = reader.mapping(raw, path, NAMESPACE_KEYS, required=("name",))
    if data is None:
        return None
    name = reader.dns_label(data.get("name"), f"{path}.name") if data.get("name") is not None else ""
    profiles = _profiles(reader, data.get("profiles"), f"{path}.profiles")
    workloads = tuple(w for p, v in reader.items(data.get("workloads"), f"{path}.workloads")
                      if (w := _workload(reader, v, p)) is not None)
    _unique(reader, [(w.path, w.name) for w in workloads], "name", "workload")
    from_ns = tuple(s for p, v in reader.items(data.get("allow_from_namespaces"), f"{path}.allow_from_namespaces")
                    if (s := _namespace_source(reader, v, p)) is not None)
    from_pods = tuple(s for p, v in reader.items(data.get("allow_from_pods"), f"{path}.allow_from_pods")
                      if (s := _pod_source(reader, v, p, name)) is not None)
    extras = tuple(e for p, v in reader.items(data.get("extra_policies"), f"{path}.extra_policies")
                   if (e := _extra(reader, v, p)) is not None)
    for key, entries, profile in (("allow_from_namespaces", from_ns, "allow-from-namespaces"),
                                  ("allow_from_pods", from_pods, "allow-from-pods")):
        _unique(reader, [(e.path, e.name) for e in entries], "name", key)
        if entries and profile not in profiles:
            reader.error(f"{path}.{key}", f"has entries but the profile {profile!r} is not in profiles, "
                         "so nothing would be rendered from them")
        if profile in profiles and not entries:
            reader.error(f"{path}.profiles", f"profile {profile!r} needs at least one entry in {key}")
    _unique(reader, [(e.path, e.name) for e in extras], "name", "extra policy")
    labels = reader.labels(data.get("labels"), f"{path}.labels")
    if labels.get(NS_NAME_LABEL, name) != name:
        reader.error(f"{path}.labels['{NS_NAME_LABEL}']",
                     f"the API server sets this label to the namespace's own name ({name!r}), not "
                     f"{labels[NS_NAME_LABEL]!r}; a policy selecting {labels[NS_NAME_LABEL]!r} would not match (remove it)")
    return Namespace(
        name=name,
        labels=labels,
        profiles=profiles,
        workloads=workloads,
        allow_from_namespaces=from_ns,
        allow_from_pods=from_pods,
        internet_egress=_internet(reader, data.get("internet_egress"), f"{path}.internet_egress"),
        dns=_dns(reader, data.get("dns"), f"{path}.dns"),
        acknowledge=_acknowledge(reader, data.get("acknowledge"), f"{path}.acknowledge"),
        extra_policies=extras,
        path=path,
    )


def _unique(reader: _Reader, named: list[tuple[str, str]], key: str, what: str) -> None:
    seen: dict[str, str] = {}
    for path, name in named:
        if not name:
            continue
        if name in seen:
            reader.error(f"{path}.{key}", f"{what} {name!r} is defined twice (first at {seen[name]})")
        else:
            seen[name] = path


EXTERNAL_VARIABLE = "netfence_external_namespaces"


def _external(reader: _Reader, raw: Any, managed: set[str]) -> tuple[str, ...]:
    """``netfence_external_namespaces``: names only (netfence creates nothing there and renders no
    policy for them); each a namespace name, once, and not also one netfence manages."""
    if raw is None:
        return ()
    names: list[str] = []
    for path, item in reader.items(raw, EXTERNAL_VARIABLE):
        if syntax.dns_label(item) is not None:
            reader.dns_label(item, path)  # names the problem
            continue
        name = str(item)
        if name in managed:
            reader.error(path, f"namespace {name!r} is also in {VARIABLE}, which netfence manages; "
                               "an external namespace is one netfence does not manage (remove it from one list)")
        elif name in names:
            reader.error(path, f"namespace {name!r} is listed twice")
        else:
            names.append(name)
    return tuple(names)


def parse(namespaces: Any, variable: str = VARIABLE, external: Any = None) -> Inventory:
    """Parse ``netfence_namespaces`` (and ``netfence_external_namespaces``, when given); raise
    :class:`InventoryError` listing every problem found."""
    reader = _Reader()
    if not isinstance(namespaces, list) or not namespaces:
        reader.error(variable, f"must be a non-empty list of namespaces, not {_kind(namespaces)}")
        raise InventoryError(reader.problems)
    parsed = tuple(ns for p, v in reader.items(namespaces, variable) if (ns := _namespace(reader, v, p)) is not None)
    _unique(reader, [(ns.path, ns.name) for ns in parsed], "name", "namespace")
    outside = _external(reader, external, {ns.name for ns in parsed})
    if reader.problems:
        raise InventoryError(reader.problems)
    return Inventory(parsed, outside)


def load_variables(group_vars: Mapping[str, Any]) -> Any:
    """The raw ``netfence_namespaces`` value of a variable mapping, or a clear error if missing."""
    if VARIABLE not in group_vars:
        raise NetfenceError(f"{VARIABLE} is not defined in the inventory (group_vars/all/namespaces.yml)")
    return group_vars[VARIABLE]
