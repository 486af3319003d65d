"""The ``netfence`` command line.

Each subcommand lives in its own module under :mod:`netfence.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func``. Keeping subcommands apart
keeps this file a dispatcher: adding a command never touches another one.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netfence",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'netfence COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"netfence {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
