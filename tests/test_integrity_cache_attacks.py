"""R18 on the read path: Compare keeps its integrity result between reads, and still flags
a direct edit on the very next read.

The attack, each time: the steering group has looked at Compare (so the result is kept);
then whoever runs the database — as its owner, with the guard triggers switched off
(``session_replication_role = replica`` on PostgreSQL; dropped triggers on SQLite) — edits
something frozen so that a failed pilot would read as a pass. The next Compare read must
show that pilot as "record altered", not the kept answer from before the edit.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from governance import services as sv
from governance.queries.compare import compare_pilots
from governance.record.chain import canonical_json, sha256_hex
from governance.record.integrity import ALTERED_PILOTS
from governance.storage.models import CommissioningMetric, CriteriaLock, Criterion, Pilot
from tests.test_record_operators import as_operator, small_charter
from tests.world import VERY, World

CRITERIA, METRICS, LOCKS, PILOTS = (Criterion.__table__, CommissioningMetric.__table__, CriteriaLock.__table__,
                                    Pilot.__table__)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    ALTERED_PILOTS.clear()
    yield
    ALTERED_PILOTS.clear()


def altered(world: World) -> dict[int, bool]:
    """Compare as the steering group sees it: pilot → "record altered"."""
    return {row.pilot_id: row.record_altered for row in compare_pilots(world.uow, world.steering)}


@pytest.fixture
def two_pilots(world: World) -> tuple[int, int]:
    """Two pilots in real use with a closed survey round, Compare read once: both clean."""
    small_charter(world)
    _, target = world.pilot_in_use()
    other = world.register_pilot(world.locked_problem(title="Discharge summaries typed twice"),
                                 title="Discharge summary drafts")
    sv.add_to_roster(world.uow, world.commissioner, other, world.members)
    world.make_ready(other)
    sv.start_real_use(world.uow, world.commissioner, other)
    world.pass_window()
    world.survey(target, [(world.members[0], VERY)] + [(m, "not_disappointed") for m in world.members[1:]])
    assert altered(world) == {target: False, other: False}
    assert altered(world) == {target: False, other: False}  # the second read: the kept result
    return target, other


def _version_of(world: World, pilot: int) -> int:
    with world.db.uow().reading() as s:
        return s.execute(select(Pilot.problem_version_id).where(Pilot.id == pilot)).scalar_one()


def test_a_direct_edit_of_a_locked_threshold_shows_on_the_next_compare_read(
        world: World, two_pilots: tuple[int, int], owner_db_url: str) -> None:
    target, other = two_pilots
    version = _version_of(world, target)
    with as_operator(owner_db_url) as conn:
        conn.execute(update(CRITERIA).where(CRITERIA.c.problem_version_id == version,
                                            CRITERIA.c.is_indispensability.is_(True)).values(target=0.05))
    assert altered(world) == {target: True, other: False}


def test_a_direct_edit_of_a_commissioning_metric_shows_on_the_next_compare_read(
        world: World, two_pilots: tuple[int, int], owner_db_url: str) -> None:
    target, other = two_pilots
    with as_operator(owner_db_url) as conn:
        changed = conn.execute(update(METRICS).where(METRICS.c.pilot_id == target,
                                                     METRICS.c.name == "Extraction accuracy").values(target=5))
        assert changed.rowcount == 1
    assert altered(world) == {target: True, other: False}


def test_a_rewritten_lock_hash_shows_on_the_next_compare_read(
        world: World, two_pilots: tuple[int, int], owner_db_url: str) -> None:
    """The thorough operator: the threshold, the lock's frozen text and its hash rewritten to agree
    with each other; only the lock's audit event still says otherwise."""
    target, other = two_pilots
    version = _version_of(world, target)
    with as_operator(owner_db_url) as conn:
        conn.execute(update(CRITERIA).where(CRITERIA.c.problem_version_id == version,
                                            CRITERIA.c.is_indispensability.is_(True)).values(target=0.05))
        frozen = conn.execute(select(LOCKS.c.criteria_json).where(LOCKS.c.problem_version_id == version)).scalar_one()
        forged = frozen.replace('"target":0.4', '"target":0.05')
        assert forged != frozen and canonical_json(forged) != canonical_json(frozen)
        conn.execute(update(LOCKS).where(LOCKS.c.problem_version_id == version)
                     .values(criteria_json=forged, criteria_sha256=sha256_hex(forged)))
    assert altered(world) == {target: True, other: False}


def test_only_the_lock_hash_rewritten_shows_on_the_next_compare_read(
        world: World, two_pilots: tuple[int, int], owner_db_url: str) -> None:
    target, other = two_pilots
    with as_operator(owner_db_url) as conn:
        conn.execute(update(LOCKS).where(LOCKS.c.problem_version_id == _version_of(world, other))
                     .values(criteria_sha256="0" * 64))
    assert altered(world) == {target: False, other: True}


def test_clearing_a_pilots_metrics_hash_does_not_leave_the_kept_answer_standing(
        world: World, two_pilots: tuple[int, int], owner_db_url: str) -> None:
    """Edit the metric, read Compare (flagged), then try to hide it by clearing the pilot's
    metrics hash: the pilot row changed, so the answer is recomputed, not served from before."""
    target, other = two_pilots
    with as_operator(owner_db_url) as conn:
        conn.execute(update(METRICS).where(METRICS.c.pilot_id == target).values(target=1))
    assert altered(world)[target] is True
    with as_operator(owner_db_url) as conn:
        conn.execute(update(METRICS).where(METRICS.c.pilot_id == target).values(target=2))
    assert altered(world)[target] is True  # a second edit after the flagged read: recomputed, still flagged
