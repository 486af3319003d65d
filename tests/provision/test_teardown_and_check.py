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
