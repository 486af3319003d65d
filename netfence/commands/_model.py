"""Where ``reachability`` and ``explain`` get their world: a model file, or a planned run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from netfence.errors import NetfenceError
from netfence.policy.engine import Engine

MODEL_FILE = "predicted/model.json"  # netfence.plan.MODEL_FILE (not imported: the plan pulls in jsonschema)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="MODEL.yaml", help="namespaces, pods and policies to evaluate")
    source.add_argument("--run", metavar="RUN", type=Path,
                        help="a run folder `netfence plan` or `make plan` wrote: its predicted world "
                             f"({MODEL_FILE}: the inventory's pods as deployed, the rendered policies, the cluster DNS)")


def _run_hint(path: Path) -> str:
    """What to say instead when ``--model`` names a run folder or a file in one (a rendered
    manifest, say): neither is a model, but ``--run`` reads the world the plan predicted there.
    Empty when ``path`` is not in a run folder."""
    run = next((p for p in (path, *path.parents) if (p / MODEL_FILE).is_file()), None)
    if run is None:
        return ""
    what = "a run folder" if run == path else f"a file of the run folder {run}"
    return (f"{path} is {what}, not a model (namespaces, pods and policies in one document) "
            f"(fix: --run {run} reads the world that plan predicted, its {MODEL_FILE})")


def engine(args: argparse.Namespace) -> Engine:
    """The engine over ``--model``, or over the predicted world of ``--run`` (checked against the
    run's SHA256SUMS first; an open run is fine, a tampered one is refused)."""
    from netfence.policy.model import World, load_world

    if args.model is not None:
        try:
            return Engine(load_world(args.model))
        except NetfenceError as exc:
            raise NetfenceError(_run_hint(Path(args.model)) or str(exc)) from None
    from netfence import loading
    from netfence.evidence import runs

    run_dir: Path = args.run
    if not (run_dir / MODEL_FILE).is_file():
        raise NetfenceError(f"{run_dir}: no {MODEL_FILE} (fix: pass a run folder a plan wrote: `netfence plan -i "
                            "<inventory>` or `make plan` prints its path as the last line)")
    problems = runs.verify(run_dir)
    if problems:
        raise NetfenceError(f"{run_dir} does not match its {runs.CHECKSUMS}: {'; '.join(problems[:5])} "
                            "(fix: plan a new run; evidence that changed is not read)")
    data = loading.load_data(loading.read_text(run_dir / MODEL_FILE, "model"), run_dir / MODEL_FILE)
    dns = data.get("dns") if isinstance(data, dict) else None
    selectors = [(str(d["namespace"]), dict(d["pod_labels"])) for d in dns or [] if isinstance(d, dict)]
    return Engine(World.from_state(data), dns=selectors or None)
