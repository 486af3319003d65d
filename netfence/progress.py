"""Progress lines for long waits, throttled so a terminal is told, not flooded.

A probe round of a few thousand probes runs for minutes inside one Ansible task, which prints
nothing until it ends. :class:`Progress` turns "one more done" calls, from any number of
threads, into at most one line every few seconds (and always the last one):
``probe round 'after': 120/600 probes (20%), 14 s``. Where a line goes is the caller's
choice (a file the netfence_probe action plugin relays to the terminal, stderr, a list in a
test), so the counting and throttling are tested without a clock that really runs.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class Progress:
    """Counts ``done`` of ``total`` and emits a line when ``every`` seconds have passed since the
    last one, or when the count reaches ``total``."""

    def __init__(self, what: str, total: int, emit: Callable[[str], None], unit: str = "probes",
                 every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.emit, self.every, self.clock = emit, every, clock
        self.done = 0
        self.started = self.last = clock()
        self._lock = threading.Lock()

    def line(self) -> str:
        """``<what>: <done>/<total> <unit> (<pct>%), <elapsed> s``."""
        pct = 100 * self.done // self.total if self.total else 100
        return f"{self.what}: {self.done}/{self.total} {self.unit} ({pct}%), {self.clock() - self.started:.0f} s"

    def step(self, count: int = 1) -> None:
        """``count`` more are done (thread-safe); emit a line if one is due."""
        with self._lock:
            self.done += count
            now = self.clock()
            if self.done < self.total and now - self.last < self.every:
                return
            self.last = now
            text = self.line()
        self.emit(text)


def file_writer(path: str) -> Callable[[str], None]:
    """An ``emit`` that appends each line to ``path`` and flushes it, for a reader in another
    process (the action plugin tails it)."""

    def write(text: str) -> None:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    return write
