"""The cluster's two benchmarks, run as an operator runs them but tiny, so that what they
report keeps working: ``bench/stream_catchup.py`` (an agency reading the stream from the
first event, with ``asn-admin follow`` and with pika) and ``bench/cluster_node_loss.py``
(a node killed under load, the chaos run's promises checked). Each writes its results to
``$BENCH_RESULTS``; the cluster is the one of this folder's fixture, left running."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench(script: str, *args: str, results: Path) -> dict:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--label", "smoke"],
        env={**os.environ, "BENCH_RESULTS": str(results)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (results / "smoke.md").read_text().startswith("| figure | value |")
    return json.loads((results / "smoke.json").read_text())


def test_stream_catchup_reads_every_event_once_with_both_readers(cluster, tmp_path):
    result = bench("stream_catchup.py", "--events", "3000", results=tmp_path)
    assert result["events"] == result["follower_printed"] == 3000
    assert result["follower_in_order_once"] is True
    assert result["follower"]["events_per_second"] > 0 and result["pika"]["events_per_second"] > 0
    assert cluster.running()  # the fixture's cluster is left as it was


def test_cluster_node_loss_kills_a_node_under_load_and_keeps_every_promise(cluster, tmp_path):
    report = bench(
        "cluster_node_loss.py", "--assessments", "40", "--kills", "1", "--units", "4",
        "--chunk", "10", "--ahead", "20", "--settle-timeout", "180", results=tmp_path,
    )  # fmt: skip
    assert report["violations"] == []
    (kill,) = report["figures"]["node_kills"]
    assert kill["decided_at_kill"] < 40 and kill["leader_changes"] > 0
    assert report["figures"]["assessments_recorded"] == 40
    assert cluster.running()
