"""Inventory-wide variables: unknown names warn with the nearest known one, malformed subnets and
endpoints are errors before anything is written, and ``netfence validate`` agrees with the plan."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from netfence.inventory import cluster_vars
from netfence.cli import main
from netfence.inventory.schema import InventoryError, Problem, count_text
from netfence.plan import build_plan

from .conftest import LAB, REPO

NAMESPACES = yaml.safe_load((LAB / "group_vars/all/namespaces.yml").read_text())["netfence_namespaces"]
DOCS = "\n".join(p.read_text() for p in (REPO / "docs").glob("*.md"))


def test_every_variable_a_role_reads_is_known_and_every_known_one_is_documented():
    used = set()
    for path in [*REPO.glob("roles/*/defaults/*.yml"), *REPO.glob("playbooks/*.yml")]:
        used |= set(re.findall(r"\bnetfence_[a-z0-9_]+", path.read_text()))
    # names the playbooks define for themselves, and modules and filters that share the prefix
    internal = {n for n in used if re.search(rf"^\s+{n}:", "\n".join(p.read_text() for p in REPO.glob("playbooks/*.yml")),
                                             re.MULTILINE)}
    internal |= {p.stem for p in REPO.glob("plugins/modules/*.py")}
    internal |= {n for p in REPO.glob("plugins/filter/*.py") for n in re.findall(r'"(netfence_[a-z_]+)":', p.read_text())}
    assert used - internal - cluster_vars.KNOWN == set()
    undocumented = [n for n in cluster_vars.INVENTORY_VARIABLES if f"`{n}`" not in DOCS]
    assert undocumented == []


@pytest.mark.parametrize("inventory", sorted(p.name for p in (REPO / "inventories").iterdir() if p.is_dir()))
def test_the_shipped_inventories_set_no_unknown_variable(inventory):
    names = set()
    for path in (REPO / "inventories" / inventory).glob("group_vars/**/*.yml"):
        names |= set((yaml.safe_load(path.read_text()) or {}).keys())
    assert cluster_vars.unknown_names(names) == []


@pytest.mark.parametrize("typo, nearest", [
    ("netfence_kubernetes_versoin", "netfence_kubernetes_version"),
    ("netfence_pod_subnets", "netfence_pod_subnet"),
    ("netfence_namespace", "netfence_namespaces"),
])
def test_a_misspelt_variable_names_the_nearest_known_one(typo, nearest):
    (problem,) = cluster_vars.unknown_names([typo, "ansible_host", nearest])
    assert problem == Problem(typo, f"netfence does not read this variable, so it has no effect; did you mean {nearest}?",
                              "warning")


def test_an_unknown_variable_like_no_other_points_at_the_docs():
    (problem,) = cluster_vars.unknown_names(["netfence_frobnicate"])
    assert "see docs/inventory.md" in problem.message and problem.severity == "warning"


def test_names_given_on_the_command_line_are_known():
    assert cluster_vars.unknown_names(["netfence_run_dir", "netfence_gather_facts"]) == []


@pytest.mark.parametrize("kwargs, path, fragment", [
    ({"pod_subnet": "192.168.0.0/33"}, "netfence_pod_subnet", "is not a network in CIDR notation"),
    ({"pod_subnet": "10.244.0.1/16"}, "netfence_pod_subnet", "has host bits set"),
    ({"service_subnet": "ten.96/12"}, "netfence_service_subnet", "is not a network in CIDR notation"),
    ({"api_server_endpoint": "172.18.0.2"}, "netfence_api_server_endpoint", "must be ip:port"),
    ({"api_server_endpoint": "172.18.0.2:70000"}, "netfence_api_server_endpoint", "port 1-65535"),
])
def test_malformed_cluster_values_are_errors_naming_the_variable(kwargs, path, fragment):
    (problem,) = cluster_vars.check(**kwargs)
    assert problem.path == path and problem.severity == "error" and fragment in problem.message


def test_templated_and_unset_values_are_left_to_ansible():
    assert cluster_vars.check(pod_subnet="{{ lookup('file', 'x') }}", service_subnet="",
                              api_server_endpoint="{{ x }}:6443") == []


def test_build_plan_refuses_a_bad_subnet_before_rendering_and_keeps_the_warnings():
    with pytest.raises(InventoryError) as caught:
        build_plan(NAMESPACES, "v1.35.8", pod_subnet="192.168.0.0/33", variable_names=["netfence_typo_x"])
    assert str(caught.value).startswith("1 error and 1 warning in the inventory:")
    plan = build_plan(NAMESPACES, "v1.35.8", pod_subnet="192.168.0.0/16", variable_names=["netfence_pod_subnets"])
    assert [p.path for p in plan.warnings] == ["netfence_pod_subnets"]


def test_internet_egress_without_its_profile_is_dead_configuration():
    namespaces = yaml.safe_load(yaml.safe_dump(NAMESPACES))
    namespaces[0]["profiles"].remove("allow-internet-egress")
    plan = build_plan(namespaces, "v1.35.8")
    assert [(p.path, p.severity) for p in plan.warnings] == [("netfence_namespaces[0].internet_egress", "warning")]
    del namespaces[0]["internet_egress"]  # the defaults alone are not configuration
    assert build_plan(namespaces, "v1.35.8").warnings == []


@pytest.mark.parametrize("problems, text", [
    ([Problem("a", "x")], "1 error"),
    ([Problem("a", "x"), Problem("b", "y")], "2 errors"),
    ([Problem("a", "x"), Problem("b", "y", "warning"), Problem("c", "z", "warning"), Problem("d", "w", "warning")],
     "1 error and 3 warnings"),
])
def test_the_header_counts_what_it_lists(problems, text):
    assert count_text(problems) == text
    assert str(InventoryError(problems)).startswith(f"{text} in the inventory:\n")


def _inventory(tmp_path: Path, **variables: object) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(LAB, inventory)
    path = inventory / "group_vars/all/cluster.yml"
    data = yaml.safe_load(path.read_text())
    data.update(variables)
    path.write_text(yaml.safe_dump(data))
    return inventory


def test_validate_and_plan_refuse_a_bad_pod_subnet_and_plan_writes_nothing(tmp_path, capsys):
    inventory = _inventory(tmp_path, netfence_pod_subnet="192.168.0.0/33")
    assert main(["validate", "-i", str(inventory)]) == 2
    assert "ERROR netfence_pod_subnet: '192.168.0.0/33'" in capsys.readouterr().err
    assert main(["plan", "-i", str(inventory), "--out", str(tmp_path / "ev")]) == 2
    assert "ERROR netfence_pod_subnet" in capsys.readouterr().err
    assert not (tmp_path / "ev").exists()


def test_validate_warns_about_a_typo_and_counts_one_warning(tmp_path, capsys):
    inventory = _inventory(tmp_path, netfence_kubernetes_versoin="v1.30.0")
    assert main(["validate", "-i", str(inventory)]) == 0
    out = capsys.readouterr().out
    assert "WARNING netfence_kubernetes_versoin: netfence does not read this variable" in out
    assert out.rstrip().endswith("valid (21 policies in 4 namespaces, 1 warning)")
