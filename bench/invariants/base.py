"""What every invariant check shares: the list of problems, counting helpers, times."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from governance.identity.keys import Keys


@dataclass
class Check:
    """One run of the checks: the connection, the keys, and what was found."""

    conn: Connection
    keys: Keys
    problems: list[str] = field(default_factory=list)

    def count(self, sql: str, **params: Any) -> int:
        return int(self.conn.execute(text(sql), params).scalar_one() or 0)

    def zero(self, sql: str, what: str, **params: Any) -> None:
        """``sql`` counts rows that break a rule; any is a problem described by ``what``."""
        n = self.count(sql, **params)
        if n:
            self.problems.append(f"{n:,} {what}")

    def rows(self, sql: str, **params: Any) -> Any:
        return self.conn.execute(text(sql), params)

    def fail(self, n: int, what: str, examples: list[Any] | None = None) -> None:
        if n:
            shown = f" (e.g. {', '.join(str(e) for e in examples[:3])})" if examples else ""
            self.problems.append(f"{n:,} {what}{shown}")


def utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives text, PostgreSQL naive datetimes)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
