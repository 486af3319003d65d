"""Benchmark ``netfence reachability --format counts`` on generated worlds (and nca, if present).

For each size (default 200, 1,000 and 5,000 pods, six baseline policies per application
namespace, see bench/worldgen.py) the world is written as a model file and
``python -m netfence reachability --model MODEL --format counts`` runs in a fresh subprocess,
so the figures include interpreter start, imports and model parsing, and the peak RSS
(``os.wait4`` rusage of that child alone) is honest. Each run is repeated; the median wall time
is reported (this machine is shared, single runs are noisy). The model is written as JSON (which
is YAML, and what a generator would emit); the YAML spelling of the same model is timed too.
netfence's modules are byte-compiled first (``compileall``), as ``pip install`` does for an
installed tool: an editable checkout under ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile
them on every start and charge that to each run.

If network-config-analyzer is installed in ``.venv-nca/`` (``--with-nca`` creates it:
``python3.13 -m venv .venv-nca && .venv-nca/bin/pip install network-config-analyzer==2.1.0``;
it conflicts with netfence's PyYAML pin, hence its own venv), the same world is written as a
folder of Namespace/Pod/NetworkPolicy resources and ``nca --connectivity --resource_list DIR
-o txt_no_fw_rules`` is timed once, and the speed ratio printed. ``--compare-nca`` also checks
nca's pod-to-pod answers against netfence's on every declared port and lists disagreements.

Targets: 5,000 pods in under 2 s and under 1 GiB; at least 30x faster than nca at 1,000 and 5,000.

Scaling (``--scaling``, on by default): 100 namespaces x 50 pods (5,000 pods, ~600 policies)
against 1,000 x 50 (50,000 pods, ~6,000 policies), the same CLI call; ten times the cluster
must cost at most 12x the time and stay under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import worldgen  # noqa: E402  (sibling module)

NCA_VENV = REPO / ".venv-nca"
NCA_PIN = "network-config-analyzer==2.1.0"
TARGET_SECONDS = 2.0
TARGET_BYTES = 1 << 30
TARGET_RATIO = 30.0
SCALING_SHAPES = ((100, 50), (1000, 50))  # (namespaces, pods per namespace)
TARGET_GROWTH = 12.0


# Peak memory is read from the child's own /proc/self/status (VmHWM) at exit: the rusage of a
# forked child also counts the parent's pages from before exec, which would charge netfence
# with the benchmark's own memory.
HWM_WRAPPER = (
    "import atexit, runpy, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('NETFENCE_BENCH_HWM_KB %s\\n' % line.split()[1])\n"
    "atexit.register(_hwm)\n"
    "sys.argv = sys.argv[1:]\n"
    "if sys.argv[0] == '-m':\n"
    "    sys.argv = sys.argv[1:]\n"
    "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
    "else:\n"
    "    exec(compile(sys.argv[0], '<bench>', 'exec'), {'__name__': '__main__'})\n"
)


def timed_child(cmd: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, int, int]:
    """Run ``cmd``; return (wall seconds, peak RSS bytes of that child, exit status)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    peak = 0
    for line in proc.stderr.splitlines():
        if line.startswith("NETFENCE_BENCH_HWM_KB "):
            peak = int(line.split()[1]) * 1024
    return wall, peak, proc.returncode


ENGINE_ONLY = (
    "import sys\n"
    "from netfence.policy.engine import Engine\n"
    "from netfence.policy.model import load_world\n"
    "for row in Engine(load_world(sys.argv[1])).counts():\n"
    "    print(row)\n"
)


def netfence_run(model: Path, repeat: int, engine_only: bool = False) -> tuple[float, float, int]:
    """Median and best wall time, and peak RSS, of the CLI (or of load + counts alone) in fresh processes."""
    if engine_only:
        cmd = [sys.executable, "-c", HWM_WRAPPER, ENGINE_ONLY, str(model)]
    else:
        cmd = [sys.executable, "-c", HWM_WRAPPER, "-m", "netfence", "reachability", "--model", str(model), "--format", "counts"]
    walls, peak = [], 0
    for _ in range(repeat):
        wall, rss, code = timed_child(cmd)
        if code != 0:
            raise SystemExit(f"netfence failed on {model} (exit {code})")
        walls.append(wall)
        peak = max(peak, rss)
    return statistics.median(walls), min(walls), peak


