"""The access rules as the API applies them to the chain-wide routes.

Modules declare who may read each of their records (kernel/access.py,
``ModuleSpec.public`` and ``state_audience``) and stamp that audience on their
events. This module applies those declarations where the API serves raw chain
data: state entries, transactions, blocks' transaction lists, events and the
event index. Whatever a viewer may not read is left out of lists and answered as
missing, never as forbidden.
"""

from __future__ import annotations

from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import ModuleSpec, QueryReader
from portchain.modules.membership import store as membership_store
from portchain.node.node import Node
from portchain.storage.sqlite import StoredTx


class ReadRules:
    """The modules' read rules over one node's registry."""

    def __init__(self, node: Node) -> None:
        self._modules: dict[str, ModuleSpec] = dict(node.app.registry.modules)
        self._may_see = node.events.may_see
        self._public = frozenset(name for name, spec in self._modules.items() if spec.public)

    def event(self, viewer: Viewer, type_: str, audience: Any) -> bool:
        """May ``viewer`` see an event of ``type_`` with ``audience`` (() for the default)?"""
        if audience:
            return viewer.may_read(audience)
        return type_.partition(".")[0] in self._public

    def event_row(self, viewer: Viewer, row: dict[str, Any]) -> bool:
        return self.event(viewer, row["type"], row.get("audience"))

    def state(self, viewer: Viewer, reader: QueryReader, key: str) -> bool:
        """May ``viewer`` read the state entry at ``key``? Its module decides."""
        spec = self._modules.get(key.partition("/")[0])
        if spec is None:
            return False
        if spec.public:
            return True
        if spec.state_audience is None:
            return False
        audience = spec.state_audience(reader, key)
        return audience is not None and viewer.may_read(audience)

    def tx(self, viewer: Viewer, reader: QueryReader, stored: StoredTx) -> bool:
        """A transaction is visible to its signer's organisation and to whoever may see one of
        its events (a failed transaction has none: only its signer's organisation sees it)."""
        key = membership_store.get_key(reader, stored.signer)
        if key is not None and key.org == viewer.org:
            return True
        return any(self.event(viewer, e["type"], e.get("audience")) for e in stored.events)


def public_event(row: dict[str, Any]) -> dict[str, Any]:
    """An event row as the API shows it (its audience is the API's business, not the reader's)."""
    return {name: value for name, value in row.items() if name != "audience"}


def public_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public_event(e) for e in events]
