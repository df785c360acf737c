"""The invariants the services keep, checked on a whole database.

``check_invariants(db)`` returns a list of problems (empty: every invariant
holds). It is meant for generated organisations at any scale: the big tables
(ballots, responses, eligibility, participation, audit events) are grouped
and counted in SQL; Python sees per-vote aggregates and the small tables.

* ``record`` — the chain verifies against itself, its head row and every head
  kept outside it (checkpoints, decisions); one event per ballot and answer;
  checkpoints signed by the signing key at every declaration and daily;
  witnesses' cosignatures; and ``governance.record.integrity.check`` finds
  nothing (locked criteria and metrics, bases, closed ballots and rounds
  against what the record says they were).
* ``ballots`` — one current named ballot per voter, one current secret
  ballot per voter token, participation = current secret ballots per secret
  group, tokens recomputed from the ballot key for the participants, the
  electorate fixed at opening without the pilot's team in the frontline,
  deadlines within the charter's bounds, closing early only with everyone voted.
* ``evidence`` — answers from people rostered (long enough) when the round
  opened, one current each, the kept counts; the roster's changes (R15).
* ``pilots`` — R1, R3, R4, R5, the lifecycle, the team joined by invitation.
* ``results`` — stored results are the tallies of the ballots with their
  published lists; decisions rest on votes that met quorum; each frozen
  basis equals a rebuild through ``rules.basis``.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bench.invariants import ballots, evidence, pilots, record, results
from bench.invariants.base import Check
from governance.identity.keys import Keys
from governance.record import integrity
from governance.record.chain import ChainVerification
from governance.record.log import verify_chain
from governance.storage.db import Database


def check_invariants(db: Database, *, chain: ChainVerification | None = None,
                     keys: Keys | None = None) -> list[str]:
    """Every invariant the services keep; ``chain`` reuses a full verification already run
    (it is then also held against the kept heads here)."""
    keys = keys or db.keys
    with db.engine.connect() as conn:
        check = Check(conn, keys)
        heads = record.kept_heads(check)
        with db.uow().reading() as session:
            verified = verify_chain(session, kept_heads=heads)
            if chain is not None and chain.ok != verified.ok:
                check.problems.append("the chain verifies alone but not against its kept heads")
            if not verified.ok:
                check.problems.append(f"audit chain: {verified.summary}")
            _guarded(check, "integrity.check", lambda: check.problems.extend(
                a.summary for a in integrity.check(session)))
            _guarded(check, "results.bases", lambda: results.bases(check, session))
        record.chain_head(check, verified)
        for fn in (record.nothing_in_the_future, record.event_counts, record.checkpoints, record.checkpoint_cadence,
                   ballots.named_ballots,
                   ballots.secret_ballots, ballots.electorate, ballots.closing, evidence.responses, evidence.roster,
                   evidence.rounds, pilots.locks_and_real_use, pilots.lifecycle, pilots.team, pilots.roles,
                   results.tallies, results.decisions):
            _guarded(check, f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}", partial(fn, check))
    return check.problems


def _guarded(check: Check, name: str, run: Callable[[], object]) -> None:
    """A check that cannot even run on these rows (say, more ballots than voters) is itself a problem."""
    try:
        run()
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        check.problems.append(f"{name} could not check the record as it is: {type(exc).__name__}: {exc}")
