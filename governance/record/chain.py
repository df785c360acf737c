"""The hash chain of the audit record (rule R11), in plain Python.

Each event's hash is SHA-256 over the canonical JSON (sorted keys, no
insignificant whitespace, UTF-8) of the event: sequence number, UTC time,
actor, action, entity, payload (before/after) and the previous event's hash.
The stored payload *is* its canonical JSON text, so verifying needs no
re-parsing: the event's canonical bytes are assembled around it.

This module imports nothing but the standard library, so an export can be
verified on a machine with only Python and this package (``docs/record.md``).
The database side (appending, streaming the stored chain) is
``governance.record.log``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# ----------------------------------------------------------- canonical form
def jsonable(value: Any) -> Any:
    """Plain JSON types for a payload value (times as canonical UTC text, dates as ISO)."""
    # Fast path for exact plain types (most values); subclasses (StrEnum, Counter…) take the
    # general path below, so the result is the same either way.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float and math.isfinite(value):
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number in an audit payload")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return value


#: ``json.dumps`` with these options builds this very encoder on every call; built once (it is
#: stateless), the output is the same and a small payload costs a third less.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_encoder() -> json.JSONEncoder:
    """The encoder ``canonical_json`` writes with, for values already plain JSON types."""
    return _CANONICAL


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, non-ASCII kept (encoded UTF-8)."""
    return _CANONICAL.encode(jsonable(value))


def sha256_hex(data: str | bytes) -> str:
    """Hex SHA-256 of text (UTF-8) or bytes."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def format_time(moment: datetime) -> str:
    """The canonical UTC text of a moment, as events and frozen records carry it."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def json_string(value: str) -> str:
    """A JSON string literal, as ``json.dumps(value, ensure_ascii=False)`` writes it
    (quoting directly when nothing needs escaping: the common case, and fast)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return '"' + value + '"'
    return json.dumps(value, ensure_ascii=False)


_s = json_string


_EVENT_TEMPLATE = ('{"action":"%s","actor_id":%s,"actor_name":"%s","entity_id":"%s","entity_type":"%s",'
                   '"occurred_at":"%s","payload":%s,"prev_hash":"%s","seq":%d}')


def canonical_event(seq: int, occurred_at: str, actor_id: int | None, actor_name: str,
                    action: str, entity_type: str, entity_id: str, payload: str,
                    prev_hash: str) -> bytes:
    """The canonical JSON of an event, built around its stored payload text.

    Equal, byte for byte, to ``canonical_json`` of the same event as a dict
    (a test holds this), but with no parsing, so verification stays fast.
    """
    actor = "null" if actor_id is None else str(int(actor_id))
    if _NEEDS_ESCAPE.search(action + actor_name + entity_type + entity_id + occurred_at + prev_hash) is None:
        return (_EVENT_TEMPLATE % (action, actor, actor_name, entity_id, entity_type, occurred_at, payload,
                                   prev_hash, int(seq))).encode("utf-8")
    return (
        '{"action":' + _s(action) + ',"actor_id":' + actor + ',"actor_name":' + _s(actor_name)
        + ',"entity_id":' + _s(entity_id) + ',"entity_type":' + _s(entity_type)
        + ',"occurred_at":' + _s(occurred_at) + ',"payload":' + payload
        + ',"prev_hash":' + _s(prev_hash) + ',"seq":' + str(int(seq)) + "}"
    ).encode("utf-8")


def event_hash(seq: int, occurred_at: str, actor_id: int | None, actor_name: str, action: str,
               entity_type: str, entity_id: str, payload: str, prev_hash: str) -> str:
    """The hash an event with these fields must carry."""
    return hashlib.sha256(canonical_event(seq, occurred_at, actor_id, actor_name, action, entity_type,
                                          entity_id, payload, prev_hash)).hexdigest()


def rows_digest(rows: Iterable[Iterable[Any]]) -> str:
    """SHA-256 of a set of rows (order-free): what a closing event records of the
    ballots or responses it closes, so a later direct edit of one of them shows."""
    body = json.dumps(sorted([[str(v) for v in row] for row in rows]), separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_mac(key: bytes, digest: str) -> str:
    """R18: the MAC an event appended by the application carries (HMAC-SHA-256 of its hash)."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- verifying
