"""The benchmark command runs end to end on a small load and reports every field."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

REQUIRED_FIELDS = {"tx", "committed", "seconds", "committed_tps", "ceiling_verify_per_s",
                   "ratio", "latency_ms_p50", "latency_ms_p99", "cores", "mode"}


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--serial"], ["--verify-mode", "processes"],
                                   ["--exec-workers", "2", "--rate", "3000"]])
def test_bench_commits_every_transaction_and_reports_json(extra: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "oneteam.cli", "ledger", "bench", "--tx", "3000",
         "--accounts", "300", "--hot-key-ratio", "0.05", "--json", *extra],
        capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.keys() >= REQUIRED_FIELDS
    assert report["tx"] == report["committed"] == 3000
    assert report["rejected"] == {}
    assert report["committed_tps"] > 0
    assert 0 < report["ratio"] == pytest.approx(
        report["committed_tps"] / report["ceiling_verify_per_s"], rel=0.01)
    assert report["latency_ms_p50"] <= report["latency_ms_p99"]
    assert report["mode"] == ("serial" if "--serial" in extra else "parallel")


def test_workload_is_deterministic_and_hot_share_is_honoured() -> None:
    """Same seed, same signed transactions; about the requested share pays the hot account."""
    from oneteam.ledger.bench import make_workload
    from oneteam.ledger.tx import decode_and_verify

    _, _, first = make_workload(2000, 100, 0.2, seed=7)
    _, _, again = make_workload(2000, 100, 0.2, seed=7)
    assert first == again
    txs = [decode_and_verify(wire, "oneteam-bench") for wire in first]
    hot = sum(1 for tx in txs if tx.args.to == "acct-000000")
    assert 0.15 * 2000 < hot < 0.25 * 2000
    per_sender: dict[bytes, list[int]] = {}
    for tx in txs:
        per_sender.setdefault(tx.sender, []).append(tx.nonce)
    assert all(nonces == list(range(len(nonces))) for nonces in per_sender.values())
