"""Typed events: what a transaction or a block did, for subscribers and the index.

Handlers build events through named constructors in their module's
``events.py`` (``org_admitted(org_id, ...)``), never as loose dicts, so every
event type and its attributes are declared in one place. Attributes keep the
order the constructor gives, which is part of the block's results and therefore
of what every node must agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AttrValue = str | int | bool | None

INDEXED: set[str] = set()
"""Attribute names the node indexes for lookups (party, object, document...): see index_by."""


def index_by(*names: str) -> None:
    """Declare attribute names worth an index entry (modules call this in their events.py).

    Indexing only what someone will look up (an organisation, a key, a container)
    keeps the index small; the order of events never depends on it.
    """
    INDEXED.update(names)


@dataclass(frozen=True, slots=True)
class Event:
    """One typed event: ``type`` is ``module.name``; ``attributes`` are ordered pairs.

    ``audience`` says who may see it (kernel/access.py). Empty means the module's
    default: public for a module whose records are public (membership), nobody
    for any other module, so an event that forgets its audience fails closed.
    """

    type: str
    attributes: tuple[tuple[str, AttrValue], ...]
    audience: tuple[str, ...] = ()

    @classmethod
    def of(cls, type_: str, **attributes: AttrValue) -> Event:
        return cls(type_, tuple(attributes.items()))

    @classmethod
    def to(cls, audience: tuple[str, ...], type_: str, **attributes: AttrValue) -> Event:
        """An event that ``audience`` (see kernel/access.py) may see."""
        return cls(type_, tuple(attributes.items()), audience)

    def get(self, name: str) -> AttrValue:
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def as_dict(self) -> dict[str, Any]:
        if self.audience:
            return {
                "type": self.type,
                "attributes": dict(self.attributes),
                "audience": list(self.audience),
            }
        return {"type": self.type, "attributes": dict(self.attributes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(data["type"], tuple(data["attributes"].items()), tuple(data.get("audience", ())))
