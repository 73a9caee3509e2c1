"""Who may read what: every record and event has an audience of principals.

A module declares, for each record type it stores, the audience that may read
it (DESIGN.md invariant 10), in its own ``access.py``, and stamps the same
audience on the events it emits. The API checks it on every read, list, search
and event; a record outside the caller's view is answered as if it did not
exist.

A principal is one of::

    members            every member organisation (public data: members, headers)
    org:<ORG-ID>       one organisation: a party named on the record
    <role>@<CC>        every organisation holding ``role`` in country ``CC``:
                       the authority of a jurisdiction (``customs@NL``, ``tax_authority@CN``)

A viewer holds ``members``, its own ``org:`` principal and one ``role@country``
principal per role its organisation holds. Audiences are sorted tuples so they
encode canonically and hash the same on every node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Audience = tuple[str, ...]

MEMBERS = "members"
"""Every member organisation may read it."""

PUBLIC: Audience = (MEMBERS,)


def party(org_id: str) -> str:
    """The principal of one organisation named on a record."""
    return f"org:{org_id}"


def authority(role: str, country: str) -> str:
    """The principal of every organisation holding ``role`` in ``country`` (ISO 3166 alpha-2)."""
    return f"{role}@{country}"


def audience(*principals: str | Iterable[str]) -> Audience:
    """A canonical audience (sorted, without duplicates) from principals or iterables of them."""
    out: set[str] = set()
    for item in principals:
        if isinstance(item, str):
            out.add(item)
        else:
            out.update(item)
    return tuple(sorted(out))


def parties(*org_ids: str | None) -> Audience:
    """The audience of the organisations named (``None`` entries are skipped)."""
    return audience(party(org) for org in org_ids if org)


@dataclass(frozen=True, slots=True)
class Viewer:
    """An organisation reading the ledger, through one of its keys."""

    org: str
    country: str
    roles: frozenset[str]
    key_id: str = ""

    @property
    def principals(self) -> frozenset[str]:
        return frozenset(
            {MEMBERS, party(self.org), *(authority(role, self.country) for role in self.roles)}
        )

    def may_read(self, record_audience: Iterable[str]) -> bool:
        """True when the viewer holds at least one principal of the audience."""
        principals = self.principals
        return any(p in principals for p in record_audience)
