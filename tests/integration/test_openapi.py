"""The OpenAPI document against the running API: schemathesis drives every operation.

No operation may answer with a server error, an undocumented status or a body that
breaks its schema; and without a session every operation is refused except the few
that are open by design (signing in, submitting signed transactions, a signer's next
sequence number).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portchain.engines.solo import SoloConfig
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import serve, sign_in

OPEN = {
    ("POST", "/api/v1/auth/challenge"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/txs"),
    ("POST", "/api/v1/txs/batch"),
    ("GET", "/api/v1/accounts/{key_id}/sequence"),
}
"""Operations that need no session: signing in, and what a signature authenticates itself."""


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    """The batch body is lines of text: send what the generator made, as UTF-8."""
    return value if isinstance(value, bytes) else str(value).encode()


@dataclass
class Live:
    base_url: str
    token: str
    document: dict


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = Home(tmp_path_factory.mktemp("openapi") / "home")
    create_network(home, chain_id="openapi-test", cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    try:
        with serve(node) as client:
            token = sign_in(client, home.load_key("BRIGHTWAVE").key)
            document = client.get("/openapi.json").json()
            yield Live(str(client.base_url).rstrip("/"), token, document)
    finally:
        node.stop()


SIGNED = {"/api/v1/txs", "/api/v1/txs/batch", "/api/v1/auth/token", "/api/v1/auth/login"}
"""Bodies whose acceptance depends on a signature, a sequence number or a password."""

EXCLUDED = {"/api/v1/events/stream", "/api/v1/auth/logout"}
"""The event stream never ends, and signing out would end the run's own session: both have
their own tests (test_events.py, test_auth.py)."""


def contract_of(operation: Any, headers: dict[str, str], excluded: list[Any]) -> Any:
    """A hypothesis test of one operation: generated requests, every check but ``excluded``.

    Derandomized, so a clean clone and CI send the same requests: a random run once sent
    ``/state/%>\ufffdF>`` as schema-valid data for the pattern ``^[!-~]{1,512}$``
    (schemathesis's generator, not the API, was wrong), failing one run in many.
    """

    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def keeps_contract(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return keeps_contract


def test_every_operation_keeps_its_contract(live: Live) -> None:
    schema = schemathesis.openapi.from_url(f"{live.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {live.token}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in EXCLUDED:
            continue

        # A well-formed transaction is refused unless its signature and sequence are right,
        # which no schema can say: for submissions, schema-valid input may be refused.
        excluded = [positive_data_acceptance] if operation.path in SIGNED else []
        contract_of(operation, headers, excluded)()
        tested.append(operation.label)
    assert len(tested) >= 25, tested


def test_the_document_declares_every_route_its_errors_and_the_session(live: Live) -> None:
    paths = live.document["paths"]
    assert "session" in live.document["components"]["securitySchemes"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            for status in ("400", "401", "404", "413", "429"):
                assert status in operation["responses"], f"{method} {path} lacks {status}"
            if (method.upper(), path) not in OPEN and path.startswith("/api/v1/"):
                assert operation.get("security"), f"{method} {path} declares no session"


def test_without_a_session_every_operation_but_the_open_ones_is_refused(live: Live) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as anonymous:
        checked = 0
        for path, operations in live.document["paths"].items():
            if not path.startswith("/api/v1/"):
                continue
            for method in operations:
                if (method.upper(), path) in OPEN:
                    continue
                url = path
                for name in ("key_id", "org_id", "tx_hash", "webhook_id", "key", "name"):
                    url = url.replace("{" + name + "}", "a" * 40)
                url = url.replace("{height}", "1").replace("{proposal_id}", "1")
                for placeholder in ("{module}", "{verb}"):
                    url = url.replace(placeholder, "membership")
                while "{" in url:  # any other path parameter (the modules' ids)
                    start, end = url.index("{"), url.index("}")
                    url = url[:start] + "X1" + url[end + 1 :]
                answer = anonymous.request(method.upper(), url, json={})
                assert answer.status_code == 401, (method, path, answer.status_code)
                checked += 1
        assert checked >= 20
