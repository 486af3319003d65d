"""Teardown touches only what netfence created; --check creates nothing."""

from __future__ import annotations

import json

from labkit import Lab, seed_cluster


def test_teardown_leaves_a_cluster_netfence_did_not_create(lab: Lab) -> None:
    seed_cluster(lab)  # the cluster exists, but no creation marker
    run = lab.run("teardown.yml")
    assert run.rc == 0, run.failure()
    assert not [c for c in lab.calls() if "delete" in c]
    assert "lab" in lab.state()["kind"]


def test_teardown_refuses_a_marker_for_another_cluster(lab: Lab) -> None:
    seed_cluster(lab)
    lab.cache_dir.mkdir(parents=True, exist_ok=True)
    (lab.cache_dir / "netfence-created-kind-lab.json").write_text(json.dumps(
        {"provider": "kind", "name": "other", "context": "kind-other"}))
    run = lab.run("teardown.yml")
    assert run.rc != 0
    assert "records provider 'kind', cluster 'other', context 'kind-other'" in run.failure()
    assert "Nothing was deleted" in run.failure()
    assert not [c for c in lab.calls() if "delete" in c]


def test_check_mode_creates_nothing(lab: Lab) -> None:
    run = lab.run("provision.yml", check=True)
    assert run.rc == 0, run.failure()
    assert not [c for c in lab.calls() if c[:2] in (["kind", "create"], ["kind", "delete"])]
    assert not [c for c in lab.calls() if c[0] == "kubectl" and "apply" in c]
    assert lab.state()["kind"] == {}
    for path in (lab.bin_dir / "kind", lab.kubeconfig, lab.cache_dir / "netfence-created-kind-lab.json",
                 lab.root / "evidence"):
        assert not path.exists(), path


def test_teardown_leaves_a_same_named_cluster_created_later_by_someone_else(lab: Lab) -> None:
    # netfence created "lab" and recorded its kube-system UID; the cluster was deleted outside
    # netfence and someone created another "lab". The name matches, the instance does not.
    run = lab.run("provision.yml", "--tags", "preflight,toolchain,cluster")
    assert run.rc == 0, run.failure()
    marker = json.loads((lab.cache_dir / "netfence-created-kind-lab.json").read_text())
    assert marker["kube_system_uid"] == lab.state()["kind"]["lab"]["uid"]
    state = lab.state()
    state["kind"]["lab"]["uid"] = "0b5e55ed-0000-4000-8000-000000000000"  # another instance, same name
    lab.save_state(state)
    run = lab.run("teardown.yml")
    assert run.rc != 0 and "is not the one netfence created" in run.failure() and "Nothing was deleted" in run.failure()
    assert "lab" in lab.state()["kind"] and not [c for c in lab.calls() if c[:2] == ["kind", "delete"]]
    # the instance netfence created is deleted as before
    state["kind"]["lab"]["uid"] = marker["kube_system_uid"]
    lab.save_state(state)
    assert lab.run("teardown.yml").rc == 0 and "lab" not in lab.state()["kind"]
