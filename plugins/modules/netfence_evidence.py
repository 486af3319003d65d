#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.evidence`: create a run folder, or seal it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_evidence
short_description: Create or seal a netfence evidence run folder
description:
  - With O(action=create), creates C(<root>/<cluster>/<run-id>/) and writes C(run.json).
    A run folder is never reused, so a run never overwrites another.
  - With O(action=seal), writes C(SHA256SUMS) over every file of the run folder.
  - In check mode nothing is written; O(action=create) then returns RV(run_dir) as null.
options:
  action:
    description: What to do.
    type: str
    choices: [create, seal]
    default: create
  root:
    description: Evidence root folder (O(action=create)).
    type: path
  cluster:
    description: Cluster name, the sub-folder of O(root) (O(action=create)).
    type: str
  info:
    description: Extra facts recorded in C(run.json) (inventory, context, stages). Never put secrets here.
    type: dict
    default: {}
  run_dir:
    description: The run folder to seal (O(action=seal)).
    type: path
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Create the run folder
  netfence_evidence:
    root: "{{ netfence_evidence_dir }}"
    cluster: "{{ netfence_cluster_name }}"
    info: {inventory: "{{ inventory_dir }}"}
  register: run

- name: Seal it
  netfence_evidence:
    action: seal
    run_dir: "{{ run.run_dir }}"
"""

RETURN = r"""
run_dir:
  description: Absolute path of the run folder (null in check mode for O(action=create)).
  returned: always
  type: str
run_id:
  description: The run id (the folder's name).
  returned: action=create and not check mode
  type: str
"""

import datetime
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence import __version__ as NETFENCE_VERSION
    from netfence import evidence
    from netfence.errors import NetfenceError
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["create", "seal"], "default": "create"},
            "root": {"type": "path"},
            "cluster": {"type": "str"},
            "info": {"type": "dict", "default": {}},
            "run_dir": {"type": "path"},
        },
        required_if=[("action", "create", ("root", "cluster")), ("action", "seal", ("run_dir",))],
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    params = module.params
    try:
        if params["action"] == "create":
            if module.check_mode:
                module.exit_json(changed=True, run_dir=None, msg="check mode: no run folder created")
            run_dir = evidence.create_run_dir(params["root"], params["cluster"])
            record = {
                "run_id": run_dir.name,
                "cluster": params["cluster"],
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "netfence_version": NETFENCE_VERSION,
                **params["info"],
            }
            evidence.write_json(run_dir, "run.json", record)
            module.exit_json(changed=True, run_dir=str(run_dir), run_id=run_dir.name)
        run_dir = Path(params["run_dir"])
        if not run_dir.is_dir():
            module.fail_json(msg=f"run folder {run_dir} does not exist")
        if module.check_mode:
            module.exit_json(changed=True, run_dir=str(run_dir))
        evidence.seal(run_dir)
        module.exit_json(changed=True, run_dir=str(run_dir))
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
