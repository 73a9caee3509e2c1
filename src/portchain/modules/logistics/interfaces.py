"""What the logistics module reads from other modules, declared here and wired by the app.

* :class:`Terminals` — the port module's registered terminals (``port.provides.terminal``).
* :class:`Organisations` — membership's organisation records (``membership.store.get_org``).
* :class:`Contracts` — the trade module's sales contracts, when it is wired; without it a
  booking records its contract id unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from portchain.kernel.module import StateReader


class Terminal(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def port(self) -> str: ...


class Terminals(Protocol):
    def __call__(self, reader: StateReader, terminal_id: str, /) -> Terminal | None: ...


class Organisation(Protocol):
    @property
    def country(self) -> str: ...
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...


class Organisations(Protocol):
    def __call__(self, reader: StateReader, org_id: str, /) -> Organisation | None: ...


class Contract(Protocol):
    @property
    def seller(self) -> str: ...
    @property
    def status(self) -> str: ...


class Contracts(Protocol):
    def __call__(self, reader: StateReader, contract_id: str, /) -> Contract | None: ...
