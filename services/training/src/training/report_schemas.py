"""The schemas of training's reports (HTTP)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class GapCostQuery(Schema):
    fiscal_year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    unit_code = fields.String(validate=validate.Length(min=1, max=64))


class UnitGapCost(Schema):
    unit_code = fields.String(required=True)
    unit_name = fields.String(required=True)
    employees_with_gaps = fields.Integer(required=True)
    gaps = fields.Integer(required=True, metadata={"description": "below standard, all"})
    funded_gaps = fields.Integer(
        required=True, metadata={"description": "reached by approved or done development"}
    )
    proposed_gaps = fields.Integer(
        required=True, metadata={"description": "served by a proposal still waiting for money"}
    )
    open_gaps = fields.Integer(required=True, metadata={"description": "not yet planned"})
    unclosable_gaps = fields.Integer(
        required=True, metadata={"description": "open gaps no programme of the year reaches"}
    )
    proposed_rupiah = fields.Integer(
        required=True, metadata={"description": "the waiting proposal items, whole rupiah"}
    )
    unplanned_rupiah = fields.Integer(
        required=True,
        metadata={"description": "the cheapest programmes closing the open gaps, whole rupiah"},
    )
    closing_cost_rupiah = fields.Integer(
        required=True, metadata={"description": "proposed plus unplanned, whole rupiah"}
    )


class GapCostOut(Schema):
    fiscal_year = fields.Integer(required=True)
    units = fields.List(fields.Nested(UnitGapCost), required=True)
