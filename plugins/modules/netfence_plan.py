#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.validate` and :mod:`netfence.render`: check, render, write."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_plan
short_description: Validate netfence_namespaces and render its NetworkPolicies
description:
  - Parses O(namespaces) (the inventory's C(netfence_namespaces)), renders one NetworkPolicy
    manifest file per namespace and validates every policy against the official schema of
    O(kubernetes_version), the API server's rules the schema lacks, and common mistakes
    (egress without DNS, Service port instead of container port, ingress from the whole internet).
  - Fails with every problem found, each with its inventory path, for example
    C(netfence_namespaces[1].allow_from_namespaces[0].ports[0].port). Nothing is written then.
  - With O(dest), writes C(manifests/<namespace>.yaml) into that folder, rewriting a file only
    when its bytes change, so a second run with the same inventory reports no change.
  - In check mode nothing is written; RV(changed) says whether a file would change.
options:
  namespaces:
    description: The inventory's C(netfence_namespaces) (see docs/inventory.md).
    type: list
    elements: raw
    required: true
  kubernetes_version:
    description: Kubernetes version whose NetworkPolicy schema applies, for example C(v1.35.8).
    type: str
    required: true
  pod_subnet:
    description: >-
      The cluster's pod CIDR; a malformed one is an error, and internet egress that covers it
      without an C(except) is warned about.
    type: str
  service_subnet:
    description: The cluster's Service CIDR; checked like O(pod_subnet).
    type: str
  api_server_endpoint:
    description: The API server endpoint policies see (C(ip:port)); a malformed one is an error here, before anything is written.
    type: str
  probes:
    description: >-
      The inventory's C(netfence_probes), checked as the probe stage will read it (names, sources,
      targets, ports, expectations), so a mistake fails the plan instead of the run after provisioning.
    type: raw
  variable_names:
    description: >-
      Every C(netfence_*) variable the inventory sets (the plan role passes
      C(query('ansible.builtin.varnames', '^netfence_'))); a name netfence does not read warns with the nearest known one.
    type: list
    elements: str
    default: []
  dest:
    description: Folder (usually the run folder) to write C(manifests/<namespace>.yaml) into. Omit to only validate.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Validate the inventory and render its policies (writes nothing)
  netfence_plan:
    namespaces: "{{ netfence_namespaces }}"
    kubernetes_version: "{{ netfence_kubernetes_version }}"
  register: plan

- name: Write the manifests into the run folder
  netfence_plan:
    namespaces: "{{ netfence_namespaces }}"
    kubernetes_version: "{{ netfence_kubernetes_version }}"
    dest: "{{ netfence_run_dir }}"
"""

RETURN = r"""
policies:
  description: Rendered policy names per namespace.
  returned: success
  type: dict
  sample: {dev: [netfence-default-deny-ingress, netfence-allow-dns-egress]}
manifests:
  description: >-
    The rendered NetworkPolicy manifests, in file order. In check mode, when nothing is written,
    the policies role applies these (as a server-side dry run) to show its diff.
  returned: success
  type: list
  elements: dict
policy_count:
  description: Number of rendered policies.
  returned: success
  type: int
files:
  description: Paths of the manifest files under O(dest) (all of them, changed or not).
  returned: success and O(dest) given
  type: list
  elements: str
changed_files:
  description: Files whose content was (or in check mode would be) written.
  returned: success and O(dest) given
  type: list
  elements: str
problems:
  description: "Every problem found, as C(SEVERITY path: message) strings; warnings only on success."
  returned: always
  type: list
  elements: str
summary:
  description: A few human-readable lines (policies per namespace, totals).
  returned: success
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence import evidence
    from netfence.errors import NetfenceError
    from netfence.inventory import InventoryError, count_text
    from netfence.validate import build_plan, summary_lines
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _fail(module: AnsibleModule, problems: list) -> None:
    lines = [f"netfence_plan: {count_text(problems)} in the inventory; nothing was written:"]
    lines += [f"  {p}" for p in problems]
    module.fail_json(msg="\n".join(lines), problems=[str(p) for p in problems])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "namespaces": {"type": "list", "elements": "raw", "required": True},
            "kubernetes_version": {"type": "str", "required": True},
            "pod_subnet": {"type": "str"},
            "service_subnet": {"type": "str"},
            "api_server_endpoint": {"type": "str"},
            "variable_names": {"type": "list", "elements": "str", "default": []},
            "probes": {"type": "raw"},
            "dest": {"type": "path"},
        },
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    params = module.params
    try:
        plan = build_plan(params["namespaces"], params["kubernetes_version"],
                          pod_subnet=params["pod_subnet"] or None, service_subnet=params["service_subnet"] or None,
                          api_server_endpoint=params["api_server_endpoint"] or None,
                          variable_names=params["variable_names"], probes=params["probes"])
    except InventoryError as exc:
        _fail(module, exc.problems)
    except NetfenceError as exc:
        module.fail_json(msg=str(exc), problems=[str(exc)])
    if plan.errors:
        _fail(module, plan.problems)
    for problem in plan.warnings:
        module.warn(f"{problem.path}: {problem.message}")  # Ansible prints its own "[WARNING]: " before it
    result = {
        "changed": False,
        "policies": {ns: [p.name for p in policies] for ns, policies in plan.rendered.items()},
        "manifests": [p.manifest for policies in plan.rendered.values() for p in policies],
        "policy_count": plan.policy_count(),
        "problems": [str(p) for p in plan.problems],
        "summary": summary_lines(plan),
    }
    if params["dest"]:
        dest = Path(params["dest"])
        files, changed, diffs = [], [], []
        for relpath, text in plan.files.items():
            target = dest / relpath
            files.append(str(target))
            before = target.read_text(encoding="utf-8") if target.is_file() else None
            if before == text:
                continue
            changed.append(str(target))
            diffs.append({"before_header": str(target), "after_header": str(target),
                          "before": before or "", "after": text})
            if not module.check_mode:
                try:
                    evidence.write_text(dest, relpath, text, overwrite=True)
                except NetfenceError as exc:
                    module.fail_json(msg=str(exc))
        result.update(files=files, changed_files=changed, changed=bool(changed))
        if module._diff:
            result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
