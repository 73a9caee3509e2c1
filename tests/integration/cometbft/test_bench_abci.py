"""``portchain bench --engine cometbft --abci``: one validator's app fed CometBFT's requests."""

from __future__ import annotations

import pytest

from portchain.bench.abci import run_abci_bench

pytestmark = pytest.mark.cometbft


def test_every_transaction_is_checked_executed_and_committed_and_each_phase_is_costed() -> None:
    result = run_abci_bench(txs=300, signers=20, block_txs=100)

    assert result["refused_at_check"] == 0
    assert result["failed_in_block"] == 0
    assert result["height"] == 3  # 300 transactions in blocks of 100, all committed
    costs = result["cpu_us_per_tx"]
    phases = ("check_tx", "process_proposal", "finalize_block", "commit")
    assert all(costs[phase] > 0 for phase in phases)
    assert costs["total"] == pytest.approx(sum(costs[phase] for phase in phases), abs=0.5)
    # CheckTx verifies an Ed25519 signature; ProcessProposal only looks the bytes up.
    assert costs["check_tx"] > costs["process_proposal"]
    assert result["db_bytes_per_tx"] > len(b"a signed transaction, kept")  # each one is stored
    # Each part of the run is costed on its own (here a block each), covering every transaction.
    segments = result["by_segment"]
    assert [segment["up_to_txs"] for segment in segments] == [100, 200, 300]
    for phase in phases:
        mean = sum(segment["cpu_us_per_tx"][phase] for segment in segments) / len(segments)
        assert mean == pytest.approx(costs[phase], abs=0.5)
