"""Action plugin for netfence_probe: a probe round's progress on the terminal while it runs.

A module's output reaches the terminal only when it ends, and a round of a few thousand probes
runs for minutes. For ``action=run`` this plugin gives the module a progress file
(``progress_file``), relays each line the module appends to it (throttled there to one every
few seconds: ``probe round 'after': 120/600 probes (20%), 14 s``) while the module runs, and
removes the file. netfence runs its modules on the controller (``ansible_connection: local``),
so the controller reads the file the module writes; over any other connection, and in check
mode (nothing is probed), the module runs as it is, without progress.
"""

from __future__ import annotations

import os
import tempfile
import threading

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


class _Relay(threading.Thread):
    """Prints the lines appended to ``path`` until stopped, then the last ones."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        super().__init__(name="netfence-progress", daemon=True)
        self.path, self.interval = path, interval
        self.offset = 0
        self.stopped = threading.Event()

    def relay(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                handle.seek(self.offset)
                text = handle.read()
        except OSError:
            return
        complete, _, _ = text.rpartition("\n")  # a line still being written waits for the next read
        if complete:
            self.offset += len(complete.encode("utf-8")) + 1
            for line in complete.splitlines():
                display.display(f"  {line}")

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.relay()
        self.relay()


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        relayed = (args.get("action") == "run" and not self._task.check_mode
                   and self._connection.transport == "local" and not args.get("progress_file"))
        if not relayed:
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result
        handle, path = tempfile.mkstemp(prefix="netfence-progress-", suffix=".log")
        os.close(handle)
        relay = _Relay(path)
        relay.start()
        try:
            result.update(self._execute_module(module_args={**args, "progress_file": path}, task_vars=task_vars))
        finally:
            relay.stopped.set()
            relay.join(timeout=5)
            os.unlink(path)
        return result
