"""Calico stage on a cluster the fakes pretend exists: waiting, diagnosis, the manifest method."""

from __future__ import annotations

from labkit import Lab, seed_cluster


def test_calico_never_ready_shows_progress_then_fails_with_a_diagnosis(lab: Lab) -> None:
    seed_cluster(lab)
    lab.env["NETFENCE_FAKE_CALICO"] = "never"
    run = lab.run("provision.yml", "--tags", "calico", callback="ansible.builtin.default",
                  extra={"calico_wait_retries": 3})
    assert run.rc != 0
    out = run.stdout
    for left in (2, 1, 0):
        assert f"FAILED - RETRYING: [localhost]: calico : Wait for TigeraStatus calico to be Available ({left} retries left)" in out
    assert ("did not become ready in time (step: Wait for TigeraStatus calico to be Available, "
            "gave up after the first attempt and 3 retries, 0s apart)") in out
    assert "Pods that are not ready:" in out
    assert "calico-node-x7k2p         0/1     Running" in out
    assert "coredns-5d78c9869d-abcde  0/1     ContainerCreating" in out
    assert "Recent events:" in out
    assert "Readiness probe failed: calico/node is not ready" in out
    assert lab.state()["counts"]["tigerastatus"] == 4  # bounded: the first attempt and 3 retries
    # the later waits never ran: the first unmet step stops the stage
    assert not [c for c in lab.calls("kubectl") if "wait" in c]


def test_manifest_method_applies_calico_yaml_and_waits_for_calico_node(lab: Lab) -> None:
    seed_cluster(lab)
    lab.write_inventory(netfence_calico_install_method="manifest")
    run = lab.run("provision.yml", "--tags", "calico")
    assert run.rc == 0, run.failure()
    applied = [c[-1].rsplit("/", 1)[1] for c in lab.calls("kubectl") if "apply" in c]
    assert applied == ["calico.yaml"]
    assert any(c[-4:] == ["daemonset/calico-node", "--timeout", "10s"][-4:] or "daemonset/calico-node" in c
               for c in lab.calls("kubectl"))
    assert not [c for c in lab.calls("kubectl") if "tigerastatus" in c]
