#!/usr/bin/python
"""Ansible adapter over :mod:`netfence.predict`: write the predicted matrix, blast radius and coverage."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netfence_predict
short_description: Predict NetworkPolicy reachability for the inventory, offline
description:
  - Builds the world the inventory describes (one pod per workload with the labels and port name
    the workloads template gives it, the cluster DNS where the namespaces' C(dns) settings say,
    the API server endpoint, an internet address), evaluates the rendered NetworkPolicies with
    exact C(networking.k8s.io/v1) semantics and writes, into O(run_dir),
    C(predicted/matrix.json), one C(predicted/<PROTO>-<port>.md) truth table per declared port,
    C(predicted/blast-radius.json) (what an unlabelled pod in each namespace reaches) and
    C(predicted/coverage.json) (pods not isolated, namespaces without default-deny).
  - Rewrites a file only when its bytes change, so predicting twice into one run folder reports no change.
  - With O(observed_api_server), writes only C(api-server.json), the endpoints the cluster's
    C(kubernetes) Service really has (read by the blast-radius stage) and, for each, whether the
    policies let an unlabelled pod of each namespace reach it. The plan's rows are about an
    assumed endpoint; these are about the real one. An existing C(api-server.json) is kept.
  - Needs no cluster. In check mode the prediction is computed and summarised, nothing is written;
    RV(changed) says whether a file would change.
options:
  namespaces:
    description: The inventory's namespaces (C(netfence_namespaces)); C(name), C(labels) and C(workloads) are used.
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
    description: The run folder to write into. Required unless in check mode.
    type: path
  pod_subnet:
    description:
      - The cluster's pod CIDR (C(netfence_pod_subnet)). Predicted pods get addresses from it, so
        ipBlock rules match pods as they will on the cluster. Empty leaves pods without addresses
        (ipBlocks then never match a pod).
      - With O(service_subnet), also checked against each namespace's internet egress block; a
        block that covers either subnet without an C(except) for it is reported as a warning.
    type: str
    default: ""
  service_subnet:
    description: The cluster's Service CIDR (C(netfence_service_subnet)), only for the warning above.
    type: str
    default: ""
  observed_api_server:
    description:
      - What the cluster said about C(default/kubernetes), as C(endpoints) (a list of C(ip:port),
        null when they could not be read) and C(error) (why not).
    type: dict
  api_server_endpoint:
    description:
      - The API server endpoint as C(ip:port) (C(netfence_api_server_endpoint)); overrides
        O(api_server_ip) and O(api_server_port) when set.
    type: str
    default: ""
  api_server_ip:
    description:
      - IP of the API server endpoint as policies see it (host network, after Service translation);
        C(kubectl get endpoints kubernetes) shows it. The default is where kind usually puts its first
        control-plane node.
    type: str
    default: 172.18.0.2
  api_server_port:
    description: Port of the API server endpoint (the Service's target port).
    type: int
    default: 6443
  internet_ip:
    description: An address standing for "the internet" in the blast radius.
    type: str
    default: 1.1.1.1
  internet_port:
    description: TCP port probed on O(internet_ip).
    type: int
    default: 443
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: netfence maintainers
"""

EXAMPLES = r"""
- name: Predict reachability from the rendered policies
  netfence_predict:
    namespaces: "{{ netfence_namespaces }}"
    manifests_dir: "{{ netfence_run_dir }}/manifests"
    run_dir: "{{ netfence_run_dir }}"
  register: prediction
  when: netfence_run_dir is defined
"""

