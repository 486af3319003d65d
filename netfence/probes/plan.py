"""Which probes to run and which probe pods they need. Pure: inputs are plain data.

Probes come from two places: the inventory's explicit checks (``netfence_probes``, with
expected outcomes per phase) and the engine's predicted matrix (every declared source ×
target, expected to match the prediction after the policies are applied). Probe pods are
planned per source identity, so a hundred probes from three workloads need three pods.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from netfence.errors import NetfenceError
from netfence.inventory.schema import Workload, parse
from netfence.inventory.lab import build
from netfence.policy.model import Pod
from netfence.labels import (
    MANAGED_BY, MANAGED_BY_LABEL, PHASE_ANNOTATION, ROLE_LABEL, RUN_ID_ANNOTATION, SOURCE_ANNOTATION,
)
from netfence.probes.records import ALLOWED, BLOCKED, EXPECTATIONS, METHODS, PHASES, REFUSED, ProbeSpec, Source, Target

DEFAULT_PORTS = {"api": 443, "dns": 53, "external": 443}


class _Declared(NamedTuple):
    """A workload as the lab deploys it: its pod (effective labels, named ports) and its record."""

    namespace: str
    name: str
    pod: Pod
    workload: Workload


def _workload_index(namespaces: Any) -> dict[str, _Declared]:
    """``namespace/name`` -> the workload's lab pod and inventory record (:mod:`netfence.inventory.lab`),
    so a probe pod carries exactly the labels the workload's pods carry."""
    if not namespaces:
        return {}
    lab = build(parse(list(namespaces)))
    pods = {pod.key: pod for pod in lab.workload_pods}
    return {key: _Declared(ns.name, workload.name, pods[key], workload) for key, (ns, workload) in lab.workloads.items()}


def _pod_labels(declared: _Declared) -> dict[str, str]:
    """The labels the workload's pods carry on the cluster, without managed-by: :func:`probe_pod`
    adds netfence's own labels itself. The Deployment's ReplicaSet never adopts a probe pod: its
    selector also holds ``pod-template-hash``, which probe pods do not carry."""
    labels = dict(declared.pod.labels)
    labels.pop(MANAGED_BY_LABEL, None)
    return labels


def declared_listening(target: Target, port: int, workloads: Mapping[str, _Declared]) -> bool | None:
    """True when the inventory declares that ``target`` listens on ``port``: a pod target's
    container port, or a Service's port of the workload of that name. None: not known."""
    declared = workloads.get(target.ref) if target.kind in ("pod", "service") else None
    if declared is None:
        return None
    if target.kind == "pod":
        return True if any(cp.port == int(port) for cp in declared.pod.ports) else None
    return True if declared.workload.service_port == int(port) else None


def _split_ref(ref: Any, where: str) -> tuple[str, str]:
    if not isinstance(ref, str) or ref.count("/") != 1 or not all(ref.split("/")):
        raise NetfenceError(f"{where} must be 'namespace/name', got {ref!r}")
    ns, name = ref.split("/")
    return ns, name


def _source(spec: Mapping[str, Any], workloads: Mapping[str, _Declared], where: str) -> Source:
    if not isinstance(spec, Mapping) or not spec.get("namespace"):
        raise NetfenceError(f"{where}.from needs a namespace")
    ns = str(spec["namespace"])
    if spec.get("workload"):
        ref = f"{ns}/{spec['workload']}"
        if ref not in workloads:
            raise NetfenceError(f"{where}.from.workload {ref!r} is not a workload of netfence_namespaces")
        return Source.of(ns, _pod_labels(workloads[ref]), str(spec["workload"]))
    labels = spec.get("labels")
    if labels is None or not isinstance(labels, Mapping):
        raise NetfenceError(f"{where}.from needs a workload or a labels mapping (use {{}} for an unlabelled pod)")
    return Source.of(ns, labels, None)


def _target(spec: Mapping[str, Any], workloads: Mapping[str, _Declared], where: str, domain: str) -> Target:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise NetfenceError(f"{where}.to must have exactly one of service, pod, api, dns, external")
    (kind, value), = spec.items()
    if kind == "service":
        ns, name = _split_ref(value, f"{where}.to.service")
        return Target("service", f"{ns}/{name}", f"{name}.{ns}.svc.{domain}")
    if kind == "pod":
        ns, name = _split_ref(value, f"{where}.to.pod")
        if f"{ns}/{name}" not in workloads:
            raise NetfenceError(f"{where}.to.pod {value!r} is not a workload of netfence_namespaces")
        labels = _pod_labels(workloads[f"{ns}/{name}"])
        return Target("pod", f"{ns}/{name}", "", tuple(sorted((str(k), str(v)) for k, v in labels.items())))
    if kind == "api":
        return Target("api", "kubernetes", f"kubernetes.default.svc.{domain}")
    if kind == "dns":
        query = value if isinstance(value, str) and value else f"kubernetes.default.svc.{domain}"
        return Target("dns", "cluster-dns", query)
    if kind == "external":
        if not value or not isinstance(value, str):
            raise NetfenceError(f"{where}.to.external needs an address")
        return Target("external", value, value)
    raise NetfenceError(f"{where}.to.{kind} is not a target kind (service, pod, api, dns, external)")


