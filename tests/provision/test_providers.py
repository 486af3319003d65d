"""Minikube and existing clusters: exact commands, idempotence, CNI detection and its warnings."""

from __future__ import annotations

import json

import pytest

from labkit import Lab, copy_fake, inventory_vars, seed_cluster


MINIKUBE_VERSION = inventory_vars("minikube")["netfence_kubernetes_version"]


def test_minikube_starts_once_with_calico_and_the_inventory_driver(lab: Lab) -> None:
    copy_fake(lab.bin_dir / "kubectl")
    lab.env["NETFENCE_FAKE_KUBECTL_VERSION"] = MINIKUBE_VERSION.removeprefix("v")
    lab.write_inventory(netfence_provider="minikube", netfence_cluster_name="mk", netfence_kube_context="mk",
                        netfence_pod_subnet="10.244.0.0/16", netfence_minikube_driver="podman",
                        netfence_kubernetes_version=MINIKUBE_VERSION)
    run = lab.run("provision.yml", "--tags", "toolchain,cluster")
    assert run.rc == 0, run.failure()
    # downloaded and verified against minikube's bare-hex .sha256 file
    assert (lab.bin_dir / "minikube").read_bytes() == (lab.bin_dir / "kubectl").read_bytes()
    assert not (lab.bin_dir / "kind").exists()
    starts = [r for r in lab.records() if r["tool"] == "minikube" and r["argv"][:1] == ["start"]]
    assert [s["argv"] for s in starts] == [[
        "start", "--profile", "mk", "--driver", "podman", "--cni", "calico", "--kubernetes-version", "v1.35.1",
        "--service-cluster-ip-range", "10.96.0.0/12", "--nodes", "2"]]
    assert starts[0]["kubeconfig_env"] == str(lab.kubeconfig)
    assert (lab.cache_dir / "netfence-created-minikube-mk.json").exists()
    [record] = (lab.root / "evidence" / "mk").glob("*/provision.json")
    assert json.loads(record.read_text())["kubernetes_version"] == "v1.35.1"
    again = lab.run("provision.yml", "--tags", "cluster")
    assert again.rc == 0
    assert len([r for r in lab.records() if r["argv"][:1] == ["start"]]) == 1
    assert again.changed_in("cluster") == []


def test_minikube_records_the_version_it_was_started_with(lab: Lab) -> None:
    # cluster_minikube_kubernetes_version overrides the inventory's version for minikube only
    copy_fake(lab.bin_dir / "kubectl")
    lab.write_inventory(netfence_provider="minikube", netfence_cluster_name="mk", netfence_kube_context="mk",
                        netfence_pod_subnet="10.244.0.0/16", cluster_minikube_kubernetes_version="v1.34.0")
    run = lab.run("provision.yml", "--tags", "toolchain,cluster")
    assert run.rc == 0, run.failure()
    [start] = [c for c in lab.calls("minikube") if c[1:2] == ["start"]]
    assert start[start.index("--kubernetes-version") + 1] == "v1.34.0"
    [record] = (lab.root / "evidence" / "mk").glob("*/provision.json")
    assert json.loads(record.read_text())["kubernetes_version"] == "v1.34.0"


def test_minikube_offline_refuses_a_version_newer_than_it_supports_like_the_real_one(lab: Lab) -> None:
    # What preflight prevents: skip it, and minikube 1.38.1 asks GitHub for v1.35.8 and exits 40.
    copy_fake(lab.bin_dir / "kubectl")
    lab.write_inventory(netfence_provider="minikube", netfence_cluster_name="mk", netfence_kube_context="mk",
                        netfence_pod_subnet="10.244.0.0/16", netfence_kubernetes_version="v1.35.8")
    run = lab.run("provision.yml", "--tags", "toolchain,cluster")
    assert run.rc != 0
    [start] = [t for t in run.tasks() if t["failed"]]
    assert start["name"].endswith("Start the Minikube profile with Calico")
    assert start["res"]["rc"] == 40
    assert "Exiting due to K8S_FAIL_CONNECT: error fetching Kubernetes version list from GitHub" in start["res"]["stderr"]
    assert lab.state()["minikube"] == {}
    assert not (lab.cache_dir / "netfence-created-minikube-mk.json").exists()


def existing(lab: Lab, cni: str, **extra: object):
    seed_cluster(lab, provider="existing", name="prod")
    lab.kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod-ctx\n")
    lab.write_inventory(netfence_provider="existing", netfence_cluster_name="prod",
                        netfence_kube_context="prod-ctx")
    lab.env["NETFENCE_FAKE_CNI"] = cni
    return lab.run("provision.yml", "--tags", "cluster,calico", callback="ansible.builtin.default",
                   extra=dict(extra))


def test_existing_cluster_with_calico_is_adopted_without_creating_or_installing(lab: Lab) -> None:
    run = existing(lab, "calico")
    assert run.rc == 0, run.stdout[-2000:]
    assert "CNI: Calico - enforces NetworkPolicy: yes" in run.stdout
    assert "WARNING" not in run.stdout
    assert not [c for c in lab.calls() if c[0] in ("kind", "minikube") or "apply" in c]


@pytest.mark.parametrize(("cni", "says"), [
    ("flannel", "WARNING: CNI Flannel - NetworkPolicy enforcement: no."),
    ("none", "WARNING: CNI unknown - NetworkPolicy enforcement: unknown."),
])
def test_existing_cluster_warns_loudly_when_policies_may_not_be_enforced(lab: Lab, cni: str, says: str) -> None:
    run = existing(lab, cni)
    assert run.rc == 0
    assert says in run.stdout


def test_existing_cluster_can_require_enforcement(lab: Lab) -> None:
    run = existing(lab, "kindnet", cluster_require_policy_enforcement=True)
    assert run.rc != 0
    assert "The cluster's CNI (kindnet) enforces NetworkPolicy: only with kind v0.24 or newer" in run.stdout
