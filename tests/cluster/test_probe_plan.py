"""Planning probes and probe pods from inventory, predicted matrix and discovered Services."""

from __future__ import annotations

import pytest

from netfence.errors import NetfenceError
from netfence.probes import plan

NAMESPACES = [
    {"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "dev"}}]},
    {"name": "prod", "workloads": [{"name": "my-api", "labels": {"app": "my-api", "env": "prod"}}]},
    {"name": "monitoring", "workloads": [{"name": "scraper", "labels": {"app": "scraper"}}]},
]


def test_probe_pod_stands_in_for_the_workload_and_can_never_serve():
    src = plan.Source.of("dev", {"app": "my-api", "env": "dev"}, "my-api")
    pod = plan.probe_pod(src, run_id="20261126T110500Z-abc123", image="registry.example/agnhost:2.63.0")
    assert pod["metadata"]["labels"] == {"app": "my-api", "env": "dev", "app.kubernetes.io/managed-by": "netfence", "netfence.io/role": "probe"}
    assert pod["metadata"]["namespace"] == "dev" and len(pod["metadata"]["name"]) <= 63
    [container] = pod["spec"]["containers"]
    assert "ports" not in container
    assert container["readinessProbe"]["exec"]["command"] == ["false"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] and sc["runAsUser"] == 65534 and sc["readOnlyRootFilesystem"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert container["image"] == "registry.example/agnhost:2.63.0"


def test_pod_names_are_per_identity_and_per_run():
    a = plan.Source.of("dev", {"app": "x"})
    assert a.pod_name("r1") == plan.Source.of("dev", {"app": "x"}, "other-name").pod_name("r1")
    assert a.pod_name("r1") != a.pod_name("r2")
    assert a.pod_name("r1", "before") != a.pod_name("r1", "after")  # a terminating before-pod never blocks the after round
    assert a.pod_name("r1") != plan.Source.of("prod", {"app": "x"}).pod_name("r1")


def test_inventory_targets():
    probes = [
        {"name": "svc", "from": {"namespace": "monitoring", "workload": "scraper"}, "to": {"service": "dev/my-api"}, "port": 80},
        {"name": "pod", "from": {"namespace": "monitoring", "workload": "scraper"}, "to": {"pod": "prod/my-api"}, "port": 3000},
        {"name": "api", "from": {"namespace": "dev", "labels": {}}, "to": {"api": True}},
        {"name": "dns", "from": {"namespace": "dev", "labels": {}}, "to": {"dns": True}},
        {"name": "net", "from": {"namespace": "dev", "labels": {}}, "to": {"external": "1.1.1.1"}, "method": "http"},
    ]
    specs = {s.name: s for s in plan.from_inventory(probes, NAMESPACES, domain="example.local")}
    assert specs["svc"].target.host == "my-api.dev.svc.example.local"
    assert dict(specs["pod"].target.selector) == {"app": "my-api", "env": "prod", "app.kubernetes.io/name": "my-api"}
    assert (specs["api"].port, specs["api"].target.host) == (443, "kubernetes.default.svc.example.local")
    assert (specs["dns"].port, specs["dns"].protocol) == (53, "UDP")
    assert specs["net"].method == "http"
    assert len(plan.sources(specs.values())) == 2  # scraper, and the unlabelled pod in dev


@pytest.mark.parametrize(("probe", "message"), [
    ({"name": "a", "from": {"namespace": "dev", "workload": "nope"}, "to": {"api": True}}, r"netfence_probes\[0\].from.workload 'dev/nope'"),
    ({"name": "a", "from": {"namespace": "dev"}, "to": {"api": True}}, r"needs a workload or a labels"),
    ({"name": "a", "from": {"namespace": "dev", "labels": {}}, "to": {"service": "my-api"}}, r"to.service must be 'namespace/name'"),
    ({"name": "a", "from": {"namespace": "dev", "labels": {}}, "to": {"api": True, "dns": True}}, r"exactly one"),
    ({"name": "a", "from": {"namespace": "dev", "labels": {}}, "to": {"service": "dev/x"}}, r"port must be a number"),
    ({"name": "a", "from": {"namespace": "dev", "labels": {}}, "to": {"api": True}, "expect": {"after": "maybe"}}, r"expect.after"),
    ({"name": "a", "from": {"namespace": "dev", "labels": {}}, "to": {"service": "dev/x"}, "port": 53, "protocol": "UDP"}, r"only DNS"),
])
def test_bad_inventory_probes_name_the_path(probe, message):
    with pytest.raises(NetfenceError, match=message):
        plan.from_inventory([probe], NAMESPACES)


def test_predicted_matrix_expects_the_prediction_after_policies_only():
    rows = [
        {"from": "monitoring/scraper", "to": "dev/my-api", "port": 3000, "protocol": "TCP", "allowed": True},
        {"from": "dev/my-api", "to": "prod/my-api", "port": 3000, "protocol": "TCP", "allowed": False},
        {"from": "dev/my-api", "to": "dev/my-api", "port": 3000, "protocol": "TCP", "allowed": True},
        {"from": "dev/my-api", "to": "kube-system/coredns", "port": 53, "protocol": "UDP", "allowed": True},
        {"from": "dev/ghost", "to": "dev/my-api", "port": 3000, "protocol": "TCP", "allowed": True},
        {"from": "dev/my-api", "to": "monitoring/scraper", "port": 3000, "protocol": "TCP", "allowed": False, "declared": False},
    ]
    after, skipped = plan.from_predicted({"rows": rows}, NAMESPACES, phase="after")
    assert [(s.name, s.expected("after"), s.predicted) for s in after] == [
        ("predicted monitoring/scraper -> dev/my-api TCP/3000", "allowed", True),
        ("predicted dev/my-api -> prod/my-api TCP/3000", "blocked", False),
    ]
    assert len(skipped) == 2 and any("UDP is not probed" in s for s in skipped)
    before, _ = plan.from_predicted(rows, NAMESPACES, phase="before")
    assert all(s.expected("before") is None for s in before)


def test_blast_radius_covers_every_tcp_service_port_the_api_dns_and_internet():
    services = [
        {"metadata": {"namespace": "dev", "name": "my-api"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "UDP"}]}},
        {"metadata": {"namespace": "default", "name": "kubernetes"}, "spec": {"ports": [{"port": 443}]}},
        {"metadata": {"namespace": "x", "name": "ext"}, "spec": {"type": "ExternalName"}},
        {"metadata": {"namespace": "kube-system", "name": "kube-dns"}, "spec": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}, {"port": 9153, "protocol": "TCP"}]}},
    ]
    specs = plan.blast_radius("dev", {}, services, external="1.1.1.1")
    names = [s.name for s in specs]
    assert names == [f"blast from dev to {t}" for t in ("dev/my-api:80", "kube-system/kube-dns:53", "kube-system/kube-dns:9153",
                                                         "kubernetes-api:443", "cluster-dns:53/UDP", "internet 1.1.1.1:443")]
    assert len(plan.sources(specs)) == 1 and specs[0].source.labels == ()


