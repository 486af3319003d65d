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


INSTANCE = {"netfence.io/instance": "team/lab"}


def namespace(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}}}


def inventory(lab: Lab, api: ApiDouble, names: list[str]) -> None:
    kubeconfig = api.write_kubeconfig(lab.root / "kubeconfig", context="team-ctx")
    lab.write_inventory(netfence_provider="existing", netfence_cluster_name="team", netfence_instance="team/lab",
                        netfence_kubeconfig=str(kubeconfig), netfence_kube_context="team-ctx",
                        netfence_namespaces=[{"name": n} for n in names])


def test_teardown_deletes_only_this_inventorys_objects_and_namespaces(lab: Lab) -> None:
    with ApiDouble(("default", "kube-system", "team-a")) as api:
        api.put("namespaces", namespace("dev", dict(OWNED), dict(INSTANCE)))
        api.put("namespaces", namespace("shared", dict(OWNED), {"netfence.io/instance": "team/other-inventory"}))
        api.put("namespaces", namespace("elsewhere", dict(OWNED), {"netfence.io/instance": "team/other-inventory"}))
        api.put("networkpolicies", netpol("dev", "netfence-default-deny", OWNED))
        api.put("networkpolicies", netpol("team-a", "netfence-default-deny", OWNED))
        api.put("networkpolicies", netpol("team-a", "teams-own-policy"))
        api.put("networkpolicies", netpol("elsewhere", "netfence-default-deny", OWNED))  # not this inventory's namespace
        api.put("pods", {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "netfence-probe", "namespace": "team-a", "labels": dict(OWNED)},
                         "spec": {"containers": [{"name": "probe", "image": "agnhost"}]}})
        api.put("pods", {"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "team-app", "namespace": "team-a"},
                         "spec": {"containers": [{"name": "app", "image": "app"}]}})
        inventory(lab, api, ["dev", "team-a", "shared"])
        run = lab.run("teardown.yml")
        assert run.rc == 0, run.failure() or run.stderr[-2000:]
        assert api.names("networkpolicies") == ["elsewhere/netfence-default-deny", "team-a/teams-own-policy"]
        assert api.names("pods") == ["team-a/team-app"]
        # dev was this inventory's; shared and elsewhere carry netfence's label but another instance
        assert set(api.names("namespaces")) == {"default", "kube-system", "team-a", "shared", "elsewhere"}
        assert "another inventory created them" in run.stdout
        # every read is per namespace: no cluster-scope list of a namespaced kind
        assert not [c for c in api.calls if c["method"] == "GET" and not c["namespace"] and not c["name"]
                    and c["plural"] != "namespaces"]


def test_a_namespace_holding_a_users_objects_is_kept_unless_asked(lab: Lab) -> None:
    with ApiDouble(("default", "kube-system")) as api:
        api.put("namespaces", namespace("dev", dict(OWNED), dict(INSTANCE)))
        api.put("networkpolicies", netpol("dev", "netfence-default-deny", OWNED))
        api.put("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "team-settings", "namespace": "dev"}, "data": {"a": "b"}})
        api.put("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",  # every namespace has it
                               "metadata": {"name": "kube-root-ca.crt", "namespace": "dev"}, "data": {"ca.crt": "x"}})
        inventory(lab, api, ["dev"])
        run = lab.run("teardown.yml")
        assert run.rc != 0
        assert "Kept namespace(s) dev" in run.failure() and "dev: ConfigMap team-settings" in run.failure()
        assert "netfence_teardown_delete_foreign=true" in run.failure()
        assert "dev" in api.names("namespaces") and api.names("networkpolicies") == []  # netfence's own went
        run = lab.run("teardown.yml", extra={"netfence_teardown_delete_foreign": True})
        assert run.rc == 0, run.failure() or run.stderr[-2000:]
        assert "dev" not in api.names("namespaces")


def test_teardown_in_check_mode_deletes_nothing(lab: Lab) -> None:
    with ApiDouble(("default", "kube-system")) as api:
        api.put("namespaces", namespace("dev", dict(OWNED), dict(INSTANCE)))
        api.put("networkpolicies", netpol("dev", "netfence-default-deny", OWNED))
        inventory(lab, api, ["dev"])
        run = lab.run("teardown.yml", check=True)
        assert run.rc == 0, run.failure() or run.stderr[-2000:]
        assert [c for c in api.calls if c["method"] == "DELETE" and not c["dry_run"]] == []
        assert "dev" in api.names("namespaces") and api.names("networkpolicies") == ["dev/netfence-default-deny"]


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