class EventRecord(NamedTuple):
    """One stored event. A tuple, so database rows in this column order verify as they are."""

    seq: int
    occurred_at: str
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    payload: str
    prev_hash: str
    hash: str


EVENT_FIELDS = EventRecord._fields


@dataclass(frozen=True)
class ChainVerification:
    """Result of verifying the chain: ``ok``, or the first broken place and what is wrong there."""

    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    #: content_changed | link_broken | gap | reordered | inserted | truncated | head_mismatch
    problem: str | None = None
    detail: str = ""
    #: How many kept heads (checkpoints, earlier exports, decisions) the chain was held against.
    heads_checked: int = 0
    #: For head_mismatch: the hash kept earlier and the one found now.
    kept_hash: str | None = None
    found_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        if self.ok:
            against = f", held against {self.heads_checked:,} kept head(s)" if self.heads_checked else ""
            return (f"The audit chain verifies: {self.events_checked:,} events, "
                    f"head #{self.head_seq} {self.head_hash[:12]}…{against}")
        return f"The audit chain is broken at event #{self.broken_at}: {self.detail}"


KeptHeads = Mapping[int, str] | Iterable[tuple[int, str]]


def _kept(heads: KeptHeads | None) -> dict[int, str]:
    if heads is None:
        return {}
    items = heads.items() if isinstance(heads, Mapping) else heads
    kept: dict[int, str] = {}
    for seq, digest in items:
        if kept.get(int(seq), digest) != digest:
            raise ValueError(f"two different hashes were kept for event #{seq}")
        kept[int(seq)] = digest
    return kept


