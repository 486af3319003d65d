"""Whatever a user writes, validation answers with problems, never with a traceback."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from netfence.inventory.schema import InventoryError
from netfence.plan import build_plan

from .conftest import _lab_namespaces

LAB = _lab_namespaces()

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=8),
                    st.sampled_from(["TCP", "In", "0.0.0.0/0", "http", "Ingress", "Egress", "app"]))
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["podSelector", "ingress", "egress", "from", "to", "ports", "port", "endPort",
                                     "protocol", "ipBlock", "cidr", "except", "matchLabels", "matchExpressions",
                                     "key", "operator", "values", "policyTypes", "namespaceSelector"]),
                    inner, max_size=4)), max_leaves=12)


def _run(namespaces) -> None:
    try:
        build_plan(namespaces, "v1.35.8")
    except InventoryError as exc:
        assert exc.problems and all(p.path.startswith("netfence_") for p in exc.problems)


@settings(max_examples=150, deadline=None)
@given(spec=junk)
def test_any_extra_policy_spec_gives_problems_not_exceptions(spec):
    lab = copy.deepcopy(LAB)
    lab[2]["extra_policies"][0]["spec"] = spec
    _run(lab)


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(["labels", "profiles", "workloads", "allow_from_namespaces", "allow_from_pods",
                            "internet_egress", "dns", "acknowledge", "extra_policies", "name"]),
       value=junk, index=st.integers(0, 3))
def test_any_namespace_value_gives_problems_not_exceptions(key, value, index):
    lab = copy.deepcopy(LAB)
    lab[index][key] = value
    _run(lab)
