"""Server time per portal page (p50 / p95) with the Plaju demo loaded.

    .venv/bin/python bench/portal_pages.py                    # starts everything, 600 ASN
    .venv/bin/python bench/portal_pages.py --employees 60 --requests 10
    .venv/bin/python bench/portal_pages.py --portal http://localhost:8000 \\
        --issuer http://127.0.0.1:9000                        # a running portal (make run)

Without ``--portal`` it starts the four services on a fresh virtual host and fresh databases
(the test harness), loads the demo (``kompas-demo seed`` and ``round``) and starts the portal.
Each page is asked ``--requests`` times after two warm-up requests, one at a time, by a person
signed in through the development provider's real login flow; the server time is the
portal's ``Server-Timing`` header (service calls included), beside the time the client waited.
Results: ``bench/results/portal-pages.{md,json}`` (``BENCH_RESULTS`` for another folder).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import requests

RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")
ROOT = Path(__file__).resolve().parents[1]


def sign_in(portal: str, role: str, scope: dict[str, str]) -> requests.Session:
    """The person's browser, as far as HTTP goes: portal → provider's form → callback. The
    portal's cookies are Secure, which requests keeps to https: they are sent by hand."""
    http = requests.Session()
    start = http.get(f"{portal}/masuk?go=1", allow_redirects=False, timeout=30)
    authorize = start.headers["Location"]
    login = http.post(authorize, data={"role": role, **scope}, allow_redirects=False, timeout=30)
    callback = urljoin(authorize, login.headers["Location"])
    done = http.get(
        callback,
        allow_redirects=False,
        timeout=30,
        headers={"Cookie": f"kompas_login={start.cookies['kompas_login']}"},
    )
    assert done.status_code == 302 and "kompas_session" in done.cookies, done.text[:500]
    http.headers["Cookie"] = f"kompas_session={done.cookies['kompas_session']}"
    return http


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(http: requests.Session, url: str, count: int) -> dict[str, float]:
    server, client = [], []
    for index in range(count + 2):
        started = time.perf_counter()
        answer = http.get(url, timeout=60)
        waited = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
        timing = answer.headers["Server-Timing"]
        if index >= 2:  # the first two warm the portal's and the services' caches
            server.append(float(timing.split("dur=")[1]))
            client.append(waited)
    return {
        "requests": count,
        "server_p50_ms": round(statistics.median(server), 1),
        "server_p95_ms": round(percentile(server, 0.95), 1),
        "client_p50_ms": round(statistics.median(client), 1),
        "client_p95_ms": round(percentile(client, 0.95), 1),
    }


def pages(services: dict[str, str], token: str) -> list[tuple[str, str, dict, str]]:
    """(label, role, scope, path): every main page, for people the demo data holds."""
    headers = {"Authorization": f"Bearer {token}"}
    employees = requests.get(
        f"{services['competency']}/employees",
        params={"per_page": 500},
        headers=headers,
        timeout=30,
    ).json()["items"]
    units = {e["unit_code"] for e in employees}
    busiest = max(units, key=lambda u: sum(e["unit_code"] == u for e in employees))
    nip = employees[0]["nip"]
    return [
        ("admin: city overview", "admin", {}, "/ikhtisar"),
        ("admin: proposals queue", "admin", {}, "/usulan"),
        ("admin: waitlisted proposals", "admin", {}, "/usulan?status=waitlisted"),
        ("admin: unit page", "admin", {}, f"/unit/{busiest}"),
        ("admin: import form", "admin", {}, "/impor"),
        ("operator: unit overview", "operator", {"unit": "PLG-KEC-PLAJU"}, "/ikhtisar"),
        ("operator: proposals queue", "operator", {"unit": "PLG-KEC-PLAJU"}, "/usulan"),
        ("employee: profile", "employee", {"nip": nip}, f"/pegawai/{nip}"),
        ("employee: inbox", "employee", {"nip": nip}, "/kotak-masuk"),
    ]


