"""Reading what a failed (often looped) Kubernetes read said, for one clear message.

A task looped over namespaces fails as a whole; the per-namespace cause (a 403 for one
namespace, a timeout for the API) sits in ``results[i].msg``. Roles that read namespace by
namespace (an identity allowed only the inventory's namespaces can do nothing else) turn that
into "namespace: cause" lines. Pure: registered results in, plain data out.
"""

from __future__ import annotations

from typing import Any, Mapping


def failures(result: Any) -> dict[str, str]:
    """``{item: msg}`` for every failed item of a looped result; ``{"": msg}`` for a failed task
    without a loop (the API did not answer, say). Items that succeeded or were skipped are left out."""
    if not isinstance(result, Mapping):
        return {}
    items = result.get("results")
    if not isinstance(items, list):
        return {"": str(result.get("msg") or "no answer")} if result.get("failed") else {}
    return {str(r.get("item")): str(r.get("msg") or "no answer")
            for r in items if isinstance(r, Mapping) and r.get("failed")}


def succeeded_items(result: Any) -> list[Mapping[str, Any]]:
    """The items of a looped result that ran and did not fail (skipped ones are left out)."""
    items = result.get("results") if isinstance(result, Mapping) else None
    return [r for r in items or [] if isinstance(r, Mapping) and not r.get("failed") and not r.get("skipped")]


class FilterModule:
    """netfence_failures, netfence_succeeded_items."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_failures": failures, "netfence_succeeded_items": succeeded_items}
