"""Apply / prune / check mode / rollback / guards, with the real ansible-playbook and kubernetes.core
against the HTTP API double (tests/cluster/apidouble.py). A double, not a cluster: this proves
the API calls netfence makes, not what a CNI enforces."""

from __future__ import annotations

import time

import pytest
import yaml

from cluster_support import (DENY_EGRESS, DENY_INGRESS, DNS_EGRESS, closed_port_url, failure_messages, netpol, silent_endpoint,
                             task_results, write_kubeconfig, write_manifests)

pytestmark = pytest.mark.playbook

FOREIGN = netpol("dev", "team-owned", {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}, labels={})


def seed(api):
    api.put("networkpolicies", FOREIGN)
    api.put("networkpolicies", netpol("dev", "netfence-old", DENY_INGRESS))           # stale: declared no more
    api.put("networkpolicies", netpol("prod", "netfence-gone", DENY_INGRESS))         # stale, other namespace
    api.put("networkpolicies", netpol("prod", "other-tool", DENY_INGRESS, labels={"app.kubernetes.io/managed-by": "helm"}))


DESIRED = [netpol("dev", "netfence-default-deny-ingress", DENY_INGRESS), netpol("dev", "netfence-default-deny-egress", DENY_EGRESS),
           netpol("dev", "netfence-allow-dns-egress", DNS_EGRESS)]
# prod restricts egress without DNS, acknowledged in the inventory
PROD_NO_DNS = netpol("prod", "netfence-default-deny-egress", DENY_EGRESS)
ACK_PROD = {"netfence_namespaces": [{"name": "prod", "acknowledge": {"egress_without_dns": True}}]}


def test_check_then_apply_prune_snapshot_idempotence_and_rollback(api, playbook, run_dir):
    seed(api)
    write_manifests(run_dir, [*DESIRED, PROD_NO_DNS])
    original = {k: (v["spec"], v["metadata"].get("labels")) for k, v in api.objects["networkpolicies"].items()}

    # --check --diff: shows every change through server-side dry run, changes nothing
    rc, out, err = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), **ACK_PROD}, "--check", "--diff")
    assert rc == 0, failure_messages(out) or err
    assert api.writes(dry_run=False) == []
    assert {c["method"] for c in api.writes(dry_run=True)} == {"PATCH", "DELETE"}
    assert {k: (v["spec"], v["metadata"].get("labels")) for k, v in api.objects["networkpolicies"].items()} == original
    assert not (run_dir / "snapshots").exists()
    applied = task_results(out, "Apply each declared")[0]["results"]
    assert all(r["changed"] for r in applied) and all("diff" in r for r in applied)
    pruned = task_results(out, "Delete netfence-labelled policies")[0]["results"]
    assert sorted(r["item"] for r in pruned if r["changed"]) == ["dev/netfence-old", "prod/netfence-gone"]

    # apply: server-side apply as netfence, prune only netfence's own, snapshot first
    api.calls.clear()
    rc, out, err = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), **ACK_PROD})
    assert rc == 0, failure_messages(out) or err
    assert api.names("networkpolicies") == ["dev/netfence-allow-dns-egress", "dev/netfence-default-deny-egress",
                                            "dev/netfence-default-deny-ingress", "dev/team-owned",
                                            "prod/netfence-default-deny-egress", "prod/other-tool"]
    applies = [c for c in api.writes("PATCH") if c["content_type"].startswith("application/apply-patch")]
    assert len(applies) == 4 and all(c["query"].get("fieldManager") == "netfence" and c["query"].get("force") != "true" for c in applies)
    deleted = sorted(f"{c['namespace']}/{c['name']}" for c in api.writes("DELETE"))
    assert deleted == ["dev/netfence-old", "prod/netfence-gone"]  # never team-owned or helm's
    assert api.get("networkpolicies", "dev", "team-owned")["spec"] == FOREIGN["spec"]
    snap = yaml.safe_load((run_dir / "snapshots" / "dev.yaml").read_text())
    assert sorted(p["metadata"]["name"] for p in snap["policies"]) == ["netfence-old", "team-owned"]
    assert "resourceVersion" not in snap["policies"][0]["metadata"]
    assert (run_dir / "snapshots" / "prod.yaml").is_file() and (run_dir / "SHA256SUMS").is_file()

    # again: nothing changes, the first snapshot is kept
    api.calls.clear()
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), **ACK_PROD})
    assert rc == 0
    assert not [r for r in task_results(out, "Apply each declared")[0]["results"] if r.get("changed")]
    assert api.writes(dry_run=False) == [c for c in api.writes(dry_run=False) if c["method"] == "PATCH"]
    assert api.writes("DELETE") == []
    assert snap == yaml.safe_load((run_dir / "snapshots" / "dev.yaml").read_text())

    # rollback (netfence_run_dir, like every other playbook): the cluster is back to the snapshot
    rc, out, err = playbook.run("rollback.yml", {"netfence_run_dir": str(run_dir)})
    assert rc == 0, failure_messages(out) or err
    assert {k: (v["spec"], v["metadata"].get("labels")) for k, v in api.objects["networkpolicies"].items()} == original