def overview_calls(services: dict[str, str], token: str, count: int) -> list[dict]:
    """The service calls behind the city overview, each timed on its own (client side)."""
    headers = {"Authorization": f"Bearer {token}"}
    year = date.today().year
    units = requests.get(
        f"{services['competency']}/units", params={"per_page": 500}, headers=headers, timeout=30
    ).json()["items"]
    calls = {
        "training: gap-closing cost": ("training", "/reports/gap-closing-cost", {}),
        "training: under 20 JP": ("training", "/jp/under-minimum", {"year": year}),
        "budget: allocations": ("budget", "/allocations", {"fiscal_year": year, "per_page": 500}),
        "competency: one gap report": (
            "competency",
            f"/units/{units[1]['code']}/gap-report",
            {"include_sub_units": "false"},
        ),
    }
    rows = []
    for label, (service, path, params) in calls.items():
        waited = []
        for _ in range(count):
            started = time.perf_counter()
            answer = requests.get(
                services[service] + path, params=params, headers=headers, timeout=60
            )
            waited.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text[:300]
        rows.append(
            {
                "call": label,
                "p50_ms": round(statistics.median(waited), 1),
                "p95_ms": round(percentile(waited, 0.95), 1),
            }
        )
        print(f"{label:32} p50 {rows[-1]['p50_ms']:7.1f} ms  p95 {rows[-1]['p95_ms']:7.1f} ms")
    rows.append(
        {
            "call": f"competency: gap reports of all {len(units)} units",
            **_all_reports(services, headers, units, count),
        }
    )
    return rows


def _all_reports(services, headers, units, count: int) -> dict[str, float]:
    waited = []
    for _ in range(max(1, count // 4)):
        started = time.perf_counter()
        for unit in units:
            requests.get(
                f"{services['competency']}/units/{unit['code']}/gap-report",
                params={"include_sub_units": "false"},
                headers=headers,
                timeout=60,
            )
        waited.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(waited), 1),
        "p95_ms": round(percentile(waited, 0.95), 1),
    }


def run(portal: str, services: dict[str, str], token: str, count: int) -> list[dict]:
    sessions: dict[tuple, requests.Session] = {}
    rows = []
    for label, role, scope, path in pages(services, token):
        key = (role, tuple(sorted(scope.items())))
        if key not in sessions:
            sessions[key] = sign_in(portal, role, scope)
        rows.append({"page": label, "path": path, **measure(sessions[key], portal + path, count)})
        print(
            f"{label:32} server p50 {rows[-1]['server_p50_ms']:7.1f} ms  p95 "
            f"{rows[-1]['server_p95_ms']:7.1f} ms",
            flush=True,
        )
    return rows


def write(rows: list[dict], calls: list[dict], meta: dict, label: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {**meta, "pages": rows, "overview_calls": calls}
    (RESULTS / f"{label}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"Portal pages, {meta['employees']} ASN of the Plaju demo, {meta['date']}: "
        f"{meta['requests']} requests per page after 2 warm-up requests, one at a time.",
        "",
        "| page | path | server p50 ms | server p95 ms | client p50 ms | client p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['page']} | `{r['path']}` | {r['server_p50_ms']} | {r['server_p95_ms']} "
        f"| {r['client_p50_ms']} | {r['client_p95_ms']} |"
        for r in rows
    ]
    lines += ["", "| service call behind the city overview | p50 ms | p95 ms |", "|---|---|---|"]
    lines += [f"| {c['call']} | {c['p50_ms']} | {c['p95_ms']} |" for c in calls]
    (RESULTS / f"{label}.md").write_text("\n".join(lines) + "\n")


def load_demo(urls: dict[str, str], directory: Path, employees: int, round_timeout: int) -> None:
    """``kompas-demo seed`` and ``round`` against the services at ``urls``."""
    from asn_testkit import auth

    env = {
        **os.environ,
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
        "KOMPAS_TOKEN": auth.token("admin"),
        "PYTHONWARNINGS": "ignore",
    }
    round_ = ("round", "--timeout", str(round_timeout), "--quiet-period", "1")
    for command in (
        ("seed", "--employees", str(employees)),
        (*round_, "--employees", str(employees)),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "kompas_demo", *command, "--quiet"],
            env=env,
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
        )
        # 3: the round's own settling check still waits (it may, for a gap no programme
        # narrows); whoever needs the chain settled waits for it
        if done.returncode not in (0, 3):
            raise RuntimeError(done.stdout + done.stderr)


