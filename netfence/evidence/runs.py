"""Evidence folders: one per run, never overwritten, sealed with a checksum manifest.

Layout (see docs/evidence.md)::

    evidence/<cluster>/<run-id>/
        run.json              who, what, when: run id, cluster, context, inventory, netfence version
        manifests/<ns>.yaml   rendered NetworkPolicies, one file per namespace
        predicted/...         engine predictions (matrix.json, one Markdown table per port)
        probes/<phase>.json   probe rounds (before, after, blast-radius)
        report.md, report.html, junit.xml  for reviewers and CI dashboards
        INCOMPLETE            present from the first byte until the run is sealed; names the stage writing
        SHA256SUMS            sha256 of every other file, `sha256sum -c` compatible

A run id is a UTC timestamp plus a random suffix, and the folder is created with
``exist_ok=False``, so two runs can never write into the same folder.

A run is *open* while ``INCOMPLETE`` exists: each stage verifies SHA256SUMS before it writes
(:func:`open_run`) and re-seals after (:func:`seal`, a checkpoint that lists ``INCOMPLETE`` too).
The report stage seals it for good (:func:`finalize`: SHA256SUMS without ``INCOMPLETE``, which
is removed). A sealed run is never written again, and readers (:func:`check_readable`) refuse a
run that is open, unsealed or does not match its SHA256SUMS unless asked to inspect it.
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
# Present from a run's first byte until the report stage seals it; names the stage writing.
INCOMPLETE = "INCOMPLETE"
# Written by the blast-radius stage: the real endpoints of default/kubernetes and their prediction.
API_SERVER_FILE = "api-server.json"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def new_run_id(now: _dt.datetime | None = None) -> str:
    """Sortable, collision-resistant run id, e.g. ``20261126T110500Z-3f9a1c``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def create_run_dir(root: str | os.PathLike[str], cluster: str, run_id: str | None = None, *, stage: str = "") -> Path:
    """Create ``root/cluster/run_id`` (open: ``INCOMPLETE`` is its first file) and return it;
    refuse to reuse an existing folder."""
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
    mark_writing(path, stage)
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


def _sums(run_dir: Path, skip: frozenset[str] | set[str] = frozenset()) -> str:
    lines = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir).as_posix()
        if rel != CHECKSUMS and rel not in skip:
            lines.append(f"{_sha256(path)}  {rel}")
    return "\n".join(lines) + "\n"


def seal_needed(run_dir: Path) -> bool:
    """True when :func:`seal` would change what SHA256SUMS says of the evidence (a file was added,
    changed or removed). The ``INCOMPLETE`` marker is left out of the comparison: it says which
    stage writes or last finished, bookkeeping that changes on every stage, not evidence."""
    sums = run_dir / CHECKSUMS
    if not sums.is_file():
        return True
    recorded = [line for line in sums.read_text(encoding="utf-8", errors="replace").splitlines()
                if not line.endswith(f"  {INCOMPLETE}")]
    return recorded != _sums(run_dir, skip={INCOMPLETE}).splitlines()


def seal(run_dir: Path, finished: str | None = None) -> Path:
    """Checkpoint an open run: (re)write SHA256SUMS over every file but itself, ``INCOMPLETE``
    included. ``finished``: the stage that has just written all it writes (``INCOMPLETE`` then
    says so, and the report may seal the run for good; an interrupted stage never gets here). A
    sealed run (no ``INCOMPLETE``) is never written again: refused."""
    if not is_open(run_dir):
        raise NetfenceError(f"{run_dir} is not an open run (no {INCOMPLETE}): "
                            + ("it is sealed, and a sealed run is never written again"
                               if (run_dir / CHECKSUMS).is_file() else "it was not created by netfence"))
    if finished:
        _mark(run_dir, _finished_text(finished))
    return write_text(run_dir, CHECKSUMS, _sums(run_dir), overwrite=True)


