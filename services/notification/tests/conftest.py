"""Fixtures of the notification tests: the service as a real process against the toolkit's
real SMTP server (``smtp_server``), and sample event data; events are published with the
toolkit's ``publish_event`` and what the service publishes is read with its ``tap``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import notification
from asn_testkit.peers import SmtpServer
from asn_testkit.processes import ServiceProcess

HERE = Path(__file__).parent
SERVICE_DIR = HERE.parent
MIGRATIONS = Path(notification.__file__).parent / "migrations"

# Small delays so retries and back-off fit in a test; production defaults are in config.yaml.
FAST = {
    "RETRY_BASE_DELAY": "0.2",
    "RETRY_MAX_DELAY": "1",
    "DISPATCH_INTERVAL": "0.1",
    "EVENT_RETRY_DELAY": "0.2",
    "WEBHOOK_MAX_ATTEMPTS": "4",
    "WEBHOOK_TIMEOUT": "5",
    "SMTP_TIMEOUT": "5",
    "OUTBOX_POLL_INTERVAL": "0.1",
}


@pytest.fixture
def notification_db(database) -> str:
    return database(migrations=MIGRATIONS)


@pytest.fixture
def start_notification(
    run_service, notification_db: str, smtp_server: SmtpServer
) -> Callable[..., ServiceProcess]:
    """Start the service (another replica on each call) against the test's SMTP server."""

    def start(**env: str) -> ServiceProcess:
        settings = {
            **FAST,
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "SMTP_SENDER": "Kompas ASN <noreply@kompas-asn.test>",
            **env,
        }
        return run_service(
            "notification",
            "notification.service:NotificationService",
            SERVICE_DIR / "config.yaml",
            notification_db,
            env=settings,
        )

    return start


# --- sample event data --------------------------------------------------------------------

SITI_NIP = "198609262015052001"
BUDI_NIP = "197803152003121002"
UNIT = {"code": "PLJ-KEL-PU", "name": "Kelurahan Plaju Ulu", "parent_code": "PLJ"}


class Samples:
    """Event data fitting the catalogue, for an employee Siti whose supervisor is Budi."""

    SITI_NIP, BUDI_NIP, UNIT_CODE = SITI_NIP, BUDI_NIP, UNIT["code"]

    @staticmethod
    def employee(
        nip: str = SITI_NIP,
        name: str = "Siti Rahmawati",
        email: str | None = "siti@plaju.test",
        supervisor_nip: str | None = BUDI_NIP,
        language: str = "id",
        version: int = 1,
    ) -> dict[str, Any]:
        return {
            "nip": nip,
            "name": name,
            "sex": "P",
            "golongan": "III/b",
            "unit": dict(UNIT),
            "jabatan": {
                "code": "LURAH",
                "name": "Lurah Plaju Ulu",
                "kind": "pengawas",
                "grade": None,
            },
            "email": email,
            "phone": None,
            "supervisor_nip": supervisor_nip,
            "language": language,
            "version": version,
        }

    def supervisor(self, **changes: Any) -> dict[str, Any]:
        return self.employee(
            **{
                "nip": BUDI_NIP,
                "name": "Budi Santoso",
                "email": "budi@plaju.test",
                "supervisor_nip": None,
                **changes,
            }
        )

    def assessment(self, employee: dict[str, Any] | None = None) -> dict[str, Any]:
        employee = employee or self.employee()
        return {
            "assessment_id": uuid.uuid4(),
            "supersedes": None,
            "employee": employee,
            "jabatan": employee["jabatan"],
            "assessed_on": date(2026, 11, 26),
            "method": "assessment_centre",
            "results": [
                {
                    "competency_code": "M.01",
                    "competency_name": "Integritas",
                    "kind": "manajerial",
                    "required_level": 2,
                    "achieved_level": 2.0,
                    "gap": 0.0,
                },
                {
                    "competency_code": "M.03",
                    "competency_name": "Komunikasi",
                    "kind": "manajerial",
                    "required_level": 2,
                    "achieved_level": 1.5,
                    "gap": -0.5,
                },
            ],
            "jpm": 72.5,
            "jpm_method": "capped",
            "category": {
                "code": "MMS",
                "label": "Masih Memenuhi Syarat",
                "scheme": "memenuhi_syarat",
            },
        }

    @staticmethod
    def item(**changes: Any) -> dict[str, Any]:
        return {
            "item_id": uuid.uuid4(),
            "programme_code": "LATSAR-ONLINE",
            "programme_title": "Pelatihan Dasar CPNS (daring)",
            "form": "klasikal",
            "activity": "pelatihan teknis",
            "jp": 40,
            "cost_rupiah": 5_260_000,
            "competency_codes": ["M.03"],
            "batch": {
                "batch_id": uuid.uuid4(),
                "starts_on": date(2026, 11, 26),
                "ends_on": date(2026, 12, 4),
                "place": None,
                "online": True,
            },
            "reasons": [{"competency_code": "M.03", "gap": -0.5, "rule": "closes_gap"}],
            **changes,
        }

    def proposal(self, nip: str = SITI_NIP) -> dict[str, Any]:
        return {
            "proposal_id": uuid.uuid4(),
            "employee_nip": nip,
            "employee_name": "Siti Rahmawati",
            "unit_code": UNIT["code"],
            "fiscal_year": 2026,
            "status": "pending_budget",
            "assessment_id": None,
            "supersedes": None,
            "items": [self.item()],
            "total_cost_rupiah": 5_260_000,
            "total_jp": 40,
            "jp_before": 4,
        }

    @staticmethod
    def budget_rejected() -> dict[str, Any]:
        return {
            "unit_code": UNIT["code"],
            "fiscal_year": 2026,
            "allocated_rupiah": 20_000_000,
            "committed_rupiah": 17_500_000,
            "available_rupiah": 2_500_000,
            "proposal_id": uuid.uuid4(),
            "item_ids": [uuid.uuid4()],
            "requested_rupiah": 5_260_000,
            "reason": "insufficient_funds",
        }


@pytest.fixture
def samples() -> Samples:
    return Samples()
