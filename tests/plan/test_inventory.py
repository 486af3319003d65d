"""Parsing netfence_namespaces: every structural rule rejects bad input with its inventory path."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfence.inventory.schema import InventoryError, parse


def test_lab_inventory_parses_into_the_reference_scenario(lab):
    inventory = parse(lab)
    assert [ns.name for ns in inventory.namespaces] == ["dev", "prod", "monitoring", "gateway"]
    dev = inventory.namespace("dev")
    api = dev.workloads[0]
    assert (api.name, api.labels, api.service_port, api.container_port, api.port_name) == (
        "my-api", {"app": "my-api", "env": "dev"}, 80, 3000, "http")
    assert inventory.namespace("prod").workloads[0].labels == {"app": "my-api", "env": "prod"}
    assert dev.allow_from_namespaces[0].namespaces == ("monitoring",)
    assert dev.allow_from_namespaces[0].pod_labels == {"app": "scraper"}
    assert dev.allow_from_pods[0].namespace == "gateway"
    assert dev.internet_egress.except_ == ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    from netfence.inventory.lab import build

    assert build(inventory).namespaces["dev"].labels["kubernetes.io/metadata.name"] == "dev"  # as the API server sets it


def _errors(namespaces) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse(namespaces)
    return [str(p) for p in caught.value.problems]


def _one(namespaces, path: str, fragment: str) -> None:
    errors = _errors(namespaces)
    assert any(e.startswith(f"ERROR {path}: ") and fragment in e for e in errors), errors


def test_not_a_list():
    _one({"name": "dev"}, "netfence_namespaces", "non-empty list")
    _one([], "netfence_namespaces", "non-empty list")


@pytest.mark.parametrize("value, fragment", [
    (0, "out of range"),
    (70000, "out of range"),
    ("80", "quoted number"),
    (True, "boolean"),
    ("Http_Port", "not a valid port name"),
    (3.5, "not float"),
])
def test_port_values(lab, value, fragment):
    lab[1]["allow_from_namespaces"][0]["ports"][0]["port"] = value
    _one(lab, "netfence_namespaces[1].allow_from_namespaces[0].ports[0].port", fragment)


def test_protocol_must_be_upper_case_tcp_udp_or_sctp(lab):
    lab[0]["allow_from_pods"][0]["ports"][0]["protocol"] = "tcp"
    _one(lab, "netfence_namespaces[0].allow_from_pods[0].ports[0].protocol", "not one of TCP, UDP, SCTP")


def test_end_port_below_port(lab):
    lab[0]["internet_egress"]["ports"][0]["end_port"] = 442
    _one(lab, "netfence_namespaces[0].internet_egress.ports[0].end_port", "lower than port 443")


def test_end_port_needs_a_numeric_port(lab):
    lab[0]["allow_from_pods"][0]["ports"][0] = {"port": "http", "end_port": 3005}
    _one(lab, "netfence_namespaces[0].allow_from_pods[0].ports[0].end_port", "only allowed together with a numeric port")


def test_unknown_keys_are_typos(lab):
    lab[1]["allow_from_namespaces"][0]["prots"] = []
    lab[0]["profils"] = []
    errors = _errors(lab)
    assert any("netfence_namespaces[1].allow_from_namespaces[0].prots: unknown key 'prots'" in e for e in errors)
    assert any("netfence_namespaces[0].profils: unknown key 'profils'" in e for e in errors)


def test_unknown_and_duplicate_profiles(lab):
    lab[0]["profiles"] += ["allow-everything", "default-deny-ingress"]
    errors = _errors(lab)
    assert any(e.startswith("ERROR netfence_namespaces[0].profiles[7]: unknown profile 'allow-everything'") for e in errors)
    assert any(e.startswith("ERROR netfence_namespaces[0].profiles[8]: profile 'default-deny-ingress' is listed twice")
               for e in errors)


def test_cidr_syntax(lab):
    lab[0]["internet_egress"]["cidr"] = "0.0.0.0"
    _one(lab, "netfence_namespaces[0].internet_egress.cidr", "is not a CIDR")


def test_except_must_lie_inside_cidr(lab):
    lab[0]["internet_egress"]["cidr"] = "10.0.0.0/8"
    lab[0]["internet_egress"]["except"] = ["10.1.0.0/16", "192.168.0.0/16", "10.0.0.0/8", "10.0.0.0/33"]
    errors = _errors(lab)
    assert not any("except[0]" in e for e in errors)
    assert any("internet_egress.except[1]: '192.168.0.0/16' is not strictly inside the cidr 10.0.0.0/8" in e for e in errors)
    assert any("internet_egress.except[2]: '10.0.0.0/8' is not strictly inside" in e for e in errors)
    assert any("internet_egress.except[3]: '10.0.0.0/33' is not a valid CIDR" in e for e in errors)


def test_label_syntax(lab):
    lab[0]["workloads"][0]["labels"] = {"app": "my-api", "version": 2, "bad key!": "x", "env": "-dev"}
    errors = _errors(lab)
    path = "netfence_namespaces[0].workloads[0].labels"
    assert any(e.startswith(f"ERROR {path}.version: ") and "must be a string (quote it" in e for e in errors)
    assert any(e.startswith(f"ERROR {path}['bad key!']: ") and "label key 'bad key!' is invalid" in e for e in errors)
    assert any(e.startswith(f"ERROR {path}.env: ") and "label value '-dev' is invalid" in e for e in errors)


def test_label_key_prefix_must_be_a_dns_subdomain(lab):
    lab[0]["labels"] = {"Example.COM/team": "a"}
    _one(lab, "netfence_namespaces[0].labels['Example.COM/team']", "invalid prefix")


def test_rfc1123_names(lab):
    lab[0]["name"] = "Dev_Env"
    lab[1]["workloads"][0]["name"] = "x" * 64
    errors = _errors(lab)
    assert any(e.startswith("ERROR netfence_namespaces[0].name: 'Dev_Env' is not an RFC 1123 label") for e in errors)
    assert any(e.startswith("ERROR netfence_namespaces[1].workloads[0].name: ") and "longer than 63" in e for e in errors)


def test_duplicates(lab):
    lab[1]["name"] = "dev"
    lab[0]["workloads"].append(dict(lab[0]["workloads"][0]))
    errors = _errors(lab)
    assert any(e.startswith("ERROR netfence_namespaces[1].name: namespace 'dev' is defined twice") for e in errors)
    assert any(e.startswith("ERROR netfence_namespaces[0].workloads[1].name: workload 'my-api' is defined twice")
               for e in errors)


def test_namespace_source_needs_exactly_one_selector(lab):
    lab[0]["allow_from_namespaces"][0]["namespace_labels"] = {"team": "ops"}
    _one(lab, "netfence_namespaces[0].allow_from_namespaces[0]", "exactly one of 'namespaces'")


def test_profiles_and_entries_must_agree(lab):
    lab[0]["profiles"].remove("allow-from-pods")
    del lab[1]["allow_from_namespaces"]
    errors = _errors(lab)
    assert any(e.startswith("ERROR netfence_namespaces[0].allow_from_pods: has entries but the profile") for e in errors)
    assert any(e.startswith("ERROR netfence_namespaces[1].profiles: profile 'allow-from-namespaces' needs at least one")
               for e in errors)


def test_workload_ports(lab):
    lab[0]["workloads"][0]["container_port"] = None
    lab[1]["workloads"][0]["replicas"] = -1
    errors = _errors(lab)
    assert any(e.startswith("ERROR netfence_namespaces[0].workloads[0].service_port: a Service needs a target") for e in errors)
    assert any(e.startswith("ERROR netfence_namespaces[1].workloads[0].replicas: -1 is out of range") for e in errors)


def test_acknowledge_flags_must_be_booleans(lab):
    lab[0]["acknowledge"] = {"egress_without_dns": "yes"}
    _one(lab, "netfence_namespaces[0].acknowledge.egress_without_dns", "must be true or false")


def test_extra_policy_needs_a_mapping_spec(lab):
    lab[2]["extra_policies"][0]["spec"] = ["podSelector"]
    _one(lab, "netfence_namespaces[2].extra_policies[0].spec", "must be a NetworkPolicy spec")


def test_every_error_is_reported_not_just_the_first(lab):
    lab[0]["allow_from_namespaces"][0]["ports"][0]["port"] = 0
    lab[1]["allow_from_pods"][0]["ports"][0]["protocol"] = "HTTP"
    lab[3]["profiles"].append("nope")
    with pytest.raises(InventoryError) as caught:
        parse(lab)
    paths = {p.path for p in caught.value.problems}
    assert {"netfence_namespaces[0].allow_from_namespaces[0].ports[0].port",
            "netfence_namespaces[1].allow_from_pods[0].ports[0].protocol",
            "netfence_namespaces[3].profiles[2]"} <= paths
    assert str(caught.value).startswith("3 errors in the inventory:")


def test_the_docs_list_exactly_the_keys_the_reader_knows() -> None:
    """docs/inventory.md is the inventory's only description besides the reader itself: every
    section's table lists exactly the keys netfence.inventory.schema accepts there."""
    import re

    from netfence.inventory.schema import KEYS, NAMESPACE_KEYS

    text = (Path(__file__).resolve().parents[2] / "docs" / "inventory.md").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^#{2,3} (.*)$", line)
        if heading:
            title = heading[1]
            named = re.search(r"`([a-z_]+(?:\[\])?)`", title)
            current = "netfence_namespaces" if "netfence_namespaces" in title else named[1] if named else None
            continue
        row = re.match(r"^\| `([a-z_]+)` \|", line)
        if current and row:
            sections.setdefault(current, []).append(row[1])
    assert sections["netfence_namespaces"] == list(NAMESPACE_KEYS)
    for section, keys in KEYS.items():
        assert sorted(sections.get(section, [])) == sorted(keys), section