def _expect(spec: Any, where: str) -> tuple[tuple[str, str], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise NetfenceError(f"{where}.expect must map phases to allowed|blocked")
    for phase, outcome in spec.items():
        if phase not in PHASES:
            raise NetfenceError(f"{where}.expect.{phase}: phase must be one of {', '.join(PHASES)}")
        if outcome not in EXPECTATIONS:
            raise NetfenceError(f"{where}.expect.{phase}: expected outcome must be allowed or blocked, not {outcome!r}")
    return tuple(sorted((str(k), str(v)) for k, v in spec.items()))


def from_inventory(probes: Iterable[Mapping[str, Any]], namespaces: Iterable[Mapping[str, Any]], *, domain: str = "cluster.local") -> list[ProbeSpec]:
    """Parse ``netfence_probes``; errors name the inventory path of the mistake."""
    workloads = _workload_index(namespaces)
    specs: list[ProbeSpec] = []
    seen: set[str] = set()
    for i, probe in enumerate(probes or []):
        where = f"netfence_probes[{i}]"
        if not isinstance(probe, Mapping) or not probe.get("name"):
            raise NetfenceError(f"{where} needs a name")
        name = str(probe["name"])
        if name in seen:
            raise NetfenceError(f"{where}.name {name!r} is used twice")
        seen.add(name)
        target = _target(probe.get("to"), workloads, where, domain)
        port = probe.get("port", DEFAULT_PORTS.get(target.kind))
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise NetfenceError(f"{where}.port must be a number 1-65535, got {port!r}")
        method = str(probe.get("method", "tcp"))
        if method not in METHODS:
            raise NetfenceError(f"{where}.method must be tcp or http, not {method!r}")
        protocol = str(probe.get("protocol", "UDP" if target.kind == "dns" else "TCP")).upper()
        if protocol != "TCP" and target.kind != "dns":
            raise NetfenceError(f"{where}.protocol {protocol}: only DNS probes may use UDP; TCP connect and HTTP GET need TCP")
        specs.append(ProbeSpec(
            name=name, source=_source(probe.get("from"), workloads, where), target=target, port=port,
            protocol=protocol, method=method, expect=_expect(probe.get("expect"), where), origin="inventory",
            listens=declared_listening(target, port, workloads) if protocol == "TCP" else None,
        ))
    return specs


def from_predicted(matrix: Any, namespaces: Iterable[Mapping[str, Any]], *, phase: str = "after") -> tuple[list[ProbeSpec], list[str]]:
    """Probes for every row of the engine's matrix whose source and target are declared workloads.

    Returns the probes and the rows that could not be probed (with the reason), so coverage in
    the report is honest about what was not checked. The prediction is the expectation of the
    ``after`` phase only: before the policies, the engine's prediction does not apply.
    """
    from netfence.evidence.predicted import matrix_rows

    if not isinstance(matrix, list) and not (isinstance(matrix, Mapping) and isinstance(matrix.get("rows", matrix.get("matrices")), list)):
        raise NetfenceError("predicted matrix must be a list of rows or an object with 'rows' or 'matrices'")
    rows = matrix_rows(matrix)
    workloads = _workload_index(namespaces)
    specs: list[ProbeSpec] = []
    skipped: list[str] = []
    for row in rows:
        try:
            src, dst, port = row["from"], row["to"], int(row["port"])
            protocol = str(row.get("protocol", "TCP")).upper()
            allowed = bool(row["allowed"])
        except (KeyError, TypeError, ValueError):
            skipped.append(f"{row!r}: not a matrix row")
            continue
        label = f"{src} -> {dst} {protocol}/{port}"
        if row.get("declared") is False:
            continue  # nothing listens there: a probe could only be refused
        if protocol != "TCP":
            skipped.append(f"{label}: {protocol} is not probed (only TCP connect and DNS)")
            continue
        if src not in workloads or dst not in workloads:
            skipped.append(f"{label}: not a declared workload")
            continue
        if src == dst:
            continue
        swl, dwl = workloads[src], workloads[dst]
        expect = ALLOWED if allowed else BLOCKED
        specs.append(ProbeSpec(
            name=f"predicted {label}",
            source=Source.of(swl.namespace, _pod_labels(swl), swl.name),
            target=Target("pod", dst, "", tuple(sorted(_pod_labels(dwl).items()))),
            port=port, protocol="TCP", method="tcp",
            expect=((phase, expect),) if phase == "after" else (), origin="predicted", predicted=allowed,
            listens=True,  # the row is a declared container port of the target (undeclared rows are skipped above)
        ))
    return specs, skipped


def blast_radius(
    namespaces: str | Sequence[str], labels: Mapping[str, str], services: Iterable[Mapping[str, Any]], *,
    external: str, domain: str = "cluster.local", dns_protocol: str = "UDP",
    inventory: Iterable[Mapping[str, Any]] = (),
) -> list[ProbeSpec]:
    """Probes for a rogue pod in each namespace: every TCP port of every Service, the API server,
    DNS, the internet. One rogue pod per namespace, because securing one namespace says nothing
    about the next; all of them probe concurrently, as one round. ``inventory`` (netfence_namespaces)
    tells which Service ports are known to listen (:func:`declared_listening`)."""
    workloads = _workload_index(inventory)
    targets: list[tuple[str, Target, int, str]] = []
    for svc in services or []:
        meta, spec = svc.get("metadata", {}), svc.get("spec", {})
        if spec.get("type") == "ExternalName" or not spec.get("ports"):
            continue
        ref = f"{meta['namespace']}/{meta['name']}"
        if ref == "default/kubernetes":
            continue  # probed below as the API target
        for port in spec["ports"]:
            if str(port.get("protocol", "TCP")).upper() != "TCP":
                continue
            targets.append((f"{ref}:{port['port']}", Target("service", ref, f"{meta['name']}.{meta['namespace']}.svc.{domain}"),
                            int(port["port"]), "TCP"))
    targets.append(("kubernetes-api:443", Target("api", "kubernetes", f"kubernetes.default.svc.{domain}"), 443, "TCP"))
    targets.append((f"cluster-dns:53/{dns_protocol}", Target("dns", "cluster-dns", f"kubernetes.default.svc.{domain}"), 53, dns_protocol))
    targets.append((f"internet {external}:443", Target("external", external, external), 443, "TCP"))
    specs = []
    for namespace in dict.fromkeys([namespaces] if isinstance(namespaces, str) else namespaces):  # once each, in order
        rogue = Source.of(namespace, labels, "rogue")
        specs += [ProbeSpec(name=f"blast from {namespace} to {label}", source=rogue, target=target, port=port,
                            protocol=protocol, origin="blast-radius",
                            # the API server always listens on the kubernetes Service's 443
                            listens=True if target.kind == "api" else declared_listening(target, port, workloads))
                  for label, target, port, protocol in targets]
    return specs


def _always_refused(record: Mapping[str, Any]) -> bool:
    attempts = [a for a in record.get("attempts") or [] if isinstance(a, Mapping)]
    raw = [a.get("outcome") for a in attempts] or [record.get("outcome")]
    return all(outcome == REFUSED for outcome in raw)


def refused_before(specs: Sequence[ProbeSpec], before: Any) -> list[ProbeSpec]:
    """The after round's probes, minus the ``listens`` claim of those refused before the policies.

    A target that refused before any policy existed does not listen, whatever the inventory
    says, so its refusal after the policies is no evidence of a reject (``runner.rejected_if_listening``).
    ``before`` is the before round's document (probes/before.json) or None. The before round
    applies the same rule, so its records may say ``blocked``: what counts is the raw outcome of
    its attempts (every attempt refused).
    """
    records = before.get("records") if isinstance(before, Mapping) else None
    refused = {r.get("name") for r in records or [] if isinstance(r, Mapping) and _always_refused(r)}
    return [dataclasses.replace(s, listens=False) if s.name in refused and s.listens else s for s in specs]


def sources(specs: Iterable[ProbeSpec]) -> list[Source]:
    """Distinct source identities, in a stable order: one probe pod each."""
    return sorted({s.source.key: s.source for s in specs}.values(), key=lambda s: s.key)


def probe_pod(source: Source, *, run_id: str, image: str, phase: str = "", args: list[str] | None = None,
              pull_policy: str = "IfNotPresent", naked: bool = False) -> dict[str, Any]:
    """A probe pod that stands in for ``source`` and can never serve traffic.

    It carries exactly the workload's labels (so ``podSelector`` rules apply to it as they do to
    the workload) plus netfence's two labels. It declares no ports and its readiness probe
    always fails, so it is never Ready and Services never send it traffic (unless a Service sets
    ``publishNotReadyAddresses``). The run id is an annotation, not a label, so no selector of
    the user's can be affected by it.

    A ``naked`` pod (the blast radius's rogue pod) carries only the source's own labels, none by
    default: it stands for the unlabelled pod an attacker gets, so a policy selecting netfence's
    labels must not treat it differently. It is known as netfence's by its annotations.
    """
    role = "rogue" if naked else "probe"
    labels = dict(source.labels) if naked else {**dict(source.labels), **MANAGED_BY, ROLE_LABEL: role}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": source.pod_name(run_id, phase),
            "namespace": source.namespace,
            "labels": labels,
            "annotations": {RUN_ID_ANNOTATION: run_id, PHASE_ANNOTATION: phase, SOURCE_ANNOTATION: source.key,
                            ROLE_LABEL: role, **MANAGED_BY},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [{
                "name": "probe",
                "image": image,
                "imagePullPolicy": pull_policy,
                "args": list(args if args is not None else ["pause"]),
                "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 300, "failureThreshold": 1},
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            }],
        },
    }
