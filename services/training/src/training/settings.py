"""The training service's settings: the shared ones only."""

from __future__ import annotations

from dataclasses import dataclass

from asn_shared.settings import ServiceSettings


@dataclass(frozen=True, kw_only=True)
class TrainingSettings(ServiceSettings):
    name = "training"
    port = 8002
