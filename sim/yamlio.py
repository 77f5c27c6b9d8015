"""Strict, safe YAML reading that remembers where every value came from.

PyYAML's safe loader already refuses to build Python objects, but it stops at
the first problem and forgets line numbers once the data is built. Here the
document is *composed* (parsed to nodes with positions, no construction) and
then walked by hand, so that every problem can be reported with its line and
field path, and several problems in one file are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError, Problem, field_path

MAX_BYTES = 1_000_000
"""Largest input file accepted; scenario files are a few kilobytes."""

MAX_NODES = 200_000
"""Largest number of values after alias expansion (stops 'billion laughs')."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted (scenarios need about six)."""

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Document:
    """Plain data read from one YAML file, with the line of every value."""

    path: Path
    data: Any
    where: dict[tuple, tuple[Path, int]] = field(default_factory=dict)
    """(file, line) of every value, keyed by its field path; after ``extends:``
    merging, inherited values keep the file they came from."""

    def locate(self, parts) -> tuple[Path, int | None]:
        """File and line of the value at ``parts``, or of its nearest located parent."""
        parts = tuple(parts)
        while parts:
            if parts in self.where:
                return self.where[parts]
            parts = parts[:-1]
        return self.where.get((), (self.path, 1))

    def problem(self, parts, message: str, hint: str | None = None) -> Problem:
        """Build a :class:`Problem` located at ``parts``."""
        file, line = self.locate(parts)
        return Problem(file, line, field_path(parts), message, hint)


def read_text(path: Path) -> str:
    """Read a UTF-8 text file, refusing missing, oversized or non-UTF-8 files."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError([Problem(path, None, "", "file not found")]) from None
    except OSError as exc:
        raise InputError([Problem(path, None, "", f"cannot read file: {exc.strerror}")]) from None
    if path.is_dir():
        raise InputError([Problem(path, None, "", "is a directory, expected a YAML file")])
    if size > MAX_BYTES:
        raise InputError([Problem(
            path, None, "", f"file is {size:,} bytes, larger than the {MAX_BYTES:,}-byte limit"
        )])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError([Problem(
            path, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        )]) from None


def load(path: Path | str) -> Document:
    """Read ``path`` as strict YAML; raise :class:`InputError` listing every problem."""
    path = Path(path)
    text = read_text(path)
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise InputError([Problem(path, 1, "", "file is empty")])
    try:
        _check_depth(path, text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError([Problem(path, line, "", f"YAML syntax error: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(path, None, "", f"YAML error: {exc}")]) from None
    if node is None:
        raise InputError([Problem(path, 1, "", "file is empty")])
    walker = _Walker(path)
    data = walker.walk(node, ())
    if walker.problems:
        raise InputError(walker.problems)
    return Document(path, data, {k: (path, v) for k, v in walker.lines.items()})


def _check_depth(path: Path, text: str):
    """Refuse deep nesting before composing (PyYAML's composer is recursive)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError([Problem(path, event.start_mark.line + 1, "",
                                          f"nested more than {MAX_DEPTH} levels deep")])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Walker:
    """Turns composed nodes into plain data, checking tags and duplicate keys."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def _problem(self, node, parts, message, hint=None):
        self.problems.append(
            Problem(self.path, node.start_mark.line + 1, field_path(parts), message, hint)
        )

    def walk(self, node, parts):
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self._problem(node, parts, f"more than {MAX_NODES:,} values (alias expansion?)")
            return None
        self.lines.setdefault(parts, node.start_mark.line + 1)
        if len(parts) > MAX_DEPTH:  # reachable through aliases only
            self._problem(node, parts[:3], f"nested more than {MAX_DEPTH} levels deep")
            return None
        tag = node.tag or ""
        if tag.startswith("tag:yaml.org,2002:python/") or tag.startswith("!!python"):
            self._problem(node, parts, f"tag '{tag.replace('tag:yaml.org,2002:', '!!')}' "
                          "is not allowed: scenario files hold data, never code")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, parts)
        if isinstance(node, yaml.SequenceNode):
            if tag != _SEQ_TAG:
                self._problem(node, parts, f"unsupported tag '{tag}'")
                return None
            return [self.walk(item, (*parts, i)) for i, item in enumerate(node.value)]
        if tag not in _SAFE_SCALAR_TAGS:
            self._problem(node, parts, f"unsupported tag '{tag}'")
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self._problem(node, parts, f"bad value: {exc}")
            return None

    def _mapping(self, node, parts):
        if node.tag != _MAP_TAG:
            self._problem(node, parts, f"unsupported tag '{node.tag}'")
            return None
        try:
            self.constructor.flatten_mapping(node)  # resolves '<<' merge keys
        except yaml.YAMLError as exc:
            self._problem(node, parts, f"bad merge key: {exc}")
            return None
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, parts, "keys must be plain names")
                continue
            key = self.walk(key_node, (*parts, "<key>"))
            if isinstance(key, float | bool) or key is None:
                key = key_node.value
            if key in out:
                first = self.lines.get((*parts, key))
                self._problem(key_node, (*parts, key),
                              f"duplicate key (first given on line {first})")
                continue
            self.lines[(*parts, key)] = key_node.start_mark.line + 1
            out[key] = self.walk(value_node, (*parts, key))
        self.lines.pop((*parts, "<key>"), None)
        return out
