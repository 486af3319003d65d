#!/usr/bin/env python3
"""Test double for docker, kind, minikube and kubectl: records argv, answers like the real tool.

The same file is installed under each tool's name (``tests/fakes/bin/<tool>`` are symlinks to
it, and the toolchain role downloads copies of it from a local HTTP server), so the tool is
chosen by the executable's basename. Nothing here talks to Docker or Kubernetes.

Environment:
  NETFENCE_FAKE_LOG     JSON-lines file; one {"tool", "argv", "kubeconfig_env"} per call.
  NETFENCE_FAKE_STATE   folder holding state.json (clusters, applied manifests, call counts).
  NETFENCE_FAKE_DOCKER  "up" (default) or "down": whether `docker info` reaches a daemon.
  NETFENCE_FAKE_CALICO  "ready" (default) or "never": TigeraStatus calico Available or not.
  NETFENCE_FAKE_CNI     daemonsets present in kube-system: calico | cilium | kindnet | flannel | none.
                        On a Minikube cluster, "calico" also serves minikube v1.38.1's calico-node
                        DaemonSet and the IP pool it creates; anything else makes both reads fail.
  NETFENCE_FAKE_KIND_VERSION / _KUBECTL_VERSION / _MINIKUBE_VERSION: versions reported. minikube start
                        refuses Kubernetes versions its release does not support, as offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any


def _state_path() -> Path:
    return Path(os.environ.get("NETFENCE_FAKE_STATE", "/tmp/netfence-fake-state")) / "state.json"


def load() -> dict[str, Any]:
    path = _state_path()
    if path.exists():
        return json.loads(path.read_text())
    return {"kind": {}, "minikube": {}, "applied": [], "counts": {}}


def save(state: dict[str, Any]) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1, sort_keys=True))


def record(tool: str, argv: list[str]) -> None:
    log = os.environ.get("NETFENCE_FAKE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"tool": tool, "argv": argv, "kubeconfig_env": os.environ.get("KUBECONFIG")}) + "\n")


def opt(argv: list[str], name: str, short: str | None = None) -> str | None:
    """Value of ``--name X``, ``--name=X`` or ``-s X``."""
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg in (name, short) and i + 1 < len(argv):
            return argv[i + 1]
    return None


def write_kubeconfig(path: str, context: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: {context}\n"
        f"contexts:\n- context:\n    cluster: {context}\n    user: {context}\n  name: {context}\n"
        f"current-context: {context}\n"
        f"users:\n- name: {context}\n  user: {{}}\n"
    )


def fail(message: str, rc: int = 1) -> int:
    sys.stderr.write(message + "\n")
    return rc


def docker(argv: list[str]) -> int:
    if argv[:1] == ["info"]:
        if os.environ.get("NETFENCE_FAKE_DOCKER", "up") == "down":
            print("Client:\n Version: 27.0.0")
            return fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
        print("27.0.0")
        return 0
    return fail(f"fake docker: unsupported {argv}")


def kind(argv: list[str]) -> int:
    version = os.environ.get("NETFENCE_FAKE_KIND_VERSION", "0.33.0")
    state = load()
    if argv == ["--version"]:
        print(f"kind version {version}")
        return 0
    if argv[:1] == ["version"]:
        print(f"kind v{version} go1.25.0 linux/amd64")
        return 0
    if argv[:2] == ["get", "clusters"]:
        if not state["kind"]:
            sys.stderr.write("No kind clusters found.\n")
        for name in sorted(state["kind"]):
            print(name)
        return 0
    name = opt(argv, "--name", "-n") or "kind"
    if argv[:2] == ["create", "cluster"]:
        if name in state["kind"]:
            return fail(f'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
        config_path = opt(argv, "--config")
        # each cluster instance has its own kube-system Namespace UID: a same-named cluster created
        # later is another instance
        state["kind"][name] = {"config": Path(config_path).read_text() if config_path else None, "uid": str(uuid.uuid4())}
        kubeconfig = opt(argv, "--kubeconfig")
        if kubeconfig:
            write_kubeconfig(kubeconfig, f"kind-{name}")
        save(state)
        sys.stderr.write(f"Creating cluster \"{name}\" ...\n")
        return 0
    if argv[:2] == ["delete", "cluster"]:
        state["kind"].pop(name, None)
        save(state)
        sys.stderr.write(f"Deleting cluster \"{name}\" ...\n")
        return 0
    if argv[:2] == ["export", "kubeconfig"]:
        if name not in state["kind"]:
            return fail(f'ERROR: could not locate any control plane nodes for cluster named \'{name}\'')
        write_kubeconfig(opt(argv, "--kubeconfig") or os.environ["KUBECONFIG"], f"kind-{name}")
        return 0
    return fail(f"fake kind: unsupported {argv}")


# Kubernetes versions minikube accepts without asking GitHub, per release: OldestKubernetesVersion and
# NewestKubernetesVersion (kubernetes/minikube v1.38.1 pkg/minikube/constants/constants.go), and the
# versions above the newest that its ValidKubernetesVersions list still holds
# (pkg/minikube/constants/constants_kubernetes_versions.go).
MINIKUBE_KUBERNETES = {"1.38.1": {"oldest": "1.28.0", "newest": "1.35.1", "listed_newer": ["1.36.0-alpha.1"]}}


def _semver(text: str) -> tuple[int, int, int, int, str]:
    """Enough of semver for minikube's comparisons: a pre-release sorts before its release."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-(.+))?", text.strip().lower())
    if not match:
        raise ValueError(text)
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1, pre or ""


