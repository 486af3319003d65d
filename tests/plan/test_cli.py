"""``netfence validate|render|plan``: exit codes, files, and no traceback for bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from netfence.evidence import runs as evidence
from netfence.cli import main

from .conftest import LAB, REPO


def _broken_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(LAB, inventory)
    path = inventory / "group_vars/all/namespaces.yml"
    data = yaml.safe_load(path.read_text())
    data["netfence_namespaces"][1]["allow_from_namespaces"][0]["ports"][0]["port"] = 0
    data["netfence_namespaces"][0]["allow_from_pods"][0]["ports"][0]["port"] = 80
    path.write_text(yaml.safe_dump(data))
    return inventory


def test_validate_accepts_the_lab(capsys):
    assert main(["validate", "--inventory", str(LAB)]) == 0
    assert "valid (21 policies in 4 namespaces, 0 warnings)" in capsys.readouterr().out


def test_validate_exits_2_with_the_inventory_path(tmp_path, capsys):
    assert main(["validate", "-i", str(_broken_inventory(tmp_path))]) == 2
    err = capsys.readouterr().err
    # a structural error stops before rendering, so the Service-port mistake is reported on the next run
    assert err.startswith("netfence validate: error: 1 error in the inventory")
    assert "ERROR netfence_namespaces[1].allow_from_namespaces[0].ports[0].port: 0 is out of range" in err


def test_semantic_errors_are_all_listed(tmp_path, capsys):
    inventory = _broken_inventory(tmp_path)
    path = inventory / "group_vars/all/namespaces.yml"
    data = yaml.safe_load(path.read_text())
    data["netfence_namespaces"][1]["allow_from_namespaces"][0]["ports"][0]["port"] = 80
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", "-i", str(inventory)]) == 2
    err = capsys.readouterr().err
    assert "netfence_namespaces[0].allow_from_pods[0].ports[0].port: port 80 is the Service port of dev/my-api" in err
    assert "netfence_namespaces[1].allow_from_namespaces[0].ports[0].port: port 80 is the Service port of prod" in err


def test_render_to_stdout_and_to_a_folder(tmp_path, capsys):
    assert main(["render", "-i", str(LAB)]) == 0
    out = capsys.readouterr().out
    assert out.count("kind: NetworkPolicy") == 21
    assert main(["render", "-i", str(LAB), "--out", str(tmp_path / "out")]) == 0
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["dev.yaml", "gateway.yaml", "monitoring.yaml", "prod.yaml"]
    assert "".join((tmp_path / "out" / f"{ns}.yaml").read_text() for ns in ("dev", "prod", "monitoring", "gateway")) == out


def test_plan_writes_a_sealed_run_folder_and_prints_it_last(tmp_path, capsys):
    assert main(["plan", "-i", str(LAB), "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    run_dir = Path(last)
    assert run_dir.parent == tmp_path.resolve() / "netfence-lab"
    assert sorted(p.name for p in (run_dir / "manifests").iterdir()) == [
        "dev.yaml", "gateway.yaml", "monitoring.yaml", "prod.yaml"]
    assert (run_dir / "run.json").is_file()
    assert evidence.verify(run_dir) == []


def test_invalid_inventory_writes_nothing(tmp_path, capsys):
    out = tmp_path / "evidence"
    assert main(["plan", "-i", str(_broken_inventory(tmp_path)), "--out", str(out)]) == 2
    assert not out.exists()
    assert main(["render", "-i", str(_broken_inventory(tmp_path / "b")), "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()


def test_bad_input_never_shows_a_traceback(tmp_path):
    broken = tmp_path / "yaml"
    (broken / "group_vars/all").mkdir(parents=True)
    (broken / "group_vars/all/namespaces.yml").write_text("netfence_namespaces: [\n")
    for inventory, fragment in ((broken, "is not valid YAML"), (tmp_path / "missing", "does not exist"),
                                (_broken_inventory(tmp_path), "0 is out of range")):
        done = subprocess.run([sys.executable, "-m", "netfence", "plan", "-i", str(inventory),
                               "--out", str(tmp_path / "ev")], capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 2
        assert fragment in done.stderr
        assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "ev").exists()


def test_missing_kubernetes_version_is_explained(tmp_path, capsys):
    inventory = tmp_path / "inv"
    shutil.copytree(LAB, inventory)
    (inventory / "group_vars/all/cluster.yml").write_text("netfence_cluster_name: x\n")
    assert main(["validate", "-i", str(inventory)]) == 2
    assert "netfence_kubernetes_version is not set" in capsys.readouterr().err
    assert main(["validate", "-i", str(inventory), "--kubernetes-version", "v1.34.11"]) == 0
