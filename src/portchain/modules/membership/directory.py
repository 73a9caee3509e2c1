"""How the app learns who signed a transaction: membership's answer to SignerDirectory."""

from __future__ import annotations

from portchain.kernel.module import Signer, StateReader
from portchain.modules.membership import store


class MembershipDirectory:
    """Resolves key ids to signers from the key and organisation records.

    Every transaction needs its signer resolved, twice (mempool and block), so
    resolved signers are remembered together with the exact record bytes they
    came from; a changed record is a cache miss, so the cache cannot go stale.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[bytes, bytes | None, Signer]] = {}

    def signer(self, state: StateReader, key_id: str) -> Signer | None:
        key_raw = state.get(store.KEY + key_id)
        if key_raw is None:
            return None
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] == key_raw:
            org_raw = state.get(store.ORG + cached[2].org)
            if org_raw == cached[1]:
                return cached[2]
        signer = self._resolve(state, key_id)
        if signer is not None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key_id] = (key_raw, state.get(store.ORG + signer.org), signer)
        return signer

    def _resolve(self, state: StateReader, key_id: str) -> Signer | None:
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