def test_rollback_without_snapshots_says_so(playbook, run_dir):
    rc, out, _ = playbook.run("rollback.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "nothing to roll back" in failure_messages(out)


def test_rollback_still_accepts_run_dir(playbook, run_dir):
    rc, out, _ = playbook.run("rollback.yml", {"run_dir": str(run_dir)})
    assert rc != 0 and "nothing to roll back" in failure_messages(out) and "Usage" not in failure_messages(out)


def test_conflicting_foreign_policy_is_never_forced(api, playbook, run_dir):
    api.put("networkpolicies", {**netpol("dev", "netfence-default-deny-ingress", {"podSelector": {}, "policyTypes": ["Egress"]}, labels={}),
                                "metadata": {"name": "netfence-default-deny-ingress", "namespace": "dev",
                                             "managedFields": [{"manager": "kubectl", "operation": "Apply"}]}})
    write_manifests(run_dir, DESIRED[:1])
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "conflict" in failure_messages(out).lower()
    assert api.get("networkpolicies", "dev", "netfence-default-deny-ingress")["spec"]["policyTypes"] == ["Egress"]


def test_egress_without_dns_is_refused(api, playbook, run_dir):
    write_manifests(run_dir, DESIRED[:2])
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "Egress is restricted in dev but no egress rule allows DNS" in failure_messages(out)
    assert api.writes() == []  # the acknowledged case is part of the lifecycle test (prod)


def test_missing_namespace_is_a_clear_message_and_changes_nothing(api, playbook, run_dir):
    write_manifests(run_dir, [netpol("staging", "netfence-default-deny-ingress", DENY_INGRESS)])
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "staging do not exist on the cluster" in failure_messages(out)
    assert api.writes() == []


def test_unreachable_api_fails_fast_with_a_clear_message(tmp_path, run_dir):
    from cluster_support import Playbook

    kc = write_kubeconfig(tmp_path / "dead-kubeconfig", closed_port_url())
    write_manifests(run_dir, DESIRED[:1])
    started = time.monotonic()
    rc, out, _ = Playbook(tmp_path, kc).run("policies.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "did not answer" in failure_messages(out) and "Nothing was changed" in failure_messages(out)
    assert time.monotonic() - started < 60


def test_half_open_api_is_bounded_by_the_task_timeout(tmp_path, run_dir):
    from cluster_support import Playbook

    write_manifests(run_dir, DESIRED[:1])
    with silent_endpoint() as server:
        kc = write_kubeconfig(tmp_path / "silent-kubeconfig", server)
        started = time.monotonic()
        rc, out, _ = Playbook(tmp_path, kc).run("policies.yml", {"netfence_run_dir": str(run_dir), "policies_api_timeout": 3})
    assert rc != 0 and "did not answer within 3 s" in failure_messages(out)
    assert time.monotonic() - started < 60


def test_prune_leaves_other_inventories_namespaces_alone(api, playbook, run_dir):
    api.put("networkpolicies", netpol("dev", "netfence-old", DENY_INGRESS))
    api.put("networkpolicies", netpol("default", "netfence-default-deny-ingress", DENY_INGRESS))  # another inventory's
    write_manifests(run_dir, DESIRED)
    rc, out, err = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), "netfence_namespaces": [{"name": "dev"}]})
    assert rc == 0, failure_messages(out) or err
    assert "default/netfence-default-deny-ingress" in api.names("networkpolicies")
    assert "dev/netfence-old" not in api.names("networkpolicies")
    listed = {c["namespace"] for c in api.calls if c["method"] == "GET" and c["plural"] == "networkpolicies"
              and c["name"] is None and "labelSelector" in c["query"]}
    assert listed == {"dev"}


