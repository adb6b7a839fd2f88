"""bench/portal_pages.py at a tiny size against the portal of these tests: every page it
times answers, and its report is whole (figures are not checked: a test is no benchmark)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from asn_testkit import idp

BENCH = Path(__file__).resolve().parents[3] / "bench" / "portal_pages.py"


def test_the_page_benchmark_times_every_main_page(plaju, portal, tmp_path):
    finished = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--portal",
            portal.url,
            "--issuer",
            idp.shared().issuer,
            "--requests",
            "3",
            "--employees",
            "40",
            "--label",
            "portal-smoke",
        ],
        env={
            **os.environ,
            **{f"{name.upper()}_URL": url for name, url in plaju.urls.items()},
            "BENCH_RESULTS": str(tmp_path),
            "PYTHONWARNINGS": "ignore",
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((tmp_path / "portal-smoke.json").read_text())
    assert len(report["pages"]) == 9
    for page in report["pages"]:
        assert page["requests"] == 3
        assert 0 < page["server_p50_ms"] <= page["server_p95_ms"]
        assert page["client_p50_ms"] >= page["server_p50_ms"]
    assert [c["call"].split(":")[0] for c in report["overview_calls"]] == [
        "training",
        "training",
        "budget",
        "competency",
        "competency",
    ]
    assert all(0 < c["p50_ms"] <= c["p95_ms"] for c in report["overview_calls"])
    tables = (tmp_path / "portal-smoke.md").read_text()
    assert tables.count("\n| ") == 16  # two headers, a row per page and per call
