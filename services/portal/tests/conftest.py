"""The portal's browser tests: the four services as ``nameko run`` processes with the Plaju
demo loaded, the run's development OpenID Connect provider, the portal as its own process,
and Debian's Chromium driven by Playwright. One of each for the whole run: starting the
chain and loading the demo is the slow part, and every journey only reads it or changes
data of its own."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from playwright.sync_api import expect

from asn_testkit import auth
from asn_testkit.peers import SmtpServer
from asn_testkit.suite import QUICK_ENV, Suite
from asn_testkit.waiting import wait_for

EMPLOYEES = 40
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.0.min.js"


def _bench() -> ModuleType:
    """bench/portal_pages.py, which loads the demo and starts a portal the same way."""
    path = Path(__file__).resolve().parents[3] / "bench" / "portal_pages.py"
    spec = importlib.util.spec_from_file_location("portal_pages_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="session")
def portal_bench() -> ModuleType:
    """bench/portal_pages.py for a test that starts portals of its own."""
    return bench


@dataclass
class Plaju:
    """The running suite with the demo loaded: service URLs and an admin API client."""

    urls: dict[str, str]
    directory: Path

    def api(
        self, service: str, path: str, role: str = "admin", scope: str | None = None, **params
    ) -> dict:
        answer = auth.session(role, scope).get(self.urls[service] + path, params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def every(self, service: str, path: str, **params) -> list[dict]:
        items, page = [], 1
        while True:
            answer = self.api(service, path, **params, page=page, per_page=500)
            items += answer["items"]
            if page * 500 >= answer["total"]:
                return items
            page += 1


@pytest.fixture(scope="session")
def plaju(broker, database_server, tmp_path_factory) -> Iterator[Plaju]:
    directory = tmp_path_factory.mktemp("plaju")
    vhost = broker.create_vhost()
    databases = {name: database_server.create(path) for name, path in Suite.migrations().items()}
    smtp = SmtpServer(directory / "smtp")
    suite = Suite(
        broker.uri(vhost),
        databases,
        services_dir=Path(__file__).parents[2],
        log_dir=directory,
        env={**QUICK_ENV, "SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)},
    )
    try:
        suite.start()
        urls = {name: suite.url(name) for name in suite.processes}
        bench.load_demo(urls, directory, EMPLOYEES, round_timeout=20)
        plaju = Plaju(urls, directory)
        wait_for(lambda: bench.chain_quiet(urls), 60, "the chain to settle", interval=0.5)
        yield plaju
    finally:
        suite.stop()
        smtp.stop()
        for url in databases.values():
            database_server.drop(url)
        broker.delete_vhost(vhost)


@dataclass
class Portal:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> list[dict]:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.fixture(scope="session")
def portal_database(database_server) -> Iterator[str]:
    """A database name the server does not have yet: the portal creates it at start."""
    url = database_server.url(f"portal_{uuid.uuid4().hex[:12]}")
    yield url
    database_server.drop(url)


@pytest.fixture(scope="session")
def portal(plaju: Plaju, portal_database: str) -> Iterator[Portal]:
    url, process, log_path = bench.start_portal(
        plaju.urls, plaju.directory, PORTAL_DATABASE_URL=portal_database
    )
    running = Portal(url, process, log_path)
    yield running
    running.process.terminate()
    running.process.wait(15)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    manager = sync_playwright()
    playwright = manager.start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    # Under eventlet's monkey-patching (the root conftest) Playwright's stop() waits forever
    # for its driver's exit: end the driver directly once the browser is closed.
    manager._client._transport._proc.kill()


class Journey:
    """A signed-in person's browser tab, with the checks every page of a journey gets."""

    def __init__(self, page, portal: Portal) -> None:
        self.page = page
        self.portal = portal
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    def open(self, path: str, status: int = 200):
        answer = self.page.goto(self.portal.url + path)
        assert answer.status == status, (path, answer.status, self.page.content()[:2000])
        self.check_page()
        return answer

    def check_page(self) -> None:
        """No CSP violation, and axe-core finds nothing serious or critical."""
        blocked = [text for text in self.console if "Content Security Policy" in text]
        assert not blocked, blocked
        self.page.evaluate(AXE.read_text())
        found = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
        )
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not bad, (self.page.url, bad)

    def screenshot(self, name: str) -> None:
        """With PORTAL_SCREENSHOTS=<folder>, the page as a picture for the documentation."""
        folder = os.environ.get("PORTAL_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # caret="initial": hiding the caret would inject a style, which the CSP refuses
            self.page.screenshot(
                path=str(Path(folder) / f"{name}.png"), full_page=True, caret="initial"
            )


def sign_in(page, portal: Portal, role: str, scope: str | None = None) -> None:
    """Through the real flow: the portal's redirect, the provider's login form, the callback."""
    page.goto(portal.url + "/masuk?go=1")
    form = page.locator("form").nth(1)  # the provider's "anyone" form: role and scope
    form.locator("select[name=role]").select_option(role)
    if role == "operator":
        form.locator("input[name=unit]").fill(scope or "")
    if role == "employee":
        form.locator("input[name=nip]").fill(scope or "")
    form.locator("button").click()
    # expect, not page.wait_for_url: under eventlet's monkey-patching the latter never returns
    expect(page).to_have_url(re.compile(f"^{re.escape(portal.url)}/(?!auth/|masuk)"))
    expect(page.locator("main")).to_be_attached()


@pytest.fixture
def journey(browser, portal: Portal) -> Iterator[Callable[..., Journey]]:
    """``journey("operator", "PLG-KEC-PLAJU")``: a new browser context, signed in."""
    contexts = []

    def start(role: str, scope: str | None = None, **options) -> Journey:
        contexts.append(
            browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        )
        page = contexts[-1].new_page()
        sign_in(page, portal, role, scope)
        return Journey(page, portal)

    yield start
    for context in contexts:
        context.close()
