"""One worker of a split verification: the lean pass over one contiguous range of the chain.

``record.log.verify_chain`` may split a long chain into K contiguous sequence ranges and start
K of these workers (``python -m governance.record.range_worker``), each with its own database
connection, so the hashing runs on K cores. A worker reads its request (JSON) on stdin and
writes its answer (JSON) on stdout:

request: ``{"url", "dialect", "snapshot", "sql", "lo", "hi", "start_hash", "kept"}`` — the
    database, the PostgreSQL snapshot to read in (``pg_export_snapshot`` of the verifying
    transaction, so every worker reads exactly what the parent reads), the query of the range
    (``seq > lo AND seq <= hi``), the hash to start from (null: the one stored at ``lo``) and the
    kept heads inside the range.
answer: ``{"start_hash", "checked", "heads_seen", "seq", "hash", "finished", "cpu_s", "server_cpu_s"}`` or
    ``{"error": "…"}``.

A request of ``"kind": "macs"`` (with ``"mac_key"``, hex) checks the events' MACs over its range
instead (``log.forged_events``), and answers ``{"bad": [seq, …], "cpu_s", "server_cpu_s"}``.

The hashes are computed here, over bytes assembled from the columns (``chain.verify_fast``);
the database only hands the stored bytes over. The URL comes on stdin, not on the command
line, so no password shows in the process list. This module imports only the standard library,
``governance.record.chain`` and the driver, so a worker starts in a fraction of a second.
"""
from __future__ import annotations

import hmac
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from governance.record.chain import verify_fast

#: What ``pg_export_snapshot`` returns (e.g. ``00000003-0000001B-1``); anything else is refused.
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$")
BATCH = 20_000


def bytes_cursor(conn: Any, name: str) -> Any:
    """A server-side PostgreSQL cursor, binary protocol, whose text columns load as their UTF-8 bytes
    (what ``chain.verify_fast`` reads): the stored bytes as they come, no ``str`` built, no
    conversion asked of the server."""
    from psycopg.types.string import ByteaBinaryLoader

    cursor = conn.cursor(name=name, binary=True)
    for oid in ("text", "varchar"):
        cursor.adapters.register_loader(oid, ByteaBinaryLoader)
    return cursor


def bad_macs(batches: Iterable[Iterable[tuple[Any, ...]]], key: bytes) -> list[int]:
    """R18: the sequence numbers, among rows (seq, hash, mac), whose MAC is missing or is not the
    HMAC-SHA-256 of their hash under ``key`` — events appended by someone without the key."""
    bad = []
    one_shot, same = hmac.digest, hmac.compare_digest
    for rows in batches:
        for seq, digest, mac in rows:
            if mac is None or not same(mac, one_shot(key, digest.encode("ascii"), "sha256").hex()):
                bad.append(seq)
    return bad


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while rows := cursor.fetchmany(BATCH):
        yield rows


def _postgres(request: dict[str, Any], kept: dict[int, str]) -> dict[str, Any]:
    import psycopg

    snapshot = request["snapshot"]
    if not isinstance(snapshot, str) or not _SNAPSHOT_ID.match(snapshot):
        raise ValueError("not a PostgreSQL snapshot id")
    with psycopg.connect(request["url"], client_encoding="UTF8") as conn:  # the bytes hashed are UTF-8
        # SET TRANSACTION SNAPSHOT must be the transaction's first statement, in REPEATABLE READ.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        server = backend_cpu(conn.info.backend_pid)
        if request.get("kind") == "macs":  # (seq, hash, mac) as text, as ``log.forged_events`` reads them
            answer = _macs(request, conn.cursor(name="audit_mac_range"))
        else:
            answer = _verify(conn, request, kept, bytes_cursor(conn, "audit_chain_range"))
        after = backend_cpu(conn.info.backend_pid)
        answer["server_cpu_s"] = None if server is None or after is None else after - server
        return answer


def backend_cpu(pid: int) -> float | None:
    """CPU seconds a local PostgreSQL server process has used (``/proc``), or None when the server
    runs elsewhere: what the benchmark adds to the workers' own CPU time (``bench.chain_speed``)."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):  # no /proc (not Linux), or not readable
        return None


def _sqlite(request: dict[str, Any], kept: dict[int, str]) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(request["url"], isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN DEFERRED")
        if request.get("kind") == "macs":
            return _macs(request, conn.cursor())
        return _verify(conn, request, kept, conn.cursor())
    finally:
        conn.close()


def _verify(conn: Any, request: dict[str, Any], kept: dict[int, str], cursor: Any) -> dict[str, Any]:
    lo = int(request["lo"])
    start_hash = request["start_hash"]
    if start_hash is None:  # the hash stored at the boundary, read in the same snapshot as the range
        row = conn.execute(request["hash_sql"]).fetchone()
        if row is None:
            return {"start_hash": None, "checked": 0, "heads_seen": 0, "seq": lo, "hash": None, "finished": False}
        start_hash = row[0]
    try:
        cursor.execute(request["sql"])
        fast = verify_fast(_batches(cursor), kept, (lo, start_hash))
    finally:
        cursor.close()
    return {"start_hash": start_hash, "checked": fast.checked, "heads_seen": fast.heads_seen, "seq": fast.seq,
            "hash": fast.hash, "finished": fast.finished}


def _macs(request: dict[str, Any], cursor: Any) -> dict[str, Any]:
    try:
        cursor.execute(request["sql"])
        return {"bad": bad_macs(_batches(cursor), bytes.fromhex(request["mac_key"]))}
    finally:
        cursor.close()


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Verify the requested range; the answer as a dict (see the module's docstring)."""
    began = time.process_time()
    kept = {int(seq): str(digest) for seq, digest in request.get("kept", {}).items()}
    answer = (_postgres if request["dialect"] == "postgresql" else _sqlite)(request, kept)
    answer["cpu_s"] = time.process_time() - began
    return answer


def main() -> None:
    try:
        answer = run(json.loads(sys.stdin.read()))
    except Exception as exc:  # the parent falls back to verifying in one process, and says why
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