RETURN = r"""
record:
  description: The content of C(api-server.json) (with O(observed_api_server) only).
  returned: with observed_api_server
  type: dict
files:
  description: Paths written, relative to O(run_dir) (computed but not written in check mode).
  returned: always
  type: list
  elements: str
changed_files:
  description: Files whose content was (or in check mode would be) written.
  returned: always
  type: list
  elements: str
summary:
  description: Pods, policies, probes, allowed pairs per probe, what an unlabelled pod reaches per namespace, namespaces without default-deny.
  returned: always
  type: dict
msg:
  description: One-line summary.
  returned: always
  type: str
subnet_warnings:
  description: Internet egress blocks that also cover the pod or Service subnet (also shown as warnings).
  returned: always
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.netfence_support import require_netfence

try:
    from netfence import evidence as _evidence
    from netfence import predict as _predict
    from netfence.errors import NetfenceError
    from netfence.inventory import InventoryError, parse
    from netfence.validate import internet_egress_subnets
except ImportError as exc:  # pragma: no cover - environment problem, reported to the user
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None


def _record_api_server(module: AnsibleModule, p: dict, manifests: list) -> dict:
    """Write api-server.json (the first record of a run folder is kept, as evidence is)."""
    observed = p["observed_api_server"]
    endpoints = observed.get("endpoints")
    record = _predict.api_server_record(
        p["namespaces"], manifests, None if endpoints is None else [str(e) for e in endpoints],
        pod_subnet=p["pod_subnet"] or None, error=observed.get("error"),
    )
    run_dir = p["run_dir"]
    if not run_dir or not Path(run_dir).is_dir():
        module.fail_json(msg=f"run folder {run_dir!r} does not exist")
    target = Path(run_dir) / _evidence.API_SERVER_FILE
    if target.exists():
        return {"changed": False, "record": record, "msg": f"{target} already recorded; kept"}
    if module.check_mode:
        return {"changed": True, "record": record, "msg": f"check mode: would write {target}"}
    _evidence.write_json(Path(run_dir), _evidence.API_SERVER_FILE, record)
    return {"changed": True, "record": record, "msg": f"wrote {target}"}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "namespaces": {"type": "list", "elements": "dict", "required": True},
            "manifests_dir": {"type": "path"},
            "manifests": {"type": "list", "elements": "dict"},
            "run_dir": {"type": "path"},
            "pod_subnet": {"type": "str", "default": ""},
            "service_subnet": {"type": "str", "default": ""},
            "api_server_endpoint": {"type": "str", "default": ""},
            "observed_api_server": {"type": "dict"},
            "api_server_ip": {"type": "str", "default": "172.18.0.2"},
            "api_server_port": {"type": "int", "default": 6443},
            "internet_ip": {"type": "str", "default": "1.1.1.1"},
            "internet_port": {"type": "int", "default": 443},
        },
        mutually_exclusive=[("manifests_dir", "manifests")],
        required_one_of=[("manifests_dir", "manifests")],
        supports_check_mode=True,
    )
    require_netfence(module, IMPORT_ERROR)
    p = module.params
    try:
        manifests = _predict.load_manifests_dir(p["manifests_dir"]) if p["manifests_dir"] else p["manifests"]
        if p["observed_api_server"] is not None:
            module.exit_json(**_record_api_server(module, p, manifests))
        api_server = (_predict.parse_endpoint(p["api_server_endpoint"]) if p["api_server_endpoint"]
                      else (p["api_server_ip"], p["api_server_port"]))
        prediction = _predict.predict(
            p["namespaces"], manifests,
            api_server=api_server,
            internet=(p["internet_ip"], p["internet_port"]),
            pod_subnet=p["pod_subnet"] or None,
        )
        try:
            subnet_warnings = [f"{w.path}: {w.message}" for w in
                               internet_egress_subnets(parse(p["namespaces"]), p["pod_subnet"], p["service_subnet"])]
        except InventoryError:
            subnet_warnings = []  # netfence_plan reports an invalid inventory before this runs
        for warning in subnet_warnings:
            module.warn(warning)
        files = sorted(prediction["files"])
        summary = prediction["summary"]
        msg = (f"predicted {summary['pods']} pods x {len(summary['probes'])} ports under {summary['policies']} policies; "
               f"namespaces without default-deny ingress: {', '.join(summary['namespaces_without_default_deny']['ingress']) or 'none'}")
        run_dir = p["run_dir"]
        if module.check_mode:
            would = _predict.write_prediction(run_dir, prediction, dry_run=True) if run_dir and Path(run_dir).is_dir() else files
            module.exit_json(changed=bool(would), files=files, changed_files=would, summary=summary, subnet_warnings=subnet_warnings, msg=f"check mode, nothing written: {msg}")
        if not run_dir:
            module.fail_json(msg="run_dir is required (outside check mode)")
        if not Path(run_dir).is_dir():
            module.fail_json(msg=f"run folder {run_dir} does not exist")
        written = _predict.write_prediction(run_dir, prediction)
        module.exit_json(changed=bool(written), files=files, changed_files=written, summary=summary,
                         subnet_warnings=subnet_warnings, msg=msg)
    except NetfenceError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
