"""Fixtures of the demo's end-to-end test: the four services as real ``nameko run`` processes
(each with a fresh database, all on the test's own RabbitMQ virtual host), an SMTP server
for their e-mail, and the ``kompas-demo`` command run as a subprocess against them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from asn_testkit import auth
from asn_testkit.suite import QUICK_ENV


@pytest.fixture
def suite_urls(suite, smtp_server) -> dict[str, str]:
    """The four services running, each on its own database: name → base URL."""
    mail = {"SMTP_HOST": smtp_server.host, "SMTP_PORT": str(smtp_server.port)}
    running = suite(env={**QUICK_ENV, **mail})
    return {name: running.url(name) for name in running.processes}


@pytest.fixture
def kompas_demo(
    suite_urls: dict[str, str], tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess]:
    """``kompas_demo("seed", "--employees", "40")``: the command line, run as an operator would."""
    env = {
        **os.environ,
        **{f"{name.upper()}_URL": url for name, url in suite_urls.items()},
        "KOMPAS_TOKEN": auth.token("admin"),
        "PYTHONWARNINGS": "ignore",
    }

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kompas_demo", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
