"""Tables of the notification service's own database."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from asn_shared.columns import timestamp_now


class Base(DeclarativeBase):
    pass


class Employee(Base):
    """Read model of an employee (ASN), kept from employee.registered / employee.updated."""

    __tablename__ = "employees"

    nip: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(Text, nullable=False)
    unit_name: Mapped[str] = mapped_column(Text, nullable=False)
    supervisor_nip: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = timestamp_now()

    __table_args__ = (Index("employees_unit_code", "unit_code"),)


class Official(Base):
    """A unit operator or a BKPSDM administrator, managed through the API."""

    __tablename__ = "officials"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = timestamp_now()

    __table_args__ = (Index("officials_role_unit", "role", "unit_code"),)


class Rule(Base):
    """Who hears of an event type, over which channels, with which template."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    audience: Mapped[str] = mapped_column(Text, nullable=False)
    channels: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    template: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (UniqueConstraint("event_type", "audience", name="rules_event_audience"),)


class Template(Base):
    """A Jinja2 subject and body in one language."""

    __tablename__ = "templates"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    language: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = timestamp_now()


class Subscription(Base):
    """Another agency's webhook, for the event types matching its patterns."""

    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    patterns: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = timestamp_now()
    # the agency's id in its bearer tokens; an agency sees and cancels only its own
    agency: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("subscriptions_agency", "agency"),)


class Delivery(Base):
    """One notification of one event to one recipient over one channel: at most one row each.

    ``recipient`` is a NIP, an official's id or a subscription's id; ``address`` where it goes
    (e-mail address, URL, or the inbox key). ``read_at`` is for inbox messages only.
    """

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, nullable=False)
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    correlation_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text, nullable=False)
    recipient: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    attempt_limit: Mapped[int] = mapped_column(Integer, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a dispatch round's claim on a pending e-mail or webhook while it is out, until its
    # lease runs out (renewed while the round lives)
    claim: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel", name="deliveries_once"),
        Index("deliveries_claim", "claim", postgresql_where=text("claim IS NOT NULL")),
        Index(
            "deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("deliveries_created_at", "created_at"),
        Index(
            "deliveries_inbox",
            "recipient",
            "created_at",
            postgresql_where=text("channel = 'inbox'"),
        ),
    )


class DeliveryAttempt(Base):
    """Every attempt at a delivery and its outcome."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (UniqueConstraint("delivery_id", "number", name="delivery_attempts_once"),)


metadata = Base.metadata
