#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.probes`: plan probes and pods, or run a probe round."""

from __future__ import annotations

DOCUMENTATION = r"""
module: netfence_probe
short_description: Plan and run netfence reachability probes
description:
  - C(action=plan) turns inventory probes and the engine's predicted matrix into probe specs and
    one probe pod manifest per source identity. It contacts nothing.
  - C(action=plan_blast) plans the probes of a rogue pod in each of O(blast_namespaces) against the
    given Services, the API server, cluster DNS and an external address.
  - C(action=run) waits for the probe pods, runs every probe concurrently through the API's exec
    with timeouts and bounded retries, and writes the records into the run folder (never
    overwriting). It fails, after writing the evidence, when probe pods could not start.
options:
  action: {type: str, required: true, choices: [plan, plan_blast, run], description: What to do.}
  probes: {type: list, elements: dict, default: [], description: Inventory probes (plan) or planned probes (run).}
  namespaces: {type: list, elements: dict, default: [], description: netfence_namespaces, for workload labels.}
  predicted_matrix: {type: path, description: predicted/matrix.json; ignored when missing.}
  phase: {type: str, default: after, choices: [before, after, blast-radius], description: Probe phase.}
  run_id: {type: str, default: check-mode, description: Run id, part of the probe pod names.}
  image: {type: str, default: "", description: Probe image (plan).}
  pod_args: {type: list, elements: str, default: [pause], description: Probe container args.}
  pull_policy: {type: str, default: IfNotPresent, choices: [Always, IfNotPresent, Never], description: imagePullPolicy of the probe pods.}
  local_only:
    type: bool
    default: false
    description:
      - Before the round, check with C(ip route get) that every literal target address (external hosts, resolved
        pod IPs) is this machine's own or routes without a gateway through one of O(local_devices); fail without
        probing when one does not, or when an external target is a name.
  local_devices: {type: list, elements: str, default: [], description: The lab's own interfaces for O(local_only).}
  cluster_domain: {type: str, default: cluster.local, description: Cluster DNS domain.}
  blast_namespaces: {type: list, elements: str, aliases: [blast_namespace], description: Namespaces of the rogue pods, one each (plan_blast).}
  blast_labels: {type: dict, default: {}, description: Labels of the rogue pod (plan_blast).}
  services: {type: list, elements: dict, default: [], description: Service objects to probe (plan_blast).}
  notes: {type: dict, default: {}, description: "Recorded as the round's C(notes) (run): what it could not see, e.g. C(services_read)."}
  external: {type: str, default: 1.1.1.1, description: Internet address to probe (plan_blast).}
  run_dir: {type: path, description: Run folder (run).}
  output: {type: str, description: Record file inside the run folder; default probes/<phase>.json.}
  cluster: {type: str, default: "", description: Cluster name for the records.}
  kubeconfig: {type: path, description: Kubeconfig file.}
  context: {type: str, description: Kubeconfig context.}
  timeout: {type: float, default: 2.0, description: Per-probe timeout in seconds.}
  retries: {type: int, default: 1, description: Retries of a probe that disagrees with its expectation (0-5).}
  concurrency: {type: int, default: 50, description: Probes in flight at once.}
  request_timeout: {type: float, default: 10.0, description: Timeout of each API request.}
  pod_wait_timeout: {type: float, default: 120.0, description: How long probe pods may take to run.}
  progress_file:
    type: path
    description:
      - (run) Append progress lines (done/total, elapsed) to this file while the round runs. The
        netfence_probe action plugin sets it and relays the lines to the terminal; leave it unset.
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Plan probes and probe pods
  netfence_probe:
    action: plan
    probes: "{{ netfence_probes }}"
    namespaces: "{{ netfence_namespaces }}"
    predicted_matrix: "{{ netfence_run_dir }}/predicted/matrix.json"
    phase: after
    run_id: "{{ netfence_run_dir | basename }}"
    image: "{{ netfence_probe_image }}"
  register: planned

- name: Run them (the probe pods must exist)
  netfence_probe:
    action: run
    probes: "{{ planned.probes }}"
    phase: after
    run_dir: "{{ netfence_run_dir }}"
    cluster: "{{ netfence_cluster_name }}"
    kubeconfig: "{{ netfence_kubeconfig }}"
    context: "{{ netfence_kube_context }}"
"""

