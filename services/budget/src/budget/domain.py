"""The budget rules, in plain Python: positions, reservation policies, amendments, spending
and threshold alerts. No I/O; money is whole rupiah (int), never a float.

A unit's *position* for a fiscal year is the sum of its ledger movements: ``allocated``
(initial allocation plus amendments), ``reserved`` (set aside for approved proposal items)
and ``spent`` (completed development). ``committed = reserved + spent`` may never exceed
``allocated``: :func:`apply` refuses any movement that would break that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from asn_shared.errors import RuleBroken


class BudgetRuleError(RuleBroken):
    """A change the budget rules refuse; the message is for the operator (Bahasa Indonesia)."""


class Overcommitted(BudgetRuleError):
    """A movement would commit more than is allocated, or drive a sum below zero."""


class AmendmentRefused(BudgetRuleError):
    """An amendment that would leave the allocation below what is already committed."""


class Policy(StrEnum):
    """How a proposal's items are reserved (setting ``BUDGET_RESERVATION_POLICY``)."""

    #: every item, or nothing at all
    ALL_OR_NOTHING = "all_or_nothing"
    #: each item in the proposal's own order that still fits (first fit); the default
    PER_ITEM = "per_item"


class EntryKind(StrEnum):
    ALLOCATION = "allocation"
    AMENDMENT = "amendment"
    RESERVATION = "reservation"
    RELEASE = "release"
    SPEND = "spend"


DEFAULT_POLICY = Policy.PER_ITEM
DEFAULT_THRESHOLDS = (80, 100)


@dataclass(frozen=True)
class Rules:
    """The configurable rules of one deployment."""

    policy: Policy = DEFAULT_POLICY
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class Position:
    allocated: int = 0
    reserved: int = 0
    spent: int = 0

    @property
    def committed(self) -> int:
        return self.reserved + self.spent

    @property
    def available(self) -> int:
        return self.allocated - self.committed

    @property
    def utilisation_percent(self) -> float:
        """Committed share of the allocation, for reports (0 without an allocation)."""
        if self.allocated <= 0:
            return 0.0
        return round(self.committed * 100 / self.allocated, 2)


@dataclass(frozen=True)
class Movement:
    """One ledger entry's effect: ``amount`` is what the ledger shows, the deltas what it does."""

    kind: EntryKind
    amount: int
    allocated: int = 0
    reserved: int = 0
    spent: int = 0


def apply(position: Position, movement: Movement) -> Position:
    """The position after ``movement``; refuses one that would overcommit the allocation."""
    after = Position(
        allocated=position.allocated + movement.allocated,
        reserved=position.reserved + movement.reserved,
        spent=position.spent + movement.spent,
    )
    if min(after.allocated, after.reserved, after.spent) < 0:
        raise Overcommitted(f"{movement.kind} would make a sum negative: {after}")
    if after.committed > after.allocated:
        raise Overcommitted(
            f"{movement.kind} would commit Rp {after.committed} of Rp {after.allocated}"
        )
    return after


def total(positions: Iterable[Position]) -> Position:
    result = Position()
    for position in positions:
        result = Position(
            result.allocated + position.allocated,
            result.reserved + position.reserved,
            result.spent + position.spent,
        )
    return result


# --- allocations and amendments ---------------------------------------------------------


def allocation(amount: int) -> Movement:
    if amount <= 0:
        raise BudgetRuleError("Pagu harus bilangan bulat rupiah yang positif.")
    return Movement(EntryKind.ALLOCATION, amount, allocated=amount)


def amendment(position: Position, new_allocated: int) -> Movement:
    """A mid-year amendment sets a new allocated total; the ledger records the difference.

    It may lower the allocation, but never below what is already committed.
    """
    if new_allocated <= 0:
        raise AmendmentRefused("Pagu perubahan harus bilangan bulat rupiah yang positif.")
    if new_allocated == position.allocated:
        raise AmendmentRefused(f"Pagu sudah Rp {new_allocated:,}; tidak ada yang berubah.")
    if new_allocated < position.committed:
        raise AmendmentRefused(
            f"Pagu baru Rp {new_allocated:,} lebih kecil dari yang sudah terpakai "
            f"(dicadangkan + dibelanjakan) Rp {position.committed:,}."
        )
    delta = new_allocated - position.allocated
    return Movement(EntryKind.AMENDMENT, abs(delta), allocated=delta)


# --- reservations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    item_id: Any
    cost: int


