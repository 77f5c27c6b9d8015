"""Strict, safe YAML reading that remembers where every value came from.

PyYAML's safe loader already refuses to build Python objects, but it stops at
the first problem and forgets line numbers once the data is built. Here the
document is *composed* (parsed to nodes with positions, no construction) and
then walked by hand, so that every problem can be reported with its line and
field path, and several problems in one file are reported together.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError, Problem, did_you_mean, field_path, printable

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
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Document:
    """Plain data read from one YAML file, with the line of every value."""

    path: Path
    data: Any
    where: dict[tuple, tuple[Path, int]] = field(default_factory=dict)
    """(file, line) of every value, keyed by its field path; after ``extends:``
    merging, inherited values keep the file they came from."""
    raw: bytes = field(default=b"", repr=False)
    """The file's bytes as read (for hashing without reading the file again)."""

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


class FileRefused(InputError):
    """A file that cannot be read as a regular file of at most :data:`MAX_BYTES` bytes.

    Raised with the file's own path; a caller that found the name inside
    another file reports it at the naming line instead (:func:`named_by`).
    """

    def __init__(self, path: Path, reason: str, missing: bool = False):
        self.path, self.reason, self.missing = Path(path), reason, missing
        super().__init__([Problem(self.path, None, "", reason)])


