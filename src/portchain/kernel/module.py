"""What a module is, as the app sees it: actions, genesis, end of block, queries.

Every module has the same shape (``messages``, ``handlers``, ``store``,
``queries``, ``events``, ``errors``, ``genesis``, README.md), and hands the app
one :class:`ModuleSpec` built from them. A handler is a plain function::

    apply_vote(state, env, ctx, msg) -> list[Event]

that reads and writes ``state``, knows "now" only from ``env``, the signer only
from ``ctx``, raises a registered error to refuse, and returns its events.

Authorization happens in two steps (DESIGN.md invariant 6). What needs only the
signer's own record (its roles, whether it is an admin or a steward) is declared
on the :class:`Action` and checked by the app before the handler runs, in both
the mempool check and execution. What depends on the object (only the current
holder transfers a bill) is checked by the handler against state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from portchain.kernel.access import Audience
from portchain.kernel.env import BlockEnv
from portchain.kernel.errors import InvalidError
from portchain.kernel.events import Event
from portchain.kernel.state import State


class Message(BaseModel):
    """Base of every action's body: strict types, no unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def check(self) -> None:
        """Rules that tie fields together; raise :class:`InvalidError` naming the field."""


@dataclass(frozen=True, slots=True)
class Signer:
    """The signing key as the app knows it before any handler runs."""

    key_id: str
    org: str
    public_key: bytes
    roles: frozenset[str]
    """Roles this key may act in: the key's roles that its organisation still holds."""
    admin: bool
    steward: bool
    active: bool
    """False when the key is revoked or its organisation suspended."""
    registered: bool = True
    """False for a key that signs its own registration (an application to join)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Who is acting, in which transaction."""

    signer: Signer
    tx_hash: bytes


Handler = Callable[[State, BlockEnv, Context, Any], list[Event]]


@dataclass(frozen=True)
class Action:
    """One verb of a module and who may invoke it."""

    verb: str
    message: type[Message]
    handler: Handler
    roles: frozenset[str] | None = None
    """The signer must hold at least one of these roles; None means any member key."""
    admin: bool = False
    """Only an organisation admin key may sign it."""
    steward: bool = False
    """Only a key of a steward organisation may sign it."""
    open: bool = False
    """May be signed by a key that is not registered yet (it registers itself)."""
    summary: str = ""


@dataclass(frozen=True)
class ModuleSpec:
    """A module as wired into the app."""

    name: str
    actions: Mapping[str, Action]
    init_genesis: Callable[[State, BlockEnv, Any], list[Event]]
    end_block: Callable[[State, BlockEnv], list[Event]] | None = None
    genesis_schema: type[BaseModel] | None = None
    public: bool = False
    """Its records and events are readable by every member (membership). Otherwise each
    record and event carries an audience (kernel/access.py) and is hidden from the rest."""
    state_audience: Callable[[QueryReader, str], Audience | None] | None = None
    """Who may read the raw state entry at ``key`` (a key under ``<name>/``): the same
    audience the module's queries apply to the record stored there; None hides it."""


class SignerDirectory(Protocol):
    """How the app resolves a key id to a :class:`Signer` (the membership module provides it)."""

    def signer(self, state: StateReader, key_id: str) -> Signer | None: ...

    def open_signer(self, key_id: str, public_key: bytes) -> Signer: ...


class StateReader(Protocol):
    def get(self, key: str) -> bytes | None: ...


class QueryReader(StateReader, Protocol):
    """Committed state as queries see it: point reads and ordered prefix scans."""

    def scan(self, prefix: str, after: str = "", limit: int = 100) -> list[tuple[str, bytes]]:
        """Up to ``limit`` (key, value) pairs with keys starting ``prefix``, after ``after``."""
        ...


def parse_message(model: type[Message], body: dict[str, Any]) -> Message:
    """Validate ``body`` statelessly; a failure names the first field and the rule broken."""
    try:
        message = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise InvalidError(first["msg"], field=f"body.{path}" if path else "body") from None
    message.check()
    return message
