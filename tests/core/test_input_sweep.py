"""Cases an independent sweep of broken inventories, models and run folders found (257 cases):
each ended in exit 0, a silent misreading, a hang or a vague message before, and must end in a
clear error or warning that names the place, with nothing written."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence import cli, loading
from netfence.inventory import cluster_vars
from netfence.evidence import runs as evidence
from netfence.errors import NetfenceError
from netfence.plan import build_plan

from test_bounded_input import LAB, inventory, one_line_error  # noqa: E402  (sibling module; tests/core has no package)

NAMESPACES = yaml.safe_load((LAB / "group_vars/all/namespaces.yml").read_text())["netfence_namespaces"]
PROBES = yaml.safe_load((LAB / "group_vars/all/probes.yml").read_text())["netfence_probes"]


def _problems(**changes: Any) -> list[str]:
    namespaces = changes.pop("namespaces", copy.deepcopy(NAMESPACES))
    plan = build_plan(namespaces, "v1.35.8", **changes)
    return [str(p) for p in plan.problems]


# --- netfence_probes was only read by the probe stage, after provisioning -----------------------

@pytest.mark.parametrize("change, expected", [
    (lambda p: p.append(copy.deepcopy(p[0])), f"ERROR netfence_probes[{len(PROBES)}].name: "),
    (lambda p: p[0]["from"].update(workload="my-apii"), "ERROR netfence_probes[0].from.workload: 'dev/my-apii' is not a workload"),
    (lambda p: p[0].update(port=0), "ERROR netfence_probes[0].port: must be a number 1-65535, got 0"),
    (lambda p: p[0].update(expect={"after": "blokced"}), "ERROR netfence_probes[0].expect.after: expected outcome must be"),
])
def test_probe_mistakes_fail_the_plan(change: Any, expected: str) -> None:
    probes = copy.deepcopy(PROBES)
    change(probes)
    with pytest.raises(NetfenceError) as caught:
        build_plan(NAMESPACES, "v1.35.8", probes=probes)
    assert expected in str(caught.value)


def test_probes_that_are_no_list_and_foreign_source_namespaces_are_named() -> None:
    with pytest.raises(NetfenceError, match="ERROR netfence_probes: must be a list of probes, not str"):
        build_plan(NAMESPACES, "v1.35.8", probes="garbage")
    probes = copy.deepcopy(PROBES)
    probes[0]["from"] = {"namespace": "dve", "labels": {}}
    assert any(p.startswith("WARNING netfence_probes[0].from.namespace: namespace 'dve' is not in the inventory")
               for p in _problems(probes=probes))


def test_validate_reads_the_probes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probes = copy.deepcopy(PROBES)
    probes[0]["port"] = 70000
    inv = inventory(tmp_path, {"group_vars/all/probes.yml": yaml.safe_dump({"netfence_probes": probes})})
    assert cli.main(["plan", "-i", str(inv), "--out", str(tmp_path / "ev")]) == 2
    assert "ERROR netfence_probes[0].port" in capsys.readouterr().err and not (tmp_path / "ev").exists()


# --- YAML keys written twice were read silently (the last one won) -------------------------------

def test_a_key_written_twice_is_an_error_naming_both_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (LAB / "group_vars/all/namespaces.yml").read_text().replace("  - name: gateway\n", "  - name: gateway\n    name: edge\n", 1)
    inv = inventory(tmp_path, {"group_vars/all/namespaces.yml": text})
    line = text.splitlines().index("    name: edge") + 1
    one_line_error(capsys, cli.main(["validate", "-i", str(inv)]), "validate",
                   f"namespaces.yml: key 'name' appears twice in one mapping (lines {line - 1} and {line})")
    with pytest.raises(loading.InputError, match="key 'a' appears twice"):
        loading.load_yaml("a: 1\nb: 2\na: 3\n", "x.yml")
    assert loading.load_yaml("base: &b {a: 1}\nother:\n  <<: *b\n  <<: *b\n  c: 2\n", "x.yml")["other"] == {"a": 1, "c": 2}


# --- files Ansible reads and the CLI did not, and files that hang --------------------------------

def test_the_cli_reads_json_and_extensionless_group_vars_as_ansible_does(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("zz-override.json", "zz-override"):
        inv = inventory(tmp_path, {f"group_vars/all/{name}": '{"netfence_namespaces": "broken"}'}, name=name)
        assert cli.main(["validate", "-i", str(inv)]) == 2
        assert "netfence_namespaces: must be a non-empty list" in capsys.readouterr().err


def test_a_fifo_is_refused_not_waited_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = inventory(tmp_path, {})
    os.mkfifo(inv / "group_vars/all/zz-fifo.yml")
    signal.alarm(20)  # a regression would block on open() forever
    try:
        code = cli.main(["validate", "-i", str(inv)])
    finally:
        signal.alarm(0)
    one_line_error(capsys, code, "validate", "zz-fifo.yml: cannot read inventory file: not a regular file")


# --- run folders ---------------------------------------------------------------------------------

def test_a_fifo_or_symlink_in_a_run_folder_is_tampering(tmp_path: Path) -> None:
    run = evidence.start_run(tmp_path / "lab" / "r1", {}, "plan")
    evidence.finalize(run)
    os.mkfifo(run / "during.json")
    (run / "link.json").symlink_to(run / "run.json")
    assert evidence.verify(run) == ["during.json: not a regular file", "link.json: not a regular file"]


def test_a_report_of_a_file_says_it_is_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run").write_text("x")
    one_line_error(capsys, cli.main(["report", "--run-dir", str(tmp_path / "run")]), "report", "is not a folder")


# --- values the API server would read otherwise than written -------------------------------------

def test_an_ipv6_endpoint_needs_brackets() -> None:
    (problem,) = cluster_vars.check(api_server_endpoint="fd00::1:6443")
    assert problem.path == "netfence_api_server_endpoint" and "in brackets, e.g. [fd00::1]:6443" in problem.message
    assert cluster_vars.check(api_server_endpoint="[fd00::1]:6443") == []


def test_the_whole_internet_split_into_halves_is_still_the_whole_internet() -> None:
    namespaces = copy.deepcopy(NAMESPACES)
    extra = {"name": "halves", "spec": {"podSelector": {"matchLabels": {"app": "my-api"}}, "policyTypes": ["Ingress"],
                                        "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/1"}},
                                                              {"ipBlock": {"cidr": "128.0.0.0/1"}}]}]}}
    namespaces[0]["extra_policies"] = [extra]
    with pytest.raises(NetfenceError, match=r"ipBlocks of the rules admitting this port cover every IPv4 address"):
        build_plan(namespaces, "v1.35.8").raise_for_errors()
    extra["spec"]["ingress"][0]["from"][1]["ipBlock"]["except"] = ["203.0.113.0/24"]
    assert not any("cover every" in p for p in _problems(namespaces=namespaces))


def test_host_bits_in_internet_egress_warn_with_the_network_meant() -> None:
    namespaces = copy.deepcopy(NAMESPACES)
    namespaces[0]["internet_egress"]["cidr"] = "0.0.0.0/0"
    namespaces[0]["internet_egress"]["except"] = ["10.1.2.3/8", "172.16.0.0/12", "192.168.0.0/16"]
    assert ("WARNING netfence_namespaces[0].internet_egress.except[0]: '10.1.2.3/8' has host bits set: Kubernetes "
            "reads it as 10.0.0.0/8; write 10.0.0.0/8") in _problems(namespaces=namespaces)


def test_a_namespace_name_label_that_names_another_namespace_is_an_error() -> None:
    namespaces = copy.deepcopy(NAMESPACES)
    namespaces[3]["labels"] = {"kubernetes.io/metadata.name": "prod"}
    with pytest.raises(NetfenceError, match=r"netfence_namespaces\[3\]\.labels\['kubernetes.io/metadata.name'\]: the "
                                            r"API server sets this label to the namespace's own name"):
        build_plan(namespaces, "v1.35.8")


def test_an_unquoted_version_is_read_as_ansible_reads_it_and_the_error_says_to_quote() -> None:
    build_plan(NAMESPACES, 1.35)  # YAML's 1.35, which Ansible hands on as "1.35": a valid version
    with pytest.raises(NetfenceError, match=r'an unquoted 1.30 is the YAML number 1.3: quote versions, e.g. "v1.30.0"'):
        build_plan(NAMESPACES, 1.30)


def test_a_truncated_json_model_is_a_json_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.json"
    model.write_text('{"namespaces": [{"name": "x"}], "pods": [')
    one_line_error(capsys, cli.main(["reachability", "--model", str(model)]), "reachability",
                   "model.json is not valid JSON: Expecting value at line 1, column 42")


def test_json_group_vars_are_read_as_json_like_ansible_reads_them(tmp_path: Path) -> None:
    """json.dump writes characters outside the BMP as surrogate-pair escapes, which libyaml refuses."""
    text = '{"netfence_note": "\\ud83d\\ude00"}'
    inv = inventory(tmp_path, {"group_vars/all/zz-note.json": text})
    loading.check_yaml_file(inv / "group_vars/all/zz-note.json")  # what the vars plugin runs
    assert cli.main(["validate", "-i", str(inv)]) == 0


def test_keys_that_differ_in_type_are_two_keys() -> None:
    assert loading.load_yaml('1: a\n"1": b\n', "x.yml") == {1: "a", "1": "b"}
