"""Blocks executed straight on the real :class:`App` over SQLite, with no node around it:
how the benchmarks load a large state quickly (every signature is still verified at
execution; a block's commit is written in the background while the next one executes)."""

from __future__ import annotations

import gc
from typing import Any

from portchain.app.app import App
from portchain.app.genesis import GenesisDoc
from portchain.kernel.block import Block, Commit
from portchain.node.home import Home
from portchain.storage.sqlite import Storage


class DirectChain:
    def __init__(self, home: Home, genesis: GenesisDoc) -> None:
        self.storage = Storage(home.db_path)
        self.app = App(self.storage)
        self.app.init_chain(genesis)
        self.chain_id = genesis.chain_id
        self.validator = home.validator_key()
        self.time_ms = genesis.genesis_time_ms
        self._written: Any = None

    def run_block(self, raws: list[bytes]) -> Any:
        info = self.app.info()
        self.time_ms += 1000
        block = Block.build(
            chain_id=self.chain_id,
            height=info.height + 1,
            time_ms=self.time_ms,
            prev_hash=info.last_block_hash,
            app_hash=info.app_hash,
            proposer=self.validator.key_id,
            txs=raws,
        )
        gc.disable()
        try:
            result = self.app.finalize_block(block)
            commit = Commit(
                self.chain_id, block.header.height, block.hash, result.app_hash, result.results_hash
            ).signed_by(self.validator)
            if self._written is not None:
                self._written.result()
            self._written = self.app.commit(commit, background=True)
        finally:
            gc.freeze()
            gc.enable()
        return result

    def close(self) -> None:
        if self._written is not None:
            self._written.result()
        self.storage.close()
