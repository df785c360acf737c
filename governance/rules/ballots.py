"""R17: secret ballots where power is unequal.

A secret ballot is stored under a *voter token* — HMAC-SHA-256(ballot key,
vote ‖ person) — never under the person. The token keeps "one current
ballot per voter, changeable until close" enforceable by a unique index,
while a reader of the database alone cannot tell whose ballot it is. The
voter gets a short *receipt*; at close the vote publishes every counted
(receipt, option), so anyone can recount and every voter can find theirs.
The audit event of a secret ballot holds a *commitment* (an HMAC of vote,
receipt and option under the same key), not the option.

Pure: the key is passed in.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.rules.voting import Tally, tally_vote

#: Crockford's base32 without I, L, O, U: nothing to misread when copied from paper or a phone.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DEFAULT_SECRET_GROUPS: tuple[str, ...] = ("frontline",)
LEGACY = "open ballot (before secret ballots existed)"


def _mac(key: bytes, *parts: object) -> str:
    return hmac.new(key, "\x1f".join(str(p) for p in parts).encode("utf-8"), hashlib.sha256).hexdigest()


def voter_token(key: bytes, vote_id: int, person_id: int) -> str:
    """The token a secret ballot is stored under: the same for every ballot one person casts in one vote."""
    return _mac(key, "voter", vote_id, person_id)


def commitment(key: bytes, vote_id: int, receipt: str, option: str) -> str:
    """What the audit event of a secret ballot records instead of the option."""
    return _mac(key, "commit", vote_id, receipt, option)


#: A ballot's reason is a sentence or two beside it, not an essay (open groups only, R17).
REASON_MAX = 300


def reason_refused_in_secret(reason: object) -> bool:
    """R17: whether ``reason`` is something (anything but nothing or blank) — which a secret
    ballot must not carry: a reason in a person's own words could tell whose ballot it is."""
    return reason is not None and not (isinstance(reason, str) and not reason.strip())


def new_receipt() -> str:
    """A fresh receipt, e.g. ``7KQ2M-9XD3R`` (50 random bits, 5 per character)."""
    bits = secrets.randbits(50)
    chars = "".join(RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def normalise_receipt(text: str) -> str:
    """A receipt as typed (any case, spaces, O for 0…) in its canonical form."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum()).replace("O", "0").replace("I", "1") \
        .replace("L", "1")
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else cleaned


def new_ballot_id() -> int:
    """A random row id: insertion order must not tell whose ballot is whose."""
    return secrets.randbits(62) + 1


def parse_groups(stored: str | None) -> tuple[str, ...] | None:
    """The secret groups a vote (or charter) stored; None for a vote opened before secret ballots."""
    if stored is None:
        return None
    groups = json.loads(stored)
    return tuple(str(g) for g in groups)


def dump_groups(groups: Iterable[str]) -> str:
    return json.dumps(sorted(set(groups)))


@dataclass(frozen=True)
class Published:
    """What a closed vote publishes about its secret groups."""

    groups: tuple[str, ...]
    receipts: tuple[tuple[str, str, str], ...]  # (receipt, group, option), sorted by receipt
    participants: tuple[tuple[int, str, str], ...]  # (person id, name, group), sorted by name

    def as_dict(self) -> dict[str, Any]:
        return {"groups": list(self.groups),
                "receipts": [{"receipt": r, "group": g, "option": o} for r, g, o in self.receipts],
                "participants": [{"person_id": p, "name": n, "group": g} for p, n, g in self.participants]}


def published(groups: Sequence[str], receipts: Iterable[tuple[str, str, str]],
              participants: Iterable[tuple[int, str, str]]) -> Published:
    """The (receipt, option) list and who took part, in an order that tells nothing."""
    return Published(tuple(sorted(groups)), tuple(sorted(receipts)),
                     tuple(sorted(participants, key=lambda p: (p[1], p[0]))))


def recount(*, kind: str, secret: Iterable[Mapping[str, Any]], named: Iterable[Mapping[str, Any]],
            eligible: Mapping[str, int], terms: Any, adopt_available: bool, proposed: str | None) -> Tally:
    """The tally recomputed from what a closed vote published: the (receipt, option)
    list of its secret groups and the named ballots of its open groups."""
    ballots = [(e["group"], e["option"]) for e in secret] + [(v["group"], v["option"]) for v in named]
    return tally_vote(kind, ballots, eligible=eligible, terms=terms, adopt_available=adopt_available,
                      proposed=proposed)


def named_order(ballot: Mapping[str, Any]) -> tuple[str, str, int]:
    """How a vote's named ballots are listed: by group, then name (then id, for namesakes).

    Ordered in Python, never by a database's collation: the list is frozen into the
    vote's result and must come out the same on SQLite, PostgreSQL and in the benchmark."""
    return (str(ballot["group"]), str(ballot["name"]), int(ballot["person_id"]))