def ensure_nca(create: bool) -> Path | None:
    nca = NCA_VENV / "bin" / "nca"
    if nca.exists():
        return nca
    if not create:
        return None
    python = shutil.which("python3.13") or sys.executable
    print(f"creating {NCA_VENV} with {NCA_PIN} ...", flush=True)
    subprocess.run([python, "-m", "venv", str(NCA_VENV)], check=True)
    subprocess.run([str(NCA_VENV / "bin" / "pip"), "install", "-q", NCA_PIN], check=True)
    return nca if nca.exists() else None


_CONN = re.compile(r"\{protocols:([A-Z]+(?:, [A-Z]+)*)(?:,dst_ports:([0-9,\- ]+))?\}")


def parse_nca(text: str) -> dict[tuple[str, str], Any]:
    """nca txt output -> {(src, dst): "all" | set of (proto, port-range)} for pod pairs."""
    out: dict[tuple[str, str], Any] = {}
    for line in text.splitlines():
        if " => " not in line or " : " not in line:
            continue
        pair, _, conns = line.partition(" : ")
        src, _, dst = pair.partition(" => ")
        if not (src.endswith("[Pod]") and dst.endswith("[Pod]")):
            continue
        key = (src[: -len("[Pod]")], dst[: -len("[Pod]")])
        if conns.strip() == "All connections":
            out[key] = "all"
            continue
        allowed = set()
        for protos, ports in _CONN.findall(conns):
            for proto in protos.split(", "):
                if not ports:
                    allowed.add((proto, 1, 65535))
                for part in ports.split(","):
                    part = part.strip()
                    if part:
                        lo, _, hi = part.partition("-")
                        allowed.add((proto, int(lo), int(hi or lo)))
        out[key] = allowed
    return out


def nca_allows(entry: Any, proto: str, port: int) -> bool:
    if entry is None:
        return False
    if entry == "all":
        return True
    return any(p == proto and lo <= port <= hi for p, lo, hi in entry)


def compare_with_nca(state: dict[str, Any], nca_text: str, limit: int = 10) -> list[str]:
    """Pod pairs (self pairs excluded: nca does not list them) where nca and netfence disagree."""
    sys.path.insert(0, str(REPO))
    from netfence.policy.engine import Engine
    from netfence.policy.model import World

    engine = Engine(World.from_state(state))
    nca = parse_nca(nca_text)
    keys = [p.key for p in engine.world.pods]
    diffs: list[str] = []
    for proto, port in engine.probes():
        grid = engine.allowed_matrix((proto, port))
        for i, src in enumerate(keys):
            for j, dst in enumerate(keys):
                if i != j and nca_allows(nca.get((src, dst)), proto, port) != grid[i][j]:
                    diffs.append(f"{src} -> {dst} {proto}/{port}: netfence {grid[i][j]}, nca {not grid[i][j]}")
    return diffs[:limit] + ([f"... {len(diffs) - limit} more"] if len(diffs) > limit else [])


