"""The block thread's cached reader answers exactly what the database holds: values cached,
absences answered from a key filter without a query, across blocks and a reopening."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel.crypto import SigningKey
from portchain.storage.sqlite import KeyFilter, Reader, Storage, _connect
from support import Chain


def test_the_key_filter_never_says_no_to_a_key_it_was_given() -> None:
    rng = random.Random(7)
    given_keys = [f"module/record/{rng.getrandbits(64):016x}" for _ in range(50_000)]
    key_filter = KeyFilter(len(given_keys))
    for key in given_keys:
        key_filter.add(key)
    assert all(key_filter.may_contain(key) for key in given_keys)
    others = [f"module/other/{n}" for n in range(20_000)]
    maybes = sum(key_filter.may_contain(key) for key in others)
    assert maybes < len(others) // 20  # most absent keys need no query


@settings(max_examples=10, deadline=None)
@given(
    blocks=st.integers(min_value=1, max_value=6), per_block=st.integers(min_value=1, max_value=8)
)
def test_the_cached_reader_agrees_with_the_database_and_after_reopening(
    tmp_path_factory: object, blocks: int, per_block: int
) -> None:
    path = Path(str(tmp_path_factory.mktemp("cache")))  # type: ignore[attr-defined]
    chain = Chain(path)
    new_keys = []
    for _ in range(blocks):
        raws = []
        for _ in range(per_block):
            key = SigningKey.generate()
            new_keys.append(f"membership/key/{key.key_id}")
            body = {"public_key": key.public_key.hex(), "roles": ["shipper"]}
            raws.append(chain.sign("BRIGHTWAVE", "membership.register_key", body))
        assert all(r.ok for r in chain.block(*raws).tx_results)
    absent = [f"membership/key/{SigningKey.generate().key_id}" for _ in range(20)]
    db = path / "chain.db"

    def agree(storage: Storage) -> None:
        connection = _connect(db)
        fresh = Reader(connection)
        present = [key for (key,) in connection.execute("SELECT key FROM state")]
        assert set(new_keys) <= set(present)
        for key in [*present, *absent]:
            assert storage.writer.get(key) == fresh.get(key), key

    agree(chain.storage)
    chain.close()
    reopened = Storage(db)
    agree(reopened)
    reopened.close()
