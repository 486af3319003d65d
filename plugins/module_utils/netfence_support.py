"""Shared by netfence's modules: one clear failure when the netfence package is missing.

Modules run under the host's ``ansible_python_interpreter``; when that is not the project's
venv, ``import netfence`` fails, and the user needs to be told how to fix it, not shown an
ImportError from deep inside AnsiballZ.
"""

from __future__ import annotations

import sys


def require_netfence(module, error):  # type: (object, ImportError | None) -> None
    """Fail the task with how to fix it when ``error`` (from importing netfence) is set."""
    if error is not None:
        module.fail_json(  # type: ignore[attr-defined]
            msg=f"the netfence package is not importable by {sys.executable}: {error}. Run 'make setup' and set "
            "ansible_python_interpreter to the project's .venv/bin/python (the inventories do this for localhost)."
        )
