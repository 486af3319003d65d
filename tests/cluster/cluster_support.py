"""Helpers for the cluster-facing tests: manifests, running ansible-playbook, reading its JSON output.

A module with a unique name (not conftest) so test modules can import it unambiguously.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import yaml

REPO = Path(__file__).resolve().parents[2]
MANAGED = {"app.kubernetes.io/managed-by": "netfence"}


def netpol(ns: str, name: str, spec: dict, labels: dict | None = None) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "labels": dict(MANAGED if labels is None else labels)}, "spec": spec}


DENY_INGRESS = {"podSelector": {}, "policyTypes": ["Ingress"]}
DENY_EGRESS = {"podSelector": {}, "policyTypes": ["Egress"]}
DNS_EGRESS = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}


def write_kubeconfig(path: Path, server: str, context: str = "kind-netfence-test") -> Path:
    """A kubeconfig whose one context points at ``server`` (a double, a closed port, a silent one)."""
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "double", "cluster": {"server": server}}],
        "users": [{"name": "double", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": context, "context": {"cluster": "double", "user": "double"}}],
    }))
    return path


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (connections are refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """An http URL on loopback that accepts TCP connections and never answers (a half-open API)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()


def write_manifests(run_dir: Path, policies: list[dict]) -> None:
    by_ns: dict[str, list[dict]] = {}
    for pol in policies:
        by_ns.setdefault(pol["metadata"]["namespace"], []).append(pol)
    for ns, pols in by_ns.items():
        (run_dir / "manifests" / f"{ns}.yaml").write_text("# rendered by netfence\n" + "".join("---\n" + yaml.safe_dump(p) for p in pols))
    from netfence.evidence import runs as evidence

    evidence.seal(run_dir, finished="plan")  # as the plan stage leaves an open run: every file listed


class Playbook:
    """Runs the real ansible-playbook with the json callback and returns (rc, parsed output, stderr)."""

    def __init__(self, tmp_path: Path, kubeconfig: Path | None) -> None:
        self.tmp_path = tmp_path
        self.kubeconfig = kubeconfig
        inv = tmp_path / "inventory"
        (inv / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.inventory = inv

    def run(self, playbook: str, extra: dict, *args: str, timeout: float = 120) -> tuple[int, dict, str]:
        base = {"netfence_cluster_name": "netfence-test", "netfence_kube_context": "kind-netfence-test",
                "netfence_evidence_dir": str(self.tmp_path / "evidence"), "netfence_namespaces": []}
        if self.kubeconfig is not None:
            base["netfence_kubeconfig"] = str(self.kubeconfig)
        extra_file = self.tmp_path / f"extra-{len(list(self.tmp_path.glob('extra-*')))}.json"
        extra_file.write_text(json.dumps({**base, **extra}))
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
               "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOCAL_TEMP": str(self.tmp_path / "ansible-tmp"),
               "TMPDIR": str(self.tmp_path), "ANSIBLE_PIPELINING": "1", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(self.inventory / "hosts.yml"), str(REPO / "playbooks" / playbook),
             "-e", f"@{extra_file}", *args],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
        self.stdout = proc.stdout  # with what was displayed live (progress lines) ahead of the json
        try:
            out = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            out = {"raw": proc.stdout}
        return proc.returncode, out, proc.stderr


def task_results(out: dict, name: str) -> list[dict]:
    """Host results of every task whose name contains ``name``."""
    found = []
    for play in out.get("plays", []):
        for task in play.get("tasks", []):
            if name in task["task"]["name"]:
                found.extend(task["hosts"].values())
    return found


def failure_messages(out: dict) -> str:
    msgs = []
    for play in out.get("plays", []):
        for task in play.get("tasks", []):
            for res in task["hosts"].values():
                if res.get("failed"):
                    msgs.append(str(res.get("msg", "")))
                for item in res.get("results", []) or []:
                    if isinstance(item, dict) and (item.get("failed") or "exception" in item):
                        msgs.append(str(item.get("msg", "")) + " " + json.dumps(item.get("error", item.get("reason", "")), default=str))
    return "\n".join(msgs)
