"""The preflight network filter: exact CIDR answers from Python's ipaddress."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

_SPEC = importlib.util.spec_from_file_location(
    "netfence_net", Path(__file__).resolve().parents[2] / "plugins" / "filter" / "netfence_net.py")
assert _SPEC and _SPEC.loader
net = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(net)


def test_overlaps_lists_only_networks_sharing_addresses() -> None:
    hosts = ["192.168.1.0/24", "10.0.0.0/8", "172.17.0.0/16", "fd00::/64"]
    assert net.overlaps("192.168.0.0/16", hosts) == ["192.168.1.0/24"]
    assert net.overlaps("10.96.0.0/12", hosts) == ["10.0.0.0/8"]
    assert net.overlaps("172.18.0.0/16", hosts) == []


def test_adjacent_ranges_do_not_overlap() -> None:
    assert net.overlaps("10.96.0.0/12", ["10.112.0.0/12", "10.95.255.0/24"]) == []


def test_cidr_problem_catches_host_bits_and_garbage() -> None:
    assert net.cidr_problem("10.96.0.0/12") == ""
    assert "not a network in CIDR notation" in net.cidr_problem("10.96.0.1/12")
    assert "not a network in CIDR notation" in net.cidr_problem("10.96.0.0/33")
    with pytest.raises(AnsibleFilterError, match="not a network in CIDR notation"):
        net.overlaps("nonsense", [])


def test_host_networks_reads_gathered_interface_facts() -> None:
    facts = {
        "interfaces": ["lo", "eth0", "docker0", "br-1a2b"],
        "lo": {"ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}},
        "eth0": {"ipv4": {"address": "192.168.1.23", "netmask": "255.255.255.0"},
                 "ipv4_secondaries": [{"address": "10.1.2.3", "netmask": "255.255.0.0"}],
                 "ipv6": [{"address": "fe80::1", "prefix": "64"}]},
        "docker0": {"ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0"}},
        "br_1a2b": {"ipv4": {"address": "172.18.0.1", "netmask": "255.255.0.0"}},
    }
    assert net.host_networks(facts) == ["10.1.0.0/16", "127.0.0.0/8", "172.17.0.0/16", "172.18.0.0/16",
                                         "192.168.1.0/24", "fe80::/64"]


def test_subnet_of_checks_the_pool_lies_inside_the_pod_cidr() -> None:
    assert net.subnet_of("192.168.0.0/17", "192.168.0.0/16")
    assert not net.subnet_of("192.168.0.0/15", "192.168.0.0/16")
