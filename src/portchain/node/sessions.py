"""Who is signed in to this node: sign-in challenges, sessions, and the sign-in rate limit.

Two ways in, both ending in a bearer token bound to one registered user key:

- a **key session**: the caller signs a one-time challenge with its own key
  (``kernel.crypto.AUTH_DOMAIN``); the node never sees the private key, and the caller
  signs its transactions itself;
- a **password session**: a person signs in with a user name and password from
  the node's keystore (node/keystore.py); the node holds the unlocked key for
  the session and signs on the user's behalf.

Sessions live in this node's memory only: a restart signs everyone out, and the
unlocked keys never touch the disk. A token is stored as its SHA-256, so a
memory dump of the table does not hand out live tokens. Every request also
checks the key against the committed membership state (the API does that), so
revoking the key on the ledger locks out both kinds of session at once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from portchain.kernel.crypto import SigningKey

CHALLENGE_TTL_S = 120.0
"""How long a sign-in challenge may be answered."""

KEY_SESSION_TTL_S = 3600.0
"""Lifetime of a session opened by a signed challenge."""

PASSWORD_SESSION_TTL_S = 8 * 3600.0
"""Lifetime of a session opened with a password (a working day)."""

MAX_SESSIONS = 100_000
"""Live sessions one node keeps; the oldest go first beyond it."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass
class Session:
    key_id: str
    org: str
    kind: str
    """``key`` (signed challenge) or ``password`` (keystore)."""
    created: float
    expires: float
    username: str | None = None
    signing_key: SigningKey | None = field(default=None, repr=False)
    """The unlocked key of a password session; None for a key session."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Held while the node signs for this session, so sequence numbers come in order."""

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "org": self.org,
            "kind": self.kind,
            "username": self.username,
            "expires_at_ms": int(self.expires * 1000),
        }


class Sessions:
    """Challenges and sessions, thread-safe. ``clock`` is injectable for expiry tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._now = clock
        self._challenges: dict[str, tuple[str, float]] = {}
        self._sessions: dict[bytes, Session] = {}
        self._lock = threading.Lock()

    def challenge(self, key_id: str) -> tuple[str, float]:
        """A fresh one-time challenge for ``key_id`` and when it expires."""
        now = self._now()
        challenge = secrets.token_urlsafe(32)
        with self._lock:
            if len(self._challenges) > 10_000:
                self._challenges = {c: e for c, e in self._challenges.items() if e[1] > now}
            self._challenges[challenge] = (key_id, now + CHALLENGE_TTL_S)
        return challenge, now + CHALLENGE_TTL_S

    def take_challenge(self, key_id: str, challenge: str) -> bool:
        """Consume ``challenge``: True if it was issued for ``key_id`` and is still fresh."""
        with self._lock:
            entry = self._challenges.pop(challenge, None)
        return entry is not None and entry[0] == key_id and entry[1] > self._now()

    def open(
        self,
        key_id: str,
        org: str,
        kind: str,
        ttl: float,
        username: str | None = None,
        signing_key: SigningKey | None = None,
    ) -> tuple[str, Session]:
        now = self._now()
        token = "pc_" + secrets.token_urlsafe(32)
        session = Session(key_id, org, kind, now, now + ttl, username, signing_key)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda d: self._sessions[d].created)
                del self._sessions[oldest]
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str) -> Session | None:
        """The live session of ``token``; an expired one is forgotten and gives None."""
        digest = _digest(token)
        with self._lock:
            session = self._sessions.get(digest)
            if session is not None and session.expires <= self._now():
                del self._sessions[digest]
                return None
        return session

    def close(self, token: str) -> bool:
        """Sign out: the token is dead from now on. False if it was not live."""
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def close_key(self, key_id: str) -> int:
        """End every session of ``key_id`` (its key was revoked); how many ended."""
        with self._lock:
            dead = [d for d, s in self._sessions.items() if s.key_id == key_id]
            for digest in dead:
                del self._sessions[digest]
        return len(dead)

    def __len__(self) -> int:
        return len(self._sessions)


class SignInLimiter:
    """Failed sign-ins per account and per client, in a sliding window.

    After ``limit`` failures within ``window_s`` seconds for the same account (a
    user name or key id) or from the same client address, further attempts are
    refused until the oldest failure leaves the window, whatever the password.
    """

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *subjects: str) -> float:
        """Seconds until ``subjects`` may try again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for subject in subjects:
                failures = self._failures.get(subject)
                if not failures:
                    continue
                while failures and failures[0] <= now - self.window_s:
                    failures.popleft()
                if len(failures) >= self.limit:
                    wait = max(wait, failures[0] + self.window_s - now)
        return wait

    def failed(self, *subjects: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for subject in subjects:
                self._failures.setdefault(subject, deque()).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(account, None)
