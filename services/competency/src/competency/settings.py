"""The competency service's settings: the shared ones and the JPM rules."""

from __future__ import annotations

from dataclasses import dataclass

from asn_shared.settings import Parsed, ServiceSettings, Text, listed, setting

from . import domain


@dataclass(frozen=True, kw_only=True)
class CompetencySettings(ServiceSettings):
    name = "competency"
    port = 8001

    jpm_method: str = setting(
        "JPM_METHOD",
        domain.DEFAULT_JPM_METHOD,
        "`capped` (an achieved level counts at most up to the required one) or `uncapped`",
        Parsed(domain.checked_jpm_method, listed(domain.JPM_METHODS)),
    )
    # the schemes are rows of table jpm_categories: the service checks the name at start
    jpm_scheme: str = setting(
        "JPM_SCHEME",
        domain.DEFAULT_JPM_SCHEME,
        "`memenuhi_syarat` (MS / MMS / KMS at 80 / 68 %) or `optimal` (Optimal / Cukup Optimal "
        "/ Kurang Optimal at 90 / 78 %)",
        Text("a scheme of table `jpm_categories`"),
    )
