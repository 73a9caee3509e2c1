"""Dependencies shared by the routers: the node serving the request.

The caller's organisation is :data:`portchain.api.auth.ViewerDep`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from portchain.node.node import Node


async def get_node(connection: HTTPConnection) -> Node:
    node: Node = connection.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]

MAX_INT = 2**62
"""Largest integer a route takes (heights, ids, cursors): within SQLite's 64-bit integers."""
