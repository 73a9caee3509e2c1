"""The Python client of a portchain node: sign, submit, wait, read.

    from portchain.sdk import Client
    with Client("http://127.0.0.1:8545") as node:
        result = node.send(key, "membership.register_key", {...})
"""

from portchain.sdk.client import Client, NodeError

__all__ = ["Client", "NodeError"]
