"""Random sequences of eBL actions by random parties, some in the same block: there is always
exactly one holder, the chain of possession is unbroken, and every refused action changed
nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebl_world import BANK, CARRIER, IMPORTER, SHIPPER, Shipment, new_shipment
from port_world import container_number, ok
from portchain.kernel.access import Viewer
from portchain.modules.ebl import queries

PARTIES = (CARRIER, SHIPPER, BANK, IMPORTER, "SZTRADEBANK", "OTHERSHIP")
VERBS = (
    "transfer",
    "endorse",
    "endorse_to_order",
    "blank_endorse",
    "sign",
    "surrender_delivery",
    "surrender_amendment",
    "accept",
    "reject",
    "accomplish",
    "void",
)
FITTING = {
    "PENDING_SURRENDER_FOR_DELIVERY": ("accept", "reject"),
    "PENDING_SURRENDER_FOR_AMENDMENT": ("accept", "reject"),
    "SURRENDERED_FOR_DELIVERY": ("accomplish",),
    "SURRENDERED_FOR_AMENDMENT": ("void",),
}
"""Verbs that fit a status, drawn half the time (the other half, any verb)."""
POSSESSION_MOVES = {
    "ISSUE",
    "TRANSFER",
    "SURRENDER_FOR_DELIVERY",
    "SURRENDER_FOR_AMENDMENT",
    "SURRENDER_REJECTED",
}
_refs = itertools.count(1)
SEEN: set[str] = set()
"""verb:status of every action that succeeded, across the examples."""


def likely(*orgs: str | None) -> st.SearchStrategy[str]:
    """Mostly one of ``orgs`` (the party the bill's state favours), sometimes anyone."""
    named = [org for org in orgs if org]
    return (
        st.one_of(st.sampled_from(named), st.sampled_from(PARTIES))
        if named
        else st.sampled_from(PARTIES)
    )


def body(reference: str, verb: str, to: str, deliver: bool) -> tuple[str, dict[str, Any]]:
    base: dict[str, Any] = {"reference": reference}
    if verb == "transfer":
        return "ebl.transfer", {**base, "to": to}
    if verb in ("endorse", "endorse_to_order"):
        return f"ebl.{verb}", {**base, "to": to, "deliver": deliver}
    if verb.startswith("surrender_"):
        return "ebl.surrender", {**base, "purpose": verb.removeprefix("surrender_")}
    if verb in ("accept", "reject"):
        return "ebl.answer_surrender", {**base, "accept": verb == "accept", "reason": "checked"}
    if verb == "void":
        return "ebl.void", {**base, "reason": "amended"}
    return f"ebl.{verb}", base


def new_bill(s: Shipment, form: str) -> str:
    """A fresh booking, container, LOAD and issued bill (one per example)."""
    booking = s.world.booking(call_id=s.call)
    number = container_number()
    s.world.container(number, booking)
    ok(
        s.world.move(
            "SHEKOU-CT", "gate_in", container=number, terminal="CNSHK-SCT", empty_indicator="LADEN"
        )
    )
    ok(
        s.world.move(
            "SHEKOU-CT",
            "load",
            container=number,
            terminal="CNSHK-SCT",
            empty_indicator="LADEN",
            call_id=s.call,
        )
    )
    reference = f"PROP{next(_refs):06d}"
    extra = {"consignee": IMPORTER} if form == "STRAIGHT" else {}
    body_ = {
        **s.draft_body(reference, form=form, **extra),
        "booking": booking,
        "containers": [number],
    }
    ok(s.chain.run(CARRIER, "ebl.draft", body_))
    ok(s.run(SHIPPER, "approve", reference=reference, version=1))
    ok(s.run(CARRIER, "issue", reference=reference))
    return reference


def check_chain(bill: dict[str, Any]) -> None:
    """Replay the chain: each step is taken by whoever held the bill, and possession ends
    with the recorded holder."""
    chain = bill["chain"]
    assert chain[0]["action"] == "ISSUE" and chain[0]["actor"] == bill["carrier"]
    possessor = chain[0]["recipient"]
    for entry in chain[1:]:
        assert entry["actor"] == possessor, (entry, possessor)
        if entry["action"] in POSSESSION_MOVES:
            assert entry["recipient"] and entry["recipient"] != possessor
            possessor = entry["recipient"]
    assert possessor == bill["holder"]


def entries_made(verb: str, deliver: bool) -> int:
    if verb in ("endorse", "endorse_to_order"):
        return 2 if deliver else 1
    return 0 if verb in ("accomplish", "void") else 1


def test_random_actions_keep_one_holder_an_unbroken_chain_and_refusals_inert(
    tmp_path: Path,
) -> None:
    s = new_shipment(tmp_path, count=1)
    keys = {org: s.chain.key(org).key_id for org in PARTIES}

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(form=st.sampled_from(("TO_ORDER", "STRAIGHT", "BLANK")), data=st.data())
    def run(form: str, data: st.DataObject) -> None:
        reference = new_bill(s, form)
        key = f"ebl/doc/{reference}"
        for _ in range(data.draw(st.integers(1, 16), label="blocks")):
            before = s.chain.storage.writer.get(key)
            assert before is not None
            now = json.loads(before)
            block = data.draw(
                st.lists(
                    st.tuples(
                        likely(now["holder"]),
                        st.one_of(
                            st.sampled_from(FITTING.get(now["status"], VERBS)),
                            st.sampled_from(VERBS),
                        ),
                        likely(now["endorsee"], now["consignee"]),
                        st.booleans(),
                    ),
                    min_size=1,
                    max_size=3,
                ),
                label="block",
            )
            raws = []
            for who, verb, to, deliver in block:
                name, tx_body = body(reference, verb, to, deliver)
                raws.append(s.chain.sign(who, name, tx_body))
            results = s.chain.block(*raws).tx_results
            for key_id in keys.values():  # a refusal before the handler uses no sequence
                s.chain.seqs[key_id] = s.chain.app.next_sequence(key_id)
            after = s.chain.storage.writer.get(key)
            assert after is not None
            bill = json.loads(after)
            old = json.loads(before)
            succeeded = [(a, r) for a, r in zip(block, results, strict=True) if r.ok]
            SEEN.update(f"{a[1]}:{bill['status']}" for a, _ in succeeded)
            if not succeeded:
                assert after == before  # refused actions changed nothing
            if old["status"] in ("ACCOMPLISHED", "VOIDED"):
                assert after == before and not succeeded
            for _, result in succeeded:
                assert [e.get("reference") for e in result.events] == [reference]
            grown = sum(entries_made(a[1], a[3]) for a, _ in succeeded)
            assert len(bill["chain"]) == len(old["chain"]) + grown
            assert bill["chain"][: len(old["chain"])] == old["chain"]  # history is never rewritten
            if bill["status"] != "VOIDED":
                assert bill["holder"] in PARTIES  # exactly one holder, always
            check_chain(bill)
            reader = s.chain.storage.reader()
            for entry in bill["chain"]:  # everyone who held it can still see it
                for org in (entry["actor"], entry["recipient"]):
                    if org:
                        assert queries.bill(reader, Viewer(org, "", frozenset()), reference)

    run()
    # The generator did exercise the bill's life, not only refusals.
    assert {"transfer", "endorse_to_order", "surrender_delivery", "accept", "reject"} <= {
        seen.partition(":")[0] for seen in SEEN
    }, sorted(SEEN)
    s.chain.close()