@dataclass(frozen=True)
class Decision:
    """Which items of a proposal are reserved and which are refused."""

    reserved: tuple[Item, ...]
    refused: tuple[Item, ...]

    @property
    def amount(self) -> int:
        return sum(item.cost for item in self.reserved)

    @property
    def requested(self) -> int:
        return self.amount + sum(item.cost for item in self.refused)

    @property
    def accepted(self) -> bool:
        """Something was reserved (a free item counts: it needs no money)."""
        return bool(self.reserved)

    @property
    def partial(self) -> bool:
        return bool(self.reserved) and bool(self.refused)

    def movement(self) -> Movement:
        return Movement(EntryKind.RESERVATION, self.amount, reserved=self.amount)


def decide(items: Sequence[Item], available: int, policy: Policy) -> Decision:
    """Reserve ``items`` from ``available`` rupiah under ``policy``.

    ``per_item`` walks the items in the proposal's own order (training ranks them by need)
    and reserves each that still fits, skipping one that does not so a cheaper later item
    can still be reserved. ``all_or_nothing`` reserves every item or none.
    """
    if policy is Policy.ALL_OR_NOTHING:
        if sum(item.cost for item in items) <= available:
            return Decision(tuple(items), ())
        return Decision((), tuple(items))
    reserved, refused, left = [], [], available
    for item in items:
        if item.cost <= left:
            reserved.append(item)
            left -= item.cost
        else:
            refused.append(item)
    return Decision(tuple(reserved), tuple(refused))


def release(amount: int) -> Movement:
    return Movement(EntryKind.RELEASE, amount, reserved=-amount)


# --- spending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """What a completion does: ``released`` leaves the reservation, ``spent`` is charged.

    ``uncovered`` is the part of the reported cost that neither the reservation nor the
    available budget covers; it is not charged (committed may never exceed the allocation)
    and is reported for an operator to settle with an amendment.
    """

    released: int
    spent: int
    uncovered: int

    def movement(self) -> Movement:
        return Movement(EntryKind.SPEND, self.spent, reserved=-self.released, spent=self.spent)

    @property
    def moves_money(self) -> bool:
        return bool(self.released or self.spent)


def charge(position: Position, reserved_for_item: int, cost: int) -> Charge:
    """Turn an item's reservation into spending of the completion's actual ``cost``.

    A cost below the reservation gives the difference back to the available budget; a
    cost above it is charged from the available budget as far as it goes. A completion
    without a reservation (``reserved_for_item`` 0) is charged from the available budget.
    """
    covered = min(cost, reserved_for_item + position.available)
    return Charge(released=reserved_for_item, spent=covered, uncovered=cost - covered)


# --- thresholds -------------------------------------------------------------------------


def reached_thresholds(position: Position, thresholds: Iterable[int]) -> list[int]:
    """Thresholds (percent) that the committed share of the allocation has reached.

    Exact integer arithmetic: 100 % is reached when committed equals allocated.
    """
    if position.allocated <= 0:
        return []
    return sorted(t for t in thresholds if position.committed * 100 >= t * position.allocated)


def to_announce(
    position: Position, thresholds: Iterable[int], announced: Iterable[int]
) -> list[int]:
    """Reached thresholds not yet announced this year: each is announced once per year."""
    done = set(announced)
    return [t for t in reached_thresholds(position, thresholds) if t not in done]


# --- configuration ----------------------------------------------------------------------


def parse_policy(value: Any) -> Policy:
    text = str(value or DEFAULT_POLICY).strip().lower()
    try:
        return Policy(text)
    except ValueError:
        choices = ", ".join(p.value for p in Policy)
        raise ValueError(
            f"BUDGET_RESERVATION_POLICY must be one of {choices}; not {value!r}."
        ) from None


def parse_thresholds(value: Any) -> tuple[int, ...]:
    """``"80,100"``, ``[80, 100]`` or ``80`` → ``(80, 100)``; each 1 to 100 percent."""
    if value is None or value == "":
        return DEFAULT_THRESHOLDS
    parts = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    try:
        thresholds = sorted({int(str(part).strip()) for part in parts if str(part).strip()})
    except ValueError:
        raise ValueError(f"BUDGET_THRESHOLDS must be whole percents, not {value!r}") from None
    if not thresholds or not all(1 <= t <= 100 for t in thresholds):
        raise ValueError(f"BUDGET_THRESHOLDS must be between 1 and 100, not {value!r}")
    return tuple(thresholds)
