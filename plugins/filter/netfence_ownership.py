"""Is this object netfence's, and this inventory's? Pure tests for the teardown of existing clusters.

Teardown on a cluster netfence did not create must delete what this inventory created and
nothing else: not another inventory's namespaces (same label, another ``netfence.io/instance``
annotation), and not a namespace that also holds what a user put there (deleting a Namespace
deletes everything in it). Registered ``k8s_info`` results in, plain data out.
"""

from __future__ import annotations

from typing import Any, Mapping

from netfence.labels import INSTANCE_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE

# What Kubernetes itself puts in every namespace: never a reason to keep one.
_BUILT_IN = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}


def _meta(obj: Any) -> Mapping[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def owned(obj: Any, instance: str | None = None) -> bool:
    """Labelled ``app.kubernetes.io/managed-by=netfence`` and, when ``instance`` is given,
    annotated ``netfence.io/instance=<instance>``."""
    meta = _meta(obj)
    if (meta.get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        return False
    return instance is None or (meta.get("annotations") or {}).get(INSTANCE_ANNOTATION) == instance


def owned_names(objects: Any, instance: str | None = None, unmarked: bool = False) -> list[str]:
    """Names of the objects that are netfence's (:func:`owned`); with ``instance``, this
    inventory's only; with ``unmarked``, those netfence labelled before instance annotations
    existed (labelled, no ``netfence.io/instance``)."""
    out = []
    for obj in objects if isinstance(objects, list) else []:
        if not owned(obj):
            continue
        marked = (_meta(obj).get("annotations") or {}).get(INSTANCE_ANNOTATION)
        if (not marked) if unmarked else (instance is None or marked == instance):
            out.append(str(_meta(obj).get("name")))
    return out


def foreign_objects(result: Any) -> dict[str, list[str]]:
    """``{namespace: ["Kind name", ...]}`` of objects not netfence's, from a ``k8s_info`` task
    looped over ``[namespace, {kind, api_version}]`` pairs. Built-ins every namespace has
    (kube-root-ca.crt, the default ServiceAccount and its token Secrets) do not count."""
    out: dict[str, list[str]] = {}
    items = result.get("results") if isinstance(result, Mapping) else None
    for entry in items or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("item"), (list, tuple)):
            continue
        namespace, kind = entry["item"][0], (entry["item"][1] or {}).get("kind", "?")
        for obj in entry.get("resources") or []:
            name = str(_meta(obj).get("name", "?"))
            if owned(obj) or (kind, name) in _BUILT_IN or (obj.get("type") == "kubernetes.io/service-account-token"):
                continue
            out.setdefault(str(namespace), []).append(f"{kind} {name}")
    return {ns: sorted(names) for ns, names in sorted(out.items())}


def not_owned(result: Any) -> list[str]:
    """``["Kind namespace/name", ...]`` of the objects a ``k8s_info`` task looped over planned
    objects (items with ``kind``, ``namespace``, ``name``) found and that are not netfence's:
    the ones netfence must not take over."""
    out = []
    items = result.get("results") if isinstance(result, Mapping) else None
    for entry in items or []:
        item = entry.get("item") if isinstance(entry, Mapping) else None
        if not isinstance(item, Mapping):
            continue
        for obj in entry.get("resources") or []:
            if not owned(obj):
                out.append(f"{item.get('kind')} {item.get('namespace')}/{item.get('name')}")
    return out


class FilterModule:
    """netfence_owned_names, netfence_foreign_objects, netfence_not_owned: the one "is this netfence's?" test."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_owned_names": owned_names, "netfence_foreign_objects": foreign_objects,
                "netfence_not_owned": not_owned}
