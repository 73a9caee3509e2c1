"""A node's home directory: genesis, keys and data.

::

    DIR/genesis.json                 the network's genesis document
    DIR/node.json                    this node's settings (its validator key file, ...)
    DIR/keys/validator.json          the validator signing key (solo engine)
    DIR/keys/<ORG>/<user>.json       signing keys of the organisations this home holds
    DIR/keys/<ORG>/encryption.json   the organisation's document encryption key
    DIR/data/portchain.db            the SQLite database

Private keys are files with mode 0600 and are never printed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from portchain.app.genesis import GenesisDoc, load_genesis
from portchain.kernel.crypto import EncryptionKey, SigningKey

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class HomeError(Exception):
    """The home directory is missing something or holds something unexpected."""


@dataclass(frozen=True)
class KeyFile:
    org: str
    user: str
    key: SigningKey

    @property
    def key_id(self) -> str:
        return self.key.key_id


class Home:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def genesis_path(self) -> Path:
        return self.path / "genesis.json"

    @property
    def db_path(self) -> Path:
        return self.path / "data" / "portchain.db"

    @property
    def blobs_dir(self) -> Path:
        """Documents' ciphertexts, named by their SHA-256 (node/blobs.py)."""
        return self.path / "data" / "blobs"

    @property
    def keystore_path(self) -> Path:
        """Portal users' keys, sealed under their passwords (node/keystore.py)."""
        return self.path / "data" / "keystore.db"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    def exists(self) -> bool:
        return self.genesis_path.exists()

    def is_empty(self) -> bool:
        return not self.path.exists() or not any(self.path.iterdir())

    def genesis(self) -> GenesisDoc:
        if not self.genesis_path.exists():
            raise HomeError(
                f"{self.path} has no genesis.json; run portchain init --home {self.path}"
            )
        return load_genesis(self.genesis_path)

    def write_genesis(self, genesis: GenesisDoc) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.genesis_path.write_text(json.dumps(genesis.model_dump(), indent=2) + "\n")

    def lock(self) -> IO[str]:
        """Hold the home's lock for as long as the returned file is open: one node per home."""
        lock_path = self.path / "data" / "node.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise HomeError(f"a node is already running on {self.path}") from None
        return handle

    def is_locked(self) -> bool:
        lock_path = self.path / "data" / "node.lock"
        if not lock_path.exists():
            return False
        with lock_path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    @property
    def api_file(self) -> Path:
        """Where a running node writes the address of its API."""
        return self.path / "data" / "api.json"

    # -- keys ------------------------------------------------------------------
    def _write_secret(self, path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")

    def key_path(self, org: str, user: str = "admin") -> Path:
        if not _NAME.match(org) or not _NAME.match(user):
            raise HomeError(f"{org}/{user} is not a valid key name")
        return self.keys_dir / org / f"{user}.json"

    def new_key(self, org: str, user: str = "admin") -> KeyFile:
        """Create a signing key file for ``org``/``user`` (refuses to overwrite one)."""
        path = self.key_path(org, user)
        if path.exists():
            raise HomeError(f"a key {org}/{user} already exists")
        key = SigningKey.generate()
        self._write_secret(
            path, {"org": org, "user": user, "key_id": key.key_id, "seed": key.seed.hex()}
        )
        return KeyFile(org, user, key)

    def load_key(self, who: str) -> KeyFile:
        """The key named ``ORG`` (its admin key) or ``ORG/USER``."""
        org, _, user = who.partition("/")
        path = self.key_path(org, user or "admin")
        if not path.exists():
            raise HomeError(f"no key {org}/{user or 'admin'} in {self.keys_dir}")
        data = json.loads(path.read_text())
        return KeyFile(org, user or "admin", SigningKey.from_seed(bytes.fromhex(data["seed"])))

    def replace_key(self, who: str, key: SigningKey) -> None:
        """Point ``ORG/USER`` at a new key (after a rotation); the old file is kept as .old."""
        org, _, user = who.partition("/")
        path = self.key_path(org, user or "admin")
        if path.exists():
            path.replace(path.with_suffix(".json.old"))
        self._write_secret(
            path,
            {"org": org, "user": user or "admin", "key_id": key.key_id, "seed": key.seed.hex()},
        )

    def new_encryption_key(self, org: str) -> EncryptionKey:
        key = EncryptionKey.generate()
        self._write_secret(self.keys_dir / org / "encryption.json", {"secret": key.secret.hex()})
        return key

    def load_encryption_key(self, org: str) -> EncryptionKey:
        """``org``'s private encryption key (it opens the document keys sealed to ``org``)."""
        path = self.keys_dir / org / "encryption.json"
        if not path.exists():
            raise HomeError(f"no encryption key of {org} in {self.keys_dir}")
        return EncryptionKey(bytes.fromhex(json.loads(path.read_text())["secret"]))

    def validator_key(self) -> SigningKey:
        path = self.keys_dir / "validator.json"
        if not path.exists():
            raise HomeError(f"no validator key in {self.keys_dir}")
        return SigningKey.from_seed(bytes.fromhex(json.loads(path.read_text())["seed"]))

    def new_validator_key(self) -> SigningKey:
        key = SigningKey.generate()
        self._write_secret(
            self.keys_dir / "validator.json", {"key_id": key.key_id, "seed": key.seed.hex()}
        )
        return key

    def list_keys(self) -> list[tuple[str, str, str]]:
        """(org, user, key id) of every signing key file in this home."""
        out = []
        for path in sorted(self.keys_dir.glob("*/*.json")):
            if path.name == "encryption.json":
                continue
            data = json.loads(path.read_text())
            out.append((data["org"], data["user"], data["key_id"]))
        return out
