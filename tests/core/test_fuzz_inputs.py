"""Fuzzing the readers: any input gives a result or one NetfenceError, never another exception.

Covers the model loader (``load_world``), the inventory reader (``read_group_vars`` through
``inventory.parse``) and the evidence readers (``read_json`` and the shape checks, then the
report built from what passed). Inputs are small, examples bounded, and the address space of
this process is capped while the fuzzing runs, so a regression (an alias bomb that expands)
fails as a MemoryError instead of hurting the machine.
"""

from __future__ import annotations

import contextlib
import json
import resource
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netfence import loading
from netfence.evidence import runs as evidence
from netfence.evidence import shapes as evidence_shapes
from netfence.inventory import schema as inventory
from netfence.commands._inventory import read_group_vars
from netfence.errors import NetfenceError
from netfence.policy.model import load_world

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
HEADROOM = 1 << 30  # 1 GiB above what the process already uses


@contextlib.contextmanager
def memory_cap() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as handle:
        used = int(handle.read().split()[0]) * resource.getpagesize()
    cap = used + HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# --- strategies ------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-70000, 70000), st.text(max_size=12),
                    st.sampled_from(["TCP", "UDP", "SCTP", "x", "dev", "10.0.0.0/8", "0.0.0.0/0", "http", "-1", "app"]))
plain = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8) | st.sampled_from(
                                                          ["name", "namespace", "labels", "pods", "namespaces", "policies",
                                                           "containers", "ports", "containerPort", "protocol", "spec",
                                                           "podSelector", "ingress", "from", "records", "rows", "port",
                                                           "source", "target", "outcome", "kind", "ref"]),
                                                          inner, max_size=4)), max_leaves=25)


@st.composite
def alias_bombs(draw: Any) -> str:
    levels, width = draw(st.integers(2, 12)), draw(st.integers(2, 12))
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    key = draw(st.sampled_from(["pods", "namespaces", "policies", "netfence_namespaces", "records", "x"]))
    return "\n".join(lines) + f"\n{key}: *a{levels - 1}\n"


def _dump(data: Any, style: str) -> str:
    if style == "json":
        return json.dumps(data)
    return yaml.safe_dump(data, default_flow_style=style == "flow")


@st.composite
def documents(draw: Any, wrap: Any = None) -> bytes:
    """Structured data (optionally wrapped into a plausible shape), serialised, then maybe broken."""
    data = draw(plain)
    if wrap is not None:
        data = wrap(data, draw)
    text = _dump(data, draw(st.sampled_from(["json", "block", "flow"]))).encode()
    mutation = draw(st.sampled_from(["none", "none", "flip", "cut", "insert", "nest"]))
    if mutation == "flip" and text:
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + bytes([draw(st.integers(0, 255))]) + text[i + 1:]
    elif mutation == "cut" and text:
        text = text[: draw(st.integers(0, len(text)))]
    elif mutation == "insert":
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([b"&a ", b"*a", b"!!python/name:os.system ", b"[", b"{", b"\t", b"\xff",
                                                b"---\n", b"<<: *a\n", b": ", b"- ", b"\x00", b"2001-13-45"])) + text[i:]
    elif mutation == "nest":
        depth = draw(st.integers(90, 1200))
        text = b"pods: " + b"[" * depth + b"]" * depth + b"\n" + text
    return text


def any_input(wrap: Any = None) -> Any:
    return st.one_of(documents(wrap), alias_bombs().map(str.encode), st.binary(max_size=300),
                     st.text(alphabet=st.sampled_from(list("{}[],:-&*!|>'\"# \n\tabc01")), max_size=300).map(str.encode))


def model_shape(data: Any, draw: Any) -> Any:
    return {"namespaces": draw(st.lists(st.fixed_dictionaries({"name": st.sampled_from(["x", "y", "", "X"])}, optional={
        "labels": plain}), max_size=3)), "pods": data if isinstance(data, list) else [data], "policies": draw(st.lists(plain, max_size=2))}


