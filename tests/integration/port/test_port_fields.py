"""The port module's field rules, checked statelessly: ISO 6346, UN/LOCODE, terminal ids."""

from __future__ import annotations

from typing import Any

import pytest

from portchain.kernel.errors import InvalidError
from portchain.kernel.module import parse_message
from portchain.modules.port import messages

GOOD_MOVE = {"container": "CSQU3054383", "terminal": "CNSHK-SCT", "empty_indicator": "LADEN"}


@pytest.mark.parametrize("number", ["CSQU3054383", "MSKU9070323", "TGHU1234567", "ABCJ0000004"])
def test_real_container_numbers_pass(number: str) -> None:
    parsed = parse_message(messages.Inspect, {**GOOD_MOVE, "container": number})
    assert parsed.container == number  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("CSQU3054384", "check digit of ISO 6346 number CSQU3054384 must be 3"),
        ("MSKU9070324", "must be 3"),
        ("CSQX3054383", "category U, J or Z"),
        ("CS1U3054383", "3-letter owner code"),
        ("csqu3054383", "3-letter owner code"),
        ("CSQU305438", "ISO 6346"),
        ("CSQU30543833", "ISO 6346"),
        ("CSQU30543A3", "6-digit serial"),
    ],
)
def test_corrupted_container_numbers_are_refused_naming_the_rule(number: str, rule: str) -> None:
    with pytest.raises(InvalidError) as refused:
        parse_message(messages.Inspect, {**GOOD_MOVE, "container": number})
    assert refused.value.field == "body.container"
    assert rule in refused.value.message


def test_the_check_digit_follows_iso_6346_letter_values() -> None:
    # A=10, B=12 (11 skipped), ..., worked by hand for CSQU305438: C13 S30 Q28 U32 3 0 5 4 3 8
    values = [13, 30, 28, 32, 3, 0, 5, 4, 3, 8]
    assert sum(v * 2**i for i, v in enumerate(values)) % 11 % 10 == 3
    assert messages.iso6346_check_digit("CSQU305438") == 3


@pytest.mark.parametrize("terminal", ["CNSHK-SCT", "NLRTM-DDT", "NLRTM-ECTD1", "USLAX-AB"])
def test_terminal_ids_are_locode_dash_facility(terminal: str) -> None:
    parse_message(messages.Inspect, {**GOOD_MOVE, "terminal": terminal})


@pytest.mark.parametrize(
    "terminal",
    [
        "CNSHK",
        "CNSHK-",
        "CNSHK-S",
        "CNSHK-SCTSCTS",
        "XXSHK-SCT",
        "CNSH1-SCT",
        "cnshk-sct",
        "CNSHK-S.T",
    ],
)
def test_bad_terminal_ids_are_refused(terminal: str) -> None:
    with pytest.raises(InvalidError) as refused:
        parse_message(messages.Inspect, {**GOOD_MOVE, "terminal": terminal})
    assert refused.value.field == "body.terminal"
    assert "UN/LOCODE" in refused.value.message


@pytest.mark.parametrize(
    ("place", "ok"),
    [("NLRTM", True), ("CNSHK", True), ("DEHAM", True), ("NLRT1", False), ("ZZRTM", False)],
)
def test_inland_places_are_un_locodes(place: str, ok: bool) -> None:
    body: dict[str, Any] = {"container": "CSQU3054383", "place": place, "empty_indicator": "EMPTY"}
    if ok:
        parse_message(messages.InlandMove, body)
        return
    with pytest.raises(InvalidError) as refused:
        parse_message(messages.InlandMove, body)
    assert refused.value.field == "body.place"
