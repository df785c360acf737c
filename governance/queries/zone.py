"""The organisation's time zone, as the charter in force names it (pages and the light path
show every date and time in it; ``governance.rules.times``)."""
from __future__ import annotations

from sqlalchemy import select

from governance.rules.times import DEFAULT_ZONE
from governance.storage.db import UnitOfWork
from governance.storage.models import Charter


def time_zone(uow: UnitOfWork) -> str:
    """The IANA zone name of the charter in force; UTC before any charter is adopted.

    Read without a reader check: the zone is no secret, and the sign-in screen shows times too."""
    with uow.reading() as s:
        name = s.scalar(select(Charter.time_zone).order_by(Charter.version.desc()).limit(1))
        return str(name or DEFAULT_ZONE)
