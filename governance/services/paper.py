"""Paper, attested (issue 15, item 3): print a batch, enter its sheets, attest it.

Three use cases, each one transaction with its audit event:

* ``print_paper_batch`` — a facilitator of the owning panel prints a survey form per
  rostered person who may still answer an open round, or a ballot sheet per eligible
  person who has not voted in an open panel vote; the PDF (``governance.paper_pdf``) is
  returned once and the record keeps only each code's keyed digest;
* ``enter_paper_sheet`` — the facilitator enters what one sheet says (or that it is
  spoiled), found by its code; every problem of the form is reported at once;
* ``attest_paper_batch`` — a second person counts the paper, uploads its scan or photo and
  signs the closure certificate; only then do the entries count, as answers and ballots
  whose channel is "paper", through the same rules as online ones.

A refusal writes nothing. The rules are ``governance.rules.paper``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.paper_pdf import Paper, Sheet, build_pdf
from governance.record.chain import canonical_json
from governance.record.events import paper as events
from governance.rules import paper as rules
from governance.rules.ballots import parse_groups
from governance.rules.electorate import may_answer
from governance.rules.permissions import Action
from governance.services._base import get, log, need, panel_role, session_of
from governance.services.evaluation import _sus, record_response
from governance.services.votes import options_of, record_ballot
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    PaperBatch,
    PaperCertificate,
    PaperSheet,
    Person,
    Pilot,
    Problem,
    RosterEntry,
    SurveyResponse,
    SurveyRound,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.repository import current_charter
from governance.validation import TEXT_MAX, Problems, choice, text, whole
from governance.vocabulary import SurveyAnswer, VotingGroup, label

#: A scan or photo of the paper: big enough for a phone photo of a stack, small enough to hash at once.
SCAN_MAX_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class PrintedBatch:
    """A batch just printed: the only moment its sheet codes exist outside the paper."""

    batch_id: int
    sheets: int
    pdf: bytes
    filename: str


# ------------------------------------------------------------------ the act
@dataclass(frozen=True)
class _Act:
    kind: str  # "survey_round" or "vote"
    id: int
    panel_id: int | None
    title: str
    closed: bool
    rnd: SurveyRound | None
    vote: Vote | None

    @property
    def secret(self) -> bool:
        return self.vote is not None and VotingGroup.FRONTLINE in (parse_groups(self.vote.secret_groups) or ())


def _act(s: Session, uow: UnitOfWork, *, round_id: Any = None, vote_id: Any = None) -> _Act:
    if (round_id is None) == (vote_id is None):
        raise InvalidInput("Choose either a survey round or a vote to print paper for.")
    if round_id is not None:
        rnd = get(s, SurveyRound, round_id, "survey round")
        pilot = need(s.get(Pilot, rnd.pilot_id), "pilot")
        problem = need(s.get(Problem, pilot.problem_id), "problem")
        return _Act("survey_round", rnd.id, problem.panel_id, f"Survey form - {pilot.title}, round {rnd.number}",
                    rnd.closed_at is not None, rnd, None)
    vote = get(s, Vote, vote_id, "vote")
    why = rules.paper_vote_refusal(vote.kind)
    if why is not None:
        raise RuleViolation(why, rule="R8")
    return _Act("vote", vote.id, vote.panel_id, f"Ballot sheet - {label(vote.kind)}",
                vote.status != "open" or vote.deadline <= uow.now(), None, vote)


def _enterer(s: Session, actor_id: int, act: _Act, doing: str) -> Actor:
    actor = require(s, actor_id, Action.ENTER_PAPER)
    if not rules.may_enter(actor.roles, panel_role(s, act.panel_id, actor.id)):
        raise PermissionDenied(f"Only a facilitator of the owning panel may {doing}.", rule="R2")
    if act.closed:
        what = "survey round" if act.rnd else "vote"
        raise RuleViolation(f"This {what} has closed; paper for it can no longer be printed, entered or "
                            "attested.", rule="R7" if act.rnd else "R8")
    return actor


def _paper(act: _Act, s: Session) -> Paper:
    if act.rnd is not None:
        pilot = need(s.get(Pilot, act.rnd.pilot_id), "pilot")
        return Paper(act.title, f"How would you feel if you could no longer use {pilot.title}?")
    vote = need(act.vote, "vote")
    return Paper(act.title, vote.question, tuple(label(o) for o in options_of(vote.kind)), secret=act.secret)


# ------------------------------------------------------------------ printing
def _people(s: Session, act: _Act) -> Sequence[Person]:
    """Who gets a sheet: those who may still answer or vote, and have no sheet entered yet."""
    if act.rnd is not None:
        rnd = act.rnd
        pilot = need(s.get(Pilot, rnd.pilot_id), "pilot")
        window = current_charter(s).evaluation_window_days
        answered = select(SurveyResponse.person_id).where(SurveyResponse.round_id == rnd.id,
                                                          SurveyResponse.is_current.is_(True))
        rows = s.execute(select(Person, RosterEntry.added_at).join(RosterEntry, RosterEntry.person_id == Person.id)
                         .where(RosterEntry.pilot_id == pilot.id, Person.active.is_(True),
                                Person.id.not_in(answered)).order_by(Person.name)).all()
        return [p for p, added in rows if may_answer(added, pilot.real_use_started_at, window, rnd.opened_at)]
    voted = select(VoteParticipation.person_id).where(VoteParticipation.vote_id == act.id)
    return s.scalars(select(Person).join(VoteEligibility, VoteEligibility.person_id == Person.id)
                     .where(VoteEligibility.vote_id == act.id, Person.active.is_(True), Person.id.not_in(voted))
                     .order_by(Person.name)).all()


def _batch_filter(act: _Act) -> Any:
    return PaperBatch.round_id == act.id if act.rnd is not None else PaperBatch.vote_id == act.id


@use_case
def print_paper_batch(uow: UnitOfWork, actor_id: int, *, round_id: int | None = None,
                      vote_id: int | None = None) -> PrintedBatch:
    """Print a sheet for everyone who may still answer the open round (or vote in the open panel vote).

    One batch at a time per round or vote: the earlier one is attested first, so no person holds
    two sheets that could both be entered."""
    s = session_of(uow)
    require(s, actor_id, Action.ENTER_PAPER)
    act = _act(s, uow, round_id=round_id, vote_id=vote_id)
    actor = _enterer(s, actor_id, act, "print paper for it")
    pending = s.scalars(select(PaperBatch).where(_batch_filter(act), PaperBatch.attested_at.is_(None))).first()
    if pending is not None:
        raise RuleViolation(f"Batch {pending.id} (printed {pending.printed_at:%d %b %Y %H:%M} UTC) is not attested "
                            "yet; finish entering it and have it attested before printing more.", rule="R7")
    key = uow.keys.ballot_key()
    # Earlier batches are attested, so whoever was entered from them has answered or voted already.
    people = _people(s, act)
    if not people:
        raise InvalidInput("Everyone who may answer or vote here already has (online or on paper); there is "
                           "nobody to print a sheet for.")
    batch = PaperBatch(round_id=act.id if act.rnd else None, vote_id=act.id if act.vote else None,
                       secret=act.secret, sheets_issued=len(people), printed_by=actor.id, printed_at=uow.now())
    s.add(batch)
    s.flush()
    sheets = []
    for person in people:
        code = rules.new_sheet_code()
        s.add(PaperSheet(batch_id=batch.id, person_id=None if act.secret else person.id,
                         holder_token=rules.holder_token(key, act.id, person.id) if act.secret else None,
                         code_digest=rules.code_digest(key, act.kind, act.id, code), state="issued"))
        sheets.append(Sheet(person.name, code, rules.qr_payload(act.kind, act.id, code)))
    s.flush()
    log(uow, actor, events.batch_printed(batch_id=batch.id, act=act.kind, act_id=act.id, sheets=len(people),
                                         secret=act.secret, person_ids=[p.id for p in people]))
    return PrintedBatch(batch.id, len(people), build_pdf(_paper(act, s), sheets),
                        f"paper-{act.kind.replace('_', '-')}-{act.id}-batch-{batch.id}.pdf")



# ------------------------------------------------------------------ entering
def _batch_act(s: Session, uow: UnitOfWork, batch_id: Any) -> tuple[PaperBatch, _Act]:
    batch = get(s, PaperBatch, batch_id, "paper batch")
    return batch, _act(s, uow, round_id=batch.round_id, vote_id=batch.vote_id)


def _must(value: str | None) -> str:
    """A column the sheet's state promises (the table's checks; missing means the record was altered)."""
    if value is None:
        raise NotFound("A paper sheet of this batch is missing what was entered from it; tell your administrator.")
    return value


def _holder(s: Session, key: bytes, vote_id: int, token: str) -> int:
    """The person a secret sheet was printed for, found by recomputing the eligible voters' tokens."""
    for person_id in s.scalars(select(VoteEligibility.person_id).where(VoteEligibility.vote_id == vote_id)):
        if rules.holder_token(key, vote_id, person_id) == token:
            return person_id
    raise NotFound("The person this secret sheet was printed for is no longer among the vote's voters; "
                   "tell your administrator.")


