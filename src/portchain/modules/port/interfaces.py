"""What the port module needs from other modules, declared here and wired by the app.

* :class:`Logistics` — vessel calls, bookings and containers (the logistics module's
  ``provides``).
* :class:`Organisations` — an organisation's country, roles and status (membership's store).
* :class:`Releases` — which of the three releases a container has (customs, carrier,
  terminal charges); the release module comes in a later issue. Until then the app
  wires :class:`portchain.modules.port.releases.NoReleases`, which says honestly that
  none is present, so an import container cannot leave the terminal laden.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from portchain.kernel.module import StateReader

RELEASE_KINDS: tuple[str, ...] = ("customs", "carrier", "charges")
"""What a laden import container needs before gate-out: customs release, the carrier's
commercial release, and the terminal's charges paid (DOMAIN.md, the flow, step 9)."""


class VesselCall(Protocol):
    @property
    def call_id(self) -> str: ...
    @property
    def vessel_imo(self) -> str: ...
    @property
    def vessel_name(self) -> str: ...
    @property
    def carrier(self) -> str: ...
    @property
    def port(self) -> str: ...
    @property
    def terminal(self) -> str: ...
    @property
    def status(self) -> str: ...


class Booking(Protocol):
    @property
    def reference(self) -> str: ...
    @property
    def carrier(self) -> str: ...
    @property
    def shipper(self) -> str: ...
    @property
    def forwarder(self) -> str | None: ...
    @property
    def consignee(self) -> str | None: ...


class Container(Protocol):
    @property
    def number(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def booking(self) -> str | None: ...


class Logistics(Protocol):
    """The logistics module's read functions (``portchain.modules.logistics.provides``)."""

    def vessel_call(self, reader: StateReader, call_id: str, /) -> VesselCall | None: ...

    def booking(self, reader: StateReader, reference: str, /) -> Booking | None: ...

    def container(self, reader: StateReader, number: str, /) -> Container | None: ...


class Organisation(Protocol):
    @property
    def country(self) -> str: ...
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...


class Organisations(Protocol):
    """Membership's store: ``get_org(reader, org_id)``."""

    def get_org(self, reader: StateReader, org_id: str, /) -> Organisation | None: ...


class Releases(Protocol):
    """Which releases a container has for leaving the terminal it is at."""

    def present(self, reader: StateReader, container_number: str, /) -> frozenset[str]:
        """The kinds present, a subset of :data:`RELEASE_KINDS`."""
        ...
