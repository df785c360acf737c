"""R11: the append-only, hash-chained audit record.

Each event's hash is SHA-256 over the canonical JSON (sorted keys, no
insignificant whitespace, UTF-8) of the event — sequence number, UTC time,
actor, action, entity, payload (before/after) — including the previous
event's hash. The stored payload *is* its canonical JSON text, so verifying
needs no re-parsing: the event's canonical bytes are assembled around it.

``verify_chain`` (database) and ``verify_export`` (offline, from an export)
share one verifier that reports the first broken sequence number and what is
wrong there. Run offline::

    python -m governance.audit verify audit-export.jsonl
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from governance.models import AuditChainHead, AuditEvent, Person

GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# ----------------------------------------------------------- canonical form
def jsonable(value: Any) -> Any:
    """Plain JSON types for a payload value (dates as ISO strings)."""
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


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, non-ASCII kept (encoded UTF-8)."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _s(value: str) -> str:
    """A JSON string literal, as ``json.dumps(value, ensure_ascii=False)`` writes it
    (quoting directly when nothing needs escaping — the common case, and fast)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return '"' + value + '"'
    return json.dumps(value, ensure_ascii=False)


_EVENT_TEMPLATE = ('{"action":"%s","actor_id":%s,"actor_name":"%s","entity_id":"%s","entity_type":"%s",'
                   '"occurred_at":"%s","payload":%s,"prev_hash":"%s","seq":%d}')


def canonical_event(seq: int, occurred_at: str, actor_id: int | None, actor_name: str,
                    action: str, entity_type: str, entity_id: str, payload: str,
                    prev_hash: str) -> bytes:
    """The canonical JSON of an event, built around its stored payload text.

    Equal, byte for byte, to ``canonical_json`` of the same event as a dict
    (a test holds this), but with no parsing: verification stays fast.
    """
    actor = "null" if actor_id is None else str(int(actor_id))
    if _NEEDS_ESCAPE.search(action + actor_name + entity_type + entity_id + occurred_at + prev_hash) is None:
        # Nothing to escape (the common case): one format, no per-field encoding.
        return (_EVENT_TEMPLATE % (action, actor, actor_name, entity_id, entity_type, occurred_at, payload,
                                   prev_hash, int(seq))).encode("utf-8")
    return (
        '{"action":' + _s(action) + ',"actor_id":' + actor + ',"actor_name":' + _s(actor_name)
        + ',"entity_id":' + _s(entity_id) + ',"entity_type":' + _s(entity_type)
        + ',"occurred_at":' + _s(occurred_at) + ',"payload":' + payload
        + ',"prev_hash":' + _s(prev_hash) + ',"seq":' + str(int(seq)) + "}"
    ).encode("utf-8")


