"""Every example a ``--help`` shows runs as written on the lab inventory (RUN: the run folder
``netfence plan`` prints last)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netfence import cli

REPO = Path(__file__).resolve().parents[2]


def _examples() -> list[str]:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = []
    for sub in actions[0].choices.values():
        found += [m.group(1).strip() for m in re.finditer(r"^(?:example: |\s+)(netfence .+)$", sub.epilog or "", re.M)]
    return found


EXAMPLES = _examples()


def test_the_explain_and_reachability_help_show_examples_on_a_planned_run() -> None:
    assert any(e.startswith("netfence explain --run RUN") for e in EXAMPLES)
    assert any(e.startswith("netfence reachability --run RUN") for e in EXAMPLES)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("examples")
    (work / "inventories").symlink_to(REPO / "inventories")
    done = subprocess.run([sys.executable, "-m", "netfence", "plan", "-i", "inventories/lab"], cwd=work,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return work, done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_help_example_runs_as_written(example: str, workdir: tuple[Path, str]) -> None:
    work, run = workdir
    command = example.replace("RUN", run).replace("netfence ", f"{sys.executable} -m netfence ", 1)
    done = subprocess.run(command, shell=True, cwd=work, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, (example, done.stderr)
    assert "error" not in done.stderr.lower(), done.stderr


@pytest.mark.parametrize("part", ["", "/manifests/dev.yaml"])
def test_a_run_folder_given_as_a_model_points_at_run(part: str, workdir: tuple[Path, str]) -> None:
    work, run = workdir
    done = subprocess.run([sys.executable, "-m", "netfence", "reachability", "--model", run + part, "--format", "counts"],
                          cwd=work, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert "not a model" in done.stderr and f"(fix: --run {run} reads the world that plan predicted" in done.stderr


def test_a_changed_predicted_world_is_not_read(workdir: tuple[Path, str], tmp_path: Path) -> None:
    import shutil

    work, run = workdir
    copy = tmp_path / "run"
    shutil.copytree(work / run, copy)
    model = copy / "predicted" / "model.json"
    model.write_text(model.read_text().replace('"policies"', '"policies" ', 1))
    done = subprocess.run([sys.executable, "-m", "netfence", "explain", "--run", str(copy), "--probe", "TCP/3000"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 2 and "does not match its SHA256SUMS" in done.stderr and "predicted/model.json" in done.stderr
