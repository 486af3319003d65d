"""Shared by the commands that write files: all or nothing, and one-line errors.

A command either writes every file it means to or, on any failure, leaves no file and no folder
it created behind, and says in one line which path failed and why.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from netfence.errors import NetfenceError


def check_folder(out: Path, option: str = "--out") -> None:
    """Refuse an output path that exists but is not a folder, before anything is written."""
    if out.exists() and not out.is_dir():
        raise NetfenceError(f"{out}: {option} names an existing file, not a folder "
                            f"(fix: give {option} a new or existing folder)")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NetfenceError(f"{out}: {parent} is a file, not a folder (fix: give {option} a folder path)")
            break


def _missing_folders(out: Path) -> list[Path]:
    """The folders mkdir(parents=True) would create for ``out``, outermost first."""
    missing = []
    for folder in [out, *out.parents]:
        if folder.exists():
            break
        missing.append(folder)
    return missing[::-1]


def os_error(path: Path, exc: OSError, action: str, option: str = "--out") -> NetfenceError:
    reason = "permission denied (the folder is read-only)" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
    return NetfenceError(f"{exc.filename or path}: cannot {action}: {reason} (fix: choose a writable folder with {option}"
                         " or fix its permissions)")


@contextmanager
def created_folders(out: Path, option: str = "--out") -> Iterator[None]:
    """Run the body; if it fails, remove the (empty) folders on the way to ``out`` it created."""
    check_folder(out, option)
    created = _missing_folders(out)
    try:
        yield
    except BaseException:
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def write_files(out: Path, files: Mapping[str, str], option: str = "--out") -> list[Path]:
    """Write ``name -> text`` into the folder ``out`` (created if missing), all or nothing.

    Every file is first written to a temporary file beside its target, and only when all of them
    are written are they renamed into place; any failure removes the temporary files and the
    folders this call created, and is a one-line NetfenceError.
    """
    with created_folders(out, option):
        for name in files:
            if (out / name).is_dir():
                raise NetfenceError(f"{out / name}: is a folder where a file would be written (fix: remove or rename "
                                    f"it, or choose another {option})")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(out, exc, "create the folder", option) from None
        temps: list[tuple[str, Path]] = []
        try:
            for name, text in files.items():
                fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.")
                temps.append((tmp, out / name))
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
            for tmp, target in temps:
                os.replace(tmp, target)
        except OSError as exc:
            raise os_error(out, exc, "write", option) from None
        finally:
            for tmp, _ in temps:
                Path(tmp).unlink(missing_ok=True)
    return [target for _, target in temps]

