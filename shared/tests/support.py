"""Helpers for the sample services' tests: counting their rows, writing their pings.
(Waiting, events and metrics come from the shared toolkit, ``asn_testkit``.)"""

from sqlalchemy import func, select

from asn_shared.persistence import UnitOfWork, make_engine, outbox, session_factory


def scalar(url: str, statement):
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return connection.scalar(statement)
    finally:
        engine.dispose()


def ping_counts(url: str) -> tuple[int, int]:
    """(rows, distinct sequence numbers) in the sink's pings table."""
    from sample_services import pings

    return (
        scalar(url, select(func.count()).select_from(pings)),
        scalar(url, select(func.count(pings.c.seq.distinct()))),
    )


def unpublished(url: str) -> int:
    return scalar(
        url, select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    )


def write_pings(url: str, first: int, count: int, fail: bool = False, subjects: int = 0) -> None:
    """Write pings through the outbox exactly as the pinger service would."""
    from sample_services import send_pings

    engine = make_engine(url, pool_size=1)
    try:
        with UnitOfWork(session_factory(engine), service="pinger") as uow:
            send_pings(uow, first, count, fail, subjects)
    finally:
        engine.dispose()
