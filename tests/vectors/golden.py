"""The golden vector: a fixed genesis and fixed transactions, and the app hashes they give.

Run as a script it prints the chain's app hashes as JSON; golden.json beside it
holds the expected values. Any change to encoding, hashing, state layout or a
handler's writes changes these hashes and fails tests/unit/test_golden.py: a
change that is meant must update golden.json in the same commit, and say why.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support import STEWARDS, Chain, apply_body, seeded_key


def build(path: Path) -> dict[str, object]:
    chain = Chain(path)
    hashes = {"0": chain.app_hash.hex()}
    insurer = seeded_key("DELTA-MARINE")
    clerk = seeded_key("clerk")
    steps = [
        [chain.sign(insurer, "membership.apply", apply_body("DELTA-MARINE", insurer, ["insurer"]))],
        [chain.sign(s, "membership.vote", {"proposal_id": 1, "vote": "yes"}) for s in STEWARDS[:4]],
        [
            chain.sign(
                insurer,
                "membership.register_key",
                {"public_key": clerk.public_key.hex(), "roles": ["insurer"], "label": "clerk"},
            ),
            chain.sign(
                "BRIGHTWAVE",
                "membership.register_key",
                {"public_key": "ee" * 32, "roles": ["bank"]},
            ),  # fails: role not held
            chain.sign(
                "HOLLANDHOME",
                "membership.propose",
                {"kind": "set_roles", "org_id": "HOLLANDHOME", "roles": ["consignee", "shipper"]},
            ),
        ],
        [
            chain.sign(
                clerk,
                "membership.rotate_key",
                {"key_id": clerk.key_id, "public_key": seeded_key("clerk-2").public_key.hex()},
            ),
            chain.sign("SHEKOU-PORT", "membership.vote", {"proposal_id": 2, "vote": "no"}),
        ],
        [chain.sign("RTM-PORT", "membership.vote", {"proposal_id": 2, "vote": "no"})],
    ]
    results = []
    for txs in steps:
        result = chain.block(*txs)
        hashes[str(chain.height)] = result.app_hash.hex()
        results.append([[r.codespace, r.code] for r in result.tx_results])
    chain.close()
    return {"app_hashes": hashes, "results": results}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(build(Path(tmp)), indent=2, sort_keys=True))
