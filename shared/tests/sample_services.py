"""Small services that exercise the library as real ones do: ``pinger`` writes events
through its outbox; ``sink`` consumes them once each and records them in its own table;
``tally`` counts them per subject with ORM rows, as a handler declared ``own_subject``, and
collects a tick per ping for one INSERT per batch (``uow.collect``), once a batch was
prepared for.

``SINK_PAUSE`` (seconds) makes the sink's use case wait after each ping, so that a test can
kill it in the middle of a batch."""

import os
import time
from datetime import datetime
from functools import partial

from marshmallow import Schema, fields, validate
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from asn_shared.base import ServiceBase
from asn_shared.entrypoints import api, subscribe
from asn_shared.events import event_type
from asn_shared.web import load_json


@event_type("ping.sent", version=1, producer="pinger")
class PingSent(Schema):
    """A numbered ping; ``fail`` asks the consumer to raise."""

    seq = fields.Integer(required=True, validate=validate.Range(min=0))
    fail = fields.Boolean(load_default=False, dump_default=False)


class PingRequest(Schema):
    first = fields.Integer(required=True, validate=validate.Range(min=0))
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))
    fail = fields.Boolean(load_default=False)


class PingAccepted(Schema):
    accepted = fields.Integer(required=True)


metadata = MetaData()
pings = Table(
    "pings",
    metadata,
    Column("seq", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
)


class Base(DeclarativeBase):
    metadata = metadata


class Tallied(Base):
    """A ping counted under its subject: ``before``, how many of the subject's pings were
    counted when it came; ``written_at``, its INSERT statement's start (rows written by one
    statement share it). The database refuses ping 113, as a constraint refuses a bad row."""

    __tablename__ = "tallies"
    __table_args__ = (CheckConstraint("seq <> 113", name="ping_113_refused"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    before: Mapped[int] = mapped_column(Integer)
    written_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.statement_timestamp()
    )


preparations = Table("preparations", metadata, Column("events", Integer, nullable=False))
ticks = Table(
    "ticks",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("written_at", DateTime(timezone=True), server_default=func.statement_timestamp()),
    CheckConstraint("seq <> 114", name="tick_114_refused"),
)


def send_pings(uow, first: int, count: int, fail: bool = False, subjects: int = 0) -> None:
    """Pings ``first`` onwards; with ``subjects``, ping n's subject is n modulo it."""
    for seq in range(first, first + count):
        subject = str(seq % subjects if subjects else seq)
        uow.publish("ping.sent", {"seq": seq, "fail": fail}, subject=subject)
    uow.commit()


def record_ping(uow, event) -> None:
    """Record the ping; one asked to fail raises after its row was written, so that only its
    savepoint's rollback keeps that row out."""
    uow.session.execute(insert(pings).values(seq=event.data["seq"], event_id=event.id))
    time.sleep(float(os.environ.get("SINK_PAUSE", "0")))
    if event.data["fail"]:
        raise RuntimeError(f"ping {event.data['seq']} asked to fail")


def tally_ping(uow, event) -> None:
    counted = select(func.count()).where(Tallied.subject == event.subject)
    before = uow.session.scalar(counted)
    uow.session.add(Tallied(seq=event.data["seq"], subject=event.subject, before=before))
    uow.collect("ticks", [{"seq": event.data["seq"]}], partial(write_ticks, uow))


def prepare_tallies(uow, events) -> None:
    """Counts the events a batch prepares for (a real service reads their rows at once)."""
    uow.session.execute(insert(preparations).values(events=len(events)))


def write_ticks(uow, rows: list[dict]) -> None:
    uow.session.execute(insert(ticks), rows)


class Pinger(ServiceBase):
    """Sends pings through its outbox."""

    name = "pinger"

    @api(
        "POST",
        "/pings",
        summary="Send numbered pings",
        request=PingRequest,
        status=202,
        response=PingAccepted,
    )
    def post_pings(self, request):
        command = load_json(request, PingRequest())
        with self.db.unit_of_work() as uow:
            send_pings(uow, **command)
        return 202, {"accepted": command["count"]}


class Sink(ServiceBase):
    name = "sink"

    @subscribe("ping.sent", consumer="pings", formerly="on_ping")
    def on_ping(self, event):
        self.db.handle_once(event, record_ping)


class Tally(ServiceBase):
    name = "tally"

    @subscribe("ping.sent", consumer="tallies", own_subject=True)
    def on_ping(self, event):
        self.db.handle_once(event, tally_ping, prepare_tallies)
