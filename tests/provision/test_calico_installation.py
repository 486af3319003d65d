"""The Installation netfence renders already holds every field the Tigera operator defaults into its IP pool.

``spec.calicoNetwork.ipPools`` is an atomic list for server-side apply: once the operator has written
its defaults into the pool, an apply of a pool that lacks any of them differs, takes the whole list
back, and the operator writes the defaults again - `changed` on every run. The field set below is
written down from upstream, not produced by netfence:

tigera/operator tag v1.40.15 (commit 146f906d645443385a3b9b699ed5eb979a2b0d49; Calico v3.31.7's
manifests/tigera-operator.yaml runs quay.io/tigera/operator:v1.40.15), pkg/controller/ippool/defaults.go,
fillDefaults, for an IPv4 pool with the Calico CNI (JSON names from api/v1/installation_types.go,
type IPPool; values from the constants there). Each is set only when the pool leaves it empty.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from labkit import CALICO_VERSION, Lab, seed_cluster

OPERATOR_IPV4_POOL_DEFAULTS: dict[str, Any] = {
    "allowedUses": ["Workload", "Tunnel"],  # IPPoolAllowedUseWorkload, IPPoolAllowedUseTunnel, in this order
    "encapsulation": "IPIP",                # EncapsulationIPIP (Calico CNI)
    "natOutgoing": "Enabled",               # NATOutgoingEnabled
    "nodeSelector": "all()",                # NodeSelectorDefault
    "blockSize": 26,
    "disableNewAllocations": False,
    "name": "default-ipv4-ippool",          # defaultPoolName, when the Installation has one pool
    "assignmentMode": "Automatic",          # AssignmentModeAutomatic
}


def operator_defaulted(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool as the operator writes it back: each default fills only a field left empty."""
    out = dict(pool)
    for key, value in OPERATOR_IPV4_POOL_DEFAULTS.items():
        if out.get(key) in (None, "", []):
            out[key] = value
    return out


def rendered_installation(lab: Lab, **inventory: Any) -> dict[str, Any]:
    seed_cluster(lab)
    if inventory:
        lab.write_inventory(**inventory)
    run = lab.run("provision.yml", "--tags", "calico")
    assert run.rc == 0, run.failure()
    path = lab.cache_dir / "calico" / f"v{CALICO_VERSION}" / "netfence-custom-resources.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return next(d for d in docs if d["kind"] == "Installation")


@pytest.mark.parametrize("inventory", [
    {},  # the role's defaults with the lab inventory (VXLAN)
    {"netfence_calico_encapsulation": "IPIPCrossSubnet", "netfence_pod_subnet": "10.244.0.0/16"},
])
def test_the_rendered_pool_is_what_the_operator_would_write_back(lab: Lab, inventory: dict[str, Any]) -> None:
    pools = rendered_installation(lab, **inventory)["spec"]["calicoNetwork"]["ipPools"]
    assert len(pools) == 1
    pool = pools[0]
    missing = sorted(set(OPERATOR_IPV4_POOL_DEFAULTS) - set(pool))
    assert missing == [], f"the operator would default {missing} into the pool: every apply would differ"
    # server-side apply after the operator's defaulting is a no-op: defaulting changes nothing
    assert operator_defaulted(pool) == pool
    # the fields netfence does not take from the inventory carry the operator's own values
    for key in ("allowedUses", "nodeSelector", "disableNewAllocations", "name", "assignmentMode"):
        assert pool[key] == OPERATOR_IPV4_POOL_DEFAULTS[key], key
    assert pool["cidr"] == inventory.get("netfence_pod_subnet", "192.168.0.0/16")
    assert pool["encapsulation"] == inventory.get("netfence_calico_encapsulation", "VXLAN")
