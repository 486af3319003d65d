"""Fixtures for the plan tests: the lab inventory's namespaces, and helpers to break them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from netfence.inventory.schema import InventoryError
from netfence.plan import build_plan

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
VERSION = "v1.35.8"


def _lab_namespaces() -> list[dict[str, Any]]:
    return yaml.safe_load((LAB / "group_vars/all/namespaces.yml").read_text())["netfence_namespaces"]


@pytest.fixture()
def lab() -> list[dict[str, Any]]:
    """A fresh deep copy of the lab's netfence_namespaces (dev, prod, monitoring, gateway)."""
    return copy.deepcopy(_lab_namespaces())


@pytest.fixture()
def problems() -> Callable[..., list[str]]:
    """Run the whole pipeline and return every problem as 'SEVERITY path: message' strings."""

    def run(namespaces: Any, version: str = VERSION) -> list[str]:
        try:
            plan = build_plan(namespaces, version)
        except InventoryError as exc:
            return [str(p) for p in exc.problems]
        return [str(p) for p in plan.problems]

    return run
