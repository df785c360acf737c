"""Pilots and people (R1, R3, R4, R5, R15): registered on a ratified problem, locked before real use,
timestamps that fit the state, a team joined only by the registrar or by accepting an invitation,
frozen at real use, an owner who holds the commissioning role, roles that do not clash."""
from __future__ import annotations

from collections import defaultdict

from bench.invariants.base import Check
from governance.rules.permissions import role_conflict


def locks_and_real_use(check: Check) -> None:
    check.zero("""SELECT count(*) FROM pilot p LEFT JOIN criteria_lock l ON l.problem_version_id = p.problem_version_id
                  WHERE p.real_use_started_at IS NOT NULL AND (l.id IS NULL OR l.locked_at > p.real_use_started_at)""",
               "pilots in real use without criteria locked before real use began (R3)")
    check.zero("""SELECT count(*) FROM pilot p JOIN problem_version v ON v.id = p.problem_version_id
                  WHERE v.ratified_at IS NULL OR v.ratified_at > p.registered_at""",
               "pilots registered against a problem version not ratified at the time (R1)")
    check.zero("""SELECT count(*) FROM pilot WHERE real_use_started_at IS NOT NULL
                  AND (metrics_json IS NULL OR metrics_sha256 IS NULL)""",
               "pilots in real use without their commissioning metrics frozen")
    check.zero("""SELECT count(*) FROM amendment a JOIN criterion c ON c.id = a.criterion_id
                  WHERE a.status = 'applied' AND a.after_real_use <> EXISTS (
                      SELECT 1 FROM pilot p WHERE p.problem_version_id = c.problem_version_id
                      AND p.real_use_started_at IS NOT NULL AND p.real_use_started_at <= a.decided_at)""",
               "criterion amendments flagged wrongly as after real use or not (R4)")
    check.zero("""SELECT count(*) FROM amendment a JOIN commissioning_metric m ON m.id = a.metric_id
                  JOIN pilot p ON p.id = m.pilot_id
                  WHERE NOT a.after_real_use OR p.real_use_started_at IS NULL
                     OR a.decided_at < p.real_use_started_at""",
               "metric amendments not after real use (R4)")
    check.zero("""SELECT count(*) FROM amendment WHERE (status = 'proposed') <> (decided_at IS NULL)
                  OR (status = 'applied') <> (resulting_sha256 IS NOT NULL)""",
               "amendments whose decision or resulting hash does not fit their status")


def lifecycle(check: Check) -> None:
    check.zero("""
        SELECT count(*) FROM pilot WHERE
            (state = 'registered' AND (ready_at IS NOT NULL OR real_use_started_at IS NOT NULL))
         OR (state = 'ready' AND (ready_at IS NULL OR real_use_started_at IS NOT NULL))
         OR (state = 'in_use' AND (real_use_started_at IS NULL OR evaluating_since IS NOT NULL
                                   OR decided_at IS NOT NULL))
         OR (state = 'evaluating' AND (evaluating_since IS NULL OR decided_at IS NOT NULL))
         OR (state = 'decided' AND (decided_at IS NULL OR outcome IS NULL OR real_use_started_at IS NULL))
         OR (state <> 'decided' AND (decided_at IS NOT NULL OR outcome IS NOT NULL))
         OR ready_at < registered_at OR real_use_started_at < ready_at
         OR evaluating_since < real_use_started_at OR decided_at < evaluating_since""",
               "pilots whose timestamps do not fit their lifecycle state")
    check.zero("""SELECT count(*) FROM pilot p WHERE p.ready_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM readiness_waiver w WHERE w.pilot_id = p.id
                                  AND w.waived_at <= p.ready_at)
                  AND (SELECT count(*) FROM readiness_record r WHERE r.pilot_id = p.id
                       AND r.recorded_at <= p.ready_at) < 5""",
               "pilots ready without a complete checklist or a waiver (R5)")


def team(check: Check) -> None:
    """R15: only the registrar joins without an invitation; others join when they accept it, before
    real use; pending invitations lapse at real use; the owner's joining is the "owner" readiness record."""
    check.zero("""SELECT count(*) FROM pilot_team_member t JOIN pilot p ON p.id = t.pilot_id
                  WHERE t.person_id <> p.registered_by AND NOT EXISTS (
                      SELECT 1 FROM team_invitation i WHERE i.pilot_id = t.pilot_id AND i.person_id = t.person_id
                      AND i.status = 'accepted' AND i.responded_at <= t.joined_at)""",
               "team members who joined without accepting an invitation (R15)")
    check.zero("""SELECT count(*) FROM pilot_team_member t JOIN pilot p ON p.id = t.pilot_id
                  WHERE t.joined_at IS NULL OR t.joined_at < p.registered_at
                     OR (p.real_use_started_at IS NOT NULL AND t.joined_at > p.real_use_started_at)""",
               "team members who joined before registration or after real use froze the team (R15)")
    check.zero("""SELECT count(*) FROM team_invitation i JOIN pilot p ON p.id = i.pilot_id
                  WHERE (i.status = 'pending' AND p.real_use_started_at IS NOT NULL)
                     OR (i.status = 'void' AND (p.real_use_started_at IS NULL
                                                OR i.responded_at <> p.real_use_started_at))
                     OR (i.status <> 'pending' AND i.responded_at IS NULL)""",
               "invitations not answered, or lapsed, as real use requires (R15)")
    check.zero("""SELECT count(*) FROM pilot p WHERE
                  EXISTS (SELECT 1 FROM pilot_team_member t WHERE t.pilot_id = p.id AND t.person_id = p.owner_id)
                  <> EXISTS (SELECT 1 FROM readiness_record r WHERE r.pilot_id = p.id AND r.item = 'owner'
                             AND r.recorded_by = p.owner_id)""",
               "pilots whose owner's readiness record and team membership disagree")
    check.zero("""SELECT count(*) FROM pilot p WHERE NOT EXISTS (
                      SELECT 1 FROM person_role r WHERE r.person_id = p.owner_id AND r.role = 'commissioning')""",
               "pilots owned by someone without the commissioning role (R15)")
    check.zero("""SELECT count(*) FROM pilot_team_member t JOIN person_role r ON r.person_id = t.person_id
                  WHERE r.role = 'auditor'""", "auditors on a pilot's team (R15)")
    check.zero("""SELECT count(*) FROM pilot_team_member WHERE removed_at IS NOT NULL
                  AND (removed_reason IS NULL OR removed_reason = '')""",
               "team removals without a reason (R15)")


def roles(check: Check) -> None:
    held: dict[int, list[str]] = defaultdict(list)
    for person_id, role in check.rows("SELECT person_id, role FROM person_role"):
        held[person_id].append(role)
    clashes = [pid for pid, r in held.items() if role_conflict(r)]
    check.fail(len(clashes), "people holding the auditor role with a voting role (R15)", clashes)
