"""The words the services and the event contract share, defined once.

The event catalogue validates events against these values and each service's domain uses the
same enums, so a new kind of jabatan or a new proposal state is added in one place. Terms of
art keep their Indonesian names: *jabatan* (a position), *JPT* (the senior executive ranks),
*klasikal* (classroom training).
"""

from __future__ import annotations

from enum import StrEnum


class JabatanKind(StrEnum):
    """The kinds of position in the civil service (UU 20/2023)."""

    JPT_UTAMA = "jpt_utama"
    JPT_MADYA = "jpt_madya"
    JPT_PRATAMA = "jpt_pratama"
    ADMINISTRATOR = "administrator"
    PENGAWAS = "pengawas"
    FUNGSIONAL = "fungsional"
    PELAKSANA = "pelaksana"


class CompetencyKind(StrEnum):
    """Managerial, socio-cultural and technical competencies (PermenPANRB 38/2017)."""

    MANAJERIAL = "manajerial"
    SOSIAL_KULTURAL = "sosial_kultural"
    TEKNIS = "teknis"


class Form(StrEnum):
    """The forms of development: degree study, classroom and non-classroom training."""

    PENDIDIKAN = "pendidikan"
    KLASIKAL = "klasikal"
    NONKLASIKAL = "nonklasikal"


class ProposalStatus(StrEnum):
    PENDING_BUDGET = "pending_budget"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    WAITLISTED = "waitlisted"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Funding(StrEnum):
    """Who pays an approved item: the unit's training budget, or another source an operator
    approved it under (never charged to the unit's budget)."""

    BUDGET = "budget"
    OTHER = "other"


class Finding(StrEnum):
    """What became of one competency of an assessment, or of the year's JP."""

    NO_GAP = "no_gap"  # achieved the required level
    PROPOSED = "proposed"  # a proposed programme closes the gap
    NARROWED = "narrowed"  # the best on offer narrows the gap without closing it
    ALREADY_BOOKED = "already_booked"  # development approved or enrolled will close it
    NO_PROGRAMME = "no_programme"  # nothing on offer in the year planned narrows it
    MINIMUM_REACHED = "minimum_reached"  # the year's JP already reach the minimum
    TOP_UP_PROPOSED = "top_up_proposed"  # a programme brings the year's JP toward it
    NOT_PLANNED = "not_planned"  # the proposal is for next year: this year's JP not planned


class Channel(StrEnum):
    """The ways notification tells someone."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    INBOX = "inbox"


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The values of ``vocabulary`` in their order: what a schema's ``OneOf`` takes."""
    return tuple(member.value for member in vocabulary)
