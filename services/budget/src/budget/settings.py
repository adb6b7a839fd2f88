"""The budget service's settings: the shared ones and the reservation rules."""

from __future__ import annotations

from dataclasses import dataclass

from asn_shared.settings import Parsed, ServiceSettings, commas, listed, setting

from . import domain


@dataclass(frozen=True, kw_only=True)
class BudgetSettings(ServiceSettings):
    name = "budget"
    port = 8003

    reservation_policy: domain.Policy = setting(
        "BUDGET_RESERVATION_POLICY",
        domain.DEFAULT_POLICY,
        "reserve the items that fit, in the proposal's order, or `all_or_nothing`",
        Parsed(domain.parse_policy, listed(domain.Policy)),
    )
    thresholds: tuple[int, ...] = setting(
        "BUDGET_THRESHOLDS",
        domain.DEFAULT_THRESHOLDS,
        "committed percentages of an allocation announced once per unit and year",
        Parsed(domain.parse_thresholds, "whole percents from 1 to 100, comma-separated", commas),
    )

    @property
    def rules(self) -> domain.Rules:
        return domain.Rules(self.reservation_policy, self.thresholds)