def verify_events(events: Iterable[EventRecord | tuple[Any, ...]], *,
                  locate_hash: Callable[[str], int | None] = lambda h: None,
                  kept_heads: KeptHeads | None = None,
                  start: tuple[int, str] = (0, GENESIS_HASH)) -> ChainVerification:
    """Verify a stream of events in sequence order.

    Long on purpose: it is the hot loop of every verification (millions of events), and
    a call per event for each check would cost more than the hashing.

    ``kept_heads`` are (seq, hash) pairs recorded earlier (signed checkpoints,
    a head printed at an export, a decision's chain head): the event at each
    of those sequence numbers must carry exactly that hash wherever it falls
    in the stream, and the stream must reach each of them (else its tail was
    cut). A rewritten history with every later hash recomputed is caught at
    the first kept head after the rewrite.

    ``start`` = (seq, hash) of an event already verified (a checkpoint):
    verification resumes after it, so its cost is proportional to the
    events since. ``locate_hash`` finds which sequence number a hash belongs
    to (asked only at a broken link, to tell a reordering or an insertion
    from a plain broken link).
    """
    kept = _kept(kept_heads)
    start_seq, prev = start
    if start_seq and kept.get(start_seq, prev) != prev:
        raise ValueError(f"the starting point #{start_seq} disagrees with a kept head")
    expected_seq = start_seq + 1
    checked = 0
    heads_seen = 1 if start_seq in kept else 0

    def broken(at: int, problem: str, detail: str, **extra: Any) -> ChainVerification:
        return ChainVerification(False, checked, expected_seq - 1, prev, at, problem, detail, heads_seen,
                                 **extra)

    sha256 = hashlib.sha256
    for ev in events:
        seq, occurred_at, actor_id, actor_name, action, entity_type, entity_id, payload, prev_hash, digest = ev
        if seq <= start_seq:
            continue
        if seq > expected_seq:
            owner = locate_hash(prev_hash)
            if owner is not None and owner >= expected_seq:
                return broken(expected_seq, "reordered",
                              f"event #{seq} appears where #{expected_seq} should be: events "
                              "were moved out of order.")
            missing = (f"event #{expected_seq} is missing" if seq == expected_seq + 1
                       else f"events #{expected_seq}–#{seq - 1} are missing")
            return broken(expected_seq, "gap", f"{missing} (deleted from the record).")
        if seq < expected_seq:
            return broken(seq, "reordered", f"event #{seq} appears after #{expected_seq - 1}.")
        recomputed = sha256(canonical_event(seq, occurred_at, actor_id, actor_name, action, entity_type,
                                            entity_id, payload, prev_hash)).hexdigest()
        if prev_hash != prev:
            owner = locate_hash(prev_hash)
            if owner is not None and owner > seq:
                return broken(seq, "reordered",
                              f"event #{seq} links to event #{owner}, which comes after it: "
                              "events were moved out of order.")
            if owner is not None and owner < seq - 1:
                return broken(owner + 1, "inserted",
                              f"event #{seq} links to #{owner}, so the event(s) from #{owner + 1} "
                              "were inserted into the record afterwards.")
            what = " and its own content was changed" if recomputed != digest else ""
            return broken(seq, "link_broken",
                          f"its previous-hash does not match event #{seq - 1}{what}.")
        if recomputed != digest:
            return broken(seq, "content_changed",
                          f"the stored hash does not match the event's content "
                          f"(action '{action}' on {entity_type} {entity_id}): "
                          "the event or its hash was altered.")
        if kept and seq in kept:
            if kept[seq] != digest:
                return broken(seq, "head_mismatch",
                              f"a head kept earlier says event #{seq} is {kept[seq][:16]}…, but the "
                              f"record now has {digest[:16]}… there: the history up to #{seq} was "
                              "rewritten (every later hash recomputed).",
                              kept_hash=kept[seq], found_hash=digest)
            heads_seen += 1
        checked += 1
        expected_seq, prev = seq + 1, digest

    beyond = sorted(s for s in kept if s > expected_seq - 1)
    if beyond:
        return broken(expected_seq, "truncated",
                      f"the record ends at #{expected_seq - 1} but a kept head says "
                      f"#{beyond[-1]}: events #{expected_seq}–#{beyond[-1]} were removed from the end.")
    return ChainVerification(True, checked, expected_seq - 1, prev, heads_checked=heads_seen)


#: The bytes JSON escapes in a string (a quote, a backslash, control characters): a field free of them is
#: written as it is. Deleting them with ``bytes.translate`` and comparing is cheaper than a regex search.
_ESCAPED_BYTES = bytes(range(0x20)) + b'"\\'
#: ``_EVENT_TEMPLATE`` as bytes: rows read as UTF-8 bytes are assembled without decoding them.
_EVENT_TEMPLATE_BYTES = _EVENT_TEMPLATE.encode("ascii")
_GENESIS_BYTES = GENESIS_HASH.encode("ascii")


class FastPass(NamedTuple):
    """How far ``verify_fast`` got: events checked, kept heads met, the last event that holds."""

    checked: int
    heads_seen: int
    seq: int
    hash: str
    #: True when the stream ended with every event holding; False when it stopped at one that did not.
    finished: bool


