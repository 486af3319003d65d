"""Run probes concurrently with per-probe timeouts and bounded retries.

The runner knows nothing about Kubernetes: it drives any :class:`Transport`. Production uses
:class:`netfence.probes.transport_k8s.KubernetesTransport`; tests and the benchmark use fakes
whose latency and outcomes they control. A probe whose outcome disagrees with its expectation
is retried (once by default, as the upstream NetworkPolicy e2e suite re-probes a matrix with
wrong results before failing), because a policy may take a moment to be programmed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, Protocol, Sequence

from netfence.errors import NetfenceError
from netfence.probes.command import ExecResult, build_command, classify
from netfence.probes.records import ALLOWED, BLOCKED, ERROR, REFUSED, ProbeSpec, utc_now

MAX_RETRIES = 5


class Transport(Protocol):
    """How a command reaches a probe pod, and how a pod target's address is found."""

    def exec(self, namespace: str, pod: str, argv: list[str], timeout: float) -> ExecResult:
        """Run ``argv`` in the pod; must return within ``timeout`` seconds (exit_code None if not)."""

    def pod_ip(self, namespace: str, selector: Mapping[str, str]) -> str | None:
        """IP of one running, non-probe pod matching ``selector`` in ``namespace``, or None."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """One probe round: where the records go and how hard to try."""

    phase: str
    run_id: str
    cluster: str
    context: str | None = None
    timeout: float = 2.0
    retries: int = 1
    concurrency: int = 50
    exec_grace: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= MAX_RETRIES:
            raise NetfenceError(f"retries must be between 0 and {MAX_RETRIES}, got {self.retries}")
        if self.timeout <= 0 or self.concurrency < 1:
            raise NetfenceError("probe timeout must be positive and concurrency at least 1")


class _TargetCache:
    """Resolve each pod target once per round, even when many probes share it."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], str | None] = {}
        self._events: dict[tuple[str, tuple[tuple[str, str], ...]], threading.Event] = {}

    def get(self, namespace: str, selector: tuple[tuple[str, str], ...]) -> str | None:
        key = (namespace, selector)
        with self._lock:
            event = self._events.get(key)
            owner = event is None
            if owner:
                event = self._events[key] = threading.Event()
        if owner:
            try:
                self._cache[key] = self._transport.pod_ip(namespace, dict(selector))
            except Exception:  # noqa: BLE001 - an unreachable target is a probe result, not a crash
                self._cache[key] = None
            finally:
                event.set()
        else:
            event.wait()
        return self._cache.get(key)


def _record(spec: ProbeSpec, settings: Settings, pod: str | None, argv: list[str], host: str, outcome: str,
            detail: str, attempts: list[dict[str, Any]], started: str, duration: float) -> dict[str, Any]:
    expected = spec.expected(settings.phase)
    return {
        "run_id": settings.run_id,
        "phase": settings.phase,
        "cluster": settings.cluster,
        "context": settings.context,
        "name": spec.name,
        "origin": spec.origin,
        "source": {**spec.source.to_dict(), "pod": pod},
        "target": {**spec.target.to_dict(), "host": host},
        "port": spec.port,
        "protocol": spec.protocol,
        "method": spec.method,
        "command": argv,
        "outcome": outcome,
        "expected": expected,
        "matches": None if expected is None else outcome == expected,
        "predicted": spec.predicted,
        "attempts": attempts,
        "duration_s": round(duration, 3),
        "started_at": started,
        "finished_at": utc_now(),
        "detail": detail,
    }


def rejected_if_listening(spec: ProbeSpec, outcome: str, detail: str) -> tuple[str, str]:
    """A refusal from a target known to listen is a reject by the network: ``blocked``.

    Reject-style enforcers (kube-router, and so k3s) answer a denied packet with ICMP
    port-unreachable; the client sees ECONNREFUSED, exactly as for a closed port, and curl since
    7.87 prints "Couldn't connect to server" either way. What tells them apart is knowledge, not
    the error: when the inventory declares that the target listens on this port (and, after the
    policies, it did not refuse before them), a refusal was the network's. The attempt keeps the
    raw ``refused`` as evidence. Rule documented in docs/probes.md.
    """
    if outcome != REFUSED or not spec.listens:
        return outcome, detail
    return BLOCKED, (f"rejected: connection refused although {spec.target.ref} declares {spec.protocol}/{spec.port} "
                     f"(a reject-style enforcer answers denied packets with ICMP port-unreachable); raw: {detail}")


