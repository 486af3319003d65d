"""Bounded, total reading of every file netfence takes as input.

Inventories, models, manifests and evidence JSON all come through here, so bad input ends the
same way everywhere: an :class:`InputError` (a :class:`~netfence.errors.NetfenceError`) whose
one-line message names the file, says what is wrong and how to fix it, never a traceback and
never gigabytes of memory. The bounds:

* size: a file larger than :func:`max_bytes` (``NETFENCE_MAX_INPUT_MB``, default 100 MB) is
  refused before it is read;
* text: the bytes must be UTF-8 (a UTF-8 byte-order mark is allowed);
* nesting: at most :data:`MAX_DEPTH` levels of mappings and lists (netfence's own files need
  about 15); deeper input is refused before anything recursive touches it;
* YAML aliases: an alias re-uses its anchor's whole subtree, so a few lines can stand for
  billions of values (a "billion laughs" bomb). The values aliases add are counted before any
  is built, and more than :data:`ALIAS_ALLOWANCE` or the document's own size is refused;
* YAML is parsed by libyaml (``yaml.CSafeLoader``) when PyYAML has it, with PyYAML's safe tags
  only (no ``!!python/...``).

Long values in messages are shortened with :func:`shorten`.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Callable, Iterable

from netfence.errors import NetfenceError

MAX_DEPTH = 100
ALIAS_ALLOWANCE = 100_000
DEFAULT_MAX_MB = 100
_MB = 1 << 20


class InputError(NetfenceError):
    """A file netfence cannot read, decode or parse within its bounds."""


def max_bytes() -> int:
    """The size limit for one input file: ``NETFENCE_MAX_INPUT_MB`` megabytes (default 100)."""
    raw = os.environ.get("NETFENCE_MAX_INPUT_MB", "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        raise NetfenceError(f"NETFENCE_MAX_INPUT_MB={shorten(raw)} is not a number of megabytes "
                            f"(fix: unset it or give a number, e.g. {DEFAULT_MAX_MB})") from None
    if not value > 0:
        raise NetfenceError(f"NETFENCE_MAX_INPUT_MB={shorten(raw)} must be positive (fix: unset it or give a number, "
                            f"e.g. {DEFAULT_MAX_MB})")
    return int(min(value, 1 << 20) * _MB)


def shorten(value: Any, limit: int = 80) -> str:
    """``repr``-like text of a value, at most about ``limit`` characters, for error messages.

    Strings are quoted like ``repr``; anything longer is cut, with the full length noted, so a
    message never carries a huge (or alias-expanded) value.
    """
    try:
        text = _bounded_repr(value, limit + 1)
    except RecursionError:  # pragma: no cover - _bounded_repr is iterative; belt and braces
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else None
    note = f" ({size} {'characters' if isinstance(value, (str, bytes)) else 'items'})" if size is not None else ""
    return text[: max(limit - 3, 10)] + "..." + note


def clip(text: str, limit: int = 160) -> str:
    """Plain text (e.g. a parser's message) cut to about ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def elide(text: str, limit: int = 400) -> str:
    """Text cut in the middle when longer than ``limit``: the start (what) and the end (usually
    the reason) stay, with the number of characters left out in between."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 4
    return f"{text[:head]} ...[{len(text) - head - tail} characters left out]... {text[-tail:]}"


def _bounded_repr(value: Any, limit: int) -> str:
    """``repr`` of (nested) plain data, stopping once ``limit`` characters are produced."""
    parts: list[str] = []
    length = 0
    stack: list[Any] = [value]
    while stack and length < limit:
        item = stack.pop()
        if isinstance(item, _Raw):
            piece = item.text
        elif isinstance(item, dict):
            piece = "{"
            todo: list[Any] = [_Raw("}")]
            for i, (k, v) in enumerate(reversed(list(_head(item.items(), limit)))):
                todo.append(v)
                todo.append(_Raw(": "))
                todo.append(k)
                if i < min(len(item), limit) - 1:
                    todo.append(_Raw(", "))
            stack.extend(todo)
        elif isinstance(item, (list, tuple)):
            piece = "[" if isinstance(item, list) else "("
            todo = [_Raw("]" if isinstance(item, list) else ")")]
            head = list(_head(item, limit))
            for i, v in enumerate(reversed(head)):
                todo.append(v)
                if i < len(head) - 1:
                    todo.append(_Raw(", "))
            stack.extend(todo)
        elif isinstance(item, str):
            piece = repr(item[:limit]) if len(item) > limit else repr(item)
        else:
            piece = repr(item)[:limit] if isinstance(item, (int, float, bool, type(None), bytes)) else f"<{type(item).__name__}>"
        parts.append(piece)
        length += len(piece)
    return "".join(parts)


class _Raw:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _head(items: Iterable[Any], n: int) -> Iterable[Any]:
    for i, item in enumerate(items):
        if i >= n:
            return
        yield item


# --- reading bytes and text -----------------------------------------------------------------

def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The UTF-8 text of a file, within :func:`max_bytes`; every failure is an :class:`InputError`.

    ``what`` names the file's role in messages ("model", "inventory file", "evidence file").
    """
    p = Path(path)
    limit = max_bytes()
    try:
        kind = os.stat(p).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
            # opening a FIFO blocks until something writes to it: netfence would hang
            raise InputError(f"{p}: cannot read {what}: not a regular file (a FIFO, socket or device) "
                             "(fix: write the content to a file and name that)")
        with open(p, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(21, "Is a directory", str(p))
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _too_big(p, what, info.st_size, limit)
            data = handle.read(limit + 1)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{p}: cannot read {what}: no such file (fix: check the path)") from None
    except IsADirectoryError:
        raise InputError(f"{p}: cannot read {what}: it is a folder, not a file (fix: name the {what} itself)") from None
    except PermissionError:
        raise InputError(f"{p}: cannot read {what}: permission denied (fix: make it readable, e.g. chmod u+r)") from None
    except NotADirectoryError:
        raise InputError(f"{p}: cannot read {what}: a part of the path is not a folder (fix: check the path)") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read {what}: {exc.strerror or exc} (fix: check the path and the file)") from None
    except ValueError as exc:  # e.g. an embedded NUL byte in the path
        raise InputError(f"{shorten(str(p))}: cannot read {what}: {exc} (fix: check the path)") from None
    if len(data) > limit:
        raise _too_big(p, what, None, limit)
    return decode(data, p, what)


def _too_big(path: Path, what: str, size: int | None, limit: int) -> InputError:
    found = f"{size / _MB:.1f} MB" if size is not None else "larger than that"
    return InputError(f"{path}: {what} is {found}, over the limit of {limit / _MB:g} MB (fix: split it into smaller "
                      "files, or raise NETFENCE_MAX_INPUT_MB if it really is this large)")


def decode(data: bytes, path: str | os.PathLike[str], what: str = "file") -> str:
    """UTF-8 bytes (an optional byte-order mark dropped) as text, or an :class:`InputError`."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise InputError(f"{path}: {what} is not UTF-8 text{hint}: byte 0x{data[start]:02x} at line {line}, column "
                         f"{column} (fix: save the {what} as UTF-8)") from None


# --- JSON ----------------------------------------------------------------------------------

def load_json(text: str, source: str | os.PathLike[str]) -> Any:
    """Parse JSON text, nesting at most :data:`MAX_DEPTH` deep; errors name ``source``."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(source, "JSON") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                         "(fix: correct the JSON there)") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InputError(f"{source} is not valid JSON: {clip(str(exc), 120)} (fix: correct the JSON)") from None
    check_depth(data, source, "JSON")
    return data


def read_json(path: str | os.PathLike[str], what: str = "file") -> Any:
    """:func:`read_text` then :func:`load_json`."""
    return load_json(read_text(path, what), path)


def check_depth(data: Any, source: str | os.PathLike[str], kind: str = "input") -> None:
    """Refuse plain data nested deeper than :data:`MAX_DEPTH` (iteratively, one level of
    containers at a time: no recursion, and a list comprehension per level rather than a
    Python step per value, which a 50,000-pod model notices)."""
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise _too_deep(source, kind)
        below: list[Any] = []
        for item in level:
            below += [v for v in (item.values() if isinstance(item, dict) else item) if isinstance(v, (dict, list))]
        level = below


def _too_deep(source: str | os.PathLike[str], kind: str) -> InputError:
    return InputError(f"{source}: {kind} nested more than {MAX_DEPTH} levels deep (fix: flatten it; netfence's files "
                      "need far fewer levels)")


# --- YAML ----------------------------------------------------------------------------------

def load_yaml(text: str, source: str | os.PathLike[str]) -> Any:
    """One YAML document (None when empty), safe tags only, within the depth and alias bounds."""
    docs = _load_yaml(text, source, single=True)
    return docs[0] if docs else None


def load_yaml_all(text: str, source: str | os.PathLike[str]) -> list[Any]:
    """Every document of a YAML stream (empty documents give None), within the bounds."""
    return _load_yaml(text, source, single=False)


def read_yaml(path: str | os.PathLike[str], what: str = "file") -> Any:
    """:func:`read_text` then :func:`load_yaml`."""
    return load_yaml(read_text(path, what), path)


def _as_json(text: str, source: str | os.PathLike[str]) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` is JSON (within the depth bound); otherwise ``(False, the
    JSONDecodeError)``, or ``(False, None)`` for valid syntax with a value json refuses (a
    5000-digit integer), which YAML then names."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(source, "JSON") from None
    except json.JSONDecodeError as exc:
        return False, exc
    except ValueError:
        return False, None
    check_depth(data, source, "JSON")
    return True, data


def load_data(text: str, source: str | os.PathLike[str]) -> Any:
    """YAML, with text that starts with ``{`` tried as JSON first (~50x faster than any YAML
    loader in Python for large generated files); JSON syntax errors fall back to YAML."""
    if text.lstrip()[:1] == "{":
        is_json, found = _as_json(text, source)
        if is_json:
            return found
        if found is not None:
            try:
                return load_yaml(text, source)  # YAML flow style also starts with "{"
            except InputError:
                # it looked like JSON and is neither: the JSON error is the one to fix
                raise InputError(f"{source} is not valid JSON: {found.msg} at line {found.lineno}, column "
                                 f"{found.colno} (fix: check the brackets, commas and quotes there; a cut-off file "
                                 "ends early)") from None
    return load_yaml(text, source)


def check_yaml_file(path: str | os.PathLike[str], what: str = "file") -> None:
    """Refuse a YAML file before another loader (Ansible's) reads it: too large, not UTF-8, not
    valid YAML, nested too deep, or an alias bomb. Only the node graph is built, never the values,
    so tags netfence does not read (Ansible's ``!vault``) pass."""
    import yaml

    text = read_text(path, what)
    # Ansible reads a vars file as JSON first: escapes libyaml refuses (surrogate pairs) are fine there
    if text.lstrip()[:1] in ("{", "[") and _as_json(text, path)[0]:
        return
    loader = _loader_class()(text)
    try:
        _bounded_nodes(loader, path, single=False)
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message(exc, path)) from None
    finally:
        loader.dispose()


def yaml_nodes(path: str | os.PathLike[str], what: str = "file") -> list[Any]:
    """The composed documents of a YAML file (nodes with their line and column), within the
    bounds: where a value sits in a file, for reports that point at inventory lines."""
    import yaml

    loader = _loader_class()(read_text(path, what))
    try:
        return _bounded_nodes(loader, path, single=False)
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message(exc, path)) from None
    finally:
        loader.dispose()


def _bounded_nodes(loader: Any, source: str | os.PathLike[str], *, single: bool) -> list[Any]:
    """The composed documents of ``loader``, refused when too deep or when aliases blow them up."""
    nodes = []
    try:
        if single:
            node = loader.get_single_node()
            if node is not None:
                nodes.append(node)
        else:
            while loader.check_node():
                nodes.append(loader.get_node())
    except RecursionError:
        raise _too_deep(source, "YAML") from None
    budget = _AliasBudget(source)
    for node in nodes:
        budget.check(node)
    return nodes


def _load_yaml(text: str, source: str | os.PathLike[str], *, single: bool) -> list[Any]:
    import yaml

    loader = _loader_class()(text)
    try:
        return [_construct(loader, node, source) for node in _bounded_nodes(loader, source, single=single)]
    except yaml.YAMLError as exc:
        raise InputError(_yaml_message(exc, source)) from None
    finally:
        loader.dispose()


def _yaml_message(exc: Exception, source: str | os.PathLike[str]) -> str:
    import yaml

    lines = str(exc).splitlines()
    problem = getattr(exc, "problem", None) or (lines[0] if lines else type(exc).__name__)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    if context and getattr(exc, "problem", None):
        problem = f"{problem} ({context})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        fix = "use plain YAML values: tags such as !!python/... are not read"
    else:
        fix = "check the indentation, quoting and brackets there"
    return f"{source} is not valid YAML: {clip(problem)}{where} (fix: {fix})"


_LOADER: Any = None


def _loader_class() -> Any:
    """libyaml's parser (when PyYAML was built with it) with the safe constructor, and the
    implicit tag of each plain scalar memoised (scalars repeat a lot: keys, label values)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        tags: dict[str, str] = {}

        class Loader(base):  # type: ignore[misc,valid-type]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
                if kind is yaml.ScalarNode and implicit[0]:
                    tag = tags.get(value)
                    if tag is None:
                        tag = super().resolve(kind, value, implicit)
                        if len(tags) < 100_000:
                            tags[value] = tag
                    return tag
                return super().resolve(kind, value, implicit)

        _LOADER = Loader
    return _LOADER


class _AliasBudget:
    """Counts the values a YAML node graph stands for once every alias is expanded.

    The composer shares an anchored node wherever an alias names it, so the graph stays small
    while its expansion can be exponential. Walking it once with a memo per node gives the
    expanded size and the depth in time linear in the graph; a cycle (an alias inside its own
    anchor) is refused as well, since nothing netfence reads can be recursive.
    """

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.source = source
        self.unique = 0
        self.expanded = 0

    def check(self, root: Any) -> None:
        import yaml

        memo: dict[int, tuple[int, int]] = {}
        open_: set[int] = set()
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            children = _children(node, yaml)
            if done:
                size, depth = 1, 0
                for child in children:
                    s, d = memo[id(child)]
                    size += s
                    depth = d if d > depth else depth
                depth += 1 if children is not _NO_CHILDREN else 0
                open_.discard(key)
                memo[key] = (size, depth)
                if depth > MAX_DEPTH:
                    raise _too_deep(self.source, "YAML")
                continue
            if key in memo:
                continue
            if isinstance(node, yaml.MappingNode):
                self._unique_keys(node)
            if key in open_:
                raise InputError(f"{self.source}: a YAML alias refers to its own anchor, which makes the value "
                                 "infinite (fix: remove the recursive alias)")
            open_.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in memo)
        self.unique += len(memo)
        self.expanded += memo[id(root)][0]
        extra = self.expanded - self.unique
        if extra > max(ALIAS_ALLOWANCE, self.unique):
            raise InputError(
                f"{self.source}: YAML aliases make {self.unique} values stand for {_count(self.expanded)} "
                f"(an alias bomb?); at most {max(ALIAS_ALLOWANCE, self.unique)} more are allowed "
                "(fix: write the values out, or use fewer nested aliases)")


    def _unique_keys(self, node: Any) -> None:
        """Refuse a key written twice in one mapping: YAML leaves the meaning open, PyYAML keeps
        the last silently (a namespace renamed by a stray ``name:`` line), Ansible only warns."""
        import yaml

        seen: dict[tuple[str, str], Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key_node.tag, key_node.value), key_node)  # 1 and "1" are two keys
            if first is not key_node:
                raise InputError(
                    f"{self.source}: key {shorten(key_node.value)} appears twice in one mapping (lines "
                    f"{first.start_mark.line + 1} and {key_node.start_mark.line + 1}) (fix: keep one of them)")


_NO_CHILDREN: tuple[()] = ()


def _children(node: Any, yaml: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return _NO_CHILDREN


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


class _SlowPath(Exception):
    """A YAML feature the fast constructor leaves to PyYAML's own (merge keys, odd tags)."""


_STR, _INT, _NULL, _BOOL = ("tag:yaml.org,2002:" + t for t in ("str", "int", "null", "bool"))
_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def _construct(loader: Any, node: Any, source: str | os.PathLike[str]) -> Any:
    """Build a node graph (already depth- and alias-checked) into plain data.

    Like ``yaml.safe_load`` but several times faster on large files: strings, plain integers,
    null, booleans, lists and mappings are built directly; anything else (merge keys,
    timestamps, floats, binary, sets) falls back to PyYAML's safe constructor for the document.
    """
    build: Callable[[Any], Any]

    def build(n: Any) -> Any:
        tag = n.tag
        if tag == _STR:
            return n.value
        if tag == _MAP:
            out = {}
            for k, v in n.value:
                if k.tag != _STR and k.tag != _INT:
                    raise _SlowPath
                out[build(k)] = build(v)
            return out
        if tag == _SEQ:
            return [build(x) for x in n.value]
        if tag == _INT and n.value.isdigit() and len(n.value) < 100:
            return int(n.value)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return n.value.lower() in ("true", "yes", "on")
        raise _SlowPath

    try:
        try:
            return build(node)
        except _SlowPath:
            return loader.construct_document(node)
    except RecursionError:
        raise _too_deep(source, "YAML") from None
    except (ValueError, OverflowError, TypeError) as exc:
        # e.g. a timestamp with month 13, or an integer with more digits than Python converts
        raise InputError(f"{source} is not valid YAML: a value cannot be read: {clip(str(exc), 120)} "
                         "(fix: quote the value to keep it a string, or correct it)") from None
