"""Documents state transitions. Nothing here encrypts: the issuer's client sealed the
document (sealing.py); a handler checks the ciphertext's hash and records who may read it."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.documents import errors, events, messages, store
from portchain.modules.documents.interfaces import Organisations
from portchain.modules.documents.store import Document, GrantRecord


def _active(organisations: Organisations, state: State, org: str) -> bool:
    record = organisations(state, org)
    return record is not None and record.status == "active"


def apply_anchor(
    organisations: Organisations, state: State, env: BlockEnv, ctx: Context, msg: messages.Anchor
) -> list[Event]:
    if store.get_document(state, msg.doc_id) is not None:
        raise errors.DocumentExists(f"document {msg.doc_id} exists", field="body.doc_id")
    if hashlib.sha256(msg.ciphertext_bytes()).hexdigest() != msg.ciphertext_sha256:
        raise errors.HashMismatch(
            "the ciphertext's SHA-256 is not ciphertext_sha256", field="body.ciphertext_sha256"
        )
    for org in sorted(msg.grants):
        if not _active(organisations, state, org):
            raise errors.NotAMember(f"{org} is not an active member", field=f"body.grants.{org}")
    document = Document(
        id=msg.doc_id,
        issuer=ctx.signer.org,
        doc_type=msg.doc_type,
        media_type=msg.media_type,
        size=msg.size,
        plaintext_sha256=msg.plaintext_sha256,
        ciphertext_sha256=msg.ciphertext_sha256,
        tx=ctx.tx_hash.hex(),
        anchored_ms=env.time_ms,
        grants=tuple(GrantRecord(org, msg.grants[org], env.time_ms) for org in sorted(msg.grants)),
    )
    store.put_document(state, document)
    if state.get(store.ANCHOR + msg.plaintext_sha256) is None:
        state.set(store.ANCHOR + msg.plaintext_sha256, msg.doc_id.encode())
    return [events.document_event(document, "anchored")]


def _issued(state: State, ctx: Context, doc_id: str) -> Document:
    document = store.get_document(state, doc_id)
    if document is None or ctx.signer.org not in document.audience_orgs():
        raise errors.DocumentNotFound(f"no document {doc_id}", field="body.doc_id")
    if document.issuer != ctx.signer.org:
        raise errors.NotTheIssuer(f"only {document.issuer} may do that", field="body.doc_id")
    return document


def apply_grant(
    organisations: Organisations, state: State, env: BlockEnv, ctx: Context, msg: messages.Grant
) -> list[Event]:
    document = _issued(state, ctx, msg.doc_id)
    if msg.org in document.readers or msg.org == document.issuer:
        raise errors.GrantExists(f"{msg.org} can already read it", field="body.org")
    if not _active(organisations, state, msg.org):
        raise errors.NotAMember(f"{msg.org} is not an active member", field="body.org")
    if len(document.grants) >= 4 * messages.MAX_GRANTS:
        raise errors.GrantExists("a document keeps at most 80 grants", field="body.org")
    updated = replace(
        document, grants=(*document.grants, GrantRecord(msg.org, msg.sealed_key, env.time_ms))
    )
    store.put_document(state, updated)
    return [events.document_event(updated, "granted", msg.org)]


def apply_revoke_grant(
    organisations: Organisations,
    state: State,
    env: BlockEnv,
    ctx: Context,
    msg: messages.RevokeGrant,
) -> list[Event]:
    document = _issued(state, ctx, msg.doc_id)
    if msg.org not in document.readers:
        raise errors.GrantExists(f"{msg.org} holds no grant", field="body.org")
    grants = tuple(
        replace(g, revoked_ms=env.time_ms) if g.org == msg.org and not g.revoked_ms else g
        for g in document.grants
    )
    updated = replace(document, grants=grants)
    store.put_document(state, updated)
    state.delete(f"{store.PARTY}{msg.org}/{document.id}")
    # The event goes to who could read it before, the revoked organisation included.
    return [events.document_event(document, "grant_revoked", msg.org)]


def apply_supersede(
    organisations: Organisations, state: State, env: BlockEnv, ctx: Context, msg: messages.Supersede
) -> list[Event]:
    document = _issued(state, ctx, msg.doc_id)
    newer = store.get_document(state, msg.by)
    if newer is None or newer.issuer != document.issuer or newer.id == document.id:
        raise errors.DocumentNotFound(f"no newer document {msg.by} of yours", field="body.by")
    if document.superseded_by:
        raise errors.Superseded(f"superseded by {document.superseded_by}", field="body.doc_id")
    updated = replace(document, superseded_by=msg.by)
    store.put_document(state, updated)
    return [events.document_event(updated, "superseded")]
