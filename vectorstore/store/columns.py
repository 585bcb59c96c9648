"""A record as Chroma metadata and back, read from the record's own dataclass fields (vectorstore/records.py).

Chroma metadata holds strings, numbers and booleans, never None or a list: a tuple of ints is one
space-separated string and an optional int is 0 for None. A key that metadata lacks (written before its
field existed) reads as the field's default, as does an empty string where the field has one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, fields
from functools import cache
from typing import Any, Optional, get_type_hints


def ints_out(numbers: Sequence[int]) -> str:
    return " ".join(map(str, numbers))


def ints_in(text: str | None) -> tuple[int, ...]:
    return tuple(map(int, text.split())) if text else ()


def to_meta(record, skip: Sequence[str] = ()) -> dict:
    """The record's fields, but those in `skip`, as Chroma metadata."""
    return {f.name: _out(getattr(record, f.name)) for f in fields(record) if f.name not in skip}


def from_meta(cls, meta: dict, **given: Any):
    """A `cls` record from its metadata; `given` fields (those metadata does not hold) as they are."""
    values = dict(given)
    for name, (kind, default) in _columns(cls).items():
        if name not in given:
            values[name] = _in(kind, meta.get(name), default)
    return cls(**values)


@cache
def _columns(cls) -> dict[str, tuple[Any, Any]]:
    hints = get_type_hints(cls)  # Annotated descriptions dropped: the bare types
    return {f.name: (hints[f.name], f.default) for f in fields(cls)}


def _out(value):
    if isinstance(value, tuple):
        return ints_out(value)
    return 0 if value is None else value


def _in(kind, raw, default):
    if kind is int or kind is float:
        return kind(raw)
    if kind is bool:
        return bool(raw)
    if kind == Optional[int]:
        return int(raw or 0) or None
    if kind == tuple[int, ...]:
        return ints_in(raw)
    return default if not raw and default is not MISSING else raw
