"""Documents: a document's record and ciphertext for its issuer and grantees (others 404),
and whether a file is anchored, from its SHA-256 alone, for any member."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from portchain.api.auth import ViewerDep
from portchain.api.deps import NodeDep
from portchain.api.errors import NotFound
from portchain.modules.documents import queries

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

DocId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


@router.get("/anchors/{sha256}", summary="Is a file anchored: by whom, when, superseded?")
def anchor(
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], viewer: ViewerDep, node: NodeDep
) -> dict[str, Any]:
    found = queries.anchored(node.storage.reader(), sha256)
    if found is None:
        raise NotFound(f"an anchor of {sha256}")
    return found


@router.get("/{doc_id}", summary="A document's record, with the caller's own sealed key")
def document(doc_id: DocId, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.document(node.storage.reader(), viewer, doc_id)
    if found is None:
        raise NotFound(f"document {doc_id}")
    return found


@router.get(
    "/{doc_id}/content",
    summary="The document's ciphertext (open it with the caller's sealed key)",
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
)
def content(doc_id: DocId, viewer: ViewerDep, node: NodeDep) -> Response:
    """From the node's blob store; a blob missing there is rebuilt from the anchoring
    transaction, which every node holds."""
    reader = node.storage.reader()
    record = queries.document(reader, viewer, doc_id)
    if record is None:
        raise NotFound(f"document {doc_id}")
    blob = node.blobs.ciphertext(reader, viewer, record)
    if blob is None:
        raise NotFound(f"document {doc_id}")
    return Response(blob, media_type="application/octet-stream")
