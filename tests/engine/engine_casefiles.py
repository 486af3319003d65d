"""Load the upstream truth-table cases and make them concrete.

Two folders: the shared ``netpol-cases`` (``NETFENCE_CASES_DIR``) and ``upstream_cases/`` next to
this file (further upstream e2e tests, written by ``upstream_transcribe.py``); same schema.

The cases name pod IPs symbolically (``<ip of x/b>``, ``<ip of x/b masked to /4>``); we give
every pod an IP in 10.244.0.0/16, as a real pod CIDR would, and substitute.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same result as safe_load, much faster
SYMBOL = re.compile(r"<ip of ([a-z0-9.-]+/[a-z0-9.-]+)(?: masked to /(\d+))?>")


def cases_dir() -> Path:
    """NETFENCE_CASES_DIR, else ../shared/netpol-cases next to the repository."""
    env = os.environ.get("NETFENCE_CASES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "netpol-cases"


def assign_ips(states: list[dict[str, Any]]) -> dict[str, str]:
    """One IP per pod key across all given states, so a pod keeps its IP from step to step."""
    ips: dict[str, str] = {}
    for state in states:
        for pod in state.get("pods") or []:
            key = f"{pod['namespace']}/{pod['name']}"
            if key not in ips:
                n = len(ips)
                ips[key] = f"10.244.{n // 200 + 1}.{n % 200 + 5}"
    return ips


def substitute(obj: Any, ips: dict[str, str]) -> Any:
    if isinstance(obj, str):
        def repl(m: re.Match[str]) -> str:
            ip = ips[m.group(1)]
            if m.group(2):
                return str(ipaddress.ip_network(f"{ip}/{m.group(2)}", strict=False).network_address)
            return ip

        return SYMBOL.sub(repl, obj)
    if isinstance(obj, list):
        return [substitute(x, ips) for x in obj]
    if isinstance(obj, dict):
        return {k: substitute(v, ips) for k, v in obj.items()}
    return obj


def concrete_state(state: dict[str, Any], ips: dict[str, str] | None = None) -> dict[str, Any]:
    """The step's state with pod IPs assigned and every symbol replaced."""
    ips = {**assign_ips([state]), **(ips or {})}
    out = substitute(state, ips)
    for pod in out.get("pods") or []:
        pod["ip"] = ips[f"{pod['namespace']}/{pod['name']}"]
    assert not SYMBOL.search(repr(out)), "unresolved ipBlock symbol"
    return out


def upstream_cases_dir() -> Path:
    """Our own transcriptions of further upstream tests (``upstream_transcribe.py`` writes them)."""
    return Path(__file__).resolve().parent / "upstream_cases"


def case_files() -> list[Path]:
    """Every case file: the shared folder (when present) and ``upstream_cases/``."""
    files = sorted(cases_dir().glob("*.yaml")) if cases_dir().is_dir() else []
    return files + sorted(upstream_cases_dir().glob("*.yaml"))


def iter_steps(paths: list[Path] | None = None) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    """(id, step, pod IPs for the whole case) for every step of every case file."""
    for path in case_files() if paths is None else paths:
        case = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        steps = case.get("steps") or []
        ips = assign_ips([case.get("model") or {}] + [s.get("state") or {} for s in steps])
        for step in steps:
            yield f"{path.parent.name}/{case.get('name', path.stem)}#step{step.get('step')}", step, ips
