"""Probe specs and evidence records: the JSON a reviewer reads and the report consumes.

Records are plain dicts with a fixed, documented shape (:data:`RECORD_SCHEMA`) so evidence
written by one netfence version stays readable by the report of another, and so the schema can
be checked in tests without importing the runner.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
from typing import Any, Mapping

from netfence.errors import NetfenceError

ALLOWED = "allowed"
BLOCKED = "blocked"
REFUSED = "refused"
DNS_ERROR = "dns-error"
ERROR = "error"
OUTCOMES = (ALLOWED, BLOCKED, REFUSED, DNS_ERROR, ERROR)
EXPECTATIONS = (ALLOWED, BLOCKED)
TARGET_KINDS = ("service", "pod", "api", "dns", "external")
METHODS = ("tcp", "http")
PHASES = ("before", "after", "blast-radius")


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds, the only time format in evidence."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class Source:
    """A source identity: namespace plus the exact labels of the workload a probe pod stands in for.

    Two probes with the same identity share one probe pod, which is why pod creations grow with
    identities and not with probes.
    """

    namespace: str
    labels: tuple[tuple[str, str], ...]
    workload: str | None = None

    @classmethod
    def of(cls, namespace: str, labels: Mapping[str, str] | None, workload: str | None = None) -> "Source":
        return cls(namespace, tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items())), workload)

    @property
    def key(self) -> str:
        """Stable identity key (the workload name is a display name, not part of identity)."""
        labels = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"{self.namespace}/{{{labels}}}"

    def pod_name(self, run_id: str, phase: str = "") -> str:
        """Deterministic, DNS-1123 pod name, unique per identity, run and phase.

        The phase is part of the name so the after-round never meets a before-round pod that is
        still terminating under the same name.
        """
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:10]
        suffix = hashlib.sha256(f"{run_id}/{phase}".encode()).hexdigest()[:5]
        return f"netfence-probe-{digest}-{suffix}"

    def to_dict(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "labels": dict(self.labels), "workload": self.workload}


@dataclasses.dataclass(frozen=True)
class Target:
    """What a probe tries to reach; ``selector`` is only used for ``pod`` targets."""

    kind: str
    ref: str
    host: str
    selector: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "ref": self.ref, "host": self.host}
        if self.selector:
            data["selector"] = dict(self.selector)
        return data


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """One check: source identity, target, port, protocol, method and what each phase expects."""

    name: str
    source: Source
    target: Target
    port: int
    protocol: str = "TCP"
    method: str = "tcp"
    expect: tuple[tuple[str, str], ...] = ()
    origin: str = "inventory"
    predicted: bool | None = None
    # True when the inventory declares that the target listens on this port (a netfence workload's
    # container or Service port): a refusal there is a reject by the network, not a closed port.
    listens: bool | None = None

    def expected(self, phase: str) -> str | None:
        return dict(self.expect).get(phase)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source.to_dict(),
            "target": self.target.to_dict(),
            "port": self.port,
            "protocol": self.protocol,
            "method": self.method,
            "expect": dict(self.expect),
            "origin": self.origin,
            "predicted": self.predicted,
            "listens": self.listens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ProbeSpec":
        """Inverse of :meth:`to_dict`; used when Ansible hands a planned probe back to the runner."""
        try:
            src = data["source"]
            tgt = data["target"]
            return cls(
                name=str(data["name"]),
                source=Source.of(src["namespace"], src.get("labels"), src.get("workload")),
                target=Target(
                    kind=tgt["kind"],
                    ref=str(tgt.get("ref", "")),
                    host=str(tgt.get("host", "")),
                    selector=tuple(sorted((tgt.get("selector") or {}).items())),
                ),
                port=int(data["port"]),
                protocol=str(data.get("protocol", "TCP")).upper(),
                method=str(data.get("method", "tcp")),
                expect=tuple(sorted((data.get("expect") or {}).items())),
                origin=str(data.get("origin", "inventory")),
                predicted=data.get("predicted"),
                listens=data.get("listens"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NetfenceError(f"planned probe {data.get('name', '?')!r} is malformed: {exc}") from None


RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "netfence probe record",
    "type": "object",
    "required": [
        "run_id", "phase", "cluster", "context", "name", "source", "target", "port", "protocol",
        "method", "command", "outcome", "expected", "matches", "attempts", "duration_s",
        "started_at", "finished_at", "detail",
    ],
    "properties": {
        "run_id": {"type": "string"},
        "phase": {"enum": list(PHASES)},
        "cluster": {"type": "string"},
        "context": {"type": ["string", "null"]},
        "name": {"type": "string"},
        "source": {
            "type": "object",
            "required": ["namespace", "labels", "pod"],
            "properties": {"namespace": {"type": "string"}, "labels": {"type": "object"}, "pod": {"type": ["string", "null"]}},
        },
        "target": {"type": "object", "required": ["kind", "ref", "host"], "properties": {"kind": {"enum": list(TARGET_KINDS)}}},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
        "method": {"enum": list(METHODS)},
        "command": {"type": "array", "items": {"type": "string"}},
        "outcome": {"enum": list(OUTCOMES)},
        "expected": {"enum": [*EXPECTATIONS, None]},
        "matches": {"type": ["boolean", "null"]},
        "predicted": {"type": ["boolean", "null"]},
        "origin": {"type": "string"},
        "attempts": {"type": "array", "items": {"type": "object", "required": ["outcome", "duration_s"]}},
        "duration_s": {"type": "number", "minimum": 0},
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "detail": {"type": "string"},
    },
}

PHASE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "netfence probe phase file (probes/<phase>.json)",
    "type": "object",
    "required": ["run_id", "phase", "cluster", "context", "started_at", "finished_at", "pods", "records", "summary"],
    "properties": {
        "records": {"type": "array", "items": RECORD_SCHEMA},
        "pods": {"type": "integer", "minimum": 0},
        "summary": {"type": "object"},
    },
}


def summarize(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per outcome plus how many records disagree with their expectation."""
    counts = {outcome: 0 for outcome in OUTCOMES}
    for record in records:
        counts[record["outcome"]] += 1
    mismatches = sorted(r["name"] for r in records if r.get("matches") is False)
    return {"total": len(records), "outcomes": counts, "mismatches": mismatches}


def phase_document(
    *, run_id: str, phase: str, cluster: str, context: str | None, started_at: str, finished_at: str,
    pods: int, records: list[dict[str, Any]], notes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``probes/<phase>.json``. ``notes`` says what the round could not see (e.g.
    the blast radius's ``services_read``: Services listed only in some namespaces because the
    identity may not list them cluster-wide), so a short list of targets is never read as all."""
    if phase not in PHASES:
        raise NetfenceError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
    return {**({"notes": dict(notes)} if notes else {}),
        "run_id": run_id,
        "phase": phase,
        "cluster": cluster,
        "context": context,
        "started_at": started_at,
        "finished_at": finished_at,
        "pods": pods,
        "records": sorted(records, key=lambda r: r["name"]),
        "summary": summarize(records),
    }
