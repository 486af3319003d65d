"""``netfence reachability`` and ``netfence explain``: the output contract and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence.cli import main

MODEL = {
    "namespaces": [{"name": "x", "labels": {}}, {"name": "y", "labels": {"team": "t"}}],
    "pods": [
        {"namespace": "x", "name": "a", "labels": {"pod": "a"}, "ip": "10.244.1.1",
         "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]}]},
        {"namespace": "y", "name": "b", "labels": {"pod": "b"},
         "containers": [{"name": "c", "ports": [{"containerPort": 81, "protocol": "TCP"}]}]},
    ],
    "policies": [{
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": "x", "name": "from-team-t"},
        "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "t"}}}], "ports": [{"port": "http"}]}]},
    }],
    "notes": "other keys are ignored",
}


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(MODEL), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows_one_per_ordered_pair_and_probe(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachability", "--model", str(model), "--probe", "TCP/80", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    assert rows == [
        {"from": "x/a", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
        {"from": "x/a", "to": "y/b", "port": 80, "protocol": "TCP", "allowed": True},
        {"from": "y/b", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": True},
        {"from": "y/b", "to": "y/b", "port": 80, "protocol": "TCP", "allowed": True},
    ]


def test_default_probes_are_every_declared_port(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachability", "--model", str(model), "--format", "json")
    rows = json.loads(out)
    assert code == 0
    assert sorted({(r["protocol"], r["port"]) for r in rows}) == [("TCP", 80), ("TCP", 81), ("UDP", 53)]
    assert len(rows) == 3 * 4


def test_table_format_is_upstream_style(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachability", "--model", str(model), "--probe", "tcp/81", "--format", "table")
    assert code == 0
    assert out == "TCP/81\nfrom\\to x/a y/b\n    x/a   N   Y\n    y/b   N   Y\n"


def test_counts_format(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachability", "--model", str(model), "--probe", "TCP/80", "--probe", "UDP/53", "--format", "counts")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["PROBE", "ALLOWED", "DENIED", "PAIRS"]
    assert lines[1].split() == ["TCP/80", "3", "1", "4"] and lines[2].split() == ["UDP/53", "2", "2", "4"]


def test_explain_names_policy_and_rule(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "--model", str(model), "--from", "y/b", "--to", "x/a", "--probe", "TCP/80")
    assert code == 0
    assert out.startswith("y/b -> x/a TCP/80: ALLOWED")
    assert "x/from-team-t ingress[0]" in out and "TCP/http (= 80 on x/a)" in out
    code, out, _ = run(capsys, "explain", "--model", str(model), "--from", "8.8.8.8", "--to", "x/a", "--probe", "TCP/80")
    assert code == 0 and "DENIED" in out and "isolated by x/from-team-t" in out


def test_explain_walks_a_whole_matrix(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # TCP/80: only x/a listens, so the columns are x/a; y/b is allowed by the rule, x/a by nothing
    code, out, _ = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "TCP/80: 1 of 2 pairs allowed"
    assert lines[1].split()[:3] == ["FROM", "TO", "V"]
    rows = {tuple(line.split()[:3]): line for line in lines[2:]}
    assert set(rows) == {("x/a", "x/a", "N"), ("y/b", "x/a", "Y")}
    assert rows[("y/b", "x/a", "Y")].endswith("Y x/from-team-t ingress[0]")
    assert "open (no policy selects it)" in rows[("y/b", "x/a", "Y")]
    assert rows[("x/a", "x/a", "N")].endswith("N isolated by x/from-team-t; no rule matches")


def test_explain_walkthrough_filters_by_namespace_and_verdict(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80", "--from", "x", "--only", "allowed")
    assert code == 0 and out == "TCP/80: 0 of 1 pairs allowed; showing the 0 allowed\n"
    # a destination namespace widens the columns to its pods whether or not they listen
    code, out, _ = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80", "--to", "y", "--only", "denied")
    assert code == 0 and out.splitlines()[0] == "TCP/80: 2 of 2 pairs allowed; showing the 0 denied"
    code, _, err = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80", "--to", "nowhere")
    assert code == 2 and "neither a pod" in err and "namespaces: x, y" in err


def test_explain_json_names_the_deciding_rules_for_a_machine(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80", "--format", "json")
    docs = {(d["from"], d["to"]): d for d in json.loads(out)}
    assert code == 0 and set(docs) == {("x/a", "x/a"), ("y/b", "x/a")}
    allowed, denied = docs[("y/b", "x/a")], docs[("x/a", "x/a")]
    assert allowed["allowed"] is True and allowed["egress"] == {"subject": "y/b", "allowed": True, "isolating": [], "allowing": []}
    assert [(r["policy"], r["direction"], r["rule"]) for r in allowed["ingress"]["allowing"]] == [("x/from-team-t", "ingress", 0)]
    assert denied["allowed"] is False and denied["ingress"]["isolating"] == ["x/from-team-t"] and denied["ingress"]["allowing"] == []
    code, out, _ = run(capsys, "explain", "--model", str(model), "--probe", "TCP/80", "--format", "json", "--only", "denied")
    assert [(d["from"], d["to"]) for d in json.loads(out)] == [("x/a", "x/a")]


def test_help_documents_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["reachability", "--help"])
    out = capsys.readouterr().out
    assert "MODEL.yaml" in out and "--probe" in out and "counts" in out


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _bad_operator() -> dict[str, Any]:
    bad = json.loads(json.dumps(MODEL))
    bad["policies"][0]["spec"]["podSelector"] = {"matchExpressions": [{"key": "a", "operator": "Equal", "values": ["b"]}]}
    return bad


@pytest.mark.parametrize(("content", "argv_extra", "message"), [
    (None, [], "cannot read model"),
    ("a: [unclosed", [], "not valid YAML"),
    ("schema_version: 1\nsteps: []\n", [], "expected a mapping with keys namespaces, pods and policies"),
    (yaml.safe_dump(_bad_operator()), [], "spec.podSelector.matchExpressions[0].operator: operator 'Equal' is not one of In, NotIn, Exists, DoesNotExist"),
    (yaml.safe_dump(MODEL), ["--probe", "ICMP/80"], "unknown protocol 'ICMP'"),
    (yaml.safe_dump(MODEL), ["--probe", "TCP/http"], "port must be a number"),
])
def test_bad_input_exit_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                                       argv_extra: list[str], message: str) -> None:
    path = str(tmp_path / "missing.yaml") if content is None else _write(tmp_path, content)
    code, out, err = run(capsys, "reachability", "--model", path, *argv_extra)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_subprocess_bad_input_has_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, yaml.safe_dump(_bad_operator()))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "netfence", "explain", "--model", path, "--from", "x/a", "--to", "y/b",
                           "--probe", "TCP/80"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 2
    assert "operator 'Equal' is not one of" in proc.stderr and "Traceback" not in proc.stderr