def inventory_shape(data: Any, draw: Any) -> Any:
    namespace = {"name": draw(st.sampled_from(["dev", "prod", "", "Bad_Name", 5])),
                 draw(st.sampled_from(["labels", "profiles", "workloads", "allow_from_namespaces", "internet_egress", "dns",
                                       "allow_from_pods", "typo"])): data}
    return {"netfence_namespaces": [namespace], "netfence_kubernetes_version": "v1.35.8"}


def round_shape(data: Any, draw: Any) -> Any:
    record = {"name": "r", "source": {"namespace": "dev"}, "target": {"kind": "service", "ref": "prod/a"}, "port": 80,
              "protocol": "TCP", "outcome": "allowed"}
    key = draw(st.sampled_from(sorted(record)))
    return {"records": [{**record, key: data}]}


# --- properties --------------------------------------------------------------------------------

def _accepts(call: Any) -> None:
    """``call()`` returns, or raises one NetfenceError with a one-line message."""
    try:
        call()
    except NetfenceError as exc:
        message = str(exc)
        assert message.strip(), "empty error message"
        if not isinstance(exc, inventory.InventoryError):  # lists its problems, one per line
            assert "\n" not in message, message[:500]
        assert len(message) < 5000, message[:500]


@SETTINGS
@given(data=any_input(model_shape))
def test_model_loader_is_total(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, memory_cap():
        path = Path(tmp) / "model.yaml"
        path.write_bytes(data)
        _accepts(lambda: load_world(str(path)))


@SETTINGS
@given(data=any_input(inventory_shape))
def test_inventory_reader_is_total(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp, memory_cap():
        folder = Path(tmp) / "group_vars" / "all"
        folder.mkdir(parents=True)
        (folder / "namespaces.yml").write_bytes(data)
        _accepts(lambda: inventory.parse(inventory.load_variables(read_group_vars(tmp))))


@SETTINGS
@given(data=any_input(round_shape), kind=st.sampled_from(["run", "round", "matrix", "predicted_blast", "api_server"]))
def test_evidence_readers_are_total(data: bytes, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, memory_cap():
        path = Path(tmp) / "evidence.json"
        path.write_bytes(data)

        def read_and_check() -> None:
            evidence_shapes.check(kind, evidence.read_json(path), path)

        _accepts(read_and_check)


@SETTINGS
@given(records=st.lists(plain, max_size=3), field=st.sampled_from(["port", "protocol", "outcome", "source", "target",
                                                                    "name", "expected", "predicted"]))
def test_report_builds_whatever_passes_the_shape_check(records: list[Any], field: str) -> None:
    """What check_run accepts, the report can build: no KeyError or TypeError behind the check."""
    from netfence.evidence import report

    base = {"name": "r", "source": {"namespace": "dev", "workload": "a"}, "target": {"kind": "service", "ref": "prod/a"},
            "port": 80, "protocol": "TCP", "outcome": "allowed"}
    loaded = {"run_dir": "/run", "run": {}, "phases": {"before": {"records": [{**base, field: r} for r in records]}},
              "predicted": None, "blast": None, "predicted_blast": None, "api_server": None}
    try:
        evidence_shapes.check_run(loaded)
    except evidence_shapes.EvidenceShapeError:
        return
    report.to_markdown(report.build(loaded))


def test_memory_cap_is_restored() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    with memory_cap():
        assert resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
    assert resource.getrlimit(resource.RLIMIT_AS) == before


@pytest.mark.parametrize("text", ["a: 1\n", "a: [1, {b: c}]\n", "{\"a\": [1, 2]}", "- x\n- y\n", "", "~\n",
                                  "a: &x {b: 1}\nc: *x\n", "a: 2001-01-01\n", "a: 1.5\n", "a: !!binary aGk=\n",
                                  "? [a]\n: b\n", "a: 0x1f\n", "a: 0o17\n", "a: yes\n", "a: .inf\n", "a: 1_000\n"])
def test_load_yaml_agrees_with_safe_load(text: str) -> None:
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(loading.InputError):
            loading.load_yaml(text, "t.yaml")
        return
    assert loading.load_yaml(text, "t.yaml") == expected