def test_blast_radius_puts_one_rogue_pod_in_each_namespace_with_the_same_targets():
    services = [{"metadata": {"namespace": "prod", "name": "my-api"}, "spec": {"ports": [{"port": 80}]}}]
    specs = plan.blast_radius(["dev", "prod", "monitoring"], {"team": "x"}, services, external="1.1.1.1")
    rogues = plan.sources(specs)
    assert [r.namespace for r in rogues] == ["dev", "monitoring", "prod"] and all(r.labels == (("team", "x"),) for r in rogues)
    for ns in ("dev", "prod", "monitoring"):
        mine = [s for s in specs if s.source.namespace == ns]
        assert [(s.target.kind, s.target.ref, s.port, s.protocol) for s in mine] == [
            ("service", "prod/my-api", 80, "TCP"), ("api", "kubernetes", 443, "TCP"), ("dns", "cluster-dns", 53, "UDP"),
            ("external", "1.1.1.1", 443, "TCP")]
    assert len({s.name for s in specs}) == len(specs)  # names stay unique across rogue pods


def test_probe_pod_carries_the_labels_the_template_adds_and_still_cannot_serve():
    # A policy selecting app.kubernetes.io/name (which the workloads template adds) must treat the
    # probe pod as it treats the workload's pods; the Service selecting that label still never
    # sends it traffic: no named port to target, never Ready.
    [spec] = plan.from_inventory(
        [{"name": "p", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}}], NAMESPACES)
    assert dict(spec.source.labels) == {"app": "my-api", "env": "dev", "app.kubernetes.io/name": "my-api"}
    pod = plan.probe_pod(spec.source, run_id="r", image="registry.example/agnhost:2.63.0")
    assert pod["metadata"]["labels"] == {"app": "my-api", "env": "dev", "app.kubernetes.io/name": "my-api",
                                         "app.kubernetes.io/managed-by": "netfence", "netfence.io/role": "probe"}
    assert "pod-template-hash" not in pod["metadata"]["labels"]  # the ReplicaSet's selector never adopts it
    [container] = pod["spec"]["containers"]
    assert "ports" not in container and container["readinessProbe"]["exec"]["command"] == ["false"]


def test_predicted_probes_use_the_effective_labels():
    matrix = {"rows": [{"from": "dev/my-api", "to": "monitoring/scraper", "port": 3000, "protocol": "TCP", "allowed": True}]}
    [spec], _ = plan.from_predicted(matrix, NAMESPACES)
    assert ("app.kubernetes.io/name", "my-api") in spec.source.labels
    assert dict(spec.target.selector) == {"app": "scraper", "app.kubernetes.io/name": "scraper"}
