"""The ``portchain`` command."""

from __future__ import annotations

import json
import signal
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from portchain.cli import (
    chain_tools,
    documents,
    ebl,
    logistics,
    net,
    port,
    query,
    trade,
    users,
)
from portchain.cli.output import configure_logging, emit, emit_line
from portchain.kernel import codec
from portchain.kernel.errors import PortchainError
from portchain.node.home import Home, HomeError

app = typer.Typer(
    name="portchain",
    help="portchain: a permissioned blockchain for a digital port.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(query.app, name="query")
app.add_typer(chain_tools.keys_app, name="keys")
app.add_typer(net.app, name="net")
app.add_typer(users.app, name="users")
app.add_typer(trade.app, name="trade")
app.add_typer(logistics.app, name="logistics")
app.add_typer(port.app, name="port")
app.add_typer(ebl.app, name="ebl")
app.add_typer(documents.app, name="documents")
chain_tools.register(app)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main(
    log_json: Annotated[bool, typer.Option("--log-json", help="Logs as JSON lines.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING...")] = "INFO",
) -> None:
    """portchain: a permissioned blockchain for a digital port."""
    configure_logging(log_json, log_level.upper())


@app.command()
def init(
    home: HomeOpt,
    chain_id: Annotated[str, typer.Option(help="The chain id signed into every transaction.")] = (
        "portchain-demo"
    ),
    preset: Annotated[str, typer.Option(help="The founding cast: demo or minimal.")] = "demo",
) -> None:
    """Create a new network in HOME: genesis, the founders' keys and a validator key.

    Private keys go to HOME/keys with mode 0600 and are never printed.
    """
    from portchain.node.presets import PRESETS, create_network

    target = Home(home)
    if not target.is_empty():
        fail(f"{home} is not empty; choose a new directory")
    if preset not in PRESETS:
        fail(f"unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    try:
        genesis = create_network(target, chain_id=chain_id, cast=PRESETS[preset])
    except ValueError as exc:
        fail(str(exc))
    emit(
        {
            "home": str(home),
            "chain_id": genesis.chain_id,
            "genesis_hash": genesis.hash.hex(),
            "organisations": [o["id"] for o in genesis.app_state["membership"]["organisations"]],
        }
    )


@app.command()
def up(
    home: HomeOpt,
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API.")] = 8545,
    block_interval: Annotated[float, typer.Option(help="Seconds between blocks.")] = 0.2,
    max_block_txs: Annotated[int, typer.Option(help="Cut a block at this many txs.")] = 5000,
    mempool_size: Annotated[int, typer.Option(help="Most transactions waiting.")] = 20_000,
) -> None:
    """Run the embedded node (solo engine) with its HTTP API until interrupted."""
    import logging

    import uvicorn

    from portchain.api.server import create_app
    from portchain.engines.solo import SoloConfig
    from portchain.node.node import Node

    target = Home(home)
    try:
        node = Node(target, SoloConfig(block_interval, max_block_txs, mempool_size))
    except HomeError as exc:
        fail(str(exc))
    node.start()
    url = f"http://{host}:{port}"
    target.api_file.write_text(json.dumps({"url": url}) + "\n")
    log = logging.getLogger("portchain.node")
    log.info("node up: chain %s at height %s, API %s", node.chain_id, node.status()["height"], url)
    config = uvicorn.Config(
        create_app(node),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        target.api_file.unlink(missing_ok=True)
        node.stop()
        log.info("node stopped at height %s", node.storage.reader().height())


@app.command()
def tx(
    home: HomeOpt,
    action: Annotated[str, typer.Argument(help="module.verb, e.g. membership.register_key")],
    body: Annotated[str, typer.Argument(help="The action's body as JSON.")],
    signer: Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose key signs.")],
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once admitted.")] = False,
) -> None:
    """Sign ACTION with BODY as ORG[/USER], submit it and wait for the outcome (JSON).

    Exits 1 if the transaction is refused or fails.
    """
    from portchain.node.gateway import connect, send

    target = Home(home)
    try:
        parsed = codec.decode(body, max_bytes=64 * 1024, what="body")
    except PortchainError as exc:
        fail(exc.describe(), 2)
    if not isinstance(parsed, dict):
        fail("body must be a JSON object", 2)
    try:
        key = target.load_key(signer)
        with connect(target) as gateway:
            outcome = send(gateway, key.key, action, parsed, wait=not no_wait)
    except HomeError as exc:
        fail(str(exc))
    emit(outcome)
    if outcome.get("status") not in ("committed", "pending"):
        raise typer.Exit(1)


@app.command()
def demo(
    home: HomeOpt,
    chain_id: Annotated[str, typer.Option(help="Chain id if the network is created.")] = (
        "portchain-demo"
    ),
    engine: Annotated[str, typer.Option(help="solo, or cometbft: a 4-validator local network.")] = (
        "solo"
    ),
) -> None:
    """Run the demo scenario on HOME (creating the demo network if HOME is empty).

    With --engine cometbft, HOME holds a local network of 4 CometBFT validators (portchain net
    up), brought up if needed; the scenario runs through node 0's API.
    """
    from portchain.demo.scenario import StepFailed, run_scenario
    from portchain.node.gateway import connect
    from portchain.node.presets import DEMO_CAST, create_network

    target = Home(home)
    gateway_for = partial(net.demo_gateway, chain_id=chain_id) if engine == "cometbft" else connect
    if engine not in ("solo", "cometbft"):
        fail(f"unknown engine {engine!r}; choose solo or cometbft")
    elif engine == "solo" and target.is_empty():
        create_network(target, chain_id=chain_id, cast=DEMO_CAST)
    interactive = sys.stderr.isatty()

    def report(title: str, outcome: dict[str, Any]) -> None:
        if interactive:
            mark = "ok" if outcome.get("status") == "committed" else outcome.get("status")
            typer.echo(f"  [{mark}] {title} (height {outcome.get('height', '-')})", err=True)

    try:
        with gateway_for(target) as gateway:
            run = run_scenario(target, gateway, report)
    except StepFailed as exc:
        emit_line({"ok": False, "failed_step": exc.step, "outcome": exc.outcome})
        raise typer.Exit(1) from None
    except HomeError as exc:
        fail(str(exc))
    last = run.steps[-1]
    emit_line({"ok": True, "steps": len(run.steps), "height": last.get("height")})


@app.command()
def bench(
    engine: Annotated[str, typer.Option(help="solo, or cometbft (a local network).")] = "solo",
    validators: Annotated[int, typer.Option(help="Validators (cometbft).", min=1)] = 4,
    txs: Annotated[int, typer.Option(help="Transactions to commit.")] = 20_000,
    signers: Annotated[int, typer.Option(help="Distinct signing keys.")] = 200,
    clients: Annotated[int, typer.Option(help="Submitting threads.")] = 2,
    state_keys: Annotated[int, typer.Option(help="Keys in the state-root benchmark.")] = 200_000,
    subscribers: Annotated[int, typer.Option(help="Event subscribers (--events).")] = 100,
    events: Annotated[
        bool, typer.Option("--events", help="Measure event delivery to subscribers instead.")
    ] = False,
    api: Annotated[
        bool, typer.Option("--api", help="Measure API read latency under load instead.")
    ] = False,
    readers: Annotated[int, typer.Option(help="Concurrent API readers (--api).")] = 4,
    read_rate: Annotated[
        float, typer.Option(help="Reads per second in all (--api); 0: as fast as answered.")
    ] = 100.0,
    port: Annotated[
        bool,
        typer.Option("--port", help="Container events/s, then a port-scale load and its reads."),
    ] = False,
    containers: Annotated[int, typer.Option(help="Containers in the port-scale load.")] = 100_000,
    ebl: Annotated[
        bool,
        typer.Option("--ebl", help="Bill of lading transfers/s, then a proof checked offline."),
    ] = False,
    bills: Annotated[int, typer.Option(help="Bills of lading passed around (--ebl).")] = 1_000,
    abci: Annotated[
        bool,
        typer.Option(
            "--abci", help="With --engine cometbft: one validator's app alone, µs per tx."
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON result here.")] = None,
) -> None:
    """Measure committed tx/s, submit-to-commit latency, memory, Ed25519 and state-root rates.

    With --events: latency from commit to SUBSCRIBERS server-sent-event subscribers.

    With --api: p50/p99 latency of READERS signed-in clients reading while blocks commit.

    With --port: committed container events per second, then CONTAINERS containers with ten
    events each and the p50/p99 of "containers at my terminal" and a container's history.

    With --ebl: committed transfers/s of BILLS bills of lading passed round five holders (TXS
    transfers in all), then the time to check a bill's proof bundle offline.

    With --engine cometbft: committed tx/s and latency on a local network of VALIDATORS
    CometBFT nodes, then the same load on CometBFT's kvstore app, and the ratio, then on two
    minimal Python apps (one that does nothing, one that only checks signatures); with
    --abci as well: the CPU time one validator's app spends per transaction in CheckTx,
    ProcessProposal, FinalizeBlock and Commit (TXS transactions, no network).
    """
    from portchain.bench.solo import run_bench

    # A stopped bench (SIGTERM) still runs its clean-ups: the CometBFT bench's nodes and a
    # node's worker processes are stopped, not left running to slow down what comes next. A
    # second SIGTERM (sent to the whole process group, say) must not cut the clean-up short.
    def stop(*_: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    if ebl:
        from portchain.bench.ebl import run_ebl_bench

        result = run_ebl_bench(
            bills=bills, transfers=txs, progress=lambda m: typer.echo(m, err=True)
        )
    elif port:
        from portchain.bench.port import run_port_bench

        result = run_port_bench(
            events=txs, containers=containers, progress=lambda m: typer.echo(m, err=True)
        )
    elif api:
        from portchain.bench.api import measure_read_latency

        result = measure_read_latency(
            readers=readers, processes=1 if readers <= 8 else 2, read_rate=read_rate or None
        )
    elif events:
        from portchain.bench.events import measure_event_latency

        result = measure_event_latency(subscribers=subscribers)
    elif engine == "cometbft" and abci:
        from portchain.bench.abci import run_abci_bench

        result = run_abci_bench(txs=txs, signers=signers)
    elif engine == "cometbft":
        from portchain.bench.cometbft import run_bench as run_network_bench

        result = run_network_bench(
            validators, txs=txs, signers=signers, progress=lambda m: typer.echo(m, err=True)
        )
    elif engine != "solo":
        fail(f"unknown engine {engine!r}; choose solo or cometbft")
    else:
        result = run_bench(txs=txs, signers=signers, clients=clients, state_keys=state_keys)
    if out is not None:
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    emit(result)


if __name__ == "__main__":  # pragma: no cover
    app()
