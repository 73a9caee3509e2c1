"""The demo's trade chapter: the exporter and the importer agree a sales contract.

Brightwave (seller, Shenzhen) drafts a contract with Holland Home Goods (buyer, Rotterdam):
two lines of household electronics, in US dollars, FOB Shekou, to Rotterdam, paid by letter
of credit; the buyer accepts. The contract's id goes to ``run.facts["contract"]`` for the
booking of the next chapter.
"""

from __future__ import annotations

from portchain.demo.scenario import Run


def chapter(run: Run) -> None:
    seller = run.home.load_key("BRIGHTWAVE").key
    contract_id = f"BW-HH-{run.gateway.next_sequence(seller.key_id):05d}"
    run.act(
        f"BRIGHTWAVE drafts sales contract {contract_id} with HOLLANDHOME",
        seller,
        "trade.draft",
        {
            "contract_id": contract_id,
            "seller": "BRIGHTWAVE",
            "buyer": "HOLLANDHOME",
            "lines": [
                {
                    "hs_code": "851660",
                    "description": "Electric ovens",
                    "quantity": 400,
                    "unit": "PCE",
                    "unit_price": 8_950,
                },
                {
                    "hs_code": "85163100",
                    "description": "Hair dryers",
                    "quantity": 1_200,
                    "unit": "PCE",
                    "unit_price": 1_275,
                },
            ],
            "currency": "USD",
            "incoterm": "FOB",
            "port_of_loading": "CNSHK",
            "port_of_discharge": "NLRTM",
            "latest_shipment_date": "2026-12-15",
            "payment_terms": "letter_of_credit",
        },
    )
    run.act(
        f"HOLLANDHOME accepts {contract_id}",
        run.home.load_key("HOLLANDHOME").key,
        "trade.accept",
        {"contract_id": contract_id},
    )
    run.facts["contract"] = contract_id
