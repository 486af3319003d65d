"""Predictions for the plan, and the ``netfence_predict`` Ansible module that writes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence.errors import NetfenceError
from netfence.predict import build_state, load_manifests_dir, predict

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "plugins" / "modules" / "netfence_predict.py"

NAMESPACES = [
    {"name": "dev", "labels": {"env": "dev"}, "workloads": [
        {"name": "my-api", "labels": {"app": "my-api"}, "container_port": 3000, "service_port": 80, "port_name": "http", "protocol": "TCP"}]},
    {"name": "gateway", "labels": {}, "workloads": [
        {"name": "api-gateway", "labels": {"app": "api-gateway"}, "container_port": 8080, "port_name": "http"}]},
]


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": name}, "spec": spec}


MANIFESTS = [
    _np("dev", "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    _np("dev", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}),
    _np("dev", "from-gateway", {"podSelector": {"matchLabels": {"app": "my-api"}}, "ingress": [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}},
                  "podSelector": {"matchLabels": {"app": "api-gateway"}}}], "ports": [{"port": "http"}]}]}),
    _np("dev", "internet", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
        "ports": [{"port": 443}]}]}),
]


def test_world_has_namespace_labels_dns_and_one_pod_per_workload() -> None:
    state = build_state(NAMESPACES, MANIFESTS)
    assert [n["name"] for n in state["namespaces"]] == ["dev", "gateway", "kube-system"]
    assert [f"{p['namespace']}/{p['name']}" for p in state["pods"]] == ["dev/my-api", "gateway/api-gateway", "kube-system/coredns"]
    assert state["pods"][0]["containers"][0]["ports"] == [{"containerPort": 3000, "protocol": "TCP", "name": "http"}]


def test_matrix_tables_blast_radius_and_coverage() -> None:
    result = predict(NAMESPACES, MANIFESTS)
    files = result["files"]
    assert sorted(files) == ["predicted/TCP-3000.md", "predicted/TCP-53.md", "predicted/TCP-8080.md", "predicted/TCP-9153.md",
                             "predicted/UDP-53.md", "predicted/blast-radius.json", "predicted/coverage.json", "predicted/matrix.json"]
    rows = {(r["from"], r["to"], r["protocol"], r["port"]): r for r in files["predicted/matrix.json"]["rows"]}
    assert rows[("gateway/api-gateway", "dev/my-api", "TCP", 3000)]["allowed"] is True
    assert rows[("gateway/api-gateway", "dev/my-api", "TCP", 8080)]["allowed"] is False  # "http" is 3000 on my-api
    assert rows[("kube-system/coredns", "dev/my-api", "TCP", 3000)]["allowed"] is False
    assert rows[("dev/my-api", "kube-system/coredns", "UDP", 53)]["allowed"] is True
    assert rows[("dev/my-api", "kube-system/coredns", "UDP", 53)]["declared"] is True
    assert rows[("dev/my-api", "gateway/api-gateway", "TCP", 8080)]["allowed"] is False  # dev egress denied
    table = files["predicted/TCP-3000.md"]
    assert "| gateway/api-gateway | ✅ | ✅ | ✅ |" in table and "Pods listening on TCP/3000: dev/my-api." in table
    radius = {r["namespace"]: r for r in files["predicted/blast-radius.json"]["namespaces"]}
    dev = radius["dev"]
    assert dev["pod"] == "dev/netfence-rogue" and dev["reachable"] == []
    assert dev["dns"] == {"udp": True, "tcp": True}
    assert dev["internet"]["allowed"] is True and dev["api_server"]["allowed"] is False  # 172.18.0.2 is in an except
    gw = radius["gateway"]
    assert gw["reachable"] == ["gateway/api-gateway"]  # my-api only admits the labelled gateway
    assert gw["api_server"]["allowed"] and gw["internet"]["allowed"]
    cov = files["predicted/coverage.json"]
    assert cov["pods_not_isolated"] == {"ingress": ["gateway/api-gateway"], "egress": ["gateway/api-gateway"]}
    assert cov["namespaces_without_default_deny"] == {"ingress": ["gateway"], "egress": ["gateway"]}
    assert result["summary"]["rogue_reaches"] == {"dev": [], "gateway": ["gateway/api-gateway"]}


def test_api_server_endpoint_is_configurable() -> None:
    radius = predict(NAMESPACES, MANIFESTS, api_server=("203.0.113.5", 6443))["files"]["predicted/blast-radius.json"]
    assert radius["namespaces"][0]["api_server"] == {"ip": "203.0.113.5", "port": 6443, "allowed": False}  # port 443 only


def test_manifests_dir_reads_multi_document_files(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump_all(MANIFESTS[:2]) + "---\n", encoding="utf-8")
    (tmp_path / "gateway.yml").write_text(yaml.safe_dump({"kind": "List", "items": MANIFESTS[2:]}), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert load_manifests_dir(tmp_path) == MANIFESTS
    with pytest.raises(NetfenceError, match="is not a folder"):
        load_manifests_dir(tmp_path / "nope")


def test_bad_manifest_is_a_clear_error() -> None:
    bad = _np("dev", "bad", {"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 9000}]}]})
    with pytest.raises(NetfenceError, match="NetworkPolicy dev/bad: spec.ingress\\[0\\].ports\\[0\\].endPort"):
        predict(NAMESPACES, [bad])


def _run_module(tmp_path: Path, args: dict[str, Any]) -> dict[str, Any]:
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True, check=False, cwd=tmp_path)
    return json.loads(proc.stdout)


def test_module_writes_files_into_run_dir(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": MANIFESTS, "run_dir": str(run_dir)})
    assert result["changed"] is True, result
    assert (run_dir / "predicted" / "matrix.json").is_file() and (run_dir / "predicted" / "TCP-3000.md").is_file()
    assert json.loads((run_dir / "predicted" / "coverage.json").read_text())["namespaces_without_default_deny"]["egress"] == ["gateway"]
    assert "namespaces without default-deny ingress: gateway" in result["msg"]
    again = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": MANIFESTS, "run_dir": str(run_dir)})
    assert again["changed"] is False and again["changed_files"] == [], "same prediction, same bytes: no change"
    check = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": MANIFESTS[:1], "run_dir": str(run_dir), "_ansible_check_mode": True})
    assert check["changed"] is True and "predicted/matrix.json" in check["changed_files"]
    assert json.loads((run_dir / "predicted" / "coverage.json").read_text())["namespaces_without_default_deny"]["egress"] == ["gateway"]


def test_module_check_mode_writes_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": MANIFESTS, "run_dir": str(run_dir), "_ansible_check_mode": True})
    assert result["changed"] is True and "predicted/matrix.json" in result["files"], result
    assert list(run_dir.iterdir()) == []


def test_module_reports_bad_manifest_as_failure(tmp_path: Path) -> None:
    bad = _np("dev", "bad", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}})
    result = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": [bad], "run_dir": str(tmp_path)})
    assert result.get("failed") is True and "unknown operator 'Is'" in result["msg"]


def test_module_documentation_is_valid_yaml_matching_the_arguments() -> None:
    source = MODULE.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(compile(source.split("from pathlib import Path")[0], str(MODULE), "exec"), namespace)  # only the doc strings
    doc = yaml.safe_load(namespace["DOCUMENTATION"])
    assert doc["module"] == "netfence_predict"
    assert set(doc["options"]) == {"namespaces", "manifests_dir", "manifests", "run_dir", "api_server_ip", "api_server_port",
                                   "internet_ip", "internet_port"}
    assert isinstance(yaml.safe_load(namespace["EXAMPLES"]), list)
    assert set(yaml.safe_load(namespace["RETURN"])) == {"files", "changed_files", "summary", "msg"}
