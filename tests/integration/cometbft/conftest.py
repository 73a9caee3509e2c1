"""Fixtures for the CometBFT engine's integration tests: a real binary, real sockets, no mocks.

The first run builds CometBFT with ``go install`` (a few minutes on two cores); later runs
reuse the cached binary. Without Go these tests fail with the toolchain's message rather than
skip, so a machine that cannot run them is noticed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from portchain.engines.cometbft import proto
from portchain.engines.cometbft.abci_server import AbciApplication
from portchain.engines.cometbft.localnet import LocalNet
from portchain.engines.cometbft.toolchain import ensure_cometbft

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules beside this file, whatever pytest's import mode
    sys.path.insert(0, str(HERE))

from cometbft_served_app import ServedApp  # noqa: E402

FIXTURE_APP = HERE / "cometbft_kv_app.py"
"""Script that serves the key-value fixture app; used as a local network's ``app_command``."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cometbft: runs a real CometBFT node (built with Go by toolchain.ensure_cometbft)",
    )


@pytest.fixture(scope="session")
def cometbft_binary() -> Path:
    """The pinned CometBFT binary, built on first use."""
    return ensure_cometbft()


@pytest.fixture(scope="session")
def abci_types() -> ModuleType:
    """The generated ``tendermint.abci`` message module."""
    return proto.load("abci")


@pytest.fixture(scope="session")
def app_env() -> dict[str, str]:
    """Environment that lets an app subprocess import ``portchain`` as this test run does."""
    source_root = str(Path(proto.__file__).resolve().parents[3])
    paths = [source_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(paths)}


@pytest.fixture(scope="session")
def fixture_app() -> Path:
    """Script that serves the key-value fixture app on ``$PORTCHAIN_ABCI_ADDRESS``."""
    return FIXTURE_APP


@pytest.fixture
def serve_app() -> Iterator[Callable[[AbciApplication, str], ServedApp]]:
    """Factory: serve an application in-process on an address; all are stopped afterwards."""
    served: list[ServedApp] = []

    def start(app: AbciApplication, address: str) -> ServedApp:
        served.append(ServedApp(app, address))
        return served[-1]

    yield start
    for item in served:
        item.stop()


@pytest.fixture
def make_localnet(tmp_path: Path, cometbft_binary: Path) -> Iterator[Callable[..., LocalNet]]:
    """Factory: ``make_localnet(validators, **create_options)``; all nodes stop afterwards."""
    nets: list[LocalNet] = []

    def make(validators: int, **options: object) -> LocalNet:
        home = tmp_path / f"net{len(nets)}"
        net = LocalNet.create(home, validators, binary=cometbft_binary, **options)  # type: ignore[arg-type]
        nets.append(net)
        return net

    yield make
    for net in nets:
        net.stop_all()
