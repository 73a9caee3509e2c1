"""The demo scenario, run through a node like any client would.

Today it shows governance and keys: a marine insurer in Rotterdam applies to
join, the stewards vote it in, it registers an underwriter's key, the
underwriter rotates that key, and the exporter and the carrier register user
keys for their staff. Every step must commit; the first that does not stops
the demo with its error. Later modules append their steps here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portchain.kernel.crypto import EncryptionKey, SigningKey
from portchain.node.gateway import Gateway, send
from portchain.node.home import Home

STEWARD_VOTERS = ("SHEKOU-PORT", "RTM-PORT", "MERIDIAN", "CN-CUSTOMS")
"""Four of the five demo stewards: more than two thirds."""


class StepFailed(Exception):
    def __init__(self, step: str, outcome: dict[str, Any]) -> None:
        self.step = step
        self.outcome = outcome
        error = outcome.get("error") or {}
        super().__init__(f"{step}: {outcome.get('status')} {error.get('message', '')}".strip())


@dataclass
class Run:
    home: Home
    gateway: Gateway
    report: Callable[[str, dict[str, Any]], None]
    steps: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    """What one chapter leaves for the next (the contract's id, the booking's reference...)."""

    def act(self, title: str, key: SigningKey, action: str, body: dict[str, Any]) -> dict[str, Any]:
        outcome = send(self.gateway, key, action, body)
        entry = {"step": title, "action": action, **outcome}
        self.steps.append(entry)
        self.report(title, outcome)
        if outcome.get("status") != "committed":
            raise StepFailed(title, outcome)
        return outcome

    def ensure(
        self,
        title: str,
        key: SigningKey,
        action: str,
        body: dict[str, Any],
        exists: tuple[str, int],
    ) -> dict[str, Any]:
        """:meth:`act` for a record made once per network (a terminal, a vessel): on a later
        run the ledger answers ``exists`` (codespace, code), and the demo goes on."""
        outcome = send(self.gateway, key, action, body)
        error = outcome.get("error") or {}
        if (error.get("codespace"), error.get("code")) == exists:
            self.report(f"{title} (already done)", outcome)
            return outcome
        self.steps.append({"step": title, "action": action, **outcome})
        self.report(title, outcome)
        if outcome.get("status") != "committed":
            raise StepFailed(title, outcome)
        return outcome


def _free_name(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-2``, ``base-3``... so the demo can run again on the same home."""
    name, n = base, 1
    while taken(name):
        n += 1
        name = f"{base}-{n}"
    return name


def _event_attr(outcome: dict[str, Any], event_type: str, name: str) -> Any:
    for event in outcome.get("events", []):
        if event["type"] == event_type:
            return event["attributes"][name]
    raise StepFailed(f"find {event_type}", outcome)


def run_scenario(
    home: Home, gateway: Gateway, report: Callable[[str, dict[str, Any]], None]
) -> Run:
    run = Run(home, gateway, report)
    governance(run)
    for name in CHAPTERS:
        chapter: Chapter = importlib.import_module(f"portchain.demo.{name}").chapter
        chapter(run)
    return run


Chapter = Callable[[Run], None]

CHAPTERS: tuple[str, ...] = ("trade", "port", "documents", "ebl", "arrival")
"""The trade's chapters after governance, in order: ``portchain/demo/<name>.py`` defines
``chapter(run)`` (the contract, the booking and the moves, the documents, the bill of
lading...) and reads what earlier chapters left in ``run.facts``."""


def governance(run: Run) -> None:
    home = run.home
    insurer = _free_name("DELTA-MARINE", lambda name: (home.keys_dir / name).exists())
    admin = home.new_key(insurer)
    encryption: EncryptionKey = home.new_encryption_key(insurer)
    applied = run.act(
        f"{insurer} applies to join as an insurer",
        admin.key,
        "membership.apply",
        {
            "org_id": insurer,
            "name": "Delta Marine Insurance N.V.",
            "country": "NL",
            "roles": ["insurer"],
            "public_key": admin.key.public_key.hex(),
            "encryption_key": encryption.public_key.hex(),
        },
    )
    proposal = _event_attr(applied, "membership.org_applied", "proposal")
    for steward in STEWARD_VOTERS:
        run.act(
            f"{steward} votes yes on admitting {insurer}",
            home.load_key(steward).key,
            "membership.vote",
            {"proposal_id": proposal, "vote": "yes"},
        )
    underwriter = home.new_key(insurer, "underwriter")
    run.act(
        f"{insurer} registers an underwriter key",
        admin.key,
        "membership.register_key",
        {
            "public_key": underwriter.key.public_key.hex(),
            "roles": ["insurer"],
            "label": "underwriter",
        },
    )
    rotated = SigningKey.generate()
    run.act(
        "the underwriter rotates its own key",
        underwriter.key,
        "membership.rotate_key",
        {"key_id": underwriter.key_id, "public_key": rotated.public_key.hex()},
    )
    home.replace_key(f"{insurer}/underwriter", rotated)
    for org, user, role in (("BRIGHTWAVE", "clerk", "shipper"), ("MERIDIAN", "ops", "carrier")):

        def taken(name: str, org: str = org) -> bool:
            return home.key_path(org, name).exists()

        name = _free_name(user, taken)
        staff = home.new_key(org, name)
        run.act(
            f"{org} registers a key for its {user}",
            home.load_key(org).key,
            "membership.register_key",
            {"public_key": staff.key.public_key.hex(), "roles": [role], "label": name},
        )
