"""The kind scenario's create, converge and idempotence steps, played with the fake tools.

Molecule's idempotence step runs converge again with ``--skip-tags
molecule-notest,notest,molecule-idempotence-notest`` and fails when the recap shows ``changed=``
above 0 (molecule/command/idempotence.py, molecule/provisioner/ansible.py). The fakes cannot show
what a real operator does to the Installation (tests/provision/test_calico_installation.py covers
the defaulted pool); this shows that nothing else in converge changes on a second run.
"""

from __future__ import annotations

import re

import yaml

from labkit import REPO, Lab

MOLECULE_IDEMPOTENCE_SKIP_TAGS = "molecule-notest,notest,molecule-idempotence-notest"


def test_the_kind_scenario_runs_idempotence_right_after_converge() -> None:
    scenario = yaml.safe_load((REPO / "molecule" / "kind" / "molecule.yml").read_text())
    sequence = scenario["scenario"]["test_sequence"]
    assert sequence[sequence.index("converge") + 1] == "idempotence"
    assert sequence.index("idempotence") < sequence.index("verify")


def test_create_then_converge_then_converge_again_changes_nothing(lab: Lab) -> None:
    create = lab.run("../molecule/kind/create.yml")
    assert create.rc == 0, create.failure()
    assert lab.state()["kind"].get("lab") is not None  # create made the cluster
    assert not [c for c in lab.calls("kubectl") if "apply" in c]  # and left Calico to converge

    converge = lab.run("../molecule/kind/converge.yml")
    assert converge.rc == 0, converge.failure()
    assert converge.changed_in("calico")  # the first apply of Calico happens in converge
    runs = sorted((lab.root / "evidence" / "lab").glob("*/provision.json"))
    assert len(runs) == 1

    again = lab.run("../molecule/kind/converge.yml", "--skip-tags", MOLECULE_IDEMPOTENCE_SKIP_TAGS,
                    callback="ansible.builtin.default")
    assert again.rc == 0, again.stdout[-3000:]
    recap = again.stdout[again.stdout.rindex("PLAY RECAP"):]
    assert re.search(r"changed=[1-9][0-9]*", recap) is None, again.stdout[-4000:]
    assert sorted((lab.root / "evidence" / "lab").glob("*/provision.json")) == runs
