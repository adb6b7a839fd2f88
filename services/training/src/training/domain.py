"""The training service's rules, in plain Python: no database, no broker, no clock. One module
because the rules below are read against each other (the planning year, ranking, booking).

- Proposals from an assessment's gaps (``propose``): for every competency with a negative gap
  (gap = achieved - required), the programme reaching the highest level up to the required
  one, then the lower cost per JP, then the earlier batch; a programme already chosen for one
  gap covers every other gap it closes at no extra cost; a gap that development already booked
  will close is not proposed again; and if the year's JP would stay under the minimum (20 JP,
  PP 11/2017), the cheapest relevant programme that reaches it.
- One rule for the year development counts in: the year its batch ends (``Offer.year``), for
  planning, booking and crediting alike. ``plan_for`` plans the current year and turns to the
  next one only when no batch of this year narrows any gap.
- What an assessment led to, per competency and for the year's JP (``Review``), so that an
  assessment with no proposal says why.
- Cheaper or free alternatives for items the budget could not pay (``alternatives``).
- The proposal life cycle as an explicit state machine (``transition``) and how a budget
  answer settles a proposal's items (``settle_reservation``, ``settle_rejection``).

JP (*jam pelajaran*) is the unit of development time: 1 JP = 45 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from uuid import UUID

from asn_shared.vocabulary import Finding, Form, values
from asn_shared.vocabulary import ProposalStatus as Status

MINUTES_PER_JP = 45
MINIMUM_JP_PER_YEAR = 20  # every PNS, every year (PP 11/2017 jo. PP 17/2020)
FORMS = values(Form)


def jp_from_minutes(minutes: int) -> int:
    """Whole JP in ``minutes`` of development; a started JP does not count."""
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    return minutes // MINUTES_PER_JP


# --- the proposal state machine ------------------------------------------------------------


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.PENDING_BUDGET: frozenset(
        {Status.APPROVED, Status.PARTIALLY_APPROVED, Status.WAITLISTED, Status.CANCELLED}
    ),
    # the budget may pay later, or an operator approve what is funded otherwise
    Status.WAITLISTED: frozenset({Status.APPROVED, Status.PARTIALLY_APPROVED, Status.CANCELLED}),
    Status.PARTIALLY_APPROVED: frozenset({Status.APPROVED, Status.ENROLLED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.ENROLLED, Status.CANCELLED}),
    Status.ENROLLED: frozenset({Status.COMPLETED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
}
NOT_YET_APPROVED = frozenset({Status.PENDING_BUDGET, Status.WAITLISTED})
OPERATOR_APPROVABLE = frozenset({Status.WAITLISTED, Status.PARTIALLY_APPROVED})


class IllegalTransition(ValueError):
    """A proposal was asked to move to a state it cannot reach from where it is."""

    def __init__(self, current: str, target: str, why: str | None = None) -> None:
        message = f"Usulan berstatus {current} tidak dapat menjadi {target}"
        super().__init__(f"{message}: {why}." if why else f"{message}.")
        self.current, self.target = current, target


def transition(current: str, target: str) -> Status:
    """The new status, or IllegalTransition when the state machine does not allow it."""
    source, goal = Status(current), Status(target)
    if goal not in TRANSITIONS[source]:
        raise IllegalTransition(source, goal)
    return goal


def operator_approval(current: str) -> Status:
    """An operator approves what the budget left waiting; the budget's own answer is awaited
    while a proposal is pending, so an operator cannot pre-empt it."""
    if Status(current) not in OPERATOR_APPROVABLE:
        raise IllegalTransition(
            current, Status.APPROVED, "hanya usulan waitlisted atau partially_approved"
        )
    return transition(current, Status.APPROVED)


class ItemStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    WAITLISTED = "waitlisted"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Settlement:
    """What a budget answer does to a proposal: its new status and its items' statuses."""

    status: Status
    items: dict[UUID, ItemStatus]
    newly_waitlisted: list[UUID]


def settle_reservation(
    current: str, items: Mapping[UUID, str], reserved: Iterable[UUID]
) -> Settlement:
    """``budget.reserved``: the reserved items are approved, the others wait for money."""
    reserved = set(reserved)
    new_items: dict[UUID, ItemStatus] = {}
    waitlisted = []
    for item_id, state in items.items():
        state = ItemStatus(state)
        if state in (ItemStatus.PROPOSED, ItemStatus.WAITLISTED) and item_id in reserved:
            state = ItemStatus.APPROVED
        elif state is ItemStatus.PROPOSED:
            state = ItemStatus.WAITLISTED
            waitlisted.append(item_id)
        new_items[item_id] = state
    live = [s for s in new_items.values() if s is not ItemStatus.CANCELLED]
    if not any(s is ItemStatus.APPROVED for s in live):
        raise IllegalTransition(current, Status.APPROVED, "tidak ada butir yang didanai")
    full = all(s is ItemStatus.APPROVED for s in live)
    target = Status.APPROVED if full else Status.PARTIALLY_APPROVED
    return Settlement(transition(current, target), new_items, waitlisted)


