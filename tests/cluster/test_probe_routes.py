"""netfence_probe_local_only: no probe round sends a packet to an address that is not ours.

The route documents below are what ``ip -j route get`` (iproute2 6.1) printed on the machine
that runs the local cluster: a pod behind the node's bridge, the test internet host on a veth of
the run's own, the node's own address, and a public address (via the default gateway).
"""

from __future__ import annotations

import shutil

import pytest

from probe_fakes import CONNECTED, FakeTransport
from netfence.errors import NetfenceError
from netfence.probes import plan, routes
from netfence.probes.runner import Settings, run_probes

POD = {"dst": "10.244.0.4", "dev": "nf0", "prefsrc": "10.244.0.1", "flags": [], "uid": 0, "cache": []}
TEST_HOST = {"dst": "203.0.113.10", "dev": "nf-inet0", "prefsrc": "203.0.113.9", "flags": [], "uid": 0, "cache": []}
NODE = {"type": "local", "dst": "192.0.2.2", "dev": "lo", "prefsrc": "192.0.2.2", "flags": [], "uid": 0, "cache": ["local"]}
PUBLIC = {"dst": "1.1.1.1", "gateway": "192.0.2.1", "dev": "eth0", "prefsrc": "192.0.2.2", "flags": [], "uid": 0, "cache": []}
ROUTES = {"10.244.0.4": POD, "203.0.113.10": TEST_HOST, "192.0.2.2": NODE, "1.1.1.1": PUBLIC}


LAB = ("nf0", "nf-inet0")
# a neighbour on the machine's own LAN: on-link, no gateway, but not ours
NEIGHBOUR = {"dst": "192.0.2.50", "dev": "eth0", "prefsrc": "192.0.2.2", "flags": [], "uid": 0, "cache": []}
ROUTES["192.0.2.50"] = NEIGHBOUR


def test_local_routes_pass_and_gateway_and_lan_routes_do_not():
    assert routes.unlocal_reason("10.244.0.4", POD, LAB) is None
    assert routes.unlocal_reason("203.0.113.10", TEST_HOST, LAB) is None
    assert routes.unlocal_reason("192.0.2.2", NODE, ()) is None
    assert "gateway 192.0.2.1" in routes.unlocal_reason("1.1.1.1", PUBLIC, LAB)
    assert "not one of the lab's devices" in routes.unlocal_reason("192.0.2.50", NEIGHBOUR, LAB)
    assert "none set" in routes.unlocal_reason("10.244.0.4", POD, ())
    assert routes.unlocal_reason("10.9.9.9", None, LAB) == "10.9.9.9: no route"
    assert "blackhole" in routes.unlocal_reason("10.9.9.9", {"type": "blackhole", "dst": "10.9.9.9"}, LAB)


def test_service_names_pass_external_names_do_not_and_every_bad_target_is_named():
    routes.require_local([("service", "my-api.prod.svc.cluster.local"), ("pod", "10.244.0.4")], LAB, ROUTES.get)
    with pytest.raises(NetfenceError) as err:
        routes.require_local([("external", "1.1.1.1"), ("pod", "10.244.0.4"), ("external", "8.8.8.8"),
                              ("external", "192.0.2.50"), ("external", "example.org")], LAB, ROUTES.get)
    text = str(err.value)
    assert "1.1.1.1" in text and "8.8.8.8: no route" in text and "192.0.2.50" in text and "Nothing was probed" in text
    assert "example.org: an external target must be a literal address" in text and "10.244.0.4" not in text


def test_a_round_with_a_foreign_target_probes_nothing():
    namespaces = [{"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api"}}]}]
    specs = plan.from_inventory([
        {"name": "to-pod", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"pod": "dev/my-api"}, "port": 3000},
        {"name": "to-internet", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}},
    ], namespaces)
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.244.0.4"})
    pods = {s.key: s.pod_name("r1") for s in plan.sources(specs)}
    seen = []

    def guard(targets):
        seen.extend(host for _, host in targets)
        routes.require_local(targets, LAB, ROUTES.get)

    with pytest.raises(NetfenceError, match="1.1.1.1"):
        run_probes(specs, transport, Settings(phase="after", run_id="r1", cluster="c"), pods, guard=guard)
    assert sorted(seen) == ["1.1.1.1", "10.244.0.4"]  # the pod target was resolved before the check
    assert transport.calls == []


@pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip")
def test_the_kernel_lookup_reads_loopback_as_local():
    route = routes.route_lookup("127.0.0.1")
    assert route is not None and routes.unlocal_reason("127.0.0.1", route, ()) is None
