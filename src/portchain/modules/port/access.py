"""Who may read what the port module stores (kernel/access.py).

| record | key | audience |
| --- | --- | --- |
| terminal | ``port/terminal/<id>`` | every member |
| berth window | ``port/berth/<terminal>/<call>`` | every member (ports publish berth schedules) |
| a move of a container | ``port/move/<number>/<n>`` | the audience of that move (below) |
| where a container is | ``port/box/<number>`` | the audience of its latest move |
| containers at a terminal | ``port/at/<terminal>/...``, gate records | the terminal's side |

The audience of a move is fixed when the move is made:

* the organisation that reported it;
* for a move at a terminal: the terminal organisation, the port operator that registered
  the terminal and the customs of the terminal's country (``customs@CN``);
* for a LOAD or DISC: the carrier of the vessel call;
* when the container is assigned to a booking at that moment: the booking's carrier,
  shipper, forwarder and consignee.

So a carrier and a booking's parties see the moves of their containers while the
container serves their booking, and not the moves of its earlier or later trips.
"""

from __future__ import annotations

from portchain.kernel.access import PUBLIC, Audience, audience, authority, parties
from portchain.kernel.module import QueryReader
from portchain.modules.port import store
from portchain.modules.port.store import Terminal


def terminal_side(terminal: Terminal) -> Audience:
    """The terminal organisation, its port operator and the customs of its country."""
    return audience(
        parties(terminal.org, terminal.operator), authority("customs", terminal.country)
    )


def state_audience(reader: QueryReader, key: str) -> Audience | None:
    """Who may read the raw state entry ``key``; None hides it."""
    if key.startswith((store.TERMINAL, store.BERTH, store.SCHEDULE)):
        return PUBLIC
    if key.startswith(store.MOVE):
        number, _, n = key[len(store.MOVE) :].partition("/")
        move = store.get_move(reader, number, int(n)) if n.isdigit() else None
        return None if move is None else move.audience
    if key.startswith(store.BOX):
        box = store.get_box(reader, key[len(store.BOX) :])
        return None if box is None else box.audience
    for prefix in (store.AT, store.GATE, store.GATES):
        if key.startswith(prefix):
            terminal = store.get_terminal(reader, key[len(prefix) :].partition("/")[0])
            return None if terminal is None else terminal_side(terminal)
    return None
