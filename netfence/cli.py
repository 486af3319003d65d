"""The ``netfence`` command line.

Each subcommand lives in its own module under :mod:`netfence.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func``. Keeping subcommands apart
keeps this file a dispatcher: adding a command never touches another one.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from netfence import __version__, commands
from netfence.errors import NetfenceError

DESCRIPTION = """\
netfence proves Kubernetes network isolation instead of assuming it.

Offline, it validates inventories, renders baseline NetworkPolicies, and predicts with exact
NetworkPolicy semantics which pods can reach which; the Ansible playbooks then provision a lab,
apply the policies, and probe the cluster before and after, keeping the evidence.
"""


def _command_names() -> list[str]:
    """Subcommand names: one module each, named like the command it registers.

    A directory listing rather than ``pkgutil.iter_modules``: that imports ``inspect``, which
    costs more start-up time than a small ``netfence reachability`` call spends evaluating.
    """
    folder = os.path.dirname(commands.__file__)
    return sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_"))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; with ``only``, import just that command's module.

    Importing every command costs start-up time (schema validation pulls in jsonschema), which
    a ``netfence reachability`` call in a tight CI loop should not pay.
    """
    parser = argparse.ArgumentParser(
        prog="netfence",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'netfence COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"netfence {__version__}")
    # An explicit prog spares add_subparsers a help formatter (and the shutil import it needs).
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="netfence")
    for name in [only] if only is not None else _command_names():
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wanted = argv[0] if argv and argv[0] in _command_names() else None
    parser = build_parser(wanted)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NetfenceError as exc:
        print(f"netfence {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except (OSError, UnicodeError, RecursionError, MemoryError) as exc:
        # The readers turn these into NetfenceErrors with a fix; this is the net under them, so
        # bad input or a bad environment never ends in a traceback.
        print(f"netfence {args.command}: error: {_environment_error(exc)}", file=sys.stderr)
        return NetfenceError.exit_code


def _environment_error(exc: BaseException) -> str:
    """One line for an OS, decode, nesting or memory error that reached the dispatcher."""
    from netfence.loading import clip

    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "input"
        return clip(f"{where}: {exc.strerror or exc} (fix: check the path and its permissions)", 300)
    if isinstance(exc, UnicodeError):
        return clip(f"input is not UTF-8 text: {exc} (fix: save the files as UTF-8)", 300)
    if isinstance(exc, RecursionError):
        return "input is nested too deeply (fix: flatten it)"
    return "out of memory reading the input (fix: check the input for YAML alias bombs or very large files)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
