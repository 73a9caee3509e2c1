"""Shared fixtures. ``support`` (the test chain) lives beside this file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support import Chain


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    built = Chain(tmp_path)
    yield built
    built.close()
