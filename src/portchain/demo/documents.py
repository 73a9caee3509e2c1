"""The demo's documents chapter: the exporter shares its commercial documents.

BRIGHTWAVE seals its commercial invoice, packing list and certificate of origin, each under
a fresh key, to itself, both banks and the importer (their encryption keys as the ledger
publishes them), and anchors them. :func:`late_grant` (in the arrival chapter) grants the
certificate of origin to Dutch customs, which joined the story later and still reads it.
"""

from __future__ import annotations

import json

from portchain.demo.scenario import Run
from portchain.modules.documents.sealing import anchor_body, open_key, seal_key

ISSUER = "BRIGHTWAVE"
READERS = ("SZTRADEBANK", "HOLLANDBANK", "HOLLANDHOME")


def _public_keys(run: Run, *orgs: str) -> dict[str, bytes]:
    """The organisations' encryption keys as the network's genesis registered them (founding
    members; the same on every engine, where a node's database may live elsewhere)."""
    founders = run.home.genesis().app_state["membership"]["organisations"]
    known = {member["id"]: bytes.fromhex(member["encryption_key"]) for member in founders}
    missing = [org for org in orgs if org not in known]
    if missing:
        raise LookupError(f"no founding organisation {missing[0]}")
    return {org: known[org] for org in orgs}


def _papers(run: Run) -> dict[str, tuple[str, dict[str, object]]]:
    booking, container = run.facts["booking"], run.facts["container"]
    return {
        "commercial_invoice": (
            f"INV-{booking}",
            {
                "invoice": f"BW-INV-{booking}",
                "seller": "BRIGHTWAVE",
                "buyer": "HOLLANDHOME",
                "incoterm": "CIF Rotterdam",
                "lines": [{"hs": "940542", "description": "LED panels", "cartons": 2400}],
                "currency": "USD",
                "total_minor": 16_800_000,
            },
        ),
        "packing_list": (
            f"PL-{booking}",
            {"container": container, "cartons": 2400, "gross_kg": 18_400, "net_kg": 16_900},
        ),
        "certificate_of_origin": (
            f"COO-{booking}",
            {"origin": "CN", "exporter": "BRIGHTWAVE", "hs": "940542", "issued_by": "CCPIT"},
        ),
    }


def chapter(run: Run) -> None:
    issuer = run.home.load_key(ISSUER).key
    recipients = _public_keys(run, ISSUER, *READERS)
    anchored, own_seals = {}, {}
    for doc_type, (doc_id, content) in _papers(run).items():
        plaintext = json.dumps(content, sort_keys=True).encode()
        body = anchor_body(doc_id, doc_type, "application/json", plaintext, recipients)
        run.act(
            f"{ISSUER} anchors its {doc_type.replace('_', ' ')} {doc_id} for the banks and "
            "the importer",
            issuer,
            "documents.anchor",
            body,
        )
        anchored[doc_type] = doc_id
        own_seals[doc_id] = body["grants"][ISSUER]
    run.facts["documents"] = anchored
    run.facts["own_seals"] = own_seals


def late_grant(run: Run) -> None:
    """BRIGHTWAVE grants the certificate of origin to NL-CUSTOMS, sealing the document's key
    (which it opens from the seal it made for itself) to the customs' encryption key."""
    doc_id = run.facts["documents"]["certificate_of_origin"]
    content_key = open_key(run.facts["own_seals"][doc_id], run.home.load_encryption_key(ISSUER))
    run.act(
        f"{ISSUER} grants {doc_id} to NL-CUSTOMS, which sees it though it came later",
        run.home.load_key(ISSUER).key,
        "documents.grant",
        {
            "doc_id": doc_id,
            "org": "NL-CUSTOMS",
            "sealed_key": seal_key(content_key, _public_keys(run, "NL-CUSTOMS")["NL-CUSTOMS"]),
        },
    )