def verify(run_dir: Path) -> list[str]:
    """Return the problems found against SHA256SUMS (empty list: intact)."""
    sums = run_dir / CHECKSUMS
    if not sums.is_file():
        return [f"{sums} is missing"]
    problems = []
    listed = set()
    for number, line in enumerate(sums.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        digest, _, rel = line.partition("  ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not rel or rel.startswith("/") or ".." in rel.split("/"):
            problems.append(f"{CHECKSUMS} line {number}: malformed")
            continue
        listed.add(rel)
        path = run_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif _sha256(path) != digest:
            problems.append(f"{rel}: checksum mismatch")
    for path in run_dir.rglob("*"):
        rel = path.relative_to(run_dir).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            # netfence writes regular files only: a link or FIFO could stand in for evidence
            problems.append(f"{rel}: not a regular file")
        elif path.is_file() and rel != CHECKSUMS and rel not in listed:
            problems.append(f"{rel}: not in {CHECKSUMS}")
    return sorted(problems)


_WRITING = "is writing into it, or was interrupted"
_FINISHED = "finished; the next stage may write into it"


def _incomplete_text(stage: str) -> str:
    who = f"stage {stage!r}" if stage else "a stage"
    return (f"This run is incomplete: {who} {_WRITING}.\n"
            "The report stage removes this file when it seals the run (docs/evidence.md).\n")


def _finished_text(stage: str) -> str:
    return (f"This run is incomplete: stage {stage!r} {_FINISHED}.\n"
            "The report stage removes this file when it seals the run (docs/evidence.md).\n")


def _mark(run_dir: Path, text: str) -> bool:
    marker = run_dir / INCOMPLETE
    if marker.is_file() and marker.read_text(encoding="utf-8", errors="replace") == text:
        return False
    write_text(run_dir, INCOMPLETE, text, overwrite=True)
    return True


def mark_writing(run_dir: Path, stage: str) -> bool:
    """Write ``INCOMPLETE`` naming the stage now writing; True when its bytes changed."""
    return _mark(run_dir, _incomplete_text(stage))


def interrupted_stage(run_dir: Path) -> str | None:
    """The stage an open run's ``INCOMPLETE`` says is writing (it started and has not finished:
    running now, or interrupted), or None when the last stage finished."""
    marker = run_dir / INCOMPLETE
    text = marker.read_text(encoding="utf-8", errors="replace") if marker.is_file() else ""
    if _FINISHED in text:
        return None
    found = re.search(r"stage '([^']*)'", text)
    return found.group(1) if found else "an unnamed stage"


def is_open(run_dir: Path) -> bool:
    return (run_dir / INCOMPLETE).is_file()


def state(run_dir: Path) -> str:
    """``missing``, ``empty``, ``open`` (INCOMPLETE present), ``sealed`` (SHA256SUMS, no INCOMPLETE)
    or ``unsealed`` (files, but neither marker: not written by netfence, or by an old version)."""
    if not run_dir.is_dir():
        return "missing"
    if is_open(run_dir):
        return "open"
    if (run_dir / CHECKSUMS).is_file():
        return "sealed"
    return "unsealed" if any(run_dir.iterdir()) else "empty"


def _problems_text(run_dir: Path, problems: list[str]) -> str:
    shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
    return f"{run_dir} does not match its {CHECKSUMS}: " + "; ".join(shown)


def start_run(run_dir: Path, record: dict[str, Any], stage: str) -> Path:
    """Make ``run_dir`` (absent or empty) a new open run: INCOMPLETE, run.json, SHA256SUMS."""
    current = state(run_dir)
    if current not in ("missing", "empty"):
        raise NetfenceError(f"{run_dir} is not empty; a new run is only started in a new or empty folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    mark_writing(run_dir, stage)
    write_json(run_dir, "run.json", {"run_id": run_dir.name, **record})
    seal(run_dir)
    return run_dir


def open_run(run_dir: Path, stage: str, *, inventory_sha256: str | None = None, inventory: str | None = None,
             dry_run: bool = False) -> bool:
    """Let ``stage`` write into an existing open run: refuse a sealed, unsealed or tampered run,
    and one planned from another inventory; mark ``INCOMPLETE`` with the stage. True when a file
    changed (the run is then re-sealed). ``dry_run``: the same checks, nothing written."""
    current = state(run_dir)
    if current == "missing":
        raise NetfenceError(f"run folder {run_dir} does not exist")
    if current == "sealed":
        raise NetfenceError(f"{run_dir} is sealed (its report was written); a sealed run is never written again: "
                            "leave netfence_run_dir unset to start a new run")
    if current in ("unsealed", "empty"):
        raise NetfenceError(f"{run_dir} is not an open netfence run (no {INCOMPLETE} marker, "
                            f"{'no files' if current == 'empty' else f'no {CHECKSUMS}'}); start a new run")
    problems = verify(run_dir)
    if problems:
        raise NetfenceError(_problems_text(run_dir, problems) + f"; stage {stage!r} refuses to write into it")
    writing = interrupted_stage(run_dir)
    if writing is not None and writing != stage:
        # a later stage would overwrite the marker, and the run would read as whole without that round
        raise NetfenceError(f"{run_dir}: stage {writing!r} started writing and did not finish (interrupted, or still "
                            f"running); stage {stage!r} refuses to continue the run: run {writing!r} again, or start a "
                            "new run (leave netfence_run_dir unset)")
    changed = False
    if inventory_sha256:
        run = read_json(run_dir / "run.json")
        run = run if isinstance(run, dict) else {}
        recorded = run.get("inventory_sha256")
        if recorded and recorded != inventory_sha256:
            raise NetfenceError(
                f"{run_dir} was planned from another inventory ({run.get('inventory') or 'unnamed'}, inventory_sha256 "
                f"{str(recorded)[:12]}…; this one is {inventory or 'unnamed'}, {inventory_sha256[:12]}…): a run is never "
                "rewritten from another inventory; leave netfence_run_dir unset to plan a new run")
        if not recorded and dry_run:
            changed = True
        elif not recorded:
            run.update({"inventory_sha256": inventory_sha256, **({"inventory": inventory} if inventory and not run.get("inventory") else {})})
            write_json(run_dir, "run.json", run, overwrite=True)
            changed = True
    if dry_run:
        return changed
    if mark_writing(run_dir, stage) or changed:
        seal(run_dir)
    return changed  # the marker alone is bookkeeping, not a change of the evidence


def check_readable(run_dir: Path, *, inspect: bool = False) -> list[str]:
    """Refuse to read a run that is not sealed and intact; with ``inspect``, return what is wrong
    instead (empty list: sealed and intact)."""
    current = state(run_dir)
    if current == "missing":
        what = "is not a folder" if run_dir.exists() else "does not exist"
        raise NetfenceError(f"run folder {run_dir} {what} (fix: name the run folder, evidence/<cluster>/<run-id>)")
    warnings = []
    if current == "empty":
        warnings.append(f"{run_dir} holds no evidence at all")
    elif current == "unsealed":
        warnings.append(f"{run_dir} is unsealed: no {CHECKSUMS}, no {INCOMPLETE}")
    else:
        problems = verify(run_dir)
        if problems:
            warnings.append(_problems_text(run_dir, problems))
        if current == "open":
            marker = (run_dir / INCOMPLETE).read_text(encoding="utf-8", errors="replace").splitlines()
            warnings.append(f"{run_dir} is incomplete ({INCOMPLETE}: {marker[0] if marker else 'empty'})")
    if warnings and not inspect:
        raise NetfenceError("refusing to read the run: " + "; ".join(warnings) + " (--inspect reads it anyway, and fails any gate)")
    return warnings


def finalize(run_dir: Path) -> Path:
    """Seal an open run for good: SHA256SUMS over every file but ``INCOMPLETE``, which is removed."""
    if not is_open(run_dir):
        raise NetfenceError(f"{run_dir} is not open (no {INCOMPLETE}); a sealed run is never written again")
    sums = _sums(run_dir, skip={INCOMPLETE})
    path = write_text(run_dir, CHECKSUMS, sums, overwrite=True)
    (run_dir / INCOMPLETE).unlink()
    return path
