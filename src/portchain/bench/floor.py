"""The least a Python ABCI app can cost on the bench's network: what portchain's rate is held to.

``portchain bench --engine cometbft`` compares portchain with CometBFT's kvstore, which runs
inside each CometBFT process. portchain runs beside it, as a Python process behind the ABCI
socket, and checks an Ed25519 signature for every transaction on every validator. Two apps
served by the same :class:`AbciServer` take those costs apart from portchain's own work:

* ``noop``: admits every transaction, executes and stores nothing; the cost of a Python
  process behind the socket at all;
* ``signature``: CheckTx decodes the transaction (:func:`decode_tx`) and checks its signature
  against the signer's public key; nothing else, in CheckTx or in blocks. No app that checks
  its transactions' signatures in CheckTx, as portchain does, can be cheaper than this one.

Run by the bench as ``python -m portchain.bench.floor MODE KEYS`` (``KEYS``: a JSON object of
key id to public key hex), serving ``PORTCHAIN_ABCI_ADDRESS`` as ``LocalNet`` sets it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from portchain.engines.cometbft import proto
from portchain.engines.cometbft.abci_server import run_server
from portchain.engines.cometbft.base_application import CODE_OK, BaseApplication
from portchain.kernel.crypto import TX_DOMAIN, verify
from portchain.kernel.errors import PortchainError
from portchain.kernel.tx import decode_tx

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

MODES = ("noop", "signature")

CODE_REFUSED = 1


class NoopApplication(BaseApplication):
    """Admits every transaction; blocks: one OK result per transaction, and an app hash.

    The app hash is the height, 8 bytes big-endian: CometBFT keeps a block's FinalizeBlock
    response as its encoded bytes and reports one that encodes to nothing (an empty block
    without an app hash) as missing from ``/block_results``, where the bench looks for commits.
    """

    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        response = super().finalize_block(request)
        response.app_hash = request.height.to_bytes(8, "big")
        return response


class SignatureOnlyApplication(NoopApplication):
    """CheckTx: decode and check the signature; blocks as :class:`NoopApplication`."""

    def __init__(self, public_keys: dict[str, bytes]) -> None:
        self.public_keys = public_keys

    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        try:
            stx = decode_tx(request.tx)
        except PortchainError as exc:
            return proto.abci.ResponseCheckTx(code=CODE_REFUSED, log=str(exc))
        key = self.public_keys.get(stx.tx.signer)
        if key is None or not verify(key, TX_DOMAIN, stx.sign_bytes, stx.signature):
            return proto.abci.ResponseCheckTx(code=CODE_REFUSED, log="sig: does not verify")
        return proto.abci.ResponseCheckTx(code=CODE_OK)


def application(mode: str, keys_path: Path) -> BaseApplication:
    """The app of ``mode`` (one of :data:`MODES`)."""
    if mode == "noop":
        return NoopApplication()
    if mode == "signature":
        keys = json.loads(keys_path.read_text())
        return SignatureOnlyApplication({kid: bytes.fromhex(pk) for kid, pk in keys.items()})
    raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m portchain.bench.floor MODE KEYS", file=sys.stderr)
        return 2
    run_server(application(argv[0], Path(argv[1])), os.environ["PORTCHAIN_ABCI_ADDRESS"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