RETURN = r"""
probes: {description: Planned probes (plan, plan_blast)., returned: plan and plan_blast, type: list}
pods: {description: One probe pod manifest per source identity., returned: plan and plan_blast, type: list}
pod_names: {description: Names of those pods., returned: plan and plan_blast, type: list}
unprobed: {description: Predicted rows that cannot be probed, with the reason., returned: plan, type: list}
path: {description: The record file written., returned: run, type: str}
summary: {description: Counts per outcome and the mismatching probes., returned: run, type: dict}
pods_failed: {description: Source identities whose probe pod never ran, with the reason., returned: run, type: dict}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence


def _plan(module, params):
    from netfence import loading
    from netfence.evidence import shapes as evidence_shapes
    from netfence.probes import plan

    specs = plan.from_inventory(params["probes"], params["namespaces"], domain=params["cluster_domain"])
    skipped = []
    path = params.get("predicted_matrix")
    if path and os.path.isfile(path):
        matrix = loading.read_json(path, "predicted matrix")  # bounded; a wrong shape names file and field
        evidence_shapes.check("matrix", matrix, path)
        predicted, skipped = plan.from_predicted(matrix, params["namespaces"], phase=params["phase"])
        specs += predicted
    return specs, skipped


def _result(specs, skipped, params, naked=False):
    from netfence.probes import plan

    pods = [plan.probe_pod(s, run_id=params["run_id"], phase=params["phase"], image=params["image"], args=params["pod_args"],
                           pull_policy=params["pull_policy"], naked=naked)
            for s in plan.sources(specs)]
    return {
        "changed": False,
        "probes": [s.to_dict() for s in specs],
        "pods": pods,
        "pod_names": [p["metadata"]["name"] for p in pods],
        "unprobed": skipped,
    }


def _run(module, params):
    from pathlib import Path

    from netfence.evidence import runs as evidence
    from netfence.probes import plan, records, runner
    from netfence.probes.records import ProbeSpec
    from netfence.probes.transport_k8s import KubernetesTransport

    run_dir = Path(os.path.realpath(params["run_dir"])) if params["run_dir"] else Path("")
    if not params["run_dir"] or not run_dir.is_dir():
        module.fail_json(msg=f"run folder {params['run_dir']!r} does not exist")
    specs = plan.refused_before(
        [ProbeSpec.from_dict(p) for p in params["probes"]],
        evidence.read_json(run_dir / "probes" / "before.json") if params["phase"] == "after" else None,
    )
    run_id = run_dir.name
    output = params.get("output") or f"probes/{params['phase']}.json"
    if (run_dir / output).exists():
        module.fail_json(msg=f"{run_dir / output} already exists; evidence is never overwritten")
    transport = KubernetesTransport(params.get("kubeconfig"), params.get("context"), params["request_timeout"])
    pods = {s.key: (s.namespace, s.pod_name(run_id, params["phase"])) for s in plan.sources(specs)}
    started = records.utc_now()
    waiting = probing = None
    if params.get("progress_file"):
        from netfence.progress import Progress, file_writer

        emit = file_writer(params["progress_file"])
        waiting = Progress(f"probe round {params['phase']!r}: probe pods running", len(pods), emit, unit="pods").step
        probing = Progress(f"probe round {params['phase']!r}", len(specs), emit).step
    failed = runner.wait_for_pods(transport, pods, params["pod_wait_timeout"], progress=waiting)
    settings = runner.Settings(
        phase=params["phase"], run_id=run_id, cluster=params["cluster"], context=params.get("context"),
        timeout=params["timeout"], retries=params["retries"], concurrency=params["concurrency"],
    )
    usable = {key: (None if key in failed else name) for key, (_, name) in pods.items()}
    guard = None
    if params["local_only"]:
        from netfence.probes.routes import require_local

        def guard(hosts):
            require_local(hosts, params["local_devices"])
    recs = runner.run_probes(specs, transport, settings, usable, failed, guard=guard, progress=probing)
    doc = records.phase_document(
        run_id=run_id, phase=params["phase"], cluster=params["cluster"], context=params.get("context"),
        started_at=started, finished_at=records.utc_now(), pods=len(pods), records=recs, notes=params["notes"],
    )
    path = evidence.write_json(run_dir, output, doc)
    result = {"changed": True, "path": str(path), "summary": doc["summary"], "pods_failed": failed}
    if failed:
        module.fail_json(msg="probe pods did not start: " + "; ".join(sorted(failed.values())) + f" (records kept in {path})", **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "required": True, "choices": ["plan", "plan_blast", "run"]},
            "probes": {"type": "list", "elements": "dict", "default": []},
            "namespaces": {"type": "list", "elements": "dict", "default": []},
            "predicted_matrix": {"type": "path"},
            "phase": {"type": "str", "default": "after", "choices": ["before", "after", "blast-radius"]},
            "run_id": {"type": "str", "default": "check-mode"},
            "image": {"type": "str", "default": ""},
            "pod_args": {"type": "list", "elements": "str", "default": ["pause"]},
            "pull_policy": {"type": "str", "default": "IfNotPresent", "choices": ["Always", "IfNotPresent", "Never"]},
            "local_only": {"type": "bool", "default": False},
            "local_devices": {"type": "list", "elements": "str", "default": []},
            "cluster_domain": {"type": "str", "default": "cluster.local"},
            "blast_namespaces": {"type": "list", "elements": "str", "aliases": ["blast_namespace"]},
            "blast_labels": {"type": "dict", "default": {}},
            "services": {"type": "list", "elements": "dict", "default": []},
            "notes": {"type": "dict", "default": {}},
            "external": {"type": "str", "default": "1.1.1.1"},
            "run_dir": {"type": "path"},
            "output": {"type": "str"},
            "cluster": {"type": "str", "default": ""},
            "kubeconfig": {"type": "path"},
            "context": {"type": "str"},
            "timeout": {"type": "float", "default": 2.0},
            "retries": {"type": "int", "default": 1},
            "concurrency": {"type": "int", "default": 50},
            "request_timeout": {"type": "float", "default": 10.0},
            "pod_wait_timeout": {"type": "float", "default": 120.0},
            "progress_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    try:
        from netfence.errors import NetfenceError
    except ImportError as exc:
        require_netfence(module, exc)
    params = module.params
    try:
        if params["action"] == "plan":
            specs, skipped = _plan(module, params)
            module.exit_json(**_result(specs, skipped, params))
        if params["action"] == "plan_blast":
            from netfence.probes import plan

            if not params.get("blast_namespaces"):
                module.fail_json(msg="blast_namespaces (at least one namespace) is required for plan_blast")
            params["phase"] = "blast-radius"
            specs = plan.blast_radius(params["blast_namespaces"], params["blast_labels"], params["services"],
                                      external=params["external"], domain=params["cluster_domain"],
                                      inventory=params["namespaces"])
            module.exit_json(**_result(specs, [], params, naked=True))
        if module.check_mode:
            module.exit_json(changed=False, skipped=True, msg="check mode: no probes run, nothing written")
        module.exit_json(**_run(module, params))
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
