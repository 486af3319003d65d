"""Calico stage on a cluster the fakes pretend exists: waiting, diagnosis, the manifest method."""

from __future__ import annotations

import json
import re

import yaml

from labkit import REPO, Lab, seed_cluster


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


# sha256 of manifests/operator-crds.yaml at projectcalico/calico tag v3.31.7 (commit
# 94bd1d5b0e04459d4d1c83653e0335a9201248b8), computed with `git show v3.31.7:manifests/operator-crds.yaml | sha256sum`.
UPSTREAM_V3_31_7_OPERATOR_CRDS = "380414d5756e9a1af29ddb1ad70cada07aa344ae7a2680ba7355248621f8adbf"


def test_a_manifest_that_differs_from_the_pin_is_refused_and_named(lab: Lab) -> None:
    seed_cluster(lab)
    # no supplied sums: the pins of 3.31.7 apply, and the fake files are not Calico's
    run = lab.run("provision.yml", "--tags", "calico", extra={"calico_manifest_checksums": {}})
    assert run.rc != 0
    message = run.failure()
    assert "Calico manifest operator-crds.yaml (" in message
    assert "Calico manifest tigera-operator.yaml (" in message
    assert f"Expected sha256: {UPSTREAM_V3_31_7_OPERATOR_CRDS}" in message
    assert "tag v3.31.7 (commit 94bd1d5b0e04459d4d1c83653e0335a9201248b8)" in message
    assert not (lab.cache_dir / "calico" / "v3.31.7" / "operator-crds.yaml").exists()
    assert not [c for c in lab.calls("kubectl") if "apply" in c or "diff" in c]


def test_a_version_without_pins_stops_before_downloading(lab: Lab) -> None:
    seed_cluster(lab)
    lab.write_inventory(netfence_calico_version="v3.30.0")  # a real release netfence has not pinned
    run = lab.run("provision.yml", "--tags", "calico", extra={"calico_manifest_checksums": {}})
    assert run.rc != 0
    message = run.failure()
    assert "Calico 3.30.0 has no pinned sha256 for operator-crds.yaml, tigera-operator.yaml" in message
    assert "calico_manifest_allow_unpinned" in message
    assert not (lab.cache_dir / "calico" / "v3.30.0").exists()
    assert not lab.calls("kubectl")


def test_a_malformed_supplied_sum_is_refused(lab: Lab) -> None:
    seed_cluster(lab)
    run = lab.run("provision.yml", "--tags", "calico",
                  extra={"calico_manifest_checksums": {"operator-crds.yaml": "md5:0123", "tigera-operator.yaml": "sha256:" + "0" * 64}})
    assert run.rc != 0
    assert "calico_manifest_checksums: operator-crds.yaml must be" in run.failure()
    assert not lab.calls("kubectl")


def test_opting_out_downloads_unchecked_and_the_evidence_says_so(lab: Lab) -> None:
    seed_cluster(lab)
    lab.write_inventory(netfence_calico_version="v3.30.0")
    run = lab.run("provision.yml", "--tags", "calico",
                  extra={"calico_manifest_checksums": {}, "calico_manifest_allow_unpinned": True})
    assert run.rc == 0, run.failure()
    record = json.loads(next((lab.root / "evidence" / "lab").glob("*/provision.json")).read_text())
    calico = record["calico"]
    assert calico["version"] == "3.30.0"
    assert calico["manifest_allow_unpinned"] is True
    assert calico["manifest_checksums_verified"] is False
    assert calico["manifest_pin"] is None
    assert [(m["file"], m["verified_against"], m["expected_sha256"]) for m in calico["manifests"]] == [
        ("operator-crds.yaml", None, None), ("tigera-operator.yaml", None, None)]


def _versions_claimed() -> dict[str, set[str]]:
    """Every Calico version the project says it runs, read from where it says so (not from the role's pins)."""
    claims: dict[str, set[str]] = {}

    def claim(version: str, where: str) -> None:
        claims.setdefault(version.removeprefix("v"), set()).add(where)

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "kind.yml").read_text())
    for version in workflow["jobs"]["kind"]["strategy"]["matrix"]["calico"]:
        claim(version, "CI matrix")
    for path in sorted(REPO.glob("inventories/*/group_vars/all/calico.yml")):
        claim(yaml.safe_load(path.read_text())["netfence_calico_version"], str(path.relative_to(REPO)))
    for path in ("roles/calico/defaults/main.yml", "molecule/kind/vars/netfence.yml"):
        text = (REPO / path).read_text()
        found = re.findall(r"calico_version: .*default\('(v?[0-9]+\.[0-9]+\.[0-9]+)'", text)
        assert found, f"no default Calico version found in {path}"
        for version in found:
            claim(version, path)
    return claims


