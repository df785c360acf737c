"""The record (R11, R18): the chain and its head, one event per ballot and answer, signed
checkpoints at every declaration and at least daily, witnesses' cosignatures."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text

from bench.invariants.base import Check, utc
from governance.record import checkpoints as notes
from governance.record.chain import ChainVerification
from governance.storage.models import UtcDateTime

#: A day, and the generated scheduled job's interval (it looks for a due checkpoint every hour,
#: ``bench.generate.decisions.JOB_TICK``) twice over.
DAILY_SLACK = timedelta(hours=26)
BETWEEN = text("SELECT count(*) FROM audit_event WHERE occurred_at > :a AND occurred_at < :b").bindparams(
    bindparam("a", type_=UtcDateTime), bindparam("b", type_=UtcDateTime))


def kept_heads(check: Check) -> dict[int, str]:
    """Every head kept outside the chain: checkpoints and decisions' recorded heads."""
    heads: dict[int, str] = {}
    for seq, digest in check.rows("SELECT seq, head_hash FROM checkpoint UNION ALL "
                                  "SELECT chain_head_seq, chain_head_hash FROM decision"):
        if heads.setdefault(int(seq), digest) != digest:
            check.problems.append(f"two different hashes kept for event #{seq}")
    return heads


def chain_head(check: Check, chain: ChainVerification) -> None:
    head = check.rows("SELECT seq, hash FROM audit_chain_head WHERE id = 1").first()
    last = check.rows("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").first()
    if (head is None) != (last is None) or (head is not None and tuple(head) != tuple(last)):
        check.problems.append(f"audit_chain_head {tuple(head) if head else None} is not the last event "
                              f"{tuple(last) if last else None}")
    if chain.ok and last is not None and chain.events_checked != last[0]:
        check.problems.append(f"chain verified {chain.events_checked} events but the last is #{last[0]}")


AFTER = text("SELECT count(*) FROM audit_event WHERE occurred_at > :now").bindparams(
    bindparam("now", type_=UtcDateTime))


def nothing_in_the_future(check: Check) -> None:
    """Every event happened before the check: a generated history ends at its timeline's end, and
    an event dated later would make the product's own clock (which carries on from there) see acts
    that have not happened yet — a vote it should have closed, a file not yet imported."""
    n = int(check.conn.execute(AFTER, {"now": datetime.now(UTC)}).scalar_one())
    if n:
        check.problems.append(f"{n:,} audit events dated in the future")


def event_counts(check: Check) -> None:
    """One audit event per ballot and per answer; a secret voter's first ballot names them, later ones
    nobody, and no secret-ballot event carries an option (R17)."""
    pairs = (
        ("action IN ('ballot.cast', 'ballot.changed')", "SELECT count(*) FROM ballot", "ballot"),
        ("action LIKE 'secret_ballot.%'", "SELECT count(*) FROM secret_ballot", "secret_ballot"),
        ("action LIKE 'survey.response%'", "SELECT count(*) FROM survey_response", "survey_response"),
        ("action = 'secret_ballot.cast'", _PARTICIPANTS.format(secret=""), "secret-group participation"),
        ("action = 'ballot.cast'", _PARTICIPANTS.format(secret="NOT"), "open-group participation"),
    )
    for where, rows_sql, what in pairs:
        events, rows = check.count(f"SELECT count(*) FROM audit_event WHERE {where}"), check.count(rows_sql)
        if events != rows:
            check.problems.append(f"{rows:,} {what} rows but {events:,} audit events for them")
    check.zero("SELECT count(*) FROM audit_event WHERE action = 'secret_ballot.changed' AND actor_id IS NOT NULL",
               "changed secret ballots whose audit event names the voter")
    check.zero("SELECT count(*) FROM audit_event WHERE action LIKE 'secret_ballot.%' AND payload LIKE '%\"option\"%'",
               "secret-ballot audit events that carry an option")


# Participation rows in (NOT) secret groups: the group's name appears in the vote's secret_groups JSON.
_PARTICIPANTS = """
    SELECT count(*) FROM vote_participation p JOIN vote_eligibility e
      ON e.vote_id = p.vote_id AND e.person_id = p.person_id JOIN vote v ON v.id = p.vote_id
    WHERE {secret} (v.secret_groups LIKE '%"' || e.voting_group || '"%')"""


def checkpoints(check: Check) -> None:
    """Each checkpoint is signed by the signing key over what its row and its event say (R18)."""
    public = check.keys.public_key()
    events = {int(eid): json.loads(p)["after"] for eid, p in check.rows(
        "SELECT entity_id, payload FROM audit_event WHERE action = 'checkpoint.made'")}
    bad: list[int] = []
    rows = list(check.rows("SELECT id, seq, head_hash, origin, key_id, note FROM checkpoint ORDER BY id"))
    for cid, seq, head, origin, key_id, note in rows:
        try:
            body = notes.verify(note, origin, public)
        except notes.CheckpointError:
            bad.append(cid)
            continue
        event = events.get(cid)
        if (body.size, body.head_hash, body.origin) != (seq, head, origin) or key_id != notes.key_id(origin, public) \
                or event is None or (event["seq"], event["head_hash"], event["key_id"]) != (seq, head, key_id):
            bad.append(cid)
    check.fail(len(bad), "checkpoints that do not verify with the public key or disagree with their event", bad)
    witnesses(check)


def witnesses(check: Check) -> None:
    bad = []
    for wid, note, name, key, line, key_id in check.rows(
            "SELECT w.id, c.note, w.witness_name, w.public_key, w.cosignature, w.key_id FROM checkpoint_witness w "
            "JOIN checkpoint c ON c.id = w.checkpoint_id"):
        public = notes.public_key_from_raw(key)
        try:
            notes.verify_cosignature(note, line, name, public)
        except notes.CheckpointError:
            bad.append(wid)
            continue
        if key_id != notes.key_id(name, public, notes.SIG_COSIGNATURE):
            bad.append(wid)
    check.fail(len(bad), "witness cosignatures that do not verify", bad)


def checkpoint_cadence(check: Check) -> None:
    """A checkpoint follows every declaration, and the head is signed at least daily while it moves."""
    declared = [int(s) for s in check.rows("SELECT seq FROM audit_event WHERE action = 'decision.declared' "
                                           "ORDER BY seq").scalars()]
    signed = [int(s) for s in check.rows("SELECT seq FROM checkpoint WHERE reason = 'declaration' "
                                         "ORDER BY seq").scalars()]
    late = [d for d, c in zip(declared, signed, strict=False) if not 0 <= c - d <= 4]
    if len(declared) != len(signed) or late:
        check.problems.append(f"{len(declared)} declarations but {len(signed)} declaration checkpoints "
                              f"(or one signed long after: {late[:3]})")
    made = [utc(t) for t in check.rows("SELECT made_at FROM checkpoint ORDER BY made_at").scalars()]
    gaps = 0
    for a, b in zip(made, made[1:], strict=False):
        if b - a > DAILY_SLACK and check.conn.execute(BETWEEN, {"a": a + DAILY_SLACK, "b": b}).scalar_one():
            gaps += 1
    check.fail(gaps, "days on which the chain moved but no checkpoint was signed")
