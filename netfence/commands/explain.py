"""``netfence explain``: why connections are allowed or denied.

For one connection (``--from`` and ``--to`` each a pod or an IP) it prints the verdict, then
both halves NetworkPolicy splits a connection into: the source's egress and the destination's
ingress, each with the policies that isolate it and the rules that allow the connection (or
the statement that none does). For many (a namespace, or nothing, on either side) it walks the
whole matrix of that probe: one line per pair with the deciding policy and rule of each half,
so every cell of a predicted table can be traced to the policy that decided it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from typing import Sequence

from netfence.commands import _model
from netfence.errors import NetfenceError
from netfence.policy.engine import Engine
from netfence.policy.model import Endpoint, External, parse_probe
from netfence.policy.verdicts import Verdict, decision_cell

HELP = "explain why connections are allowed or denied (one, or a whole matrix)"
DESCRIPTION = """\
Explain the NetworkPolicy verdicts of a model (see `netfence reachability --help` for the
MODEL.yaml format) or of the predicted world of a planned run (--run).

--from and --to each take a pod (namespace/name), an IP address (an endpoint outside the pod
network, e.g. an internet address, which only ipBlock peers or peer-less rules match), or a
namespace (all its pods). Left out, --from means every pod and --to every pod that listens on
the probed port (the columns of the predicted tables).

One pod or IP on each side: the verdict with both halves spelled out. Anything wider: a
walkthrough, one line per pair: the verdict (Y allowed, N blocked, as in the evidence files),
then the source's egress and the destination's ingress, each `open` (no policy selects the
pod), `Y <policy> <direction>[rule]` (the first rule that allows it) or `N isolated by
<policies>` (no rule of theirs matches).
"""
EPILOG = """\
examples (on the lab inventory; RUN is the folder `netfence plan` prints last):
  netfence plan -i inventories/lab
  netfence explain --run RUN --from monitoring/scraper --to prod/my-api --probe TCP/3000
  netfence explain --run RUN --from dev/netfence-rogue --to 1.1.1.1 --probe TCP/443
  netfence explain --run RUN --probe TCP/3000 --to prod
  netfence explain --run RUN --probe TCP/3000 --only denied --from dev
  netfence explain --run RUN --probe TCP/3000 --to prod --format json

exit status: 0 when the verdicts were printed (allowed or not), 2 on invalid input.
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "explain", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _model.add_arguments(parser)
    parser.add_argument("--from", dest="src", metavar="NS/POD|IP|NS", help="source pod, external IP or namespace (default: every pod)")
    parser.add_argument("--to", dest="dst", metavar="NS/POD|IP|NS",
                        help="destination pod, external IP or namespace (default: every pod listening on the port)")
    parser.add_argument("--probe", required=True, metavar="PROTO/PORT", help="protocol and destination port, e.g. TCP/80")
    parser.add_argument("--only", choices=("allowed", "denied"), help="print only these pairs")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or json: one object per pair with both halves' policies and rules")
    parser.set_defaults(func=run)


def endpoints(engine: Engine, ref: str | None, listening: tuple[str, int] | None = None) -> list[Endpoint]:
    """What ``ref`` names: an IP, a pod, or a namespace's pods; ``None`` is every pod (only those
    listening on ``listening`` when given and any pod does, as the predicted matrix's columns)."""
    if ref is None:
        pods = engine.world.pods
        if listening:
            proto, port = listening
            heard = [p for p in pods if any(cp.protocol == proto and cp.port == port for cp in p.ports)]
            pods = heard or pods
        return list(pods)
    try:
        ipaddress.ip_address(ref)
    except ValueError:
        pass
    else:
        return [External(ref)]
    if "/" in ref:
        return [engine.world.pod(ref)]
    if ref not in engine.world.namespaces:
        raise NetfenceError(f"{ref!r} is neither a pod (namespace/name), an IP address nor a namespace of the model "
                            f"(namespaces: {', '.join(sorted(engine.world.namespaces)) or 'none'})")
    return [p for p in engine.world.pods if p.namespace == ref]


def walkthrough(verdicts: Sequence[Verdict], probe: str, only: str | None = None) -> str:
    """The table of many verdicts: a header line with the counts, then one aligned line per pair."""
    allowed = sum(v.allowed for v in verdicts)
    shown = [v for v in verdicts if only is None or v.allowed == (only == "allowed")]
    rows = [(v.src, v.dst, "Y" if v.allowed else "N", decision_cell(v.egress), decision_cell(v.ingress)) for v in shown]
    head = (f"{probe}: {allowed} of {len(verdicts)} pairs allowed"
            + (f"; showing the {len(shown)} {only}" if only else "") + "\n")
    if not rows:
        return head
    header = ("FROM", "TO", "V", "EGRESS OF SOURCE", "INGRESS OF DESTINATION")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in [header, *rows]]
    return head + "\n".join(line.rstrip() for line in lines) + "\n"


def _names_one(ref: str | None) -> bool:
    """Does ``ref`` name one endpoint (a pod or an IP), not a namespace or everything?"""
    if ref is None:
        return False
    try:
        ipaddress.ip_address(ref)
    except ValueError:
        return "/" in ref
    return True


def run(args: argparse.Namespace) -> int:
    engine = _model.engine(args)
    proto, port = parse_probe(args.probe)
    sources = endpoints(engine, args.src)
    targets = endpoints(engine, args.dst, (proto, port))
    verdicts = [engine.verdict(s, d, port, proto) for s in sources for d in targets]
    if args.format == "json":
        shown = [v.document() for v in verdicts if args.only is None or v.allowed == (args.only == "allowed")]
        json.dump(shown, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif _names_one(args.src) and _names_one(args.dst) and args.only is None:
        sys.stdout.write(verdicts[0].explain())
    else:
        sys.stdout.write(walkthrough(verdicts, f"{proto}/{port}", args.only))
    return 0
