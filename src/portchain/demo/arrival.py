"""The demo's arrival chapter: at Rotterdam the container is discharged, Dutch customs is
granted the certificate of origin, and the importer surrenders the bill of lading."""

from __future__ import annotations

from portchain.demo import documents, ebl, port
from portchain.demo.scenario import Run


def chapter(run: Run) -> None:
    port.arrival(run)
    documents.late_grant(run)
    ebl.surrender(run)
