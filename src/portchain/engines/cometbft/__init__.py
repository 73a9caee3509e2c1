"""The CometBFT engine: portchain as the ABCI 2.0 application of CometBFT v0.38 nodes.

Modules, lowest first:

* ``toolchain``: builds the pinned ``cometbft`` binary and generates the ABCI protobuf
  bindings at set-up (``python -m portchain.engines.cometbft.toolchain``).
* ``proto``: the generated message classes, loaded on first use (``proto.abci.RequestInfo``).
* ``abci_server``: the asyncio socket server and the ``AbciApplication`` protocol it drives;
  ``base_application.BaseApplication`` gives a default for every method.
* ``abci_client``: a minimal client, for testing an application without a node.
* ``rpc``: a small client for a node's JSON-RPC port.
* ``localnet``: creates and runs N validators on 127.0.0.1.

Nothing is imported here, so that importing the package never builds or generates anything.
"""
