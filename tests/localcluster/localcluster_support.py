"""Loads the local cluster's Python helpers, which live beside cluster.sh, not in the netfence package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

LOCALCLUSTER = Path(__file__).resolve().parents[2] / "localcluster"


def load(name: str):
    """Import localcluster/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"localcluster_{name}", LOCALCLUSTER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
