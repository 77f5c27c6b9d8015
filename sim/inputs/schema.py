"""Typed, frozen records validated at the edge, with located error messages.

Every input file (scenario, seed events, action catalogue) is validated into
pydantic models defined with the helpers here. :func:`validate` turns
pydantic's errors into :class:`~sim.errors.Problem` objects carrying the file,
line and field path of each offending value, plus a "did you mean" hint for
misspelt field names.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError

from sim.errors import InputError, Problem, did_you_mean, printable
from sim.inputs.yamlio import Document

Num = Annotated[float, Strict()]
Int = Annotated[int, Strict()]
Str = Annotated[str, Strict()]
Bool = Annotated[bool, Strict()]
Fraction = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]

MAX_ID_LENGTH = 32
_ID = re.compile(rf"[A-Za-z][A-Za-z0-9]{{0,{MAX_ID_LENGTH - 1}}}")


def _check_id(name: str) -> str:
    """Accept an id made of letters and digits, starting with a letter.

    Ids are joined with '_' in CSV headers and with '.' in field paths, so only
    letters and digits keep them apart.
    """
    if _ID.fullmatch(name):
        return name
    near = re.sub(r"[^A-Za-z0-9]", "", name)[:MAX_ID_LENGTH]
    hint = f" (did you mean '{near}'?)" if near[:1].isalpha() else ""
    raise ValueError(f"id '{printable(name)}' must be 1 to {MAX_ID_LENGTH} ASCII letters and "
                     f"digits, starting with a letter{hint}")


Id = Annotated[str, Strict(), AfterValidator(_check_id)]
"""An actor or Council-seat id, such as ``USA`` or ``UNSC``."""


class Record(BaseModel):
    """Base of every validated input record: frozen, no unknown fields, finite numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _unwrap(tp):
    """Strip ``Annotated`` and ``Optional`` wrappers, preferring a model member of a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = next((a for a in args if _is_model(a)), args[0])
        else:
            return tp


def _is_model(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Names of the fields that may appear at ``loc`` inside ``model``."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if _is_model(tp):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (list, tuple):
            tp = typing.get_args(tp)[0]
        else:
            return []
    tp = _unwrap(tp)
    return [f.alias or n for n, f in tp.model_fields.items()] if _is_model(tp) else []


def error_message(err: dict) -> tuple[str, str | None]:
    """One pydantic error as (message, hint) in the house wording."""
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return "required field is missing", None
    if kind == "extra_forbidden":
        return "unknown field", None
    if kind == "finite_number":
        return f"must be a finite number, got {got!r}", None
    ctx = err.get("ctx") or {}
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if kind.startswith(("greater", "less")) and key in ctx:
            bound = ctx[key]
            if isinstance(bound, float) and bound.is_integer():
                bound = int(bound)  # pydantic turns a float field's bound 10_000_000 into 1e7
            return f"must be {sign} {bound}, got {got!r}", None
    if kind == "literal_error":
        choices = [c.strip().strip("'") for c in
                   str(ctx.get("expected", "")).replace(" or ", ",").split(",")]
        return (f"must be one of {', '.join(c for c in choices if c)}, got {got!r}",
                did_you_mean(got, choices) if isinstance(got, str) else None)
    text = err["msg"]
    text = text[0].lower() + text[1:]
    text = text.replace("input should be", "must be")
    if kind == "value_error":
        text = text.removeprefix("value error, ")
        return text, None
    return f"{text}, got {type(got).__name__} {got!r}", None


def validate(model: type[BaseModel], doc: Document, data: Any = None, prefix: tuple = ()):
    """Validate ``data`` (default: the whole document) as ``model``.

    ``prefix`` is the field path of ``data`` inside ``doc``, so that messages
    point at the right line. Raises :class:`InputError` with one problem per
    error that pydantic found.
    """
    data = doc.data if data is None else data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(located_problems(model, doc, exc, prefix)) from None


def located_problems(model, doc: Document, exc: ValidationError, prefix=()) -> list[Problem]:
    """Translate a pydantic ``ValidationError`` into located problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        message, hint = error_message(err)
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(loc[-1], _fields_at(model, loc[:-1]))
        problems.append(doc.problem((*prefix, *loc), message, hint))
    return sorted(problems, key=lambda p: (str(p.file), p.line or 0))
