"""Every non-loopback row of every shared upstream truth-table case, through both engine paths."""

from __future__ import annotations

import pytest

from engine_casefiles import cases_dir, concrete_state, iter_steps
from netfence.engine import Engine
from netfence.model import World

STEPS = list(iter_steps()) if cases_dir().is_dir() else []
pytestmark = pytest.mark.skipif(
    not STEPS, reason=f"shared NetworkPolicy cases not found at {cases_dir()} (set NETFENCE_CASES_DIR)"
)


@pytest.mark.parametrize("step", [s for _, s in STEPS], ids=[i for i, _ in STEPS])
def test_case_step(step: dict) -> None:
    engine = Engine(World.from_state(concrete_state(step["state"])))
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


def test_counts_agree_with_rows() -> None:
    """The popcount path agrees with the row path on every case step."""
    if not STEPS:
        pytest.skip("no cases")
    for _, step in STEPS:
        engine = Engine(World.from_state(concrete_state(step["state"])))
        probe = (step["probe"]["protocol"], step["probe"]["port"])
        allowed = sum(r["allowed"] for r in engine.reachability([probe]))
        assert engine.counts([probe])[0]["allowed"] == allowed
