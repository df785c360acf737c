"""``compare_readmodel``: the Compare read model beside one hand-written SQL statement
computing the same per-pilot numbers (metrics at target, latest-round indispensability
counts, latest adoption) on the same database. Like the product, it reads the latest
*closed* round (an open round's answers stay hidden, R8) and each round's kept counts of
current responses (``bench.invariants`` checks them against a recount)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text

from governance.storage.db import Database

RAW_COMPARE_SQL = """
WITH latest_measurement AS (
    SELECT metric_id, value,
           row_number() OVER (PARTITION BY metric_id ORDER BY observed_on DESC, id DESC) AS rn
    FROM measurement WHERE metric_id IS NOT NULL
), attainment AS (
    SELECT m.pilot_id, count(*) AS metrics,
           sum(CASE WHEN l.value IS NULL THEN 0
                    WHEN (m.direction = 'higher_is_better' AND l.value >= m.target)
                      OR (m.direction = 'lower_is_better' AND l.value <= m.target) THEN 1 ELSE 0 END) AS on_target,
           count(l.value) AS measured
    FROM commissioning_metric m
    LEFT JOIN latest_measurement l ON l.metric_id = m.id AND l.rn = 1
    GROUP BY m.pilot_id
), last_round AS (
    SELECT id, pilot_id, at FROM (
        SELECT id, pilot_id, closed_at AS at,
               row_number() OVER (PARTITION BY pilot_id ORDER BY number DESC) AS rn
        FROM survey_round WHERE closed_at IS NOT NULL) r
    WHERE rn = 1
), survey AS (
    SELECT lr.pilot_id, r.very_disappointed AS very, r.responses AS respondents
    FROM last_round lr JOIN survey_round r ON r.id = lr.id
), adoption AS (
    SELECT pilot_id, week_start, active_users, eligible_users FROM (
        SELECT pilot_id, week_start, active_users, eligible_users,
               row_number() OVER (PARTITION BY pilot_id ORDER BY week_start DESC) AS rn
        FROM usage_week) u
    WHERE rn = 1
)
SELECT p.id, c.target, c.minimum_evidence, a.metrics, a.on_target, a.measured, s.very, s.respondents,
       u.active_users, u.eligible_users
FROM pilot p
LEFT JOIN criterion c ON c.problem_version_id = p.problem_version_id AND c.is_indispensability
LEFT JOIN attainment a ON a.pilot_id = p.id
LEFT JOIN survey s ON s.pilot_id = p.id
LEFT JOIN adoption u ON u.pilot_id = p.id
WHERE p.real_use_started_at IS NOT NULL
ORDER BY p.real_use_started_at DESC, p.id DESC
"""


def measure(db: Database, *, actor_id: int, runs: int = 5) -> dict[str, Any]:
    from bench.measure import median_ms
    from governance.queries.compare import compare_pilots

    def product() -> Any:
        return compare_pilots(db.uow(), actor_id)

    def raw() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.execute(text(RAW_COMPARE_SQL)).all())

    rows = product()
    raw_rows = raw()
    by_id = {r[0]: r for r in raw_rows}
    same = len(rows) == len(raw_rows)
    for r in rows:
        x = by_id.get(r.pilot_id)
        if x is None:
            same = False
            break
        adoption = (x[8] / x[9]) if x[9] else None
        if ((r.metrics, r.metrics_on_target, r.metrics_measured) != (x[3] or 0, x[4] or 0, x[5] or 0)
                or (r.very_disappointed, r.respondents) != (x[6] or 0, x[7] or 0)
                or (r.adoption is None) != (adoption is None)
                or (adoption is not None and abs(r.adoption - adoption) > 1e-12)):
            same = False
            break
    product_ms, _ = median_ms(product, runs)
    raw_ms, _ = median_ms(raw, runs)
    return {"pilots": len(rows), "runs": runs, "product_ms": round(product_ms, 3),
            "raw_sql_ms": round(raw_ms, 3), "ratio": round(product_ms / raw_ms, 2) if raw_ms else None,
            "same_numbers": same}
