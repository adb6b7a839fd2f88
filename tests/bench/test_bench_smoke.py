"""The benchmarks in bench/ run here at a tiny size, so a change that breaks one shows in CI.
Their figures are not checked (a test is no benchmark); what they report must be whole:
everything settled, a baseline beside it, no promise broken."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, label: str, results: Path, *args: str, timeout: float = 420) -> dict:
    finished = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        env={**os.environ, "BENCH_RESULTS": str(results), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert (results / f"{label}.md").read_text().strip()
    return json.loads((results / f"{label}.json").read_text())


def test_the_chain_benchmark_settles_every_assessment_beside_its_baseline(tmp_path):
    report = run_bench(
        "chain.py",
        "chain-smoke",
        tmp_path,
        *("--assessments", "30", "--rate", "5", "--duration", "2", "--chunk", "15"),
        *("--replicas", "1", "--label", "chain-smoke", "--baseline-ref", "HEAD"),
        timeout=600,
    )
    before, after = report["runs"]  # the last commit's services, then the working tree's
    assert before["code"].startswith("HEAD (") and after["code"] == "working tree"
    for run in (before, after):
        assert run["throughput"]["settled"] == run["throughput"]["assessments"] == 30
        assert run["latency"]["settled"] == run["latency"]["assessments"] > 0
        assert run["baseline"]["received"] == run["baseline"]["messages"] > 0
        assert set(run["dead_lettered"].values()) == {0}
        assert (
            run["cpu_ms_per_assessment"]
            > run["throughput"]["service_cpu_ms_per_assessment_total"]
            > 0
        )


def test_a_revision_without_the_newest_migration_runs_on_the_newer_schema_only_when_asked():
    sys.path.insert(0, str(BENCH))
    from chain import Revision, _git

    newest = _git("log", "-1", "--format=%h", "--diff-filter=A", "--", "*/migrations/versions/*")
    before = f"{newest}~1"
    with pytest.raises(SystemExit, match="--newer-schema"):
        Revision(before)
    revision = Revision(before, newer_schema=True)
    try:
        assert revision.commit == _git("rev-parse", "--short", before)
        assert all(Path(folder).is_dir() for folder in revision.source_folders())
    finally:
        revision.remove()


def test_the_relay_benchmark_compares_the_relay_with_raw_kombu(tmp_path):
    report = run_bench("relay_throughput.py", "relay", tmp_path, "--events", "200", "--rounds", "1")
    assert report["events"] == 200
    assert set(report["messages_per_second"]) == {"baseline", "relay"}
    assert all(rate > 0 for rate in report["messages_per_second"].values())


@pytest.mark.broker_restart
def test_the_chaos_benchmark_keeps_every_promise_at_a_small_size(tmp_path):
    report = run_bench(
        "chaos.py",
        "chaos-smoke",
        tmp_path,
        *("--assessments", "40", "--kills", "4", "--units", "5", "--chunk", "20"),
        *("--max-down", "1", "--settle-timeout", "300", "--label", "chaos-smoke"),
    )
    assert report["violations"] == []
    assert report["figures"]["assessments_recorded"] == 40
