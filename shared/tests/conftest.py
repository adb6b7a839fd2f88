import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # sample_services, importable here and by the nameko processes
# quick retries and polls, so that a message's attempts fit in a test
SAMPLE_ENV = {"EVENT_MAX_ATTEMPTS": "3", "EVENT_RETRY_DELAY": "0.2", "OUTBOX_POLL_INTERVAL": "0.2"}


@pytest.fixture
def start_sample(run_service, database):
    """Start ``pinger`` or ``sink`` (sample_services.py) as a real nameko process."""
    import sample_services

    def start(service: str, database_url: str | None = None, env=None, **options):
        url = database_url or database(metadata=sample_services.metadata)
        target = f"sample_services:{service.capitalize()}"
        env = {**SAMPLE_ENV, **(env or {})}
        return run_service(
            service, target, HERE / f"{service}.yaml", url, env=env, python_path=[HERE], **options
        )

    return start
