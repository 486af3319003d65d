"""One lab model, one plan: what the plan warns about, what the engine predicts, what the workloads
stage deploys and what `netfence plan` and `make plan` write are the same facts, computed once."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netfence.inventory import schema as inventory_module
from netfence.inventory import lab as lab_model
from netfence.policy import model
from netfence import plan as plan_module
from netfence.policy import reader as policy_reader
from netfence.inventory import validate
from netfence.inventory import workloads
from netfence.commands._inventory import read_group_vars
from netfence.inventory.schema import load_variables, parse
from netfence.plan import build_plan, write_run

from .conftest import LAB, REPO, VERSION

INVENTORIES = sorted(p.parent.parent.parent for p in REPO.glob("inventories/*/group_vars/all/namespaces.yml")) + sorted(
    p.parent.parent.parent for p in REPO.glob("molecule/*/inventory/group_vars/all/namespaces.yml"))


def _web_namespace(**workload: Any) -> dict[str, Any]:
    return {"name": "shop", "profiles": ["default-deny-ingress", "allow-same-namespace"],
            "workloads": [{"name": "web", "labels": {"tier": "front"}, "container_port": 8080, **workload}]}


# --- issue 11's contradictions, each now one fact --------------------------------------------------

def test_a_policy_on_the_name_label_the_workloads_stage_adds_is_checked_like_any_other() -> None:
    ns = _web_namespace()
    ns["extra_policies"] = [{"name": "public", "spec": {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 8080}]}]}}]
    plan = build_plan([ns], VERSION)
    assert [str(p) for p in plan.errors] == [
        "ERROR netfence_namespaces[0].extra_policies[0].spec.ingress[0].from[0].ipBlock.cidr: 0.0.0.0/0 admits the "
        "whole internet to web in shop; narrow the CIDR, or set acknowledge.world_ingress: true if the exposure is intended"]
    assert plan.engine is not None and plan.engine.verdict(lab_model.External("1.1.1.1"), "shop/web", 8080).allowed


def test_the_default_port_name_is_the_one_deployed_so_a_rule_on_it_is_no_warning() -> None:
    ns = _web_namespace()  # no port_name: deployed as "http"
    ns["extra_policies"] = [{"name": "by-name", "spec": {
        "podSelector": {"matchLabels": {"tier": "front"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": "http"}]}]}}]
    plan = build_plan([ns], VERSION)
    assert not any("matches no port" in str(p) for p in plan.problems), plan.problems
    assert plan.engine is not None and plan.engine.verdict("shop/netfence-rogue", "shop/web", 8080).allowed
    ns["extra_policies"][0]["spec"]["ingress"][0]["ports"] = [{"port": "https"}]
    renamed = build_plan([ns], VERSION)
    assert any("has a TCP container port named 'https'" in str(p) for p in renamed.warnings)


# --- every reachability warning agrees with the engine ------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

PROFILES = ["default-deny-ingress", "default-deny-egress", "allow-same-namespace", "allow-dns-egress",
            "allow-internet-egress"]
LABEL_KEYS = st.sampled_from(["app", "tier", "app.kubernetes.io/name"])
LABEL_VALUES = st.sampled_from(["a", "b", "web"])
LABELS = st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=2)
SELECTOR = st.one_of(st.just({}), LABELS.map(lambda labels: {"matchLabels": labels}))
PEER = st.one_of(
    st.sampled_from(["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "203.0.113.0/24", "::/0"]).map(lambda c: {"ipBlock": {"cidr": c}}),
    SELECTOR.map(lambda s: {"podSelector": s}),
)
PORT = st.sampled_from([8080, 9090, 53, 80, "http", "metrics", "dns"])
RULE = st.fixed_dictionaries({}, optional={
    "from": st.lists(PEER, min_size=1, max_size=2),
    "ports": st.lists(st.fixed_dictionaries({"port": PORT}, optional={"protocol": st.sampled_from(["TCP", "UDP"])}),
                      min_size=1, max_size=2),
})
EXTRA = st.fixed_dictionaries({
    "podSelector": SELECTOR,
    "policyTypes": st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]),
    "ingress": st.lists(RULE, min_size=1, max_size=2),
})
WORKLOAD = st.fixed_dictionaries({
    "labels": st.dictionaries(LABEL_KEYS, LABEL_VALUES, min_size=1, max_size=2),
    "container_port": st.sampled_from([8080, 9090, None]),
}, optional={"port_name": st.sampled_from(["http", "metrics"])})


@st.composite
def inventories(draw: Any) -> list[dict[str, Any]]:
    namespaces = []
    for index in range(draw(st.integers(1, 2))):
        ns: dict[str, Any] = {"name": f"ns{index}", "profiles": draw(st.lists(st.sampled_from(PROFILES), unique=True))}
        found = draw(st.lists(WORKLOAD, max_size=2))
        ns["workloads"] = []
        for number, workload in enumerate(found):
            workload = {k: v for k, v in workload.items() if v is not None}
            if "port_name" in workload and "container_port" not in workload:
                del workload["port_name"]
            ns["workloads"].append({"name": f"w{number}", **workload})
        extras = draw(st.lists(EXTRA, max_size=2))
        ns["extra_policies"] = [{"name": f"x{i}", "spec": spec} for i, spec in enumerate(extras)]
        namespaces.append(ns)
    return namespaces


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(inventories())
def test_every_reachability_warning_agrees_with_the_engine(namespaces: list[dict[str, Any]]) -> None:
    try:
        plan = build_plan(namespaces, VERSION, pod_subnet="10.244.0.0/16")
    except inventory_module.InventoryError:
        return  # a generated policy the API server would refuse: nothing to compare
    if plan.errors and plan.engine is None:
        return
    engine, lab = plan.engine, plan.lab
    assert engine is not None and lab is not None
    text = [str(p) for p in plan.problems]
    families = [[lab_model.External(ip) for ip in ("1.1.1.1", "203.0.113.7", "198.51.100.9", "100.64.0.1", "8.8.8.8")],
                [lab_model.External(ip) for ip in ("2001:db8::1", "2606:4700::1111", "fd00::5")]]
    for ns in lab.inventory.namespaces:
        pods = [p for p in lab.workload_pods if p.namespace == ns.name]
        # world-open ingress: an error names a pod only if the engine lets every sampled internet address in
        exposed = {name for t in text if "whole internet" in t or "admits every source" in t
                   for match in [re.search(rf" to (.+) in {ns.name}; ", t)] if match
                   for name in match[1].split(", ")}
        for pod in pods:
            if pod.name in exposed:
                assert any(all(engine.verdict(src, pod, cp.port, cp.protocol).ingress.allowed for src in family)
                           for cp in pod.ports for family in families), (pod, text)
        # no default deny: warned exactly when the engine says some pod of the namespace can escape isolation
        warned = any(t.startswith(f"WARNING {ns.path}.profiles: namespace {ns.name} has no default-deny") for t in text)
        assert warned == (not engine.isolates_every_pod(ns.name, "ingress"))
        if not warned:
            assert engine.isolating(lab.rogue(ns.name), "ingress")
        # egress without DNS: every declared pod isolated for egress without DNS is named, and only those
        warning = next((t for t in text if "no egress rule allows DNS" in t and f"in namespace {ns.name} " in t), "")
        for pod in pods:
            stranded = bool(engine.isolating(pod, "egress")) and not any(
                engine.verdict(pod, dns, 53, "UDP").egress.allowed for dns in engine.dns_pods())
            assert (f" {pod.name}" in warning.split(" in namespace ")[0]) == stranded, (pod, warning)


# --- what is deployed is what was predicted ------------------------------------------------------------

@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_workload_manifests_are_the_pods_the_prediction_used(inventory: Path) -> None:
    variables = read_group_vars(inventory)
    built = lab_model.build(parse(load_variables(variables)))
    options = workloads.Options(default_image="registry.k8s.io/e2e-test-images/agnhost:2.63.0@sha256:" + "0" * 64)
    rendered = yaml.safe_load_all("".join(workloads.to_yaml(docs) for docs in workloads.manifests(built, options).values()))
    deployments = {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in rendered if d["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(p.key for p in built.workload_pods)
    for pod in built.workload_pods:
        template = deployments[pod.key]["spec"]["template"]
        assert template["metadata"]["labels"] == dict(pod.labels)
        [container] = template["spec"]["containers"]
        declared = [model.ContainerPort(p["containerPort"], p["protocol"], p["name"]) for p in container.get("ports", [])]
        assert tuple(declared) == pod.ports
        selector = deployments[pod.key]["spec"]["selector"]["matchLabels"]
        assert all(pod.labels.get(k) == v for k, v in selector.items())


def test_a_client_without_a_container_port_listens_on_nothing() -> None:
    ns = {"name": "shop", "profiles": [], "workloads": [{"name": "client", "labels": {"app": "client"}}]}
    built = lab_model.build(parse([ns]))
    [deployment] = workloads.manifests(built, workloads.Options(default_image="registry.k8s.io/e2e-test-images/agnhost:2.63.0"))["shop"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["pause"] and "ports" not in container and "readinessProbe" not in container
    assert built.workload_pods[0].ports == ()


# --- one plan: parsed once, each policy read once, the same run folder from CLI and Ansible -------------

def _lab_inputs() -> dict[str, Any]:
    variables = read_group_vars(LAB)
    return {"namespaces": load_variables(variables), "kubernetes_version": variables["netfence_kubernetes_version"],
            "pod_subnet": variables.get("netfence_pod_subnet"), "service_subnet": variables.get("netfence_service_subnet"),
            "api_server_endpoint": variables.get("netfence_api_server_endpoint"), "probes": variables.get("netfence_probes")}


def test_a_plan_parses_the_inventory_once_and_reads_each_policy_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = {"parse": 0, "read_policy": 0, "parse_policy": 0}

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(plan_module, "parse", counting("parse", plan_module.parse))
    monkeypatch.setattr(validate, "read_policy", counting("read_policy", policy_reader.read_policy))
    monkeypatch.setattr(model, "parse_policy", counting("parse_policy", model.parse_policy))
    inputs = _lab_inputs()
    inputs["probes"] = None  # the probe check builds the probe planner's own index (a second, deliberate reader)
    plan = build_plan(**inputs)
    write_run(plan, cluster="netfence-lab", root=tmp_path)
    assert calls == {"parse": 1, "read_policy": plan.policy_count(), "parse_policy": 0}


def test_the_plan_role_makes_one_module_call() -> None:
    tasks = [task for path in sorted((REPO / "roles/plan/tasks").glob("*.yml"))
             for task in yaml.safe_load(path.read_text()) or []]
    modules = [key for task in tasks for key in task if key.startswith("netfence_")]
    assert modules == ["netfence_plan"]


def _comparable(run_dir: Path) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = str(path.relative_to(run_dir))
        if rel == "SHA256SUMS":
            continue  # lists run.json's checksum, which holds the run id and time
        text = path.read_text(encoding="utf-8")
        if rel == "run.json":
            data = json.loads(text)
            for key in ("run_id", "created"):
                assert data.pop(key)
            files[rel] = data
        else:
            files[rel] = text
    return files


def test_netfence_plan_and_make_plan_write_the_same_run_folder(ansible_env: dict[str, str], tmp_path: Path) -> None:
    cli = subprocess.run([sys.executable, "-m", "netfence", "plan", "-i", str(LAB), "--out", str(tmp_path / "cli")],
                         cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert cli.returncode == 0, cli.stderr
    cli_run = Path(cli.stdout.strip().splitlines()[-1])
    played = subprocess.run(["ansible-playbook", "-i", str(LAB), "playbooks/plan.yml", "-e",
                             f"netfence_evidence_dir={tmp_path / 'ansible'}"],
                            cwd=REPO, env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert played.returncode == 0, played.stdout + played.stderr
    [ansible_run] = list((tmp_path / "ansible").glob("*/*"))
    ours, theirs = _comparable(cli_run), _comparable(ansible_run)
    assert sorted(ours) == sorted(theirs)
    assert ours == theirs
    assert ours["run.json"]["planned_from"]["netfence_namespaces"] == copy.deepcopy(_lab_inputs()["namespaces"])


def test_make_plan_prints_the_run_folder_as_its_last_line(ansible_env: dict[str, str], tmp_path: Path) -> None:
    venv = Path(sys.executable).parent.parent
    make = ["make", "-s", "-o", "setup", "plan", f"VENV={venv}", f"INVENTORY={LAB}", f"LAST_PLAN={tmp_path / 'last'}"]
    evidence = f"ARGS=-e netfence_evidence_dir={tmp_path / 'evidence'}"
    done = subprocess.run(make + [evidence], cwd=REPO, env=ansible_env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [run] = list((tmp_path / "evidence").glob("*/*"))
    assert done.stdout.rstrip().splitlines()[-1] == str(run.resolve())
    assert (run / "predicted" / "model.json").is_file()
    # check mode writes nothing, and the path of the run before is not printed as if it were new
    done = subprocess.run(make + [evidence + " --check"], cwd=REPO, env=ansible_env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().splitlines()[-1] == "make plan: no run folder written (check mode or --tags validate)"
    assert len(list((tmp_path / "evidence").glob("*/*"))) == 1


def test_dns_egress_is_judged_on_egress_and_an_ipblock_without_the_pod_subnet_is_a_warning() -> None:
    app = {"name": "app", "profiles": ["default-deny-egress", "allow-dns-egress"], "dns": {"namespace": "dns", "pod_labels": {"app": "coredns"}}}
    dns = {"name": "dns", "profiles": ["default-deny-ingress"],
           "workloads": [{"name": "coredns", "labels": {"app": "coredns"}, "container_port": 53, "protocol": "UDP"}]}
    # the DNS namespace refusing ingress is not app's missing egress rule: no error at app's profiles
    assert not any("allows DNS" in str(p) for p in build_plan([app, dns], VERSION).problems)
    by_block = {"name": "b", "profiles": ["default-deny-egress"], "extra_policies": [{"name": "dns", "spec": {
        "podSelector": {}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 53, "protocol": "UDP"}]}]}}]}
    unknown = build_plan([by_block], VERSION)
    assert unknown.errors == [] and any("set netfence_pod_subnet" in str(p) for p in unknown.warnings)
    covered = build_plan([by_block], VERSION, pod_subnet="10.244.0.0/16")
    assert not any("DNS" in str(p) for p in covered.problems)  # the block covers the DNS pods
    outside = build_plan([by_block], VERSION, pod_subnet="192.168.0.0/16")
    assert any("no egress rule allows DNS" in str(p) for p in outside.errors)


def test_an_ingress_rule_for_a_port_no_selected_pod_declares_is_reported_not_dropped() -> None:
    ns = _web_namespace()
    ns["extra_policies"] = [{"name": "scrape", "spec": {
        "podSelector": {"matchLabels": {"tier": "front"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 9090}]}]}}]
    plan = build_plan([ns], VERSION)
    assert [str(p) for p in plan.warnings] == [
        "WARNING netfence_namespaces[0].extra_policies[0].spec.ingress[0].ports[0].port: no selected pod (shop/web) "
        "declares TCP 9090, so the prediction has no row for this rule; declare the port (container_port) if a pod "
        "listens there"]
    assert "TCP/9090" not in plan.prediction["summary"]["probes"]  # the reason for the warning
    ns["workloads"][0]["container_port"] = 9090
    assert build_plan([ns], VERSION).warnings == []
