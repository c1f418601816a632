"""`python -m bench --smoke` runs every measure end to end and prints the table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_bench_smoke_prints_every_measure() -> None:
    # Smoke sizes are far too small for the targets, so only completion and the table count.
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, capture_output=True, text=True,
        timeout=50, check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    table = finished.stdout
    assert "| measure | bot | reference (same run) |" in table
    for measure in (
        "broadcast msg/s, BROADCAST_RATE=0", "achieved msg/s, BROADCAST_RATE=30",
        "busiest 1-s window", "Stripe webhook events/s", "Stripe webhook p99 latency",
        "Stripe webhook events/s, thank-yous unpaced",
        "peak RSS", "start to /readyz",
    ):
        assert measure in table, table
