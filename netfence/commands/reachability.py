"""``netfence reachability``: the predicted connectivity matrix of a model, offline.

Output formats: ``json`` (one row per ordered pod pair and probe, the contract other tools
consume), ``table`` (upstream e2e style truth table per probe, in netfence's notation: ``Y`` allowed,
``N`` blocked, as in every evidence file; docs/evidence.md)
and ``counts`` (allowed/denied pair counts per probe, cheap even for thousands of pods).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from netfence.commands import _model
from netfence.evidence.predicted import letters

HELP = "predict which pods may connect to which, with exact NetworkPolicy semantics"
DESCRIPTION = """\
Predict pod-to-pod reachability from NetworkPolicies, without a cluster.

MODEL.yaml holds the keys `namespaces`, `pods` and `policies`, exactly like a `state` of the
shared NetworkPolicy truth-table cases (other keys are ignored):

  namespaces: [{name: x, labels: {team: a}}]
  pods: [{namespace: x, name: a, labels: {app: a}, ip: 10.244.1.5,
          containers: [{name: c, ports: [{name: http, containerPort: 80, protocol: TCP}]}]}]
  policies: [<NetworkPolicy manifests>]

Probes are the destination's container port as the policy sees it (after Service
translation), e.g. TCP/80, UDP/53, SCTP/81. Without --probe, every container port/protocol
the model's pods declare is probed. Self pairs are included. In tables, Y is allowed and N
blocked, as in the evidence files.
"""
EPILOG = """\
--run RUN reads the predicted world of a run folder a plan wrote (predicted/model.json): the
inventory's pods as deployed (with an unlabelled netfence-rogue pod per namespace), the DNS pods
and the rendered policies.

examples (on the lab inventory; RUN is the folder `netfence plan` prints last):
  netfence plan -i inventories/lab
  netfence reachability --run RUN --probe TCP/3000 --format table
  netfence reachability --run RUN --format counts
  netfence reachability --run RUN --format json > matrix.json

exit status: 0 on success, 2 on an invalid model, probe or option.
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "reachability", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _model.add_arguments(parser)
    parser.add_argument(
        "--probe", action="append", metavar="PROTO/PORT", help="protocol/port to evaluate, repeatable (default: every declared container port)"
    )
    parser.add_argument("--format", choices=("json", "table", "counts"), default="json", help="output format (default: json)")
    parser.set_defaults(func=run)


def truth_table(keys: Sequence[str], grid: Sequence[Sequence[bool]]) -> str:
    """Upstream e2e style table: rows are sources, columns destinations; ``Y`` allowed, ``N``
    blocked (the letters of the evidence files, not upstream's ``.``/``X``, so one table reads
    like the next)."""
    corner = "from\\to"
    width = max([len(corner)] + [len(k) for k in keys])
    lines = [corner.rjust(width) + "".join(" " + k for k in keys)]
    for key, row in zip(keys, grid):
        lines.append(key.rjust(width) + "".join(" " + cell.rjust(len(k)) for k, cell in zip(keys, letters(row))))
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    engine = _model.engine(args)
    probes = engine.probes(args.probe)
    out = sys.stdout
    if args.format == "json":
        json.dump(engine.reachability(probes), out, indent=1)
        out.write("\n")
    elif args.format == "counts":
        out.write(f"{'PROBE':<12} {'ALLOWED':>10} {'DENIED':>10} {'PAIRS':>10}\n")
        for row in engine.counts(probes):
            probe = f"{row['protocol']}/{row['port']}"
            out.write(f"{probe:<12} {row['allowed']:>10} {row['denied']:>10} {row['pairs']:>10}\n")
    else:
        keys = [p.key for p in engine.world.pods]
        for i, probe in enumerate(probes):
            if i:
                out.write("\n")
            out.write(f"{probe[0]}/{probe[1]}\n")
            out.write(truth_table(keys, engine.allowed_matrix(probe)))
    return 0