def chain_quiet(urls: dict[str, str]) -> bool:
    """No event waits in an outbox and no proposal waits for budget."""
    from asn_testkit import auth

    backlog = sum(
        float(line.split()[-1])
        for url in urls.values()
        for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines()
        if line.startswith("asn_outbox_backlog{")
    )
    waiting = auth.session("admin").get(
        f"{urls['training']}/proposals",
        params={"status": "pending_budget", "per_page": 1},
        timeout=30,
    )
    return backlog == 0 and waiting.json()["total"] == 0


def start_portal(
    urls: dict[str, str], directory: Path, **env: str
) -> tuple[str, subprocess.Popen, Path]:
    """The portal as its own process trusting the run's development provider: (URL, process,
    log file), once it answers ``/health``."""
    from asn_testkit import idp
    from asn_testkit.processes import free_port
    from asn_testkit.waiting import wait_for

    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    log_path = directory / f"portal-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal"],
            env={
                **os.environ,
                **{f"{name.upper()}_URL": url for name, url in urls.items()},
                "AUTH_OIDC_ISSUER": idp.shared().issuer,
                "PORTAL_PUBLIC_URL": portal,
                "PORTAL_HTTP_ADDRESS": f"127.0.0.1:{port}",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(log_path.read_text())
        return _answers(portal)

    wait_for(healthy, 30, "the portal to answer /health", interval=0.2)
    return portal, process, log_path


def start_everything(stack: ExitStack, employees: int) -> tuple[str, dict[str, str], str]:
    """The suite with the demo loaded and a portal: (portal URL, service URLs, admin token)."""
    from asn_testkit import auth, idp
    from asn_testkit.infrastructure import Broker, DatabaseServer
    from asn_testkit.peers import SmtpServer
    from asn_testkit.suite import Suite
    from asn_testkit.waiting import wait_for

    directory = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    broker, databases_server = Broker.discover([]), DatabaseServer.discover([])
    vhost = broker.create_vhost()
    stack.callback(broker.delete_vhost, vhost)
    databases = {name: databases_server.create(path) for name, path in Suite.migrations().items()}
    for url in databases.values():
        stack.callback(databases_server.drop, url)
    smtp = SmtpServer(directory / "smtp")
    stack.callback(smtp.stop)
    fast = {"OUTBOX_POLL_INTERVAL": "0.1", "DISPATCH_INTERVAL": "0.2", "MAX_WORKERS": "4"}
    suite = Suite(
        broker.uri(vhost),
        databases,
        services_dir=ROOT / "services",
        log_dir=directory,
        env={**fast, "SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)},
    )
    stack.callback(suite.stop)
    suite.start()
    urls = {name: suite.url(name) for name in suite.processes}
    load_demo(urls, directory, employees, round_timeout=240)
    wait_for(lambda: chain_quiet(urls), 900, "the chain to settle", interval=2)
    portal, process, _ = start_portal(urls, directory)
    stack.callback(process.wait, 15)
    stack.callback(process.terminate)
    stack.callback(idp.stop_shared)
    return portal, urls, auth.token("admin")


def _answers(portal: str) -> bool:
    try:
        return requests.get(f"{portal}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", help="a running portal (else everything is started)")
    parser.add_argument("--issuer", help="with --portal: its development provider")
    parser.add_argument("--employees", type=int, default=600)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--label", default="portal-pages")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.portal:
            from asn_shared import tokens

            services = {
                n: os.environ.get(f"{n.upper()}_URL", f"http://127.0.0.1:{8001 + i}")
                for i, n in enumerate(("competency", "training", "budget", "notification"))
            }
            portal, token = args.portal.rstrip("/"), tokens.provider_token(args.issuer, "admin")
        else:
            portal, services, token = start_everything(stack, args.employees)
        rows = run(portal, services, token, args.requests)
        calls = overview_calls(services, token, args.requests)
    meta = {
        "employees": args.employees,
        "requests": args.requests,
        "date": date.today().isoformat(),
    }
    write(rows, calls, meta, args.label)


if __name__ == "__main__":
    main()
