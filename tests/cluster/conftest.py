"""Fixtures for the cluster-facing tests: the API double, a kubeconfig, a run folder, ansible-playbook."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from apidouble import ApiDouble  # noqa: E402
from cluster_support import Playbook  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "playbook: runs the real ansible-playbook against the API double (slow; -m 'not playbook' skips)")


@pytest.fixture
def api():
    with ApiDouble(("default", "kube-system", "dev", "prod")) as double:
        yield double


@pytest.fixture
def kubeconfig(api, tmp_path) -> Path:
    return api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """An open run folder, as the plan stage leaves it (INCOMPLETE, run.json, SHA256SUMS)."""
    from netfence.evidence import runs as evidence

    path = evidence.start_run(tmp_path / "evidence" / "netfence-test" / "20261126T110500Z-abc123", {}, "plan")
    (path / "manifests").mkdir()
    evidence.seal(path, finished="plan")
    return path


@pytest.fixture
def playbook(tmp_path, kubeconfig) -> Playbook:
    return Playbook(tmp_path, kubeconfig)
