"""Evidence folders: one per run, never overwritten, sealed with a checksum manifest.

Layout (see docs/evidence.md)::

    evidence/<cluster>/<run-id>/
        run.json              who, what, when: run id, cluster, context, inventory, netfence version
        manifests/<ns>.yaml   rendered NetworkPolicies, one file per namespace
        predicted/...         engine predictions (matrix.json, one Markdown table per port)
        probes/<phase>.json   probe rounds (before, after, blast-radius)
        report.md, junit.xml  for reviewers and CI dashboards
        SHA256SUMS            sha256 of every other file, `sha256sum -c` compatible

A run id is a UTC timestamp plus a random suffix, and the folder is created with
``exist_ok=False``, so two runs can never write into the same folder.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from netfence.errors import NetfenceError

CHECKSUMS = "SHA256SUMS"
# Written by the blast-radius stage: the real endpoints of default/kubernetes and their prediction.
API_SERVER_FILE = "api-server.json"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def new_run_id(now: _dt.datetime | None = None) -> str:
    """Sortable, collision-resistant run id, e.g. ``20261126T110500Z-3f9a1c``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def create_run_dir(root: str | os.PathLike[str], cluster: str, run_id: str | None = None) -> Path:
    """Create ``root/cluster/run_id`` and return it; refuse to reuse an existing folder."""
    if not _SAFE.match(cluster):
        raise NetfenceError(f"cluster name {cluster!r} cannot be used as an evidence folder name")
    run_id = run_id or new_run_id()
    if not _SAFE.match(run_id):
        raise NetfenceError(f"run id {run_id!r} cannot be used as a folder name")
    path = Path(root) / cluster / run_id
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir()
    except FileExistsError:
        raise NetfenceError(f"evidence folder {path} already exists; a run never overwrites another") from None
    return path


def write_text(run_dir: Path, relpath: str, text: str, *, overwrite: bool = False) -> Path:
    """Write one file inside the run folder atomically (temp file + rename)."""
    target = (run_dir / relpath).resolve()
    if run_dir.resolve() not in target.parents:
        raise NetfenceError(f"{relpath!r} would be written outside the run folder {run_dir}")
    if target.exists() and not overwrite:
        raise NetfenceError(f"{target} already exists; evidence is never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_json(path: Path) -> Any:
    """A run folder's JSON file, or None when it is absent; an unreadable, non-UTF-8, malformed,
    too large or too deeply nested file is a NetfenceError (see :mod:`netfence.loading`)."""
    if not os.path.lexists(path):
        return None
    from netfence import loading

    return loading.read_json(path, "evidence file")


def write_json(run_dir: Path, relpath: str, data: Any, *, overwrite: bool = False) -> Path:
    """Write JSON with sorted keys so equal data gives equal bytes."""
    return write_text(run_dir, relpath, json.dumps(data, indent=2, sort_keys=True) + "\n", overwrite=overwrite)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def seal(run_dir: Path) -> Path:
    """(Re)write SHA256SUMS over every file of the run folder except itself."""
    lines = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and p.name != CHECKSUMS):
        lines.append(f"{_sha256(path)}  {path.relative_to(run_dir).as_posix()}")
    return write_text(run_dir, CHECKSUMS, "\n".join(lines) + "\n", overwrite=True)


def verify(run_dir: Path) -> list[str]:
    """Return the problems found against SHA256SUMS (empty list: intact)."""
    sums = run_dir / CHECKSUMS
    if not sums.is_file():
        return [f"{sums} is missing"]
    problems = []
    listed = set()
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        listed.add(rel)
        path = run_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif _sha256(path) != digest:
            problems.append(f"{rel}: checksum mismatch")
    for path in run_dir.rglob("*"):
        rel = path.relative_to(run_dir).as_posix()
        if path.is_file() and path.name != CHECKSUMS and rel not in listed:
            problems.append(f"{rel}: not in {CHECKSUMS}")
    return sorted(problems)
