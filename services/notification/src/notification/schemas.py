"""HTTP bodies and query strings of the notification API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from asn_shared.vocabulary import Channel, values
from asn_shared.web import PageQuery, page_schema

from .domain import AUDIENCES, DELIVERY_STATES, LANGUAGES, OFFICIAL_ROLES, RULE_CHANNELS
from .domain import valid_pattern as _valid_pattern

CHANNELS = values(Channel)


class SubscriptionIn(Schema):
    agency = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the owning agency's id; an agency's own token sets it"},
    )
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the subscribing agency"},
    )
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        metadata={"description": "where events are POSTed"},
    )
    patterns = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": 'event-type patterns: "budget.*", "assessment.recorded", "#"'},
    )

    @validates("patterns")
    def _patterns(self, value: list[str], **_: object) -> None:
        wrong = [pattern for pattern in value if not _valid_pattern(pattern)]
        if wrong:
            raise ValidationError(f"Not an event-type pattern: {', '.join(wrong)}.")


class SubscriptionOut(Schema):
    id = fields.UUID()
    agency = fields.String(allow_none=True)
    name = fields.String()
    url = fields.String()
    patterns = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.DateTime()


class SubscriptionCreated(SubscriptionOut):
    secret = fields.String(
        metadata={"description": "HMAC-SHA256 key of X-Kompas-Signature; shown only in this answer"}
    )


class SubscriptionQuery(PageQuery):
    active = fields.Boolean(load_default=None)
    agency = fields.String()


class OfficialIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(OFFICIAL_ROLES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    unit_code = fields.String(
        load_default=None,
        validate=validate.Length(min=1),
        metadata={"description": "required for a unit operator: the unit they serve"},
    )
    language = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))


class OfficialChange(Schema):
    """Any of an official's fields; the others stay as they are."""

    role = fields.String(validate=validate.OneOf(OFFICIAL_ROLES))
    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email()
    unit_code = fields.String(allow_none=True, validate=validate.Length(min=1))
    language = fields.String(validate=validate.OneOf(LANGUAGES))


class OfficialOut(Schema):
    id = fields.UUID()
    role = fields.String()
    name = fields.String()
    email = fields.String()
    unit_code = fields.String(allow_none=True)
    language = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class OfficialQuery(PageQuery):
    role = fields.String(validate=validate.OneOf(OFFICIAL_ROLES))
    unit_code = fields.String()


class EmployeeOut(Schema):
    nip = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    unit_code = fields.String()
    unit_name = fields.String()
    supervisor_nip = fields.String(allow_none=True)
    language = fields.String()
    version = fields.Integer(metadata={"description": "the highest version seen"})
    updated_at = fields.DateTime()


class InboxQuery(PageQuery):
    unread = fields.Boolean(
        load_default=None, metadata={"description": "true: unread only; false: read only"}
    )


class InboxMessage(Schema):
    id = fields.UUID()
    event_type = fields.String()
    subject = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda message: message.read_at is not None, dump_only=True)


class InboxPage(Schema):
    items = fields.List(fields.Nested(InboxMessage))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    unread = fields.Integer(metadata={"description": "unread messages in the whole inbox"})


class ReadMark(Schema):
    read = fields.Boolean(required=True)


class DeliveryQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    event_type = fields.String()
    event_id = fields.String()
    recipient = fields.String(metadata={"description": "NIP, official id or subscription id"})


class AttemptOut(Schema):
    number = fields.Integer()
    attempted_at = fields.DateTime()
    succeeded = fields.Boolean()
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Schema):
    id = fields.UUID()
    event_id = fields.String()
    event_type = fields.String()
    channel = fields.String()
    recipient = fields.String()
    address = fields.String()
    subject = fields.String(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    attempt_limit = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


class DeliveryDetail(DeliveryOut):
    body = fields.String()
    attempt_log = fields.List(fields.Nested(AttemptOut))


DeliveryPage = page_schema(DeliveryOut)
SubscriptionPage = page_schema(SubscriptionOut)
OfficialPage = page_schema(OfficialOut)


class RuleOut(Schema):
    id = fields.Integer()
    event_type = fields.String()
    audience = fields.String()
    channels = fields.List(fields.String())
    template = fields.String()
    active = fields.Boolean()


class RuleChange(Schema):
    channels = fields.List(
        fields.String(validate=validate.OneOf(RULE_CHANNELS)), validate=validate.Length(min=1)
    )
    template = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "a template key that exists in Bahasa Indonesia"},
    )
    active = fields.Boolean()


class RuleIn(Schema):
    event_type = fields.String(required=True)
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    channels = fields.List(
        fields.String(validate=validate.OneOf(RULE_CHANNELS)),
        required=True,
        validate=validate.Length(min=1),
    )
    template = fields.String(required=True, validate=validate.Length(min=1))


class TemplateIn(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1))
    body = fields.String(required=True, validate=validate.Length(min=1))


class TemplateOut(TemplateIn):
    key = fields.String()
    language = fields.String()
    updated_at = fields.DateTime()