def settle_rejection(current: str, items: Mapping[UUID, str]) -> Settlement:
    """``budget.rejected``: nothing was reserved, every proposed item waits."""
    status = transition(current, Status.WAITLISTED)
    new_items, waitlisted = {}, []
    for item_id, state in items.items():
        state = ItemStatus(state)
        if state is ItemStatus.PROPOSED:
            state = ItemStatus.WAITLISTED
            waitlisted.append(item_id)
        new_items[item_id] = state
    return Settlement(status, new_items, waitlisted)


# --- proposals from gaps ------------------------------------------------------------------


class Rule(StrEnum):
    CLOSES_GAP = "closes_gap"  # reaches the required level
    NARROWS_GAP = "narrows_gap"  # the best on offer, but short of the required level
    JP_TOP_UP = "jp_top_up"  # brings the year's JP toward the minimum
    CHEAPER_ALTERNATIVE = "cheaper_alternative"  # replaces an item the budget could not pay


class Levels:
    """A required and an achieved level, and so a gap: negative below what is required."""

    required_level: int
    achieved_level: float

    @property
    def gap(self) -> float:
        return self.achieved_level - self.required_level


@dataclass(frozen=True)
class Need(Levels):
    """One competency of an assessment: the level the job requires and the level achieved."""

    competency_code: str
    required_level: int
    achieved_level: float


@dataclass(frozen=True)
class OpenBatch:
    batch_id: UUID
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Offer:
    """A programme that can be proposed: its earliest batch with a free seat in the year."""

    code: str
    jp: int
    cost_rupiah: int
    levels: Mapping[str, int]  # competency code -> the level it brings a participant to
    batch: OpenBatch

    @property
    def cost_per_jp(self) -> Fraction:
        return Fraction(self.cost_rupiah, max(self.jp, 1))

    @property
    def year(self) -> int:
        """The year the development counts in: its batch's end (the JP ledger's rule)."""
        return self.batch.ends_on.year

    def raises(self, need: Need) -> bool:
        return self.levels.get(need.competency_code, 0) > need.achieved_level

    def reaches(self, need: Need) -> bool:
        return self.levels.get(need.competency_code, 0) >= need.required_level

    def reach(self, need: Need) -> int:
        """The level it brings the competency to, counted up to the required level only."""
        return min(self.levels.get(need.competency_code, 0), need.required_level)


@dataclass(frozen=True)
class Reason(Levels):
    """Why an item was proposed: the competency, its gap (with both levels) and the rule."""

    competency_code: str
    rule: Rule
    required_level: int
    achieved_level: float

    @property
    def need(self) -> Need:
        return Need(self.competency_code, self.required_level, self.achieved_level)


@dataclass
class PlannedItem:
    offer: Offer
    reasons: list[Reason] = field(default_factory=list)

    @property
    def competency_codes(self) -> list[str]:
        return list(dict.fromkeys(reason.competency_code for reason in self.reasons))


@dataclass
class Plan:
    items: list[PlannedItem]
    unmet: list[Need]  # gaps no programme on offer can narrow
    booked: list[Need] = field(default_factory=list)  # gaps development already booked closes

    @property
    def total_cost_rupiah(self) -> int:
        return sum(item.offer.cost_rupiah for item in self.items)

    @property
    def total_jp(self) -> int:
        return sum(item.offer.jp for item in self.items)


def gaps_of(needs: Iterable[Need]) -> list[Need]:
    """Negative gaps, the largest shortfall first."""
    return sorted((n for n in needs if n.gap < 0), key=lambda n: (n.gap, n.competency_code))


