"""The fingerprint Compare's cached integrity result is keyed on (PostgreSQL).

``frozen_fingerprints`` names which version (``xmin``) of every row the check reads. The
operator's edit of any of those tables, even one that writes back the very same values with
the guard triggers off, must change it; freezing the rows (VACUUM FREEZE, what autovacuum
does to old rows sooner or later) must not — else every freeze would cost a fresh check,
but more to the point the claim in the docs would be false. On SQLite there is none.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from governance import services as sv
from governance.record.fingerprints import FINGERPRINTED, frozen_fingerprints, whole_fingerprint
from governance.storage.models import CommissioningMetric
from tests.test_record_operators import as_operator, small_charter
from tests.world import World


def fingerprint(world: World) -> tuple[str, dict[tuple[str, int], str]] | None:
    """(the whole digest, every group's fingerprint): compared together, each must move."""
    with world.db.uow().reading() as s:
        found, whole = frozen_fingerprints(s), whole_fingerprint(s)
    if found is None:
        assert whole is None
        return None
    assert whole is not None
    return whole, found.groups


def assert_both_changed(before: tuple[str, dict[tuple[str, int], str]] | None,
                        after: tuple[str, dict[tuple[str, int], str]] | None) -> None:
    assert before is not None and after is not None
    assert after[0] != before[0], "the whole digest did not change"
    assert after[1] != before[1], "no group's fingerprint changed"


@pytest.fixture
def in_use(world: World) -> int:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    with world.db.uow().reading() as s:  # an applied amendment, so that table has a row too
        metric = s.execute(select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot)
                           .order_by(CommissioningMetric.id).limit(1)).scalar_one()
    sv.amend_metric(world.uow, world.commissioner, metric, target=90,
                    reason="The vendor's accuracy report changed its method.")
    return pilot


def test_sqlite_has_none(world: World) -> None:
    if world.db.dialect == "postgresql":
        pytest.skip("the PostgreSQL fingerprint is the subject of the other tests")
    assert fingerprint(world) is None


@pytest.mark.parametrize(("table", "key", "where"), FINGERPRINTED, ids=[t for t, _, _ in FINGERPRINTED])
def test_a_no_op_rewrite_of_any_fingerprinted_table_changes_it(
        world: World, in_use: int, owner_db_url: str, table: str, key: str, where: str) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps no row versions")
    before = fingerprint(world)
    assert before is not None and fingerprint(world) == before  # stable while nothing changes
    with as_operator(owner_db_url) as conn:
        # The same values written back, one row: the content is unchanged, the row version is not.
        changed = conn.execute(text(f"UPDATE {table} SET {key} = {key} WHERE {key} = "
                                    f"(SELECT max({key}) FROM {table} {where})"))
        assert changed.rowcount == 1
    assert_both_changed(before, fingerprint(world))


def test_a_deleted_and_reinserted_row_changes_it(world: World, in_use: int, owner_db_url: str) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    before = fingerprint(world)
    with as_operator(owner_db_url) as conn:
        row = conn.execute(text("SELECT * FROM commissioning_metric ORDER BY id LIMIT 1")).mappings().one()
        conn.execute(text("DELETE FROM commissioning_metric WHERE id = :id"), {"id": row["id"]})
        conn.execute(text("INSERT INTO commissioning_metric (" + ", ".join(row) + ") VALUES ("
                          + ", ".join(f":{c}" for c in row) + ")"), dict(row))
    assert_both_changed(before, fingerprint(world))


def test_freezing_the_rows_keeps_it(world: World, in_use: int, owner_db_url: str) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    before = fingerprint(world)
    engine = create_engine(owner_db_url, isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
    try:
        with engine.connect() as conn:
            for table in dict.fromkeys(t for t, _, _ in FINGERPRINTED):
                conn.execute(text(f"VACUUM (FREEZE) {table}"))
                # Frozen indeed: every row's xmin is now older than the table's relfrozenxid.
                newest, horizon = conn.execute(text(
                    f"SELECT (SELECT max(xmin::text::bigint) FROM {table}), relfrozenxid::text::bigint "
                    f"FROM pg_class WHERE oid = '{table}'::regclass")).one()
                assert newest is not None and newest < horizon, table
    finally:
        engine.dispose()
    assert fingerprint(world) == before
