"""Determinism: a fixed genesis and fixed transactions always give the same app hashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
sys.path.insert(0, str(VECTORS))

import golden  # noqa: E402

from portchain.app.verify import verify_chain  # noqa: E402


def expected() -> dict[str, object]:
    return json.loads((VECTORS / "golden.json").read_text())  # type: ignore[no-any-return]


def test_the_golden_chain_gives_the_pinned_app_hashes(tmp_path: Path) -> None:
    assert golden.build(tmp_path) == expected()


def test_replaying_the_golden_chain_from_storage_gives_the_same_final_hash(tmp_path: Path) -> None:
    golden.build(tmp_path)
    summary = verify_chain(tmp_path / "chain.db")
    hashes = expected()["app_hashes"]
    assert isinstance(hashes, dict)
    assert summary.app_hash == hashes[str(summary.height)]


@pytest.mark.parametrize("seed", ["0", "1", "4242"])
def test_the_hash_seed_of_the_interpreter_changes_nothing(seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, str(VECTORS / "golden.py")], env=env, capture_output=True, check=True
    )
    assert json.loads(out.stdout) == expected()
