#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.plan`: one call validates, renders, predicts and writes the run folder."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_plan
short_description: Validate netfence_namespaces, render its NetworkPolicies, predict, write the run folder
description:
  - Parses O(namespaces) (the inventory's C(netfence_namespaces)) once, renders one NetworkPolicy
    manifest file per namespace, validates every policy (the official schema of
    O(kubernetes_version), the API server's rules the schema lacks, and the common mistakes the
    engine finds, such as egress without DNS, the Service port instead of the container port,
    ingress from the whole internet, namespaces without default deny) and predicts reachability from the lab the
    inventory describes. The same library call as C(netfence plan) on the command line, so both
    write the same run folder.
  - Fails with every problem found, each with its inventory path, for example
    C(netfence_namespaces[1].allow_from_namespaces[0].ports[0].port). Nothing is written then.
  - With O(write), writes C(manifests/<namespace>.yaml), C(predicted/...) and C(run.json) into a
    new run folder under O(evidence_root) (or into O(run_dir), where absent or empty starts a run,
    an open run of the same inventory is rewritten only where bytes change, a sealed or tampered
    run or one planned from another inventory is refused), then seals C(SHA256SUMS) and marks the
    plan finished. A second run with the same inventory reports no change.
  - In check mode nothing is written; RV(changed) says whether a file would change, and with
    C(--diff) the diffs show how.
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
      The cluster's pod CIDR; predicted pods get addresses from it, a malformed one is an error,
      and internet egress that covers it without an C(except) is warned about.
    type: str
  service_subnet:
    description: The cluster's Service CIDR; checked like O(pod_subnet).
    type: str
  api_server_endpoint:
    description: The API server endpoint policies see (C(ip:port)); empty means kind's usual C(172.18.0.2:6443).
    type: str
  probes:
    description: >-
      The inventory's C(netfence_probes), checked as the probe stage will read it (names, sources,
      targets, ports, expectations), so a mistake fails the plan instead of the run after provisioning.
    type: raw
  external_namespaces:
    description: >-
      The inventory's C(netfence_external_namespaces): namespaces netfence does not manage that the
      inventory refers to on purpose (e.g. a monitoring namespace run by another team), so a
      reference to one is not warned about as a possible typo. Names only.
    type: raw
  variable_names:
    description: >-
      Every C(netfence_*) variable the inventory sets (the plan role passes
      C(query('ansible.builtin.varnames', '^netfence_'))); a name netfence does not read warns with the nearest known one.
    type: list
    elements: str
    default: []
  write:
    description: Write the run folder. False only validates (and returns the manifests).
    type: bool
    default: false
  evidence_root:
    description: Folder under which C(<cluster>/<run id>/) is created when O(run_dir) is not given.
    type: path
  cluster:
    description: Cluster name (the evidence folder under O(evidence_root)).
    type: str
    default: netfence
  run_dir:
    description: An existing run folder to write into (site.yml chains stages in one folder).
    type: path
  inventory:
    description: The inventory folder, recorded in C(run.json).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Validate the inventory (writes nothing)
  netfence_plan:
    namespaces: "{{ netfence_namespaces }}"
    kubernetes_version: "{{ netfence_kubernetes_version }}"
  register: plan

- name: Validate, render, predict and write a new run folder
  netfence_plan:
    namespaces: "{{ netfence_namespaces }}"
    kubernetes_version: "{{ netfence_kubernetes_version }}"
    write: true
    evidence_root: "{{ netfence_evidence_dir }}"
    cluster: "{{ netfence_cluster_name }}"
"""

RETURN = r"""
run_dir:
  description: The run folder written (or, in check mode, the given one); empty when nothing was written.
  returned: success
  type: str
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
changed_files:
  description: Files (relative to the run folder) whose content was, or in check mode would be, written.
  returned: success and O(write)
  type: list
  elements: str
problems:
  description: "Every problem found, as C(SEVERITY path: message) strings; warnings only on success."
  returned: always
  type: list
  elements: str
summary:
  description: A few human-readable lines (counts), then the prediction's, then the run folder.
  returned: success
  type: list
  elements: str
prediction:
  description: The prediction's summary (pods, policies, ports, allowed pairs, what a rogue pod reaches).
  returned: success and O(write)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence.errors import NetfenceError
    from netfence.inventory.schema import InventoryError, count_text
    from netfence.plan import build_plan, write_run
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
            "external_namespaces": {"type": "raw"},
            "write": {"type": "bool", "default": False},
            "evidence_root": {"type": "path"},
            "cluster": {"type": "str", "default": "netfence"},
            "run_dir": {"type": "path"},
            "inventory": {"type": "str", "default": ""},
        },
        required_if=[("write", True, ("evidence_root", "run_dir"), True)],
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    params = module.params
    try:
        plan = build_plan(params["namespaces"], params["kubernetes_version"],
                          pod_subnet=params["pod_subnet"] or None, service_subnet=params["service_subnet"] or None,
                          api_server_endpoint=params["api_server_endpoint"] or None,
                          variable_names=params["variable_names"], probes=params["probes"] or None,
                          external_namespaces=params["external_namespaces"] or None)
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
        "run_dir": "",
        "policies": {ns: [p.name for p in policies] for ns, policies in plan.rendered.items()},
        "manifests": [p.manifest for policies in plan.rendered.values() for p in policies],
        "policy_count": plan.policy_count(),
        "problems": [str(p) for p in plan.problems],
        "summary": plan.summary_lines(),
    }
    if params["write"]:
        try:
            written = write_run(plan, cluster=params["cluster"], root=params["evidence_root"],
                                run_dir=params["run_dir"] or None, inventory=params["inventory"],
                                dry_run=module.check_mode)
        except NetfenceError as exc:
            module.fail_json(msg=str(exc))
        except OSError as exc:
            module.fail_json(msg=f"cannot write the run folder: {exc}")
        result.update(changed=bool(written.changed) or written.created, changed_files=written.changed,
                      run_dir=str(written.run_dir or ""), prediction=plan.prediction["summary"])
        result["summary"] = result["summary"] + plan.prediction_lines()
        if module._diff:
            result["diff"] = written.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
