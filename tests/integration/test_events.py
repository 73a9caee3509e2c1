"""Live events on a real node behind a real uvicorn on loopback: SSE, WebSocket, SDK, webhooks.

What a subscriber must be able to rely on: every committed event arrives exactly once and in
order, across disconnects, whichever way it follows the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from portchain.engines.solo import SoloConfig
from portchain.kernel import codec
from portchain.kernel.access import Viewer
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.events import EventFilter, StreamEnded
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from portchain.node.webhooks import RetryPolicy, WebhookService
from portchain.sdk import AsyncClient, Client, WebhookVerificationError, verify_webhook
from served import client_as, serve, sign_in

CHAIN = "events-test"
ROLES = {"BRIGHTWAVE": ["shipper"], "HOLLANDHOME": ["consignee"]}


@dataclass
class Served:
    client: httpx.Client
    node: Node
    home: Home

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    @property
    def ws_url(self) -> str:
        """The WebSocket stream, signed in as the client (browsers pass the token this way)."""
        token = self.client.headers["Authorization"].removeprefix("Bearer ")
        return self.base_url.replace("http://", "ws://") + f"/api/v1/events/ws?access_token={token}"

    @property
    def viewer(self) -> Viewer:
        """The organisation the client is signed in as, for subscriptions made on the bus."""
        return Viewer("BRIGHTWAVE", "CN", frozenset({"shipper"}))


def start_node(home: Home) -> Node:
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    return node


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = start_node(home)
    try:
        with serve(node) as client:
            sign_in(client, home.load_key("BRIGHTWAVE").key)
            yield Served(client, node, home)
    finally:
        node.stop()


def registrations(home: Home, count: int, org: str = "BRIGHTWAVE", start: int = 0) -> list[bytes]:
    """``count`` signed membership.register_key transactions by ``org``'s admin, in sequence."""
    admin = home.load_key(org).key
    return [
        sign(
            Tx(
                CHAIN,
                admin.key_id,
                seq,
                "membership.register_key",
                {
                    "public_key": SigningKey.generate().public_key.hex(),
                    "roles": ROLES[org],
                },
            ),
            admin,
        )
        for seq in range(start, start + count)
    ]


def submit(base_url: str, raws: list[bytes], chunk: int = 100, pause: float = 0.0) -> None:
    """POST ``raws`` through /txs/batch in chunks (its own connection: may run in a thread)."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for start in range(0, len(raws), chunk):
            answer = http.post("/api/v1/txs/batch", content=b"\n".join(raws[start : start + chunk]))
            assert [r["status"] for r in answer.json()["results"]] == ["pending"] * len(
                raws[start : start + chunk]
            )
            time.sleep(pause)


def commit(served: Served, raws: list[bytes]) -> None:
    """Submit and wait until every one of ``raws`` is committed."""
    submit(served.base_url, raws)
    for raw in raws:
        assert served.node.submit(raw, wait=True)["status"] == "committed"


def wait_until(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def sse_frames(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The stream's frames: {"id", "data"} for events, {"event": "end"...}, {"comment"}."""
    frame: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line:
            name, _, value = line.partition(":")
            frame[name] = value.removeprefix(" ")
        elif frame:
            if "data" in frame:
                yield frame
            frame = {}


def stored_event_ids(client: httpx.Client) -> list[str]:
    ids: list[str] = []
    cursor = {"after_height": 0, "after_index": -1}
    while True:
        page = client.get("/api/v1/events", params={**cursor, "limit": 1000}).json()
        ids += [f"{e['height']}:{e['index']}" for e in page["events"]]
        if page["next"] is None:
            return ids
        cursor = {"after_height": page["next"]["height"], "after_index": page["next"]["index"]}


