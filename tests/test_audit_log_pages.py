"""The Audit page's event log at any length: the unfiltered log, newest first, is paged by
sequence number (the events are numbered 1 to the head), so no page counts the whole record or
skips past it with OFFSET — and it shows exactly what the filtered, counted query shows."""
from __future__ import annotations

from datetime import date

from sqlalchemy import event

from governance.queries import audit as audit_q
from tests.world import World

EVERYTHING = {"date_from": date(2000, 1, 1)}  # a filter every event passes: the counted query


def test_the_unfiltered_log_pages_as_the_counted_query_does(world: World) -> None:
    for i in range(12):
        world.person(f"Paged Clerk {i:02d}", ["frontline"])
    per_page = 7
    first = audit_q.events_page(world.uow, world.auditor, per_page=per_page)
    assert first.total > 3 * per_page
    last_page = -(-first.total // per_page)
    for page in (1, 2, last_page - 1, last_page, last_page + 5, 0):
        fast = audit_q.events_page(world.uow, world.auditor, page=page, per_page=per_page, who_name="")
        counted = audit_q.events_page(world.uow, world.auditor, page=page, per_page=per_page, **EVERYTHING)
        assert (fast.total, fast.page) == (counted.total, counted.page), page
        assert [r.seq for r in fast.rows] == [r.seq for r in counted.rows], page
        assert fast.rows == counted.rows


def test_the_unfiltered_log_never_counts_the_record(world: World) -> None:
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(world.db.engine, "before_cursor_execute", seen)
    try:
        page = audit_q.events_page(world.uow, world.auditor, page=2, per_page=5)
        audit_q.events_page(world.uow, world.auditor, page=1, per_page=5, **EVERYTHING)
    finally:
        event.remove(world.db.engine, "before_cursor_execute", seen)
    assert page.rows and page.rows[0].seq == page.total - 5
    from_audit = [s for s in statements if "audit_event" in s]
    unfiltered, counted = from_audit[:-2], from_audit[-2:]
    assert not any("count(" in s for s in unfiltered), unfiltered
    assert any("audit_event.seq <=" in s for s in unfiltered)  # a range of the primary key, not a skip
    assert any("count(" in s for s in counted)  # the filtered query does count: the check can see it


def test_the_filters_offer_every_action_and_entity_type_in_one_query(world: World) -> None:
    from sqlalchemy import select

    from governance.storage.models import AuditEvent

    world.person("Facet Clerk", ["frontline"])
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", seen)
    try:
        facets = audit_q.facets(world.uow, world.auditor)
    finally:
        event.remove(world.db.engine, "before_cursor_execute", seen)
    with world.db.uow().reading() as s:
        actions = sorted(s.scalars(select(AuditEvent.action).distinct()))
        entity_types = sorted(s.scalars(select(AuditEvent.entity_type).distinct()))
    assert len(actions) > 3
    assert (facets.actions, facets.entity_types) == (actions, entity_types)
    assert len([s for s in statements if "audit_event" in s]) == 2  # one walk per column, not one per value
