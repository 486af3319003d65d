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


def test_local_routes_pass_and_gateway_routes_do_not():
    assert routes.unlocal_reason("10.244.0.4", POD) is None
    assert routes.unlocal_reason("203.0.113.10", TEST_HOST) is None
    assert routes.unlocal_reason("192.0.2.2", NODE) is None
    assert "gateway 192.0.2.1" in routes.unlocal_reason("1.1.1.1", PUBLIC)
    assert routes.unlocal_reason("10.9.9.9", None) == "10.9.9.9: no route"
    assert "blackhole" in routes.unlocal_reason("10.9.9.9", {"type": "blackhole", "dst": "10.9.9.9"})


def test_names_are_not_checked_and_every_bad_address_is_named():
    routes.require_local(["my-api.prod.svc.cluster.local", "10.244.0.4"], ROUTES.get)
    with pytest.raises(NetfenceError) as err:
        routes.require_local(["1.1.1.1", "10.244.0.4", "8.8.8.8"], ROUTES.get)
    assert "1.1.1.1" in str(err.value) and "8.8.8.8: no route" in str(err.value) and "Nothing was probed" in str(err.value)


def test_a_round_with_a_foreign_target_probes_nothing():
    namespaces = [{"name": "dev", "workloads": [{"name": "my-api", "labels": {"app": "my-api"}}]}]
    specs = plan.from_inventory([
        {"name": "to-pod", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"pod": "dev/my-api"}, "port": 3000},
        {"name": "to-internet", "from": {"namespace": "dev", "workload": "my-api"}, "to": {"external": "1.1.1.1"}},
    ], namespaces)
    transport = FakeTransport(lambda *a: CONNECTED, {"dev": "10.244.0.4"})
    pods = {s.key: s.pod_name("r1") for s in plan.sources(specs)}
    seen = []

    def guard(addresses):
        seen.extend(addresses)
        routes.require_local(addresses, ROUTES.get)

    with pytest.raises(NetfenceError, match="1.1.1.1"):
        run_probes(specs, transport, Settings(phase="after", run_id="r1", cluster="c"), pods, guard=guard)
    assert sorted(seen) == ["1.1.1.1", "10.244.0.4"]  # the pod target was resolved before the check
    assert transport.calls == []


@pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip")
def test_the_kernel_lookup_reads_loopback_as_local():
    route = routes.route_lookup("127.0.0.1")
    assert route is not None and routes.unlocal_reason("127.0.0.1", route) is None
