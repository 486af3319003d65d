"""Preflight: every failure says what is wrong and how to fix it, before anything is created."""

from __future__ import annotations

import socket

from labkit import Lab, fake_path, inventory_vars, role_defaults


def run_preflight(lab: Lab, **extra: object) -> str:
    run = lab.run("provision.yml", "--tags", "preflight", extra=dict(extra))
    assert run.rc != 0, "preflight should have failed"
    assert not [c for c in lab.calls() if c[0] in ("kind", "minikube", "kubectl")]
    return run.failure()


def test_docker_daemon_down_stops_before_any_cluster_tool(lab: Lab) -> None:
    lab.env["NETFENCE_FAKE_DOCKER"] = "down"
    msg = run_preflight(lab)
    assert "The docker daemon is not reachable: Cannot connect to the Docker daemon" in msg
    assert "Fix: start the daemon" in msg
    assert lab.calls() == [["docker", "info"]]  # nothing after the failed check
    assert "no cluster was created." in msg and "offline plan" not in msg  # no plan ran before this preflight


def test_docker_daemon_down_after_the_plan_names_what_was_written(lab: Lab) -> None:
    lab.env["NETFENCE_FAKE_DOCKER"] = "down"
    msg = run_preflight(lab, netfence_run_dir="/evidence/lab/20261202T000000Z-abcdef")
    assert "no cluster was created (only the offline plan was written, to /evidence/lab/20261202T000000Z-abcdef)" in msg


def test_docker_not_installed_says_how_to_install_it(lab: Lab) -> None:
    lab.env["PATH"] = fake_path(lab.root / "no-docker", tools=("kind", "kubectl"))
    msg = run_preflight(lab)
    assert "'docker' is not installed (not found on PATH)" in msg
    assert "install Docker Engine" in msg


def test_low_inotify_limits_name_both_values_and_the_sysctl_fix(lab: Lab) -> None:
    inotify = lab.root / "proc" / "sys" / "fs" / "inotify"
    (inotify / "max_user_watches").write_text("8192\n")
    (inotify / "max_user_instances").write_text("128\n")
    msg = run_preflight(lab)
    assert "fs.inotify.max_user_watches = 8192 (needs >= 524288)" in msg
    assert "fs.inotify.max_user_instances = 128 (needs >= 512)" in msg
    assert "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512" in msg


def test_pod_subnet_overlapping_a_host_network_is_refused(lab: Lab) -> None:
    msg = run_preflight(lab, preflight_host_networks=["192.168.1.0/24", "203.0.113.0/24"])
    assert "netfence_pod_subnet 192.168.0.0/16 overlaps the host network(s) 192.168.1.0/24" in msg
    assert "set netfence_pod_subnet" in msg


def test_invalid_and_overlapping_subnets_are_refused(lab: Lab) -> None:
    lab.write_inventory(netfence_service_subnet="10.96.0.1/12")
    msg = run_preflight(lab)
    assert "netfence_service_subnet: '10.96.0.1/12' is not a network" in msg
    lab.write_inventory(netfence_service_subnet="192.168.128.0/17")
    msg = run_preflight(lab)
    assert "overlaps netfence_service_subnet 192.168.128.0/17" in msg


def test_busy_api_server_port_is_refused(lab: Lab) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        lab.write_inventory(netfence_api_server_port=port)
        msg = run_preflight(lab)
    assert f"Port(s) {port} on 127.0.0.1 are already in use" in msg


def test_existing_cluster_with_another_current_context_is_refused(lab: Lab) -> None:
    kubeconfig = lab.root / "user-kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod-eu\n")
    lab.write_inventory(netfence_provider="existing", netfence_kubeconfig=str(kubeconfig),
                        netfence_kube_context="staging")
    run = lab.run("provision.yml", "--tags", "preflight")
    assert run.rc != 0
    msg = run.failure()
    assert f"The kubeconfig {kubeconfig} points at context 'prod-eu', but the inventory names 'staging'" in msg
    assert "kubectl config use-context staging" in msg
    assert ["kubectl", "config", "current-context", "--kubeconfig", str(kubeconfig)] in lab.calls()
    assert not [c for c in lab.calls() if c[0] == "docker"]


def test_all_checks_pass_on_a_good_machine(lab: Lab) -> None:
    run = lab.run("provision.yml", "--tags", "preflight")
    assert run.rc == 0, run.failure()
    assert [t["name"] for t in run.tasks() if t["failed"]] == []


MINIKUBE = {"netfence_provider": "minikube", "netfence_cluster_name": "mk", "netfence_kube_context": "mk",
            "netfence_pod_subnet": "10.244.0.0/16"}


def test_minikube_refuses_a_kubernetes_version_newer_than_the_pinned_minikube_supports(lab: Lab) -> None:
    # minikube 1.38.1 would ask GitHub for v1.35.8 and, offline, exit 40 (K8S_FAIL_CONNECT)
    lab.write_inventory(**MINIKUBE, netfence_kubernetes_version="v1.35.8")
    msg = run_preflight(lab)
    assert ("minikube 1.38.1 runs Kubernetes v1.28.0 to v1.35.1 without asking GitHub, "
            "but the version to start is v1.35.8") in msg
    assert "Fix: set netfence_kubernetes_version to a version in that range, e.g. v1.35.1" in msg
    assert lab.calls() == []  # refused before docker, the toolchain or minikube ran


def test_minikube_refuses_a_kubernetes_version_older_than_the_pinned_minikube_supports(lab: Lab) -> None:
    lab.write_inventory(**MINIKUBE, netfence_kubernetes_version="v1.27.16")
    msg = run_preflight(lab)
    assert "runs Kubernetes v1.28.0 to v1.35.1 without asking GitHub, but the version to start is v1.27.16" in msg


def test_minikube_names_the_role_variable_when_that_one_is_set(lab: Lab) -> None:
    lab.write_inventory(**MINIKUBE, netfence_kubernetes_version="v1.35.1",
                        cluster_minikube_kubernetes_version="v1.36.0")
    msg = run_preflight(lab)
    assert "the version to start is v1.36.0" in msg
    assert "Fix: set cluster_minikube_kubernetes_version to a version in that range" in msg


def test_minikube_refuses_a_version_it_cannot_compare(lab: Lab) -> None:
    lab.write_inventory(**MINIKUBE, netfence_kubernetes_version="latest")
    msg = run_preflight(lab)
    assert "netfence_kubernetes_version 'latest' is not a Kubernetes version like v1.35.1" in msg


def test_minikube_inventory_version_passes_preflight(lab: Lab) -> None:
    version = inventory_vars("minikube")["netfence_kubernetes_version"]
    lab.write_inventory(**MINIKUBE, netfence_kubernetes_version=version)
    run = lab.run("provision.yml", "--tags", "preflight")
    assert run.rc == 0, run.failure()
    assert not [c for c in lab.calls() if c[0] in ("kind", "minikube", "kubectl")]


def test_the_minikube_range_covers_the_pinned_minikube_and_the_minikube_inventory() -> None:
    pinned = role_defaults("toolchain")["toolchain_minikube_version"]
    limits = role_defaults("preflight")["preflight_minikube_kubernetes_versions"][pinned]
    # the shipped minikube inventory runs the pinned minikube's own default version
    assert inventory_vars("minikube")["netfence_kubernetes_version"] == limits["default"]