def _sheet(s: Session, key: bytes, batch: PaperBatch, act: _Act, code: Any) -> PaperSheet:
    typed = text(code, "Sheet code", max_len=40)
    digest = rules.code_digest(key, act.kind, act.id, typed)
    sheet = s.scalar(select(PaperSheet).where(PaperSheet.code_digest == digest))
    if sheet is None:
        raise InvalidInput(f"'{typed}' is not the code of a sheet printed for this {act.title.lower()}. Check the "
                           "code on the sheet (or scan its QR code), and that you chose the batch it was printed "
                           "for.", field="Sheet code")
    if sheet.batch_id != batch.id:
        raise InvalidInput(f"That sheet was printed in batch {sheet.batch_id}, not batch {batch.id}; choose its "
                           "own batch.", field="Sheet code")
    if sheet.state != "issued":
        when = f" on {sheet.entered_at:%d %b %Y %H:%M} UTC" if sheet.entered_at else ""
        raise RuleViolation(f"That sheet was already {'entered' if sheet.state == 'entered' else 'marked spoiled'}"
                            f"{when}; a sheet counts once.", rule="R7" if act.rnd else "R8")
    return sheet


def _survey_answers(answer: Any, sus: Any, use_instead: Any, main_benefit: Any) -> dict[str, Any]:
    """What a paper form says, checked exactly as an online answer is, every problem at once."""
    found = Problems()
    if answer is None or answer == "":
        found.add("Answer", "Tick the answer the form gives to the main question; if it gives none, mark the "
                            "sheet as spoiled.")
        picked = None
    else:
        picked = found.check("Answer", choice, answer, SurveyAnswer, "Answer")
    items = found.check("Usability", _sus, sus)
    instead = found.check("What would you use instead?", text, use_instead, "What would you use instead?",
                          max_len=TEXT_MAX, required=False)
    benefit = found.check("Main benefit", text, main_benefit, "Main benefit", max_len=TEXT_MAX, required=False)
    found.raise_any()
    given = items[0] if items and items[1] is not None else None
    return {"answer": str(picked), "sus": given, "use_instead": instead or "", "main_benefit": benefit or ""}


