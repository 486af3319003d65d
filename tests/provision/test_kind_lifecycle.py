"""kind lab from nothing, a second run, evidence and teardown - with fake tools, so no real cluster."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
import yaml

from labkit import CALICO_VERSION, FAKE_MANIFESTS, Lab, Run, new_lab

NODE_IMAGE = "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory, download_server: tuple[str, str],
              ansible_env: dict[str, str], fake_binary_sha256: str) -> dict[str, Any]:
    lab = new_lab(tmp_path_factory.mktemp("kind-lifecycle"), download_server[0], ansible_env)
    # kubectl through a pinned sum (as kept in the role's defaults), kind through its .sha256sum file
    lab.extra["toolchain_kubectl_checksums"] = {"linux": {"amd64": {"1.35.8": f"sha256:{fake_binary_sha256}"}}}
    first = lab.run("provision.yml")
    first_calls = lab.calls()
    second = lab.run("provision.yml")
    return {"lab": lab, "first": first, "second": second, "first_calls": first_calls,
            "second_calls": lab.calls()[len(first_calls):]}


def verbs(calls: list[list[str]]) -> list[str]:
    """'tool verb...' strings without paths, for ordering assertions."""
    out = []
    for call in calls:
        words = [w for w in call if not w.startswith("/") and not w.startswith("--")
                 and w not in ("lab", "kind-lab", "netfence", "kube-system") and not re.fullmatch(r"\d+s", w)]
        out.append(" ".join(words[:4]))
    return out


def test_first_run_succeeds_and_creates_the_cluster_exactly_as_kind_documents(lifecycle: dict[str, Any]) -> None:
    lab: Lab = lifecycle["lab"]
    first: Run = lifecycle["first"]
    assert first.rc == 0, first.failure() or first.stderr
    creates = [c for c in lifecycle["first_calls"] if c[:3] == ["kind", "create", "cluster"]]
    assert creates == [["kind", "create", "cluster", "--name", "lab", "--config", str(lab.cache_dir / "kind-lab.yaml"),
                        "--kubeconfig", str(lab.kubeconfig)]]
    assert "--wait" not in creates[0]


def test_kind_config_disables_the_default_cni_and_pins_the_node_image(lifecycle: dict[str, Any]) -> None:
    lab: Lab = lifecycle["lab"]
    config = yaml.safe_load(lab.state()["kind"]["lab"]["config"])
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["networking"] == {"disableDefaultCNI": True, "podSubnet": "192.168.0.0/16",
                                    "serviceSubnet": "10.96.0.0/12"}
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker"]
    assert {n["image"] for n in config["nodes"]} == {NODE_IMAGE}


def test_calico_operator_is_installed_in_order_and_only_server_side(lifecycle: dict[str, Any]) -> None:
    calls = [c for c in lifecycle["first_calls"] if c[0] == "kubectl" and ("apply" in c or "diff" in c or "create" in c)]
    files = [(c[c.index("-f") + 1].rsplit("/", 1)[1], "apply" if "apply" in c else "diff") for c in calls]
    assert files == [
        ("operator-crds.yaml", "diff"), ("operator-crds.yaml", "apply"),
        ("tigera-operator.yaml", "diff"), ("tigera-operator.yaml", "apply"),
        ("netfence-custom-resources.yaml", "diff"), ("netfence-custom-resources.yaml", "apply"),
    ]
    for call in calls:
        assert "--server-side" in call, call
        assert call[1:5] == ["--kubeconfig", str(lifecycle["lab"].kubeconfig), "--context", "kind-lab"]


def test_installation_pool_is_the_pod_subnet_with_vxlan(lifecycle: dict[str, Any]) -> None:
    lab: Lab = lifecycle["lab"]
    docs = list(yaml.safe_load_all((lab.cache_dir / "calico" / f"v{CALICO_VERSION}" / "netfence-custom-resources.yaml").read_text()))
    installation = next(d for d in docs if d["kind"] == "Installation")
    pool = installation["spec"]["calicoNetwork"]["ipPools"][0]
    assert (pool["cidr"], pool["encapsulation"]) == ("192.168.0.0/16", "VXLAN")
    assert [d["kind"] for d in docs] == ["Installation", "APIServer"]


def test_stages_run_in_order_and_wait_for_calico_nodes_and_coredns(lifecycle: dict[str, Any]) -> None:
    seq = verbs(lifecycle["first_calls"])
    order = ["docker info", "kind create cluster", "kubectl diff", "kubectl get tigerastatus calico",
             "kubectl wait condition=Ready nodes", "kubectl rollout status deployment/coredns"]
    positions = [next(i for i, v in enumerate(seq) if v.startswith(step)) for step in order]
    assert positions == sorted(positions), seq


def test_tools_are_downloaded_into_the_project_bin_folder(lifecycle: dict[str, Any], fake_binary_sha256: str) -> None:
    lab: Lab = lifecycle["lab"]
    for tool in ("kind", "kubectl"):
        data = (lab.bin_dir / tool).read_bytes()
        assert hashlib.sha256(data).hexdigest() == fake_binary_sha256
    assert not (lab.bin_dir / "minikube").exists()


def test_second_run_creates_nothing_and_reports_no_change(lifecycle: dict[str, Any]) -> None:
    second: Run = lifecycle["second"]
    assert second.rc == 0, second.failure()
    calls = lifecycle["second_calls"]
    assert not [c for c in calls if c[:2] == ["kind", "create"]]
    assert not [c for c in calls if c[0] == "kubectl" and "apply" in c]
    for role in ("toolchain", "cluster", "calico", "workloads"):
        assert second.changed_in(role) == [], role


def test_evidence_records_the_calico_manifests_by_sha256(lifecycle: dict[str, Any]) -> None:
    lab: Lab = lifecycle["lab"]
    records = sorted((lab.root / "evidence" / "lab").glob("*/provision.json"))
    assert len(records) == 2  # one run folder per run, never overwritten
    first = json.loads(records[0].read_text())
    manifests = {m["file"]: m for m in first["calico"]["manifests"]}
    for name in ("operator-crds.yaml", "tigera-operator.yaml"):
        assert manifests[name]["sha256"] == hashlib.sha256(FAKE_MANIFESTS[name].encode()).hexdigest()
        assert manifests[name]["url"].endswith(f"/calico/v{CALICO_VERSION}/manifests/{name}")
        # the lab's fake files are checked against the sums its inventory supplies, and the record says so
        assert manifests[name]["expected_sha256"] == hashlib.sha256(FAKE_MANIFESTS[name].encode()).hexdigest()
        assert manifests[name]["verified_against"] == "calico_manifest_checksums (supplied by the inventory)"
    assert first["calico"]["manifest_checksums_verified"] is True
    assert first["calico"]["manifest_checksums_published_upstream"] is False
    assert first["calico"]["manifest_pin"]["commit"] == "94bd1d5b0e04459d4d1c83653e0335a9201248b8"  # tag v3.31.7
    assert first["kind_node_image"] == NODE_IMAGE
    assert first["calico"]["version"] == CALICO_VERSION


def test_teardown_deletes_the_cluster_netfence_created_then_nothing(lifecycle: dict[str, Any]) -> None:
    lab: Lab = lifecycle["lab"]
    before = len(lab.calls())
    run = lab.run("teardown.yml")
    assert run.rc == 0, run.failure()
    calls = lab.calls()[before:]
    assert ["kind", "delete", "cluster", "--name", "lab", "--kubeconfig", str(lab.kubeconfig)] in calls
    assert lab.state()["kind"] == {}
    assert not (lab.cache_dir / "netfence-created-kind-lab.json").exists()
    before = len(lab.calls())
    again = lab.run("teardown.yml")
    assert again.rc == 0
    assert not [c for c in lab.calls()[before:] if "delete" in c]
    assert "netfence did not create" in again.stdout
