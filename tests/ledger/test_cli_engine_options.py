"""`oneteam ledger start`'s consensus-engine options reach the engine, and bad ones are refused."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from oneteam.cli import _engine_settings, build_parser, main


def parse(*options: str) -> argparse.Namespace:
    return build_parser().parse_args(["ledger", "start", *options])


def test_defaults_are_the_engine_defaults() -> None:
    from oneteam.ledger.validator import ValidatorConfig

    settings = _engine_settings(parse())
    config = ValidatorConfig(validators=(), **settings)  # type: ignore[arg-type]
    default = ValidatorConfig(validators=())
    assert (config.batch_interval_ms, config.batch_txs_max, config.empty_block_wait_ms,
            config.timeouts) == (default.batch_interval_ms, default.batch_txs_max,
                                 default.empty_block_wait_ms, default.timeouts)


def test_options_set_batches_waits_and_timeouts() -> None:
    settings = _engine_settings(parse("--batch-interval-ms", "5", "--batch-txs-max", "100",
                                      "--empty-block-wait-ms", "0", "--propose-timeout-ms",
                                      "2000", "--vote-timeout-ms", "800"))
    timeouts = settings["timeouts"]
    assert (settings["batch_interval_ms"], settings["batch_txs_max"],
            settings["empty_block_wait_ms"]) == (5, 100, 0)
    assert (timeouts.propose_ms, timeouts.propose_delta_ms, timeouts.prevote_ms,  # type: ignore[attr-defined]
            timeouts.precommit_delta_ms) == (2000, 1000, 800, 400)  # type: ignore[attr-defined]


@pytest.mark.parametrize("option", ["--batch-interval-ms", "--batch-txs-max",
                                    "--propose-timeout-ms", "--vote-timeout-ms"])
def test_a_bad_setting_is_refused_before_anything_starts(
        option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "start", "--data-dir", str(tmp_path / "n"), option, "0"]) == 2
    assert option in capsys.readouterr().err
    assert not (tmp_path / "n").exists()  # nothing was initialized
