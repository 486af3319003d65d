"""Kubernetes label selectors: parsing, matching one label set, and matching many at once.

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

from typing import Any, Iterable, Mapping, NamedTuple

from netfence.errors import NetfenceError

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


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


def _label_string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise NetfenceError(f"{where}: label values must be strings, got {value!r} ({type(value).__name__}); quote it in YAML")
    return value


def parse_labels(raw: Any, where: str) -> dict[str, str]:
    """Validate a ``labels`` mapping (string keys and string values, as the API requires)."""
    if raw is None:
        return {}
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise NetfenceError(f"{where}: must be a mapping of label keys to string values, got {type(raw).__name__}")
    out: dict[str, str] = {}
    # Ansible hands filters and modules subclasses of str (tagged values), which are just as
    # valid: isinstance, not an exact type test (the value test falls back to one).
    for key, value in raw.items():
        if not isinstance(key, str) or not key:
            raise NetfenceError(f"{where}: label key {key!r} must be a non-empty string")
        if type(value) is not str:
            _label_string(value, f"{where}.{key}")
        out[key] = value
    return out


def parse_selector(raw: Any, where: str) -> LabelSelector:
    """Parse a LabelSelector dict; ``where`` names the object and field for error messages."""
    if raw is None:
        return LabelSelector()
    if not isinstance(raw, Mapping):
        raise NetfenceError(f"{where}: a label selector must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise NetfenceError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} (expected matchLabels, matchExpressions)")
    labels = parse_labels(raw.get("matchLabels"), f"{where}.matchLabels")
    exprs_raw = raw.get("matchExpressions") or []
    if not isinstance(exprs_raw, list):
        raise NetfenceError(f"{where}.matchExpressions: must be a list")
    exprs = []
    for i, expr in enumerate(exprs_raw):
        here = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, Mapping):
            raise NetfenceError(f"{here}: must be a mapping with key, operator, values")
        key = expr.get("key")
        if not isinstance(key, str) or not key:
            raise NetfenceError(f"{here}.key: required, a non-empty string")
        op = expr.get("operator")
        if op not in OPERATORS:
            raise NetfenceError(f"{here}.operator: unknown operator {op!r} (expected one of {', '.join(OPERATORS)})")
        values = expr.get("values") or []
        if not isinstance(values, list):
            raise NetfenceError(f"{here}.values: must be a list of strings")
        values = [_label_string(v, f"{here}.values") for v in values]
        if op in ("In", "NotIn") and not values:
            raise NetfenceError(f"{here}.values: operator {op} needs at least one value")
        if op in ("Exists", "DoesNotExist") and values:
            raise NetfenceError(f"{here}.values: operator {op} takes no values")
        exprs.append(Requirement(key, op, frozenset(values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


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
