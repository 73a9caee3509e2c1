"""What the ebl module reads from other modules, declared here and wired by the app.

* :class:`Logistics` — bookings (the logistics module's ``provides.booking``).
* :class:`Loaded` — a container's latest LOAD (the port module's ``provides.loaded``).
* :class:`Organisations` — an organisation's status (membership's ``store.get_org``).
"""

from __future__ import annotations

from typing import Protocol

from portchain.kernel.module import StateReader


class Booking(Protocol):
    @property
    def carrier(self) -> str: ...
    @property
    def shipper(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def vessel_call(self) -> str: ...
    @property
    def port_of_loading(self) -> str: ...
    @property
    def port_of_discharge(self) -> str: ...
    @property
    def containers(self) -> tuple[str, ...]: ...


class Bookings(Protocol):
    def __call__(self, reader: StateReader, reference: str, /) -> Booking | None: ...


class Loading(Protocol):
    @property
    def call_id(self) -> str: ...
    @property
    def time_ms(self) -> int: ...


class Loaded(Protocol):
    def __call__(self, reader: StateReader, container_number: str, /) -> Loading | None: ...


class Organisation(Protocol):
    @property
    def status(self) -> str: ...


class Organisations(Protocol):
    def __call__(self, reader: StateReader, org_id: str, /) -> Organisation | None: ...
