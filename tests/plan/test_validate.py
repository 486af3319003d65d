"""Validation: schema, API-server rules the schema lacks, and engineers' mistakes, with paths."""

from __future__ import annotations

import pytest

from netfence.inventory.schema import InventoryError
from netfence.plan import build_plan

EXTRA = "netfence_namespaces[2].extra_policies[0].spec"


def _has(found, text):
    assert any(text in line for line in found), "\n".join(found)


def _extra(lab, spec):
    lab[2]["extra_policies"][0]["spec"] = spec
    return lab


def test_lab_inventory_is_valid_without_warnings(lab, problems):
    assert problems(lab) == []


# --- schema -----------------------------------------------------------------------------------

def test_schema_rejects_misspelled_fields(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["podSelectr"] = {}
    _has(problems(lab), f"ERROR {EXTRA}: schema: Additional properties are not allowed ('podSelectr' was unexpected)")


def test_schema_rejects_wrong_types(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["to"] = "dev"
    _has(problems(lab), f"ERROR {EXTRA}.egress[0].to: schema: 'dev' is not of type")


def test_unsupported_kubernetes_version_is_reported_with_other_problems(lab, problems):
    lab[0]["profiles"].append("nope")
    found = problems(lab, "v1.99.0")
    _has(found, "ERROR netfence_kubernetes_version: no NetworkPolicy schema for Kubernetes 1.99")
    _has(found, "ERROR netfence_namespaces[0].profiles[7]: unknown profile")
    _has(problems(lab, "latest"), "ERROR netfence_kubernetes_version: 'latest' is not a Kubernetes version")


# --- what the schema does not check -----------------------------------------------------------

@pytest.mark.parametrize("port, expected", [
    ({"port": 0}, "ports[0].port: 0 is out of range"),
    ({"port": 65536, "protocol": "TCP"}, "ports[0].port: 65536 is out of range"),
    ({"port": 3000, "protocol": "tcp"}, "ports[0].protocol: protocol 'tcp' is not one of TCP, UDP, SCTP"),
    ({"port": 3000, "protocol": "ICMP"}, "ports[0].protocol: protocol 'ICMP' is not one of"),
    ({"port": 3005, "endPort": 3000}, "ports[0].endPort: endPort 3000 is lower than port 3005"),
    ({"port": "http", "endPort": 3000}, "ports[0].endPort: endPort is only allowed together with a numeric port"),
    ({"endPort": 3000}, "ports[0].endPort: endPort is only allowed together with a numeric port"),
    ({"port": "not_a_name"}, "ports[0].port: 'not_a_name' is not a valid port name"),
])
def test_port_rules(lab, problems, port, expected):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["ports"] = [port]
    _has(problems(lab), f"ERROR {EXTRA}.egress[0].{expected}")


@pytest.mark.parametrize("block, expected", [
    ({"cidr": "10.0.0.0"}, "ipBlock.cidr: '10.0.0.0' is not a CIDR"),
    ({"cidr": "10.0.0.0/40"}, "ipBlock.cidr: '10.0.0.0/40' is not a valid CIDR"),
    ({"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}, "ipBlock.except[0]: '11.0.0.0/16' is not strictly inside"),
    ({"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}, "ipBlock.except[0]: '10.0.0.0/8' is not strictly inside"),
    ({"cidr": "10.0.0.0/8", "except": ["fd00::/8"]}, "ipBlock.except[0]: 'fd00::/8' is IPv6 but the cidr"),
])
def test_cidr_rules(lab, problems, block, expected):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["to"] = [{"ipBlock": block}]
    _has(problems(lab), f"ERROR {EXTRA}.egress[0].to[0].{expected}")


def test_ip_block_cannot_be_combined_with_selectors(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["to"][0]["ipBlock"] = {"cidr": "10.0.0.0/8"}
    _has(problems(lab), f"ERROR {EXTRA}.egress[0].to[0]: ipBlock cannot be combined")


@pytest.mark.parametrize("expression, expected", [
    ({"key": "app", "operator": "in", "values": ["a"]}, "operator: operator 'in' is not one of In, NotIn"),
    ({"key": "app", "operator": "In", "values": []}, "values: operator In needs at least one value"),
    ({"key": "app", "operator": "NotIn"}, "values: operator NotIn needs at least one value"),
    ({"key": "app", "operator": "Exists", "values": ["a"]}, "values: operator Exists takes no values"),
    ({"key": "bad key", "operator": "Exists"}, "key: label key 'bad key' is invalid"),
    ({"key": "app", "operator": "In", "values": ["not ok"]}, "values[0]: label value 'not ok' is invalid"),
])
def test_selector_rules(lab, problems, expression, expected):
    lab[2]["extra_policies"][0]["spec"]["podSelector"] = {"matchExpressions": [expression]}
    _has(problems(lab), f"ERROR {EXTRA}.podSelector.matchExpressions[0].{expected}")


def test_selector_label_values_are_checked(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["to"][0]["podSelector"] = {"matchLabels": {"app": "my api"}}
    _has(problems(lab), f"ERROR {EXTRA}.egress[0].to[0].podSelector.matchLabels.app: label value 'my api' is invalid")


def test_policy_types_values(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["policyTypes"] = ["egress"]
    _has(problems(lab), f"ERROR {EXTRA}.policyTypes[0]: 'egress' is not one of Ingress, Egress")


# --- engineers' mistakes ----------------------------------------------------------------------

def test_egress_restricted_without_dns_is_an_error(lab, problems):
    lab[1]["profiles"].remove("allow-dns-egress")
    _has(problems(lab), "ERROR netfence_namespaces[1].profiles[1]: egress of my-api in namespace prod is restricted "
                        "(by netfence-default-deny-egress) but no egress rule allows DNS (UDP 53)")


def test_same_namespace_egress_does_not_count_as_dns(lab, problems):
    lab[1]["profiles"] = ["default-deny-ingress", "default-deny-egress", "allow-same-namespace",
                          "allow-from-namespaces", "allow-from-pods"]
    _has(problems(lab), "ERROR netfence_namespaces[1].profiles[1]: egress of my-api in namespace prod is restricted")


def test_an_extra_policy_restricting_egress_needs_dns_too(lab, problems):
    lab[3]["extra_policies"] = [{"name": "lockdown", "spec": {"podSelector": {"matchLabels": {"app": "api-gateway"}},
                                                               "policyTypes": ["Egress"]}}]
    _has(problems(lab), "ERROR netfence_namespaces[3].extra_policies[0]: egress of api-gateway in namespace gateway")


def test_egress_without_dns_can_be_acknowledged(lab, problems):
    lab[1]["profiles"].remove("allow-dns-egress")
    lab[1]["acknowledge"] = {"egress_without_dns": True}
    assert not [p for p in problems(lab) if "DNS" in p]


def test_service_port_instead_of_container_port_in_ingress(lab, problems):
    lab[1]["allow_from_namespaces"][0]["ports"][0]["port"] = 80
    _has(problems(lab), "ERROR netfence_namespaces[1].allow_from_namespaces[0].ports[0].port: port 80 is the Service "
                        "port of prod/my-api, but NetworkPolicy ports match the pod's container port")
    assert any("listen on 3000 (named 'http')" in p for p in problems(lab))


def test_service_port_instead_of_container_port_in_egress(lab, problems):
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["ports"][0]["port"] = 80
    found = problems(lab)
    _has(found, f"ERROR {EXTRA}.egress[0].ports[0].port: port 80 is the Service port of dev/my-api, prod/my-api")


def test_container_port_name_and_range_are_fine(lab, problems):
    lab[1]["allow_from_namespaces"][0]["ports"][0] = {"port": "http"}
    lab[0]["allow_from_namespaces"][0]["ports"][0] = {"port": 80, "end_port": 3000}
    assert problems(lab) == []


def test_unknown_port_name_of_the_selected_pods_is_a_warning(lab, problems):
    lab[1]["allow_from_pods"][0]["ports"][0] = {"port": "https"}
    assert problems(lab) == [
        "WARNING netfence_namespaces[1].allow_from_pods[0].ports[0].port: no selected pod (prod/my-api) has a "
        "TCP container port named 'https', so this rule matches no port of theirs"]


def test_world_ingress_to_workload_ports_is_an_error(lab, problems):
    lab[0]["extra_policies"] = [{"name": "public", "spec": {
        "podSelector": {"matchLabels": {"app": "my-api"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
                     "ports": [{"port": 3000}]}]}}]
    found = problems(lab)
    _has(found, "ERROR netfence_namespaces[0].extra_policies[0].spec.ingress[0].from[0].ipBlock.cidr: 0.0.0.0/0 admits "
                "the whole internet to my-api in dev")
    _has(found, "ERROR netfence_namespaces[0].extra_policies[0].spec.ingress[0].from[1].ipBlock.cidr: ::/0 admits")


def test_ingress_rule_without_sources_is_world_ingress(lab, problems):
    lab[0]["extra_policies"] = [{"name": "open", "spec": {
        "podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": "http"}]}]}}]
    _has(problems(lab), "ERROR netfence_namespaces[0].extra_policies[0].spec.ingress[0]: this ingress rule has no "
                        "'from', so it admits every source")


def test_world_ingress_to_other_ports_or_acknowledged_is_fine(lab, problems):
    spec = {"podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 9999}]}]}
    lab[0]["extra_policies"] = [{"name": "public", "spec": spec}]
    assert [p for p in problems(lab) if "whole internet" in p or p.startswith("ERROR")] == []
    assert any("declares TCP 9999" in p for p in problems(lab))  # a port nobody listens on: reported, not an error
    spec["ingress"][0]["ports"] = [{"port": 3000}]
    lab[0]["acknowledge"] = {"world_ingress": True}
    assert problems(lab) == []


def test_namespace_without_default_deny_is_a_warning_and_coverage_agrees(lab):
    lab[3]["profiles"] = ["allow-dns-egress"]  # egress only: a gateway pod's ingress is open to everyone
    plan = build_plan(lab, "v1.35.8")
    assert plan.errors == []
    assert [str(w) for w in plan.warnings] == [
        "WARNING netfence_namespaces[3].profiles: namespace gateway has no default-deny-ingress: no policy there "
        "selects every pod, so a pod no policy selects accepts connections from everywhere. Add "
        "'default-deny-ingress' to profiles"]
    coverage = plan.prediction["files"]["predicted/coverage.json"]
    assert coverage["namespaces_without_default_deny"]["ingress"] == ["gateway"]
    assert plan.engine is not None and plan.lab is not None
    ingress = plan.engine.verdict("dev/netfence-rogue", "gateway/netfence-rogue", 8080).ingress
    assert not ingress.isolated and ingress.allowed  # the engine agrees: nothing guards a new pod's ingress


def test_allow_same_namespace_alone_isolates_every_pod_so_plan_and_coverage_both_stay_quiet(lab):
    # issue 11's third contradiction: validate warned "no default-deny-ingress" while coverage listed nothing
    lab[3]["profiles"] = ["allow-same-namespace"]
    plan = build_plan(lab, "v1.35.8")
    assert not any("default-deny" in str(w) for w in plan.warnings), plan.warnings
    coverage = plan.prediction["files"]["predicted/coverage.json"]
    assert coverage["namespaces_without_default_deny"]["ingress"] == []
    assert plan.engine is not None
    assert plan.engine.verdict("dev/netfence-rogue", "gateway/netfence-rogue", 8080).ingress.isolated


def test_misspelled_source_namespace_is_a_warning(lab, problems):
    lab[0]["allow_from_namespaces"][0]["namespaces"] = ["monitorng"]
    _has(problems(lab), "WARNING netfence_namespaces[0].allow_from_namespaces[0].namespaces[0]: namespace 'monitorng' "
                        "is not in the inventory")


def test_a_namespace_declared_external_may_be_referred_to_without_a_warning(lab):
    lab[0]["allow_from_namespaces"][0]["namespaces"] = ["observability"]
    lab[1]["allow_from_pods"][0]["namespace"] = "edge"
    probes = [{"name": "from-edge", "from": {"namespace": "edge", "labels": {"app": "x"}}, "to": {"service": "prod/my-api"},
               "port": 80, "expect": {"after": "blocked"}}]
    before = [str(p) for p in build_plan(lab, "v1.35.8", probes=probes).warnings]
    assert sum("is not in the inventory" in w for w in before) == 3, before
    assert any("'observability' is not in the inventory; check the spelling, or list it in "
               "netfence_external_namespaces" in w for w in before)
    plan = build_plan(lab, "v1.35.8", probes=probes, external_namespaces=["observability", "edge"])
    assert not any("is not in the inventory" in str(w) for w in plan.warnings), plan.warnings
    assert plan.inputs.snapshot()["netfence_external_namespaces"] == ["observability", "edge"]
    # only the declared one is quiet: a typo next to it still warns
    plan = build_plan(lab, "v1.35.8", probes=probes, external_namespaces=["observability"])
    assert sum("'edge' is not in the inventory" in str(w) for w in plan.warnings) == 2


@pytest.mark.parametrize("external, message", [
    (["dev"], "netfence_external_namespaces[0]: namespace 'dev' is also in netfence_namespaces, which netfence manages"),
    (["edge", "edge"], "netfence_external_namespaces[1]: namespace 'edge' is listed twice"),
    (["Edge"], "netfence_external_namespaces[0]: "),
    ("edge", "netfence_external_namespaces: must be a list"),
])
def test_external_namespaces_are_checked(lab, external, message):
    with pytest.raises(InventoryError) as caught:
        build_plan(lab, "v1.35.8", external_namespaces=external)
    _has([str(p) for p in caught.value.problems], message)


def test_all_problems_of_all_layers_are_reported_together(lab):
    lab[1]["profiles"].remove("allow-dns-egress")
    lab[0]["allow_from_namespaces"][0]["ports"][0]["port"] = 80
    lab[2]["extra_policies"][0]["spec"]["egress"][0]["ports"][0]["protocol"] = "tcp"
    lab[2]["extra_policies"][0]["spec"]["podSelectr"] = {}
    plan = build_plan(lab, "v1.35.8")
    with pytest.raises(InventoryError) as caught:
        plan.raise_for_errors()
    assert len(plan.errors) >= 4
    message = str(caught.value)
    for path in ("netfence_namespaces[1].profiles[1]", "netfence_namespaces[0].allow_from_namespaces[0].ports[0].port",
                 f"{EXTRA}.egress[0].ports[0].protocol", f"{EXTRA}: schema"):
        assert path in message


# --- the cluster's subnets ----------------------------------------------------------------------

def _internet_namespaces(lab):
    return [ns for ns in lab if "allow-internet-egress" in ns.get("profiles", [])]


def test_internet_egress_covering_the_pod_subnet_is_a_warning(lab):
    assert _internet_namespaces(lab), "the lab inventory should use allow-internet-egress"
    found = [str(p) for p in build_plan(lab, "v1.35.8", pod_subnet="100.64.0.0/10", service_subnet="10.96.0.0/12").problems]
    hits = [line for line in found if "pod subnet (netfence_pod_subnet) 100.64.0.0/10" in line]
    assert hits and all(line.startswith("WARNING ") for line in hits), "\n".join(found)
    assert not any("service subnet" in line for line in found), "10.96.0.0/12 is inside the default except 10.0.0.0/8"


def test_internet_egress_covering_the_service_subnet_is_a_warning(lab):
    found = [str(p) for p in build_plan(lab, "v1.35.8", pod_subnet="192.168.0.0/16", service_subnet="100.96.0.0/12").problems]
    assert any("service subnet (netfence_service_subnet) 100.96.0.0/12" in line for line in found), "\n".join(found)
    assert not any("pod subnet" in line for line in found)


def test_subnet_in_an_except_is_fine(lab):
    for ns in _internet_namespaces(lab):
        ns["internet_egress"] = {"except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]}
    found = [str(p) for p in build_plan(lab, "v1.35.8", pod_subnet="100.64.0.0/10").problems]
    assert not any("subnet" in line for line in found), "\n".join(found)
