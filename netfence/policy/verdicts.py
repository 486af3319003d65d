"""What the engine decides about one connection, and how that reads to a human.

NetworkPolicy splits a connection in two halves: the source's egress and the destination's
ingress. Each half (:class:`Decision`) is open (no policy selects that pod for that direction),
allowed by named rules, or denied because the pod is isolated and no rule of the isolating
policies matches; a :class:`Verdict` is both halves. The records and their explanations live
together here, so the engine imports them and nothing imports the engine back.
"""

from __future__ import annotations

from typing import NamedTuple


class RuleMatch(NamedTuple):
    """A rule that allows the connection: policy, direction, rule index and what it says."""

    policy: str
    direction: str
    index: int
    peer: str
    port: str

    def describe(self) -> str:
        return f"{self.policy} {self.direction}[{self.index}]: {self.peer}, {self.port}"


class Decision(NamedTuple):
    """One side of a connection: the source's egress or the destination's ingress."""

    direction: str  # "egress" | "ingress"
    subject: str  # endpoint whose policies are evaluated
    is_pod: bool
    isolating: tuple[str, ...]  # policies that select the subject for this direction
    allowing: tuple[RuleMatch, ...]  # rules that allow the connection

    @property
    def isolated(self) -> bool:
        return bool(self.isolating)

    @property
    def allowed(self) -> bool:
        return not self.isolating or bool(self.allowing)

    def document(self) -> dict[str, object]:
        """``{subject, allowed, isolating: [policy], allowing: [{policy, direction, rule, peer, port}]}``."""
        return {"subject": self.subject, "allowed": self.allowed, "isolating": list(self.isolating),
                "allowing": [{"policy": r.policy, "direction": r.direction, "rule": r.index, "peer": r.peer, "port": r.port}
                             for r in self.allowing]}


class Verdict(NamedTuple):
    src: str
    dst: str
    port: int
    protocol: str
    egress: Decision
    ingress: Decision

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

    def row(self) -> dict[str, object]:
        return {"from": self.src, "to": self.dst, "port": self.port, "protocol": self.protocol, "allowed": self.allowed}

    def explain(self) -> str:
        return explain_verdict(self)

    def document(self) -> dict[str, object]:
        """The verdict and both halves as plain data (``netfence explain --format json``)."""
        return {**self.row(), "egress": self.egress.document(), "ingress": self.ingress.document()}


def explain_decision(decision: Decision) -> list[str]:
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


def decision_cell(decision: Decision) -> str:
    """One side in a few words, for a walkthrough table of many connections: ``open`` (nothing
    selects the pod), ``Y <policy> <direction>[i]`` (the first allowing rule, and how many more)
    or ``N isolated by <policy>`` (the first isolating policy, and how many more: none of their
    rules matches). A single connection's :func:`explain_verdict` names them all."""
    if not decision.is_pod:
        return "open (not a pod)"
    if not decision.isolating:
        return "open (no policy selects it)"
    if decision.allowing:
        first = decision.allowing[0]
        more = f" +{len(decision.allowing) - 1} more" if len(decision.allowing) > 1 else ""
        return f"Y {first.policy} {first.direction}[{first.index}]{more}"
    more = f" +{len(decision.isolating) - 1} more" if len(decision.isolating) > 1 else ""
    return f"N isolated by {decision.isolating[0]}{more}; no rule matches"


def explain_verdict(verdict: Verdict) -> str:
    """Multi-line explanation, first line the verdict itself."""
    outcome = "ALLOWED" if verdict.allowed else "DENIED"
    lines = [f"{verdict.src} -> {verdict.dst} {verdict.protocol}/{verdict.port}: {outcome}"]
    lines += ["  " + line for line in explain_decision(verdict.egress)]
    lines += ["  " + line for line in explain_decision(verdict.ingress)]
    if not verdict.allowed:
        blocked = [d.direction for d in (verdict.egress, verdict.ingress) if not d.allowed]
        lines.append(f"  blocked at: {' and '.join(blocked)}")
    return "\n".join(lines) + "\n"
