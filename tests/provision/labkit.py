"""Helpers for the provisioning tests: a throw-away lab: fake tools, a local download server, an inventory.

Nothing here reaches Docker, a cluster or the internet. ``tests/fakes/fake_tool.py`` stands in for
docker, kind, minikube and kubectl (first on PATH, and served by a local HTTP server so that the
toolchain role downloads and checksum-verifies it like the real binaries). Each playbook run goes
through ``ansible-playbook`` in a subprocess with the JSON callback, so tests read exact results.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
FAKE_TOOL = REPO / "tests" / "fakes" / "fake_tool.py"
FAKES_BIN = REPO / "tests" / "fakes" / "bin"

KIND_VERSION = "0.33.0"
MINIKUBE_VERSION = "1.38.1"
KUBECTL_VERSION = "1.35.8"
CALICO_VERSION = "3.31.7"


def inventory_vars(env: str, name: str = "cluster.yml") -> dict[str, Any]:
    """One group_vars file of a shipped inventory (inventories/<env>/group_vars/all/<name>)."""
    return yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / name).read_text())


def role_defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())

FAKE_MANIFESTS = {
    "operator-crds.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: installations.operator.tigera.io\n",
    # like the real file: the Namespace, then objects inside it (kubectl diff cannot dry-run those first)
    "tigera-operator.yaml": ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tigera-operator\n---\n"
                             "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: tigera-operator\n  namespace: tigera-operator\n"),
    "calico.yaml": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: calico-node\n  namespace: kube-system\n",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_webroot(root: Path) -> None:
    """Lay out downloads the way kind, Minikube, dl.k8s.io and raw.githubusercontent.com do."""
    binary = FAKE_TOOL.read_bytes()
    kind = root / "kind" / f"v{KIND_VERSION}" / "kind-linux-amd64"
    mini = root / "minikube" / f"v{MINIKUBE_VERSION}" / "minikube-linux-amd64"
    kubectl = root / "k8s" / f"v{KUBECTL_VERSION}" / "bin" / "linux" / "amd64" / "kubectl"
    for path in (kind, mini, kubectl):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(binary)
    # kind: `shasum -a 256 <file>` output; minikube and dl.k8s.io: the bare hex digest.
    kind.with_name(kind.name + ".sha256sum").write_text(f"{sha256(binary)}  {kind.name}\n")
    mini.with_name(mini.name + ".sha256").write_text(sha256(binary) + "\n")
    kubectl.with_name("kubectl.sha256").write_text(sha256(binary))
    manifests = root / "calico" / f"v{CALICO_VERSION}" / "manifests"
    manifests.mkdir(parents=True)
    for name, text in FAKE_MANIFESTS.items():
        (manifests / name).write_text(text)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None

    def tasks(self) -> list[dict[str, Any]]:
        """Every task result: {name, path, changed, failed, skipped, msg, res}."""
        out = []
        for play in (self.result or {}).get("plays", []):
            for task in play.get("tasks", []):
                for res in task.get("hosts", {}).values():
                    out.append({
                        "name": task["task"]["name"],
                        "path": task["task"].get("path", ""),
                        "changed": bool(res.get("changed")),
                        "failed": bool(res.get("failed")),
                        "skipped": bool(res.get("skipped")),
                        "msg": str(res.get("msg", "")),
                        "res": res,
                    })
        return out

    def changed_in(self, role: str) -> list[str]:
        return [t["name"] for t in self.tasks() if t["changed"] and f"/roles/{role}/" in t["path"]]

    def failure(self) -> str:
        return "\n".join(t["msg"] for t in self.tasks() if t["failed"])


@dataclass
class Lab:
    """One throw-away environment: inventory, fake state, call log, proc fixture."""

    root: Path
    base_url: str
    env: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.root / "calls.jsonl"

    @property
    def state_dir(self) -> Path:
        return self.root / "fake-state"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def kubeconfig(self) -> Path:
        return self.cache_dir / "kubeconfig-lab"

    def calls(self, tool: str | None = None) -> list[list[str]]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [[r["tool"], *r["argv"]] for r in rows if tool is None or r["tool"] == tool]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def state(self) -> dict[str, Any]:
        path = self.state_dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {"kind": {}, "minikube": {}, "applied": []}

    def save_state(self, state: dict[str, Any]) -> None:
        """Change the fakes' world behind netfence's back (a cluster replaced outside netfence, say)."""
        (self.state_dir / "state.json").write_text(json.dumps(state))

    def write_inventory(self, **overrides: Any) -> Path:
        inv = self.root / "inventory"
        gv = inv / "group_vars" / "all"
        gv.mkdir(parents=True, exist_ok=True)
        (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        values: dict[str, Any] = {
            "netfence_cluster_name": "lab",
            "netfence_provider": "kind",
            "netfence_kubernetes_version": f"v{KUBECTL_VERSION}",
            "netfence_pod_subnet": "192.168.0.0/16",
            "netfence_service_subnet": "10.96.0.0/12",
            "netfence_kubeconfig": str(self.kubeconfig),
            "netfence_kube_context": "kind-lab",
            "netfence_evidence_dir": str(self.root / "evidence"),
            "netfence_bin_dir": str(self.bin_dir),
            "netfence_cache_dir": str(self.cache_dir),
            "netfence_calico_version": f"v{CALICO_VERSION}",
            "netfence_calico_install_method": "operator",
            "netfence_calico_encapsulation": "VXLAN",
            "netfence_namespaces": [
                {"name": "dev", "labels": {"env": "dev"}, "workloads": [
                    {"name": "my-api", "labels": {"app": "my-api", "env": "dev"},
                     "image": "registry.k8s.io/e2e-test-images/agnhost:2.52",
                     "container_port": 3000, "service_port": 80, "port_name": "http",
                     "protocol": "TCP", "replicas": 1}]},
                {"name": "monitoring", "labels": {"purpose": "monitoring"}, "workloads": [
                    {"name": "scraper", "labels": {"app": "scraper"}, "container_port": 8080,
                     "port_name": "http", "protocol": "TCP", "replicas": 1}]},
            ],
        }
        values.update(overrides)
        (gv / "all.yml").write_text(yaml.safe_dump(values, sort_keys=True))
        return inv

    def run(self, playbook: str, *args: str, check: bool = False, callback: str = "ansible.posix.json",
            env: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> Run:
        """Run a playbook of this repository against the lab inventory."""
        inv = self.root / "inventory"
        if not inv.exists():
            self.write_inventory()
        variables = {**self.extra, **(extra or {})}
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv),
               str(REPO / "playbooks" / playbook), "-e", json.dumps(variables), *args]
        if check:
            cmd.append("--check")
        run_env = {**self.env, "ANSIBLE_STDOUT_CALLBACK": callback, **(env or {})}
        proc = subprocess.run(cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=300)
        result = None
        if callback == "ansible.posix.json":
            start = proc.stdout.find("{")
            result = json.loads(proc.stdout[start:]) if start >= 0 else None
        return Run(proc.returncode, proc.stdout, proc.stderr, result)


def fake_path(root: Path, tools: tuple[str, ...] = ("docker", "kind", "minikube", "kubectl")) -> str:
    """PATH with the chosen fake tools first, then the venv, then only system folders.

    /usr/local/bin is left out on purpose: a real docker CLI may live there.
    """
    fake_bin = root / "fake-bin"
    fake_bin.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        link = fake_bin / tool
        if not link.exists():
            link.symlink_to(FAKE_TOOL)
    return os.pathsep.join([str(fake_bin), str(Path(sys.executable).parent), "/usr/bin", "/bin"])


def new_lab(tmp_path: Path, base_url: str, ansible_env: dict[str, str]) -> Lab:
    """A fresh lab under ``tmp_path`` whose downloads come from ``base_url``."""
    proc = tmp_path / "proc" / "sys" / "fs" / "inotify"
    proc.mkdir(parents=True)
    (proc / "max_user_watches").write_text("524288\n")
    (proc / "max_user_instances").write_text("512\n")
    env = dict(ansible_env)
    env.update({
        "PATH": fake_path(tmp_path),
        "NETFENCE_FAKE_LOG": str(tmp_path / "calls.jsonl"),
        "NETFENCE_FAKE_STATE": str(tmp_path / "fake-state"),
        "HOME": str(tmp_path / "home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_JSON_INDENT": "0",
        "ANSIBLE_PIPELINING": "1",
    })
    extra = {
        "netfence_gather_facts": False,
        "preflight_proc_dir": str(tmp_path / "proc"),
        "preflight_host_networks": ["203.0.113.0/24"],
        "toolchain_os": "linux",
        "toolchain_arch": "amd64",
        "toolchain_kind_base_url": f"{base_url}/kind",
        "toolchain_minikube_base_url": f"{base_url}/minikube",
        "toolchain_kubectl_base_url": f"{base_url}/k8s",
        "toolchain_kubectl_checksums": {},
        "calico_manifest_base_url": f"{base_url}/calico/v{CALICO_VERSION}/manifests",
        # the fake manifests are not Calico's: the lab supplies their sums, as an inventory may
        "calico_manifest_checksums": {name: f"sha256:{sha256(text.encode())}" for name, text in FAKE_MANIFESTS.items()},
        "calico_wait_retries": 2,
        "calico_wait_delay": 0,
        "workloads_apply": False,
    }
    return Lab(root=tmp_path, base_url=base_url, env=env, extra=extra)


def copy_fake(dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FAKE_TOOL, dest)
    dest.chmod(0o755)


def seed_cluster(lab: Lab, provider: str = "kind", name: str = "lab") -> None:
    """Pretend earlier stages ran: the fake tools sit in the bin folder and a cluster exists."""
    for tool in ("kind", "kubectl", "minikube"):
        copy_fake(lab.bin_dir / tool)
    state = {"kind": {}, "minikube": {}, "applied": [], "counts": {}}
    state[provider if provider in ("kind", "minikube") else "kind"][name] = {"config": None}
    lab.state_dir.mkdir(parents=True, exist_ok=True)
    (lab.state_dir / "state.json").write_text(json.dumps(state))
    context = f"kind-{name}" if provider == "kind" else name
    lab.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    lab.kubeconfig.write_text(f"apiVersion: v1\nkind: Config\ncurrent-context: {context}\n")
