"""gomod.py: the replace list of our build module comes from upstream's own go.mod."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from localcluster_support import LOCALCLUSTER, load

gomod = load("gomod")

UPSTREAM = """module k8s.io/kubernetes

go 1.25.0

require (
\tk8s.io/api v0.0.0
\tgo.etcd.io/etcd/api/v3 v3.6.5
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tgopkg.in/natefinch/lumberjack.v2 => gopkg.in/natefinch/lumberjack.v2 v2.0.0
)
"""


def test_only_folder_replaces_are_repeated_with_the_published_version():
    assert gomod.local_replaces(UPSTREAM) == ["k8s.io/api", "k8s.io/client-go"]
    text = gomod.render("k8s.io/kubernetes", "v1.35.8", "v0.35.8", UPSTREAM, ["go.etcd.io/etcd/server/v3@v3.6.5"], "x.test/build")
    assert "module x.test/build" in text and "go 1.25.0" in text
    assert "\tk8s.io/kubernetes v1.35.8" in text and "\tgo.etcd.io/etcd/server/v3 v3.6.5" in text
    assert "\tk8s.io/api => k8s.io/api v0.35.8" in text and "\tk8s.io/client-go => k8s.io/client-go v0.35.8" in text
    assert "lumberjack" not in text


def _replaces(text: str) -> set[str]:
    return set(re.findall(r"^\t(\S+ => \S+ \S+)$", text, re.M))


def test_the_committed_kubernetes_module_replaces_exactly_upstreams_staging_modules():
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=False).stdout.strip() \
        if shutil.which("go") else ""
    upstream = Path(cache) / "cache/download/k8s.io/kubernetes/@v/v1.35.8.mod"
    if not upstream.is_file():
        pytest.skip("k8s.io/kubernetes v1.35.8's go.mod is not in the module cache (make cluster-up fetches it)")
    committed = (LOCALCLUSTER / "modules/kubernetes/go.mod").read_text(encoding="utf-8")
    expected = gomod.render("k8s.io/kubernetes", "v1.35.8", "v0.35.8", upstream.read_text(encoding="utf-8"), [], "x")
    assert _replaces(committed) == _replaces(expected) and len(_replaces(expected)) > 25

