"""What the documents module reads from other modules: membership's organisation records."""

from __future__ import annotations

from typing import Protocol

from portchain.kernel.module import StateReader


class Organisation(Protocol):
    @property
    def status(self) -> str: ...


class Organisations(Protocol):
    def __call__(self, reader: StateReader, org_id: str, /) -> Organisation | None: ...