def minikube_version_check(version: str, argv: list[str]) -> int:
    """What `minikube start --kubernetes-version` does before creating anything (cmd/minikube/cmd/start.go,
    validateKubernetesVersion, v1.38.1). Offline, a version newer than the newest and not in the built-in
    list makes minikube ask GitHub for the tag (cmd/minikube/cmd/config/kubernetes_version.go,
    IsInGitHubKubernetesVersions) and exit via exit.Error(reason.KubernetesNotConnect, ...): code 40
    (ExInternetError, pkg/minikube/reason/exitcodes.go; K8S_FAIL_CONNECT in reason.go). A DNS failure
    would instead match the known issue INET_LOOKUP_HOST (code 48); this fake answers like an
    unreachable network. Too old: K8S_OLD_UNSUPPORTED, code 106. `--force` turns both into warnings.
    Messages use minikube's low-fi prefixes ("! " warning, "* " styled, "X " failure) on stderr."""
    limits = MINIKUBE_KUBERNETES.get(os.environ.get("NETFENCE_FAKE_MINIKUBE_VERSION", "1.38.1"))
    if limits is None:
        return 0
    forced = "--force" in argv
    nvs = version.strip().lower().removeprefix("v")
    try:
        wanted = _semver(nvs)
    except ValueError:
        # reason.Usage (MK_USAGE) exits with ExProgramUsage, 14; the error text is blang/semver's.
        return fail(f'X Exiting due to MK_USAGE: Unable to parse "{nvs}": No Major.Minor.Patch elements found', 14)
    if wanted > _semver(limits["newest"]):
        sys.stderr.write(f"! Specified Kubernetes version {nvs} is newer than the newest supported version: "
                         f"v{limits['newest']}. Use `minikube config defaults kubernetes-version` for details.\n")
        if nvs not in limits["listed_newer"]:
            sys.stderr.write(f"! Specified Kubernetes version {nvs} not found in Kubernetes version list\n"
                             "* Searching the internet for Kubernetes version...\n")
            if not forced:
                return fail("X Exiting due to K8S_FAIL_CONNECT: error fetching Kubernetes version list from GitHub: "
                            f'Get "https://api.github.com/repos/kubernetes/kubernetes/releases/tags/v{nvs}": '
                            "dial tcp: connect: network is unreachable", 40)
    if wanted < _semver(limits["oldest"]):
        sys.stderr.write(f"! Specified Kubernetes version {nvs} is less than the oldest supported version: "
                         f"v{limits['oldest']}. Use `minikube config defaults kubernetes-version` for details.\n")
        if not forced:
            sys.stderr.write("! You can force an unsupported Kubernetes version via the --force flag\n")
            return fail(f"X Exiting due to K8S_OLD_UNSUPPORTED: Kubernetes {nvs} is not supported by this "
                        "release of minikube", 106)
    return 0


