"""Evidence folders: never reused, written inside the run folder only, sealed and verifiable."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from netfence.evidence import runs as evidence
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
    assert evidence.state(run_dir) == "open" and evidence.verify(run_dir) == []  # sealed as created, still open

    (run_dir / "probes").mkdir()
    (run_dir / "probes" / "before.json").write_text("{}")
    sealed = subprocess.run([*base, "-a", f"action=seal run_dir={run_dir}"],
                            capture_output=True, text=True, env=ansible_env)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert evidence.verify(run_dir) == []

    (run_dir / "probes" / "before.json").write_text('{"edited": true}')
    opened = subprocess.run([*base, "-a", f"action=open run_dir={run_dir} stage=probe-after"],
                            capture_output=True, text=True, env=ansible_env)
    assert opened.returncode != 0 and "probes/before.json: checksum mismatch" in opened.stdout
    checked = subprocess.run([*base, "-a", f"action=verify run_dir={run_dir} allow_open=true"],
                             capture_output=True, text=True, env=ansible_env)
    assert checked.returncode != 0 and "probes/before.json: checksum mismatch" in checked.stdout


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


def test_a_run_is_incomplete_from_its_first_byte_until_it_is_sealed(tmp_path: Path) -> None:
    run = evidence.create_run_dir(tmp_path, "lab", stage="plan")
    assert [p.name for p in run.iterdir()] == [evidence.INCOMPLETE]  # before anything else is written
    assert "stage 'plan'" in (run / evidence.INCOMPLETE).read_text()
    evidence.write_json(run, "run.json", {"run_id": run.name})
    evidence.seal(run)
    assert evidence.state(run) == "open" and evidence.INCOMPLETE in (run / evidence.CHECKSUMS).read_text()
    with pytest.raises(NetfenceError, match="is incomplete"):
        evidence.check_readable(run)
    assert "is incomplete" in evidence.check_readable(run, inspect=True)[0]
    evidence.finalize(run)
    assert evidence.state(run) == "sealed" and not (run / evidence.INCOMPLETE).exists()
    assert evidence.verify(run) == [] and evidence.check_readable(run) == []
    check = subprocess.run(["sha256sum", "-c", evidence.CHECKSUMS], cwd=run, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_removing_the_incomplete_marker_by_hand_is_tampering(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "probe-after")
    (run / evidence.INCOMPLETE).unlink()
    with pytest.raises(NetfenceError, match="INCOMPLETE: missing"):
        evidence.check_readable(run)


def test_a_sealed_run_is_never_written_again(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "plan")
    evidence.finalize(run)
    for write in (lambda: evidence.seal(run), lambda: evidence.open_run(run, "plan"), lambda: evidence.finalize(run),
                  lambda: evidence.start_run(run, {}, "plan")):
        with pytest.raises(NetfenceError):
            write()
    assert evidence.verify(run) == []


def test_a_stage_refuses_a_tampered_open_run_naming_the_files(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "plan")
    evidence.write_text(run, "manifests/dev.yaml", "kind: NetworkPolicy\n")
    evidence.seal(run)
    (run / "manifests" / "dev.yaml").write_text("kind: NetworkPolicy  # edited\n")
    (run / "stray.txt").write_text("x")
    with pytest.raises(NetfenceError, match=r"manifests/dev.yaml: checksum mismatch; stray.txt: not in SHA256SUMS"):
        evidence.open_run(run, "probe-before")
    assert "stage 'plan'" in (run / evidence.INCOMPLETE).read_text()  # nothing was written


def test_a_run_planned_from_one_inventory_is_never_replanned_from_another(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {"inventory": "inventories/lab", "inventory_sha256": "a" * 64}, "plan")
    assert evidence.open_run(run, "plan", inventory_sha256="a" * 64) is False  # same inventory, same stage: nothing changes
    with pytest.raises(NetfenceError, match="planned from another inventory"):
        evidence.open_run(run, "plan", inventory_sha256="b" * 64, inventory="inventories/other")
    with pytest.raises(NetfenceError, match="planned from another inventory"):
        evidence.open_run(run, "plan", inventory_sha256="b" * 64, dry_run=True)
    # the plan has not finished: no other stage may continue the run (it would hide the gap)
    with pytest.raises(NetfenceError, match="stage 'plan' started writing and did not finish"):
        evidence.open_run(run, "probe-before")
    evidence.seal(run, finished="plan")
    # a new stage changes only the marker: bookkeeping, not evidence (so a re-run reports no change)
    assert evidence.open_run(run, "probe-before") is False and evidence.verify(run) == []
    assert evidence.interrupted_stage(run) == "probe-before"


def test_a_stage_that_did_not_finish_is_never_sealed_for_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plan killed after its first checkpoint left INCOMPLETE, run.json and matching
    SHA256SUMS; `report --write` sealed that as a finished run. Only a stage's own last step
    (seal with finished=) marks it finished."""
    from netfence.cli import main

    run = evidence.start_run(tmp_path / "lab" / "r1", {"inventory": "inventories/lab"}, "plan")
    assert evidence.verify(run) == [] and evidence.interrupted_stage(run) == "plan"
    assert main(["report", "--run-dir", str(run), "--write"]) == 2
    err = capsys.readouterr().err
    assert "stage 'plan' started writing and did not finish" in err and "no report written" in err
    assert evidence.state(run) == "open" and not (run / "report.md").exists()
    evidence.write_text(run, "manifests/dev.yaml", "kind: List\n")
    evidence.seal(run, finished="plan")
    assert evidence.interrupted_stage(run) is None and evidence.verify(run) == []
    assert evidence.seal_needed(run) is False
    evidence.open_run(run, "probe-before")
    assert evidence.seal_needed(run) is False  # the marker changed, the evidence did not
    assert main(["report", "--run-dir", str(run), "--write"]) == 2
    assert "stage 'probe-before' started writing" in capsys.readouterr().err
    # killed while probing: the next stage may not paper over the missing round
    with pytest.raises(NetfenceError, match="stage 'probe-before' started writing and did not finish"):
        evidence.open_run(run, "policies")
    assert evidence.open_run(run, "probe-before") is False  # the interrupted stage itself may run again


def test_a_sealed_run_with_a_nested_checksums_file_added_is_tampered(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "plan")
    evidence.finalize(run)
    (run / "probes").mkdir()
    (run / "probes" / evidence.CHECKSUMS).write_text("anything\n")
    assert evidence.verify(run) == [f"probes/{evidence.CHECKSUMS}: not in {evidence.CHECKSUMS}"]


@pytest.mark.parametrize("make, expected", [
    (lambda p: None, "missing"),
    (lambda p: p.mkdir(), "empty"),
    (lambda p: (p.mkdir(), (p / "x.json").write_text("{}")), "unsealed"),
])
def test_folders_that_are_not_open_runs_are_never_written_into(tmp_path: Path, make, expected) -> None:
    path = tmp_path / "run"
    make(path)
    assert evidence.state(path) == expected
    with pytest.raises(NetfenceError):
        evidence.open_run(path, "probe-after")


def test_a_malformed_checksum_line_is_a_problem(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "plan")
    with (run / evidence.CHECKSUMS).open("a") as sums:
        sums.write("not-a-digest  ../../etc/passwd\n")
    assert evidence.verify(run) == [f"{evidence.CHECKSUMS} line 3: malformed"]