def _done_online(s: Session, act: _Act, person_id: int) -> bool:
    if act.rnd is not None:
        return s.scalar(select(SurveyResponse.id).where(SurveyResponse.round_id == act.id,
                                                        SurveyResponse.person_id == person_id,
                                                        SurveyResponse.is_current.is_(True))) is not None
    return s.get(VoteParticipation, (act.id, person_id)) is not None


@use_case
def enter_paper_sheet(uow: UnitOfWork, actor_id: int, batch_id: int, *, code: str, spoiled: bool = False,
                      answer: str | None = None, sus: Sequence[int | None] | None = None, use_instead: str = "",
                      main_benefit: str = "", option: str | None = None) -> int:
    """Enter one paper sheet of a batch, found by its code: what it says, or that it is spoiled.

    The entry counts only once the batch is attested (``attest_paper_batch``). Returns the sheet's id."""
    s = session_of(uow)
    require(s, actor_id, Action.ENTER_PAPER)
    batch, act = _batch_act(s, uow, batch_id)
    actor = _enterer(s, actor_id, act, "enter its paper sheets")
    if batch.attested_at is not None:
        raise RuleViolation(f"Batch {batch.id} was attested on {batch.attested_at:%d %b %Y}; its sheets are "
                            "final.", rule="R18")
    key = uow.keys.ballot_key()
    sheet = _sheet(s, key, batch, act, code)
    answers: dict[str, Any] | None = None
    if not spoiled:
        if act.rnd is not None:
            answers = _survey_answers(answer, sus, use_instead, main_benefit)
        else:
            allowed = options_of(need(act.vote, "vote").kind)
            if option not in allowed:
                raise InvalidInput(f"Tick the option the sheet gives: one of {', '.join(label(o) for o in allowed)};"
                                   " if it gives none or several, mark the sheet as spoiled.", field="Option")
            answers = {"option": option}
        person_id = sheet.person_id or _holder(s, key, act.id, _must(sheet.holder_token))
        why = rules.double_refusal(done_online=_done_online(s, act, person_id), entered_on_paper=False,
                                   to=rules.PAPER)
        if why is not None:
            raise RuleViolation(why, rule="R7" if act.rnd else "R8")
        if act.secret:  # the code is the receipt: kept with the option, under the keyed holder token only
            answers["receipt"] = rules.normalise_code(str(code))
    sheet.state = "spoiled" if spoiled else "entered"
    sheet.answers_json = canonical_json(answers) if answers is not None else None
    sheet.entered_by, sheet.entered_at = actor.id, uow.now()
    s.flush()
    log(uow, actor, events.sheet_entered(batch_id=batch.id, sheet_id=sheet.id, state=sheet.state,
                                         person_id=sheet.person_id,
                                         answers=None if act.secret else answers))
    return sheet.id


