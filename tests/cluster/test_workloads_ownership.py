"""The workloads stage never takes over a Deployment or Service that is not netfence's.

Against the HTTP API double (a double, not a cluster): this proves which objects netfence looks up
and that it writes nothing when one of them belongs to someone else.
"""

from __future__ import annotations

import pytest

from cluster_support import MANAGED, failure_messages

pytestmark = pytest.mark.playbook

MY_API = {"name": "my-api", "labels": {"app": "my-api", "env": "dev"}, "container_port": 3000,
          "service_port": 80, "port_name": "http", "protocol": "TCP", "replicas": 1}


def user_object(kind: str, labels: dict[str, str]) -> dict:
    api_version = "apps/v1" if kind == "Deployment" else "v1"
    spec = ({"selector": {"matchLabels": {"app": "mine"}}, "template": {"metadata": {"labels": {"app": "mine"}},
             "spec": {"containers": [{"name": "c", "image": "mine"}]}}} if kind == "Deployment"
            else {"selector": {"app": "mine"}, "ports": [{"port": 80}]})
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "my-api", "namespace": "dev", "labels": labels}, "spec": spec}


def run_workloads(playbook, tmp_path):
    return playbook.run("provision.yml", {
        "netfence_provider": "existing", "netfence_kubernetes_version": "v1.34.0",
        "netfence_cache_dir": str(tmp_path / "cache"), "netfence_gather_facts": False,
        "netfence_pod_subnet": "192.168.0.0/16", "netfence_service_subnet": "10.96.0.0/12",
        "netfence_bin_dir": str(tmp_path / "bin"), "netfence_calico_version": "v3.31.7",
        "netfence_calico_install_method": "operator", "netfence_calico_encapsulation": "VXLAN",
        "netfence_namespaces": [{"name": "dev", "labels": {"env": "dev"}, "workloads": [MY_API]}],
    }, "--tags", "workloads")


def test_a_users_service_of_the_same_name_is_refused_and_nothing_is_applied(api, playbook, tmp_path):
    api.put("services", user_object("Service", {"app": "mine"}))
    rc, out, err = run_workloads(playbook, tmp_path)
    msg = failure_messages(out)
    assert rc != 0, err
    assert "Service dev/my-api" in msg and "Deployment dev/my-api" not in msg
    assert "Rename the workload in the inventory" in msg and "Nothing was applied" in msg
    assert api.writes() == []
    assert "app.kubernetes.io/managed-by" not in api.get("services", "dev", "my-api")["metadata"]["labels"]


def test_only_the_foreign_object_is_named_when_the_other_is_netfences(api, playbook, tmp_path):
    api.put("services", user_object("Service", dict(MANAGED)))
    api.put("deployments", user_object("Deployment", {"app": "mine", "app.kubernetes.io/managed-by": "helm"}))
    rc, out, _ = run_workloads(playbook, tmp_path)
    msg = failure_messages(out)
    assert rc != 0 and "Deployment dev/my-api" in msg and "Service dev/my-api" not in msg
    assert api.writes() == []


def test_an_identity_bound_only_in_the_inventory_namespace_gets_past_the_namespace_reads(api, playbook, tmp_path):
    # Bound only in dev (RBAC answers 403 to any cluster-wide list): the stage reads dev by name
    # and reaches the ownership check, which refuses the user's Service as usual.
    api.scoped_to = {"dev"}
    api.put("services", user_object("Service", {"app": "mine"}))
    rc, out, _ = run_workloads(playbook, tmp_path)
    msg = failure_messages(out)
    assert rc != 0 and "Service dev/my-api" in msg and "forbidden" not in msg
    assert api.writes() == []


def test_an_inventory_namespace_the_identity_may_not_read_is_named_and_nothing_is_created(api, playbook, tmp_path):
    api.scoped_to = {"prod"}
    rc, out, _ = run_workloads(playbook, tmp_path)
    msg = failure_messages(out)
    assert rc != 0 and "reading namespace dev:" in msg and "create it and bind edit or admin in it" in msg
    assert api.writes() == []
