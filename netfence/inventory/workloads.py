"""The demo workloads' manifests, rendered from the lab: what is deployed is what was predicted.

Each workload pod of :class:`netfence.inventory.lab.Lab` becomes a Deployment (and a Service when the
workload has a ``service_port``). The pod template's labels and container port are the lab pod's
own labels and ports, so the prediction, the probes and the cluster cannot disagree about them.
A workload without ``container_port`` is a client: it runs agnhost ``pause`` and listens on
nothing, exactly as predicted (no ports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import yaml

from netfence.inventory.schema import Workload
from netfence.inventory.lab import Lab
from netfence.labels import MANAGED_BY, WORKLOAD_NAME_LABEL
from netfence.policy.model import Pod

HEADER = "# Rendered by netfence from the inventory (netfence.inventory.workloads): change the inventory, not this file.\n"


@dataclass(frozen=True)
class Options:
    """How the workloads run; the workloads role's options (docs in its argument_specs)."""

    default_image: str
    image_digests: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    agnhost_args: Sequence[str] = ("netexec", "--http-port={port}", "--http-override=/healthz")
    run_as_user: int = 65532
    pull_policy: str = "IfNotPresent"


def image_of(workload: Workload, options: Options) -> str:
    """The workload's image, pinned by digest where ``image_digests`` knows its tag."""
    image = workload.image or options.default_image
    if "@sha256:" not in image and image in options.image_digests:
        image = f"{image}@{options.image_digests[image]}"
    return image


def unpinned_images(lab: Lab, options: Options) -> list[str]:
    """Images the inventory names without a digest that ``image_digests`` does not pin either."""
    found = [image_of(w, options) for _, w in lab.workloads.values()]
    return sorted({image for image in found if "@sha256:" not in image})


def _container(pod: Pod, workload: Workload, options: Options) -> dict[str, Any]:
    image = image_of(workload, options)
    container: dict[str, Any] = {"name": workload.name, "image": image, "imagePullPolicy": options.pull_policy}
    agnhost = "e2e-test-images/agnhost" in image
    if pod.ports:
        port = pod.ports[0]
        if agnhost:
            container["args"] = [arg.replace("{port}", str(port.port)) for arg in options.agnhost_args]
        container["ports"] = [{"name": port.name, "containerPort": port.port, "protocol": port.protocol}]
        container["readinessProbe"] = {"httpGet": {"path": options.health_path, "port": port.name}, "periodSeconds": 5}
    elif agnhost:
        container["args"] = ["pause"]  # a client: listens on nothing, as predicted
    container["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    return container


def deployment(pod: Pod, workload: Workload, options: Options) -> dict[str, Any]:
    """The Deployment whose pods are ``pod``: its labels, its ports, non-root and restricted."""
    labels = dict(pod.labels)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": workload.name, "namespace": pod.namespace, "labels": dict(labels)},
        "spec": {
            "replicas": workload.replicas,
            "selector": {"matchLabels": {WORKLOAD_NAME_LABEL: workload.name}},
            "template": {
                "metadata": {"labels": dict(labels)},  # a copy each: no YAML anchors in the manifest
                "spec": {
                    "automountServiceAccountToken": False,
                    # Pod Security "restricted": non-root, RuntimeDefault seccomp, no privileges.
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": options.run_as_user,
                        "runAsGroup": options.run_as_user,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_container(pod, workload, options)],
                },
            },
        },
    }


def service(pod: Pod, workload: Workload) -> dict[str, Any] | None:
    """The Service in front of the workload (``service_port`` -> the named container port)."""
    if workload.service_port is None or not pod.ports:
        return None
    port = pod.ports[0]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": workload.name, "namespace": pod.namespace,
                     "labels": {**(dict(workload.labels) or {"app": workload.name}), **MANAGED_BY}},
        "spec": {
            "selector": {WORKLOAD_NAME_LABEL: workload.name},
            "ports": [{"name": port.name, "port": workload.service_port, "targetPort": port.name,
                       "protocol": port.protocol}],
        },
    }


def manifests(lab: Lab, options: Options) -> dict[str, list[dict[str, Any]]]:
    """Per namespace with workloads: its Deployments and Services, in inventory order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for pod in lab.workload_pods:
        workload = lab.workloads[pod.key][1]
        docs = out.setdefault(pod.namespace, [])
        docs.append(deployment(pod, workload, options))
        if (svc := service(pod, workload)) is not None:
            docs.append(svc)
    return out


def to_yaml(documents: Sequence[Mapping[str, Any]]) -> str:
    """Deterministic multi-document YAML (keys in the order written above)."""
    return HEADER + "".join("---\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False) for doc in documents)
