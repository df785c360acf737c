"""Passwords: Argon2id hashes, the legacy scrypt ones, and what a password must be.

New hashes are Argon2id with RFC 9106's second recommended ("low memory")
profile: t = 3, m = 64 MiB, p = 4, 16-byte salt, 32-byte tag (argon2-cffi's
``RFC_9106_LOW_MEMORY``). Hashes written before (scrypt, N = 2^14) still verify,
and ``needs_rehash`` says to replace them — the sign-in does, at the next
correct password, so nobody has to reset anything.

Policy (NIST SP 800-63B): at least 12 characters, at most 200, and not one of
the ~20,000 most common passwords (``data/common-passwords.txt.gz``, the list
Django ships, BSD licence), nor such a password with digits or symbols around
it ("Password2026!"), nor one character repeated, nor the demo's published
password. No composition rules, no expiry.
"""
from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from governance.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 200
#: The password every person of the *demo* organisation shares. It is public
#: (printed on the demo's sign-in page), so no real account may use it.
DEMO_PASSWORD = "pilot-demo-2026"
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"

#: The profile every new hash uses. Tests may swap ``HASHER`` for a cheaper one;
#: ``PROFILE`` stays the product's.
PROFILE = RFC_9106_LOW_MEMORY
HASHER = PasswordHasher.from_parameters(PROFILE)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (PHC string format, salt included)."""
    return HASHER.hash(password)


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (Argon2id, or a legacy scrypt hash)."""
    if not stored or not isinstance(password, str):
        return False
    if stored.startswith("scrypt$"):
        return _check_scrypt(password, stored)
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a legacy scrypt hash or an Argon2 hash made with other parameters than
    ``HASHER``'s (the product's ``PROFILE``)."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def dummy_check(password: str) -> None:
    """Spend what a real check spends, so an unknown email takes as long as a known one."""
    check_password(password if isinstance(password, str) else "", _dummy_hash())


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


# ------------------------------------------------------------------ policy
@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def refusal(password: object) -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    if not isinstance(password, str):
        return "The password must be text."
    if len(password) < MIN_LENGTH:
        return (f"The password must be at least {MIN_LENGTH} characters long; a few unrelated words "
                "make a good one.")
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    lowered = password.lower()
    core = _AROUND.sub("", lowered)
    if lowered == DEMO_PASSWORD or DEMO_PASSWORD in lowered:
        return "That is the demo organisation's published password; choose one of your own."
    if len(set(lowered)) <= 2:
        return "The password repeats one or two characters; choose something harder to guess."
    listed = common_passwords()
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered == lowered[:size] * (len(lowered) // size):
            piece = lowered[:size]
            if size <= 4 or piece in listed:
                return "The password repeats a short or common piece; choose something harder to guess."
            break
    if lowered in listed or (len(core) >= 4 and core in listed):
        return ("That password is on the list of the most common passwords, which attackers try "
                "first; choose a less predictable one.")
    return None


def require_acceptable(password: object, field: str = "Password") -> str:
    """``password`` if the policy allows it, else ``InvalidInput`` saying why."""
    reason = refusal(password)
    if reason:
        raise InvalidInput(reason, field=field)
    assert isinstance(password, str)
    return password


_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def one_time_password() -> str:
    """A random 20-letter password in four groups (about 99 bits), easy to copy by hand."""
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(letters[i:i + 5] for i in range(0, 20, 5))
