"""Signing in and staying out: sessions, the keystore, revocation, limits and hostile input.

Every refusal is checked for its status and for leaving the ledger as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from portchain.api.middleware import Limits
from portchain.kernel.crypto import AUTH_DOMAIN, SigningKey, auth_message
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.keystore import Keystore
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from portchain.node.sessions import KEY_SESSION_TTL_S
from portchain.sdk import Client, NodeError
from served import client_as, serve, sign_in

CHAIN = "auth-test"
PASSWORD = "correct horse battery staple"


class Clock:
    """Wall time the test moves by hand (sessions' expiry)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    client: httpx.Client
    node: Node
    home: Home
    clock: Clock

    def send(self, key: SigningKey, action: str, body: dict) -> dict:
        seq = self.node.next_sequence(key.key_id)
        return self.node.submit(sign(Tx(CHAIN, key.key_id, seq, action, body), key), wait=True)

    def add_user(self, org: str, username: str, admin: bool = False) -> SigningKey:
        """A user key registered on the ledger and sealed in the node's keystore."""
        key = SigningKey.generate()
        roles = [next(m.roles[0] for m in DEMO_CAST if m.id == org)]
        body = {"public_key": key.public_key.hex(), "roles": roles, "admin": admin}
        assert (
            self.send(self.home.load_key(org).key, "membership.register_key", body)["status"]
            == "committed"
        )
        with Keystore(self.home.keystore_path) as keystore:
            keystore.add(username, org, key, PASSWORD)
        return key

    def ledger(self) -> tuple[int, str]:
        status = self.node.status()
        return status["height"], status["app_hash"]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    from portchain.engines.solo import SoloConfig

    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    clock = Clock()
    try:
        with serve(node, clock=clock) as client:
            yield Api(client, node, home, clock)
    finally:
        node.stop()


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_reads_need_a_session_and_a_signed_challenge_opens_one(api: Api) -> None:
    anonymous = api.client.get("/api/v1/status")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.headers["content-type"] == "application/problem+json"
    bogus = api.client.get("/api/v1/status", headers={"Authorization": "Bearer pc_nonsense"})
    assert bogus.status_code == 401 and bogus.json()["code"] == "session_expired"
    sign_in(api.client, api.home.load_key("BRIGHTWAVE").key)
    session = api.client.get("/api/v1/auth/session").json()
    assert session["viewer"]["org"] == "BRIGHTWAVE" and session["session"]["kind"] == "key"
    assert api.client.get("/api/v1/status").status_code == 200


def test_a_challenge_answered_by_another_key_or_twice_is_refused(api: Api) -> None:
    key, other = api.home.load_key("BRIGHTWAVE").key, api.home.load_key("MERIDIAN").key
    client = api.client
    answer = client.post("/api/v1/auth/challenge", json={"key_id": key.key_id}).json()
    message = auth_message(answer["chain_id"], answer["challenge"])
    forged = client.post(
        "/api/v1/auth/token",
        json={
            "key_id": key.key_id,
            "challenge": answer["challenge"],
            "signature": other.sign(AUTH_DOMAIN, message).hex(),
        },
    )
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature"
    # The challenge was used up by the failed attempt: even the right signature is refused.
    replay = client.post(
        "/api/v1/auth/token",
        json={
            "key_id": key.key_id,
            "challenge": answer["challenge"],
            "signature": key.sign(AUTH_DOMAIN, message).hex(),
        },
    )
    assert replay.status_code == 401
    # A signature over another chain's challenge is refused too.
    fresh = client.post("/api/v1/auth/challenge", json={"key_id": key.key_id}).json()
    elsewhere = key.sign(AUTH_DOMAIN, auth_message("another-chain", fresh["challenge"]))
    refused = client.post(
        "/api/v1/auth/token",
        json={"key_id": key.key_id, "challenge": fresh["challenge"], "signature": elsewhere.hex()},
    )
    assert refused.status_code == 401


def test_a_token_replayed_after_sign_out_or_expiry_is_refused(api: Api) -> None:
    token = sign_in(api.client, api.home.load_key("BRIGHTWAVE").key)
    assert api.client.post("/api/v1/auth/logout").status_code == 204
    replayed = api.client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert replayed.status_code == 401 and replayed.json()["code"] == "session_expired"

    sign_in(api.client, api.home.load_key("BRIGHTWAVE").key)
    api.clock.now += KEY_SESSION_TTL_S - 1
    assert api.client.get("/api/v1/status").status_code == 200
    api.clock.now += 2
    expired = api.client.get("/api/v1/status")
    assert expired.status_code == 401 and expired.json()["code"] == "session_expired"


def test_a_password_session_signs_for_its_user_and_a_key_session_cannot(api: Api) -> None:
    user = api.add_user("BRIGHTWAVE", "amy.admin", admin=True)
    opened = login(api.client, "amy.admin")
    assert opened.status_code == 200, opened.text
    assert opened.json()["session"]["key_id"] == user.key_id
    headers = {"Authorization": f"Bearer {opened.json()['token']}"}
    newcomer = SigningKey.generate()
    acted = api.client.post(
        "/api/v1/actions/membership/register_key",
        json={"public_key": newcomer.public_key.hex(), "roles": ["shipper"]},
        headers=headers,
    ).json()
    assert acted["status"] == "committed"
    tx = api.client.get(f"/api/v1/txs/{acted['hash']}", headers=headers).json()
    assert tx["signer"] == user.key_id  # the node signed with the user's own key
    with client_as(api.client, api.home.load_key("BRIGHTWAVE").key) as integrator:
        refused = integrator.post(
            "/api/v1/actions/membership/register_key",
            json={"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
        )
        assert refused.status_code == 403


def test_the_sdk_signs_in_with_a_password_and_acts(api: Api) -> None:
    api.add_user("BRIGHTWAVE", "sdk.user", admin=True)
    with Client(str(api.client.base_url)) as sdk:
        sdk.login("sdk.user", PASSWORD)
        assert sdk.session()["viewer"]["org"] == "BRIGHTWAVE"
        outcome = sdk.act(
            "membership.register_key",
            {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
        )
        assert outcome["status"] == "committed"
        sdk.logout()
        with pytest.raises(NodeError) as refused:
            sdk.status()
        assert refused.value.status == 401


def test_wrong_passwords_are_refused_then_rate_limited(api: Api) -> None:
    api.add_user("BRIGHTWAVE", "bob")
    before = api.ledger()
    assert login(api.client, "bob", "not the password").status_code == 401
    assert login(api.client, "nobody-here", PASSWORD).status_code == 401
    for _ in range(3):
        assert login(api.client, "bob", "still not the password").status_code == 401
    limited = login(api.client, "bob", PASSWORD)  # right password, too many failures before
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert api.ledger() == before


def test_revoking_a_key_locks_out_its_password_and_key_sessions_at_once(api: Api) -> None:
    user = api.add_user("BRIGHTWAVE", "carol")
    by_password = login(api.client, "carol").json()["token"]
    with httpx.Client(base_url=api.client.base_url) as by_key:
        sign_in(by_key, user)
        assert by_key.get("/api/v1/status").status_code == 200
        revoked = api.send(
            api.home.load_key("BRIGHTWAVE").key, "membership.revoke_key", {"key_id": user.key_id}
        )
        assert revoked["status"] == "committed"
        locked = by_key.get("/api/v1/status")
        assert locked.status_code == 401 and locked.json()["code"] == "key_inactive"
    again = api.client.get("/api/v1/status", headers={"Authorization": f"Bearer {by_password}"})
    assert again.status_code == 401
    assert login(api.client, "carol").status_code == 401
    challenge = api.client.post("/api/v1/auth/challenge", json={"key_id": user.key_id}).json()
    signature = user.sign(AUTH_DOMAIN, auth_message(CHAIN, challenge["challenge"]))
    token = api.client.post(
        "/api/v1/auth/token",
        json={
            "key_id": user.key_id,
            "challenge": challenge["challenge"],
            "signature": signature.hex(),
        },
    )
    assert token.status_code == 401


def test_oversize_bodies_are_refused_with_413(api: Api) -> None:
    sign_in(api.client, api.home.load_key("BRIGHTWAVE").key)
    before = api.ledger()
    huge = b'{"username": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    answer = api.client.post(
        "/api/v1/auth/login", content=huge, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert api.client.post("/api/v1/txs", content=b"{" + b" " * 70_000).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(80):
            yield b" " * 65536

    streamed = api.client.post(
        "/api/v1/webhooks", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert api.ledger() == before


HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE state; --",
    '"; DELETE FROM txs; --',
    "../../../../etc/passwd",
    "..%2F..%2Fdata%2Fportchain.db",
    "%00",
    "<script>alert(1)</script>",
    "membership/../../keys",
    "\u202e\u0000",
    "9" * 400,
]


def test_hostile_strings_in_every_parameter_change_nothing(api: Api) -> None:
    sign_in(api.client, api.home.load_key("BRIGHTWAVE").key)
    before = api.ledger()
    routes = [
        "/api/v1/txs/{}",
        "/api/v1/blocks/{}",
        "/api/v1/state/{}",
        "/api/v1/index/{}/{}",
        "/api/v1/accounts/{}/sequence",
        "/api/v1/membership/organisations/{}",
        "/api/v1/membership/organisations/{}/keys",
        "/api/v1/membership/keys/{}",
        "/api/v1/membership/proposals/{}",
        "/api/v1/webhooks/{}",
        "/api/v1/webhooks/{}/deliveries",
    ]
    for value in HOSTILE:
        quoted = quote(value, safe="/")
        for route in routes:
            answer = api.client.get(route.replace("{}", quoted))
            assert answer.status_code in (200, 400, 404, 422), (route, value, answer.status_code)
            if answer.status_code == 200:  # a search that finds nothing
                assert answer.json() in ({"events": []}, {"key_id": quoted, "next_sequence": 0})
        for query in (
            {"after": value},
            {"status": value},
            {"limit": value},
            {"before": value},
            {"after_height": value},
        ):
            for path in (
                "/api/v1/membership/organisations",
                "/api/v1/membership/proposals",
                "/api/v1/blocks",
                "/api/v1/events",
            ):
                answer = api.client.get(path, params=query)
                assert answer.status_code in (200, 400, 422), (path, query, answer.status_code)
        login_answer = login(api.client, value, value)
        assert login_answer.status_code in (400, 401, 429)  # 429: failures from this client
        hook = api.client.post("/api/v1/webhooks", json={"url": value})
        assert hook.status_code == 400
    assert api.ledger() == before
    orgs = api.client.get("/api/v1/membership/organisations", params={"limit": 500}).json()
    assert len(orgs["organisations"]) == len(DEMO_CAST)


def test_request_ids_cors_and_the_request_rate_limit(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = Node(home)
    node.start()
    try:
        with serve(node, limits=Limits(requests_per_second=0.5, burst=4)) as client:
            echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
            assert echoed.headers["X-Request-ID"] == "trace-42"
            made = client.get("/healthz").headers["X-Request-ID"]
            assert len(made) == 32
            preflight = client.options(
                "/api/v1/status",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
            )
            assert "access-control-allow-origin" not in preflight.headers
            limited = client.get("/healthz")
            assert limited.status_code == 200
            limited = client.get("/healthz")
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert limited.headers["content-type"] == "application/problem+json"
    finally:
        node.stop()
