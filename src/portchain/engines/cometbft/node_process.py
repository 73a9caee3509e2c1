"""The app process of one CometBFT validator: portchain's ABCI application and its HTTP API.

    python -m portchain.engines.cometbft.node_process --home APP_HOME --api-port 8545 \\
        --rpc-url http://127.0.0.1:26657

It opens the node's portchain home (``genesis.json`` and ``data/``), serves the ABCI adapter on
``$PORTCHAIN_ABCI_ADDRESS`` (``LocalNet`` sets it; ``--abci`` overrides) for the local CometBFT
node to drive, and serves the portchain API on ``127.0.0.1:--api-port``. A signed transaction
posted to the API goes to the local CometBFT node's mempool (``broadcast_tx_sync``) and from
there to every validator; reads come from the local app's database.

The process exits non-zero if the application fails (CometBFT stops too, having lost its app),
and cleanly on SIGTERM. ``PORTCHAIN_CRASH_BEFORE_COMMIT=H`` makes it exit abruptly in Commit of
height H, before anything is persisted: the recovery tests use it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

CRASH_ENV = "PORTCHAIN_CRASH_BEFORE_COMMIT"
ABCI_ENV = "PORTCHAIN_ABCI_ADDRESS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the node's portchain home")
    parser.add_argument("--api-port", type=int, required=True, help="port of the portchain API")
    parser.add_argument("--rpc-url", required=True, help="the local CometBFT node's RPC URL")
    parser.add_argument("--abci", default=os.environ.get(ABCI_ENV), help="address to serve ABCI")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.abci:
        parser.error(f"give --abci or set {ABCI_ENV}")
    return serve(args.home, args.abci, args.rpc_url, args.api_port)


def serve(home_path: Path, abci_address: str, rpc_url: str, api_port: int) -> int:
    """Run until SIGTERM (0) or until the application fails (1)."""
    import uvicorn

    from portchain.api.server import create_app
    from portchain.engines.cometbft.engine import CometEngine
    from portchain.engines.cometbft.light import ENGINE_FILE
    from portchain.node.home import Home
    from portchain.node.node import Node

    log = logging.getLogger("portchain.node")
    home = Home(home_path)
    genesis = home.genesis()
    crash = os.environ.get(CRASH_ENV)
    node = Node(
        home,
        engine=lambda app: CometEngine(
            app,
            abci_address,
            rpc_url,
            genesis=genesis,
            crash_before_commit=int(crash) if crash else None,
        ),
    )
    node.start()
    api_url = f"http://127.0.0.1:{api_port}"
    home.api_file.write_text(json.dumps({"url": api_url}) + "\n")
    # The node's RPC address, for tools such as ``portchain prove`` (see light.node_rpc_url).
    engine_file = home.path / ENGINE_FILE
    engine_file.write_text(json.dumps({"rpc_url": rpc_url, "api_url": api_url}) + "\n")
    config = uvicorn.Config(
        create_app(node),
        host="127.0.0.1",
        port=api_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    stopped = threading.Event()

    def watch() -> None:
        """Stop the API when the ABCI side fails, so the process reports the failure."""
        while not stopped.wait(0.2):
            if node.engine.failure is not None or not node.engine.running:
                server.should_exit = True
                return

    threading.Thread(target=watch, name="watchdog", daemon=True).start()
    log.info(
        "app of chain %s: ABCI %s, API %s, RPC %s", node.chain_id, abci_address, api_url, rpc_url
    )
    try:
        server.run()
    finally:
        stopped.set()
        failure = node.engine.failure
        home.api_file.unlink(missing_ok=True)  # the API is gone; the RPC address stays valid
        node.stop()
    if failure is not None:
        log.critical("the application failed: %r", failure)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
