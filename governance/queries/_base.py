"""Shared pieces of the read models: pagination and the reader check."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from governance.errors import NotFound, PermissionDenied
from governance.identity.actors import Actor, load_actor

T = TypeVar("T")
M = TypeVar("M")
MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a long list of read models (``extra``: anything a list adds about itself)."""

    rows: list[T]
    total: int
    page: int
    per_page: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def reader(session: Session, actor_id: int) -> Actor:
    """Any active person holding at least one role may read the organisation's record."""
    actor = load_actor(session, actor_id)
    if not actor.roles:
        raise PermissionDenied(f"{actor.name} holds no role yet; ask an administrator for one.")
    return actor


def paginate(session: Session, query: Select[*tuple[Any, ...]], page: int,
             per_page: int) -> tuple[list[Row[*tuple[Any, ...]]], int, int]:
    """(rows of the page, total count, the page actually shown). Counting runs in SQL."""
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(1, int(page)), last)
    rows = list(session.execute(query.limit(per_page).offset((page - 1) * per_page)).all())
    return rows, total, page


def present(row: M | None, what: str) -> M:
    """A row another row points to; its absence means the record is broken, not a bad request."""
    if row is None:
        raise NotFound(f"The record refers to a {what} that is not there.")
    return row


def like(term: str) -> str:
    escaped = term.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
