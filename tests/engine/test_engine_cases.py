"""Every non-loopback row of every shared upstream truth-table case, through both engine paths."""

from __future__ import annotations

import pytest

from engine_casefiles import cases_dir, concrete_state, iter_steps
from netfence.engine import Engine
from netfence.model import External, World

STEPS = list(iter_steps()) if cases_dir().is_dir() else []
needs_cases = pytest.mark.skipif(
    not STEPS, reason=f"shared NetworkPolicy cases not found at {cases_dir()} (set NETFENCE_CASES_DIR)"
)


@needs_cases
@pytest.mark.parametrize(("step", "ips"), [(s, ips) for _, s, ips in STEPS], ids=[i for i, _, _ in STEPS])
def test_case_step(step: dict, ips: dict) -> None:
    engine = Engine(World.from_state(concrete_state(step["state"], ips)))
    probe = (step["probe"]["protocol"], step["probe"]["port"])
    matrix = {(r["from"], r["to"]): r["allowed"] for r in engine.reachability([probe])}
    wrong = []
    scored = 0
    for exp in step["expected"]:
        if exp.get("loopback_ignored_upstream"):
            continue
        scored += 1
        fast = matrix[(exp["from"], exp["to"])]
        slow = engine.verdict(exp["from"], exp["to"], exp["port"], exp["protocol"])
        if fast != exp["allowed"] or slow.allowed != exp["allowed"]:
            wrong.append(f"{exp['from']} -> {exp['to']} {exp['protocol']}/{exp['port']}: expected {exp['allowed']}, "
                         f"matrix {fast}, verdict {slow.allowed}\n{slow.explain()}")
    assert scored, "a step without scored rows"
    assert not wrong, "\n".join(wrong)


@needs_cases
def test_counts_agree_with_rows() -> None:
    """The popcount path agrees with the row path on every case step."""
    for _, step, ips in STEPS:
        engine = Engine(World.from_state(concrete_state(step["state"], ips)))
        probe = (step["probe"]["protocol"], step["probe"]["port"])
        allowed = sum(r["allowed"] for r in engine.reachability([probe]))
        assert engine.counts([probe])[0]["allowed"] == allowed


def test_symbols_both_variants() -> None:
    """``<ip of x/b masked to /4>/4`` (current) and unmasked ``<ip of x/a>/4`` (full3x3) both work."""
    peer = {"ipBlock": {"cidr": "<ip of x/a>/4", "except": ["<ip of x/b>/32"]}}
    masked = {"ipBlock": {"cidr": "<ip of x/b masked to /4>/4"}}
    state = {
        "namespaces": [{"name": "x"}],
        "pods": [{"namespace": "x", "name": "a"}, {"namespace": "x", "name": "b"}],
        "policies": [{"metadata": {"name": "p", "namespace": "x"}, "spec": {"egress": [{"to": [peer, masked]}]}}],
    }
    out = concrete_state(state, {"x/a": "10.244.1.5", "x/b": "10.244.1.6"})
    to = out["policies"][0]["spec"]["egress"][0]["to"]
    assert to[0]["ipBlock"] == {"cidr": "10.244.1.5/4", "except": ["10.244.1.6/32"]}
    assert to[1]["ipBlock"] == {"cidr": "0.0.0.0/4"}
    assert [p["ip"] for p in out["pods"]] == ["10.244.1.5", "10.244.1.6"]
    engine = Engine(World.from_state(out))
    # x/b is excepted from the first peer but inside the second: peers are OR.
    assert engine.verdict("x/a", "x/b", 80).egress.allowing[0].peer.startswith("ipBlock 0.0.0.0/4")
    assert not engine.verdict("x/a", External("16.0.0.1"), 80).egress.allowed
