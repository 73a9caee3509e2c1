"""Dependencies shared by the routers: the node serving the request."""

from __future__ import annotations

from fastapi import Request

from portchain.node.node import Node


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node