def test_egress_rules_without_policy_types_count_as_restricting_egress(api, playbook, run_dir):
    # policyTypes omitted: Kubernetes implies Egress because the policy has egress rules
    implied = netpol("dev", "netfence-egress-to-web", {"podSelector": {}, "egress": [{"ports": [{"port": 443, "protocol": "TCP"}]}]})
    write_manifests(run_dir, [implied])
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir)})
    assert rc != 0 and "Egress is restricted in dev but no egress rule allows DNS" in failure_messages(out)
    assert api.writes() == []


def test_check_diff_without_a_run_folder_dry_runs_the_plan_rendered_in_memory(api, playbook, tmp_path):
    inventory = {"netfence_kubernetes_version": "v1.35.8",
                 "netfence_namespaces": [{"name": "dev", "profiles": ["default-deny-ingress", "allow-dns-egress"]}]}
    rc, out, err = playbook.run("policies.yml", inventory, "--check", "--diff")
    assert rc == 0, failure_messages(out) or err
    assert api.writes(dry_run=False) == [] and not api.objects.get("networkpolicies")
    dry = sorted(c["name"] for c in api.writes(dry_run=True))
    assert dry == ["netfence-allow-dns-egress", "netfence-default-deny-ingress"]
    applied = task_results(out, "Apply each declared")[0]["results"]
    assert all(r["changed"] and "diff" in r for r in applied)
    assert not (tmp_path / "evidence").exists()  # check mode wrote no run folder


def test_without_a_run_folder_outside_check_mode_the_planned_manifests_are_refused(playbook):
    # Only the plan role sets netfence_planned_manifests, and only in check mode; given by hand, they never apply.
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": "", "netfence_planned_manifests": [netpol("dev", "x", DENY_INGRESS)]},
                              "--tags", "policies", "--skip-tags", "plan")
    assert rc != 0 and "No run folder with rendered manifests" in failure_messages(out)


def test_an_identity_bound_only_in_the_inventory_namespaces_applies_snapshots_and_prunes(api, playbook, run_dir):
    # Common on shared clusters: RoleBindings in dev and prod, nothing cluster-wide. Every read
    # must be per namespace; a cluster-wide list would be 403 (the double answers as RBAC does).
    seed(api)
    api.scoped_to = {"dev", "prod"}
    write_manifests(run_dir, [*DESIRED, PROD_NO_DNS])
    rc, out, err = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), **ACK_PROD})
    assert rc == 0, failure_messages(out) or err
    assert not [c for c in api.calls if not c["namespace"] and c["plural"] != "namespaces"]  # no cluster-scope call
    assert api.names("networkpolicies", "prod") == ["prod/netfence-default-deny-egress", "prod/other-tool"]
    snap = yaml.safe_load((run_dir / "snapshots" / "dev.yaml").read_text())
    assert sorted(p["metadata"]["name"] for p in snap["policies"]) == ["netfence-old", "team-owned"]


def test_a_namespace_the_identity_may_not_read_is_named_and_nothing_changes(api, playbook, run_dir):
    api.scoped_to = {"dev"}
    write_manifests(run_dir, [*DESIRED, PROD_NO_DNS])
    rc, out, _ = playbook.run("policies.yml", {"netfence_run_dir": str(run_dir), **ACK_PROD})
    message = failure_messages(out)
    assert rc != 0 and "reading namespace prod:" in message
    assert 'cannot get resource "namespaces" in API group "" in the namespace "prod"' in message.replace('\\"', '"')
    assert "bind view, edit or admin in it" in message and "Nothing was changed" in message
    assert api.writes() == []