def run_one(spec: ProbeSpec, transport: Transport, settings: Settings, pod: str | None, pod_error: str | None,
            targets: _TargetCache, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Probe once, retrying a disagreement up to ``settings.retries`` times."""
    started, t0 = utc_now(), clock()
    if pod is None:
        return _record(spec, settings, None, [], spec.target.host, ERROR, pod_error or "no probe pod for this source", [], started, clock() - t0)
    host = spec.target.host
    if spec.target.kind == "pod":
        host = targets.get(spec.target.ref.split("/")[0], spec.target.selector) or ""
        if not host:
            detail = f"no running pod matches target {spec.target.ref} ({dict(spec.target.selector)})"
            return _record(spec, settings, pod, [], host, ERROR, detail, [], started, clock() - t0)
    try:
        argv = build_command(spec.target.kind, host, spec.port, method=spec.method, protocol=spec.protocol, timeout=settings.timeout)
    except NetfenceError as exc:
        return _record(spec, settings, pod, [], host, ERROR, str(exc), [], started, clock() - t0)
    expected = spec.expected(settings.phase)
    attempts: list[dict[str, Any]] = []
    outcome, detail = ERROR, ""
    for _ in range(1 + settings.retries):
        a0, a_started = clock(), utc_now()
        try:
            result = transport.exec(spec.source.namespace, pod, argv, settings.timeout + settings.exec_grace)
        except Exception as exc:  # noqa: BLE001 - transport failures become 'error' records
            result = ExecResult(None, error=f"exec failed: {exc}")
        outcome, detail = classify(argv, result, method=spec.method)
        attempts.append({"outcome": outcome, "detail": detail, "started_at": a_started, "duration_s": round(clock() - a0, 3)})
        outcome, detail = rejected_if_listening(spec, outcome, detail)
        if expected is None or outcome == expected:
            break
    return _record(spec, settings, pod, argv, host, outcome, detail, attempts, started, clock() - t0)


def _target_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    target = record["target"]
    return target.get("kind"), target.get("host") or target.get("ref"), record["port"], record["protocol"]


def rejects_in_round(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refusals by a target that answered another source in the same round are rejects: ``blocked``.

    The second half of the reject rule (:func:`rejected_if_listening`): a target that accepted a
    connection on a port in this round listens on it, so a refusal of the same port to another
    source came from the network, whatever the inventory declares (the blast radius's external
    host). Only for single-address targets: behind a Service name, one endpoint may listen and
    another not.
    """
    single = ("pod", "external")
    answered = {_target_key(r) for r in records if r["outcome"] == ALLOWED and r["target"].get("kind") in single}
    for record in records:
        if record["outcome"] == REFUSED and _target_key(record) in answered:
            record["outcome"] = BLOCKED
            record["detail"] = (f"rejected: connection refused although {record['target'].get('host') or record['target'].get('ref')} "
                                f"accepted {record['protocol']}/{record['port']} from another source in this round; raw: {record['detail']}")
            if record["expected"] is not None:
                record["matches"] = record["outcome"] == record["expected"]
    return records


def _target_hosts(specs: Sequence[ProbeSpec], targets: _TargetCache) -> list[tuple[str, str]]:
    """Every ``(kind, host)`` the round would reach, each pod target resolved to its IP."""
    hosts = []
    for spec in specs:
        if spec.target.kind == "pod":
            hosts.append(("pod", targets.get(spec.target.ref.split("/")[0], spec.target.selector) or ""))
        else:
            hosts.append((spec.target.kind, spec.target.host))
    return [(kind, host) for kind, host in hosts if host]


def run_probes(specs: Sequence[ProbeSpec], transport: Transport, settings: Settings, pods: Mapping[str, str | None],
               pod_errors: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic,
               guard: Callable[[list[tuple[str, str]]], None] | None = None,
               progress: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Run every probe concurrently; ``pods`` maps a source key to its probe pod (None: unavailable).

    ``guard`` sees every ``(kind, host)`` target before the first probe and may raise to stop the
    round (``netfence.probes.routes.require_local``: nothing is sent to an address that is not ours).
    ``progress`` is called once per finished probe, from the worker threads
    (:class:`netfence.progress.Progress.step`).
    """
    if not specs:
        return []
    targets = _TargetCache(transport)
    errors = dict(pod_errors or {})
    if guard is not None:
        guard(_target_hosts(specs, targets))
    with ThreadPoolExecutor(max_workers=min(settings.concurrency, len(specs)), thread_name_prefix="netfence-probe") as pool:
        futures = [
            pool.submit(run_one, spec, transport, settings, pods.get(spec.source.key), errors.get(spec.source.key), targets, clock)
            for spec in specs
        ]
        if progress is not None:
            for future in futures:
                future.add_done_callback(lambda _: progress())
        records = [f.result() for f in futures]
    return sorted(rejects_in_round(records), key=lambda r: r["name"])


FATAL_WAITING_REASONS = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})


class PodWatcher(Protocol):
    """Reads a probe pod's state: (phase, reason) with phase 'Missing' when it does not exist."""

    def pod_state(self, namespace: str, name: str) -> tuple[str, str | None]: ...


def wait_for_pods(watcher: PodWatcher, pods: Mapping[str, tuple[str, str]], timeout: float,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                  interval: float = 1.0, progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Wait until every probe pod runs; return ``{source key: why not}`` for those that never did.

    Probe pods are never Ready by design, so the wait is for phase ``Running``. A pod whose
    image cannot be pulled fails at once with that reason instead of using up the timeout.
    ``progress`` is told how many more pods were settled (running or failed) after each pass.
    """
    pending = dict(pods)
    failed: dict[str, str] = {}
    deadline = clock() + timeout
    while pending:
        before = len(pending)
        for key, (namespace, name) in list(pending.items()):
            try:
                phase, reason = watcher.pod_state(namespace, name)
            except Exception as exc:  # noqa: BLE001 - reported per pod, never a crash
                phase, reason = "Unknown", f"cannot read pod: {exc}"
            if phase == "Running":
                del pending[key]
            elif reason in FATAL_WAITING_REASONS or phase in ("Failed", "Succeeded", "Missing"):
                failed[key] = f"probe pod {namespace}/{name} is {phase}" + (f" ({reason})" if reason else "")
                del pending[key]
        if progress is not None and len(pending) < before:
            progress(before - len(pending))
        if not pending:
            break
        if clock() >= deadline:
            for key, (namespace, name) in pending.items():
                failed[key] = f"probe pod {namespace}/{name} was not running after {timeout:g}s"
            break
        sleep(interval)
    return failed
