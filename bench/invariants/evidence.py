"""The evidence (R6, R7, R15): survey answers from people rostered when the round opened (and,
if added after real use, for the whole window), one current answer each, the rounds' kept counts;
a roster that changes only between rounds, with reasons for removals after real use."""
from __future__ import annotations

import json
from datetime import timedelta

from bench.invariants.base import Check, utc
from governance.vocabulary import SurveyAnswer

ANSWERS = tuple(a.value for a in SurveyAnswer)


def responses(check: Check) -> None:
    check.zero("""SELECT count(*) FROM (SELECT round_id, person_id FROM survey_response GROUP BY round_id, person_id
                  HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1) x""",
               "respondents without exactly one current response in a round")
    check.zero("""SELECT count(*) FROM survey_response r JOIN survey_round sr ON sr.id = r.round_id
                  WHERE r.submitted_at < sr.opened_at
                     OR (sr.closed_at IS NOT NULL AND r.submitted_at > sr.closed_at)""",
               "survey responses given outside their round's open period")
    check.zero("""SELECT count(*) FROM survey_round sr LEFT JOIN (
                    SELECT round_id, count(*) AS n,
                           sum(CASE WHEN answer = 'very_disappointed' THEN 1 ELSE 0 END) AS very,
                           sum(CASE WHEN answer = 'somewhat_disappointed' THEN 1 ELSE 0 END) AS somewhat,
                           sum(CASE WHEN answer = 'not_disappointed' THEN 1 ELSE 0 END) AS not_d,
                           sum(CASE WHEN answer = 'no_longer_use' THEN 1 ELSE 0 END) AS no_longer,
                           count(sus_score) AS sus_n, coalesce(sum(sus_score), 0) AS sus_total
                    FROM survey_response WHERE is_current GROUP BY round_id) c ON c.round_id = sr.id
                  WHERE sr.responses <> coalesce(c.n, 0) OR sr.very_disappointed <> coalesce(c.very, 0)
                     OR sr.somewhat_disappointed <> coalesce(c.somewhat, 0)
                     OR sr.not_disappointed <> coalesce(c.not_d, 0) OR sr.no_longer_use <> coalesce(c.no_longer, 0)
                     OR sr.sus_responses <> coalesce(c.sus_n, 0)
                     OR abs(sr.sus_total - coalesce(c.sus_total, 0)) > 1e-6""",
               "survey rounds whose kept counts differ from their current responses")
    counts = {int(e): json.loads(p)["after"]["counts"] for e, p in check.rows(
        "SELECT entity_id, payload FROM audit_event WHERE action = 'survey.round_closed'")}
    wrong = [rid for rid, *row in check.rows(f"SELECT id, {', '.join(ANSWERS)} FROM survey_round "
                                             "WHERE closed_at IS NOT NULL")
             if counts.get(rid) != dict(zip(ANSWERS, row, strict=True))]
    check.fail(len(wrong), "closed rounds whose closing event records other counts", wrong)
    _respondents(check)


def _respondents(check: Check) -> None:
    """Who answered was on the roster when the round opened — and, if added after real use,
    for at least the evaluation window (R7, R15) — from the roster's own history."""
    history = """
        WITH h AS (SELECT pilot_id, person_id, count(*) AS n,
                          min(CASE WHEN change = 'added' THEN changed_at END) AS added_at,
                          min(CASE WHEN change = 'removed' THEN changed_at END) AS removed_at
                   FROM roster_change GROUP BY pilot_id, person_id)
        SELECT {what} FROM survey_response r JOIN survey_round sr ON sr.id = r.round_id
        JOIN pilot p ON p.id = sr.pilot_id
        LEFT JOIN h ON h.pilot_id = sr.pilot_id AND h.person_id = r.person_id WHERE {where}"""
    check.zero(history.format(what="count(*)", where=(
        "h.n IS NULL OR h.n > 2 OR h.added_at IS NULL OR h.added_at >= sr.opened_at "
        "OR (h.removed_at IS NOT NULL AND h.removed_at <= sr.opened_at)")),
        "survey answers from people not on the roster when the round opened (R7)")
    window = timedelta(days=check.count("SELECT max(evaluation_window_days) FROM charter"))
    late = [(rid, pid) for rid, pid, opened, added in check.rows(history.format(
        what="DISTINCT sr.id, r.person_id, sr.opened_at, h.added_at", where="h.added_at > p.real_use_started_at"))
        if utc(opened) < utc(added) + window]
    check.fail(len(late), "survey answers from people added after real use, in a round that opened less than "
                          "the evaluation window after their addition (R15)", late)


def roster(check: Check) -> None:
    check.zero("""SELECT count(*) FROM roster_change c JOIN survey_round r ON r.pilot_id = c.pilot_id
                  WHERE c.changed_at >= r.opened_at AND (r.closed_at IS NULL OR c.changed_at <= r.closed_at)""",
               "roster changes while a survey round was open (R15)")
    check.zero("""SELECT count(*) FROM roster_change c JOIN pilot p ON p.id = c.pilot_id
                  WHERE (c.after_real_use AND (p.real_use_started_at IS NULL OR c.changed_at < p.real_use_started_at))
                     OR (NOT c.after_real_use AND p.real_use_started_at IS NOT NULL
                         AND c.changed_at > p.real_use_started_at)
                     OR (p.decided_at IS NOT NULL AND c.changed_at > p.decided_at)""",
               "roster changes flagged wrongly as before/after real use, or made after the decision")
    check.zero("""SELECT count(*) FROM roster_change WHERE change = 'removed' AND after_real_use
                  AND (reason IS NULL OR reason = '')""", "roster removals after real use without a reason (R15)")
    net = ("WITH h AS (SELECT pilot_id, person_id, sum(CASE WHEN change = 'added' THEN 1 ELSE -1 END) AS net "
           "FROM roster_change GROUP BY pilot_id, person_id) ")
    check.zero(net + "SELECT count(*) FROM roster_entry e LEFT JOIN h ON h.pilot_id = e.pilot_id "
                     "AND h.person_id = e.person_id WHERE h.net IS NULL OR h.net <> 1",
               "roster entries without their addition on record (or removed since)")
    check.zero(net + "SELECT count(*) FROM h LEFT JOIN roster_entry e ON e.pilot_id = h.pilot_id "
                     "AND e.person_id = h.person_id WHERE h.net NOT IN (0, 1) OR (h.net = 1 AND e.person_id IS NULL)",
               "roster additions on record without their roster entry")


def rounds(check: Check) -> None:
    """R6: rounds open only after the evaluation window of real use."""
    early = 0
    for opened, started, window in check.rows(
            "SELECT r.opened_at, p.real_use_started_at, c.evaluation_window_days FROM survey_round r "
            "JOIN pilot p ON p.id = r.pilot_id JOIN charter c ON c.version = (SELECT max(version) FROM charter "
            "WHERE adopted_at <= r.opened_at)"):
        if started is None or utc(opened) < utc(started) + timedelta(days=window):
            early += 1
    check.fail(early, "survey rounds opened before the evaluation window (R6)")
    check.zero("SELECT count(*) FROM feedback_item WHERE responded_at IS NOT NULL AND responded_at < raised_at",
               "feedback responses before the feedback was raised")
