"""The demo's logistics and port chapter: the container goes from Shekou to Rotterdam.

Shekou's and Rotterdam's port operators register their terminals; the carrier registers its
vessel and schedules a call at each; the exporter books with the carrier (linked to the
sales contract when the trade chapter made one) and the carrier confirms; the carrier
registers a container and assigns it; the Shekou terminal gates it in laden and loads it;
the vessel departs. :func:`arrival` (the arrival chapter) has it arrive at Rotterdam, where
the terminal discharges it. Each run books a new container, so the demo can run again on
the same network.
"""

from __future__ import annotations

from portchain.demo.scenario import Run
from portchain.kernel.identifiers import iso6346_check_digit

VESSEL = "9321483"
"""IMO number of the demo's vessel (check digit 3)."""

DAY_MS = 86_400_000


def chapter(run: Run) -> None:
    home = run.home
    carrier = home.load_key("MERIDIAN").key
    run_no = run.gateway.next_sequence(carrier.key_id)  # unique per run on this network
    terminals = {"CNSHK-SCT": ("SHEKOU-PORT", "SHEKOU-CT"), "NLRTM-DDT": ("RTM-PORT", "RTM-DELTA")}
    for terminal, (operator, org) in terminals.items():
        run.ensure(
            f"{operator} registers terminal {terminal}, run by {org}",
            home.load_key(operator).key,
            "port.register_terminal",
            {"terminal_id": terminal, "name": f"{org} terminal", "org": org},
            ("port", 2),
        )
    run.ensure(
        "MERIDIAN registers its vessel Meridian Star",
        carrier,
        "logistics.register_vessel",
        {"imo": VESSEL, "name": "Meridian Star", "flag": "SG"},
        ("logistics", 1),
    )
    start = 1_800_000_000_000 + run_no * 7 * DAY_MS
    calls = {}
    for n, terminal in enumerate(terminals):
        call_id = f"MS-{run_no:04d}-{terminal[:5]}"
        run.act(
            f"MERIDIAN schedules call {call_id} at {terminal}",
            carrier,
            "logistics.schedule_call",
            {
                "call_id": call_id,
                "imo": VESSEL,
                "terminal": terminal,
                "voyage": f"{run_no:03d}W",
                "planned_arrival_ms": start + n * 30 * DAY_MS,
                "planned_departure_ms": start + n * 30 * DAY_MS + DAY_MS,
            },
        )
        calls[terminal[:5]] = call_id
    reference = f"MRD-{run_no:06d}"
    booking = {
        "reference": reference,
        "carrier": "MERIDIAN",
        "shipper": "BRIGHTWAVE",
        "consignee": "HOLLANDHOME",
        "vessel_call": calls["CNSHK"],
        "port_of_loading": "CNSHK",
        "port_of_discharge": "NLRTM",
        "equipment": [{"size_type": "45G1", "count": 1}],
    }
    if "contract" in run.facts:
        booking["contract"] = run.facts["contract"]
    shipper = home.load_key("BRIGHTWAVE").key
    run.act(
        f"BRIGHTWAVE requests booking {reference}", shipper, "logistics.request_booking", booking
    )
    run.act(
        f"MERIDIAN confirms booking {reference}",
        carrier,
        "logistics.confirm",
        {"reference": reference},
    )
    serial = f"MRDU{run_no:06d}"
    number = serial + str(iso6346_check_digit(serial))
    run.act(
        f"MERIDIAN registers container {number}",
        carrier,
        "logistics.register_container",
        {"number": number, "size_type": "45G1"},
    )
    run.act(
        f"MERIDIAN assigns {number} to {reference}",
        carrier,
        "logistics.assign_container",
        {"number": number, "reference": reference},
    )
    run.act(
        f"BRIGHTWAVE seals {number}",
        shipper,
        "logistics.add_seal",
        {"number": number, "seal": f"BW{run_no:06d}", "source": "SHIPPER"},
    )
    shekou = home.load_key("SHEKOU-CT").key

    def transport(call_id: str, event: str, at: int) -> None:
        run.act(
            f"MERIDIAN reports {event} ACT at {call_id}",
            carrier,
            "logistics.report_transport",
            {"call_id": call_id, "event": event, "classifier": "ACT", "time_ms": at},
        )

    at_shekou = {"container": number, "terminal": "CNSHK-SCT", "empty_indicator": "LADEN"}
    run.act(f"SHEKOU-CT gates {number} in", shekou, "port.gate_in", at_shekou)
    transport(calls["CNSHK"], "ARRI", start)
    run.act(
        f"SHEKOU-CT loads {number} onto {calls['CNSHK']}",
        shekou,
        "port.load",
        {**at_shekou, "call_id": calls["CNSHK"]},
    )
    transport(calls["CNSHK"], "DEPA", start + DAY_MS)
    run.facts.update(
        booking=reference,
        container=number,
        calls=calls,
        terminals=sorted(terminals),
        voyage_start_ms=start,
    )


def arrival(run: Run) -> None:
    """The vessel arrives at Rotterdam and the terminal discharges the container (the
    ``arrival`` chapter, after the bill of lading has changed hands at sea)."""
    carrier, rotterdam = run.home.load_key("MERIDIAN").key, run.home.load_key("RTM-DELTA").key
    call_id, number = run.facts["calls"]["NLRTM"], run.facts["container"]
    run.act(
        f"MERIDIAN reports ARRI ACT at {call_id}",
        carrier,
        "logistics.report_transport",
        {
            "call_id": call_id,
            "event": "ARRI",
            "classifier": "ACT",
            "time_ms": run.facts["voyage_start_ms"] + 30 * DAY_MS,
        },
    )
    run.act(
        f"RTM-DELTA discharges {number} from {call_id}",
        rotterdam,
        "port.discharge",
        {
            "container": number,
            "terminal": "NLRTM-DDT",
            "empty_indicator": "LADEN",
            "call_id": call_id,
        },
    )
