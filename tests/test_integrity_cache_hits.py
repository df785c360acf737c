"""An unchanged database reads Compare's integrity result from the cache: no hashing.

Counted, not timed: the number of criteria sets and metric lists the check hashes. On
PostgreSQL the second read of an unchanged record hashes nothing; a write to the frozen
rows (here the product's own: a new lock, a new pilot's metrics locked at real use) makes
the next read hash what changed — that lock and that pilot, not the others. On SQLite the
database keeps no record of row versions to key on, so the check runs live on every read —
and this file says so rather than skip it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from governance import services as sv
from governance.queries.compare import compare_pilots
from governance.record import integrity
from governance.record.integrity import ALTERED_PILOTS
from tests.test_record_operators import small_charter
from tests.world import World


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    ALTERED_PILOTS.clear()
    yield
    ALTERED_PILOTS.clear()


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every criteria set and metric list the integrity check hashes, by name."""
    calls: list[str] = []

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            calls.append(name)
            return real(*args, **kw)
        return wrapper

    monkeypatch.setattr(integrity, "canonical_criteria", counting("criteria", integrity.canonical_criteria))
    monkeypatch.setattr(integrity, "canonical_metrics", counting("metrics", integrity.canonical_metrics))
    return calls


def read(world: World) -> dict[int, bool]:
    return {row.pilot_id: row.record_altered for row in compare_pilots(world.uow, world.steering)}


def test_an_unchanged_database_reads_the_kept_result(world: World, hashed: list[str]) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    first = read(world)
    assert first == {pilot: False}
    assert sorted(hashed) == ["criteria", "metrics"]  # one lock, one metric list
    hashed.clear()
    assert read(world) == first
    assert read(world) == first
    if world.db.dialect == "postgresql":
        assert hashed == []
    else:  # SQLite: live on every read (see the module docstring)
        assert sorted(hashed) == ["criteria", "criteria", "metrics", "metrics"]


def test_a_write_to_the_frozen_rows_makes_the_next_read_hash_again(world: World, hashed: list[str]) -> None:
    small_charter(world)
    _, first_pilot = world.pilot_in_use()
    read(world)
    second = world.register_pilot(world.locked_problem(title="Discharge summaries typed twice"),
                                  title="Discharge summary drafts")
    sv.add_to_roster(world.uow, world.commissioner, second, world.members)
    world.make_ready(second)
    sv.start_real_use(world.uow, world.commissioner, second)
    hashed.clear()
    assert read(world) == {first_pilot: False, second: False}
    if world.db.dialect == "postgresql":
        assert sorted(hashed) == ["criteria", "metrics"]  # the new lock and the new pilot's list only
    else:
        assert sorted(hashed) == ["criteria", "criteria", "metrics", "metrics"]
    hashed.clear()
    read(world)
    assert hashed == ([] if world.db.dialect == "postgresql" else ["criteria", "criteria", "metrics", "metrics"])


def test_a_kept_verdict_is_checked_again_after_its_lifetime(world: World, hashed: list[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the fingerprints say, no verdict stands longer than the store's ``ttl``."""
    small_charter(world)
    world.pilot_in_use()
    now = [10_000.0]
    monkeypatch.setattr(integrity.time, "monotonic", lambda: now[0])
    read(world)
    hashed.clear()
    now[0] += ALTERED_PILOTS.ttl - 1
    read(world)
    assert hashed == ([] if world.db.dialect == "postgresql" else ["criteria", "metrics"])
    now[0] += 2
    hashed.clear()
    read(world)
    assert sorted(hashed) == ["criteria", "metrics"]


def test_a_write_elsewhere_keeps_the_result(world: World, hashed: list[str]) -> None:
    """Answers to an open survey round and a new person touch none of the rows the check reads
    (opening the round did: the pilot moved to evaluating — before the first read here)."""
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    read(world)
    for member in world.members:
        sv.submit_survey_response(world.uow, member, rnd, answer="not_disappointed")
    world.person("Nadia Newcomer", ["frontline"])
    hashed.clear()
    read(world)
    assert hashed == ([] if world.db.dialect == "postgresql" else ["criteria", "metrics"])
