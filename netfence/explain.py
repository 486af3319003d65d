"""Human explanations of verdicts: which policies isolate each side, which rule allows.

A reviewer asking "why is this blocked?" needs the two halves of the answer that
NetworkPolicy splits a connection into: the source's egress and the destination's ingress.
Each half is either open (no policy selects that pod for that direction), allowed by named
rules, or denied because the pod is isolated and no rule of the isolating policies matches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for type hints only: engine imports this module lazily
    from netfence.engine import Decision, Verdict


def explain_decision(decision: "Decision") -> list[str]:
    """Lines describing one side of a connection."""
    side = f"{decision.direction} of {decision.subject}"
    if not decision.is_pod:
        return [f"{side}: not a pod, no NetworkPolicy applies -> allowed"]
    if not decision.isolating:
        return [f"{side}: not isolated (no policy selects it for {decision.direction}) -> allowed"]
    lines = [f"{side}: isolated by {', '.join(decision.isolating)}"]
    if decision.allowing:
        for rule in decision.allowing:
            lines.append(f"  allowed by {rule.describe()}")
        lines[0] += " -> allowed"
    else:
        lines[0] += " -> denied"
        lines.append(f"  no {decision.direction} rule of these policies matches this peer, port and protocol")
    return lines


def explain_verdict(verdict: "Verdict") -> str:
    """Multi-line explanation, first line the verdict itself."""
    outcome = "ALLOWED" if verdict.allowed else "DENIED"
    lines = [f"{verdict.src} -> {verdict.dst} {verdict.protocol}/{verdict.port}: {outcome}"]
    lines += ["  " + line for line in explain_decision(verdict.egress)]
    lines += ["  " + line for line in explain_decision(verdict.ingress)]
    if not verdict.allowed:
        blocked = [d.direction for d in (verdict.egress, verdict.ingress) if not d.allowed]
        lines.append(f"  blocked at: {' and '.join(blocked)}")
    return "\n".join(lines) + "\n"
