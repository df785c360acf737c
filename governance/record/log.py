"""The audit record in the database: appending an event in the caller's
transaction, reading the head, streaming and verifying the stored chain.

The canonical form and the verifier are ``governance.record.chain`` (plain
Python); this module adds only what needs the database.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import LargeBinary, String, cast, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from governance.errors import RuleViolation
from governance.record.chain import (
    EVENT_FIELDS,
    GENESIS_HASH,
    ChainVerification,
    KeptHeads,
    event_hash,
    event_mac,
    export_line,
    format_time,
    verify_events,
    verify_fast,
)
from governance.record.events import Event
from governance.record.range_worker import bad_macs, bytes_cursor
from governance.storage.models import AuditChainHead, AuditEvent

SYSTEM = "system"
logger = logging.getLogger(__name__)


class Named(Protocol):
    """Whoever acts: an id and a name (``identity.actors.Actor`` is one)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


def recorded_actor(actor: Named | None, event: Event) -> tuple[int | None, str]:
    """(actor id, actor name) an event records: nobody but "system" for an act of the
    system, and only the event's stand-in name for an anonymous one (R17)."""
    if event.anonymous or actor is None:
        return None, event.anonymous or SYSTEM
    return actor.id, actor.name


def append(session: Session, actor: Named | None, event: Event, occurred_at: datetime,
           mac_key: bytes | None = None) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Writers are serialised by the unit of work (``BEGIN IMMEDIATE`` on
    SQLite, an advisory lock on PostgreSQL), so reading the head and
    appending after it cannot fork the chain.
    """
    payload = event.payload_json()
    head = session.get(AuditChainHead, 1)
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    _refuse_to_extend_a_broken_head(session, seq - 1, prev_hash)
    when = format_time(occurred_at)
    actor_id, actor_name = recorded_actor(actor, event)
    digest = event_hash(seq, when, actor_id, actor_name, event.action, event.entity_type,
                        event.entity_id, payload, prev_hash)
    row = AuditEvent(seq=seq, occurred_at=occurred_at, actor_id=actor_id, actor_name=actor_name,
                     action=event.action, entity_type=event.entity_type, entity_id=event.entity_id,
                     payload=payload, prev_hash=prev_hash, hash=digest,
                     mac=event_mac(mac_key, digest) if mac_key is not None else None)
    session.add(row)
    if head is None:
        session.add(AuditChainHead(id=1, seq=seq, hash=digest))
    else:
        head.seq, head.hash = seq, digest
    session.flush()
    return row


def _refuse_to_extend_a_broken_head(session: Session, seq: int, digest: str) -> None:
    """R11: never chain a new event onto a head that no longer matches the record's last event
    (the tail was cut or rewritten, or events were added around the application)."""
    if seq == 0:
        if session.scalar(select(AuditEvent.seq).limit(1)) is not None:
            raise RuleViolation("The audit record has events but no head; nothing was saved. An auditor must "
                                "verify the record before anything more is written.", rule="R11")
        return
    last = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))
    beyond = session.scalar(select(AuditEvent.seq).where(AuditEvent.seq > seq).limit(1))
    if last != digest or beyond is not None:
        raise RuleViolation("The audit record's head no longer matches its last event: it was changed outside the "
                            "application. Nothing was saved; an auditor must verify the record first.", rule="R11")


def append_many(session: Session, actor: Named | None, events: list[Event], occurred_at: datetime,
                mac_key: bytes | None = None) -> int:
    """Append ``events`` in order, in the caller's transaction, as one bulk insert.

    The same chain as ``append`` once per event (same hashes), without an ORM
    flush per event: an import of 20,000 people writes its 40,000 events in a
    few seconds. Returns the sequence number of the last event."""
    if not events:
        return chain_head(session)[0]
    session.flush()
    head = session.get(AuditChainHead, 1)
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    _refuse_to_extend_a_broken_head(session, seq, prev_hash)
    when = format_time(occurred_at)
    rows: list[dict[str, Any]] = []
    for ev in events:
        seq += 1
        actor_id, actor_name = recorded_actor(actor, ev)
        payload = ev.payload_json()
        digest = event_hash(seq, when, actor_id, actor_name, ev.action, ev.entity_type, ev.entity_id,
                            payload, prev_hash)
        rows.append({"seq": seq, "occurred_at": occurred_at, "actor_id": actor_id, "actor_name": actor_name,
                     "action": ev.action, "entity_type": ev.entity_type, "entity_id": ev.entity_id,
                     "payload": payload, "prev_hash": prev_hash, "hash": digest,
                     "mac": event_mac(mac_key, digest) if mac_key is not None else None})
        prev_hash = digest
    session.execute(insert(AuditEvent), rows)
    if head is None:
        session.add(AuditChainHead(id=1, seq=seq, hash=prev_hash))
    else:
        head.seq, head.hash = seq, prev_hash
    session.flush()
    return seq


def chain_head(session: Session) -> tuple[int, str]:
    """(sequence number, hash) of the newest event; (0, genesis) when empty."""
    head = session.get(AuditChainHead, 1)
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


def event_at(session: Session, seq: int) -> str | None:
    """The hash the record holds for event ``seq`` (None if there is none)."""
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


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


def event_records(session: Session, *, after: int = 0, batch: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """Events after sequence number ``after``, in order, as ``EventRecord``-shaped tuples.

    Streams through the driver's own cursor (a server-side one on PostgreSQL)
    inside the session's snapshot: a million rows through the ORM layer would
    cost more than hashing them.
    """
    conn = session.connection()
    table = AuditEvent.__table__.c
    time_text = _time_text(conn.dialect.name)
    if time_text is None:  # another engine: portable, slower
        rows = conn.execute(select(*(table[name] for name in EVENT_FIELDS)).where(table.seq > after)
                            .order_by(table.seq).execution_options(yield_per=batch))
        for seq, at, *rest in rows:
            yield (seq, format_time(at), *rest)
        return
    stmt = (select(table.seq, time_text, table.actor_id, table.actor_name, table.action, table.entity_type,
                   table.entity_id, table.payload, table.prev_hash, table.hash)
            .where(table.seq > int(after)).order_by(table.seq))
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor(name="audit_chain_verify") if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _event_bytes_sql(dialect: Any, *, after: int, until: int | None = None) -> str:
    """The query ``_event_bytes`` runs (events ``after`` < seq [<= ``until``]), as SQL text, so a
    range worker (``record.range_worker``) can run it on a connection of its own."""
    table = AuditEvent.__table__.c
    if dialect.name == "sqlite":
        def raw(col: Any) -> Any:
            return cast(col, LargeBinary)
    else:  # the text columns as they are: ``bytes_cursor`` loads them as bytes (a convert_to per column
        # cost the server a third of its time)
        def raw(col: Any) -> Any:
            return col
    stmt = (select(table.seq, raw(_time_text(dialect.name)), table.actor_id, raw(table.actor_name),
                   raw(table.action), raw(table.entity_type), raw(table.entity_id), raw(table.payload),
                   raw(table.prev_hash), raw(table.hash))
            .where(table.seq > int(after)).order_by(table.seq))
    if until is not None:
        stmt = stmt.where(table.seq <= int(until))
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _event_bytes(session: Session, *, after: int, batch: int = 20_000) -> Generator[list[tuple[Any, ...]], None, None]:
    """Events after ``after``, in order, in batches, with every text field as its UTF-8 bytes —
    what ``chain.verify_fast`` reads. The database hands the stored bytes over undecoded
    (``CAST … AS BLOB`` on SQLite; on PostgreSQL, text loaded as bytes from the binary protocol), so the verifier
    builds no ``str`` per field. Only the columns hashed, through a server-side cursor."""
    conn = session.connection()
    sql = _event_bytes_sql(conn.dialect, after=after)
    driver = conn.connection.driver_connection
    assert driver is not None
    postgres = conn.dialect.name == "postgresql"
    if postgres and driver.info.encoding != "utf-8":  # the bytes hashed are UTF-8, whatever the client's default
        driver.execute("SET LOCAL client_encoding TO 'UTF8'")
    cursor = bytes_cursor(driver, "audit_chain_fast") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def _verify_from(session: Session, kept: dict[int, str], begin: tuple[int, str],
                 locate: Callable[[str], int | None]) -> ChainVerification:
    """The chain after ``begin``: the lean pass (``verify_fast``) as far as every event holds, then
    ``verify_events`` from the last event that held — over the rest, to say exactly what is wrong
    there, or over nothing, for the end-of-chain checks. The result is the one ``verify_events``
    alone gives."""
    if session.connection().dialect.name not in ("sqlite", "postgresql"):
        return verify_events(event_records(session, after=begin[0]), locate_hash=locate, kept_heads=kept,
                             start=begin)
    batches = _event_bytes(session, after=begin[0])
    try:
        fast = verify_fast(batches, kept, begin)
    finally:
        batches.close()
    rest: Iterable[tuple[Any, ...]] = () if fast.finished else event_records(session, after=fast.seq)
    tail = verify_events(rest, locate_hash=locate, kept_heads=kept, start=(fast.seq, fast.hash))
    # ``verify_events`` counts the head it starts from if kept; the lean pass counted it already.
    heads = fast.heads_seen + tail.heads_checked - (1 if fast.seq in kept else 0)
    return replace(tail, events_checked=fast.checked + tail.events_checked, heads_checked=heads)


#: Below this many events a split verification costs more (starting its workers) than it saves.
SPLIT_MIN_EVENTS = 200_000
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def verify_workers() -> int:
    """How many processes a long verification is split across: ``AUDIT_VERIFY_WORKERS`` if set,
    else one per CPU core."""
    configured = os.environ.get("AUDIT_VERIFY_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return os.cpu_count() or 1


def _split_source(session: Session) -> dict[str, Any] | None:
    """How a range worker reads exactly what this session reads (database, driver URL, PostgreSQL
    snapshot) — or None when it cannot, and the verification stays in this process."""
    conn = session.connection()
    url = conn.engine.url
    if conn.dialect.name == "postgresql":
        if (conn.dialect.server_version_info or (0,)) < (13,):
            return None
        # A transaction that wrote (holds an xid) would verify its own uncommitted changes; an imported
        # snapshot does not see them. Only a repeatable-read snapshot can be shared.
        if conn.exec_driver_sql("SELECT pg_current_xact_id_if_assigned() IS NULL").scalar() is not True:
            return None
        if conn.exec_driver_sql("SHOW transaction_isolation").scalar() not in ("repeatable read", "serializable"):
            return None
        # A standby may refuse to export a snapshot, and a refusal would abort this transaction.
        if conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is not False:
            return None
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        return {"dialect": "postgresql", "snapshot": snapshot,
                "url": url.set(drivername="postgresql").render_as_string(hide_password=False)}
    if conn.dialect.name == "sqlite":
        path = url.database
        if not path or path == ":memory:" or path.startswith("file:") or url.query:
            return None
        # SQLite shares no snapshots: a worker sees what is committed. So this connection must have
        # written nothing uncommitted — it would hold the write lock, and a probe could not take it.
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return None
        finally:
            probe.close()
        return {"dialect": "sqlite", "snapshot": None, "url": path}
    return None


def _run_workers(requests: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Each request verified by a ``record.range_worker`` process of its own, all at once; their
    answers in order, or None if any worker failed (the caller then verifies in one process)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    procs = [subprocess.Popen([sys.executable, "-m", "governance.record.range_worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=_PROJECT_ROOT)
             for _ in requests]

    def talk(pair: tuple[subprocess.Popen[bytes], dict[str, Any]]) -> dict[str, Any]:
        proc, request = pair
        out, err = proc.communicate(json.dumps(request).encode("utf-8"))
        try:
            answer = json.loads(out or b"null")
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return {"error": f"worker exited {proc.returncode}: {err.decode(errors='replace')[-500:]}"}
        return answer

    with ThreadPoolExecutor(len(procs)) as pool:
        answers = list(pool.map(talk, zip(procs, requests, strict=True)))
    failed = [a["error"] for a in answers if "error" in a]
    if failed:
        logger.warning("a split verification fell back to one process: %s", failed[0])
        return None
    return answers


def _verify_split(session: Session, kept: dict[int, str], begin: tuple[int, str],
                  locate: Callable[[str], int | None], workers: int,
                  min_events: int) -> ChainVerification | None:
    """The chain after ``begin``, split into ``workers`` contiguous ranges verified at once by as many
    processes (``record.range_worker``), each from the hash stored at its lower boundary; the
    ranges are then joined here (each must start from the hash the one before ended with, and
    reach its upper boundary). From the first place that does not hold — or from the last event
    — ``_verify_from`` carries on in this session, so the result (the first bad event, what is
    wrong there, the counts) is the one verifying in one process gives. None when the chain is
    too short to be worth it or the workers cannot read what this session reads."""
    last = session.scalar(select(func.max(AuditEvent.seq)))
    if workers < 2 or last is None or last - begin[0] < max(min_events, workers):
        return None
    source = _split_source(session)
    if source is None:
        return None
    dialect = session.connection().dialect
    bounds = [begin[0] + (last - begin[0]) * i // workers for i in range(workers + 1)]
    hashes = AuditEvent.__table__.c
    requests = [{**source, "lo": lo, "hi": hi,
                 "sql": _event_bytes_sql(dialect, after=lo, until=hi),
                 "hash_sql": str(select(hashes.hash).where(hashes.seq == lo)
                                 .compile(dialect=dialect, compile_kwargs={"literal_binds": True})),
                 "start_hash": begin[1] if i == 0 else None,
                 "kept": {str(s): h for s, h in kept.items() if lo < s <= hi}}
                for i, (lo, hi) in enumerate(itertools.pairwise(bounds))]
    answers = _run_workers(requests)
    if answers is None:
        return None
    point = begin
    for request, answer in zip(requests, answers, strict=True):
        if answer["start_hash"] != point[1]:  # not the hash the range before ended with
            break
        point = (int(answer["seq"]), str(answer["hash"]))
        if not (answer["finished"] and answer["seq"] == request["hi"]):
            break
    rest = _verify_from(session, kept, point, locate)
    # Every event up to ``point`` holds, and every kept head there matched (``rest`` counts the one
    # at ``point`` itself).
    heads_before = sum(1 for s in kept if begin[0] <= s < point[0])
    return replace(rest, events_checked=point[0] - begin[0] + rest.events_checked,
                   heads_checked=heads_before + rest.heads_checked)


def verify_chain(session: Session, *, kept_heads: KeptHeads | None = None,
                 start: tuple[int, str] | None = None, workers: int | None = None,
                 min_split: int = SPLIT_MIN_EVENTS) -> ChainVerification:
    """Verify the stored chain against itself, its head row and any heads kept earlier.

    ``start`` (a verified checkpoint's seq and hash) resumes verification
    after that event: the cost is then proportional to the events since.

    A chain of ``min_split`` events or more (after ``start``) is split across ``workers``
    processes (default ``verify_workers()``; 1: never), each reading the same snapshot; the
    result is the one verifying in this process alone gives. Every hash is computed here, in
    the application, over bytes assembled from the stored columns — never by the database.
    """
    head = session.get(AuditChainHead, 1)
    kept = dict(kept_heads.items() if isinstance(kept_heads, dict) else (kept_heads or ()))
    if head is not None:
        kept.setdefault(head.seq, head.hash)
        if kept[head.seq] != head.hash:
            return ChainVerification(False, 0, 0, GENESIS_HASH, head.seq, "head_mismatch",
                                     f"the head record says event #{head.seq} is {head.hash[:16]}…, but a "
                                     f"head kept earlier says {kept[head.seq][:16]}….",
                                     kept_hash=kept[head.seq], found_hash=head.hash)

    def locate(h: str) -> int | None:
        return session.scalar(select(AuditEvent.seq).where(AuditEvent.hash == h))

    begin = start or (0, GENESIS_HASH)
    if begin[0] and event_at(session, begin[0]) != begin[1]:
        return ChainVerification(False, 0, begin[0], begin[1], begin[0], "head_mismatch",
                                 f"event #{begin[0]} no longer carries the hash of the checkpoint "
                                 "verification started from.", kept_hash=begin[1],
                                 found_hash=event_at(session, begin[0]))
    split = _verify_split(session, kept, begin, locate, verify_workers() if workers is None else workers,
                          min_split)
    result = split if split is not None else _verify_from(session, kept, begin, locate)
    if result.ok and head is None and result.head_seq:
        return ChainVerification(False, result.events_checked, result.head_seq, result.head_hash,
                                 result.head_seq, "truncated", "the chain's head record is missing.")
    if result.ok and head is not None and result.head_seq > head.seq:
        # Reads are one snapshot (SQLite WAL; REPEATABLE READ on PostgreSQL), so
        # events beyond the head row were written around the use cases.
        return ChainVerification(False, head.seq, head.seq, head.hash, head.seq + 1, "inserted",
                                 f"events #{head.seq + 1}–#{result.head_seq} come after the recorded "
                                 "head: they were appended outside the application.")
    return result


def export_to_file(session: Session, path: Path) -> tuple[int, str]:
    """Write the whole chain as JSON Lines; returns the head (seq, hash) to keep beside it."""
    head = chain_head(session)
    with path.open("w", encoding="utf-8") as out:
        for ev in event_records(session):
            out.write(export_line(ev) + "\n")
    return head


def forged_events(session: Session, key: bytes, *, after: int = 0, batch: int = 50_000,
                  workers: int | None = None, min_split: int = SPLIT_MIN_EVENTS) -> list[int]:
    """R18: events after ``after`` whose MAC is missing or wrong — appended by someone
    without the application's key. Events written before MACs existed (an upgraded
    database) come before the first MAC'd event and are covered by checkpoints instead.

    Streams (seq, hash, mac) through the driver's cursor: at a million events the ORM's
    row handling would cost more than the HMACs. Like ``verify_chain``, ``min_split`` events or
    more are split across ``workers`` processes reading the same snapshot (the same list)."""
    first = session.scalar(select(func.min(AuditEvent.seq)).where(AuditEvent.mac.is_not(None)))
    if first is None:
        return []
    begin = int(max(after, first - 1))
    split = _forged_split(session, key, begin, verify_workers() if workers is None else workers, min_split)
    if split is not None:
        return split
    conn = session.connection()
    raw = conn.connection.driver_connection
    assert raw is not None
    postgres = conn.dialect.name == "postgresql"
    cursor = raw.cursor(name="audit_mac_verify") if postgres else raw.cursor()
    try:
        cursor.execute(_mac_sql(conn.dialect, after=begin))
        return bad_macs(iter(lambda: cursor.fetchmany(batch), []), key)
    finally:
        cursor.close()


def _mac_sql(dialect: Any, *, after: int, until: int | None = None) -> str:
    table = AuditEvent.__table__.c
    stmt = select(table.seq, table.hash, table.mac).where(table.seq > int(after)).order_by(table.seq)
    if until is not None:
        stmt = stmt.where(table.seq <= int(until))
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _forged_split(session: Session, key: bytes, begin: int, workers: int, min_split: int) -> list[int] | None:
    """``forged_events`` after ``begin`` split into contiguous ranges, one worker process each (their
    lists, in order, are the list one process gives); None when not worth it or not possible."""
    last = session.scalar(select(func.max(AuditEvent.seq)))
    if workers < 2 or last is None or last - begin < max(min_split, workers):
        return None
    source = _split_source(session)
    if source is None:
        return None
    dialect = session.connection().dialect
    bounds = [begin + (last - begin) * i // workers for i in range(workers + 1)]
    answers = _run_workers([{**source, "kind": "macs", "mac_key": key.hex(),
                             "sql": _mac_sql(dialect, after=lo, until=hi)}
                            for lo, hi in itertools.pairwise(bounds)])
    if answers is None:
        return None
    return [int(seq) for answer in answers for seq in answer["bad"]]
