"""The keys the product keeps outside its database.

* the **ballot key** (32 random bytes): voter tokens and ballot commitments of
  secret ballots are HMACs under it (R17), so the database alone cannot pair a
  person with a secret ballot;
* the **signing key** (Ed25519): it signs the checkpoints of the audit chain
  (R18), so whoever runs the database cannot rewrite history unnoticed.

For the embedded default (a SQLite file) both are generated on first use
*beside* the database file (``governance.db.ballot-key``,
``governance.db.signing-key.pem``), never inside it. A deployment names them
(``GOVERNANCE_BALLOT_KEY_FILE``, ``GOVERNANCE_SIGNING_KEY_FILE``; make them
with ``python -m governance.audit keygen PATH`` and
``python -m governance.audit ballot-keygen PATH``) and they must exist.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import GovernanceError

BALLOT_KEY_ENV = "GOVERNANCE_BALLOT_KEY_FILE"
SIGNING_KEY_ENV = "GOVERNANCE_SIGNING_KEY_FILE"


class KeyMissing(GovernanceError):
    """A key the act needs is not configured; nothing was written."""


def write_ballot_key(path: Path) -> None:
    """Create a new ballot key file (refuses to overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    path.chmod(0o600)


def write_signing_key(path: Path) -> Ed25519PublicKey:
    """Create a new Ed25519 signing key file (PEM, refuses to overwrite); returns its public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as out:
        out.write(pem)
    path.chmod(0o600)
    return key.public_key()


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ``ValueError`` if it is not one."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM; ``ValueError`` if it is not one."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


@dataclass
class Keys:
    """Where the keys live, and whether they may be made on first use."""

    ballot_key_file: Path | None
    signing_key_file: Path | None
    generate: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _ballot: bytes | None = field(default=None, repr=False, compare=False)
    _signing: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)

    @classmethod
    def beside(cls, database_file: Path) -> Keys:
        """The embedded default: key files next to the SQLite file, made on first use."""
        return cls(Path(f"{database_file}.ballot-key"), Path(f"{database_file}.signing-key.pem"), generate=True)

    @classmethod
    def for_url(cls, url: str) -> Keys:
        """Keys named by the environment, else (SQLite file only) beside the database file."""
        ballot, signing = os.environ.get(BALLOT_KEY_ENV), os.environ.get(SIGNING_KEY_ENV)
        if ballot or signing:
            return cls(Path(ballot) if ballot else None, Path(signing) if signing else None)
        path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
        if path and path != ":memory:":
            return cls.beside(Path(path))
        return cls(None, None)

    def ballot_key(self) -> bytes:
        """The secret-ballot HMAC key (read once; made on first use for the embedded default)."""
        with self._lock:
            if self._ballot is None:
                path = self._need(self.ballot_key_file, BALLOT_KEY_ENV, "ballot-keygen")
                if not path.exists() and self.generate:
                    with contextlib.suppress(FileExistsError):  # another process made it first
                        write_ballot_key(path)
                if not path.exists():
                    raise KeyMissing(f"The ballot key file {path} does not exist; nothing was saved. "
                                     "Restore it from your backup, or (for a new organisation) make one with "
                                     f"`python -m governance.audit ballot-keygen {path}`.")
                self._ballot = bytes.fromhex(path.read_text(encoding="ascii").strip())
                if len(self._ballot) < 32:
                    raise KeyMissing(f"The ballot key in {path} is too short (32 bytes needed).")
            return self._ballot

    def signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs checkpoints (made on first use for the embedded default)."""
        with self._lock:
            if self._signing is None:
                path = self._need(self.signing_key_file, SIGNING_KEY_ENV, "keygen")
                if not path.exists() and self.generate:
                    with contextlib.suppress(FileExistsError):  # another process made it first
                        write_signing_key(path)
                if not path.exists():
                    raise KeyMissing(f"The checkpoint signing key {path} does not exist; nothing was saved. "
                                     f"Make one with `python -m governance.audit keygen {path}`.")
                self._signing = load_private_key(path.read_bytes())
            return self._signing

    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key().public_key()

    def record_mac_key(self) -> bytes:
        """The key of the MAC every audit event carries (derived from the signing key, R18)."""
        raw = self.signing_key().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption())
        return hashlib.sha256(b"pilot-evaluation-governance record mac\x00" + raw).digest()

    @staticmethod
    def _need(path: Path | None, env: str, command: str) -> Path:
        if path is None:
            raise KeyMissing(f"No key file is configured: set {env} to a file made with "
                             f"`python -m governance.audit {command} PATH` (kept outside the database).")
        return path
