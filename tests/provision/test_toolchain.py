"""Toolchain: pinned sums, published checksum files, reuse, and what a wrong binary looks like."""

from __future__ import annotations

from labkit import Lab, copy_fake


def test_pinned_kubectl_sum_is_enforced(lab: Lab, fake_binary_sha256: str) -> None:
    wrong = "0" * 64
    run = lab.run("provision.yml", "--tags", "toolchain",
                  extra={"toolchain_kubectl_checksums": {"linux": {"amd64": {"1.35.8": f"sha256:{wrong}"}}}})
    assert run.rc != 0
    assert "checksum" in run.failure().lower()
    assert not (lab.bin_dir / "kubectl").exists()
    # the matching pinned sum is the path of the kind lifecycle test


def test_present_binaries_with_the_pinned_version_are_reused(lab: Lab) -> None:
    for tool in ("kind", "kubectl"):
        copy_fake(lab.bin_dir / tool)
    # no download server needed: a wrong base URL proves nothing is fetched
    run = lab.run("provision.yml", "--tags", "toolchain",
                  extra={"toolchain_kind_base_url": "http://127.0.0.1:9/none",
                         "toolchain_kubectl_base_url": "http://127.0.0.1:9/none"})
    assert run.rc == 0, run.failure()
    assert run.changed_in("toolchain") == []


def test_a_binary_reporting_another_version_is_named(lab: Lab) -> None:
    lab.env["NETFENCE_FAKE_KIND_VERSION"] = "0.32.0"
    run = lab.run("provision.yml", "--tags", "toolchain")
    assert run.rc != 0
    assert "does not report 'kind version 0.33.0'" in run.failure()
    assert "kind version 0.32.0" in run.failure()
