#!/usr/bin/python
"""Ansible adapter over :func:`netfence.inventory.predict.api_server_record`: the API server rows, predicted
again for the endpoints the cluster really has."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_predict
short_description: Predict, for the API server's real endpoints, what a rogue pod of each namespace may reach
description:
  - The plan (M(netfence_plan)) predicts everything before a cluster exists, including the API
    server rows, which are about an assumed endpoint (C(netfence_api_server_endpoint)). Once the
    blast-radius stage has read where the C(kubernetes) Service really sends traffic, this module
    predicts the same rows for those endpoints, from the run's manifests and the same lab model,
    and writes C(api-server.json) so the report compares the probes with a prediction about the
    address they really reached.
  - An existing C(api-server.json) is kept (evidence is never rewritten). Needs no cluster.
    In check mode nothing is written; RV(changed) says whether the file would be.
options:
  namespaces:
    description: The inventory's namespaces (C(netfence_namespaces)); empty for a run without a plan (no prediction then).
    type: list
    elements: dict
    required: true
  manifests_dir:
    description: Folder of rendered manifests (C(*.yaml)/C(*.yml), multi-document). Mutually exclusive with O(manifests).
    type: path
  manifests:
    description: Rendered NetworkPolicy manifests as a list of dicts. Mutually exclusive with O(manifests_dir).
    type: list
    elements: dict
  run_dir:
    description: The run folder to write into.
    type: path
    required: true
  pod_subnet:
    description: The cluster's pod CIDR (C(netfence_pod_subnet)); predicted pods get addresses from it, as in the plan.
    type: str
    default: ""
  observed_api_server:
    description:
      - What the cluster said about C(default/kubernetes), as C(endpoints) (a list of C(ip:port),
        null when they could not be read) and C(error) (why not).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Record the API server's real endpoints and their prediction
  netfence_predict:
    namespaces: "{{ netfence_namespaces }}"
    manifests_dir: "{{ netfence_run_dir }}/manifests"
    run_dir: "{{ netfence_run_dir }}"
    observed_api_server:
      endpoints: ["192.0.2.2:6443"]
"""

RETURN = r"""
record:
  description: The content of C(api-server.json).
  returned: success
  type: dict
msg:
  description: One-line summary.
  returned: always
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence.evidence import runs as _evidence
    from netfence.inventory import lab as _lab
    from netfence.inventory import predict as _predict
    from netfence.errors import NetfenceError
    from netfence.inventory.schema import parse
    from netfence.policy.model import parse_policy
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _record(p: dict, manifests: list) -> dict:
    observed = p["observed_api_server"]
    endpoints = observed.get("endpoints")
    endpoints = None if endpoints is None else [str(e) for e in endpoints]
    if not p["namespaces"] or endpoints is None:
        return _predict.api_server_record(None, None, endpoints, error=observed.get("error"))
    lab = _lab.build(parse(p["namespaces"]), pod_subnet=p["pod_subnet"] or None)
    engine = lab.engine([parse_policy(m, f"manifests[{i}]") for i, m in enumerate(manifests)])
    return _predict.api_server_record(lab, engine, endpoints)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "namespaces": {"type": "list", "elements": "dict", "required": True},
            "manifests_dir": {"type": "path"},
            "manifests": {"type": "list", "elements": "dict"},
            "run_dir": {"type": "path", "required": True},
            "pod_subnet": {"type": "str", "default": ""},
            "observed_api_server": {"type": "dict", "required": True},
        },
        mutually_exclusive=[("manifests_dir", "manifests")],
        required_one_of=[("manifests_dir", "manifests")],
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    p = module.params
    try:
        manifests = _predict.load_manifests_dir(p["manifests_dir"]) if p["manifests_dir"] else p["manifests"]
        record = _record(p, manifests)
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))
    run_dir = Path(p["run_dir"])
    if not run_dir.is_dir():
        module.fail_json(msg=f"run folder {run_dir} does not exist")
    target = run_dir / _evidence.API_SERVER_FILE
    if target.exists():
        module.exit_json(changed=False, record=record, msg=f"{target} already recorded; kept")
    if module.check_mode:
        module.exit_json(changed=True, record=record, msg=f"check mode: would write {target}")
    _evidence.write_json(run_dir, _evidence.API_SERVER_FILE, record)
    module.exit_json(changed=True, record=record, msg=f"wrote {target}")


if __name__ == "__main__":
    main()
