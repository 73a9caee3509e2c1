"""The node's keystore: user keys of portal users, each sealed under its user's password.

A person signs in to the portal with a user name and a password; the node then
signs transactions for them with their registered user key. The key is stored
encrypted: a 32-byte key is derived from the password with Argon2id (memory-hard,
libsodium's "interactive" limits: 64 MiB, about a tenth of a second per try) and
a fresh 16-byte salt, and the key's seed is sealed with XSalsa20-Poly1305
(``nacl.secret.SecretBox``). Nothing else about the password is stored: a wrong
password is simply one that does not open the box, so a stolen keystore gives an
attacker one Argon2id run per guess and nothing more.

The keystore sits beside the node's database in ``data/keystore.db`` (mode 0600)
and is this node's alone: it is not part of the ledger.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from portchain.kernel.crypto import SigningKey

USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
"""User names: 2 to 32 characters, lower case letters, digits, '.', '_' and '-'."""

PASSWORD_MIN = 10
"""Shortest password the keystore accepts (characters)."""

PASSWORD_MAX = 256

OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    key_id TEXT NOT NULL,
    salt BLOB NOT NULL,
    sealed_seed BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
"""


class KeystoreError(Exception):
    """A keystore operation was refused; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class WrongPassword(Exception):
    """The user does not exist or the password does not open its key (indistinguishable)."""


@dataclass(frozen=True)
class User:
    username: str
    org: str
    key_id: str
    created_ms: int

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "org": self.org,
            "key_id": self.key_id,
            "created_ms": self.created_ms,
        }


def _derive(password: str, salt: bytes) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, password.encode(), salt, OPSLIMIT, MEMLIMIT
    )


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise KeystoreError(
            f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters", "password"
        )


class Keystore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(path, 0o600)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        # A dummy box so an unknown user costs the same Argon2id run as a wrong password.
        self._decoy_salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)

    def add(self, username: str, org: str, key: SigningKey, password: str) -> User:
        """Store ``key`` for ``username`` of ``org``, sealed under ``password``."""
        if not USERNAME.fullmatch(username):
            raise KeystoreError(
                "a user name is 2 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter",
                "username",
            )
        check_password(password)
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        sealed = nacl.secret.SecretBox(_derive(password, salt)).encrypt(key.seed)
        user = User(username, org, key.key_id, time.time_ns() // 1_000_000)
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                    (username, org, key.key_id, salt, bytes(sealed), user.created_ms),
                )
            except sqlite3.IntegrityError:
                raise KeystoreError(f"user {username!r} exists", "username") from None
        return user

    def unlock(self, username: str, password: str) -> tuple[User, SigningKey]:
        """The user and its key; :class:`WrongPassword` if either is wrong."""
        with self._lock:
            row = self._conn.execute(
                "SELECT username, org, key_id, created_ms, salt, sealed_seed FROM users"
                " WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None or len(password) > PASSWORD_MAX:
            _derive(password[:PASSWORD_MAX], self._decoy_salt)
            raise WrongPassword()
        try:
            seed = nacl.secret.SecretBox(_derive(password, bytes(row[4]))).decrypt(bytes(row[5]))
        except nacl.exceptions.CryptoError:
            raise WrongPassword() from None
        return User(row[0], row[1], row[2], row[3]), SigningKey.from_seed(seed)

    def users(self) -> list[User]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT username, org, key_id, created_ms FROM users ORDER BY username"
            ).fetchall()
        return [User(*row) for row in rows]

    def remove(self, username: str) -> bool:
        with self._lock:
            return (
                self._conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount > 0
            )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Keystore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
