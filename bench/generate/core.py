"""The emitter's core: the clock, ids, the audit chain, and the charter in force.

Everything the generator writes goes through here: rows to the bulk writer,
audit events built by ``governance.record.events`` and chained exactly as
``governance.record.log.append`` chains them (the same canonical JSON, the
same ``recorded_actor``, ``format_time`` and ``event_hash``).
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from bench.bulk import BulkWriter, db_ts
from bench.plan import Planner
from governance.identity.keys import Keys
from governance.record.chain import GENESIS_HASH, event_hash, event_mac, format_time
from governance.record.checkpoints import origin_for
from governance.record.events import Event
from governance.record.log import recorded_actor
from governance.rules.charter import CharterTerms

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)


def moment(t: int) -> datetime:
    """A planned time (µs since the epoch) as the aware UTC datetime the product uses."""
    return EPOCH + timedelta(microseconds=t)


def to_us(dt: datetime) -> int:
    """A datetime as a planned time (µs since the epoch)."""
    return (dt - EPOCH) // timedelta(microseconds=1)


def day_of(t: int) -> date:
    """The UTC date of a planned time (``uow.now().date()``)."""
    return EPOCH_DATE + timedelta(days=t // 86_400_000_000)


class Who(NamedTuple):
    """An actor as ``record.log`` names one: an id and a name."""

    id: int
    name: str


class CharterRT(NamedTuple):
    id: int
    version: int
    terms: CharterTerms
    adopted_at: int


class EmitterCore:
    """Time, ids and the chain; every other part of the emitter builds on this."""

    def __init__(self, planner: Planner, writer: BulkWriter, keys: Keys, *, organisation: str) -> None:
        self.pl = planner
        self.w = writer
        self.seq = 0
        self.prev = GENESIS_HASH
        self.base = 0
        self.last = 0
        self.ids: dict[str, int] = {}
        self.rng = random.Random(planner.seed + 1)
        self.organisation = organisation
        self.origin = origin_for(organisation)
        self.ballot_key = keys.ballot_key()
        self.signing_key = keys.signing_key()
        self.mac_key = keys.record_mac_key()
        self.charters: list[CharterRT] = []
        self.inactive: set[int] = set()
        self.actions: Counter[str] = Counter()
        self.stats: dict[str, int] = {"plan_mismatch": 0, "reopened": 0, "reopen_linked": 0}
        self.people = [Who(pid, name) for pid, name in enumerate(planner.names)]

    # ------------------------------------------------------------------- time
    def at(self, t: int) -> None:
        self.base = t

    def now(self) -> int:
        """The use case's ``uow.now()``: the scheduled time, strictly after the last one."""
        t = self.base if self.base > self.last else self.last + 1
        self.last = t
        return t

    def next_id(self, table: str) -> int:
        n = self.ids.get(table, 0) + 1
        self.ids[table] = n
        return n

    @property
    def charter(self) -> CharterRT:
        """``repository.current_charter``: the newest version."""
        return self.charters[-1]

    def charter_by_id(self, charter_id: int) -> CharterRT:
        return next(c for c in self.charters if c.id == charter_id)

    # ------------------------------------------------------------------ chain
    def log(self, actor: int | None, event: Event) -> None:
        """Append one audit event, as ``record.log.append`` would in the use case's transaction."""
        t = self.now()
        payload = event.payload_json()
        actor_id, actor_name = recorded_actor(None if actor is None else self.people[actor], event)
        seq = self.seq + 1
        digest = event_hash(seq, format_time(moment(t)), actor_id, actor_name, event.action, event.entity_type,
                            event.entity_id, payload, self.prev)
        self.w.add("audit_event", (seq, db_ts(t), actor_id, actor_name, event.action, event.entity_type,
                                   event.entity_id, payload, self.prev, digest, event_mac(self.mac_key, digest)))
        self.seq, self.prev = seq, digest
        self.actions[event.action] += 1

    def head(self) -> tuple[int, str]:
        """``record.log.chain_head``."""
        return self.seq, self.prev

    # ------------------------------------------------------------------- rows
    def put(self, table: str, values: dict[str, Any]) -> None:
        self.w.put(table, values)
