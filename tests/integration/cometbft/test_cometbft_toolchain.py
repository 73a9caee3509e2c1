"""The binary and the bindings come from the one pinned CometBFT release, or fail clearly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from portchain.engines.cometbft.toolchain import (
    COMETBFT_VERSION,
    ToolchainError,
    ensure_bindings,
    ensure_cometbft,
)

pytestmark = pytest.mark.cometbft


def test_binary_is_the_pinned_release(cometbft_binary: Path) -> None:
    shown = subprocess.run(
        [str(cometbft_binary), "version"], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == COMETBFT_VERSION.removeprefix("v")
    assert ensure_cometbft() == cometbft_binary  # built once, then reused


def test_bindings_are_generated_from_the_pinned_release() -> None:
    stamp = json.loads((ensure_bindings() / "STAMP.json").read_text())
    assert stamp["cometbft"] == COMETBFT_VERSION
    assert "tendermint/abci/types.proto" in stamp["sources"]


def test_missing_go_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing built here yet
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolchainError, match="'go'"):
        ensure_cometbft()
