#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.evidence.runs`: create a run folder, or seal it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_evidence
short_description: Create, open, seal or verify a netfence evidence run folder
description:
  - A run folder is I(open) while it holds C(INCOMPLETE) (from its first byte) and I(sealed) once
    the report stage removed it; a sealed run is never written again (see docs/evidence.md).
  - With O(action=create), creates C(<root>/<cluster>/<run-id>/) with C(INCOMPLETE), C(run.json)
    and C(SHA256SUMS). A run folder is never reused, so a run never overwrites another.
  - With O(action=open), lets O(stage) write into O(run_dir) - an open run whose C(SHA256SUMS)
    matches, planned (when O(inventory_sha256) is given) from the same inventory - and marks
    C(INCOMPLETE) with the stage. An absent or empty O(run_dir) becomes a new run. A sealed,
    unsealed or tampered run is refused with the files named.
  - With O(action=seal), re-writes C(SHA256SUMS) of an open run after a stage added files
    (C(INCOMPLETE) stays). With O(stage), the last step of that stage, C(INCOMPLETE) then records
    that it finished, and the report seals for good only a run whose last stage finished, never an
    interrupted one. Changed only when the evidence changed (the marker is bookkeeping). A sealed
    run is refused.
  - With O(action=verify), checks C(SHA256SUMS) and fails on any missing, changed or unlisted file;
    an open run fails unless O(allow_open). Writes nothing; runs in check mode too.
  - In check mode nothing is written; O(action=create) then returns RV(run_dir) as null.
options:
  action:
    description: What to do.
    type: str
    choices: [create, open, seal, verify]
    default: create
  root:
    description: Evidence root folder (O(action=create)).
    type: path
  cluster:
    description: Cluster name, the sub-folder of O(root) (O(action=create)).
    type: str
  info:
    description: Extra facts recorded in C(run.json) (inventory, context, stage) when a run is created. Never put secrets here.
    type: dict
    default: {}
  stage:
    description:
      - The stage about to write (O(action=create) and O(action=open)), or the stage that has
        written all it writes (O(action=seal)); recorded in C(INCOMPLETE).
    type: str
    default: ""
  inventory_sha256:
    description:
      - Fingerprint of the plan's input (O(action=open)). A run that recorded another one is refused;
        a run that recorded none records this one in C(run.json).
    type: str
  inventory:
    description: The inventory's name or path, recorded with O(inventory_sha256) and named in a refusal.
    type: str
  run_dir:
    description: The run folder (O(action=open), O(action=seal), O(action=verify)).
    type: path
  allow_open:
    description: With O(action=verify), accept an open (incomplete) run whose checksums match.
    type: bool
    default: false
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Create the run folder
  netfence_evidence:
    root: "{{ netfence_evidence_dir }}"
    cluster: "{{ netfence_cluster_name }}"
    stage: plan
    info: {inventory: "{{ inventory_dir }}"}
  register: run

- name: Let the probe stage write into it
  netfence_evidence:
    action: open
    run_dir: "{{ run.run_dir }}"
    stage: probe-after

- name: Re-seal it after the stage wrote
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
state:
  description: C(open), C(sealed), C(unsealed), C(empty) or C(missing), before the action.
  returned: action=open or action=verify
  type: str
problems:
  description: What does not match SHA256SUMS (O(action=verify)); empty when intact.
  returned: action=verify
  type: list
  elements: str
"""

import datetime
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence import __version__ as NETFENCE_VERSION
    from netfence.evidence import runs as evidence
    from netfence.errors import NetfenceError
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _record(params: dict) -> dict:
    return {
        "cluster": params["cluster"],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "netfence_version": NETFENCE_VERSION,
        **({"stage": params["stage"]} if params["stage"] else {}),
        **params["info"],
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["create", "open", "seal", "verify"], "default": "create"},
            "root": {"type": "path"},
            "cluster": {"type": "str"},
            "info": {"type": "dict", "default": {}},
            "stage": {"type": "str", "default": ""},
            "inventory_sha256": {"type": "str"},
            "inventory": {"type": "str"},
            "run_dir": {"type": "path"},
            "allow_open": {"type": "bool", "default": False},
        },
        required_if=[("action", "create", ("root", "cluster")), ("action", "open", ("run_dir",)),
                     ("action", "seal", ("run_dir",)), ("action", "verify", ("run_dir",))],
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    params = module.params
    action = params["action"]
    try:
        if action == "create":
            if module.check_mode:
                module.exit_json(changed=True, run_dir=None, msg="check mode: no run folder created")
            run_dir = evidence.create_run_dir(params["root"], params["cluster"], stage=params["stage"])
            evidence.write_json(run_dir, "run.json", {"run_id": run_dir.name, **_record(params)})
            evidence.seal(run_dir)
            module.exit_json(changed=True, run_dir=str(run_dir), run_id=run_dir.name)
        run_dir = Path(params["run_dir"])
        current = evidence.state(run_dir)
        if action == "verify":
            problems = evidence.verify(run_dir) if current in ("open", "sealed") else [f"the run is {current}"]
            if problems or (current == "open" and not params["allow_open"]):
                reason = "; ".join(problems) if problems else f"{evidence.INCOMPLETE} is present: the run is incomplete"
                module.fail_json(msg=f"{run_dir}: {reason}", state=current, problems=problems, run_dir=str(run_dir))
            module.exit_json(changed=False, state=current, problems=[], run_dir=str(run_dir))
        if action == "open":
            if current in ("missing", "empty"):
                if not module.check_mode:
                    evidence.start_run(run_dir, {**_record({**params, "cluster": params["cluster"] or run_dir.parent.name}),
                                                 **({"inventory_sha256": params["inventory_sha256"]} if params["inventory_sha256"] else {}),
                                                 **({"inventory": params["inventory"]} if params["inventory"] else {})},
                                       params["stage"])
                module.exit_json(changed=True, state=current, run_dir=str(run_dir))
            changed = evidence.open_run(run_dir, params["stage"], inventory_sha256=params["inventory_sha256"],
                                        inventory=params["inventory"], dry_run=module.check_mode)
            module.exit_json(changed=changed, state=current, run_dir=str(run_dir))
        if current == "missing":
            module.fail_json(msg=f"run folder {run_dir} does not exist")
        if current != "open":
            evidence.seal(run_dir)  # refuses with the reason
        changed = evidence.seal_needed(run_dir)
        # the stage's last step: INCOMPLETE then says it finished (bookkeeping, not a change)
        unfinished = bool(params["stage"]) and evidence.interrupted_stage(run_dir) is not None
        if (changed or unfinished) and not module.check_mode:
            evidence.seal(run_dir, finished=params["stage"] or None)
        module.exit_json(changed=changed, run_dir=str(run_dir))
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
