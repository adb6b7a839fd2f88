"""Event data loaded by plain functions where marshmallow would give the same answer.

``Schema.load`` walks every field through several layers of calls; an event's data took it
about a millisecond, once where the event is published (the schema check) and again in
every consumer. :func:`loader` compiles a schema once into small functions for the kinds of
field the catalogue uses (strings, integers, floats, booleans, UUIDs, dates, lists and
nested schemas, with their validators). They take only values whose result is certain (a
``str`` for a string, an ``int`` for an integer, and so on); anything else, and every error,
is referred to ``Schema.load``, whose answer (the data, or the errors naming each field) is
the one given. A schema with load hooks, and a field of any other kind, is loaded by
marshmallow itself.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any, cast

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, missing

Load = Callable[[Any], Any]


class _Refer(Exception):
    """The value is not one the compiled functions are sure of: marshmallow decides."""


def loader(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A function answering what ``schema.load(data)`` answers, faster for good data."""
    compiled = _schema(schema, schema.unknown)

    def load(data: Any) -> dict[str, Any]:
        try:
            if compiled is not None:
                return cast(dict[str, Any], compiled(data))
        except (_Refer, ValidationError):
            pass
        return cast(dict[str, Any], schema.load(data))

    return load


def _schema(schema: Schema, unknown: str | None) -> Load | None:
    """``schema``'s fields loaded in turn, or None when the schema needs marshmallow."""
    unknown = unknown or schema.unknown
    if any(schema._hooks.values()) or unknown not in (RAISE, EXCLUDE) or schema.many:
        return None
    keyed = []
    for name, field in schema.load_fields.items():
        target = field.attribute or name
        if "." in target:
            return None  # marshmallow nests such a key; not worth copying
        key = field.data_key if field.data_key is not None else name
        keyed.append((key, target, _field(field)))
    known = frozenset(key for key, _, _ in keyed)
    strict = unknown == RAISE

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict or (strict and not known.issuperset(data)):
            raise _Refer
        loaded = {}
        for key, target, load_field in keyed:
            value = load_field(data.get(key, missing))
            if value is not missing:
                loaded[target] = value
        return loaded

    return load


def _field(field: fields.Field[Any]) -> Load:
    """Missing values, ``None`` and validators as ``Field.deserialize`` treats them, around
    a conversion that takes only what it is sure of."""
    convert = _conversion(field)
    if convert is None or field.pre_load or field.post_load:
        return lambda value: field.deserialize(value)
    required, allow_none, default = field.required, field.allow_none, field.load_default
    validators = tuple(field.validators)

    def load(value: Any) -> Any:
        if value is missing:
            if required:
                raise _Refer
            return default() if callable(default) else default
        if value is None:
            if allow_none:
                return None
            raise _Refer
        converted = convert(value)
        for validator in validators:
            if validator(converted) is False:
                raise _Refer
        return converted

    return load


def _conversion(field: fields.Field[Any]) -> Load | None:
    """The value of the field from a JSON value of the one type it is sure of; None for a
    field of another kind. The class must match exactly: a subclass may check more."""
    simple = {fields.String: str, fields.Integer: int}.get(type(field))
    if simple is not None:
        return _of_type(simple)
    if type(field) is fields.Boolean:
        return _of_type(bool) if _plain_truth(field) else None
    if type(field) is fields.Float:
        return _float(field.allow_nan)
    if type(field) is fields.UUID:
        return _uuid
    if type(field) is fields.Date:
        return _date if (field.format or "iso") in ("iso", "iso8601") else None
    if type(field) is fields.List:
        inner, is_list = _field(field.inner), _of_type(list)
        return lambda value: [inner(each) for each in is_list(value)]
    if type(field) is fields.Nested:
        return None if field.many or field.schema.many else _schema(field.schema, field.unknown)
    return None


def _of_type(expected: type) -> Load:
    def same(value: Any) -> Any:
        if type(value) is not expected:
            raise _Refer
        return value

    return same


def _plain_truth(field: fields.Boolean) -> bool:
    return field.truthy == fields.Boolean.truthy and field.falsy == fields.Boolean.falsy


def _float(allow_nan: bool) -> Load:
    def load(value: Any) -> float:
        if type(value) is float:
            number = value
        elif type(value) is int and abs(value) < 2**53:  # exactly representable
            number = float(value)
        else:
            raise _Refer
        if not allow_nan and not math.isfinite(number):
            raise _Refer
        return number

    return load


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise _Refer
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Refer from None


def _date(value: Any) -> dt.date:
    if type(value) is not str:
        raise _Refer
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Refer from None