def minikube(argv: list[str]) -> int:
    state = load()
    if argv[:1] == ["version"]:
        print("v" + os.environ.get("NETFENCE_FAKE_MINIKUBE_VERSION", "1.38.1"))
        return 0
    if argv[:2] == ["profile", "list"]:
        print(json.dumps({"invalid": [], "valid": [{"Name": n, "Status": "OK"} for n in sorted(state["minikube"])]}))
        return 0
    name = opt(argv, "--profile", "-p") or "minikube"
    if argv[:1] == ["start"]:
        rc = minikube_version_check(opt(argv, "--kubernetes-version") or "v1.35.1", argv)
        if rc:
            return rc
        state["minikube"][name] = {"argv": argv, "uid": str(uuid.uuid4())}
        save(state)
        write_kubeconfig(os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config"), name)
        return 0
    if argv[:1] == ["delete"]:
        state["minikube"].pop(name, None)
        save(state)
        return 0
    return fail(f"fake minikube: unsupported {argv}")


DAEMONSETS = {
    "calico": [("calico-system", "calico-node"), ("kube-system", "kube-proxy")],
    "cilium": [("kube-system", "cilium"), ("kube-system", "kube-proxy")],
    "kindnet": [("kube-system", "kindnet"), ("kube-system", "kube-proxy")],
    "flannel": [("kube-flannel", "kube-flannel-ds"), ("kube-system", "kube-proxy")],
    "none": [("kube-system", "kube-proxy")],
}


# What `minikube start --cni=calico` deploys, as minikube v1.38.1 declares it (kubernetes/minikube tag
# v1.38.1, pkg/minikube/cni/calico.yaml, DaemonSet kube-system/calico-node, container calico-node:
# `image: quay.io/calico/node:v3.31.3`, env CALICO_IPV4POOL_IPIP "Always", CALICO_IPV4POOL_VXLAN "Never").
MINIKUBE_CALICO_NODE = {
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "calico-node", "namespace": "kube-system"},
    "spec": {"template": {"spec": {
        "initContainers": [{"name": "install-cni", "image": "quay.io/calico/cni:v3.31.3"}],
        "containers": [{"name": "calico-node", "image": "quay.io/calico/node:v3.31.3", "env": [
            {"name": "CALICO_IPV4POOL_IPIP", "value": "Always"},
            {"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
            {"name": "CALICO_IPV6POOL_VXLAN", "value": "Never"}]}]}}},
}
# The pool calico-node creates from that env on first start (the manifest leaves CALICO_IPV4POOL_CIDR
# commented out; minikube's pod CIDR for Calico is 10.244.0.0/16).
MINIKUBE_CALICO_IPPOOLS = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPoolList", "items": [
    {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "default-ipv4-ippool"},
     "spec": {"cidr": "10.244.0.0/16", "ipipMode": "Always", "vxlanMode": "Never", "natOutgoing": True,
              "nodeSelector": "all()", "blockSize": 26}}]}


def _documents(path: Path) -> list[str]:
    return re.split(r"(?m)^---\s*$", path.read_text(encoding="utf-8")) if path.is_file() else []


def _namespaces_created(path: Path) -> list[str]:
    """Names of the Namespace objects a manifest file declares (line-based: the fakes need no PyYAML)."""
    names = []
    for doc in _documents(path):
        if re.search(r"(?m)^kind:\s*Namespace\s*$", doc) and (m := re.search(r"(?m)^\s+name:\s*(\S+)", doc)):
            names.append(m.group(1).strip("'\""))
    return names


def _namespaced_in(path: Path) -> list[str]:
    """The namespace of every namespaced object in a manifest file, once per object."""
    return [m.group(1).strip("'\"") for doc in _documents(path)
            if not re.search(r"(?m)^kind:\s*Namespace\s*$", doc) and (m := re.search(r"(?m)^\s+namespace:\s*(\S+)", doc))]


