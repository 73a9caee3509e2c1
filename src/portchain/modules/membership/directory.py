"""How the app learns who signed a transaction: membership's answer to SignerDirectory."""

from __future__ import annotations

from portchain.kernel.module import Signer, StateReader
from portchain.modules.membership import store


class MembershipDirectory:
    """Resolves key ids to signers from the key and organisation records."""

    def signer(self, state: StateReader, key_id: str) -> Signer | None:
        key = store.get_key(state, key_id)
        if key is None:
            return None
        org = store.get_org(state, key.org)
        org_active = org is not None and org.status == store.ACTIVE
        held = set(org.roles) if org is not None else set()
        return Signer(
            key_id=key.key_id,
            org=key.org,
            public_key=bytes.fromhex(key.public_key),
            roles=frozenset(role for role in key.roles if role in held),
            admin=key.admin,
            steward=org_active and org is not None and org.steward,
            active=key.status == store.KEY_ACTIVE and org_active,
        )

    def open_signer(self, key_id: str, public_key: bytes) -> Signer:
        return Signer(
            key_id=key_id,
            org="",
            public_key=public_key,
            roles=frozenset(),
            admin=False,
            steward=False,
            active=True,
            registered=False,
        )
