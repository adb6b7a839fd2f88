"""Event data loaded and dumped by plain functions where marshmallow gives the same answer.

``Schema.load`` and ``Schema.dump`` walk every field through several layers of calls: an
event's data took a tenth to half a millisecond each way, and every event is dumped and
checked where it is published and loaded again in every consumer. :func:`loader` and
:func:`dumper` compile a schema once into small functions for the kinds of field the
catalogue uses (strings, integers, floats, booleans, UUIDs, dates, lists and nested schemas,
with their validators). They take only values whose result is certain (a ``str`` for a
string, an ``int`` for an integer, and so on); anything else, and every error, is referred to
marshmallow, whose answer (the data, the errors naming each field, or the exception) is the
one given. A schema with hooks is left to marshmallow, and so is a field of any other kind.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any, cast

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, missing

Convert = Callable[[Any], Any]


class _Refer(Exception):
    """The value is not one the compiled functions are sure of: marshmallow decides."""


def loader(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A function answering what ``schema.load(data)`` answers, faster for good data."""
    return _first_sure(_schema(schema, schema.unknown), schema.load)


def dumper(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """A function answering what ``schema.dump(data)`` answers for a dict, faster."""
    return _first_sure(_dumped_schema(schema), schema.dump)


def _first_sure(compiled: Convert | None, marshmallow: Convert) -> Callable[[Any], Any]:
    def answer(data: Any) -> dict[str, Any]:
        try:
            if compiled is not None:
                return cast(dict[str, Any], compiled(data))
        except (_Refer, ValidationError):
            pass
        return cast(dict[str, Any], marshmallow(data))

    return answer


def _compilable(schema: Schema) -> bool:
    return not schema.many and not any(schema._hooks.values())


# --- loading ------------------------------------------------------------------------------


def _schema(schema: Schema, unknown: str | None) -> Convert | None:
    """``schema``'s fields loaded in turn, or None when the schema needs marshmallow."""
    unknown = unknown or schema.unknown
    if not _compilable(schema) or unknown not in (RAISE, EXCLUDE):
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


def _field(field: fields.Field[Any]) -> Convert:
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


def _conversion(field: fields.Field[Any]) -> Convert | None:
    """The value of the field from a JSON value of the one type it is sure of; None for a
    field of another kind. The class must match exactly: a subclass may check more."""
    simple = {fields.String: str, fields.Integer: int}.get(type(field))
    if simple is not None:
        return _of_type(simple)
    if type(field) is fields.Boolean:
        return _of_type(bool) if _plain_truth(field) else None
    if type(field) is fields.Float:
        return _finite_float(field.allow_nan)
    if type(field) is fields.UUID:
        return _uuid
    if type(field) is fields.Date:
        return _date if _iso(field) else None
    if type(field) is fields.List:
        inner, is_list = _field(field.inner), _of_type(list)
        return lambda value: [inner(each) for each in is_list(value)]
    if type(field) is fields.Nested:
        return None if field.many else _schema(field.schema, field.unknown)
    return None


def _of_type(expected: type) -> Convert:
    def same(value: Any) -> Any:
        if type(value) is not expected:
            raise _Refer
        return value

    return same


def _plain_truth(field: fields.Boolean) -> bool:
    return field.truthy == fields.Boolean.truthy and field.falsy == fields.Boolean.falsy


def _iso(field: fields.Date) -> bool:
    return (field.format or "iso") in ("iso", "iso8601")


def _finite_float(allow_nan: bool) -> Convert:
    def load(value: Any) -> float:
        number = _float(value)
        if not allow_nan and not math.isfinite(number):
            raise _Refer
        return number

    return load


def _float(value: Any) -> float:
    """``float(value)`` for a float, or an int it represents exactly."""
    if type(value) is float:
        return value
    if type(value) is int and abs(value) < 2**53:
        return float(value)
    raise _Refer


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


# --- dumping ------------------------------------------------------------------------------


def _dumped_schema(schema: Schema) -> Convert | None:
    """``schema``'s fields dumped in turn from a dict, or None when it needs marshmallow."""
    if not _compilable(schema):
        return None
    keyed = []
    for name, field in schema.dump_fields.items():
        source = field.attribute or name
        if "." in source:
            return None
        key = field.data_key if field.data_key is not None else name
        keyed.append((key, _dumped_field(schema, name, field)))

    def dump(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise _Refer
        dumped = {}
        for key, dump_field in keyed:
            value = dump_field(data)
            if value is not missing:
                dumped[key] = value
        return dumped

    return dump


def _dumped_field(schema: Schema, name: str, field: fields.Field[Any]) -> Convert:
    """The field's value in a dict as ``Field.serialize`` gives it: a missing key takes the
    field's ``dump_default``; a field of a kind this module does not know is marshmallow's."""
    convert = _dumped(field)
    if convert is None:
        return lambda data: field.serialize(name, data, accessor=schema.get_attribute)
    source, default = field.attribute or name, field.dump_default

    def dump(data: dict[str, Any]) -> Any:
        value = data.get(source, missing)
        if value is missing:
            if hasattr(data, source):  # marshmallow would take the dict's attribute
                raise _Refer
            value = default() if callable(default) else default
            if value is missing:
                return missing
        return None if value is None else convert(value)

    return dump


def _dumped(field: fields.Field[Any]) -> Convert | None:
    """A field's value (not None) as ``Field._serialize`` gives it, for the types it is
    sure of (every field kind here dumps None as None); None for another kind of field."""
    if type(field) is fields.String:
        return _of_type(str)
    if type(field) is fields.UUID:
        return _uuid_text
    if type(field) is fields.Integer and not field.as_string:
        return _of_type(int)
    if type(field) is fields.Float and not field.as_string:
        return _float
    if type(field) is fields.Boolean:
        return lambda value: value  # marshmallow dumps it as it is
    if type(field) is fields.Date and _iso(field):
        return _date_text
    if type(field) is fields.List:
        inner, is_list = _dumped(field.inner), _of_type(list)
        if inner is not None:
            return lambda value: [None if v is None else inner(v) for v in is_list(value)]
    if type(field) is fields.Nested and not field.many:
        return _dumped_schema(field.schema)
    return None


def _uuid_text(value: Any) -> str:
    if type(value) is uuid.UUID or type(value) is str:
        return str(value)
    raise _Refer


def _date_text(value: Any) -> str:
    if type(value) is not dt.date:  # a datetime is a date too, with its own isoformat
        raise _Refer
    return value.isoformat()