def kubectl(argv: list[str]) -> int:
    state = load()
    # drop the global flags (and their values) that may come before the verb
    cleaned: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("--kubeconfig", "--context", "--namespace", "-n", "--request-timeout") and i + 1 < len(argv):
            skip = True
            continue
        if arg.startswith(("--kubeconfig=", "--context=", "--namespace=")):
            continue
        cleaned.append(arg)
    args = cleaned
    if args[:1] == ["version"]:
        version = os.environ.get("NETFENCE_FAKE_KUBECTL_VERSION", "1.35.8")
        if "json" in args:
            print(json.dumps({"clientVersion": {"gitVersion": f"v{version}", "platform": "linux/amd64"}}))
        else:
            print(f"Client Version: v{version}\nKustomize Version: v5.7.1")
        return 0
    if args[:2] == ["config", "current-context"]:
        path = opt(argv, "--kubeconfig") or os.environ.get("KUBECONFIG", "")
        if not path or not Path(path).exists():
            return fail(f'error: stat {path}: no such file or directory')
        for line in Path(path).read_text().splitlines():
            if line.startswith("current-context:"):
                print(line.split(":", 1)[1].strip())
                return 0
        return fail("error: current-context is not set")
    if args[:1] in (["diff"], ["apply"], ["create"]):
        files = [argv[i + 1] for i, a in enumerate(argv) if a == "-f" and i + 1 < len(argv)]
        digests = [hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in files]
        known = state.setdefault("namespaces", [])
        declared = [ns for f in files for ns in _namespaces_created(Path(f))]
        if args[0] == "diff":
            # like kubectl v1.35: objects of a Namespace the same file creates cannot be dry-run
            # before it exists; kubectl prints one NotFound per object and exits 2 (kubernetes#114141)
            missing = [ns for f in files for ns in _namespaced_in(Path(f)) if ns in declared and ns not in known]
            if missing:
                for ns in missing:
                    print(f'Error from server (NotFound): namespaces "{ns}" not found', file=sys.stderr)
                return 2
            new = [d for d in digests if d not in state["applied"]]
            if new:
                print(f"diff -N -q LIVE MERGED: {len(new)} object file(s) differ")
            return 1 if new else 0
        known.extend(ns for ns in declared if ns not in known)
        for d in digests:
            if d not in state["applied"]:
                state["applied"].append(d)
        save(state)
        for f in files:
            print(f"{Path(f).name} serverside-applied")
        return 0
    if args[:3] in (["get", "namespace", "kube-system"], ["get", "ns", "kube-system"]):
        path = opt(argv, "--kubeconfig") or os.environ.get("KUBECONFIG", "")
        context = next((line.split(":", 1)[1].strip() for line in Path(path).read_text().splitlines()
                        if line.startswith("current-context:")), "") if path and Path(path).exists() else ""
        context = opt(argv, "--context") or context
        cluster = state["kind"].get(context.removeprefix("kind-")) if context.startswith("kind-") else state["minikube"].get(context)
        if not cluster:
            # what kubectl prints when nothing listens at the kubeconfig's server (a deleted cluster)
            return fail("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?")
        print(cluster.get("uid", ""), end="")
        return 0
    if args[:3] == ["get", "tigerastatus", "calico"]:
        state["counts"]["tigerastatus"] = state["counts"].get("tigerastatus", 0) + 1
        save(state)
        if os.environ.get("NETFENCE_FAKE_CALICO", "ready") == "never":
            print("False")
            return 0
        print("True")
        return 0
    if args[:1] == ["wait"] or args[:2] == ["rollout", "status"]:
        print("condition met")
        return 0
    if args[:2] == ["get", "pods"]:
        print("NAMESPACE       NAME                      READY   STATUS              RESTARTS   AGE")
        print("calico-system   calico-node-x7k2p         0/1     Running             3          5m")
        print("kube-system     coredns-5d78c9869d-abcde  0/1     ContainerCreating   0          5m")
        return 0
    if args[:2] == ["get", "events"]:
        print("LAST SEEN   TYPE      REASON      OBJECT                  MESSAGE")
        print("30s         Warning   Unhealthy   pod/calico-node-x7k2p   Readiness probe failed: calico/node is not ready")
        return 0
    minikube_calico = bool(state["minikube"]) and os.environ.get("NETFENCE_FAKE_CNI", "calico") == "calico"
    if args[:3] == ["get", "daemonset", "calico-node"] and opt(argv, "--namespace", "-n") == "kube-system":
        if not minikube_calico:
            return fail('Error from server (NotFound): daemonsets.apps "calico-node" not found')
        print(json.dumps(MINIKUBE_CALICO_NODE))
        return 0
    if args[:2] == ["get", "ippools.crd.projectcalico.org"]:
        if not minikube_calico:
            return fail('error: the server doesn\'t have a resource type "ippools"')
        print(json.dumps(MINIKUBE_CALICO_IPPOOLS))
        return 0
    if args[:2] in (["get", "daemonsets"], ["get", "ds"]):
        cni = os.environ.get("NETFENCE_FAKE_CNI", "calico")
        items = [{"metadata": {"namespace": ns, "name": n}} for ns, n in DAEMONSETS[cni]]
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        return 0
    return fail(f"fake kubectl: unsupported {argv}")


def main() -> int:
    tool = Path(sys.argv[0]).name
    argv = sys.argv[1:]
    record(tool, argv)
    handlers = {"docker": docker, "kind": kind, "minikube": minikube, "kubectl": kubectl}
    if tool not in handlers:
        return fail(f"fake_tool: unknown tool name {tool!r}")
    return handlers[tool](argv)


if __name__ == "__main__":
    sys.exit(main())
