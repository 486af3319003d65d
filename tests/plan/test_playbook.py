"""``ansible-playbook playbooks/plan.yml`` end to end on the controller (no cluster involved)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from netfence.evidence import runs as evidence
from netfence.inventory.schema import parse
from netfence.inventory.render import render, render_files

from .conftest import LAB, REPO


def _play(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-playbook", "playbooks/plan.yml", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def _summary(stdout: str) -> list[str]:
    """The strings of the summary task's msg list, in order."""
    block = stdout.split("TASK [plan : Show what was planned and where]", 1)[1]
    block = block.split("PLAY RECAP", 1)[0]
    return re.findall(r'^\s+"(.*)",?$', block, flags=re.MULTILINE)


def _lab_copy(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(LAB, inventory)
    return inventory


def test_plan_writes_the_lab_manifests_into_a_new_run_folder(ansible_env, tmp_path):
    done = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_evidence_dir={tmp_path}")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = _summary(done.stdout)
    run_dir = Path(lines[-1])
    assert run_dir.parent == tmp_path / "netfence-lab"
    assert any(line.startswith("21 policies in 4 namespaces; 0 errors") for line in lines)
    namespaces = yaml.safe_load((LAB / "group_vars/all/namespaces.yml").read_text())["netfence_namespaces"]
    expected = render_files(render(parse(namespaces)))
    for relpath, text in expected.items():
        assert (run_dir / relpath).read_text() == text
    assert (run_dir / "run.json").is_file()
    assert evidence.verify(run_dir) == []


def test_check_mode_writes_nothing(ansible_env, tmp_path):
    done = _play(ansible_env, "-i", str(LAB), "--check", "-e", f"netfence_evidence_dir={tmp_path / 'ev'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _summary(done.stdout)[-1] == "check mode or validate only: nothing written"
    assert not (tmp_path / "ev").exists()


@pytest.mark.parametrize("tags", ["render", "predict"])
def test_check_mode_of_one_stage_tag_writes_nothing_and_does_not_trip(ansible_env, tmp_path, tags):
    # --tags render skips the validation task: nothing may depend on its result being there.
    done = _play(ansible_env, "-i", str(LAB), "--check", "--tags", tags, "-e", f"netfence_evidence_dir={tmp_path / 'ev'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "ev").exists()


def test_check_mode_with_a_given_run_folder_reports_but_writes_nothing(ansible_env, tmp_path):
    run_dir = tmp_path / "run"
    done = _play(ansible_env, "-i", str(LAB), "--check", "--diff", "-e", f"netfence_run_dir={run_dir}")
    assert done.returncode == 0, done.stdout + done.stderr
    write_task = done.stdout.split("TASK [plan : Validate, render, predict and write the run folder", 1)[1].split("TASK [", 1)[0]
    assert "changed: [localhost]" in write_task
    assert "+kind: NetworkPolicy" in write_task
    assert not run_dir.exists()


def test_an_existing_run_folder_is_reused_and_rewritten_only_when_bytes_change(ansible_env, tmp_path):
    run_dir = tmp_path / "run"
    first = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_run_dir={run_dir}")
    second = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_run_dir={run_dir}")
    assert first.returncode == second.returncode == 0, first.stdout + second.stdout
    assert "changed=0" in second.stdout.split("PLAY RECAP", 1)[1]
    assert _summary(second.stdout)[-1] == str(run_dir)
    assert sorted(p.name for p in (run_dir / "manifests").iterdir()) == [
        "dev.yaml", "gateway.yaml", "monitoring.yaml", "prod.yaml"]


@pytest.mark.parametrize("breakage, expected", [
    (lambda ns: ns[1]["allow_from_namespaces"][0]["ports"][0].update(port=80),
     "netfence_namespaces[1].allow_from_namespaces[0].ports[0].port: port 80 is the Service port of prod/my-api"),
    (lambda ns: ns[0]["profiles"].append("allow-everything"),
     "netfence_namespaces[0].profiles[7]: unknown profile 'allow-everything'"),
    (lambda ns: ns[3].update(profils=[]),  # the role's argument specs reject unknown keys first
     "profils"),
])
def test_invalid_inventory_fails_clearly_and_writes_nothing(ansible_env, tmp_path, breakage, expected):
    inventory = _lab_copy(tmp_path)
    path = inventory / "group_vars/all/namespaces.yml"
    data = yaml.safe_load(path.read_text())
    breakage(data["netfence_namespaces"])
    path.write_text(yaml.safe_dump(data))
    done = _play(ansible_env, "-i", str(inventory), "-e", f"netfence_evidence_dir={tmp_path / 'ev'}")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert expected in output
    assert "Traceback" not in output
    assert not (tmp_path / "ev").exists()


def test_a_run_planned_from_one_inventory_is_never_rewritten_from_another(ansible_env, tmp_path):
    run_dir = tmp_path / "run"
    first = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_run_dir={run_dir}")
    assert first.returncode == 0, first.stdout + first.stderr
    before = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    inventory = _lab_copy(tmp_path)
    path = inventory / "group_vars/all/namespaces.yml"
    data = yaml.safe_load(path.read_text())
    data["netfence_namespaces"][0]["labels"]["team"] = "payments"  # another inventory: another fingerprint
    path.write_text(yaml.safe_dump(data))
    other = _play(ansible_env, "-i", str(inventory), "-e", f"netfence_run_dir={run_dir}")
    assert other.returncode != 0
    assert "planned from another inventory" in other.stdout + other.stderr, other.stdout[-3000:]
    assert {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
    assert evidence.verify(run_dir) == [] and evidence.state(run_dir) == "open"


def test_a_sealed_run_is_never_planned_again(ansible_env, tmp_path):
    run_dir = tmp_path / "run"
    assert _play(ansible_env, "-i", str(LAB), "-e", f"netfence_run_dir={run_dir}").returncode == 0
    evidence.finalize(run_dir)
    sums = (run_dir / "SHA256SUMS").read_bytes()
    again = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_run_dir={run_dir}")
    assert again.returncode != 0 and "a sealed run is never written again" in again.stdout
    assert (run_dir / "SHA256SUMS").read_bytes() == sums


def _bomb(levels: int = 9, width: int = 9) -> str:
    """A 'billion laughs' YAML mapping: ``netfence_extra`` stands for width**(levels-1) strings."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name, change, expected", [
    # ansible-core 2.21's host_group_vars drops the file of a YAML error; netfence_group_vars names it
    ("yaml error", lambda inv: (inv / "group_vars/all/broken.yml").write_text("netfence_x: [a, b\nother: 1\n"),
     "group_vars/all/broken.yml is not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence) "
     "at line 2, column 6"),
    # an alias bomb used inside netfence_namespaces grew ansible-playbook past 11 GB before
    ("alias bomb", lambda inv: (inv / "group_vars/all/zz.yml").write_text(
        _bomb() + "netfence_namespaces:\n  - name: dev\n    labels: *a8\n"), "(an alias bomb?)"),
    # the pod subnet was read only by the prediction, after the run folder had been written
    ("pod subnet", lambda inv: _set(inv, "netfence_pod_subnet", "192.168.0.0/33"),
     "ERROR netfence_pod_subnet: '192.168.0.0/33' is not a network in CIDR notation"),
    ("api endpoint", lambda inv: _set(inv, "netfence_api_server_endpoint", "kind:6443"),
     "ERROR netfence_api_server_endpoint: api server endpoint 'kind:6443' must be ip:port"),
    # netfence_probes used to be read only by the probe stage, after the cluster was provisioned
    ("probe typo", lambda inv: _replace(inv, "probes.yml", "workload: my-api", "workload: my-apii"),
     "ERROR netfence_probes[0].from.workload: 'dev/my-apii' is not a workload of netfence_namespaces"),
    # the role's argument specs answered first, naming neither the namespace nor the file
    ("key typo", lambda inv: _replace(inv, "namespaces.yml", "container_port: 3000", "contianer_port: 3000"),
     "ERROR netfence_namespaces[0].workloads[0].contianer_port: unknown key 'contianer_port'; did you mean "
     "'container_port'?"),
    ("namespaces a folder", lambda inv: (inv / "group_vars/all/namespaces.yml").unlink() or
     (inv / "group_vars/all/namespaces.yml").mkdir(), "netfence_namespaces is not defined for this inventory"),
])
def test_inventory_errors_outside_the_namespaces_fail_first_and_write_nothing(ansible_env, tmp_path, name, change,
                                                                              expected):
    inventory = _lab_copy(tmp_path)
    change(inventory)
    done = _play(ansible_env, "-i", str(inventory), "-e", f"netfence_evidence_dir={tmp_path / 'ev'}")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert expected in output, output[-3000:]
    assert "Traceback" not in output and len(output) < 20_000
    assert not (tmp_path / "ev").exists()


def _replace(inventory: Path, name: str, old: str, new: str) -> None:
    path = inventory / "group_vars/all" / name
    path.write_text(path.read_text().replace(old, new, 1))


def _set(inventory: Path, name: str, value: str) -> None:
    path = inventory / "group_vars/all/cluster.yml"
    data = yaml.safe_load(path.read_text())
    data[name] = value
    path.write_text(yaml.safe_dump(data))


def test_a_misspelt_variable_and_dead_configuration_warn_once_with_the_fix(ansible_env, tmp_path):
    inventory = _lab_copy(tmp_path)
    _set(inventory, "netfence_kubernetes_versoin", "v1.34.0")
    path = inventory / "group_vars/all/namespaces.yml"
    data = yaml.safe_load(path.read_text())
    data["netfence_namespaces"][0]["profiles"].remove("allow-internet-egress")
    path.write_text(yaml.safe_dump(data))
    done = _play(ansible_env, "-i", str(inventory), "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert ("[WARNING]: netfence_kubernetes_versoin: netfence does not read this variable, so it has no effect; "
            "did you mean netfence_kubernetes_version?") in output
    assert ("[WARNING]: netfence_namespaces[0].internet_egress: is set but the profile 'allow-internet-egress' is not "
            "in profiles") in output
    assert "[WARNING]: WARNING" not in output
    assert any(line.startswith("20 policies in 4 namespaces; 0 errors, 2 warnings") for line in _summary(done.stdout))


def test_predicting_a_planned_run_again_leaves_it_finished(ansible_env, tmp_path):
    """`--tags predict -e netfence_run_dir=<run>` opens the run; its seal step must run under that
    tag too, or the run stays marked as being written and no later stage or report accepts it."""
    done = _play(ansible_env, "-i", str(LAB), "-e", f"netfence_evidence_dir={tmp_path}")
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = Path(_summary(done.stdout)[-1])
    again = _play(ansible_env, "-i", str(LAB), "--tags", "predict", "-e", f"netfence_run_dir={run_dir}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert evidence.interrupted_stage(run_dir) is None and evidence.verify(run_dir) == []
    assert evidence.open_run(run_dir, "provision") is False


def test_only_the_validate_tag_writes_nothing(ansible_env, tmp_path):
    done = _play(ansible_env, "-i", str(LAB), "--tags", "validate", "-e", f"netfence_evidence_dir={tmp_path / 'ev'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _summary(done.stdout)[-1] == "check mode or validate only: nothing written"
    assert not (tmp_path / "ev").exists()


def test_a_stage_that_plans_first_under_its_own_tag_gets_a_run_folder(ansible_env, tmp_path):
    # playbooks/policies.yml includes the plan role with tags [always] and runs under --tags policies
    playbook = tmp_path / "stage.yml"
    playbook.write_text(yaml.safe_dump([{"name": "a stage", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "plan first", "ansible.builtin.include_role": {"name": "plan", "apply": {"tags": ["always"]}},
         "tags": ["policies"]},
        {"name": "the stage needs the run folder", "ansible.builtin.assert": {"that": ["netfence_run_dir | length > 0"]},
         "tags": ["policies"]}]}]))
    done = subprocess.run(["ansible-playbook", "-i", str(LAB), str(playbook), "--tags", "policies",
                           "-e", f"netfence_evidence_dir={tmp_path / 'ev'}"],
                          cwd=REPO, env=ansible_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((tmp_path / "ev").glob("*/*/manifests/dev.yaml"))
