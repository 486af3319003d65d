"""Teardown of an existing cluster against the HTTP API double: only netfence-labelled objects go."""

from __future__ import annotations

import sys
from pathlib import Path

from labkit import Lab

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
from apidouble import ApiDouble  # noqa: E402

OWNED = {"app.kubernetes.io/managed-by": "netfence"}


def netpol(namespace: str, name: str, labels: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def test_teardown_of_an_existing_cluster_deletes_only_labelled_objects(lab: Lab) -> None:
    with ApiDouble(("default", "kube-system", "team-a")) as api:
        api.put("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": "netfence-lab", "labels": dict(OWNED)}})
        api.put("networkpolicies", netpol("team-a", "netfence-default-deny", OWNED))
        api.put("networkpolicies", netpol("team-a", "teams-own-policy"))
        api.put("pods", {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "netfence-probe", "namespace": "team-a", "labels": dict(OWNED)},
                         "spec": {"containers": [{"name": "probe", "image": "agnhost"}]}})
        api.put("pods", {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "team-app", "namespace": "team-a"},
                         "spec": {"containers": [{"name": "app", "image": "app"}]}})
        kubeconfig = api.write_kubeconfig(lab.root / "kubeconfig", context="team-ctx")
        lab.write_inventory(netfence_provider="existing", netfence_cluster_name="team",
                            netfence_kubeconfig=str(kubeconfig), netfence_kube_context="team-ctx")
        # the double serves namespaces, pods, services and networkpolicies only
        kinds = [{"kind": "NetworkPolicy", "api_version": "networking.k8s.io/v1"},
                 {"kind": "Pod", "api_version": "v1"},
                 {"kind": "Service", "api_version": "v1"},
                 {"kind": "Namespace", "api_version": "v1"}]
        run = lab.run("teardown.yml", extra={"cluster_teardown_kinds": kinds})
        assert run.rc == 0, run.failure() or run.stderr[-2000:]
        assert api.names("networkpolicies") == ["team-a/teams-own-policy"]
        assert api.names("pods") == ["team-a/team-app"]
        assert "netfence-lab" not in api.names("namespaces")
        assert {"default", "kube-system", "team-a"} <= set(api.names("namespaces"))
        deletes = [c for c in api.calls if c["method"] == "DELETE"]
        assert len(deletes) == 3


def test_teardown_deletes_rogue_pods_left_behind_by_their_annotation_only(lab: Lab) -> None:
    def pod(name: str, annotations: dict[str, str]) -> dict:
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "team-a", "annotations": annotations},
                "spec": {"containers": [{"name": "c", "image": "agnhost"}]}}

    with ApiDouble(("default", "kube-system", "team-a")) as api:
        # an interrupted blast radius leaves an unlabelled rogue pod; a user's pod has other annotations
        api.put("pods", pod("netfence-rogue-x", {"netfence.io/role": "rogue", **OWNED}))
        api.put("pods", pod("team-app", {"team.example/owner": "a"}))
        kubeconfig = api.write_kubeconfig(lab.root / "kubeconfig", context="team-ctx")
        lab.write_inventory(netfence_provider="existing", netfence_cluster_name="team",
                            netfence_kubeconfig=str(kubeconfig), netfence_kube_context="team-ctx")
        kinds = [{"kind": "Pod", "api_version": "v1"}]
        run = lab.run("teardown.yml", extra={"cluster_teardown_kinds": kinds, "cluster_inventory_namespaces": ["team-a"]})
        assert run.rc == 0, run.failure() or run.stderr[-2000:]
        assert api.names("pods") == ["team-a/team-app"]