_KINDS = ((stat.S_ISDIR, "is a folder, expected a file"),
          (stat.S_ISCHR, "is a character device, not a regular file"),
          (stat.S_ISBLK, "is a block device, not a regular file"),
          (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
          (stat.S_ISSOCK, "is a socket, not a regular file"))

_ERRNO = {errno.ENOENT: "file not found",
          errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
          errno.ENAMETOOLONG: "file name too long for the operating system",
          errno.EACCES: "permission denied",
          errno.EPERM: "permission denied",
          errno.EISDIR: "is a folder, expected a file",
          errno.ENOTDIR: "a part of the path is not a folder"}

# O_NONBLOCK: opening a FIFO that slipped past the first check returns at once instead of
# waiting for a writer; O_NOCTTY: a terminal never becomes the controlling one.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_BINARY", 0))


def _refuse_special(path: Path, mode: int):
    if not stat.S_ISREG(mode):
        reason = next((text for test, text in _KINDS if test(mode)), "is not a regular file")
        raise FileRefused(path, reason)


def read_bytes(path: Path | str, limit: int = MAX_BYTES) -> bytes:
    """Read a regular file of at most ``limit`` bytes, or raise :class:`FileRefused`.

    Every path an input file names comes through here. Devices, FIFOs, sockets
    and folders are refused before they are opened, and again on the opened
    descriptor (``fstat``, so a file swapped in between cannot slip through).
    The size limit is checked while reading, never taken from the size the OS
    reports: a device or a ``/proc`` file reports 0.
    """
    path = Path(path)
    try:
        _refuse_special(path, os.stat(path).st_mode)
        fd = os.open(path, _OPEN_FLAGS)
    except ValueError:  # an embedded NUL byte
        raise FileRefused(path, "the file name contains a NUL byte") from None
    except OSError as exc:
        raise FileRefused(path, _ERRNO.get(exc.errno, f"cannot open file: {exc.strerror}"),
                          missing=exc.errno == errno.ENOENT) from None
    try:
        _refuse_special(path, os.fstat(fd).st_mode)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise FileRefused(path, f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise FileRefused(path, f"file is larger than the {limit:,}-byte limit")
    return b"".join(chunks)


def decode(path: Path, raw: bytes) -> str:
    """``raw`` as UTF-8 text, or an :class:`InputError` at the line of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError([Problem(
            path, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        )]) from None


def read_text(path: Path | str) -> str:
    """Read a UTF-8 text file safely (see :func:`read_bytes`)."""
    return decode(Path(path), read_bytes(path))


def _near_names(base: Path, name: str) -> list[str]:
    """Names in the folder of ``name`` (relative to ``base``), spelt as ``name`` would be."""
    head = os.path.dirname(name)
    try:
        with os.scandir(base / head if head else base) as entries:
            return [os.path.join(head, e.name) for e in itertools.islice(entries, 1000)]
    except (OSError, ValueError):
        return []


@contextlib.contextmanager
def named_by(doc: Document, parts: tuple, name: str):
    """Report a file that cannot be read at the field of ``doc`` that named it.

    Problems inside a file that could be read (its syntax, its fields) keep
    their own file and line.
    """
    try:
        yield
    except FileRefused as exc:
        hint = did_you_mean(name, _near_names(doc.path.parent, name)) if exc.missing else None
        raise InputError([doc.problem(parts, f"'{printable(name)}': {exc.reason}", hint)]
                         ) from None


def load(path: Path | str) -> Document:
    """Read ``path`` as strict YAML; raise :class:`InputError` listing every problem."""
    path = Path(path)
    raw = read_bytes(path)
    text = decode(path, raw)
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise InputError([Problem(path, 1, "", "file is empty")])
    try:
        _check_depth(path, text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line, message = _syntax_error(exc, text)
        raise InputError([Problem(path, line, "", f"YAML syntax error: {message}")]) from None
    if node is None:
        raise InputError([Problem(path, 1, "", "file is empty")])
    walker = _Walker(path)
    data = walker.walk(node, ())
    if walker.problems:
        raise InputError(walker.problems)
    return Document(path, data, {k: (path, v) for k, v in walker.lines.items()}, raw)


def _syntax_error(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """Line and one-line message of a PyYAML error (its own text spans several lines)."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return line, (f"control character #x{exc.character:02x} is not allowed "
                      "(write it as an escape inside double quotes)")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        parts = [exc.problem or "", exc.context or ""]
        message = "; ".join(" ".join(p.split()) for p in parts if p)
        return (mark.line + 1 if mark else None), message or "cannot parse"
    return None, " ".join(str(exc).split())


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
        self.merged: dict[int, int] = {}  # id of a flattened mapping node -> merged pairs

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
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            self._problem(node, parts, f"bad value: {' '.join(str(exc).split())}")
            return None

    def _mapping(self, node, parts):
        if node.tag != _MAP_TAG:
            self._problem(node, parts, f"unsupported tag '{node.tag}'")
            return None
        if id(node) not in self.merged:  # a node reached again through an alias is flat
            explicit = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
            try:
                self.constructor.flatten_mapping(node)  # resolves '<<' merge keys
            except yaml.YAMLError as exc:
                self._problem(node, parts, f"bad merge key: {' '.join(str(exc).split())}")
                return None
            # flatten_mapping puts the merged pairs first, the explicit ones after them
            self.merged[id(node)] = len(node.value) - explicit
        n_merged = self.merged[id(node)]
        pairs = []
        for k, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, parts, "keys must be plain names")
                continue
            key = self.walk(key_node, (*parts, "<key>"))
            if isinstance(key, float | bool) or key is None:
                key = key_node.value
            pairs.append((key, key_node, value_node, k < n_merged))
        self.lines.pop((*parts, "<key>"), None)
        # YAML merge keys: an explicit key overrides a merged one, and of several merged
        # mappings the first listed wins (PyYAML orders them so that the last pair wins)
        explicit_keys = {key for key, *_, merged in pairs if not merged}
        last_merged = {key: k for k, (key, *_, merged) in enumerate(pairs) if merged}
        out: dict = {}
        for k, (key, key_node, value_node, merged) in enumerate(pairs):
            if merged and (key in explicit_keys or last_merged[key] != k):
                continue
            if key in out:
                first = self.lines.get((*parts, key))
                self._problem(key_node, (*parts, key),
                              f"duplicate key (first given on line {first})")
                continue
            self.lines[(*parts, key)] = key_node.start_mark.line + 1
            out[key] = self.walk(value_node, (*parts, key))
        return out
