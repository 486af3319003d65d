"""Evidence folders: never reused, written inside the run folder only, sealed and verifiable."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from netfence import evidence
from netfence.errors import NetfenceError


def test_run_id_is_sortable_by_time_and_unique() -> None:
    early = evidence.new_run_id(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
    late = evidence.new_run_id(dt.datetime(2026, 1, 2, 3, 4, 6, tzinfo=dt.timezone.utc))
    assert early.startswith("20260102T030405Z-")
    assert early < late
    assert len({evidence.new_run_id() for _ in range(200)}) == 200


def test_create_run_dir_refuses_to_reuse_a_folder(tmp_path: Path) -> None:
    first = evidence.create_run_dir(tmp_path, "lab", run_id="r1")
    assert first == tmp_path / "lab" / "r1"
    with pytest.raises(NetfenceError, match="never overwrites"):
        evidence.create_run_dir(tmp_path, "lab", run_id="r1")


@pytest.mark.parametrize("cluster", ["../etc", "", "a/b", ".hidden"])
def test_create_run_dir_rejects_unsafe_names(tmp_path: Path, cluster: str) -> None:
    with pytest.raises(NetfenceError, match="cannot be used"):
        evidence.create_run_dir(tmp_path, cluster)


def test_write_refuses_to_overwrite_and_to_escape(tmp_path: Path) -> None:
    run = evidence.create_run_dir(tmp_path, "lab")
    evidence.write_json(run, "probes/before.json", {"b": 1, "a": 2})
    assert (run / "probes/before.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    with pytest.raises(NetfenceError, match="never overwritten"):
        evidence.write_json(run, "probes/before.json", {})
    with pytest.raises(NetfenceError, match="outside the run folder"):
        evidence.write_text(run, "../other.txt", "x")
    assert not (tmp_path / "lab" / "other.txt").exists()


def test_seal_is_sha256sum_compatible_and_verify_finds_tampering(tmp_path: Path) -> None:
    run = evidence.create_run_dir(tmp_path, "lab")
    evidence.write_text(run, "report.md", "# report\n")
    evidence.write_json(run, "probes/after.json", [{"outcome": "blocked"}])
    evidence.seal(run)
    check = subprocess.run(["sha256sum", "-c", evidence.CHECKSUMS], cwd=run, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert evidence.verify(run) == []

    (run / "report.md").write_text("# edited\n")
    (run / "extra.txt").write_text("x")
    (run / "probes/after.json").unlink()
    assert evidence.verify(run) == [
        "extra.txt: not in SHA256SUMS",
        "probes/after.json: missing",
        "report.md: checksum mismatch",
    ]


def test_verify_reports_missing_manifest(tmp_path: Path) -> None:
    run = evidence.create_run_dir(tmp_path, "lab")
    assert evidence.verify(run) == [f"{run / evidence.CHECKSUMS} is missing"]


def test_evidence_module_creates_and_seals(tmp_path: Path, ansible_env: dict[str, str]) -> None:
    """The Ansible adapter: create writes run.json, check mode writes nothing, seal writes sums."""
    base = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "netfence_evidence",
            "-e", f"ansible_python_interpreter={ansible_env['NETFENCE_PYTHON']}"]
    check = subprocess.run([*base, "--check", "-a", f"root={tmp_path} cluster=lab"],
                           capture_output=True, text=True, env=ansible_env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert list(tmp_path.iterdir()) == []

    made = subprocess.run([*base, "-a", f"root={tmp_path} cluster=lab", "-o"],
                          capture_output=True, text=True, env=ansible_env)
    assert made.returncode == 0, made.stdout + made.stderr
    (run_dir,) = (tmp_path / "lab").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["cluster"] == "lab"

    sealed = subprocess.run([*base, "-a", f"action=seal run_dir={run_dir}"],
                            capture_output=True, text=True, env=ansible_env)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert evidence.verify(run_dir) == []


def test_modules_say_how_to_fix_a_python_without_netfence(tmp_path: Path, ansible_env: dict[str, str]) -> None:
    """A host interpreter without the netfence package gets a fix-it message, not an ImportError trace."""
    import sys

    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    if not base.exists():
        pytest.skip(f"no base interpreter at {base}")
    run = subprocess.run(["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "netfence_evidence",
                          "-e", f"ansible_python_interpreter={base}", "-a", f"root={tmp_path} cluster=lab"],
                         capture_output=True, text=True, env=ansible_env)
    assert run.returncode != 0
    assert "the netfence package is not importable" in run.stdout
    assert "make setup" in run.stdout
    assert list(tmp_path.iterdir()) == []


def test_read_json_gives_none_for_an_absent_file_and_names_a_malformed_one(tmp_path):
    assert evidence.read_json(tmp_path / "probes" / "before.json") is None
    (tmp_path / "before.json").write_text('{"records": [')
    with pytest.raises(NetfenceError, match="before.json is not valid JSON"):
        evidence.read_json(tmp_path / "before.json")
    (tmp_path / "ok.json").write_text('{"records": []}')
    assert evidence.read_json(tmp_path / "ok.json") == {"records": []}
