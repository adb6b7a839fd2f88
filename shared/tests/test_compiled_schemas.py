"""Event data loaded and dumped by the compiled functions answers exactly what marshmallow
answers.

For every event type in the catalogue, a document that fits its schema is built from the
schema itself, then spoiled one way at a time at every field (removed, null, a value of
another type or out of range, an unknown key beside it). The compiled loader and
``Schema.load`` must agree on each (the same data, or the same errors), for consumers
(unknown fields ignored) and for producers (refused); so must the compiled dumper and
``Schema.dump`` on the data as loaded, spoiled the same way (the same output, or the same
exception).
"""

import copy
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from asn_shared.events import registry
from asn_shared.events.compiled import _dumped_schema, _Refer, _schema, dumper, loader

DEFINITIONS = list(registry)

ODD_VALUES = [
    "",
    "x",
    "12",
    "1" * 18,
    "2026-13-40",
    "2026-12-03",
    "20261203",
    "nan",
    "true",
    str(uuid.UUID(int=7)),
    "{12345678-1234-5678-1234-567812345678}",
    0,
    -1,
    6,
    1.5,
    2.0,
    1999,
    10**20,
    float("inf"),
    True,
    False,
    [],
    ["x"],
    {},
]


def candidates(field: fields.Field) -> list[Any]:
    """JSON values a field of this kind might take; the first it loads is used."""
    choices = [c for v in field.validators if isinstance(v, validate.OneOf) for c in v.choices]
    choices += [v.min for v in field.validators if isinstance(v, validate.Range) and v.min]
    choices += ["x" * v.min for v in field.validators if isinstance(v, validate.Length) and v.min]
    if isinstance(field, fields.Nested):
        return [document(field.schema)]
    if isinstance(field, fields.List):
        return [[value] for value in candidates(field.inner)]
    dates_and_ids = ["2026-12-03", "2026-12-03T10:00:00+07:00", str(uuid.uuid4())]
    return [*choices, True, 20, 1, 0.75, "siti@plaju.test", "1" * 18, "Plaju", *dates_and_ids]


def value_for(field: fields.Field) -> Any:
    for value in candidates(field):
        try:
            field.deserialize(copy.deepcopy(value))
        except ValidationError:
            continue
        return value
    raise AssertionError(f"no sample value for {field!r}")


def document(schema: Schema) -> dict[str, Any]:
    """A document with every field of ``schema`` filled with a value it accepts."""
    return {
        (field.data_key or name): value_for(field) for name, field in schema.load_fields.items()
    }


PYTHON_VALUES = [
    uuid.UUID(int=7),
    dt.date(2026, 12, 3),
    dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC),
    ("x",),
    b"x",
    Decimal("1.5"),
    dt.time(10, 0),
]


def spoiled(data: Any, odd_values: list[Any] = ODD_VALUES) -> Iterator[Any]:
    """``data`` changed in one place at a time, at every level."""
    if isinstance(data, dict):
        yield {**data, "unexpected": 1}
        for key, value in data.items():
            yield {k: v for k, v in data.items() if k != key}
            for other in [None, *odd_values, *spoiled(value, odd_values)]:
                yield {**data, key: other}
    elif isinstance(data, list) and data:
        yield [*data, *data]
        for other in [None, *odd_values[:12], *spoiled(data[0], odd_values)]:
            yield [other]


def answer(load, data: Any) -> tuple[str, Any]:
    try:
        return "data", load(copy.deepcopy(data))
    except ValidationError as exc:
        return "errors", exc.messages


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.type)
def test_compiled_loading_answers_what_marshmallow_answers(definition):
    good = document(definition.writer)
    for schema in (definition.reader, definition.writer):
        fast = loader(schema)
        for data in [good, *spoiled(good)]:
            assert answer(fast, data) == answer(schema.load, data), data


def outcome(dump, data: Any) -> tuple[Any, ...]:
    try:
        return "output", repr(dump(copy.deepcopy(data)))  # repr: a NaN equals its copy
    except Exception as exc:  # noqa: BLE001 - whatever marshmallow raises, the same
        return "raised", type(exc), str(exc)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.type)
def test_compiled_dumping_answers_what_marshmallow_answers(definition):
    loaded = definition.reader.load(document(definition.writer))
    fast, schema = dumper(definition.writer), definition.writer
    for data in [loaded, *spoiled(loaded, ODD_VALUES + PYTHON_VALUES)]:
        assert outcome(fast, data) == outcome(schema.dump, data), data


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.type)
def test_every_catalogue_schema_is_compiled_and_takes_good_data_itself(definition):
    for schema in (definition.reader, definition.writer):
        compiled = _schema(schema, schema.unknown)
        assert compiled is not None
        loaded = compiled(document(schema))  # no _Refer: marshmallow is not asked
    _dumped_schema(definition.writer)(loaded)  # nor here


def test_a_schema_with_a_load_hook_is_loaded_by_marshmallow():
    from marshmallow import post_load

    class Shouted(Schema):
        name = fields.String(required=True)

        @post_load
        def shout(self, data, **kwargs):
            return {"name": data["name"].upper()}

    assert _schema(Shouted(), None) is None
    assert loader(Shouted())({"name": "siti"}) == {"name": "SITI"}


def test_a_value_the_compiled_functions_are_unsure_of_goes_to_marshmallow():
    class Counted(Schema):
        count = fields.Integer(required=True)

    compiled = _schema(Counted(), None)
    with pytest.raises(_Refer):
        compiled({"count": "12"})
    assert loader(Counted())({"count": "12"}) == {"count": 12}  # marshmallow's answer