def verify_fast(batches: Iterable[Iterable[tuple[Any, ...]]], kept: Mapping[int, str],
                start: tuple[int, str] = (0, GENESIS_HASH)) -> FastPass:
    """The lean first pass of a verification, over rows in ``EventRecord`` order whose text fields
    are UTF-8 bytes (the database hands them over undecoded), a batch at a time.

    It checks what ``verify_events`` checks — sequence, links, hashes, kept heads — but says
    nothing about what is wrong: it stops just before the first event that does not hold, and
    the caller hands the rest to ``verify_events`` from there (which names the problem exactly).
    No per-event objects, no decoding: the canonical bytes are assembled from the stored bytes
    (the same bytes ``canonical_event`` builds, a test holds this); a row whose text needs JSON
    escaping (rare) is decoded and built by ``canonical_event``."""
    start_seq, start_hash = start
    expected, prev = start_seq + 1, start_hash.encode("ascii")
    checked, heads_seen = 0, (1 if start_seq in kept else 0)
    wanted = {s: kept[s].encode("ascii") for s in kept if s > start_seq}
    marks = iter(sorted(wanted))
    next_mark = next(marks, -1)
    template, sha256, escaped = _EVENT_TEMPLATE_BYTES, hashlib.sha256, _ESCAPED_BYTES
    try:
        for rows in batches:
            for seq, at, actor_id, name, action, etype, eid, payload, prev_hash, digest in rows:
                if seq != expected or prev_hash != prev:
                    if seq <= start_seq:
                        continue
                    return FastPass(checked, heads_seen, expected - 1, prev.decode("ascii"), False)
                # prev_hash equals the previous event's (hex) hash: it needs no escaping.
                text = action + name + etype + eid + at
                if text.translate(None, escaped) == text:
                    body = template % (action, b"null" if actor_id is None else b"%d" % actor_id, name, eid, etype,
                                       at, payload, prev_hash, seq)
                else:  # a quote, backslash or control character: built the careful way
                    body = canonical_event(seq, at.decode(), actor_id, name.decode(), action.decode(),
                                           etype.decode(), eid.decode(), payload.decode(), prev_hash.decode())
                if sha256(body).hexdigest().encode("ascii") != digest:
                    return FastPass(checked, heads_seen, expected - 1, prev.decode("ascii"), False)
                if seq == next_mark:
                    if wanted[seq] != digest:
                        return FastPass(checked, heads_seen, expected - 1, prev.decode("ascii"), False)
                    heads_seen += 1
                    next_mark = next(marks, -1)
                checked += 1
                expected, prev = seq + 1, digest
    except (TypeError, AttributeError, ValueError):  # a value of the wrong type (SQLite keeps any), or
        # text that is not UTF-8: the careful pass says what it is
        return FastPass(checked, heads_seen, expected - 1, prev.decode("ascii"), False)
    return FastPass(checked, heads_seen, expected - 1, prev.decode("ascii"), True)


# ------------------------------------------------------------------ exports
def export_record(ev: EventRecord | tuple[Any, ...]) -> dict[str, Any]:
    """One event as exported: its fields, the payload as a JSON object."""
    out = dict(zip(EVENT_FIELDS, ev, strict=True))
    out["payload"] = json.loads(out["payload"])
    return out


def export_line(ev: EventRecord | tuple[Any, ...]) -> str:
    """One exported event as a JSON Lines line (no newline)."""
    return json.dumps(export_record(ev), ensure_ascii=False)


def record_from_export(row: Mapping[str, Any]) -> EventRecord:
    """The event an exported line describes (payload back to its canonical text)."""
    return EventRecord(int(row["seq"]), row["occurred_at"], row["actor_id"], row["actor_name"],
                       row["action"], row["entity_type"], str(row["entity_id"]),
                       canonical_json(row["payload"]), row["prev_hash"], row["hash"])


def read_export(path: Path) -> Iterator[EventRecord]:
    """The events of an export file, streamed (constant memory)."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield record_from_export(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"line {number} of {path.name} is not an exported event ({exc})") from None


def verify_export(lines: Iterable[str], kept_heads: KeptHeads | None = None) -> ChainVerification:
    """Verify an exported chain (JSON Lines, one event per line) held in memory."""
    records = [record_from_export(json.loads(line)) for line in lines if line.strip()]
    by_hash = {r.hash: r.seq for r in records}
    return verify_events(records, locate_hash=by_hash.get, kept_heads=kept_heads)


def verify_export_file(path: Path, kept_heads: KeptHeads | None = None) -> ChainVerification:
    """Verify an export file as a stream, against any number of kept heads."""

    def locate(digest: str) -> int | None:  # only asked at a broken link: a second pass
        return next((r.seq for r in read_export(path) if r.hash == digest), None)

    return verify_events(read_export(path), locate_hash=locate, kept_heads=kept_heads)