def test_every_supported_calico_version_has_all_three_pins() -> None:
    pins = yaml.safe_load((REPO / "roles" / "calico" / "vars" / "main.yml").read_text())["calico_manifest_pins"]
    claims = _versions_claimed()
    assert "3.31.7" in claims  # the default, at least
    for version, where in sorted(claims.items()):
        assert version in pins, f"Calico {version} ({', '.join(sorted(where))}) has no manifest pins"
        pin = pins[version]
        assert re.fullmatch(r"[0-9a-f]{40}", pin["tag_commit"]), version
        assert set(pin["sha256"]) == {"operator-crds.yaml", "tigera-operator.yaml", "calico.yaml"}, version
        for name, digest in pin["sha256"].items():
            assert re.fullmatch(r"[0-9a-f]{64}", digest), (version, name)
    assert pins["3.31.7"]["sha256"]["operator-crds.yaml"] == UPSTREAM_V3_31_7_OPERATOR_CRDS
    assert pins["3.31.7"]["tag_commit"] == "94bd1d5b0e04459d4d1c83653e0335a9201248b8"


# minikube v1.38.1 (kubernetes/minikube tag v1.38.1, pkg/minikube/cni/calico.yaml) deploys
# `image: quay.io/calico/node:v3.31.3` with CALICO_IPV4POOL_IPIP "Always": Calico 3.31.3 with IPIP.
MINIKUBE_1_38_1_CALICO = "3.31.3"


def minikube_lab(lab: Lab) -> None:
    seed_cluster(lab, provider="minikube", name="mk")
    # the Minikube inventory still names netfence's release: it must not reach the evidence
    lab.write_inventory(netfence_provider="minikube", netfence_cluster_name="mk", netfence_kube_context="mk",
                        netfence_pod_subnet="10.244.0.0/16", netfence_calico_install_method="manifest",
                        netfence_calico_version="v3.31.7", netfence_calico_encapsulation="VXLAN")


def provision_record(lab: Lab, cluster: str) -> dict:
    records = sorted((lab.root / "evidence" / cluster).glob("*/provision.json"))
    assert len(records) == 1
    return json.loads(records[0].read_text())


def test_minikube_evidence_records_the_calico_the_cluster_runs(lab: Lab) -> None:
    minikube_lab(lab)
    run = lab.run("provision.yml", "--tags", "calico")
    assert run.rc == 0, run.failure()
    assert not [c for c in lab.calls("kubectl") if "apply" in c]  # Minikube installed it; netfence installs nothing
    calico = provision_record(lab, "mk")["calico"]
    assert calico["version"] == MINIKUBE_1_38_1_CALICO
    assert calico["encapsulation"] == "IPIP"
    assert calico["install_method"] == "minikube --cni=calico"
    assert calico["installed_by_netfence"] is False
    assert "quay.io/calico/node:v3.31.3" in calico["version_source"]
    assert calico["version_error"] is None and calico["encapsulation_error"] is None
    assert calico["manifests"] == [] and calico["manifest_pin"] is None
    assert "3.31.7" not in json.dumps(calico)
    assert "VXLAN" not in json.dumps(calico)


def test_minikube_evidence_says_why_when_calico_cannot_be_read(lab: Lab) -> None:
    minikube_lab(lab)
    lab.env["NETFENCE_FAKE_CNI"] = "none"
    run = lab.run("provision.yml", "--tags", "calico")
    assert run.rc == 0, run.failure()
    calico = provision_record(lab, "mk")["calico"]
    assert calico["version"] is None and calico["encapsulation"] is None
    assert 'daemonsets.apps "calico-node" not found' in calico["version_error"]
    assert 'resource type "ippools"' in calico["encapsulation_error"]
    assert "3.31.7" not in json.dumps(calico)


def test_minikube_evidence_without_the_calico_stage_records_no_version(lab: Lab) -> None:
    minikube_lab(lab)
    run = lab.run("provision.yml", "--tags", "cluster")
    assert run.rc == 0, run.failure()
    calico = provision_record(lab, "mk")["calico"]
    assert calico["version"] is None
    assert calico["version_error"].startswith("not read")
