#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.evidence.report_run`: write a run's report and seal it, or judge it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_report
short_description: Write a run folder's report and seal it, or fail on its disagreements
description:
  - With O(action=write), builds C(report.md) (before vs after vs predicted, disagreements with
    likely causes, blast radius, coverage), C(report.html) (the same drawn, self-contained) and C(junit.xml) from the evidence of an open, intact
    run whose last stage finished, writes them and seals the run for good. A sealed, tampered,
    unsealed or unfinished run is refused, and nothing is written.
  - With O(action=gate), reads a sealed run (or, with O(inspect), any run) and fails, naming each
    reason, when an expected round is missing, empty or all errors, the prediction is missing, or
    any observation disagrees with what was expected or predicted. Fails closed.
  - The same library calls as C(netfence report --write) and C(netfence report --fail-on-disagreement).
options:
  action:
    description: C(write) the report and seal the run, or C(gate) on it.
    type: str
    choices: [write, gate]
    required: true
  run_dir:
    description: The run folder (C(evidence/<cluster>/<run-id>)).
    type: path
    required: true
  expect:
    description: The probe rounds the run must hold; one missing or empty fails the gate and is a failing JUnit case.
    type: list
    elements: str
    default: [before, after, blast-radius]
  inspect:
    description: Gate a run that is not sealed and intact anyway (what is wrong with it fails the gate).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Write report.md, report.html and junit.xml and seal the run
  netfence_report:
    action: write
    run_dir: "{{ netfence_run_dir }}"

- name: Fail on disagreements or missing evidence
  netfence_report:
    action: gate
    run_dir: "{{ netfence_run_dir }}"
"""

RETURN = r"""
files:
  description: The report files written (or, in check mode, that would be).
  returned: action=write
  type: list
  elements: str
problems:
  description: Why the gate fails; empty when it passes.
  returned: action=gate
  type: list
  elements: str
msg:
  description: One-line summary.
  returned: always
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence.evidence import report
    from netfence.evidence import report_run
    from netfence.errors import NetfenceError
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["write", "gate"], "required": True},
            "run_dir": {"type": "path", "required": True},
            "expect": {"type": "list", "elements": "str", "default": ["before", "after", "blast-radius"]},
            "inspect": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    params = module.params
    run_dir = Path(params["run_dir"])
    unknown = [r for r in params["expect"] if r not in report.ROUNDS]
    if unknown:
        module.fail_json(msg=f"unknown round(s) {', '.join(unknown)}; choose from {', '.join(report.ROUNDS)}")
    files = [str(run_dir / name) for name in report_run.REPORT_FILES]
    try:
        if params["action"] == "write":
            if module.check_mode:
                report_run.check_writable(run_dir)
                module.exit_json(changed=True, files=files, msg=f"check mode: would write the report and seal {run_dir}")
            report_run.write(run_dir, params["expect"])
            module.exit_json(changed=True, files=files, msg=f"wrote {', '.join(files)}; sealed {run_dir}")
        problems = report_run.read(run_dir, inspect=params["inspect"]).gate(params["expect"])
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        doing = "write the report into" if params["action"] == "write" else "read"
        module.fail_json(msg=f"cannot {doing} {run_dir}: {exc.strerror or exc}")
    if problems:
        module.fail_json(msg=f"the report gate failed ({run_dir / 'report.md'}): " + "; ".join(problems), problems=problems)
    module.exit_json(changed=False, problems=[], msg="gate passed: every expected round recorded, no disagreement")


if __name__ == "__main__":
    main()