def propose(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    jp_this_year: int,
    minimum_jp: int = MINIMUM_JP_PER_YEAR,
    booked_levels: Mapping[str, int] | None = None,
) -> Plan:
    """The development to propose for an assessment's ``needs``; empty items: no proposal.

    ``jp_this_year`` is what the employee has completed or is already booked for this year;
    ``booked_levels`` the level per competency that development already approved or enrolled
    will bring the employee to: a gap it closes is not proposed again, one it narrows is
    planned from there.
    """
    chosen: dict[str, PlannedItem] = {}
    unmet, booked = [], []
    for need in gaps_of(needs):
        after_booked = _after(need, (booked_levels or {}).get(need.competency_code, 0))
        if after_booked.gap >= 0:
            booked.append(need)
            continue
        offer = _best_for_gap(after_booked, offers, chosen)
        if offer is None:
            unmet.append(need)
            continue
        rule = Rule.CLOSES_GAP if offer.reaches(need) else Rule.NARROWS_GAP
        _add(chosen, offer, _reason(need, rule))
    _top_up(needs, offers, chosen, jp_this_year, minimum_jp)
    return Plan(list(chosen.values()), unmet, booked)


def _after(need: Need, booked_level: int) -> Need:
    """The need as it will stand once booked development reaching ``booked_level`` is done."""
    achieved = max(need.achieved_level, booked_level)
    return Need(need.competency_code, need.required_level, achieved)


def _best_for_gap(
    need: Need, offers: Sequence[Offer], chosen: Mapping[str, PlannedItem]
) -> Offer | None:
    candidates = [offer for offer in offers if offer.raises(need)]
    if not candidates:
        return None

    def rank(offer: Offer) -> tuple[int, bool, Fraction, date, str]:
        # the highest level first (short of the required one, a 1->3 course beats a cheaper
        # 1->2); a programme already proposed costs nothing more: preferred among equals
        return (
            -offer.reach(need),
            offer.code not in chosen,
            offer.cost_per_jp,
            offer.batch.starts_on,
            offer.code,
        )

    return min(candidates, key=rank)


def _top_up(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    chosen: dict[str, PlannedItem],
    jp_this_year: int,
    minimum_jp: int,
) -> None:
    by_code = {need.competency_code: need for need in needs}
    relevant = [o for o in offers if o.code not in chosen and set(o.levels) & set(by_code)]
    total = jp_this_year + sum(item.offer.jp for item in chosen.values())
    while total < minimum_jp and relevant:
        reaching = [o for o in relevant if total + o.jp >= minimum_jp]
        if reaching:
            pick = min(reaching, key=lambda o: (o.cost_rupiah, o.cost_per_jp, o.batch.starts_on))
        else:  # no single programme is enough: the longest, then the cheapest, and go on
            pick = min(relevant, key=lambda o: (-o.jp, o.cost_rupiah, o.batch.starts_on))
        relevant.remove(pick)
        need = min((by_code[c] for c in pick.levels if c in by_code), key=_need_order)
        _add(chosen, pick, _reason(need, Rule.JP_TOP_UP))
        total += pick.jp


def _need_order(need: Need) -> tuple[float, str]:
    return (need.gap, need.competency_code)


def _reason(need: Need, rule: Rule) -> Reason:
    return Reason(need.competency_code, rule, need.required_level, need.achieved_level)


def _add(chosen: dict[str, PlannedItem], offer: Offer, reason: Reason) -> None:
    chosen.setdefault(offer.code, PlannedItem(offer)).reasons.append(reason)


# --- the year a proposal plans, and what an assessment led to ---------------------------------


@dataclass(frozen=True)
class CompetencyFinding:
    competency_code: str
    required_level: int
    achieved_level: float
    finding: Finding
    programme_code: str | None = None


@dataclass(frozen=True)
class Review:
    """An assessment's outcome: the year planned, each competency's finding and the JP's."""

    fiscal_year: int
    next_year: bool  # no batch of the current year narrows any gap: next year's are used
    competencies: list[CompetencyFinding]
    jp_counted: int  # completed or booked in the fiscal year before this proposal
    jp_finding: Finding
    minimum_jp: int

    @property
    def unmet(self) -> list[CompetencyFinding]:
        """Gaps this assessment's proposal leaves open."""
        return [
            c for c in self.competencies if c.finding in (Finding.NO_PROGRAMME, Finding.NARROWED)
        ]


@dataclass(frozen=True)
class YearPlan:
    plan: Plan
    review: Review


