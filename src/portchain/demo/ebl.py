"""The demo's bill of lading chapter: title to the cargo changes hands while it is at sea.

Once the container is loaded, MERIDIAN drafts a to-order bill of lading (to the order of the
shipper, notify the importer) for the booking, BRIGHTWAVE approves it and MERIDIAN issues it
to BRIGHTWAVE. BRIGHTWAVE endorses it to the order of the buyer's bank, HOLLANDBANK, which
endorses it to the order of the importer, HOLLANDHOME. :func:`surrender` (in the arrival
chapter) has the importer surrender it at Rotterdam and the carrier accept.
"""

from __future__ import annotations

from portchain.demo.scenario import Run

CARRIER, SHIPPER, BANK, IMPORTER = "MERIDIAN", "BRIGHTWAVE", "HOLLANDBANK", "HOLLANDHOME"


def chapter(run: Run) -> None:
    key = run.home.load_key
    reference = "MEBL-" + run.facts["booking"].rpartition("-")[2]
    run.act(
        f"{CARRIER} drafts to-order bill of lading {reference}",
        key(CARRIER).key,
        "ebl.draft",
        {
            "reference": reference,
            "booking": run.facts["booking"],
            "form": "TO_ORDER",
            "notify_party": IMPORTER,
            "containers": [run.facts["container"]],
            "cargo_description": "LED panels, 2,400 cartons",
            "packages": 2400,
            "gross_weight_kg": 18_400,
        },
    )
    run.act(
        f"{SHIPPER} approves the draft",
        key(SHIPPER).key,
        "ebl.approve",
        {"reference": reference, "version": 1},
    )
    run.act(
        f"{CARRIER} issues {reference} to {SHIPPER}, shipped on board",
        key(CARRIER).key,
        "ebl.issue",
        {"reference": reference},
    )
    for holder, to in ((SHIPPER, BANK), (BANK, IMPORTER)):
        run.act(
            f"{holder} endorses {reference} to the order of {to}",
            key(holder).key,
            "ebl.endorse_to_order",
            {"reference": reference, "to": to},
        )
    run.facts["ebl"] = reference


def surrender(run: Run) -> None:
    reference = run.facts["ebl"]
    run.act(
        f"{IMPORTER} surrenders {reference} for delivery at Rotterdam",
        run.home.load_key(IMPORTER).key,
        "ebl.surrender",
        {"reference": reference, "purpose": "delivery"},
    )
    run.act(
        f"{CARRIER} accepts the surrender of {reference}",
        run.home.load_key(CARRIER).key,
        "ebl.answer_surrender",
        {"reference": reference, "accept": True},
    )
