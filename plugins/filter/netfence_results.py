"""Reading what a failed (often looped) Kubernetes read said, for one clear message.

A task looped over namespaces fails as a whole; the per-namespace cause (a 403 for one
namespace, a timeout for the API) sits in ``results[i].msg``. Roles that read namespace by
namespace (an identity allowed only the inventory's namespaces can do nothing else) turn that
into "namespace: cause" lines. Pure: registered results in, plain data out.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

# kubernetes.core quotes the client's exception whole: status, headers, the Status body, a traceback.
_BODY = re.compile(r"HTTP response body: (\{.*?\})\s*(?:\n|$)", re.S)


def api_error(message: Any) -> str:
    """The API server's own words from a kubernetes.core failure message: the ``message`` of the
    Status body (``services is forbidden: User "..." cannot list ...``) with its code, or the first
    line when there is no Status body (a connection error, a timeout)."""
    text = str(message or "no answer")
    match = _BODY.search(text)
    if match:
        try:
            status = json.loads(match.group(1))
        except ValueError:
            status = None
        if isinstance(status, Mapping) and status.get("message"):
            return f"{status.get('code', '?')} {status.get('reason', '')}: {status['message']}".replace("  ", " ")
    return text.strip().splitlines()[0] if text.strip() else "no answer"


def failures(result: Any) -> dict[str, str]:
    """``{item: msg}`` for every failed item of a looped result; ``{"": msg}`` for a failed task
    without a loop (the API did not answer, say). Items that succeeded or were skipped are left out."""
    if not isinstance(result, Mapping):
        return {}
    items = result.get("results")
    if not isinstance(items, list):
        return {"": api_error(result.get("msg"))} if result.get("failed") else {}
    return {str(r.get("item")): api_error(r.get("msg"))
            for r in items if isinstance(r, Mapping) and r.get("failed")}


def succeeded_items(result: Any) -> list[Mapping[str, Any]]:
    """The items of a looped result that ran and did not fail (skipped ones are left out)."""
    items = result.get("results") if isinstance(result, Mapping) else None
    return [r for r in items or [] if isinstance(r, Mapping) and not r.get("failed") and not r.get("skipped")]


class FilterModule:
    """netfence_api_error, netfence_failures, netfence_succeeded_items."""

    def filters(self) -> dict[str, Any]:
        return {"netfence_api_error": api_error, "netfence_failures": failures, "netfence_succeeded_items": succeeded_items}