# ----------------------------------------------------------------- attesting
def _certificate(found: Problems, batch: PaperBatch, sheets: Sequence[PaperSheet], returned: Any,
                 note: Any) -> rules.Certificate | None:
    counted = found.check("Sheets returned", whole, returned, "Sheets returned", minimum=0,
                          maximum=batch.sheets_issued + 1000)
    why = found.check("What happened", text, note, "What happened", max_len=TEXT_MAX, required=False) or ""
    if counted is None:
        return None
    entered = sum(1 for sh in sheets if sh.state == "entered")
    spoiled = sum(1 for sh in sheets if sh.state == "spoiled")
    cert, problems = rules.certificate(issued=batch.sheets_issued, returned=counted, entered=entered,
                                       spoiled=spoiled, note=why)
    for problem in problems:
        found.add("Sheets returned" if "returned" in problem.split(";")[0] else "What happened", problem)
    return cert


def _count_entries(uow: UnitOfWork, s: Session, act: _Act, sheets: Sequence[PaperSheet]) -> None:
    """The attested entries become answers and ballots (channel "paper"), through the online rules."""
    key = uow.keys.ballot_key()
    for sheet in sheets:
        if sheet.state != "entered":
            continue
        said = json.loads(_must(sheet.answers_json))
        person_id = sheet.person_id or _holder(s, key, act.id, _must(sheet.holder_token))
        if act.rnd is not None:
            record_response(uow, person_id, act.rnd, channel=rules.PAPER, answer=said["answer"], sus=said["sus"],
                            use_instead=said["use_instead"], main_benefit=said["main_benefit"])
        else:
            record_ballot(uow, person_id, need(act.vote, "vote"), said["option"], as_group=None, reason=None,
                          channel=rules.PAPER, receipt=said.get("receipt"))


@use_case
def attest_paper_batch(uow: UnitOfWork, actor_id: int, batch_id: int, *, returned: Any, scan: Any,
                       scan_filename: Any, note: str = "") -> dict[str, Any]:
    """A second person attests a batch: counts the paper returned, uploads its scan or photo (its SHA-256 is
    kept), and signs the closure certificate. From now on the batch's entries count. Returns the certificate."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.ATTEST_PAPER)
    batch, act = _batch_act(s, uow, batch_id)
    if batch.attested_at is not None:
        raise RuleViolation(f"Batch {batch.id} was already attested on {batch.attested_at:%d %b %Y}.", rule="R18")
    if act.closed:
        raise RuleViolation("This round or vote has closed before the batch was attested, so its entries can no "
                            "longer count.", rule="R7" if act.rnd else "R8")
    sheets = s.scalars(select(PaperSheet).where(PaperSheet.batch_id == batch.id).order_by(PaperSheet.id)).all()
    enterers = sorted({sh.entered_by for sh in sheets if sh.entered_by is not None})
    why = rules.attest_refusal(actor_id=actor.id, roles=actor.roles, panel_role=panel_role(s, act.panel_id, actor.id),
                               entered_by=enterers)
    if why is not None:
        raise PermissionDenied(why, rule="R14")
    alone = rules.secret_batch_refusal(secret=batch.secret, entered=sum(1 for sh in sheets if sh.state == "entered"))
    if alone is not None:
        raise RuleViolation(alone, rule="R17")
    found = Problems()
    if not isinstance(scan, bytes | bytearray) or not scan:
        found.add("Scan or photo", "Upload a scan or photo of the paper sheets (and of the count); its SHA-256 "
                                   "is kept on the certificate.")
    elif len(scan) > SCAN_MAX_BYTES:
        found.add("Scan or photo", f"The scan is {len(scan) / 1e6:.0f} MB; keep it under "
                                   f"{SCAN_MAX_BYTES // (1024 * 1024)} MB (a photo at a lower resolution is enough).")
    filename = found.check("Scan or photo", text, scan_filename or "", "The scan's file name", max_len=200) or ""
    cert = _certificate(found, batch, sheets, returned, note)
    found.raise_any()
    assert cert is not None
    _count_entries(uow, s, act, sheets)
    digest = hashlib.sha256(bytes(scan)).hexdigest()
    now = uow.now()
    s.add(PaperCertificate(batch_id=batch.id, issued=cert.issued, returned=cert.returned, spoiled=cert.spoiled,
                           entered=cert.entered, mismatch=cert.mismatch, scan_sha256=digest, scan_filename=filename,
                           entered_by_json=json.dumps(enterers), attested_by=actor.id, attested_at=now))
    batch.attested_by, batch.attested_at = actor.id, now
    s.flush()
    certificate = {"issued": cert.issued, "returned": cert.returned, "spoiled": cert.spoiled,
                   "entered": cert.entered, "mismatch": cert.mismatch, "scan_sha256": digest,
                   "scan_filename": filename, "entered_by": enterers, "attested_by": actor.id}
    log(uow, actor, events.batch_attested(batch_id=batch.id, certificate=certificate))
    return certificate

