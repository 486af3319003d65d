"""Workload manifests: Service 80 -> named container port, pinned images, labels, /health probe."""

from __future__ import annotations

import yaml

from labkit import Lab

AGNHOST_252 = ("registry.k8s.io/e2e-test-images/agnhost:2.52"
               "@sha256:b173c7d0ffe3d805d49f4dfe48375169b7b8d2e1feb81783efd61eb9d08042e6")
AGNHOST_DEFAULT = ("registry.k8s.io/e2e-test-images/agnhost:2.63.0"
                   "@sha256:a62f40481e05709988fe44e5035b2e0f553cd52bf0ae4e83614928255b00e8c1")


def test_rendered_workloads_match_the_reference_scenario(lab: Lab) -> None:
    run = lab.run("provision.yml", "--tags", "workloads")
    assert run.rc == 0, run.failure()
    folder = lab.cache_dir / "workloads" / "lab"
    dev = {d["kind"]: d for d in yaml.safe_load_all((folder / "dev.yaml").read_text()) if d}
    deploy, svc = dev["Deployment"], dev["Service"]
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == AGNHOST_252
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert container["args"] == ["netexec", "--http-port=3000", "--http-override=/healthz"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app"] == "my-api" and pod_labels["env"] == "dev"
    for obj in (deploy, svc):
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "netfence"
    assert set(svc["spec"]["selector"].items()) <= set(pod_labels.items())
    monitoring = [d for d in yaml.safe_load_all((folder / "monitoring.yaml").read_text()) if d]
    assert [d["kind"] for d in monitoring] == ["Deployment"]  # no service_port, no Service
    assert monitoring[0]["spec"]["template"]["spec"]["containers"][0]["image"] == AGNHOST_DEFAULT
    again = lab.run("provision.yml", "--tags", "workloads")
    assert again.changed_in("workloads") == []
