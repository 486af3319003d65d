"""Fake probe transports: scripted exec results, recorded calls, controllable latency."""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

from netfence.probes.command import ExecResult

CONNECTED = ExecResult(0, "0.001 200", "")
TIMED_OUT = ExecResult(28, "0.000000 000", "curl: (28) Connection timed out after 2000 milliseconds")
REFUSED = ExecResult(7, "0.000000 000", "curl: (7) Failed to connect: Connection refused")
NXDOMAIN = ExecResult(6, "0.000000 000", "curl: (6) Could not resolve host: my-api.dev.svc.cluster.local")


class FakeTransport:
    """``script(namespace, pod, argv, attempt) -> ExecResult``; every call is recorded."""

    def __init__(self, script: Callable[[str, str, list[str], int], ExecResult], pod_ips: Mapping[str, str] | None = None,
                 latency: float = 0.0, states: Mapping[str, tuple[str, str | None]] | None = None) -> None:
        self.script = script
        self.pod_ips = dict(pod_ips or {})
        self.latency = latency
        self.states = dict(states or {})
        self.calls: list[tuple[str, str, tuple[str, ...], float]] = []
        self.ip_lookups: list[str] = []
        self._lock = threading.Lock()
        self._attempts: dict[tuple[str, tuple[str, ...]], int] = {}

    def exec(self, namespace: str, pod: str, argv: list[str], timeout: float) -> ExecResult:
        with self._lock:
            key = (pod, tuple(argv))
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            self.calls.append((namespace, pod, tuple(argv), timeout))
        if self.latency:
            time.sleep(self.latency)
        return self.script(namespace, pod, argv, attempt)

    def pod_ip(self, namespace: str, selector: Mapping[str, str]) -> str | None:
        with self._lock:
            self.ip_lookups.append(namespace)
        return self.pod_ips.get(namespace)

    def pod_state(self, namespace: str, name: str) -> tuple[str, str | None]:
        return self.states.get(name, ("Running", None))
