"""R18: signed checkpoints of the audit chain, and witnesses' cosignatures.

A checkpoint is a small text note anyone can keep and check later — the
C2SP "signed note" / "tlog-checkpoint" format used by Go's checksum database
and Sigstore's Rekor v2::

    pilot-evaluation-governance/Marrowdale District Council
    1204
    n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=

    — pilot-evaluation-governance/Marrowdale District Council Az3grl6f6BoS…

The body is the log's origin line, the number of events, and the head
event's hash (base64); the signature line carries the first four bytes of
the key's hash and an Ed25519 signature over the body. A witness (an
auditor) adds a cosignature line (C2SP tlog-cosignature): a signature, with
their own key and a timestamp, over the same body.

Verifying needs only this module, ``cryptography`` and the public key.
"""
from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DASH = "\u2014"
SIG_ED25519 = 0x01
SIG_COSIGNATURE = 0x04
ORIGIN_PREFIX = "pilot-evaluation-governance/"


class CheckpointError(ValueError):
    """A checkpoint note that does not parse or does not verify."""


def origin_for(organisation: str) -> str:
    """The origin line naming an organisation's log (one line, no control characters)."""
    name = " ".join(organisation.split()) or "organisation"
    return ORIGIN_PREFIX + name


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, key: Ed25519PublicKey, sig_type: int = SIG_ED25519) -> bytes:
    """The 4-byte key id of a signed-note key: SHA-256(name ‖ LF ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + _raw(key)).digest()[:4]


def key_id(name: str, key: Ed25519PublicKey, sig_type: int = SIG_ED25519) -> str:
    return key_hash(name, key, sig_type).hex()


@dataclass(frozen=True)
class CheckpointBody:
    """What a checkpoint says: this log had ``size`` events, the last one hashing to ``head_hash``."""

    origin: str
    size: int
    head_hash: str  # hex, as the chain stores it

    def text(self) -> str:
        if "\n" in self.origin or not self.origin.strip():
            raise CheckpointError("the origin must be one non-empty line")
        root = base64.b64encode(bytes.fromhex(self.head_hash)).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"


def parse_body(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("a checkpoint body is three lines: origin, size, root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit():
        raise CheckpointError(f"the size line {size!r} is not a number")
    try:
        digest = base64.b64decode(root, validate=True)
    except ValueError:
        raise CheckpointError(f"the root hash {root!r} is not base64") from None
    if len(digest) != 32:
        raise CheckpointError("the root hash is not 32 bytes")
    return CheckpointBody(origin, int(size), digest.hex())


def sign(body: CheckpointBody, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note: body, a blank line, and the signature line."""
    text = body.text()
    signature = key.sign(text.encode("utf-8"))
    blob = base64.b64encode(key_hash(name, key.public_key()) + signature).decode("ascii")
    return f"{text}\n{DASH} {name} {blob}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(body text, [(key name, decoded signature blob), …]) of a signed note."""
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise CheckpointError("a signed note has its body, a blank line, then signature lines")
    out = []
    for line in sigs.split("\n"):
        if not line:
            continue
        if not line.startswith(DASH + " "):
            raise CheckpointError(f"not a signature line: {line[:40]!r}")
        name, _, blob = line[2:].rpartition(" ")
        try:
            out.append((name, base64.b64decode(blob, validate=True)))
        except ValueError:
            raise CheckpointError(f"the signature of {name!r} is not base64") from None
    return body + "\n", out


def verify(note: str, name: str, key: Ed25519PublicKey) -> CheckpointBody:
    """The checkpoint a note states, if ``key`` (named ``name``) signed it; else ``CheckpointError``."""
    text, signatures = split_note(note)
    wanted = key_hash(name, key)
    for signer, blob in signatures:
        if signer == name and blob[:4] == wanted:
            try:
                key.verify(blob[4:], text.encode("utf-8"))
            except InvalidSignature:
                raise CheckpointError(f"the signature of {name} does not match this checkpoint: "
                                      "the note was altered, or signed by another key") from None
            return parse_body(text)
    raise CheckpointError(f"the checkpoint carries no signature by {name} with this public key")


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(note: str, name: str, key: Ed25519PrivateKey, moment: datetime | None = None) -> str:
    """A witness's cosignature line for a checkpoint note (C2SP tlog-cosignature)."""
    text, _ = split_note(note)
    parse_body(text)
    timestamp = int((moment or datetime.now(UTC)).timestamp())
    signature = key.sign(_cosigned_message(text, timestamp))
    blob = key_hash(name, key.public_key(), SIG_COSIGNATURE) + struct.pack(">Q", timestamp) + signature
    return f"{DASH} {name} {base64.b64encode(blob).decode('ascii')}"


def verify_cosignature(note: str, line: str, name: str, key: Ed25519PublicKey) -> datetime:
    """When ``name`` cosigned the checkpoint in ``note`` with ``key``; else ``CheckpointError``."""
    text, _ = split_note(note)
    _, signatures = split_note(text + "\n" + line.strip() + "\n")
    for signer, blob in signatures:
        if signer != name or len(blob) != 4 + 8 + 64:
            continue
        if blob[:4] != key_hash(name, key, SIG_COSIGNATURE):
            raise CheckpointError(f"the cosignature of {name} was not made with this public key")
        (timestamp,) = struct.unpack(">Q", blob[4:12])
        try:
            key.verify(blob[12:], _cosigned_message(text, timestamp))
        except InvalidSignature:
            raise CheckpointError(f"the cosignature of {name} does not match this checkpoint") from None
        return datetime.fromtimestamp(timestamp, UTC)
    raise CheckpointError(f"no cosignature by {name} on this checkpoint")


def public_key_from_raw(raw_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(raw_b64))


def raw_public_key(key: Ed25519PublicKey) -> str:
    """A public key as it is stored beside a witness: base64 of its 32 raw bytes."""
    return base64.b64encode(_raw(key)).decode("ascii")


def split_notes(text: str) -> list[str]:
    """The notes of a checkpoints file: each ends with its signature lines, then a blank line."""
    notes: list[str] = []
    current: list[str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        if current and not block.startswith(DASH):
            notes.append("\n\n".join(current) + "\n")
            current = []
        current.append(block.strip("\n"))
    if current:
        notes.append("\n\n".join(current) + "\n")
    return notes