def plan_for(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    this_year: int,
    jp_by_year: Mapping[int, int],
    booked_levels: Mapping[str, int] | None = None,
    minimum_jp: int = MINIMUM_JP_PER_YEAR,
) -> YearPlan:
    """Plan the current year (its batches ending this year); when none of them narrows any
    gap, next year's batches (the proposal then belongs to that fiscal year, without a JP
    top-up: next year's minimum is planned next year)."""
    by_year = {this_year: [o for o in offers if o.year == this_year]}
    plan = propose(
        needs, by_year[this_year], jp_by_year.get(this_year, 0), minimum_jp, booked_levels
    )
    year = this_year
    if plan.unmet and not _closes_any_gap(plan):
        following = [o for o in offers if o.year == this_year + 1]
        later = propose(needs, following, jp_by_year.get(this_year + 1, 0), 0, booked_levels)
        if later.items:
            plan, year = later, this_year + 1
    return YearPlan(
        plan, _review(needs, plan, year, this_year, jp_by_year.get(year, 0), minimum_jp)
    )


def _closes_any_gap(plan: Plan) -> bool:
    return any(r.rule is not Rule.JP_TOP_UP for item in plan.items for r in item.reasons)


def _review(
    needs: Sequence[Need], plan: Plan, year: int, this_year: int, jp_counted: int, minimum: int
) -> Review:
    by_competency = {
        reason.competency_code: (reason.rule, item.offer.code)
        for item in plan.items
        for reason in item.reasons
        if reason.rule is not Rule.JP_TOP_UP
    }
    booked = {need.competency_code for need in plan.booked}
    findings = []
    for need in needs:
        rule, programme = by_competency.get(need.competency_code, (None, None))
        if need.gap >= 0:
            finding = Finding.NO_GAP
        elif need.competency_code in booked:
            finding = Finding.ALREADY_BOOKED
        elif rule is None:
            finding = Finding.NO_PROGRAMME
        else:
            finding = Finding.PROPOSED if rule is Rule.CLOSES_GAP else Finding.NARROWED
        findings.append(
            CompetencyFinding(
                need.competency_code, need.required_level, need.achieved_level, finding, programme
            )
        )
    topped_up = any(r.rule is Rule.JP_TOP_UP for item in plan.items for r in item.reasons)
    if year != this_year:
        jp_finding = Finding.NOT_PLANNED
    elif topped_up:
        jp_finding = Finding.TOP_UP_PROPOSED
    elif jp_counted + plan.total_jp >= minimum:
        jp_finding = Finding.MINIMUM_REACHED
    else:
        jp_finding = Finding.NO_PROGRAMME
    return Review(year, year != this_year, findings, jp_counted, jp_finding, minimum)


# --- alternatives when the budget says no ---------------------------------------------------


@dataclass(frozen=True)
class UnpaidItem:
    programme_code: str
    cost_rupiah: int
    reasons: Sequence[Reason]


def alternatives(
    unpaid: Sequence[UnpaidItem], offers: Sequence[Offer], exclude: Iterable[str] = ()
) -> Plan:
    """For each competency an unpaid item develops, a free or cheaper programme that develops
    it too: the one reaching the required level, then the cheapest, then the lower cost per
    JP, then the earlier batch. ``exclude``: programmes the proposal already holds."""
    excluded = set(exclude) | {item.programme_code for item in unpaid}
    chosen: dict[str, PlannedItem] = {}
    unmet = []
    for item in unpaid:
        cheaper = [o for o in offers if o.cost_rupiah < item.cost_rupiah and o.code not in excluded]
        for reason in sorted(item.reasons, key=lambda r: (r.gap, r.competency_code)):
            offer = _best_alternative(reason, cheaper, chosen)
            if offer is None:
                unmet.append(reason.need)
            else:
                _add(chosen, offer, _reason(reason.need, Rule.CHEAPER_ALTERNATIVE))
    return Plan(list(chosen.values()), unmet)


def _best_alternative(
    reason: Reason, offers: Sequence[Offer], chosen: Mapping[str, PlannedItem]
) -> Offer | None:
    need = reason.need
    if need.gap < 0:
        candidates = [o for o in offers if o.raises(need)]
    else:  # a top-up item: any programme developing the competency will do
        candidates = [o for o in offers if need.competency_code in o.levels]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda o: (
            -o.reach(need),
            o.code not in chosen,
            o.cost_rupiah,
            o.cost_per_jp,
            o.batch.starts_on,
            o.code,
        ),
    )


# --- enrolment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seats:
    batch_id: UUID
    starts_on: date
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return self.capacity - self.taken


def place_in_batch(wanted: Seats, later: Sequence[Seats]) -> Seats | None:
    """The wanted batch if it has a seat, else the next one (by start date) that has."""
    for batch in [wanted, *sorted(later, key=lambda b: (b.starts_on, str(b.batch_id)))]:
        if batch.free > 0 and batch.starts_on >= wanted.starts_on:
            return batch
    return None
