"""``netfence explain``: why one connection is allowed or denied.

Prints the verdict, then both halves NetworkPolicy splits a connection into: the source's
egress and the destination's ingress, each with the policies that isolate it and the rules that
allow the connection (or the statement that none does).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from netfence.commands import _model
from netfence.policy.engine import Engine
from netfence.policy.model import External, parse_probe

HELP = "explain why one connection is allowed or denied"
DESCRIPTION = """\
Explain the NetworkPolicy verdict for one connection of a model (see `netfence reachability
--help` for the MODEL.yaml format) or of the predicted world of a planned run (--run). --from and --to name pods as namespace/name; an IP
address stands for an endpoint outside the pod network (e.g. an internet address), which only
ipBlock peers or peer-less rules match.
"""
EPILOG = """\
examples (on the lab inventory; RUN is the folder `netfence plan` prints last):
  netfence plan -i inventories/lab
  netfence explain --run RUN --from monitoring/scraper --to prod/my-api --probe TCP/3000
  netfence explain --run RUN --from dev/netfence-rogue --to 1.1.1.1 --probe TCP/443

exit status: 0 when the verdict was printed (allowed or not), 2 on invalid input.
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "explain", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _model.add_arguments(parser)
    parser.add_argument("--from", dest="src", required=True, metavar="NS/POD|IP", help="source pod (or external IP)")
    parser.add_argument("--to", dest="dst", required=True, metavar="NS/POD|IP", help="destination pod (or external IP)")
    parser.add_argument("--probe", required=True, metavar="PROTO/PORT", help="protocol and destination port, e.g. TCP/80")
    parser.set_defaults(func=run)


def _endpoint(engine: Engine, ref: str) -> object:
    try:
        ipaddress.ip_address(ref)
    except ValueError:
        return engine.world.pod(ref)
    return External(ref)


def run(args: argparse.Namespace) -> int:
    engine = _model.engine(args)
    proto, port = parse_probe(args.probe)
    verdict = engine.verdict(_endpoint(engine, args.src), _endpoint(engine, args.dst), port, proto)  # type: ignore[arg-type]
    sys.stdout.write(verdict.explain())
    return 0