def scaling(repeat: int) -> list[str]:
    """Time the CLI on 100 and 1,000 namespaces of 50 pods; return the targets missed."""
    print(f"\n{'namespaces':>10} {'pods':>7} {'policies':>8} {'cli s':>7} {'best':>5} {'peak MiB':>9}")
    walls, missed = [], []
    with tempfile.TemporaryDirectory(prefix="netfence-scale-") as tmp:
        for namespaces, per in SCALING_SHAPES:
            state = worldgen.generate(namespaces * per + 4, per_namespace=per)
            model = Path(tmp) / f"scale-{namespaces}.json"
            model.write_text(json.dumps(state), encoding="utf-8")
            wall, best, rss = netfence_run(model, repeat)
            walls.append(wall)
            print(f"{namespaces:>10} {len(state['pods']):>7} {len(state['policies']):>8} {wall:>7.2f} {best:>5.2f} {rss / 2**20:>9.0f}", flush=True)
            if rss >= TARGET_BYTES:
                missed.append(f"{namespaces} namespaces x {per} pods: {rss / 2**20:.0f} MiB (target < 1 GiB)")
    growth = walls[1] / walls[0]
    print(f"growth for 10x the namespaces: {growth:.1f}x (target <= {TARGET_GROWTH:.0f}x)")
    if growth > TARGET_GROWTH:
        missed.append(f"scaling: {growth:.1f}x for 10x the namespaces (target <= {TARGET_GROWTH:.0f}x)")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=5, help="netfence runs per size (median and best reported)")
    parser.add_argument("--with-nca", action="store_true", help=f"create .venv-nca ({NCA_PIN}) if missing and time nca")
    parser.add_argument("--no-nca", action="store_true", help="skip nca even if installed")
    parser.add_argument("--compare-nca", action="store_true", help="also compare nca's answers with netfence's (sizes up to 1,000)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 100x50 vs 1,000x50 namespaces scaling run")
    args = parser.parse_args()

    nca = None if args.no_nca else ensure_nca(args.with_nca)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "netfence")], check=True)
    if nca is None and not args.no_nca:
        print(f"network-config-analyzer not found in {NCA_VENV} (run with --with-nca to install {NCA_PIN}); timing netfence only")
    print(f"{'pods':>6} {'classes':>7} {'policies':>8} {'probes':>6} {'cli s':>7} {'best':>5} {'engine s':>8} {'best':>5} {'yaml s':>7} {'peak MiB':>9} {'nca s':>7} {'ratio':>6} {'eng ratio':>9}")
    missed = []
    with tempfile.TemporaryDirectory(prefix="netfence-bench-") as tmp:
        for size in args.sizes:
            state = worldgen.generate(size)
            model = Path(tmp) / f"world-{size}.json"
            model.write_text(json.dumps(state), encoding="utf-8")
            yaml_model = Path(tmp) / f"world-{size}.yaml"
            worldgen.write_model(state, yaml_model)
            wall, best, rss = netfence_run(model, args.repeat)
            engine_wall, engine_best, engine_rss = netfence_run(model, args.repeat, engine_only=True)
            yaml_wall, _, yaml_rss = netfence_run(yaml_model, 1)
            sys.path.insert(0, str(REPO))
            from netfence.policy.engine import Engine
            from netfence.policy.model import World

            engine = Engine(World.from_state(state))
            classes, probes = len(engine.matrix.size), len(engine.probes())
            nca_wall = None
            nca_text = ""
            if nca is not None:
                resources = Path(tmp) / f"resources-{size}"
                worldgen.write_resources(state, resources)
                out_file = Path(tmp) / f"nca-{size}.txt"
                with out_file.open("w") as handle:
                    nca_wall, _, code = timed_child([str(nca), "--connectivity", "--resource_list", str(resources), "-o", "txt_no_fw_rules"], stdout=handle)
                if args.compare_nca and size <= 1000:
                    nca_text = out_file.read_text()
                if code != 0:
                    print(f"  nca exited {code} at {size} pods")
            ratio = nca_wall / wall if nca_wall else None
            peak = max(rss, engine_rss, yaml_rss)
            print(f"{size:>6} {classes:>7} {len(state['policies']):>8} {probes:>6} {wall:>7.2f} {best:>5.2f} {engine_wall:>8.2f} {engine_best:>5.2f} {yaml_wall:>7.2f} {peak / 2**20:>9.0f} "
                  f"{(f'{nca_wall:.1f}' if nca_wall else '-'):>7} {(f'{ratio:.0f}x' if ratio else '-'):>6} "
                  f"{(f'{nca_wall / engine_wall:.0f}x' if nca_wall else '-'):>9}", flush=True)
            if size >= 5000 and (wall >= TARGET_SECONDS or rss >= TARGET_BYTES):
                missed.append(f"{size} pods: {wall:.2f} s, {rss / 2**20:.0f} MiB (target < {TARGET_SECONDS} s, < 1 GiB)")
            if ratio is not None and size >= 1000 and ratio < TARGET_RATIO:
                missed.append(f"{size} pods: {ratio:.0f}x faster than nca (target >= {TARGET_RATIO:.0f}x)")
            if args.compare_nca and nca_text:
                diffs = compare_with_nca(state, nca_text)
                print(f"  nca vs netfence at {size} pods: {'no disagreement' if not diffs else f'{len(diffs)} disagreements:'}")
                for line in diffs:
                    print(f"    {line}")
    if not args.no_scaling:
        missed += scaling(args.repeat)
    print(f"cli s / best: median / fastest of {args.repeat} wall times of `python -m netfence reachability --format counts` over every declared port (model as JSON);\n"
          "engine s: the same work without the CLI's other subcommands' imports (load_world + Engine.counts);\n"
          "yaml s: the CLI on the YAML spelling of the model; peak MiB: max RSS of those child processes;\n"
          "ratio: nca time / cli time; eng ratio: nca time / engine time.")
    if missed:
        print("targets missed: " + "; ".join(missed))
        return 1 if args.strict else 0
    print("targets met" + ("" if nca is not None else " (netfence only; nca not timed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
