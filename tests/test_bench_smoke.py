"""`python -m bench --smoke` runs every measure end to end and prints the table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_bench_smoke_prints_every_measure() -> None:
    # Smoke sizes are far too small for the targets, so only completion and the table count.
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, capture_output=True, text=True,
        timeout=140, check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    table = finished.stdout
    assert "| measure | bot | reference (same run) |" in table
    for measure in (
        "broadcast msg/s, BROADCAST_RATE=0", "achieved msg/s, BROADCAST_RATE=30",
        "busiest 1-s window", "Stripe webhook events/s", "Stripe webhook p99 latency",
        "Stripe webhook events/s, thank-yous unpaced",
        "peak RSS", "start to /readyz",
        "burst: 20 × /start + /donate", "burst: time to answer p50 / p95 / p99",
        "burst: ERROR lines in the log", "/start burst, 20 within 0.25 s, no 429",
        "then 12 amount taps within 0.25 s: tap → Checkout link", "/progress burst, 10 at once",
        "digest run msg/s, BROADCAST_RATE=30",
    ):
        assert measure in table, table
    # Both the bot and the floor answer every /start and every tap, at any size.
    assert table.count("unanswered: bot 0, floor 0") == 2, table
    # Several processes share one broadcast and one webhook burst: each delivery exactly once,
    # which holds at any size.
    shared = [line for line in table.splitlines() if line.startswith((
        "| processes: broadcast msg/s", "| processes: Stripe webhook events/s",
    ))]
    assert len(shared) == 6, table
    for line in shared:
        assert "| each exactly once | pass |" in line, line
    # The /progress burst counts what reached the fake Bot API: every text and chart, the
    # chart uploaded once and sent by file_id after.
    assert "20 of 20 messages, 1 upload(s), 9 by file_id" in table, table