def read_until_idle(
    client: httpx.Client, params: dict[str, Any] | list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """Every event a filtered SSE stream replays before its first keep-alive (it is caught up)."""
    base: list[tuple[str, Any]] = [("after_height", 0), ("heartbeat", 0.2)]
    query = base + (list(params.items()) if isinstance(params, dict) else params)
    out: list[dict[str, Any]] = []
    with client.stream("GET", "/api/v1/events/stream", params=query) as response:
        assert response.status_code == 200
        for frame in sse_frames(response):
            if "comment" in frame:
                return out
            out.append(json.loads(frame["data"]))
    raise AssertionError("the stream ended")


def assert_exactly_once_in_order(ids: list[str], expected: list[str]) -> None:
    positions = [tuple(map(int, i.split(":"))) for i in ids]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert ids == expected


def test_sse_resumes_from_last_event_id_with_every_event_exactly_once(served: Served) -> None:
    raws = registrations(served.home, 1000)
    submitter = threading.Thread(target=submit, args=(served.base_url, raws, 100, 0.03))
    first: list[dict[str, Any]] = []
    params = {"after_height": 0, "after_index": -1, "heartbeat": 1}
    with served.client.stream("GET", "/api/v1/events/stream", params=params) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        submitter.start()
        for frame in sse_frames(response):
            if "data" in frame:
                event = json.loads(frame["data"])
                assert frame["id"] == event["id"] == f"{event['height']}:{event['index']}"
                first.append(event)
                if len(first) == 500:
                    break  # disconnect halfway, while transactions keep coming
    second: list[dict[str, Any]] = []
    headers = {"Last-Event-ID": first[-1]["id"]}
    with served.client.stream(
        "GET", "/api/v1/events/stream", params={"heartbeat": 1}, headers=headers
    ) as response:
        for frame in sse_frames(response):
            if "data" in frame:
                second.append(json.loads(frame["data"]))
                if len(first) + len(second) == 1000:
                    break
    submitter.join()
    events = first + second
    assert_exactly_once_in_order([e["id"] for e in events], stored_event_ids(served.client))
    assert [e["tx"] for e in events] == [codec.sha256(raw).hex() for raw in raws]
    assert {e["type"] for e in events} == {"membership.key_registered"}


def test_websocket_resumes_from_the_cursor_with_every_event_exactly_once(served: Served) -> None:
    raws = registrations(served.home, 1000)
    submitter = threading.Thread(target=submit, args=(served.base_url, raws, 100, 0.03))
    ws_url = served.ws_url
    events: list[dict[str, Any]] = []
    # max_queue=None: the client keeps reading while closing mid-stream, so it sees the
    # server's close reply at once instead of waiting out its close timeout.
    with connect(f"{ws_url}&after_height=0&after_index=-1&heartbeat=1", max_queue=None) as ws:
        submitter.start()
        while len(events) < 500:
            message = json.loads(ws.recv(timeout=20))
            if "event" in message:
                events.append(message["event"])
    last = events[-1]
    resume = f"{ws_url}&after_height={last['height']}&after_index={last['index']}"
    with connect(resume, max_queue=None) as ws:
        while len(events) < 1000:
            message = json.loads(ws.recv(timeout=20))
            if "event" in message:
                events.append(message["event"])
    submitter.join()
    assert_exactly_once_in_order([e["id"] for e in events], stored_event_ids(served.client))
    assert [e["tx"] for e in events] == [codec.sha256(raw).hex() for raw in raws]


@pytest.fixture
def mixed(served: Served) -> dict[str, Any]:
    """A few events of different kinds, parties and objects, all committed."""
    brightwave = registrations(served.home, 3)
    holland = registrations(served.home, 2, org="HOLLANDHOME")
    commit(served, brightwave + holland)
    key = served.node.tx_status(codec.sha256(brightwave[0]))["events"][0]["attributes"]["key"]
    admin = served.home.load_key("BRIGHTWAVE").key
    revoke = sign(Tx(CHAIN, admin.key_id, 3, "membership.revoke_key", {"key_id": key}), admin)
    commit(served, [revoke])
    return {"key": key}


def test_filters_select_by_module_type_object_and_party(served: Served, mixed: dict) -> None:
    client = served.client
    assert len(read_until_idle(client, {})) == 6
    assert len(read_until_idle(client, {"module": "membership"})) == 6
    assert read_until_idle(client, {"module": "trade"}) == []
    revoked = read_until_idle(client, {"type": "membership.key_revoked"})
    assert [e["attributes"]["key"] for e in revoked] == [mixed["key"]]
    about_key = read_until_idle(client, {"object": f"key:{mixed['key']}"})
    assert [e["type"] for e in about_key] == ["membership.key_registered", "membership.key_revoked"]
    assert (
        len(read_until_idle(client, {"object": mixed["key"]})) == 2
    )  # a bare value: any attribute
    holland = read_until_idle(client, {"party": "HOLLANDHOME"})
    assert [e["attributes"]["org"] for e in holland] == ["HOLLANDHOME"] * 2
    both = read_until_idle(client, [("party", "HOLLANDHOME"), ("party", "BRIGHTWAVE")])
    assert len(both) == 6
    combined = {"party": "BRIGHTWAVE", "type": "membership.key_registered"}
    assert len(read_until_idle(client, combined)) == 3
    ws_url = served.ws_url
    with connect(f"{ws_url}&after_height=0&type=membership.key_revoked&heartbeat=0.3") as ws:
        first = json.loads(ws.recv(timeout=10))
        assert first["event"]["attributes"]["key"] == mixed["key"]
        assert "heartbeat" in json.loads(ws.recv(timeout=10))


def test_sdk_follows_events_sync_and_async(served: Served, mixed: dict) -> None:
    with Client(served.base_url, key=served.home.load_key("BRIGHTWAVE").key) as sdk:
        stream = sdk.events(after=(0, -1), party="HOLLANDHOME", heartbeat=1)
        got = [next(stream), next(stream)]
        stream.close()
        assert [e.attributes["org"] for e in got] == ["HOLLANDHOME", "HOLLANDHOME"]
        assert got[0].cursor < got[1].cursor and got[0].id == f"{got[0].height}:{got[0].index}"
        # From now on: only what is committed after subscribing.
        live = sdk.events(type="membership.key_registered", heartbeat=1)
        later = registrations(served.home, 1, start=4)
        threading.Timer(0.3, commit, args=(served, later)).start()
        assert next(live).tx == codec.sha256(later[0]).hex()
        live.close()

    async def follow() -> list[str]:
        async with AsyncClient(served.base_url, key=served.home.load_key("BRIGHTWAVE").key) as sdk:
            stream = sdk.events(after=(0, -1), object=f"key:{mixed['key']}", heartbeat=1)
            async with contextlib.aclosing(stream):
                return [(await anext(stream)).type, (await anext(stream)).type]

    assert asyncio.run(follow()) == ["membership.key_registered", "membership.key_revoked"]


def test_a_slow_subscriber_is_cut_off_without_blocking_blocks_and_resumes(served: Served) -> None:
    bus = served.node.events
    start = bus.head()
    slow = bus.subscribe(start, viewer=served.viewer, queue_limit=10)
    assert slow.get(timeout=0.1) == [] and slow.live  # attached, then it stops reading
    commit(served, registrations(served.home, 8))
    commit(served, registrations(served.home, 8, start=8))  # 16 unread > 10: cut off
    with pytest.raises(StreamEnded) as ended:
        slow.get(timeout=1)
    assert ended.value.reason == "slow_consumer" and ended.value.cursor == start
    assert "portchain_event_subscribers_cut_off_total 1.0" in served.client.get("/metrics").text
    resumed = bus.subscribe(ended.value.cursor, viewer=served.viewer)
    events: list[Any] = []
    while len(events) < 16:
        events += resumed.get(timeout=5)
    resumed.close()
    assert len(events) == 16 and len({e.cursor for e in events}) == 16


def test_bad_cursors_and_filters_are_refused(served: Served) -> None:
    client = served.client
    bad_id = client.get("/api/v1/events/stream", headers={"Last-Event-ID": "nonsense"})
    assert (
        bad_id.status_code == 400 and bad_id.headers["content-type"] == "application/problem+json"
    )
    ahead = client.get("/api/v1/events/stream", params={"after_height": 999})
    assert ahead.status_code == 400 and "beyond" in ahead.json()["detail"]
    assert client.get("/api/v1/events/stream", params={"type": "no-dot"}).status_code == 400
    ws_url = served.ws_url + "&after_height=x"
    with connect(ws_url) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "after_height" in closed.value.rcvd.reason


def test_stopping_the_bus_ends_streams_with_a_reason(served: Served) -> None:
    with served.client.stream(
        "GET", "/api/v1/events/stream", params={"heartbeat": 0.3}
    ) as response:
        frames = sse_frames(response)
        assert "comment" in next(frames)
        served.node.events.close()
        end = next(frames)
    assert end["event"] == "end" and json.loads(end["data"])["reason"] == "bus_closed"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers 500 to its first ``fail_first`` POSTs."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.posts: list[tuple[int, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = 500 if len(receiver.posts) < receiver.fail_first else 200
                receiver.posts.append((status, dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """Events of the accepted POSTs, in arrival order."""
        return [
            e for status, _, body in self.posts if status == 200 for e in json.loads(body)["events"]
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_a_webhook_is_retried_until_delivered_signed_and_logged(served: Served) -> None:
    receiver = Receiver(fail_first=2)
    try:
        created = served.client.post(
            "/api/v1/webhooks",
            json={
                "url": receiver.url,
                "filters": {"types": ["membership.key_registered"]},
            },
        )
        assert created.status_code == 201
        hook, secret = created.json(), created.json()["secret"]
        raws = registrations(served.home, 3)
        commit(served, raws)
        events = wait_until(lambda: len(receiver.delivered()) >= 3 and receiver.delivered())
        assert [e["tx"] for e in events] == [codec.sha256(raw).hex() for raw in raws]
        statuses = [status for status, _, _ in receiver.posts]
        assert statuses[:3] == [500, 500, 200]
        _, headers, body = receiver.posts[2]
        assert verify_webhook(body, headers, secret)["webhook"] == hook["id"]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(body.replace(b"BRIGHTWAVE", b"BRIGHTWAVX"), headers, secret)
        forged = {**headers, "X-Portchain-Signature": "sha256=" + "0" * 64}
        with pytest.raises(WebhookVerificationError):
            verify_webhook(body, forged, secret)
        with pytest.raises(WebhookVerificationError):
            verify_webhook(body, headers, "another-secret-of-enough-length")
        with pytest.raises(WebhookVerificationError):  # a replay, much later
            verify_webhook(body, headers, secret, now=time.time() + 3600)
        log = served.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
        first = sorted(
            (d for d in log if d["delivery"] == log[-1]["delivery"]), key=lambda d: d["id"]
        )
        assert [(d["attempt"], d["outcome"], d["status_code"]) for d in first] == [
            (1, "failed", 500),
            (2, "failed", 500),
            (3, "delivered", 200),
        ]
        listed = served.client.get("/api/v1/webhooks").json()
        assert [h["id"] for h in listed["webhooks"]] == [hook["id"]]
        assert hook["org"] == "BRIGHTWAVE" and "secret" not in listed["webhooks"][0]
        with client_as(served.client, served.home.load_key("HOLLANDHOME").key) as other:
            assert other.get("/api/v1/webhooks").json()["webhooks"] == []
            assert other.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
            assert other.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
            assert other.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404
        assert served.client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
        assert served.client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    finally:
        receiver.close()


def test_a_webhook_resumes_from_its_cursor_after_a_restart(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    a, b, c = registrations(home, 3)
    receiver = Receiver()
    node = start_node(home)
    admin = home.load_key("BRIGHTWAVE").key
    try:
        with serve(node) as client:
            sign_in(client, admin)
            hook = client.post(
                "/api/v1/webhooks",
                json={
                    "url": receiver.url,
                    "secret": "s" * 32,
                },
            ).json()
            client.post("/api/v1/txs?wait=true", content=a)
            wait_until(lambda: len(receiver.delivered()) == 1)
        node.submit(b, wait=True)  # committed while no webhook worker runs
        with serve(node) as client:
            wait_until(lambda: len(receiver.delivered()) == 2)
        node.stop()
        node = start_node(home)  # a whole new node process on the same home
        with serve(node) as client:
            sign_in(client, admin)
            assert client.get(f"/api/v1/webhooks/{hook['id']}").json()["status"] == "active"
            client.post("/api/v1/txs?wait=true", content=c)
            wait_until(lambda: len(receiver.delivered()) == 3)
            time.sleep(0.3)  # room for a wrongly repeated delivery to show up
        txs = [e["tx"] for e in receiver.delivered()]
        assert txs == [codec.sha256(raw).hex() for raw in (a, b, c)]
    finally:
        node.stop()
        receiver.close()


def test_a_webhook_that_keeps_failing_is_suspended_then_resumed(served: Served) -> None:
    receiver = Receiver(fail_first=3)
    service = WebhookService(
        served.home.path / "data" / "webhooks-test.db",
        served.node.events,
        RetryPolicy(max_attempts=3, first_delay=0.05),
        viewer_of=lambda org: served.viewer,
    )
    try:
        hook, secret = service.register("BRIGHTWAVE", receiver.url, EventFilter.of())
        commit(served, registrations(served.home, 2))
        wait_until(lambda: service.get(hook.id).status == "suspended")  # type: ignore[union-attr]
        attempts = service.deliveries(hook.id)
        assert [(a["attempt"], a["outcome"]) for a in reversed(attempts)] == [
            (1, "failed"),
            (2, "failed"),
            (3, "gave_up"),
        ]
        assert "HTTP 500" in (service.get(hook.id).last_error or "")  # type: ignore[union-attr]
        assert receiver.delivered() == []  # nothing skipped: the batch waits for a resume
        service.resume(hook.id)
        events = wait_until(lambda: len(receiver.delivered()) == 2 and receiver.delivered())
        _, headers, body = receiver.posts[-1]
        assert verify_webhook(body, headers, secret)["events"] == events
    finally:
        service.stop()
        receiver.close()


def test_webhook_registrations_are_checked(served: Served) -> None:
    post = served.client.post
    base = {"url": "http://127.0.0.1:9/hook"}
    assert post("/api/v1/webhooks", json=base).status_code == 201
    assert post("/api/v1/webhooks", json={**base, "url": "ftp://127.0.0.1/x"}).status_code == 400
    assert post("/api/v1/webhooks", json={**base, "url": "file:///etc/passwd"}).status_code == 400
    # A webhook is the caller's organisation's: naming another one is refused.
    assert post("/api/v1/webhooks", json={**base, "org": "HOLLANDHOME"}).status_code == 400
    assert post("/api/v1/webhooks", json={**base, "secret": "short"}).status_code == 400
    bad_filter = {**base, "filters": {"types": ["not a type"]}}
    assert post("/api/v1/webhooks", json=bad_filter).status_code == 400
    ahead = {**base, "after": {"height": 999, "index": 0}}
    assert post("/api/v1/webhooks", json=ahead).status_code == 409  # beyond the chain
    assert served.client.delete("/api/v1/webhooks/wh_nothing").status_code == 404
    assert served.client.get("/api/v1/webhooks/wh_nothing/deliveries").status_code == 404
