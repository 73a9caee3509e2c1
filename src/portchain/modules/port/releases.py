"""The release provider used until the release module exists.

Releases (customs, the carrier's commercial release, terminal charges) are built
in a later issue. Until then nothing on the ledger can grant one, and this
provider says so: no container has any release. A laden import container is
therefore refused at the gate-out, naming all three releases it lacks; export
and empty moves do not need a release and work.
"""

from __future__ import annotations

from portchain.kernel.module import StateReader


class NoReleases:
    """No release is ever present: the honest answer while no module grants releases."""

    def present(self, reader: StateReader, container_number: str, /) -> frozenset[str]:
        return frozenset()
