"""What the trade module reads from other modules, declared here and wired by the app.

* :class:`Organisations` — membership's organisation records (``membership.store.get_org``):
  a contract's seller must hold the shipper role and its buyer the consignee role.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from portchain.kernel.module import StateReader


class Organisation(Protocol):
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...


class Organisations(Protocol):
    def __call__(self, reader: StateReader, org_id: str, /) -> Organisation | None: ...
