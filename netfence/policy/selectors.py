"""Kubernetes label selectors: matching one label set, and matching many at once (reading them
from a manifest is :mod:`netfence.policy.reader`'s job).

A ``LabelSelector`` is the AND of its ``matchLabels`` pairs and its ``matchExpressions``
requirements; a selector with neither matches everything (``podSelector: {}`` selects every pod
of the namespace). Operators follow the API reference (meta/v1 LabelSelectorRequirement):

* ``In``: the key is present and its value is one of ``values``;
* ``NotIn``: the key is absent, or its value is not one of ``values``;
* ``Exists`` / ``DoesNotExist``: the key is present / absent (``values`` must be empty).

Two ways to evaluate, on purpose: :meth:`LabelSelector.matches` for one label set (used by
explanations), and :class:`LabelIndex` which evaluates a selector over thousands of objects as a
handful of integer bit operations (used by the matrix engine). Objects with identical labels are
indistinguishable to a selector, so the index works on "members" that the caller numbers.
"""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple


class Requirement(NamedTuple):
    """One ``matchExpressions`` entry."""

    key: str
    operator: str
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def describe(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{self.key} {self.operator}"
        return f"{self.key} {self.operator} ({', '.join(sorted(self.values))})"


class LabelSelector(NamedTuple):
    """matchLabels AND matchExpressions; empty means "everything"."""

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.expressions)

    def describe(self) -> str:
        """Short human form, e.g. ``{app=web, tier In (a, b)}``; ``{}`` selects everything."""
        parts = [f"{k}={v}" for k, v in self.match_labels] + [r.describe() for r in self.expressions]
        return "{" + ", ".join(parts) + "}"


class LabelIndex:
    """Evaluate selectors over many members as bit sets (Python ints, bit ``i`` = member ``i``).

    Each member contributes a weight mask rather than a single bit, so a caller can let one
    member stand for a contiguous run of identical objects; all results are unions of the masks
    given to :meth:`add`.
    """

    def __init__(self) -> None:
        self.all = 0
        self._pairs: dict[tuple[str, str], int] = {}
        self._keys: dict[str, int] = {}

    def add(self, labels: Mapping[str, str], mask: int) -> None:
        self.all |= mask
        for key, value in labels.items():
            self._pairs[(key, value)] = self._pairs.get((key, value), 0) | mask
            self._keys[key] = self._keys.get(key, 0) | mask

    def _any_of(self, key: str, values: Iterable[str]) -> int:
        out = 0
        for value in values:
            out |= self._pairs.get((key, value), 0)
        return out

    def select(self, selector: LabelSelector) -> int:
        """Union of the masks of every member the selector matches."""
        result = self.all
        for pair in selector.match_labels:
            result &= self._pairs.get(pair, 0)
        for req in selector.expressions:
            if req.operator == "In":
                result &= self._any_of(req.key, req.values)
            elif req.operator == "NotIn":
                result &= ~self._any_of(req.key, req.values)
            elif req.operator == "Exists":
                result &= self._keys.get(req.key, 0)
            else:
                result &= ~self._keys.get(req.key, 0)
        return result & self.all
