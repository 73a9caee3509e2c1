"""Events of the documents module: to the issuer and the organisations granted the document."""

from __future__ import annotations

from portchain.kernel.events import Event, index_by
from portchain.modules.documents.store import Document

index_by("document")


def document_event(document: Document, what: str, org: str = "") -> Event:
    """``what``: anchored, granted, grant_revoked, superseded."""
    return Event.to(
        document.audience,
        f"documents.{what}",
        document=document.id,
        issuer=document.issuer,
        doc_type=document.doc_type,
        org=org or None,
        superseded_by=document.superseded_by or None,
    )