# ---------------------------------------------------------------- appending
def record(session: Session, *, actor: Person | None, action: str, entity_type: str,
           entity_id: object, occurred_at: datetime, before: Any = None, after: Any = None,
           **extra: Any) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Writers are serialised by the unit of work (``BEGIN IMMEDIATE`` on
    SQLite, an advisory lock on PostgreSQL), so reading the head and
    appending after it cannot fork the chain.
    """
    payload = canonical_json({"before": before, "after": after, **extra})
    head = session.get(AuditChainHead, 1)
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    when = format_time(occurred_at)
    actor_id = actor.id if actor is not None else None
    actor_name = actor.name if actor is not None else "system"
    entity = str(entity_id)
    digest = sha256_hex(canonical_event(seq, when, actor_id, actor_name, action, entity_type,
                                        entity, payload, prev_hash))
    event = AuditEvent(seq=seq, occurred_at=occurred_at, actor_id=actor_id, actor_name=actor_name,
                       action=action, entity_type=entity_type, entity_id=entity, payload=payload,
                       prev_hash=prev_hash, hash=digest)
    session.add(event)
    if head is None:
        session.add(AuditChainHead(id=1, seq=seq, hash=digest))
    else:
        head.seq, head.hash = seq, digest
    session.flush()
    return event


def chain_head(session: Session) -> tuple[int, str]:
    """(sequence number, hash) of the newest event; (0, genesis) when empty."""
    head = session.get(AuditChainHead, 1)
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


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


@dataclass(frozen=True)
class ChainVerification:
    """Result of verifying the chain. ``ok`` or the first broken place."""

    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None  # content_changed | link_broken | gap | reordered | inserted | truncated
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def summary(self) -> str:
        if self.ok:
            return (f"The audit chain verifies: {self.events_checked:,} events, "
                    f"head #{self.head_seq} {self.head_hash[:12]}…")
        return f"The audit chain is broken at event #{self.broken_at}: {self.detail}"


def verify_events(events: Iterable[EventRecord], *,
                  locate_hash: Callable[[str], int | None] = lambda h: None,
                  expected_head: tuple[int, str] | None = None) -> ChainVerification:
    """Verify a stream of events in sequence order.

    ``locate_hash`` finds which sequence number a hash belongs to (only asked
    once, at the first broken link, to tell a reordering or an insertion from
    a plain broken link). ``expected_head`` is the (seq, hash) the chain must
    reach — the stored head row, or a head recorded earlier (an export, a
    decision basis) — so that a truncated tail is caught.
    """
    expected_seq, prev = 1, GENESIS_HASH
    checked = 0

    def broken(at: int, problem: str, detail: str) -> ChainVerification:
        return ChainVerification(False, checked, expected_seq - 1, prev, at, problem, detail)

    sha256 = hashlib.sha256
    for ev in events:
        seq, occurred_at, actor_id, actor_name, action, entity_type, entity_id, payload, prev_hash, digest = ev
        if seq > expected_seq:
            owner = locate_hash(prev_hash)
            if owner is not None and owner >= expected_seq:
                # The "missing" events are present, further on: moved, not deleted.
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
        checked += 1
        expected_seq, prev = seq + 1, digest

    if expected_head is not None:
        head_seq, head_hash = expected_head
        if head_seq > expected_seq - 1:
            return broken(expected_seq, "truncated",
                          f"the record ends at #{expected_seq - 1} but its head says #{head_seq}: "
                          f"events #{expected_seq}–#{head_seq} were removed from the end.")
        if head_seq == expected_seq - 1 and head_seq > 0 and head_hash != prev:
            return broken(head_seq, "content_changed",
                          f"event #{head_seq} does not carry the hash recorded for the head.")
    return ChainVerification(True, checked, expected_seq - 1, prev)


def _time_text(dialect: str) -> Any:
    """``occurred_at`` as the canonical text, computed by the database.

    Formatting a million datetimes in Python costs seconds; the stored value
    already holds the same digits (SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff").
    """
    column = AuditEvent.__table__.c.occurred_at
    if dialect == "sqlite":
        return type_coerce(func.replace(type_coerce(column, String), " ", "T").op("||")("Z"), String)
    if dialect == "postgresql":
        return type_coerce(func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), String)
    return None


def _event_records(session: Session, batch: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """Events in sequence order, as ``EventRecord``-shaped tuples.

    Streams through the driver's own cursor (a server-side one on PostgreSQL)
    inside the session's snapshot: a million rows through the ORM layer would
    cost more than hashing them.
    """
    conn = session.connection()
    table = AuditEvent.__table__.c
    time_text = _time_text(conn.dialect.name)
    if time_text is None:  # another engine: portable, slower
        rows = conn.execute(select(*(table[name] for name in EVENT_FIELDS)).order_by(table.seq)
                            .execution_options(yield_per=batch))
        for seq, at, *rest in rows:
            yield (seq, format_time(at), *rest)
        return
    stmt = select(table.seq, time_text, table.actor_id, table.actor_name, table.action, table.entity_type,
                  table.entity_id, table.payload, table.prev_hash, table.hash).order_by(table.seq)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw = conn.connection.driver_connection
    cursor = raw.cursor(name="audit_chain_verify") if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def verify_chain(session: Session, *, expected_head: tuple[int, str] | None = None
                 ) -> ChainVerification:
    """Verify the whole stored chain against itself and its head row."""
    head = session.get(AuditChainHead, 1)
    anchor = expected_head or ((head.seq, head.hash) if head else None)

    def locate(h: str) -> int | None:
        return session.scalar(select(AuditEvent.seq).where(AuditEvent.hash == h))

    result = verify_events(_event_records(session), locate_hash=locate, expected_head=anchor)
    if result.ok and head is None and result.events_checked:
        return ChainVerification(False, result.events_checked, result.head_seq, result.head_hash,
                                 result.head_seq, "truncated", "the chain's head record is missing.")
    if result.ok and head is not None and expected_head is None and result.head_seq > head.seq:
        # Reads are one snapshot (SQLite WAL; REPEATABLE READ on PostgreSQL), so
        # events beyond the head row were written around the use cases.
        return ChainVerification(False, head.seq, head.seq, head.hash, head.seq + 1, "inserted",
                                 f"events #{head.seq + 1}–#{result.head_seq} come after the recorded "
                                 "head: they were appended outside the application.")
    return result


# ------------------------------------------------------------------ exports
EVENT_FIELDS = EventRecord._fields


def export_record(ev: Any) -> dict[str, Any]:
    """One event (an ``EventRecord``-shaped tuple) as exported, payload as a JSON object."""
    out = dict(zip(EVENT_FIELDS, ev, strict=True))
    out["payload"] = json.loads(out["payload"])
    return out


def export_events(session: Session) -> Iterator[dict[str, Any]]:
    for ev in _event_records(session):
        yield export_record(ev)


def record_from_export(row: dict[str, Any]) -> EventRecord:
    return EventRecord(int(row["seq"]), row["occurred_at"], row["actor_id"], row["actor_name"],
                       row["action"], row["entity_type"], str(row["entity_id"]),
                       canonical_json(row["payload"]), row["prev_hash"], row["hash"])


def verify_export(lines: Iterable[str], expected_head: tuple[int, str] | None = None
                  ) -> ChainVerification:
    """Verify an exported chain (JSON Lines, one event per line) offline."""
    records = [record_from_export(json.loads(line)) for line in lines if line.strip()]
    by_hash = {r.hash: r.seq for r in records}
    return verify_events(records, locate_hash=by_hash.get, expected_head=expected_head)


def verify_export_file(path: Path, expected_head: tuple[int, str] | None = None) -> ChainVerification:
    """Verify an export file as a stream (constant memory, whatever its size)."""

    def records() -> Iterator[EventRecord]:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield record_from_export(json.loads(line))

    def locate(digest: str) -> int | None:  # only asked at a broken link: a second pass
        return next((r.seq for r in records() if r.hash == digest), None)

    return verify_events(records(), locate_hash=locate, expected_head=expected_head)


def export_to_file(session: Session, path: Path) -> tuple[int, str]:
    """Write the whole chain as JSON Lines; returns the head (seq, hash) to keep beside it."""
    head = chain_head(session)
    with path.open("w", encoding="utf-8") as out:
        for ev in _event_records(session):
            out.write(json.dumps(export_record(ev), ensure_ascii=False) + "\n")
    return head


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m governance.audit",
                                     description="Export and verify the hash-chained audit record.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an export offline")
    verify.add_argument("export", type=Path, help="a JSON Lines export")
    verify.add_argument("--head", help="SEQ:HASH the chain must reach (from an earlier export)")
    export = commands.add_parser("export", help="export the whole chain from the database")
    export.add_argument("output", type=Path, help="the JSON Lines file to write")
    export.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file under data/")
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "export":
        from governance.db import Database

        db = Database(args.database_url)
        try:
            with db.uow().reading() as session:
                seq, digest = export_to_file(session, args.output)
        finally:
            db.dispose()
        print(f"Exported {seq:,} events to {args.output}. Keep the head to verify against later: "
              f"--head {seq}:{digest}")
        return 0
    head = None
    if args.head:
        seq_text, _, digest = args.head.partition(":")
        if not seq_text.isdigit() or len(digest) != 64:
            print("--head must be SEQ:HASH, e.g. 1204:9f86d08…(64 hex digits)")
            return 2
        head = (int(seq_text), digest)
    if not args.export.exists():
        print(f"No such file: {args.export}")
        return 2
    result = verify_export_file(args.export, head)
    print(result.summary)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
