"""Predictions for the plan from the lab model, and the ``netfence_predict`` module (the API server rows again)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence.errors import NetfenceError
from netfence.inventory.cluster_vars import parse_endpoint
from netfence.inventory import lab as lab_model
from netfence.inventory.schema import parse
from netfence.policy.model import parse_policy
from netfence.evidence.predicted import blast_entries, matrix_rows
from netfence.inventory.predict import api_server_record, load_manifests_dir, predict as predict_lab

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


def build_lab(namespaces: list[dict[str, Any]], manifests: list[dict[str, Any]], **kwargs: Any) -> tuple[Any, Any]:
    lab = lab_model.build(parse(namespaces), **kwargs)
    return lab, lab.engine([parse_policy(m, f"manifests[{i}]") for i, m in enumerate(manifests)])


def build_engine(namespaces: list[dict[str, Any]], manifests: list[dict[str, Any]], **kwargs: Any) -> Any:
    return build_lab(namespaces, manifests, **kwargs)[1]


def predict(namespaces: list[dict[str, Any]], manifests: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return predict_lab(*build_lab(namespaces, manifests, **kwargs))


def test_world_has_namespace_labels_dns_and_one_pod_per_workload() -> None:
    lab, engine = build_lab(NAMESPACES, MANIFESTS)
    assert list(engine.world.namespaces) == ["dev", "gateway", "kube-system"]
    assert [p.key for p in lab.pods] == ["dev/my-api", "gateway/api-gateway", "kube-system/coredns",
                                         "dev/netfence-rogue", "gateway/netfence-rogue"]
    assert [p.key for p in lab.workload_pods] == ["dev/my-api", "gateway/api-gateway"]
    assert lab.pods[0].ports == (lab_model.ContainerPort(3000, "TCP", "http"),)


def test_matrix_tables_blast_radius_and_coverage() -> None:
    result = predict(NAMESPACES, MANIFESTS)
    files = result["files"]
    assert sorted(files) == ["predicted/TCP-3000.md", "predicted/TCP-53.md", "predicted/TCP-8080.md", "predicted/TCP-9153.md",
                             "predicted/UDP-53.md", "predicted/blast-radius.json", "predicted/coverage.json", "predicted/matrix.json",
                             "predicted/namespaces.json"]
    matrix = files["predicted/matrix.json"]
    assert matrix["schema_version"] == 2
    tcp3000 = next(m for m in matrix["matrices"] if m["port"] == 3000)
    assert tcp3000["to"] == ["dev/my-api"] and len(tcp3000["allowed"]) == len(matrix["pods"])
    rows = {(r["from"], r["to"], r["protocol"], r["port"]): r for r in matrix_rows(matrix)}
    assert rows[("gateway/api-gateway", "dev/my-api", "TCP", 3000)]["allowed"] is True
    assert ("gateway/api-gateway", "dev/my-api", "TCP", 8080) not in rows  # my-api does not listen on 8080: no question
    assert all(r["declared"] for r in rows.values())
    assert rows[("kube-system/coredns", "dev/my-api", "TCP", 3000)]["allowed"] is False
    assert rows[("dev/my-api", "kube-system/coredns", "UDP", 53)]["allowed"] is True
    assert rows[("dev/my-api", "gateway/api-gateway", "TCP", 8080)]["allowed"] is False  # dev egress denied
    # the letters agree with the engine's own verdicts, pair by pair
    _, engine = build_lab(NAMESPACES, MANIFESTS)
    for (src, dst, proto, port), row in rows.items():
        assert row["allowed"] == engine.verdict(src, dst, port, proto).allowed, (src, dst, proto, port)
    table = files["predicted/TCP-3000.md"]
    assert "| from \\ to | dev/my-api |" in table  # only the pod listening on 3000 is a column
    assert "| gateway/api-gateway | Y |" in table and "| dev/my-api | N (self) |" in table  # dev denies its own egress
    # the namespace summary comes first: of gateway's one pod and dev's one listener, one pair is open
    assert table.index("## Namespaces") < table.index("## Pods")
    assert "| gateway | 1/1 |" in table and "| dev | 0/1 |" in table
    assert files["predicted/namespaces.json"]["open"]["TCP/3000"] == [{"from": "gateway", "to": "dev", "allowed": 1, "pairs": 1}]
    blast = files["predicted/blast-radius.json"]
    assert [t["target"] for t in blast["targets"]] == ["dev/my-api", "gateway/api-gateway"]
    radius = {r["namespace"]: r for r in blast_entries(blast)}
    dev = radius["dev"]
    assert dev["pod"] == "dev/netfence-rogue" and dev["reachable"] == []
    assert [w["allowed"] for w in dev["workloads"]] == [False, False]
    assert dev["dns"] == {"udp": True, "tcp": True}
    assert dev["internet"]["allowed"] is True and dev["api_server"]["allowed"] is False  # 172.18.0.2 is in an except
    gw = radius["gateway"]
    assert gw["reachable"] == ["gateway/api-gateway"]  # my-api only admits the labelled gateway
    assert [w["allowed"] for w in gw["workloads"]] == [False, True]
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
    # Run the module file as Ansible would, with the project's module_utils (ansible.cfg's
    # module_utils path) visible as ansible.module_utils.*.
    runner = (
        "import runpy, sys, ansible.module_utils as mu; mu.__path__.append(sys.argv[1]);"
        "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    proc = subprocess.run([sys.executable, "-c", runner, str(REPO / "plugins" / "module_utils"), str(MODULE), str(args_file)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def test_module_reports_bad_manifest_as_failure(tmp_path: Path) -> None:
    bad = _np("dev", "bad", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}})
    result = _run_module(tmp_path, {"namespaces": NAMESPACES, "manifests": [bad], "run_dir": str(tmp_path),
                                    "observed_api_server": {"endpoints": ["203.0.113.5:443"]}})
    assert result.get("failed") is True and "operator 'Is' is not one of" in result["msg"]


def test_module_documentation_is_valid_yaml_matching_the_arguments() -> None:
    source = MODULE.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(compile(source.split("from pathlib import Path")[0], str(MODULE), "exec"), namespace)  # only the doc strings
    doc = yaml.safe_load(namespace["DOCUMENTATION"])
    assert doc["module"] == "netfence_predict"
    assert set(doc["options"]) == {"namespaces", "manifests_dir", "manifests", "run_dir", "pod_subnet", "observed_api_server"}
    assert isinstance(yaml.safe_load(namespace["EXAMPLES"]), list)
    assert set(yaml.safe_load(namespace["RETURN"])) == {"msg", "record"}


# --- the prediction sees the cluster the roles build -------------------------------------------

def test_dns_pods_come_from_the_inventory_dns_setting() -> None:
    dns = {"namespace": "dns-system", "pod_labels": {"k8s-app": "coredns"}}
    namespaces = [{**NAMESPACES[0], "dns": dns}, NAMESPACES[1]]
    dns_policy = _np("dev", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "coredns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]})
    manifests = [MANIFESTS[0], dns_policy]
    lab, _ = build_lab(namespaces, manifests)
    dns_pods = [p for p in lab.pods if p.namespace == "dns-system"]
    assert [(p.name, p.labels) for p in dns_pods] == [("coredns", {"k8s-app": "coredns"})]
    result = predict(namespaces, manifests)
    dev = result["files"]["predicted/blast-radius.json"]["namespaces"][0]
    assert dev["dns"] == {"udp": True, "tcp": True}
    rows = {(r["from"], r["to"], r["protocol"], r["port"]): r["allowed"] for r in matrix_rows(result["files"]["predicted/matrix.json"])}
    assert rows[("dev/my-api", "dns-system/coredns", "UDP", 53)] is True


def test_pods_carry_the_labels_and_port_name_the_workloads_manifests_give_them() -> None:
    namespaces = [NAMESPACES[0], {"name": "gateway", "labels": {}, "workloads": [
        {"name": "api-gateway", "labels": {"tier": "edge"}, "container_port": 8080}]}]
    # A policy on the template's labels and default port name: on the cluster it admits the gateway.
    manifests = [_np("gateway", "by-name", {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api-gateway"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/managed-by": "netfence"}}}],
                     "ports": [{"port": "http"}]}]})]
    lab, engine = build_lab(namespaces, manifests)
    assert engine.verdict("gateway/netfence-rogue", "gateway/api-gateway", 8080).allowed is False  # selected by its name label
    assert engine.verdict("gateway/api-gateway", "gateway/api-gateway", 8080).allowed is True  # "http" resolves to 8080
    pod = lab.pods[1]
    assert pod.labels == {"tier": "edge", "app.kubernetes.io/name": "api-gateway", "app.kubernetes.io/managed-by": "netfence"}
    assert pod.ports[0].name == "http"


def test_pod_ips_from_the_pod_subnet_let_internet_egress_reach_pods_outside_the_except() -> None:
    # dev may egress to 0.0.0.0/0 except RFC 1918 on 443; gateway has no policy.
    assert build_engine(NAMESPACES, MANIFESTS).verdict("dev/my-api", "gateway/api-gateway", 443).allowed is False
    cgnat = build_engine(NAMESPACES, MANIFESTS, pod_subnet="100.64.0.0/10")
    assert cgnat.verdict("dev/my-api", "gateway/api-gateway", 443).allowed is True
    assert str(build_lab(NAMESPACES, MANIFESTS, pod_subnet="100.64.0.0/10")[0].pods[0].ip) == "100.64.0.1"
    lab = build_engine(NAMESPACES, MANIFESTS, pod_subnet="192.168.0.0/16")
    assert lab.verdict("dev/my-api", "gateway/api-gateway", 443).allowed is False  # inside the except
    with pytest.raises(NetfenceError, match="pod subnet"):
        build_lab(NAMESPACES, MANIFESTS, pod_subnet="10.0.0.1/8")


def test_api_server_endpoint_parses_ip_and_port() -> None:
    assert parse_endpoint("203.0.113.5:443") == ("203.0.113.5", 443)
    assert parse_endpoint("[2001:db8::1]:6443") == ("2001:db8::1", 6443)
    for bad in ("203.0.113.5", "host:6443", "1.2.3.4:0"):
        with pytest.raises(NetfenceError, match="api server endpoint"):
            parse_endpoint(bad)


def test_the_api_server_is_predicted_again_for_the_endpoints_the_cluster_really_has() -> None:
    # dev may reach the internet on 443 with 172.16.0.0/12 excepted: the plan's assumed kind
    # endpoint (172.18.0.2:6443) is blocked, a real endpoint at 203.0.113.5:443 is allowed.
    lab, engine = build_lab(NAMESPACES, MANIFESTS)
    record = api_server_record(lab, engine, ["172.18.0.2:6443", "203.0.113.5:443"])
    assert record["endpoints"] == ["172.18.0.2:6443", "203.0.113.5:443"]
    assert {(r["namespace"], r["endpoint"]): r["allowed"] for r in record["predicted"]} == {
        ("dev", "172.18.0.2:6443"): False, ("dev", "203.0.113.5:443"): True,
        ("gateway", "172.18.0.2:6443"): True, ("gateway", "203.0.113.5:443"): True}  # gateway has no policy
    unread = api_server_record(lab, engine, None, error="endpointslices is forbidden")
    assert unread["endpoints"] is None and unread["predicted"] == [] and unread["error"] == "endpointslices is forbidden"
    with pytest.raises(NetfenceError, match="api server endpoint"):
        api_server_record(lab, engine, ["kubernetes:443"])


def test_module_records_the_real_api_server_once(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    args = {"namespaces": NAMESPACES, "manifests": MANIFESTS, "run_dir": str(run_dir),
            "observed_api_server": {"endpoints": ["203.0.113.5:443"]}}
    result = _run_module(tmp_path, args)
    assert result["changed"] is True, result
    written = json.loads((run_dir / "api-server.json").read_text())
    assert [(r["namespace"], r["allowed"]) for r in written["predicted"]] == [("dev", True), ("gateway", True)]
    assert not (run_dir / "predicted").exists()  # only api-server.json: the plan's files are not rewritten
    again = _run_module(tmp_path, {**args, "observed_api_server": {"endpoints": ["172.18.0.2:6443"]}})
    assert again["changed"] is False and json.loads((run_dir / "api-server.json").read_text()) == written


def test_many_listening_pods_are_listed_with_their_allowed_sources_not_drawn_as_a_grid() -> None:
    from netfence.inventory.predict import POD_GRID_LIMIT, markdown_table, namespace_counts

    listeners = [f"ns{i}/api" for i in range(POD_GRID_LIMIT + 1)]
    sources = listeners + ["gw/gateway"]
    # each api pod reaches itself; the gateway reaches every api pod
    grid = [[src == dst or src == "gw/gateway" for dst in listeners] for src in sources]
    table = markdown_table("TCP", 3000, sources, listeners, grid, namespace_counts(sources, listeners, grid))
    pods = table[table.index("## Pods"):]
    assert "| from \\ to |" not in pods  # no grid with a column per pod
    assert f"| ns7/api | 2/{len(sources)} | ns7/api (self), gw/gateway |" in pods
    assert pods.count("\n| ns") == len(listeners)
    # the namespace summary of that many namespaces lists only the open pairs
    assert "| gw | ns3 | 1/1 |" in table and "| ns3 | ns4 |" not in table
