"""Two small services that exercise the library as real ones do: ``pinger`` writes events
through its outbox; ``sink`` consumes them once each and records them in its own table.

``SINK_PAUSE`` (seconds) makes the sink's use case wait after each ping, so that a test can
kill it in the middle of a batch."""

import os
import time

from marshmallow import Schema, fields, validate
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

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


def send_pings(uow, first: int, count: int, fail: bool = False) -> None:
    for seq in range(first, first + count):
        uow.publish("ping.sent", {"seq": seq, "fail": fail}, subject=str(seq))
    uow.commit()


def record_ping(uow, event) -> None:
    """Record the ping; one asked to fail raises after its row was written, so that only its
    savepoint's rollback keeps that row out."""
    uow.session.execute(insert(pings).values(seq=event.data["seq"], event_id=event.id))
    time.sleep(float(os.environ.get("SINK_PAUSE", "0")))
    if event.data["fail"]:
        raise RuntimeError(f"ping {event.data['seq']} asked to fail")


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
