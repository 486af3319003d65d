"""One plan: the inventory parsed once, its policies rendered and read once, the lab built once,
checked and predicted from that, and written as one run folder.

``netfence plan`` (the CLI) and ``make plan`` (the ``netfence_plan`` Ansible module) both call
:func:`build_plan` and :func:`write_run`, so the two write the same run folder, byte for byte
apart from the run id and the time.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

from netfence import __version__
from netfence.inventory import cluster_vars
from netfence.evidence import runs as evidence
from netfence.inventory import lab as lab_model
from netfence.inventory.checks import Checked, check_mistakes, internet_egress_subnets
from netfence.policy.engine import Engine
from netfence.errors import NetfenceError
from netfence.inventory.schema import Inventory, InventoryError, Problem, parse, plural
from netfence.inventory.predict import file_texts, predict
from netfence.inventory.render import RenderedPolicy, render, render_files
from netfence.inventory.validate import VERSION_VARIABLE, check_schema, not_reported, read_rendered, schema_minor, schema_validator

STAGE = "plan"
#: The predicted world as a model file: ``netfence reachability|explain --run RUN`` read it.
MODEL_FILE = "predicted/model.json"


@dataclass(frozen=True)
class Inputs:
    """What a plan is made from: the inventory's variables that shape the run folder."""

    namespaces: Any
    kubernetes_version: Any
    pod_subnet: str | None = None
    service_subnet: str | None = None
    api_server_endpoint: str | None = None
    probes: Any = None
    external_namespaces: Any = None

    def snapshot(self) -> dict[str, Any]:
        """The inputs as ``run.json`` records them (``planned_from``): a reviewer sees what the
        run was planned from without the inventory at hand. Unset values are left out."""
        data = {
            "netfence_namespaces": self.namespaces,
            "netfence_kubernetes_version": str(self.kubernetes_version),
            "netfence_pod_subnet": self.pod_subnet or None,
            "netfence_service_subnet": self.service_subnet or None,
            "netfence_api_server_endpoint": self.api_server_endpoint or None,
            "netfence_probes": self.probes or None,
            "netfence_external_namespaces": self.external_namespaces or None,
        }
        # JSON values only (a YAML date in an inventory becomes its text), as run.json stores them
        return json.loads(json.dumps({k: v for k, v in data.items() if v is not None}, default=str))

    def fingerprint(self) -> str:
        """sha256 of :meth:`snapshot` as canonical JSON: a run planned from one inventory is never
        re-planned from another."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Plan:
    """A rendered inventory, everything found while checking it, and (once it parsed) its lab
    and the engine over the rendered policies, from which the prediction is made on demand."""

    inputs: Inputs
    inventory: Inventory
    rendered: dict[str, list[RenderedPolicy]]
    problems: list[Problem]
    lab: lab_model.Lab | None = None
    engine: Engine | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def files(self) -> dict[str, str]:
        """``manifests/<namespace>.yaml``: the rendered policies."""
        return render_files(self.rendered)

    def policy_count(self) -> int:
        return sum(len(p) for p in self.rendered.values())

    def raise_for_errors(self) -> None:
        """Refuse an inventory with errors: nothing may be written or applied from it."""
        if self.errors:
            raise InventoryError(self.problems)

    @cached_property
    def prediction(self) -> dict[str, Any]:
        """:func:`netfence.inventory.predict.predict` of this plan (``files`` and ``summary``)."""
        self.raise_for_errors()
        if self.lab is None or self.engine is None:
            raise NetfenceError("the plan has no lab to predict from")
        return predict(self.lab, self.engine)

    def run_files(self) -> dict[str, str]:
        """Every file the plan writes into its run folder besides ``run.json``, as text."""
        assert self.lab is not None
        manifests = [p.manifest for policies in self.rendered.values() for p in policies]
        model = json.dumps(self.lab.state(manifests), sort_keys=True, separators=(",", ":")) + "\n"  # read by tools, not people
        return {**self.files, **file_texts(self.prediction), MODEL_FILE: model}

    def summary_lines(self) -> list[str]:
        """A few lines for humans: counts, not one line per namespace (those are in the run folder)."""
        profiles: dict[str, int] = {}
        for policies in self.rendered.values():
            for policy in policies:
                profiles[policy.name] = profiles.get(policy.name, 0) + 1
        lines = [f"{plural(self.policy_count(), 'policy')} in {plural(len(self.rendered), 'namespace')}; "
                 f"{plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')}"]
        if profiles:
            lines.append("policies by name: " + ", ".join(f"{name} x{count}" for name, count in sorted(profiles.items())))
        return lines

    def prediction_lines(self) -> list[str]:
        """The prediction in counts: pods, ports, allowed pairs, where default deny is missing."""
        summary = self.prediction["summary"]
        missing = summary["namespaces_without_default_deny"]["ingress"]
        rogue = sum(1 for reached in summary["rogue_reaches"].values() if reached)
        return [
            f"predicted {plural(summary['pods'], 'pod')} x {plural(len(summary['probes']), 'port')} under "
            f"{plural(summary['policies'], 'policy')}; allowed pairs: "
            + (", ".join(f"{probe} {count}" for probe, count in summary["allowed_pairs"].items()) or "none"),
            f"an unlabelled pod reaches a workload from {rogue} of {plural(len(summary['rogue_reaches']), 'namespace')}; "
            f"namespaces without default-deny ingress: {len(missing)}" + (f" ({', '.join(missing[:5])}"
                                                                          + (", ..." if len(missing) > 5 else "") + ")" if missing else ""),
        ]


def check_probes(probes: Any, namespaces: Any, external: Iterable[str] = ()) -> list[Problem]:
    """``netfence_probes`` checked offline, as the probe stage will read it: errors name the
    probe's path; a source namespace outside the inventory is a warning (the probe pod needs
    that namespace to exist)."""
    from netfence.probes.plan import from_inventory

    if probes is None:
        return []
    if not isinstance(probes, list):
        return [Problem("netfence_probes", f"must be a list of probes, not {type(probes).__name__}", rule="probes")]
    try:
        from_inventory(probes, namespaces if isinstance(namespaces, list) else [])
    except NetfenceError as exc:
        path, _, reason = str(exc).partition(" ")
        if path.startswith("netfence_probes"):
            return [Problem(path.rstrip(":"), reason, rule="probes")]
        return [Problem("netfence_probes", str(exc), rule="probes")]
    known = {ns.get("name") for ns in namespaces if isinstance(ns, dict)} if isinstance(namespaces, list) else set()
    known |= set(external)
    problems = []
    for index, probe in enumerate(probes):
        source = probe.get("from") if isinstance(probe, dict) else None
        namespace = source.get("namespace") if isinstance(source, dict) else None
        if namespace and namespace not in known:
            problems.append(Problem(f"netfence_probes[{index}].from.namespace",
                                    f"namespace {namespace!r} is not in the inventory; check the spelling, or list "
                                    "it in netfence_external_namespaces (the probe pod is created there, so it must exist)", "warning", rule="probes"))
    return problems


def _read_policies(rendered: dict[str, list[RenderedPolicy]], minor: tuple[int, int]) -> tuple[list[Problem], dict[str, list[Checked]]]:
    """Layers 1 and 2 (schema and API-server rules) on each rendered policy, each read once."""
    validator = schema_validator(minor)
    problems: list[Problem] = []
    checked: dict[str, list[Checked]] = {}
    for namespace, policies in rendered.items():
        for policy in policies:
            schema = check_schema(policy, validator)
            parsed, found = read_rendered(policy)
            problems += schema + not_reported(found, schema)
            if parsed is not None:
                checked.setdefault(namespace, []).append((policy, parsed))
    return problems, checked


def build_plan(namespaces: Any, kubernetes_version: Any, pod_subnet: str | None = None,
               service_subnet: str | None = None, api_server_endpoint: str | None = None,
               variable_names: Iterable[str] = (), probes: Any = None, external_namespaces: Any = None) -> Plan:
    """Parse, render, read, build the lab and check; raise :class:`InventoryError` if the inventory
    cannot even be parsed, or when a cluster-wide variable (version, subnet, API server endpoint)
    is malformed.

    ``variable_names``: every ``netfence_*`` variable the inventory sets, so a typo warns;
    ``probes``: ``netfence_probes``, checked as the probe stage reads it;
    ``external_namespaces``: ``netfence_external_namespaces``, the namespaces outside netfence
    that the inventory may refer to without a warning. The returned
    :class:`Plan` may still hold errors (call :meth:`Plan.raise_for_errors`); it holds every
    problem of every layer, so a user sees them all at once.
    """
    inputs = Inputs(namespaces, kubernetes_version, pod_subnet or None, service_subnet or None,
                    api_server_endpoint or None, probes, external_namespaces or None)
    early: list[Problem] = []
    minor = None
    try:
        minor = schema_minor(kubernetes_version)
    except NetfenceError as exc:
        early.append(Problem(VERSION_VARIABLE, str(exc).split(": ", 1)[1], rule="kubernetes-version"))
    early += cluster_vars.check(pod_subnet=pod_subnet, service_subnet=service_subnet,
                                api_server_endpoint=api_server_endpoint, names=variable_names)
    try:
        inventory = parse(namespaces, external=external_namespaces)
    except InventoryError as exc:
        raise InventoryError(early + exc.problems) from None
    early += check_probes(probes, namespaces, inventory.external)  # after the namespaces parse: no follow-on errors
    if any(p.severity == "error" for p in early):
        raise InventoryError(early)
    assert minor is not None
    rendered = render(inventory)
    found, checked = _read_policies(rendered, minor)
    problems = early + found
    plan = Plan(inputs, inventory, rendered, problems)
    try:
        plan.lab = lab_model.build(
            inventory, pod_subnet=pod_subnet or None,
            api_server=cluster_vars.parse_endpoint(api_server_endpoint) if api_server_endpoint else lab_model.DEFAULT_API_SERVER)
    except NetfenceError as exc:  # a pod subnet too small for the lab
        problems.append(Problem("netfence_pod_subnet", str(exc), rule="cluster-variable"))
        return plan
    plan.engine = plan.lab.engine([policy for policies in checked.values() for _, policy in policies])
    problems += check_mistakes(plan.lab, plan.engine, checked)
    problems += internet_egress_subnets(inventory, pod_subnet, service_subnet)
    return plan


# --- the run folder -----------------------------------------------------------------------------

@dataclass
class Written:
    """What :func:`write_run` did: the run folder, the files whose bytes changed, their diffs."""

    run_dir: Path | None
    changed: list[str]
    diffs: list[dict[str, str]]
    created: bool = False


def run_record(plan: Plan, cluster: str, inventory: str) -> dict[str, Any]:
    """``run.json`` of a new run (``run_id`` is added when the folder exists)."""
    return {
        "schema_version": 1,
        "cluster": cluster,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "netfence_version": __version__,
        "stage": STAGE,
        "inventory": inventory,
        "inventory_sha256": plan.inputs.fingerprint(),
        "kubernetes_version": str(plan.inputs.kubernetes_version),
        "planned_from": plan.inputs.snapshot(),
    }


def _changes(run_dir: Path | None, files: dict[str, str]) -> tuple[list[str], list[dict[str, str]]]:
    changed, diffs = [], []
    for rel, text in files.items():
        target = run_dir / rel if run_dir is not None else None
        before = target.read_text(encoding="utf-8") if target is not None and target.is_file() else None
        if before == text:
            continue
        changed.append(rel)
        diffs.append({"before_header": rel, "after_header": rel, "before": before or "", "after": text})
    return changed, diffs


def write_run(plan: Plan, *, cluster: str, root: str | Path | None = None, run_dir: str | Path | None = None,
              inventory: str = "", dry_run: bool = False) -> Written:
    """Write the plan into a run folder: a new one under ``root``, or ``run_dir`` (absent or empty:
    a new run there; an open run of the same inventory: rewritten where bytes differ; sealed,
    tampered or another inventory's: refused). Marks the plan finished and seals SHA256SUMS.
    All or nothing for a new run: a failure removes it. ``dry_run``: nothing is written; the
    result says what would change."""
    plan.raise_for_errors()
    files = plan.run_files()
    given = Path(run_dir) if run_dir else None
    current = evidence.state(given) if given is not None else "missing"
    if dry_run:
        if given is not None and current not in ("missing", "empty"):  # the same refusals, nothing written
            evidence.open_run(given, STAGE, inventory_sha256=plan.inputs.fingerprint(), inventory=inventory, dry_run=True)
        changed, diffs = _changes(given if current not in ("missing", "empty") else None, files)
        return Written(given, changed, diffs, created=current in ("missing", "empty"))
    record = run_record(plan, cluster, inventory)
    if given is None:
        target = evidence.create_run_dir(root or "evidence", cluster, stage=STAGE)
        created = True
    elif current in ("missing", "empty"):
        target, created = given, True
    else:
        target = given
        evidence.open_run(target, STAGE, inventory_sha256=plan.inputs.fingerprint(), inventory=inventory)
        created = False
    try:
        if given is None:
            evidence.write_json(target, "run.json", {"run_id": target.name, **record})
        elif created:
            evidence.start_run(target, record, STAGE)
        changed, diffs = _changes(target, files)
        for rel in changed:
            evidence.write_text(target, rel, files[rel], overwrite=True)
        evidence.seal(target, finished=STAGE)
    except BaseException:
        if created:
            import shutil

            shutil.rmtree(target, ignore_errors=True)  # a half-written run is no evidence
        raise
    return Written(target, changed, diffs, created)

