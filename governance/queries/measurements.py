"""Read model of a pilot's recorded measurements (the Pilots page's Evidence tab)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from governance.queries._base import Page, paginate, reader
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    CommissioningMetric,
    Criterion,
    Measurement,
    Person,
    SourceFile,
)


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    """A recorded measurement with its source."""

    id: int
    measure: str | None
    value: float
    observed_on: date
    source: str
    filename: str | None
    sha256: str | None
    recorded_by: str
    recorded_at: datetime


def measurements_page(uow: UnitOfWork, actor_id: int, pilot_id: int, *, page: int = 1,
                      per_page: int = 25) -> Page[MeasurementRow]:
    """Recorded measurements of a pilot, newest first, with their source."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = (select(Measurement.id, func.coalesce(CommissioningMetric.name, Criterion.name).label("measure"),
                    Measurement.value, Measurement.observed_on, Measurement.source,
                    SourceFile.filename, SourceFile.sha256, Person.name.label("recorded_by"),
                    Measurement.recorded_at)
             .outerjoin(CommissioningMetric, CommissioningMetric.id == Measurement.metric_id)
             .outerjoin(Criterion, Criterion.id == Measurement.criterion_id)
             .outerjoin(SourceFile, SourceFile.id == Measurement.source_file_id)
             .join(Person, Person.id == Measurement.recorded_by)
             .where(Measurement.pilot_id == pilot_id))
        rows, total, page = paginate(s, q.order_by(Measurement.observed_on.desc(), Measurement.id.desc()),
                                     page, per_page)
        return Page([MeasurementRow(id=r.id, measure=r.measure, value=r.value, observed_on=r.observed_on,
                                    source=r.source, filename=r.filename, sha256=r.sha256,
                                    recorded_by=r.recorded_by, recorded_at=r.recorded_at) for r in rows],
                    total, page, per_page)
